#include "ngsdk/shader_params.h"

namespace ngsdk {

Status shader_params(const NeuralTexture& t, DecodeMode mode, std::vector<int32_t>& out) {
    out.clear();
    if (!t.quantized)
        return Status::fail(t.bundle_path, "shader parameters need an integer decoder; this bundle is in decode mode '" +
                                               std::string(to_string(t.decode_mode)) + "'");
    if (mode == DecodeMode::Float) return Status::fail(t.bundle_path, "the shaders decode the exact and hardware modes");
    // The hardware path samples each grid at the mip's LOD, so it cannot follow taps at other levels.
    if (mode == DecodeMode::Hardware && !hardware_layout(t))
        return Status::fail(t.bundle_path, "hardware mode needs one tap per grid at level min(mip, last) and no LOD "
                                           "input; this bundle's latent layout decodes in the exact mode only");
    const std::vector<Tap>& taps0 = t.taps.front();
    const size_t K = taps0.size();
    std::vector<int32_t> grids, taps, mips, terms;
    for (const Grid& g : t.grids)
        grids.insert(grids.end(), {int32_t(g.features), int32_t(g.bits), int32_t(g.array_size), int32_t(g.width),
                                   int32_t(g.height), int32_t(g.levels), 0, 0});
    for (const Tap& tap : taps0) taps.push_back(int32_t(tap.grid));
    for (uint32_t m = 0; m < t.mip_levels; ++m) {
        for (const Tap& tap : t.taps[m]) mips.push_back(int32_t(tap.level));
        mips.push_back(t.has_lod() ? t.lod_inputs[m] : 0);
    }
    for (size_t i = 0; i < t.q.period_log2.size(); ++i) terms.insert(terms.end(), {t.q.period_log2[i], t.q.phase[i]});
    const int32_t at_taps = kShaderParamHeader + int32_t(grids.size());
    const int32_t at_mips = at_taps + int32_t(taps.size());
    const int32_t at_terms = at_mips + int32_t(mips.size());
    const int32_t at_layers = at_terms + int32_t(terms.size());
    out = {kShaderParamMagic, int32_t(t.grids.size()), int32_t(t.q.period_log2.size()), int32_t(t.layers.size()),
           t.address == AddressMode::Wrap ? 0 : 1, int32_t(t.outputs()), mode == DecodeMode::Hardware ? 1 : 0,
           int32_t(K), t.has_lod() ? 1 : 0, int32_t(t.mip_levels), int32_t(t.width), int32_t(t.height),
           at_taps, at_mips, at_terms, at_layers};
    for (const std::vector<int32_t>* part : {&grids, &taps, &mips, &terms}) out.insert(out.end(), part->begin(), part->end());
    size_t offset = out.size() + 3 * t.layers.size();
    std::vector<int32_t> data;
    for (const Layer& l : t.layers) {
        out.insert(out.end(), {int32_t(l.inputs), int32_t(l.outputs), int32_t(offset + data.size())});
        for (int8_t w : l.qweight) data.push_back(w);
        data.insert(data.end(), l.qbias.begin(), l.qbias.end());
        data.insert(data.end(), l.multiplier.begin(), l.multiplier.end());
        data.insert(data.end(), l.shift.begin(), l.shift.end());
    }
    out.insert(out.end(), data.begin(), data.end());
    return Status::ok();
}

}  // namespace ngsdk
