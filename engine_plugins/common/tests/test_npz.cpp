#include <cstring>

#include "ngsdk/npz.h"
#include "synthetic.h"
#include "test.h"

using Members = std::map<std::string, std::vector<uint8_t>>;

static ngsdk::Status load(const std::vector<uint8_t>& b, std::map<std::string, ngsdk::NpyArray>& out) {
    return ngsdk::read_npz_bytes(b.data(), b.size(), "w.npz", out);
}

TEST(npz_stored_and_deflated) {
    std::vector<float> w = {1.f, 2.f, 3.f, 4.f, 5.f, 6.f};
    Members m = {{"a.weight.npy", synth::npy_bytes("<f4", {2, 3}, synth::f32_bytes(w))},
                 {"b.npy", synth::npy_bytes("<i4", {2}, std::vector<uint8_t>(8, 1))}};
    for (bool deflate : {false, true}) {
        std::map<std::string, ngsdk::NpyArray> out;
        CHECK_OK(load(synth::zip_bytes(m, deflate), out));
        CHECK(out.size() == 2 && out.count("a.weight") && out.count("b"));
        std::vector<float> got;
        CHECK(out["a.weight"].to_f32(got));
        CHECK(got == w);
        CHECK((out["a.weight"].shape == std::vector<uint64_t>{2, 3}));
        CHECK(!out["b"].to_f32(got));
    }
}

TEST(npz_fortran_order_is_transposed) {
    // logical [[1,2,3],[4,5,6]] stored column-major: 1 4 2 5 3 6
    std::vector<float> f = {1.f, 4.f, 2.f, 5.f, 3.f, 6.f};
    Members m = {{"x.npy", synth::npy_bytes("<f4", {2, 3}, synth::f32_bytes(f), true)}};
    std::map<std::string, ngsdk::NpyArray> out;
    CHECK_OK(load(synth::zip_bytes(m, false), out));
    std::vector<float> got;
    CHECK(out["x"].to_f32(got));
    CHECK((got == std::vector<float>{1.f, 2.f, 3.f, 4.f, 5.f, 6.f}));
}

TEST(npz_refuses_pickles_and_damage) {
    std::map<std::string, ngsdk::NpyArray> out;
    Members pickle = {{"p.npy", synth::npy_bytes("|O", {1}, std::vector<uint8_t>(8, 0))}};
    CHECK_FAILS_WITH(load(synth::zip_bytes(pickle, false), out), "array 'p' holds Python objects");
    Members other = {{"readme.txt", {'h', 'i'}}};
    CHECK_FAILS_WITH(load(synth::zip_bytes(other, false), out), "is not a .npy array");
    Members good = {{"a.npy", synth::npy_bytes("<f4", {4}, std::vector<uint8_t>(16, 0))}};
    auto zip = synth::zip_bytes(good, false);
    auto bad = zip;
    bad[100] ^= 0xFF;  // inside the member data
    CHECK_FAILS_WITH(load(bad, out), "corrupt");
    CHECK_FAILS_WITH(load(std::vector<uint8_t>(zip.begin(), zip.end() - 5), out), "not a valid zip archive");
    auto single = synth::npy_bytes("<f4", {1}, std::vector<uint8_t>(4, 0));
    CHECK_FAILS_WITH(load(single, out), "holds a single .npy array");
    CHECK_FAILS_WITH(load({'h', 'e', 'l', 'l', 'o'}, out), "no zip signature");
    Members shortdata = {{"a.npy", synth::npy_bytes("<f4", {5}, std::vector<uint8_t>(16, 0))}};
    CHECK_FAILS_WITH(load(synth::zip_bytes(shortdata, false), out), "truncated");
    Members structured = {{"s.npy", synth::npy_bytes("[('a', '<f4')]", {1}, std::vector<uint8_t>(4, 0))}};
    CHECK_FAILS_WITH(load(synth::zip_bytes(structured, false), out), "corrupt");
}

TEST(npz_deflate_bomb_sizes_are_refused_before_allocating) {
    Members good = {{"a.npy", synth::npy_bytes("<f4", {4}, std::vector<uint8_t>(16, 0))}};
    auto zip = synth::zip_bytes(good, true);
    // Patch the central directory's uncompressed size to 4 GB - 1.
    size_t cd = 0;
    for (size_t i = 0; i + 4 <= zip.size(); ++i)
        if (std::memcmp(zip.data() + i, "PK\x01\x02", 4) == 0) cd = i;
    zip[cd + 24] = zip[cd + 25] = zip[cd + 26] = zip[cd + 27] = 0xFE;
    std::map<std::string, ngsdk::NpyArray> out;
    CHECK_FAILS_WITH(load(zip, out), "over the limit");  // docs/security.md: 1 GiB per array
    // under the limit, but more than any deflate stream of this size can produce
    zip[cd + 24] = 0x00; zip[cd + 25] = 0xE1; zip[cd + 26] = 0xF5; zip[cd + 27] = 0x05;  // 100,000,000
    CHECK_FAILS_WITH(load(zip, out), "impossible");
}
