#include <string>

#include "ngsdk/sha256.h"
#include "test.h"

TEST(sha256_known_vectors) {
    CHECK_EQ(ngsdk::sha256_hex("", 0), std::string("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    CHECK_EQ(ngsdk::sha256_hex("abc", 3), std::string("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    const char* two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    CHECK_EQ(ngsdk::sha256_hex(two, 56), std::string("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"));
}

TEST(sha256_streaming_equals_one_shot) {
    std::string a(1000000, 'a');
    CHECK_EQ(ngsdk::sha256_hex(a.data(), a.size()),
             std::string("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"));
    ngsdk::Sha256 h;
    for (size_t i = 0; i < a.size(); i += 777) h.update(a.data() + i, std::min<size_t>(777, a.size() - i));
    CHECK_EQ(h.hex(), std::string("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"));
}

#include <filesystem>
#include <fstream>

#include "digest_vectors.h"
#include "ngsdk/bundle.h"

// The folder digest vectors of docs/asset-format.md ("Folder digest"), generated from
// tests/fixtures/digest_vectors.py, which tests/unit/test_folder_digest.py checks in Python.
TEST(sha256_tree_test_vectors) {
    namespace fs = std::filesystem;
    for (const ngsdk_test::FolderVector& v : ngsdk_test::kFolderVectors) {
        const fs::path dir = fs::temp_directory_path() / (std::string("ngsdk_tree_vector_") + v.name);
        fs::remove_all(dir);
        fs::create_directories(dir);
        for (int i = 0; i < v.count; ++i) {
            const fs::path file = dir / fs::u8path(v.files[i].relpath);
            fs::create_directories(file.parent_path());
            std::ofstream(file, std::ios::binary).write(v.files[i].content, std::streamsize(v.files[i].size));
        }
        std::string hex;
        uint64_t size = 0;
        CHECK_OK(ngsdk::sha256_tree(dir.string(), hex, size));
        CHECK_EQ(hex, std::string(v.sha256));
        CHECK_EQ(size, v.bytes);
        fs::remove_all(dir);
    }
}
