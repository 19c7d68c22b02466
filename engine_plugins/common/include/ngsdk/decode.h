// CPU decode of a neural texture mip, bit-identical to runtime_ref (docs/decode-spec.md).
//
// `float` mode (ngsdk.runtime_ref.neural_texture.decode_mip): strict IEEE-754 binary32, one rounding per
// operation in the spec's order, no fused multiply-add, k-ascending accumulation; output float32
// linear values. This library must be compiled without -ffast-math and with -ffp-contract=off
// (MSVC: /fp:precise, no /fp:contract); CMake sets both.
// `exact` mode (ngsdk.runtime_ref.neural_texture_exact.decode_mip): integer positions, integer bilinear
// weights and the integer decoder; output UNORM8 bytes in each channel's stored colour space.
// `hardware` mode depends on the engine's texture filter and has no CPU definition here.
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

// One decoded mip: (height, width, channels) row-major.
struct DecodedMip {
    DecodeMode mode = DecodeMode::Float;
    uint32_t width = 0, height = 0, channels = 0;
    std::vector<float> values;   // float mode: linear values
    std::vector<uint8_t> bytes;  // exact/hardware: UNORM8 in each channel's stored colour space

    size_t count() const { return size_t(width) * height * channels; }
    // sha256 as ngsdk records it in provenance.reference_decode: the little-endian float32 bytes of
    // the values (float mode) or of the bytes converted to float32 (exact and hardware modes).
    std::string hash() const;
    // Raw dump bytes: float32 little-endian (float) or the bytes themselves (exact, hardware).
    std::vector<uint8_t> raw() const;
};

Status decode_mip(const NeuralTexture& t, uint32_t mip, DecodeMode mode, DecodedMip& out,
                  const DecodeOptions& options = {});

// The two CPU modes alone.
Status decode_mip_float(const NeuralTexture& t, uint32_t mip, std::vector<float>& out,
                        const DecodeOptions& options = {});
Status decode_mip_exact(const NeuralTexture& t, uint32_t mip, std::vector<uint8_t>& out,
                        const DecodeOptions& options = {});

// sha256 of float32 values' little-endian bytes (ngsdk.asset.digest.decode_hash).
std::string decode_hash(const std::vector<float>& decoded);

bool cpu_decode_supported(DecodeMode mode);

// Integer pieces of the exact mode, shared with tests and engine code (docs/decode-spec.md).
namespace exact {
// Sub-texel position (1/256 texel) of texel centre i of an n_out-texel mip axis on an n_grid level.
int64_t mip_position(uint32_t i, uint32_t n_out, uint32_t n_grid);
// Sub-texel position of a float32 coordinate u on an n_grid level: floor(f32(u * f32(256 n))) - 128.
int64_t uv_position(float u, uint32_t n_grid);
}  // namespace exact

}  // namespace ngsdk
