// CPU decode of a neural texture mip, bit-identical to runtime_ref.neural_texture.decode_mip.
//
// `float` mode: strict IEEE-754 binary32, one rounding per operation in the order of
// docs/decode-spec.md, no fused multiply-add, k-ascending accumulation. This file must be compiled
// without -ffast-math and with -ffp-contract=off (MSVC: /fp:precise or /fp:strict, no /fp:contract).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ngsdk/bundle.h"
#include "ngsdk/status.h"

namespace ngsdk {

struct DecodeOptions {
    int threads = 0;  // 0: std::thread::hardware_concurrency()
    uint64_t max_output_bytes = uint64_t(4) << 30;  // refuse mips whose decode would exceed this
};

// Decode texture mip `mip` at its texel centres into `out`: (H_m, W_m, C) float32, row-major.
// `mode` picks the arithmetic; Hardware has no CPU definition and is refused.
Status decode_mip(const NeuralTexture& t, uint32_t mip, DecodeMode mode, std::vector<float>& out,
                  const DecodeOptions& options = {});

// The float-mode decode alone.
Status decode_mip_float(const NeuralTexture& t, uint32_t mip, std::vector<float>& out,
                        const DecodeOptions& options = {});

// sha256 of the decoded floats' little-endian bytes (ngsdk.asset.digest.decode_hash).
std::string decode_hash(const std::vector<float>& decoded);

// Whether the decode mode can run on the CPU in this build (float always; exact once specified).
bool cpu_decode_supported(DecodeMode mode);

}  // namespace ngsdk
