#include "ngsdk/shader_params.h"

namespace ngsdk {

Status shader_params(const NeuralTexture& t, DecodeMode mode, std::vector<int32_t>& out) {
    out.clear();
    if (!t.quantized)
        return Status::fail(t.bundle_path, "shader parameters need an integer decoder; this bundle is in decode mode '" +
                                               std::string(to_string(t.decode_mode)) + "'");
    if (mode == DecodeMode::Float) return Status::fail(t.bundle_path, "the shaders decode the exact and hardware modes");
    out = {kShaderParamMagic, int32_t(t.grids.size()), int32_t(t.q.period_log2.size()), int32_t(t.layers.size()),
           t.address == AddressMode::Wrap ? 0 : 1, int32_t(t.outputs()), mode == DecodeMode::Hardware ? 1 : 0, 0};
    for (const Grid& g : t.grids) out.insert(out.end(), {int32_t(g.features), int32_t(g.bits), int32_t(g.array_size), 0});
    for (size_t i = 0; i < t.q.period_log2.size(); ++i) out.insert(out.end(), {t.q.period_log2[i], t.q.phase[i]});
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
