#include "synthetic.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <unistd.h>

#include "ngsdk/npz.h"
#include "ngsdk/sha256.h"

#if NGSDK_HAVE_ZLIB
#include <zlib.h>
#endif

namespace synth {

namespace fs = std::filesystem;

namespace {
void put16(std::vector<uint8_t>& v, uint32_t x) {
    v.push_back(uint8_t(x));
    v.push_back(uint8_t(x >> 8));
}
void put32(std::vector<uint8_t>& v, uint32_t x) {
    for (int i = 0; i < 4; ++i) v.push_back(uint8_t(x >> (8 * i)));
}
std::string f32_text(float f) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", double(f));
    std::string s = buf;
    if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
    return s;
}
}  // namespace

std::vector<uint8_t> dds_bytes(const DdsSpec& s, const std::vector<uint8_t>& payload) {
    std::vector<uint8_t> v = {'D', 'D', 'S', ' '};
    put32(v, 124);
    put32(v, s.flags | (s.dimension == 4 || (!s.dx10 && s.depth > 1) ? 0x800000u : 0u));
    put32(v, s.height);
    put32(v, s.width);
    put32(v, 0);  // pitch
    put32(v, s.depth);
    put32(v, s.mips);
    for (int i = 0; i < 11; ++i) put32(v, 0);
    put32(v, 32);
    if (s.dx10) {
        put32(v, 0x4);
        v.insert(v.end(), {'D', 'X', '1', '0'});
        for (int i = 0; i < 5; ++i) put32(v, 0);
    } else {
        put32(v, s.pf_flags);
        put32(v, s.fourcc);
        put32(v, s.bits);
        for (uint32_t m : s.masks) put32(v, m);
    }
    put32(v, 0x1000);  // caps
    put32(v, s.caps2);
    put32(v, 0);
    put32(v, 0);
    put32(v, 0);
    if (s.dx10) {
        put32(v, s.dxgi);
        put32(v, s.dimension);
        put32(v, s.misc_flag);
        put32(v, s.array_size);
        put32(v, s.misc_flags2);
    }
    v.insert(v.end(), payload.begin(), payload.end());
    return v;
}

std::vector<uint8_t> npy_bytes(const std::string& descr, const std::vector<uint64_t>& shape,
                               const std::vector<uint8_t>& data, bool fortran) {
    std::string shp;
    for (size_t i = 0; i < shape.size(); ++i) shp += (i ? ", " : "") + std::to_string(shape[i]);
    if (shape.size() == 1) shp += ",";
    std::string dict = "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") +
                       ", 'shape': (" + shp + "), }";
    size_t total = 10 + dict.size() + 1;
    size_t pad = (64 - total % 64) % 64;
    dict += std::string(pad, ' ') + "\n";
    std::vector<uint8_t> v = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
    put16(v, uint32_t(dict.size()));
    v.insert(v.end(), dict.begin(), dict.end());
    v.insert(v.end(), data.begin(), data.end());
    return v;
}

