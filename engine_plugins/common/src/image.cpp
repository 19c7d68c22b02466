#include "ngsdk/image.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "ngsdk/npz.h"  // crc32

#if NGSDK_HAVE_ZLIB
#include <zlib.h>
#endif

namespace ngsdk {

namespace {

void put32be(std::vector<uint8_t>& v, uint32_t x) {
    v.push_back(uint8_t(x >> 24));
    v.push_back(uint8_t(x >> 16));
    v.push_back(uint8_t(x >> 8));
    v.push_back(uint8_t(x));
}

void chunk(std::vector<uint8_t>& out, const char* type, const std::vector<uint8_t>& data) {
    put32be(out, uint32_t(data.size()));
    size_t start = out.size();
    out.insert(out.end(), type, type + 4);
    out.insert(out.end(), data.begin(), data.end());
    put32be(out, crc32(out.data() + start, out.size() - start));
}

std::vector<uint8_t> zlib_stream(const std::vector<uint8_t>& raw) {
#if NGSDK_HAVE_ZLIB
    uLongf bound = compressBound(uLong(raw.size()));
    std::vector<uint8_t> packed(bound);
    if (compress2(packed.data(), &bound, raw.data(), uLong(raw.size()), 6) == Z_OK) {
        packed.resize(bound);
        return packed;
    }
#endif
    // Stored deflate blocks (no zlib): valid, just uncompressed.
    std::vector<uint8_t> out = {0x78, 0x01};
    size_t pos = 0;
    do {
        size_t n = raw.size() - pos < 65535 ? raw.size() - pos : 65535;
        out.push_back(pos + n == raw.size() ? 1 : 0);
        out.push_back(uint8_t(n));
        out.push_back(uint8_t(n >> 8));
        out.push_back(uint8_t(~n));
        out.push_back(uint8_t(~n >> 8));
        out.insert(out.end(), raw.begin() + long(pos), raw.begin() + long(pos + n));
        pos += n;
    } while (pos < raw.size());
    uint32_t a = 1, b = 0;
    for (uint8_t c : raw) {
        a = (a + c) % 65521;
        b = (b + a) % 65521;
    }
    put32be(out, (b << 16) | a);
    return out;
}

uint8_t to8(float v, bool srgb) {
    if (!(v > 0.0f)) v = 0.0f;  // NaN -> 0
    if (v > 1.0f) v = 1.0f;
    double x = v;
    if (srgb) x = x <= 0.0031308 ? 12.92 * x : 1.055 * std::pow(x, 1.0 / 2.4) - 0.055;
    return uint8_t(std::lround(x * 255.0));
}

}  // namespace

std::vector<uint8_t> encode_png(const uint8_t* pixels, uint32_t width, uint32_t height, int channels) {
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    std::vector<uint8_t> out(sig, sig + 8);
    std::vector<uint8_t> ihdr;
    put32be(ihdr, width);
    put32be(ihdr, height);
    ihdr.push_back(8);
    ihdr.push_back(channels == 1 ? 0 : channels == 3 ? 2 : 6);
    ihdr.push_back(0);
    ihdr.push_back(0);
    ihdr.push_back(0);
    chunk(out, "IHDR", ihdr);
    const size_t row = size_t(width) * channels;
    std::vector<uint8_t> raw;
    raw.reserve((row + 1) * height);
    for (uint32_t y = 0; y < height; ++y) {
        raw.push_back(0);  // filter: none
        raw.insert(raw.end(), pixels + y * row, pixels + (y + 1) * row);
    }
    chunk(out, "IDAT", zlib_stream(raw));
    chunk(out, "IEND", {});
    return out;
}

Status write_file_atomic(const std::string& path, const void* data, size_t size) {
    const std::string tmp = path + ".tmp";
    std::FILE* f = std::fopen(tmp.c_str(), "wb");
    if (!f) return Status::fail(path, std::string("cannot write: ") + std::strerror(errno));
    bool ok = std::fwrite(data, 1, size, f) == size;
    ok = (std::fclose(f) == 0) && ok;
    if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::remove(tmp.c_str());
        return Status::fail(path, "cannot write file");
    }
    return Status::ok();
}

Status write_png(const std::string& path, const uint8_t* pixels, uint32_t width, uint32_t height, int channels) {
    if (channels != 1 && channels != 3 && channels != 4) return Status::fail(path, "PNG needs 1, 3 or 4 channels");
    std::vector<uint8_t> bytes = encode_png(pixels, width, height, channels);
    return write_file_atomic(path, bytes.data(), bytes.size());
}

std::vector<uint8_t> preview_rgb8(const NeuralTexture& t, const DecodedMip& decoded, uint32_t& out_width) {
    const uint32_t width = decoded.width, height = decoded.height;
    const bool bytes = decoded.mode != DecodeMode::Float;
    struct Group { size_t first, count; };
    std::vector<Group> groups;
    for (size_t c = 0; c < t.channels.size(); ++c) {
        if (!groups.empty() && t.channels[groups.back().first].semantic == t.channels[c].semantic)
            ++groups.back().count;
        else
            groups.push_back({c, 1});
    }
    const size_t C = t.channels.size();
    out_width = uint32_t(width * groups.size());
    std::vector<uint8_t> img(size_t(out_width) * height * 3, 0);
    for (size_t gi = 0; gi < groups.size(); ++gi) {
        const Group& g = groups[gi];
        for (uint32_t y = 0; y < height; ++y)
            for (uint32_t x = 0; x < width; ++x) {
                const size_t px = (size_t(y) * width + x) * C;
                uint8_t* dst = img.data() + (size_t(y) * out_width + gi * width + x) * 3;
                for (int k = 0; k < 3; ++k) {
                    size_t c = g.count == 1 ? g.first : g.first + size_t(k);
                    if (g.count == 2 && k == 2) {
                        dst[k] = 0;
                        continue;
                    }
                    dst[k] = bytes ? decoded.bytes[px + c]
                                   : to8(decoded.values[px + c], t.channels[c].colour_space == "srgb");
                }
            }
    }
    return img;
}

Status write_raw_f32(const std::string& path, const float* data, size_t count) {
    std::vector<uint8_t> bytes(count * 4);
    for (size_t i = 0; i < count; ++i) {
        uint32_t bits;
        std::memcpy(&bits, &data[i], 4);
        bytes[4 * i] = uint8_t(bits);
        bytes[4 * i + 1] = uint8_t(bits >> 8);
        bytes[4 * i + 2] = uint8_t(bits >> 16);
        bytes[4 * i + 3] = uint8_t(bits >> 24);
    }
    return write_file_atomic(path, bytes.data(), bytes.size());
}

}  // namespace ngsdk
