// The int32 parameter array the shared decode shaders read (NTD_Param): the integer decoder and its
// layout, built from a loaded bundle exactly as runtime_ref.neural_texture_int.param_blob does.
#pragma once

#include <cstdint>
#include <vector>

#include "ngsdk/bundle.h"
#include "ngsdk/status.h"

namespace ngsdk {

constexpr int32_t kShaderParamMagic = 0x3144544E;  // "NTD1" little-endian
constexpr int kShaderParamHeader = 8;

// [magic, grids, terms, layers, address (0 wrap, 1 clamp), outputs, mode (0 exact, 1 hardware), 0],
// per grid [features, bits, slices, 0], per term [period_log2, phase], per layer [inputs, outputs,
// offset], then per layer at `offset`: weights (out x in, row-major), biases, multipliers, shifts.
// `mode` picks the mode word (exact or hardware); the bundle needs an integer decoder.
Status shader_params(const NeuralTexture& t, DecodeMode mode, std::vector<int32_t>& out);

}  // namespace ngsdk