std::vector<uint8_t> zip_bytes(const std::map<std::string, std::vector<uint8_t>>& members, bool deflate) {
    std::vector<uint8_t> out, central;
    uint32_t count = 0;
    for (const auto& kv : members) {
        const std::string& name = kv.first;
        const std::vector<uint8_t>& raw = kv.second;
        std::vector<uint8_t> body = raw;
        uint16_t method = 0;
#if NGSDK_HAVE_ZLIB
        if (deflate) {
            z_stream z;
            std::memset(&z, 0, sizeof z);
            deflateInit2(&z, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
            body.assign(deflateBound(&z, uLong(raw.size())), 0);
            z.next_in = const_cast<Bytef*>(raw.data());
            z.avail_in = uInt(raw.size());
            z.next_out = body.data();
            z.avail_out = uInt(body.size());
            ::deflate(&z, Z_FINISH);
            body.resize(z.total_out);
            deflateEnd(&z);
            method = 8;
        }
#else
        (void)deflate;
#endif
        uint32_t crc = ngsdk::crc32(raw.data(), raw.size());
        uint32_t offset = uint32_t(out.size());
        put32(out, 0x04034b50);
        put16(out, 20);
        put16(out, 0);
        put16(out, method);
        put16(out, 0);
        put16(out, 0x21);
        put32(out, crc);
        put32(out, uint32_t(body.size()));
        put32(out, uint32_t(raw.size()));
        put16(out, uint32_t(name.size()));
        put16(out, 0);
        out.insert(out.end(), name.begin(), name.end());
        out.insert(out.end(), body.begin(), body.end());
        put32(central, 0x02014b50);
        put16(central, 20);
        put16(central, 20);
        put16(central, 0);
        put16(central, method);
        put16(central, 0);
        put16(central, 0x21);
        put32(central, crc);
        put32(central, uint32_t(body.size()));
        put32(central, uint32_t(raw.size()));
        put16(central, uint32_t(name.size()));
        put16(central, 0);
        put16(central, 0);
        put16(central, 0);
        put16(central, 0);
        put32(central, 0);
        put32(central, offset);
        central.insert(central.end(), name.begin(), name.end());
        ++count;
    }
    uint32_t cd_off = uint32_t(out.size());
    out.insert(out.end(), central.begin(), central.end());
    put32(out, 0x06054b50);
    put16(out, 0);
    put16(out, 0);
    put16(out, count);
    put16(out, count);
    put32(out, uint32_t(central.size()));
    put32(out, cd_off);
    put16(out, 0);
    return out;
}

std::vector<uint8_t> f32_bytes(const std::vector<float>& v) {
    std::vector<uint8_t> out(v.size() * 4);
    std::memcpy(out.data(), v.data(), out.size());  // tests run on little-endian hosts
    return out;
}

std::string patch_file_record(const std::string& m, const std::string& name, uint64_t bytes,
                              const std::string& sha256) {
    size_t files = m.find("\"files\"");
    if (files == std::string::npos) return m;
    size_t key = m.find("\"" + name + "\"", files);
    if (key == std::string::npos) return m;
    size_t end = m.find('}', key);
    std::string out = m;
    size_t b = out.find("\"bytes\"", key);
    if (b != std::string::npos && b < end) {
        size_t v0 = out.find_first_of("-0123456789", b + 7);
        size_t v1 = out.find_first_not_of("-0123456789", v0);
        out.replace(v0, v1 - v0, std::to_string(bytes));
        end = out.find('}', key);
    }
    size_t h = out.find("\"sha256\"", key);
    if (h != std::string::npos && h < end) {
        size_t q0 = out.find('"', h + 8);
        size_t q1 = out.find('"', q0 + 1);
        if (q0 != std::string::npos && q1 != std::string::npos) out.replace(q0 + 1, q1 - q0 - 1, sha256);
    }
    return out;
}

bool refresh_record(const std::string& dir, const std::string& name) {
    std::vector<uint8_t> data = read_all(dir + "/" + name);
    std::vector<uint8_t> m = read_all(dir + "/manifest.json");
    std::string text(m.begin(), m.end());
    text = patch_file_record(text, name, data.size(), ngsdk::sha256_hex(data.data(), data.size()));
    return write_text(dir + "/manifest.json", text);
}

bool write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) return false;
    bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
    return std::fclose(f) == 0 && ok;
}

bool write_text(const std::string& path, const std::string& text) {
    return write_file(path, std::vector<uint8_t>(text.begin(), text.end()));
}

std::vector<uint8_t> read_all(const std::string& path) {
    std::vector<uint8_t> out;
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return out;
    uint8_t buf[65536];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.insert(out.end(), buf, buf + n);
    std::fclose(f);
    return out;
}

std::string make_temp_dir(const std::string& tag) {
    static int counter = 0;
    fs::path p = fs::temp_directory_path() / ("ngsdk_test_" + tag + "_" + std::to_string(::getpid()) + "_" +
                                              std::to_string(counter++));
    fs::remove_all(p);
    fs::create_directories(p);
    return p.string();
}

