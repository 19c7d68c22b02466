// Load an .ngasset neural texture bundle (manifest.json + DDS grids + decoder.npz) with the checks of
// runtime_ref/bundle.py: manifest JSON, version and schema; presence, size and sha256 of every listed
// file; each grid's DDS header against the manifest; codes with no stray bits; decoder arrays' names,
// dtypes and shapes. Every failure is one Status naming the file.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ngsdk/json.h"
#include "ngsdk/status.h"

namespace ngsdk {

enum class Activation { None, Relu, LeakyRelu, Sigmoid, Tanh, Swish, Clamp01 };
enum class AddressMode { Wrap, Clamp };
enum class FilterMode { Bilinear, Nearest };
enum class DecodeMode { Float, Exact, Hardware };

const char* to_string(Activation a);
const char* to_string(DecodeMode m);
bool parse_decode_mode(const std::string& s, DecodeMode& out);

struct Channel {
    std::string name, semantic, component, colour_space, source, normal_convention;
};

struct Grid {
    std::string name, file;
    uint32_t width = 0, height = 0;  // level 0
    uint32_t levels = 0, features = 0, bits = 0, array_size = 0;
    float scale = 0.f, offset = 0.f;  // dequantize: f32(code) * scale + offset
    // texels[l]: the DDS payload of level l, (array_size, h_l, w_l, 4) bytes (R, G, B, A) - what a GPU
    // uploads as an RGBA8 2D array.
    std::vector<std::vector<uint8_t>> texels;
    // codes[l]: unpacked codes, (h_l, w_l, features) row-major.
    std::vector<std::vector<uint8_t>> codes;

    uint32_t level_width(uint32_t l) const;
    uint32_t level_height(uint32_t l) const;
};

struct Layer {
    uint32_t inputs = 0, outputs = 0;
    Activation activation = Activation::None;
    std::string weight_key, bias_key;
    // Float layers: as stored. Integer (quantized) decoders: the real-valued view of
    // QuantizedDecoder.float_layers (informative; the integer arrays below define the decode).
    std::vector<float> weight;  // (outputs, inputs) row-major
    std::vector<float> bias;    // (outputs)
    // Integer decoder (format 1.1, decoder.quantized present): int8 weights, int32 the rest.
    std::string multiplier_key, shift_key;
    float out_scale = 0.f;
    std::vector<int8_t> qweight;  // (outputs, inputs) row-major, values in [-127, 127]
    std::vector<int32_t> qbias, multiplier, shift;
};

// decoder.quantized: the integer decoder of the exact and hardware modes (docs/decode-spec.md).
struct Quantized {
    std::string scheme;               // "ngsdk-int8-v1"
    std::vector<int32_t> latent_shift;  // per latent tap: bits of its grid + 9
    std::vector<int32_t> period_log2, phase;  // per encoding term
    std::vector<float> input_scales;
    std::string reference_profile;
};

struct Encoding {
    bool triangle = false;  // "triangle" or "none"
    std::vector<double> frequencies, phases;
    uint32_t features() const { return triangle ? uint32_t(2 * frequencies.size() * phases.size()) : 0; }
};

// One latent tap: a bilinear fetch of level `level` of grid `grid`, giving that grid's features.
struct Tap {
    uint32_t grid = 0, level = 0;
    bool operator==(const Tap& o) const { return grid == o.grid && level == o.level; }
};

struct NeuralTexture {
    std::string bundle_path, name, format_version;
    uint32_t width = 0, height = 0, mip_levels = 0;
    // [mip][tap]: the latent taps each texture mip is decoded from, in decoder-input order; every mip
    // reads the same grids (format 2.x texture.mip_inputs; 1.x grid_levels[m][g] reads as the taps
    // (g, grid_levels[m][g]) of every grid g).
    std::vector<std::vector<Tap>> taps;
    // [mip]: the decoder's last input (format 2.x mip_inputs[m].lod); empty when the texture has none.
    std::vector<int32_t> lod_inputs;
    std::vector<Channel> channels;
    std::vector<Grid> grids;
    std::vector<Layer> layers;
    bool quantized = false;  // an integer decoder (decoder.quantized) rather than float layers
    Quantized q;
    float leaky_slope = 0.01f;
    Encoding encoding;
    FilterMode filter = FilterMode::Bilinear;
    AddressMode address = AddressMode::Wrap;
    DecodeMode decode_mode = DecodeMode::Float;
    std::map<std::string, std::string> reference_decode;  // "mip{m}" -> sha256 of the trainer's decode
    json::Value manifest;                                 // the whole parsed manifest

    uint32_t inputs() const { return layers.empty() ? 0 : layers.front().inputs; }
    bool has_lod() const { return !lod_inputs.empty(); }
    // The level `tap` of mip `m` reads: (width, height).
    uint32_t tap_width(uint32_t m, size_t tap) const;
    uint32_t tap_height(uint32_t m, size_t tap) const;
    uint32_t outputs() const { return layers.empty() ? 0 : layers.back().outputs; }
    uint32_t mip_width(uint32_t m) const;
    uint32_t mip_height(uint32_t m) const;
};

// Whether every mip reads level min(mip, last) of every grid once, in grid order, with no LOD input: the
// 1.x layout, the only one the hardware mode (one sampler LOD for every grid) can decode.
bool hardware_layout(const NeuralTexture& t);

struct LoadOptions {
    bool verify_checksums = true;  // sha256 of every listed file (sizes are always checked)
};

Status load_neural_texture(const std::string& bundle_dir, NeuralTexture& out, const LoadOptions& options = {});

// The same from the bundle's files held in memory (name -> bytes, "manifest.json" included), e.g. an
// engine asset that stored them at import. `label` names the bundle in errors. Every file given is
// checked against the manifest; graph exports listed in the manifest may be left out.
Status load_neural_texture_from_memory(const std::string& label,
                                       const std::map<std::string, std::vector<uint8_t>>& files,
                                       NeuralTexture& out, const LoadOptions& options = {});

// Parse and validate bundle_dir/manifest.json (version, schema subset, file list); with
// `check_files` verify presence, size and (options.verify_checksums) sha256 of every file.
Status read_manifest(const std::string& bundle_dir, json::Value& out, bool check_files = true,
                     const LoadOptions& options = {});

// Codes packing (docs/asset-format.md): bytes per texel needed for `features` codes of `bits` bits.
uint32_t packed_slices(uint32_t features, uint32_t bits);

// sha256 of a file, streamed; and the digest of a folder as ngsdk.asset.digest.sha256_tree computes it.
Status sha256_file(const std::string& path, std::string& hex, uint64_t& size);
Status sha256_tree(const std::string& path, std::string& hex, uint64_t& size);

}  // namespace ngsdk
