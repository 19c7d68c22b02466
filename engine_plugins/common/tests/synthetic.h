// Writers for test inputs: DDS and npz bytes and whole synthetic bundles with valid checksums.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace synth {

struct DdsSpec {
    bool dx10 = true;
    uint32_t dxgi = 28;          // R8G8B8A8_UNORM
    uint32_t dimension = 3;      // 3: 2D, 4: 3D
    uint32_t width = 4, height = 4, depth = 1, mips = 1, array_size = 1;
    uint32_t misc_flag = 0, misc_flags2 = 4;  // alpha mode custom
    // legacy pixel format (dx10 == false)
    uint32_t pf_flags = 0x41, fourcc = 0, bits = 32, masks[4] = {0xFF, 0xFF00, 0xFF0000, 0xFF000000};
    uint32_t flags = 0x1007, caps2 = 0;
};

// Header bytes followed by `payload`.
std::vector<uint8_t> dds_bytes(const DdsSpec& spec, const std::vector<uint8_t>& payload);

// One .npy file.
std::vector<uint8_t> npy_bytes(const std::string& descr, const std::vector<uint64_t>& shape,
                               const std::vector<uint8_t>& data, bool fortran = false);
// A zip of members (name -> bytes), stored or deflated.
std::vector<uint8_t> zip_bytes(const std::map<std::string, std::vector<uint8_t>>& members, bool deflate);

std::vector<uint8_t> f32_bytes(const std::vector<float>& v);

struct BundleSpec {
    uint32_t width = 32, height = 24;
    uint32_t bits = 4;
    bool wrap = true;
    bool deflate = false;
    uint32_t seed = 1;
    // Latent layout: false: grids (grid0 + grid1, mip m reads level min(m, last) of each); true: pyramid
    // (grid0 alone, mips 2k and 2k + 1 read levels k and k + 1, LOD inputs -127 / 127).
    bool pyramid = false;
    // Write format 1.0 (texture.grid_levels) instead of 2.0 (texture.mip_inputs); grids layout only.
    bool legacy = false;
};

// Writes dir/{grid0.dds, [grid1.dds,] decoder.npz, manifest.json}; returns false on I/O failure.
bool write_bundle(const std::string& dir, const BundleSpec& spec);

// Replace the bytes/sha256 of `name` under "files" in manifest text (canonical or compact JSON).
std::string patch_file_record(const std::string& manifest, const std::string& name, uint64_t bytes,
                              const std::string& sha256);
// Recompute the record of `name` from the file on disk and patch dir/manifest.json.
bool refresh_record(const std::string& dir, const std::string& name);

bool write_file(const std::string& path, const std::vector<uint8_t>& bytes);
bool write_text(const std::string& path, const std::string& text);
std::vector<uint8_t> read_all(const std::string& path);
std::string make_temp_dir(const std::string& tag);

}  // namespace synth
