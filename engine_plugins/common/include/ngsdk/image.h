// Output helpers for tools and samples: an 8-bit PNG writer, a preview that tiles a decoded texture's
// channel groups side by side, and raw little-endian float dumps.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ngsdk/bundle.h"
#include "ngsdk/decode.h"
#include "ngsdk/status.h"

namespace ngsdk {

// Write an 8-bit PNG; `channels` is 1 (grey), 3 (RGB) or 4 (RGBA); rows top to bottom.
Status write_png(const std::string& path, const uint8_t* pixels, uint32_t width, uint32_t height, int channels);
// The PNG file bytes (exposed for tests).
std::vector<uint8_t> encode_png(const uint8_t* pixels, uint32_t width, uint32_t height, int channels);

// An RGB8 preview of a decoded mip: one tile per channel group (consecutive channels with the same
// semantic), side by side; 1 channel -> grey, 2 -> RG, 3+ -> first three as RGB. Float mode: channels
// in colour space "srgb" are encoded with the sRGB curve, others written linearly, clamped and
// rounded to 8 bits. Exact and hardware modes: the decoded bytes as they are (already in the stored
// colour space).
// Sets `out_width` (the height is the mip height).
std::vector<uint8_t> preview_rgb8(const NeuralTexture& t, const DecodedMip& decoded, uint32_t& out_width);

// Write floats as little-endian binary32 (the layout of runtime_ref's decode_mip(...).tobytes()).
Status write_raw_f32(const std::string& path, const float* data, size_t count);

// Atomic write: a temporary sibling file renamed into place.
Status write_file_atomic(const std::string& path, const void* data, size_t size);

}  // namespace ngsdk
