// `exact` decode mode: every value is an integer (runtime_ref/neural_texture_exact.py and
// runtime_ref/neural_texture_int.py give the same bits; docs/decode-spec.md states the steps).
#include <cmath>

#include "ngsdk/decode.h"
#include "parallel_rows.h"

namespace ngsdk {

namespace exact {

int64_t mip_position(uint32_t i, uint32_t n_out, uint32_t n_grid) {
    // q = (2i + 1) n_grid; X = (q / n_out) 128 + ((q % n_out) 128) / n_out - 128 (integer division)
    const int64_t q = (2 * int64_t(i) + 1) * int64_t(n_grid);
    return (q / n_out) * 128 + ((q % n_out) * 128) / n_out - 128;
}

int64_t uv_position(float u, uint32_t n_grid) {
    const float t = std::floor(u * float(256u * n_grid));
    return int64_t(t) - 128;
}

}  // namespace exact

namespace {

struct AxisTap {
    uint32_t i0, i1;
    int64_t w;  // weight of i1 in 1/256
};

int64_t wrap_or_clamp(int64_t i, int64_t n, AddressMode a) {
    if (a == AddressMode::Wrap) return ((i % n) + n) % n;
    return i < 0 ? 0 : (i > n - 1 ? n - 1 : i);
}

AxisTap axis_tap(int64_t x, uint32_t n, AddressMode a) {
    const int64_t i0 = x >> 8;  // arithmetic shift: floor for negative positions
    return {uint32_t(wrap_or_clamp(i0, n, a)), uint32_t(wrap_or_clamp(i0 + 1, n, a)), x & 255};
}

int64_t clamp(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : (v > hi ? hi : v); }

// One latent tap of the mip: the grid level it fetches.
struct TapLevel {
    const uint8_t* codes;  // (h, w, F)
    uint32_t w, h, features, bits;
    std::vector<int64_t> cols, rows;  // sub-texel positions of the mip's texel centres
};

struct Plan {
    const NeuralTexture* t;
    uint32_t width, height;
    std::vector<TapLevel> taps;
    bool has_lod = false;
    int32_t lod = 0;  // the mip's LOD input (the decoder's last input) when has_lod
    std::vector<std::vector<int32_t>> weights;  // per layer, widened int8 weights (out x in)
};

void decode_rows(const Plan& p, uint32_t r0, uint32_t r1, uint8_t* out) {
    const NeuralTexture& t = *p.t;
    const uint32_t C = t.outputs();
    uint32_t widest = t.inputs();
    for (const Layer& l : t.layers) widest = l.outputs > widest ? l.outputs : widest;
    // Every decoder value fits int32 (the loader checks |acc| * multiplier + 2^(shift-1) < 2^31), so
    // the dot products run in int32; the requantization product is formed in int64.
    std::vector<int32_t> a(widest), b(widest);
    for (uint32_t y = r0; y < r1; ++y) {
        for (uint32_t x = 0; x < p.width; ++x) {
            uint32_t n = 0;
            for (const TapLevel& g : p.taps) {
                const AxisTap tx = axis_tap(g.cols[x], g.w, t.address);
                const AxisTap ty = axis_tap(g.rows[y], g.h, t.address);
                const uint8_t* c00 = g.codes + (size_t(ty.i0) * g.w + tx.i0) * g.features;
                const uint8_t* c10 = g.codes + (size_t(ty.i0) * g.w + tx.i1) * g.features;
                const uint8_t* c01 = g.codes + (size_t(ty.i1) * g.w + tx.i0) * g.features;
                const uint8_t* c11 = g.codes + (size_t(ty.i1) * g.w + tx.i1) * g.features;
                const int64_t q = (int64_t(1) << g.bits) - 1;
                const int k = int(g.bits) + 9;
                for (uint32_t f = 0; f < g.features; ++f) {
                    const int64_t top = c00[f] * (256 - tx.w) + c10[f] * tx.w;
                    const int64_t bot = c01[f] * (256 - tx.w) + c11[f] * tx.w;
                    const int64_t sum = top * (256 - ty.w) + bot * ty.w;
                    const int64_t s = 2 * sum - q * 65536;
                    a[n++] = int32_t(clamp((s + (int64_t(1) << (k - 1))) >> k, -127, 127));
                }
            }
            if (t.encoding.triangle) {
                const TapLevel& g0 = p.taps[0];  // the encoding follows tap 0's position and level size
                int64_t eu = g0.cols[x] + 128, ev = g0.rows[y] + 128;
                const int64_t nu = 256 * int64_t(g0.w), nv = 256 * int64_t(g0.h);
                if (t.address == AddressMode::Wrap) {
                    eu = ((eu % nu) + nu) % nu;
                    ev = ((ev % nv) + nv) % nv;
                } else {
                    eu = clamp(eu, 0, nu - 1);
                    ev = clamp(ev, 0, nv - 1);
                }
                for (size_t term = 0; term < t.q.period_log2.size(); ++term) {
                    const int shift = 8 + t.q.period_log2[term];
                    const int64_t period = int64_t(1) << shift;
                    for (int64_t e : {eu, ev}) {
                        const int64_t tt = (e + t.q.phase[term]) & (period - 1);
                        const int64_t tri = 2 * tt - period < 0 ? period - 2 * tt : 2 * tt - period;
                        a[n++] = int32_t((tri * 127 + (period >> 1)) >> shift);
                    }
                }
            }
            if (p.has_lod) a[n++] = p.lod;
            int32_t* in = a.data();
            int32_t* acc = b.data();
            for (size_t li = 0; li < t.layers.size(); ++li) {
                const Layer& l = t.layers[li];
                for (uint32_t j = 0; j < l.outputs; ++j) {
                    int32_t s = 0;
                    const int32_t* w = p.weights[li].data() + size_t(j) * l.inputs;
                    for (uint32_t k = 0; k < l.inputs; ++k) s += w[k] * in[k];
                    const int64_t total = int64_t(s) + l.qbias[j];
                    const int sh = l.shift[j];
                    acc[j] = int32_t(clamp((total * l.multiplier[j] + (int64_t(1) << (sh - 1))) >> sh, 0, 255));
                }
                std::swap(in, acc);
            }
            uint8_t* dst = out + (size_t(y) * p.width + x) * C;
            for (uint32_t c = 0; c < C; ++c) dst[c] = uint8_t(in[c]);
        }
    }
}

}  // namespace

Status decode_mip_exact(const NeuralTexture& t, uint32_t mip, std::vector<uint8_t>& out, const DecodeOptions& options) {
    const std::string where = t.bundle_path;
    if (!t.quantized)
        return Status::fail(where, std::string("the bundle is in decode mode '") + to_string(t.decode_mode) +
                                       "' and has no integer decoder, so it cannot be decoded in the exact mode");
    if (mip >= t.mip_levels)
        return Status::fail(where, "mip " + std::to_string(mip) + " out of range (asset has " +
                                       std::to_string(t.mip_levels) + ")");
    Plan p;
    p.t = &t;
    p.width = t.mip_width(mip);
    p.height = t.mip_height(mip);
    const uint64_t count = uint64_t(p.width) * p.height * t.outputs();
    if (count > options.max_output_bytes || count > SIZE_MAX)
        return Status::fail(where, "mip " + std::to_string(mip) + " exceeds the decode limit of " +
                                       std::to_string(options.max_output_bytes) + " bytes");
    for (const Tap& tap : t.taps[mip]) {
        const Grid& grid = t.grids[tap.grid];
        TapLevel tl;
        tl.codes = grid.codes[tap.level].data();
        tl.w = grid.level_width(tap.level);
        tl.h = grid.level_height(tap.level);
        tl.features = grid.features;
        tl.bits = grid.bits;
        for (uint32_t i = 0; i < p.width; ++i) tl.cols.push_back(exact::mip_position(i, p.width, tl.w));
        for (uint32_t i = 0; i < p.height; ++i) tl.rows.push_back(exact::mip_position(i, p.height, tl.h));
        p.taps.push_back(std::move(tl));
    }
    p.has_lod = t.has_lod();
    p.lod = p.has_lod ? t.lod_inputs[mip] : 0;
    for (const Layer& l : t.layers) p.weights.emplace_back(l.qweight.begin(), l.qweight.end());
    out.assign(size_t(count), 0);
    uint8_t* dst = out.data();
    parallel_rows(p.height, options.threads, [&p, dst](uint32_t r0, uint32_t r1) { decode_rows(p, r0, r1, dst); });
    return Status::ok();
}

}  // namespace ngsdk