bool write_bundle(const std::string& dir, const BundleSpec& spec) {
    std::mt19937 rng(spec.seed);
    const uint32_t mask = (1u << spec.bits) - 1;
    struct G {
        std::string name;
        uint32_t features, w, h, levels, slices;
    };
    auto mips_of = [](uint32_t w, uint32_t h) {
        uint32_t m = w > h ? w : h, n = 0;
        while (m) {
            ++n;
            m >>= 1;
        }
        return n;
    };
    uint32_t per_byte = 8 / spec.bits;
    std::vector<G> grids = {{"grid0", 8, std::max(1u, spec.width / 4), std::max(1u, spec.height / 4), 0, 0},
                            {"grid1", 16, std::max(1u, spec.width / 8), std::max(1u, spec.height / 8), 0, 0}};
    if (spec.pyramid) grids.pop_back();
    std::map<std::string, std::pair<std::string, uint64_t>> files;
    for (G& g : grids) {
        g.levels = mips_of(g.w, g.h);
        g.slices = ((g.features + per_byte - 1) / per_byte + 3) / 4;
        std::vector<uint8_t> payload;
        for (uint32_t s = 0; s < g.slices; ++s)
            for (uint32_t l = 0; l < g.levels; ++l) {
                uint32_t lw = std::max(1u, g.w >> l), lh = std::max(1u, g.h >> l);
                for (uint32_t t = 0; t < lw * lh; ++t)
                    for (uint32_t c = 0; c < 4; ++c) {
                        uint32_t k = s * 4 + c;
                        uint8_t byte = 0;
                        for (uint32_t j = 0; j < per_byte; ++j) {
                            uint32_t f = k * per_byte + j;
                            if (f < g.features) byte |= uint8_t((rng() & mask) << (j * spec.bits));
                        }
                        payload.push_back(byte);
                    }
            }
        DdsSpec ds;
        ds.width = g.w;
        ds.height = g.h;
        ds.mips = g.levels;
        ds.array_size = g.slices;
        std::vector<uint8_t> bytes = dds_bytes(ds, payload);
        if (!write_file(dir + "/" + g.name + ".dds", bytes)) return false;
        files[g.name + ".dds"] = {ngsdk::sha256_hex(bytes.data(), bytes.size()), bytes.size()};
    }
    const uint32_t enc = 8;  // 2 frequencies x 2 phases x (u, v)
    // grids: grid0 and grid1 features; pyramid: two taps of grid0, then the LOD input
    std::vector<uint32_t> widths = {spec.pyramid ? 8 + 8 + enc + 1 : 8 + 16 + enc, 16, 12, 5};
    const char* acts[] = {"relu", "leaky_relu", "clamp01"};
    std::map<std::string, std::vector<uint8_t>> members;
    std::uniform_real_distribution<float> uni(-0.5f, 0.5f);
    std::string layers_json;
    for (size_t i = 0; i + 1 < widths.size(); ++i) {
        std::vector<float> w(widths[i] * widths[i + 1]), b(widths[i + 1]);
        for (float& x : w) x = uni(rng);
        for (float& x : b) x = uni(rng) + 0.25f;
        std::string key = "layer" + std::to_string(i);
        members[key + ".weight.npy"] = npy_bytes("<f4", {widths[i + 1], widths[i]}, f32_bytes(w));
        members[key + ".bias.npy"] = npy_bytes("<f4", {widths[i + 1]}, f32_bytes(b));
        layers_json += std::string(i ? ",\n" : "") + "      {\"activation\": \"" + acts[i] + "\", \"bias\": \"" + key +
                       ".bias\", \"inputs\": " + std::to_string(widths[i]) + ", \"outputs\": " +
                       std::to_string(widths[i + 1]) + ", \"weight\": \"" + key + ".weight\"}";
    }
    std::vector<uint8_t> npz = zip_bytes(members, spec.deflate);
    if (!write_file(dir + "/decoder.npz", npz)) return false;
    files["decoder.npz"] = {ngsdk::sha256_hex(npz.data(), npz.size()), npz.size()};

    uint32_t mip_levels = mips_of(spec.width, spec.height);
    std::string mip_inputs;  // the texture section's latent inputs: 2.0 mip_inputs or 1.0 grid_levels
    for (uint32_t m = 0; m < mip_levels; ++m) {
        std::string row;
        if (spec.pyramid) {
            const uint32_t top = grids[0].levels - 1;
            row = "{\"lod\": " + std::string(m % 2 ? "127" : "-127") + ", \"taps\": [[0, " +
                  std::to_string(std::min(m / 2, top)) + "], [0, " + std::to_string(std::min(m / 2 + 1, top)) + "]]}";
        } else {
            const std::string l0 = std::to_string(std::min(m, grids[0].levels - 1));
            const std::string l1 = std::to_string(std::min(m, grids[1].levels - 1));
            row = spec.legacy ? "[" + l0 + ", " + l1 + "]" : "{\"taps\": [[0, " + l0 + "], [1, " + l1 + "]]}";
        }
        mip_inputs += (m ? ", " : "") + row;
    }
    const char* sem[] = {"albedo", "albedo", "albedo", "roughness", "user:mask"};
    std::string channels;
    for (int c = 0; c < 5; ++c)
        channels += std::string(c ? ",\n" : "") + "    {\"colour_space\": \"" + (c < 3 ? "srgb" : "linear") +
                    "\", \"component\": \"" + "rgbrr"[c] + "\", \"name\": \"c" + std::to_string(c) +
                    "\", \"normal_convention\": null, \"semantic\": \"" + sem[c] + "\", \"source\": null}";
    std::string grids_json;
    for (size_t i = 0; i < grids.size(); ++i) {
        const G& g = grids[i];
        float scale = 2.0f / float(mask), offset = -1.0f;
        grids_json += std::string(i ? ",\n" : "") + "    {\"array_size\": " + std::to_string(g.slices) + ", \"bits\": " +
                      std::to_string(spec.bits) + ", \"dequantize\": {\"offset\": " + f32_text(offset) +
                      ", \"scale\": " + f32_text(scale) + "}, \"dxgi_format\": \"R8G8B8A8_UNORM\", \"features\": " +
                      std::to_string(g.features) + ", \"file\": \"" + g.name + ".dds\", \"height\": " +
                      std::to_string(g.h) + ", \"levels\": " + std::to_string(g.levels) + ", \"name\": \"" + g.name +
                      "\", \"packing\": \"lsb_first_rgba_slices\", \"width\": " + std::to_string(g.w) + "}";
    }
    std::string files_json;
    for (const auto& kv : files)
        files_json += std::string(files_json.empty() ? "" : ",\n") + "    \"" + kv.first + "\": {\"bytes\": " +
                      std::to_string(kv.second.second) + ", \"sha256\": \"" + kv.second.first + "\"}";
    std::string m = "{\n  \"channels\": [\n" + channels + "\n  ],\n  \"decode_mode\": \"float\",\n" +
                    "  \"decoder\": {\"dtype\": \"float32\", \"file\": \"decoder.npz\", \"inputs\": " +
                    std::to_string(widths[0]) + ", \"layers\": [\n" + layers_json +
                    "\n    ], \"layout\": \"out_in_row_major\", \"leaky_slope\": " + f32_text(0.01f) +
                    ", \"outputs\": 5},\n" +
                    "  \"encoding\": {\"frequencies\": [" + std::to_string(grids[0].w) + ".0, " +
                    f32_text(float(grids[0].w) / 4.0f) + "], \"phases\": [0.0, 0.25], \"type\": \"triangle\"},\n" +
                    "  \"exports\": [],\n  \"files\": {\n" + files_json + "\n  },\n" +
                    "  \"format\": \"ngasset\",\n  \"format_version\": \"" + (spec.legacy ? "1.0" : "2.0") +
                    "\",\n  \"grids\": [\n" + grids_json +
                    "\n  ],\n  \"kind\": \"neural_texture\",\n  \"name\": \"synthetic\",\n" +
                    "  \"provenance\": {\"config\": {}, \"ngsdk_version\": \"test\", \"seed\": " +
                    std::to_string(spec.seed) + "},\n" + "  \"sampler\": {\"address\": \"" +
                    (spec.wrap ? "wrap" : "clamp") + "\", \"filter\": \"bilinear\"},\n" +
                    "  \"texture\": {" + (spec.legacy ? "\"grid_levels\": [" + mip_inputs + "], " : std::string()) +
                    "\"height\": " + std::to_string(spec.height) +
                    (spec.legacy ? std::string() : ", \"mip_inputs\": [" + mip_inputs + "]") +
                    ", \"mip_levels\": " + std::to_string(mip_levels) + ", \"width\": " + std::to_string(spec.width) +
                    "}\n}\n";
    return write_text(dir + "/manifest.json", m);
}

}  // namespace synth
