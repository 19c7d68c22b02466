// DDS reader: DX10 and legacy headers, 2D textures, arrays, cube maps, volumes and mip chains in the
// uncompressed DXGI formats ngsdk uses. Mirrors runtime_ref/dds.py check for check: any malformed
// input gives a Status naming the problem, never a crash or an unbounded allocation (every size is
// checked against the bytes actually present before anything is allocated).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ngsdk/status.h"

namespace ngsdk {

enum class ComponentKind { Unorm, Snorm, Float };

struct DxgiFormat {
    uint32_t value;
    const char* name;
    int channels;         // components stored per texel
    int component_bytes;  // 1, 2 or 4 (little-endian)
    ComponentKind kind;
    bool srgb;
    bool bgra;            // memory order B, G, R, A (the reader returns logical RGBA)
    int bytes_per_texel() const { return channels * component_bytes; }
};

const DxgiFormat* dxgi_by_value(uint32_t value);
const DxgiFormat* dxgi_by_name(const std::string& name);

enum class Dimension { Tex2D, Tex3D };

struct DdsTexture {
    const DxgiFormat* format = nullptr;
    Dimension dimension = Dimension::Tex2D;
    uint32_t width = 0, height = 0, depth = 1;
    uint32_t array_size = 1;  // faces for cube maps (6 per cube)
    bool cube = false;
    bool dx10 = false;
    std::string alpha_mode = "unknown";
    // mips[m]: (lead, h_m, w_m, channels) components in logical RGBA order, each component as its
    // little-endian bytes; lead = array_size for 2D, max(1, depth >> m) for volumes.
    std::vector<std::vector<uint8_t>> mips;

    uint32_t mip_count() const { return uint32_t(mips.size()); }
    uint32_t mip_width(uint32_t m) const;
    uint32_t mip_height(uint32_t m) const;
    uint32_t mip_lead(uint32_t m) const;
};

// Decode the bytes of a DDS file; `path` only names the file in errors.
Status decode_dds(const uint8_t* data, size_t size, const std::string& path, DdsTexture& out);
Status read_dds(const std::string& path, DdsTexture& out);

uint32_t full_mip_count(uint32_t width, uint32_t height, uint32_t depth = 1);

// Whole-file read with a size cap (bundle files are small; a cap keeps hostile sizes bounded).
Status read_file(const std::string& path, std::vector<uint8_t>& out, uint64_t max_bytes = (1ull << 32));

}  // namespace ngsdk
