#include "ngsdk/dds.h"
#include "synthetic.h"
#include "test.h"

using synth::DdsSpec;

static ngsdk::Status decode(const std::vector<uint8_t>& b, ngsdk::DdsTexture& t) {
    return ngsdk::decode_dds(b.data(), b.size(), "t.dds", t);
}

static std::vector<uint8_t> iota(size_t n) {
    std::vector<uint8_t> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = uint8_t(i * 7 + 3);
    return v;
}

TEST(dds_dx10_array_with_mips) {
    DdsSpec s;
    s.width = 5;
    s.height = 3;
    s.mips = 3;  // 5x3, 2x1, 1x1
    s.array_size = 2;
    size_t per_slice = (15 + 2 + 1) * 4;
    std::vector<uint8_t> payload = iota(per_slice * 2);
    ngsdk::DdsTexture t;
    CHECK_OK(decode(synth::dds_bytes(s, payload), t));
    CHECK_EQ(t.mip_count(), 3u);
    CHECK_EQ(t.array_size, 2u);
    CHECK(t.alpha_mode == "custom");
    CHECK_EQ(t.mips[1].size(), size_t(2 * 2 * 4));
    // slice 1, mip 1 starts after slice 0 (all mips) and slice 1's mip 0
    CHECK_EQ(t.mips[1][8], payload[per_slice + 15 * 4]);
    CHECK_EQ(t.mips[0][0], payload[0]);
}

TEST(dds_bgra_is_returned_as_rgba_and_legacy_x8_fills_alpha) {
    DdsSpec s;
    s.dxgi = 87;  // B8G8R8A8_UNORM
    ngsdk::DdsTexture t;
    std::vector<uint8_t> px = {10, 20, 30, 40};
    px.resize(64, 0);
    CHECK_OK(decode(synth::dds_bytes(s, px), t));
    CHECK(t.mips[0][0] == 30 && t.mips[0][1] == 20 && t.mips[0][2] == 10 && t.mips[0][3] == 40);
    DdsSpec l;
    l.dx10 = false;
    l.pf_flags = 0x40;  // RGB, no alpha: X8R8G8B8
    l.masks[0] = 0xFF0000;
    l.masks[1] = 0xFF00;
    l.masks[2] = 0xFF;
    l.masks[3] = 0;
    CHECK_OK(decode(synth::dds_bytes(l, px), t));
    CHECK(std::string(t.format->name) == "B8G8R8A8_UNORM");
    CHECK(t.mips[0][0] == 30 && t.mips[0][3] == 255);
}

TEST(dds_volume_and_cube) {
    DdsSpec v;
    v.dimension = 4;
    v.width = 4;
    v.height = 2;
    v.depth = 3;
    v.mips = 2;  // 4x2x3, 2x1x1
    ngsdk::DdsTexture t;
    CHECK_OK(decode(synth::dds_bytes(v, iota((24 + 2) * 4)), t));
    CHECK(t.dimension == ngsdk::Dimension::Tex3D && t.mip_lead(1) == 1 && t.mips[0].size() == 96);
    DdsSpec c;
    c.misc_flag = 4;
    c.width = c.height = 2;
    CHECK_OK(decode(synth::dds_bytes(c, iota(6 * 16)), t));
    CHECK(t.cube && t.array_size == 6);
    DdsSpec lc;
    lc.dx10 = false;
    lc.width = lc.height = 2;
    lc.caps2 = 0x200 | 0xFE00;
    lc.pf_flags = 0x4;
    lc.fourcc = 113;  // D3DFMT_A16B16G16R16F
    CHECK_OK(decode(synth::dds_bytes(lc, iota(6 * 4 * 8)), t));
    CHECK(std::string(t.format->name) == "R16G16B16A16_FLOAT" && t.cube);
}

TEST(dds_refuses_malformed_headers) {
    DdsSpec s;
    std::vector<uint8_t> good = synth::dds_bytes(s, iota(64));
    ngsdk::DdsTexture t;
    CHECK_FAILS_WITH(decode(std::vector<uint8_t>(good.begin(), good.begin() + 3), t), "truncated header");
    auto bad = good;
    bad[0] = 'X';
    CHECK_FAILS_WITH(decode(bad, t), "not a DDS file");
    CHECK_FAILS_WITH(decode(std::vector<uint8_t>(good.begin(), good.begin() + 140), t), "truncated DX10 header");
    CHECK_FAILS_WITH(decode(std::vector<uint8_t>(good.begin(), good.end() - 1), t), "truncated texel data");
    bad = good;
    bad.push_back(0);
    CHECK_FAILS_WITH(decode(bad, t), "1 trailing bytes");
    DdsSpec m = s;
    m.mips = 4;
    CHECK_FAILS_WITH(decode(synth::dds_bytes(m, iota(64)), t), "exceeds the full chain");
    DdsSpec z = s;
    z.array_size = 0;
    CHECK_FAILS_WITH(decode(synth::dds_bytes(z, {}), t), "arraySize is 0");
    DdsSpec bc = s;
    bc.dxgi = 98;
    CHECK_FAILS_WITH(decode(synth::dds_bytes(bc, {}), t), "BC7");
    DdsSpec one = s;
    one.dimension = 2;
    CHECK_FAILS_WITH(decode(synth::dds_bytes(one, {}), t), "1D textures");
    DdsSpec huge = s;
    huge.width = huge.height = 0xFFFFFFFFu;
    huge.mips = 32;
    huge.array_size = 0xFFFFFFFFu;
    CHECK_FAILS_WITH(decode(synth::dds_bytes(huge, iota(64)), t), "truncated texel data");
    DdsSpec dxt = s;
    dxt.dx10 = false;
    dxt.pf_flags = 0x4;
    dxt.fourcc = 0x31545844;  // DXT1
    CHECK_FAILS_WITH(decode(synth::dds_bytes(dxt, {}), t), "'DXT1'");
}

TEST(dds_read_file_errors_name_the_file) {
    ngsdk::DdsTexture t;
    CHECK_FAILS_WITH(ngsdk::read_dds("/nonexistent/x.dds", t), "/nonexistent/x.dds: file not found");
}
