// DDS reader (see dds.h). The header constants are written out here, independently of the exporter; the
// DXGI format table is generated from ngsdk/asset/dxgi.py (dxgi_table.h).
#include "ngsdk/dds.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#ifndef _WIN32
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

#include "dxgi_table.h"

namespace ngsdk {

namespace {

const uint32_t kHeaderSize = 124;
const uint32_t kPixelFormatSize = 32;
const size_t kMinFile = 4 + kHeaderSize;  // magic + DDS_HEADER
const size_t kDx10File = kMinFile + 20;   // + DDS_HEADER_DXT10

const uint32_t DDSD_DEPTH = 0x800000;
const uint32_t DDPF_ALPHAPIXELS = 0x1;
const uint32_t DDPF_FOURCC = 0x4;
const uint32_t DDPF_RGB = 0x40;
const uint32_t DDPF_LUMINANCE = 0x20000;
const uint32_t DDPF_BUMPDUDV = 0x80000;
const uint32_t PF_KIND_BITS = DDPF_ALPHAPIXELS | DDPF_FOURCC | DDPF_RGB | DDPF_LUMINANCE | DDPF_BUMPDUDV | 0x2 | 0x20;
const uint32_t DDSCAPS2_CUBEMAP = 0x200;
const uint32_t DDSCAPS2_ALLFACES = 0xFE00;
const uint32_t DIM_1D = 2, DIM_2D = 3, DIM_3D = 4;
const uint32_t MISC_TEXTURECUBE = 0x4;
const char* const kAlphaModes[] = {"unknown", "straight", "premultiplied", "opaque", "custom"};

constexpr uint32_t fourcc(const char (&s)[5]) {
    return uint32_t(uint8_t(s[0])) | uint32_t(uint8_t(s[1])) << 8 | uint32_t(uint8_t(s[2])) << 16 |
           uint32_t(uint8_t(s[3])) << 24;
}

uint32_t fourcc_of(const char* s) {
    return uint32_t(uint8_t(s[0])) | uint32_t(uint8_t(s[1])) << 8 | uint32_t(uint8_t(s[2])) << 16 |
           uint32_t(uint8_t(s[3])) << 24;
}

struct LegacyMask {
    uint32_t kind, bits, r, g, b, a;
    const char* name;
    bool fill_alpha;
};
// (pixel-format kind flags, bit count, R, G, B, A masks) -> format; A compared only with
// ALPHAPIXELS or BUMPDUDV set, as DirectXTex does.
const LegacyMask kLegacyMasks[] = {
    {DDPF_RGB | DDPF_ALPHAPIXELS, 32, 0xFF, 0xFF00, 0xFF0000, 0xFF000000, "R8G8B8A8_UNORM", false},
    {DDPF_RGB, 32, 0xFF, 0xFF00, 0xFF0000, 0, "R8G8B8A8_UNORM", true},
    {DDPF_RGB | DDPF_ALPHAPIXELS, 32, 0xFF0000, 0xFF00, 0xFF, 0xFF000000, "B8G8R8A8_UNORM", false},
    {DDPF_RGB, 32, 0xFF0000, 0xFF00, 0xFF, 0, "B8G8R8A8_UNORM", true},
    {DDPF_RGB, 32, 0xFFFFFFFF, 0, 0, 0, "R32_FLOAT", false},
    {DDPF_RGB, 8, 0xFF, 0, 0, 0, "R8_UNORM", false},
    {DDPF_RGB | DDPF_ALPHAPIXELS, 16, 0xFF, 0, 0, 0xFF00, "R8G8_UNORM", false},
    {DDPF_LUMINANCE, 8, 0xFF, 0, 0, 0, "R8_UNORM", false},
    {DDPF_LUMINANCE | DDPF_ALPHAPIXELS, 16, 0xFF, 0, 0, 0xFF00, "R8G8_UNORM", false},
    {DDPF_BUMPDUDV, 32, 0xFF, 0xFF00, 0xFF0000, 0xFF000000, "R8G8B8A8_SNORM", false},
};

struct LegacyFourcc {
    uint32_t code;
    const char* name;
};
// D3DFMT values stored in dwFourCC for formats with no FourCC of their own.
const LegacyFourcc kLegacyFourcc[] = {
    {36, "R16G16B16A16_UNORM"}, {111, "R16_FLOAT"}, {112, "R16G16_FLOAT"}, {113, "R16G16B16A16_FLOAT"},
    {114, "R32_FLOAT"},         {115, "R32G32_FLOAT"}, {116, "R32G32B32A32_FLOAT"},
};
const char* const kBlockFourcc[] = {"DXT1", "DXT2", "DXT3", "DXT4", "DXT5", "ATI1",
                                    "ATI2", "BC4U", "BC4S", "BC5U", "BC5S"};

uint32_t rd32(const uint8_t* p) {
    return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

std::string hex(uint32_t v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%x", v);
    return buf;
}

std::string supported() {
    std::string s;
    for (const DxgiFormat& f : generated::kDxgiFormats) {
        if (!s.empty()) s += ", ";
        s += f.name;
    }
    return s;
}

const char* block_compressed_name(uint32_t value) {
    for (const generated::BlockFamily& f : generated::kBlockFamilies)
        if (value >= f.first && value < f.first + 3) return f.name;
    return nullptr;
}

// Saturating multiply: hostile headers may overflow 64 bits; saturation still fails the size check.
uint64_t mul_sat(uint64_t a, uint64_t b) {
    if (a != 0 && b > UINT64_MAX / a) return UINT64_MAX;
    return a * b;
}
uint64_t add_sat(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

struct Header {
    uint32_t flags, height, width, pitch, depth, mips;
    uint32_t pf_size, pf_flags, fourcc, bits, masks[4];
    uint32_t caps, caps2;
    bool dx10 = false;
    uint32_t dxgi = 0, dim = 0, misc = 0, array_size = 0, misc2 = 0;
};

Status parse_header(const uint8_t* d, size_t size, const std::string& path, Header& h) {
    if (size < 4)
        return Status::fail(path, "truncated header: expected at least " + std::to_string(kMinFile) +
                                      " bytes, found " + std::to_string(size));
    if (std::memcmp(d, "DDS ", 4) != 0) return Status::fail(path, "not a DDS file: bad magic (expected 'DDS ')");
    if (size < kMinFile)
        return Status::fail(path, "truncated header: expected " + std::to_string(kMinFile) + " bytes, found " +
                                      std::to_string(size));
    const uint8_t* p = d + 4;
    uint32_t hsize = rd32(p);
    h.flags = rd32(p + 4);
    h.height = rd32(p + 8);
    h.width = rd32(p + 12);
    h.pitch = rd32(p + 16);
    h.depth = rd32(p + 20);
    h.mips = rd32(p + 24);
    const uint8_t* pf = p + 72;  // after size..mipMapCount (7 words) + reserved1[11]
    h.pf_size = rd32(pf);
    h.pf_flags = rd32(pf + 4);
    h.fourcc = rd32(pf + 8);
    h.bits = rd32(pf + 12);
    for (int i = 0; i < 4; ++i) h.masks[i] = rd32(pf + 16 + 4 * i);
    h.caps = rd32(pf + 32);
    h.caps2 = rd32(pf + 36);
    if (hsize != kHeaderSize)
        return Status::fail(path, "header size field dwSize is " + std::to_string(hsize) + ", expected 124");
    if (h.pf_size != kPixelFormatSize)
        return Status::fail(path, "pixel format size field ddspf.dwSize is " + std::to_string(h.pf_size) +
                                      ", expected 32");
    if (!((h.pf_flags & DDPF_FOURCC) && h.fourcc == fourcc("DX10"))) return Status::ok();
    if (size < kDx10File)
        return Status::fail(path, "truncated DX10 header: expected " + std::to_string(kDx10File) +
                                      " bytes, found " + std::to_string(size));
    const uint8_t* x = d + kMinFile;
    h.dx10 = true;
    h.dxgi = rd32(x);
    h.dim = rd32(x + 4);
    h.misc = rd32(x + 8);
    h.array_size = rd32(x + 12);
    h.misc2 = rd32(x + 16);
    return Status::ok();
}

Status legacy_format(const Header& h, const std::string& path, const DxgiFormat*& fmt, bool& fill_alpha) {
    fill_alpha = false;
    if (h.pf_flags & DDPF_FOURCC) {
        for (const LegacyFourcc& l : kLegacyFourcc)
            if (l.code == h.fourcc) {
                fmt = dxgi_by_name(l.name);
                return Status::ok();
            }
        for (const char* b : kBlockFourcc)
            if (fourcc_of(b) == h.fourcc)
                return Status::fail(path, std::string("block-compressed legacy FourCC '") + b +
                                              "' is not supported (uncompressed formats only)");
        char text[5] = {char(h.fourcc & 0xFF), char((h.fourcc >> 8) & 0xFF), char((h.fourcc >> 16) & 0xFF),
                        char(h.fourcc >> 24), 0};
        bool printable = true;
        for (int i = 0; i < 4; ++i)
            if ((unsigned char)text[i] < 32 || (unsigned char)text[i] >= 127) printable = false;
        return Status::fail(path, std::string("unsupported legacy FourCC ") +
                                      (printable ? "'" + std::string(text) + "'" : std::to_string(h.fourcc)));
    }
    uint32_t kind = h.pf_flags & PF_KIND_BITS;
    uint32_t a = (kind & (DDPF_ALPHAPIXELS | DDPF_BUMPDUDV)) ? h.masks[3] : 0;
    for (const LegacyMask& m : kLegacyMasks) {
        if (m.kind == kind && m.bits == h.bits && m.r == h.masks[0] && m.g == h.masks[1] && m.b == h.masks[2] &&
            m.a == a) {
            fmt = dxgi_by_name(m.name);
            fill_alpha = m.fill_alpha;
            return Status::ok();
        }
    }
    return Status::fail(path, "unsupported legacy pixel format: flags " + hex(h.pf_flags) + ", " +
                                  std::to_string(h.bits) + " bits, masks R " + hex(h.masks[0]) + " G " +
                                  hex(h.masks[1]) + " B " + hex(h.masks[2]) + " A " + hex(h.masks[3]));
}

}  // namespace

const DxgiFormat* dxgi_by_value(uint32_t value) {
    for (const DxgiFormat& f : generated::kDxgiFormats)
        if (f.value == value) return &f;
    return nullptr;
}

const DxgiFormat* dxgi_by_name(const std::string& name) {
    for (const DxgiFormat& f : generated::kDxgiFormats)
        if (name == f.name) return &f;
    return nullptr;
}

uint32_t full_mip_count(uint32_t width, uint32_t height, uint32_t depth) {
    uint32_t m = width > height ? width : height;
    if (depth > m) m = depth;
    if (m == 0) m = 1;
    uint32_t n = 0;
    while (m) {
        ++n;
        m >>= 1;
    }
    return n;
}

static uint32_t extent(uint32_t size, uint32_t level) {
    uint32_t e = level >= 32 ? 0 : size >> level;
    return e ? e : 1;
}

uint32_t DdsTexture::mip_width(uint32_t m) const { return extent(width, m); }
uint32_t DdsTexture::mip_height(uint32_t m) const { return extent(height, m); }
uint32_t DdsTexture::mip_lead(uint32_t m) const {
    return dimension == Dimension::Tex3D ? extent(depth, m) : array_size;
}

Status decode_dds(const uint8_t* data, size_t size, const std::string& path, DdsTexture& out) {
    Header h;
    NGSDK_TRY(parse_header(data, size, path, h));
    const DxgiFormat* fmt = nullptr;
    bool fill_alpha = false;
    Dimension dim = Dimension::Tex2D;
    uint32_t depth = 1;
    uint64_t faces = 1;
    bool cube = false;
    if (h.dx10) {
        fmt = dxgi_by_value(h.dxgi);
        if (!fmt) {
            const char* bc = block_compressed_name(h.dxgi);
            if (bc)
                return Status::fail(path, "block-compressed DXGI format " + std::to_string(h.dxgi) + " (" + bc +
                                              ") is not supported (uncompressed formats only: " + supported() + ")");
            return Status::fail(path, "unsupported DXGI format " + std::to_string(h.dxgi) +
                                          " (supported: " + supported() + ")");
        }
        if (h.array_size == 0) return Status::fail(path, "DX10 arraySize is 0");
        if ((h.misc2 & 0x7) >= 5)
            return Status::fail(path, "undefined alpha mode " + std::to_string(h.misc2 & 0x7) + " in DX10 miscFlags2");
        cube = (h.misc & MISC_TEXTURECUBE) != 0;
        if (h.dim == DIM_2D) {
            faces = uint64_t(h.array_size) * (cube ? 6 : 1);
        } else if (h.dim == DIM_3D) {
            if (!(h.flags & DDSD_DEPTH))
                return Status::fail(path, "DX10 resourceDimension is 3D but dwFlags lacks DDSD_DEPTH");
            if (h.array_size != 1)
                return Status::fail(path, "volume texture with arraySize " + std::to_string(h.array_size) +
                                              " (volumes cannot be arrays)");
            if (cube) return Status::fail(path, "volume texture with the TEXTURECUBE flag");
            dim = Dimension::Tex3D;
            depth = h.depth;
        } else if (h.dim == DIM_1D) {
            return Status::fail(path, "1D textures (DX10 resourceDimension 2) are not supported");
        } else {
            return Status::fail(path, "bad DX10 resourceDimension " + std::to_string(h.dim) +
                                          " (expected 3 for 2D or 4 for 3D)");
        }
    } else {
        NGSDK_TRY(legacy_format(h, path, fmt, fill_alpha));
        bool volume = (h.flags & DDSD_DEPTH) != 0;
        if (h.caps2 & DDSCAPS2_CUBEMAP) {
            if (volume)
                return Status::fail(path, "header marks both a volume (DDSD_DEPTH) and a cube map (DDSCAPS2_CUBEMAP)");
            if ((h.caps2 & DDSCAPS2_ALLFACES) != DDSCAPS2_ALLFACES)
                return Status::fail(path, "cube map lacks some faces (dwCaps2 " + hex(h.caps2) +
                                              "); all six are required");
            faces = 6;
            cube = true;
        } else if (volume) {
            dim = Dimension::Tex3D;
            depth = h.depth;
        }
    }
    uint32_t width = h.width, height = h.height;
    if (width == 0 || height == 0 || depth == 0)
        return Status::fail(path, "zero dimension: " + std::to_string(width) + "x" + std::to_string(height) + "x" +
                                      std::to_string(depth));
    if (cube && width != height)
        return Status::fail(path, "cube map faces must be square, found " + std::to_string(width) + "x" +
                                      std::to_string(height));
    uint32_t full = full_mip_count(width, height, depth);
    uint32_t mip_count = h.mips ? h.mips : 1;
    if (mip_count > full)
        return Status::fail(path, "mip count " + std::to_string(mip_count) + " exceeds the full chain of " +
                                      std::to_string(full) + " levels for " + std::to_string(width) + "x" +
                                      std::to_string(height) + "x" + std::to_string(depth));
    const uint64_t bpt = uint64_t(fmt->bytes_per_texel());
    std::vector<uint64_t> sizes(mip_count);
    uint64_t per_slice = 0;
    for (uint32_t m = 0; m < mip_count; ++m) {
        uint64_t lead = dim == Dimension::Tex3D ? extent(depth, m) : 1;
        sizes[m] = mul_sat(mul_sat(mul_sat(extent(width, m), extent(height, m)), lead), bpt);
        per_slice = add_sat(per_slice, sizes[m]);
    }
    uint64_t expected = mul_sat(per_slice, faces);
    size_t offset = h.dx10 ? kDx10File : kMinFile;
    uint64_t present = size - offset;
    if (present < expected)
        return Status::fail(path, "truncated texel data: expected " + std::to_string(expected) + " bytes after the " +
                                      std::to_string(offset) + "-byte header, found " + std::to_string(present));
    if (present > expected)
        return Status::fail(path, std::to_string(present - expected) +
                                      " trailing bytes after the texel data (expected " + std::to_string(expected) +
                                      " bytes after the header, found " + std::to_string(present) + ")");
    // From here every size is bounded by the file size.
    out = DdsTexture();
    out.format = fmt;
    out.dimension = dim;
    out.width = width;
    out.height = height;
    out.depth = depth;
    out.array_size = uint32_t(faces);
    out.cube = cube;
    out.dx10 = h.dx10;
    out.alpha_mode = h.dx10 ? kAlphaModes[h.misc2 & 0x7] : "unknown";
    out.mips.resize(mip_count);
    const uint8_t* texels = data + offset;
    const int cb = fmt->component_bytes;
    for (uint32_t m = 0; m < mip_count; ++m) {
        std::vector<uint8_t>& level = out.mips[m];
        level.resize(size_t(sizes[m] * faces));
        uint64_t start = 0;
        for (uint32_t k = 0; k < m; ++k) start += sizes[k];
        for (uint64_t s = 0; s < faces; ++s) {
            // 2D: each slice holds all its mips in turn (D3D subresource order); 3D: faces == 1.
            std::memcpy(level.data() + s * sizes[m], texels + s * per_slice + start, size_t(sizes[m]));
        }
        if (fmt->bgra) {
            for (size_t t = 0; t + 4 <= level.size(); t += 4) {
                uint8_t b = level[t];
                level[t] = level[t + 2];
                level[t + 2] = b;
            }
        }
        if (fill_alpha) {
            // Only 4-channel 8-bit formats force alpha.
            for (size_t t = 3 * size_t(cb); t < level.size(); t += size_t(fmt->bytes_per_texel())) level[t] = 255;
        }
    }
    return Status::ok();
}

Status read_file(const std::string& path, std::vector<uint8_t>& out, uint64_t max_bytes) {
    // Only regular files are read (docs/security.md): a FIFO or a device (a symlink to /dev/zero) would block
    // or never end. The open does not block, the type and size are checked on the opened file.
    out.clear();
#ifndef _WIN32
    int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return Status::fail(path, "file not found");
        return Status::fail(path, std::string("cannot read file: ") + std::strerror(errno));
    }
    struct stat st;
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        bool dir = S_ISDIR(st.st_mode);
        ::close(fd);
        return Status::fail(path, dir ? "is a folder, expected a regular file"
                                      : "is not a regular file (a FIFO, device or socket is not read)");
    }
    if (uint64_t(st.st_size) > max_bytes) {
        ::close(fd);
        return Status::fail(path, "file is larger than " + std::to_string(max_bytes) + " bytes");
    }
    int flags = ::fcntl(fd, F_GETFL);
    if (flags >= 0) ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    std::FILE* f = ::fdopen(fd, "rb");
    if (!f) {
        ::close(fd);
        return Status::fail(path, std::string("cannot read file: ") + std::strerror(errno));
    }
    out.reserve(size_t(st.st_size));
#else
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) {
        if (errno == ENOENT) return Status::fail(path, "file not found");
        return Status::fail(path, std::string("cannot read file: ") + std::strerror(errno));
    }
#endif
    uint8_t buf[1 << 16];
    for (;;) {
        size_t n = std::fread(buf, 1, sizeof buf, f);
        if (n == 0) break;
        if (out.size() + n > max_bytes) {
            std::fclose(f);
            return Status::fail(path, "file is larger than " + std::to_string(max_bytes) + " bytes");
        }
        out.insert(out.end(), buf, buf + n);
    }
    bool bad = std::ferror(f) != 0;
    std::fclose(f);
    if (bad) return Status::fail(path, "cannot read file: I/O error (is it a folder?)");
    return Status::ok();
}

Status read_dds(const std::string& path, DdsTexture& out) {
    std::vector<uint8_t> bytes;
    NGSDK_TRY(read_file(path, bytes));
    return decode_dds(bytes.data(), bytes.size(), path, out);
}

}  // namespace ngsdk
