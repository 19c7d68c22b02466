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

#include "ngsdk/bundle.h"

// The folder digest's test vector of docs/asset-format.md ("Folder digest"), also checked in Python by
// tests/unit/test_folder_digest.py: part-wise order puts Data/model.mil before Data-x.
TEST(sha256_tree_test_vector) {
    namespace fs = std::filesystem;
    const fs::path dir = fs::temp_directory_path() / "ngsdk_tree_vector";
    fs::remove_all(dir);
    fs::create_directories(dir / "Data");
    std::ofstream(dir / "Manifest.json", std::ios::binary) << "{}\n";
    std::ofstream(dir / "Data" / "model.mil", std::ios::binary) << "program\n";
    std::ofstream(dir / "Data-x", std::ios::binary).flush();
    std::string hex;
    uint64_t size = 0;
    CHECK_OK(ngsdk::sha256_tree(dir.string(), hex, size));
    CHECK_EQ(hex, std::string("3492155d984dfbe30045afee0cbd3de16ed65567dfcbf8adf63841405de2de57"));
    CHECK_EQ(size, uint64_t(11));
    fs::remove_all(dir);
}
