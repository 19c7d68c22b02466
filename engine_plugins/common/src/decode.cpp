// Decode dispatch and the decoded-mip digest.
#include "ngsdk/decode.h"

#include <cstring>

#include "ngsdk/sha256.h"

namespace ngsdk {

bool cpu_decode_supported(DecodeMode mode) { return mode == DecodeMode::Float; }

Status decode_mip(const NeuralTexture& t, uint32_t mip, DecodeMode mode, std::vector<float>& out,
                  const DecodeOptions& options) {
    switch (mode) {
        case DecodeMode::Float: return decode_mip_float(t, mip, out, options);
        case DecodeMode::Exact:
            return Status::fail(t.bundle_path, "the exact decode mode is not implemented in this build yet");
        case DecodeMode::Hardware:
            return Status::fail(t.bundle_path,
                                "the hardware decode mode uses the engine's own texture sampler and has no "
                                "bit-exact CPU definition; decode it on the GPU or use float/exact");
    }
    return Status::fail(t.bundle_path, "unknown decode mode");
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
