// The int32 parameter array the shared decode shaders read (NTD_Param): the integer decoder, the
// texture's sizes and every mip's latent taps and LOD input, built from a loaded bundle exactly as
// ngsdk.runtime_ref.neural_texture_int.param_blob does (layout: docs/decode-spec.md, "Shader parameter blob").
#pragma once

#include <cstdint>
#include <vector>

#include "ngsdk/bundle.h"
#include "ngsdk/status.h"

namespace ngsdk {

constexpr int32_t kShaderParamMagic = 0x3244544E;  // "NTD2" little-endian
constexpr int kShaderParamHeader = 16;
constexpr int kShaderParamGridWords = 8;

// Header [magic, grids, terms, layers, address (0 wrap, 1 clamp), outputs, mode (0 exact, 1 hardware),
// taps K, LOD input (0/1), mips M, width, height, @taps, @mips, @terms, @layers] (@: where a table
// starts), per grid [features, bits, slices, width, height, levels, 0, 0]; the tables: the grid of each
// tap (K words), per mip the level of each tap then its LOD input (M rows of K + 1), per term
// [period_log2, phase], per layer [inputs, outputs, offset]; then per layer at `offset`: weights
// (out x in, row-major), biases, multipliers, shifts. `mode` picks the mode word (exact or hardware);
// the bundle needs an integer decoder, and the hardware mode the one-tap-per-grid layout.
Status shader_params(const NeuralTexture& t, DecodeMode mode, std::vector<int32_t>& out);

}  // namespace ngsdk
