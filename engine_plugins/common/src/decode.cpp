// Decode dispatch and the decoded-mip digest.
#include "ngsdk/decode.h"

#include <cstring>

#include "ngsdk/sha256.h"

namespace ngsdk {

bool cpu_decode_supported(DecodeMode mode) { return mode != DecodeMode::Hardware; }

Status decode_mip(const NeuralTexture& t, uint32_t mip, DecodeMode mode, DecodedMip& out,
                  const DecodeOptions& options) {
    out = DecodedMip();
    out.mode = mode;
    switch (mode) {
        case DecodeMode::Float: NGSDK_TRY(decode_mip_float(t, mip, out.values, options)); break;
        case DecodeMode::Exact: NGSDK_TRY(decode_mip_exact(t, mip, out.bytes, options)); break;
        case DecodeMode::Hardware:
            return Status::fail(t.bundle_path,
                                "the hardware decode mode uses the engine's own texture sampler and has no "
                                "bit-exact CPU definition; decode it on the GPU or use float/exact");
    }
    out.width = t.mip_width(mip);
    out.height = t.mip_height(mip);
    out.channels = t.outputs();
    return Status::ok();
}

std::string DecodedMip::hash() const {
    if (mode == DecodeMode::Float) return decode_hash(values);
    std::vector<float> as_float(bytes.begin(), bytes.end());
    return decode_hash(as_float);
}

std::vector<uint8_t> DecodedMip::raw() const {
    if (mode != DecodeMode::Float) return bytes;
    std::vector<uint8_t> out(values.size() * 4);
    for (size_t i = 0; i < values.size(); ++i) {
        uint32_t bits;
        std::memcpy(&bits, &values[i], 4);
        for (int k = 0; k < 4; ++k) out[4 * i + size_t(k)] = uint8_t(bits >> (8 * k));
    }
    return out;
}

std::string decode_hash(const std::vector<float>& decoded) {
    Sha256 h;
    uint8_t buf[4096];
    size_t n = 0;
    for (float f : decoded) {
        uint32_t bits;
        std::memcpy(&bits, &f, 4);
        // Little-endian bytes on every host (the digest ngsdk stores in provenance.reference_decode).
        buf[n++] = uint8_t(bits);
        buf[n++] = uint8_t(bits >> 8);
        buf[n++] = uint8_t(bits >> 16);
        buf[n++] = uint8_t(bits >> 24);
        if (n == sizeof buf) {
            h.update(buf, n);
            n = 0;
        }
    }
    h.update(buf, n);
    return h.hex();
}

}  // namespace ngsdk
