// `float` decode mode: every operation below is one binary32 operation rounded to nearest even, in
// the order written (runtime_ref/neural_texture.py does the same sequence in NumPy). The build
// must not contract a*b+c into an FMA: CMake adds -ffp-contract=off, and the pragma covers clang.
#include <cfloat>
#include <cmath>
#include <cstring>

#include "ngsdk/decode.h"
#include "parallel_rows.h"
#include "ngsdk/sha256.h"

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#pragma float_control(precise, on)  // also under -ffast-math (Unreal's clang toolchains)
#endif
#if defined(_MSC_VER)
#pragma fp_contract(off)
#pragma float_control(precise, on)
#endif

static_assert(FLT_EVAL_METHOD == 0, "float-mode decode needs float arithmetic evaluated in float (SSE, not x87)");

namespace ngsdk {

namespace {

struct AxisTap {
    uint32_t i0, i1;
    float w;  // weight of i1
};

// x = u * f32(size) - 0.5; taps floor(x), floor(x) + 1; weight x - floor(x).
AxisTap axis_tap(float coord, uint32_t size, AddressMode address) {
    const float x = coord * float(size) - 0.5f;
    const float x0 = std::floor(x);
    const float w = x - x0;
    int64_t i0 = int64_t(x0);
    int64_t i1 = i0 + 1;
    const int64_t n = int64_t(size);
    if (address == AddressMode::Wrap) {
        i0 = ((i0 % n) + n) % n;
        i1 = ((i1 % n) + n) % n;
    } else {
        i0 = i0 < 0 ? 0 : (i0 > n - 1 ? n - 1 : i0);
        i1 = i1 < 0 ? 0 : (i1 > n - 1 ? n - 1 : i1);
    }
    return {uint32_t(i0), uint32_t(i1), w};
}

inline float lerp(float a, float b, float w) {
    const float d = b - a;
    const float p = w * d;
    return a + p;
}

inline float activate(float x, Activation a, float slope) {
    switch (a) {
        case Activation::Relu: return x > 0.0f ? x : 0.0f;
        case Activation::LeakyRelu: return x > 0.0f ? x : x * slope;
        case Activation::Clamp01: return x > 0.0f ? (x < 1.0f ? x : 1.0f) : 0.0f;
        default: return x;  // None (others are refused before decoding)
    }
}

struct GridView {
    const float* values;  // dequantized (h, w, F)
    uint32_t w, h, features;
};

struct Plan {
    const NeuralTexture* t;
    uint32_t mip, width, height, enc_level;
    std::vector<GridView> taps;  // the level each latent tap of the mip fetches
    bool has_lod = false;
    float lod = 0.0f;            // f32(lod) / f32(127): the decoder's last input when has_lod
    std::vector<std::vector<float>> weights_t;  // per layer (inputs, outputs): W transposed
    std::vector<float> enc_scale;               // f32(f / 2^level) per frequency
    std::vector<float> enc_phase;               // f32(p) per phase
    uint32_t max_width;
};

void decode_rows(const Plan& p, uint32_t r0, uint32_t r1, float* out) {
    const NeuralTexture& t = *p.t;
    const uint32_t C = t.outputs();
    std::vector<float> a(p.max_width), b(p.max_width);
    for (uint32_t y = r0; y < r1; ++y) {
        const float v = (float(y) + 0.5f) / float(p.height);
        for (uint32_t x = 0; x < p.width; ++x) {
            const float u = (float(x) + 0.5f) / float(p.width);
            uint32_t n = 0;
            for (const GridView& g : p.taps) {
                const AxisTap tx = axis_tap(u, g.w, t.address);
                const AxisTap ty = axis_tap(v, g.h, t.address);
                const float* r00 = g.values + (size_t(ty.i0) * g.w + tx.i0) * g.features;
                const float* r01 = g.values + (size_t(ty.i0) * g.w + tx.i1) * g.features;
                const float* r10 = g.values + (size_t(ty.i1) * g.w + tx.i0) * g.features;
                const float* r11 = g.values + (size_t(ty.i1) * g.w + tx.i1) * g.features;
                for (uint32_t f = 0; f < g.features; ++f) {
                    const float top = lerp(r00[f], r01[f], tx.w);
                    const float bot = lerp(r10[f], r11[f], tx.w);
                    a[n++] = lerp(top, bot, ty.w);
                }
            }
            if (t.encoding.triangle) {
                for (float fs : p.enc_scale)
                    for (float ph : p.enc_phase)
                        for (float c : {u, v}) {
                            const float tt = c * fs + ph;
                            const float fr = tt - std::floor(tt);
                            a[n++] = std::fabs(fr * 2.0f - 1.0f);
                        }
            }
            if (p.has_lod) a[n++] = p.lod;
            float* in = a.data();
            float* acc = b.data();
            for (size_t li = 0; li < t.layers.size(); ++li) {
                const Layer& l = t.layers[li];
                const float* wt = p.weights_t[li].data();
                for (uint32_t j = 0; j < l.outputs; ++j) acc[j] = l.bias[j];
                // y_j = ((b_j + x_0 W_j0) + x_1 W_j1) + ...: k ascending, each product and sum rounded.
                for (uint32_t k = 0; k < l.inputs; ++k) {
                    const float xk = in[k];
                    const float* row = wt + size_t(k) * l.outputs;
                    for (uint32_t j = 0; j < l.outputs; ++j) {
                        const float prod = xk * row[j];
                        acc[j] = acc[j] + prod;
                    }
                }
                for (uint32_t j = 0; j < l.outputs; ++j) acc[j] = activate(acc[j], l.activation, t.leaky_slope);
                std::swap(in, acc);
            }
            std::memcpy(out + (size_t(y) * p.width + x) * C, in, C * sizeof(float));
        }
    }
}

}  // namespace

Status decode_mip_float(const NeuralTexture& t, uint32_t mip, std::vector<float>& out, const DecodeOptions& options) {
    const std::string where = t.bundle_path;
    if (mip >= t.mip_levels)
        return Status::fail(where, "mip " + std::to_string(mip) + " out of range (asset has " +
                                       std::to_string(t.mip_levels) + ")");
    for (const Layer& l : t.layers)
        if (l.activation != Activation::None && l.activation != Activation::Relu &&
            l.activation != Activation::LeakyRelu && l.activation != Activation::Clamp01)
            return Status::fail(where, std::string("activation '") + to_string(l.activation) +
                                           "' has no exact float-mode definition");
    Plan p;
    p.t = &t;
    p.mip = mip;
    p.width = t.mip_width(mip);
    p.height = t.mip_height(mip);
    const uint64_t C = t.outputs();
    const uint64_t count = uint64_t(p.width) * p.height * C;
    if (count > options.max_output_bytes / sizeof(float) || count > SIZE_MAX / sizeof(float))
        return Status::fail(where, "mip " + std::to_string(mip) + " (" + std::to_string(p.width) + "x" +
                                       std::to_string(p.height) + "x" + std::to_string(C) +
                                       " floats) exceeds the decode limit of " +
                                       std::to_string(options.max_output_bytes) + " bytes");
    const std::vector<Tap>& taps = t.taps[mip];
    // Dequantize every texel of the levels this mip's taps read: f32(code) * scale + offset.
    std::vector<std::vector<float>> values(taps.size());
    for (size_t k = 0; k < taps.size(); ++k) {
        const Grid& grid = t.grids[taps[k].grid];
        const std::vector<uint8_t>& codes = grid.codes[taps[k].level];
        values[k].resize(codes.size());
        for (size_t i = 0; i < codes.size(); ++i) {
            const float prod = float(codes[i]) * grid.scale;
            values[k][i] = prod + grid.offset;
        }
        p.taps.push_back({values[k].data(), grid.level_width(taps[k].level), grid.level_height(taps[k].level),
                          grid.features});
    }
    p.enc_level = taps[0].level;  // the encoding's frequencies are scaled to tap 0's level
    p.has_lod = t.has_lod();
    if (p.has_lod) p.lod = float(t.lod_inputs[mip]) / 127.0f;  // one correctly rounded division
    for (double f : t.encoding.frequencies) p.enc_scale.push_back(float(f / double(uint64_t(1) << p.enc_level)));
    for (double ph : t.encoding.phases) p.enc_phase.push_back(float(ph));
    p.max_width = t.inputs();
    for (const Layer& l : t.layers) {
        if (l.outputs > p.max_width) p.max_width = l.outputs;
        std::vector<float> wt(size_t(l.inputs) * l.outputs);
        for (uint32_t j = 0; j < l.outputs; ++j)
            for (uint32_t k = 0; k < l.inputs; ++k) wt[size_t(k) * l.outputs + j] = l.weight[size_t(j) * l.inputs + k];
        p.weights_t.push_back(std::move(wt));
    }
    out.assign(size_t(count), 0.0f);
    float* dst = out.data();
    parallel_rows(p.height, options.threads, [&p, dst](uint32_t r0, uint32_t r1) { decode_rows(p, r0, r1, dst); });
    return Status::ok();
}

}  // namespace ngsdk
