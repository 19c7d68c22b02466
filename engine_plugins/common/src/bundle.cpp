// Bundle loader (see bundle.h). The schema checks cover every field this loader reads plus the
// common part of manifest.schema.json; the Python reader checks the full JSON Schemas. The schemas'
// enumerations, constants and bounds come from manifest_schema.h, generated from them, and
// tests/integration/test_cpp_manifest_agreement.py holds both readers to the same verdicts.
#include "ngsdk/bundle.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <set>

#include "ngsdk/dds.h"
#include "ngsdk/npz.h"
#include "ngsdk/sha256.h"
#include "manifest_schema.h"

namespace ngsdk {

namespace fs = std::filesystem;

const char* to_string(Activation a) {
    switch (a) {
        case Activation::None: return "none";
        case Activation::Relu: return "relu";
        case Activation::LeakyRelu: return "leaky_relu";
        case Activation::Sigmoid: return "sigmoid";
        case Activation::Tanh: return "tanh";
        case Activation::Swish: return "swish";
        case Activation::Clamp01: return "clamp01";
    }
    return "?";
}

const char* to_string(DecodeMode m) {
    switch (m) {
        case DecodeMode::Float: return "float";
        case DecodeMode::Exact: return "exact";
        case DecodeMode::Hardware: return "hardware";
    }
    return "?";
}

bool parse_decode_mode(const std::string& s, DecodeMode& out) {
    if (s == "float") out = DecodeMode::Float;
    else if (s == "exact") out = DecodeMode::Exact;
    else if (s == "hardware") out = DecodeMode::Hardware;
    else return false;
    return true;
}

static uint32_t extent(uint32_t size, uint32_t level) {
    uint32_t e = level >= 32 ? 0 : size >> level;
    return e ? e : 1;
}

uint32_t Grid::level_width(uint32_t l) const { return extent(width, l); }
uint32_t Grid::level_height(uint32_t l) const { return extent(height, l); }
uint32_t NeuralTexture::mip_width(uint32_t m) const { return extent(width, m); }
uint32_t NeuralTexture::mip_height(uint32_t m) const { return extent(height, m); }
bool hardware_layout(const NeuralTexture& t) {
    if (t.has_lod()) return false;
    for (size_t m = 0; m < t.taps.size(); ++m) {
        if (t.taps[m].size() != t.grids.size()) return false;
        for (size_t g = 0; g < t.grids.size(); ++g)
            if (!(t.taps[m][g] == Tap{uint32_t(g), std::min<uint32_t>(uint32_t(m), t.grids[g].levels - 1)}))
                return false;
    }
    return true;
}

uint32_t NeuralTexture::tap_width(uint32_t m, size_t tap) const {
    const Tap& t = taps[m][tap];
    return grids[t.grid].level_width(t.level);
}
uint32_t NeuralTexture::tap_height(uint32_t m, size_t tap) const {
    const Tap& t = taps[m][tap];
    return grids[t.grid].level_height(t.level);
}

uint32_t packed_slices(uint32_t features, uint32_t bits) {
    uint32_t per_byte = 8 / bits;
    uint32_t nbytes = (features + per_byte - 1) / per_byte;
    return (nbytes + 3) / 4;
}

namespace {

std::string join(const std::string& dir, const std::string& name) {
    if (dir.empty()) return name;
    char last = dir.back();
    return (last == '/' || last == '\\') ? dir + name : dir + "/" + name;
}

// ------------------------------------------------------------------ schema subset

class Schema {
public:
    explicit Schema(std::string file) : file_(std::move(file)) {}
    Status status() const { return ok_ ? Status::ok() : Status::fail(file_, "schema violation at " + problem_); }
    bool ok() const { return ok_; }

    const json::Value* field(const json::Value& obj, const std::string& where, const char* key, bool required) {
        const json::Value* v = obj.find(key);
        if (!v && required) fail(where.empty() ? "(top level)" : where, std::string("'") + key + "' is a required property");
        return v;
    }
    bool object(const json::Value* v, const std::string& where) {
        return v && (v->is_object() || fail(where, "expected an object"));
    }
    bool array(const json::Value* v, const std::string& where, size_t min_items = 0) {
        if (!v) return false;
        if (!v->is_array()) return fail(where, "expected an array");
        if (v->size() < min_items) return fail(where, "should be non-empty");
        return true;
    }
    bool string(const json::Value* v, const std::string& where, std::string* out = nullptr, size_t min_len = 0) {
        if (!v) return false;
        if (!v->is_string()) return fail(where, "expected a string");
        if (v->as_string().size() < min_len) return fail(where, "should be non-empty");
        if (out) *out = v->as_string();
        return true;
    }
    bool integer(const json::Value* v, const std::string& where, int64_t minimum, int64_t* out = nullptr) {
        if (!v) return false;
        if (!v->is_integer()) return fail(where, "expected an integer");
        if (v->as_int() < minimum) return fail(where, "expected an integer >= " + std::to_string(minimum));
        if (out) *out = v->as_int();
        return true;
    }
    bool u32(const json::Value* v, const std::string& where, uint32_t minimum, uint32_t& out) {
        int64_t i = 0;
        if (!integer(v, where, minimum, &i)) return false;
        if (i > int64_t(UINT32_MAX)) return fail(where, "integer too large");
        out = uint32_t(i);
        return true;
    }
    bool number(const json::Value* v, const std::string& where, double* out = nullptr) {
        if (!v) return false;
        if (!v->is_number()) return fail(where, "expected a number");
        if (out) *out = v->as_double();
        return true;
    }
    template <size_t N>
    bool one_of(const json::Value* v, const std::string& where, const char* const (&options)[N],
                std::string* out = nullptr) {
        if (!v) return false;
        if (v->is_string())
            for (const char* o : options)
                if (v->as_string() == o) {
                    if (out) *out = o;
                    return true;
                }
        std::string list;
        for (const char* o : options) list += std::string(list.empty() ? "" : ", ") + "'" + o + "'";
        return fail(where, "is not one of [" + list + "]");
    }
    bool hex64(const json::Value* v, const std::string& where) {
        if (!string(v, where)) return false;
        const std::string& s = v->as_string();
        bool good = s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
                        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                    });
        return good || fail(where, "does not match '^[0-9a-f]{64}$'");
    }
    bool fail(const std::string& where, const std::string& what) {
        if (ok_) {
            ok_ = false;
            problem_ = (where.empty() ? "(top level)" : where) + ": " + what;
        }
        return false;
    }

private:
    std::string file_;
    bool ok_ = true;
    std::string problem_;
};

std::string at(const std::string& base, const std::string& key) { return base.empty() ? key : base + "/" + key; }
std::string at(const std::string& base, size_t i) { return at(base, std::to_string(i)); }

bool matches_name(const std::string& s, bool allow_dot_dash) {
    if (s.empty()) return false;
    for (char c : s) {
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
                  (allow_dot_dash && (c == '.' || c == '-'));
        if (!ok) return false;
    }
    return true;
}

bool ends_with(const std::string& s, const char* suffix) {
    size_t n = std::strlen(suffix);
    return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

void check_common(Schema& sc, const json::Value& m) {
    std::string kind, version;
    sc.string(sc.field(m, "", "format_version", true), "format_version");
    sc.string(sc.field(m, "", "kind", true), "kind", &kind);
    if (sc.ok() && (kind.empty() || !std::all_of(kind.begin(), kind.end(), [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; })))
        sc.fail("kind", "does not match '^[a-z_]+$'");
    sc.string(sc.field(m, "", "name", true), "name", nullptr, 1);
    const json::Value* files = sc.field(m, "", "files", true);
    if (sc.object(files, "files")) {
        for (const auto& kv : files->members()) {
            std::string w = at("files", kv.first);
            if (!sc.object(&kv.second, w)) break;
            sc.hex64(sc.field(kv.second, w, "sha256", true), at(w, "sha256"));
            sc.integer(sc.field(kv.second, w, "bytes", true), at(w, "bytes"), 0);
        }
    }
    const json::Value* prov = sc.field(m, "", "provenance", true);
    if (sc.object(prov, "provenance")) {
        sc.string(sc.field(*prov, "provenance", "ngsdk_version", true), "provenance/ngsdk_version");
        sc.integer(sc.field(*prov, "provenance", "seed", true), "provenance/seed", INT64_MIN);
        sc.object(sc.field(*prov, "provenance", "config", true), "provenance/config");
        for (const char* key : {"sources", "reference_decode"}) {
            const json::Value* obj = prov->find(key);
            std::string w = at("provenance", key);
            if (obj && sc.object(obj, w))
                for (const auto& kv : obj->members()) sc.hex64(&kv.second, at(w, kv.first));
        }
        if (const json::Value* metrics = prov->find("metrics")) sc.object(metrics, "provenance/metrics");
    }
    if (const json::Value* exports = m.find("exports")) {
        if (sc.array(exports, "exports")) {
            for (size_t i = 0; i < exports->size(); ++i) {
                const json::Value& e = exports->items()[i];
                std::string w = at("exports", i);
                if (!sc.object(&e, w)) break;
                sc.string(sc.field(e, w, "format", true), at(w, "format"));
                const json::Value* ef = sc.field(e, w, "files", true);
                if (sc.array(ef, at(w, "files"), 1))
                    for (size_t k = 0; k < ef->size(); ++k) sc.string(&ef->items()[k], at(at(w, "files"), k));
                sc.string(sc.field(e, w, "precision", true), at(w, "precision"));
                sc.string(sc.field(e, w, "graph", true), at(w, "graph"));
                if (const json::Value* io = e.find("io")) sc.object(io, at(w, "io"));
                if (const json::Value* d = e.find("details")) sc.object(d, at(w, "details"));
            }
        }
    }
}

Activation activation_of(const std::string& s) {
    if (s == "relu") return Activation::Relu;
    if (s == "leaky_relu") return Activation::LeakyRelu;
    if (s == "sigmoid") return Activation::Sigmoid;
    if (s == "tanh") return Activation::Tanh;
    if (s == "swish") return Activation::Swish;
    if (s == "clamp01") return Activation::Clamp01;
    return Activation::None;
}

bool semantic_ok(const std::string& s) {
    for (const char* k : schema::kSemantics)
        if (s == k) return true;
    return s.size() > 5 && s.compare(0, 5, "user:") == 0;
}

bool const_int_pair(const json::Value* v, int64_t a, int64_t b) {
    return v && v->is_array() && v->size() == 2 && v->items()[0].is_integer() && v->items()[0].as_int() == a &&
           v->items()[1].is_integer() && v->items()[1].as_int() == b;
}

void check_quantized(Schema& sc, const json::Value& qd, Quantized& q) {
    const std::string w = "decoder/quantized";
    sc.one_of(sc.field(qd, w, "scheme", true), at(w, "scheme"), schema::kQuantizedSchemes, &q.scheme);
    const json::Value* cb = sc.field(qd, w, "coordinate_bits", true);
    if (cb && !(cb->is_integer() && cb->as_int() == schema::kQuantizedCoordinateBits))
        sc.fail(at(w, "coordinate_bits"), std::to_string(schema::kQuantizedCoordinateBits) + " was expected");
    const auto range = [](const int (&r)[2]) { return "[" + std::to_string(r[0]) + ", " + std::to_string(r[1]) + "]"; };
    const json::Value* ir = sc.field(qd, w, "input_range", true);
    if (ir && !const_int_pair(ir, schema::kQuantizedInputRange[0], schema::kQuantizedInputRange[1]))
        sc.fail(at(w, "input_range"), range(schema::kQuantizedInputRange) + " was expected");
    const json::Value* ar = sc.field(qd, w, "activation_range", true);
    if (ar && !const_int_pair(ar, schema::kQuantizedActivationRange[0], schema::kQuantizedActivationRange[1]))
        sc.fail(at(w, "activation_range"), range(schema::kQuantizedActivationRange) + " was expected");
    sc.one_of(sc.field(qd, w, "output", true), at(w, "output"), schema::kQuantizedOutputs);
    const json::Value* ls = sc.field(qd, w, "latent_shift", true);
    if (sc.array(ls, at(w, "latent_shift")))
        for (size_t i = 0; i < ls->size(); ++i) {
            int64_t v = 0;
            if (sc.integer(&ls->items()[i], at(at(w, "latent_shift"), i), schema::kLatentShiftMin, &v) &&
                v > schema::kLatentShiftMax)
                sc.fail(at(at(w, "latent_shift"), i), "should be at most " + std::to_string(schema::kLatentShiftMax));
            q.latent_shift.push_back(int32_t(v));
        }
    const json::Value* terms = sc.field(qd, w, "encoding_terms", true);
    if (sc.array(terms, at(w, "encoding_terms")))
        for (size_t i = 0; i < terms->size() && sc.ok(); ++i) {
            const json::Value& term = terms->items()[i];
            std::string wt = at(at(w, "encoding_terms"), i);
            if (!sc.object(&term, wt)) break;
            int64_t s = 0, p = 0;
            if (sc.integer(sc.field(term, wt, "period_log2", true), at(wt, "period_log2"), schema::kPeriodLog2Min, &s) &&
                s > schema::kPeriodLog2Max)
                sc.fail(at(wt, "period_log2"), "should be at most " + std::to_string(schema::kPeriodLog2Max));
            if (sc.integer(sc.field(term, wt, "phase", true), at(wt, "phase"), 0, &p) && p > INT32_MAX)
                sc.fail(at(wt, "phase"), "too large");
            q.period_log2.push_back(int32_t(s));
            q.phase.push_back(int32_t(p));
        }
    const json::Value* scales = sc.field(qd, w, "input_scales", true);
    if (sc.array(scales, at(w, "input_scales")))
        for (size_t i = 0; i < scales->size(); ++i) {
            double v = 0;
            if (sc.number(&scales->items()[i], at(at(w, "input_scales"), i), &v) && !(std::isfinite(v) && v != 0))
                sc.fail(at(at(w, "input_scales"), i), "must be finite and non-zero");
            q.input_scales.push_back(float(v));
        }
    q.reference_profile = "d3d11";
    if (const json::Value* rp = qd.find("reference_profile")) sc.string(rp, at(w, "reference_profile"), &q.reference_profile);
}

// texture.mip_inputs (format 2.x: per mip {"taps": [[grid, level], ...], "lod": int}) or texture.grid_levels
// (1.x: per mip the level of every grid, read as one tap per grid and no LOD input); exactly one is given.
void check_mip_inputs(Schema& sc, const json::Value& tex, NeuralTexture& t) {
    const json::Value* mi = tex.find("mip_inputs");
    const json::Value* gl = tex.find("grid_levels");
    if (mi && gl) {
        sc.fail("texture", "give 'mip_inputs' (format 2.x) or 'grid_levels' (1.x), not both");
        return;
    }
    if (gl) {
        if (!sc.array(gl, "texture/grid_levels")) return;
        for (size_t i = 0; i < gl->size() && sc.ok(); ++i) {
            const json::Value& row = gl->items()[i];
            std::string w = at("texture/grid_levels", i);
            if (!sc.array(&row, w)) break;
            std::vector<Tap> taps(row.size());
            for (size_t k = 0; k < row.size(); ++k) {
                taps[k].grid = uint32_t(k);
                sc.u32(&row.items()[k], at(w, k), 0, taps[k].level);
            }
            t.taps.push_back(taps);
        }
        return;
    }
    if (!sc.array(sc.field(tex, "texture", "mip_inputs", true), "texture/mip_inputs")) return;
    size_t with_lod = 0;
    for (size_t i = 0; i < mi->size() && sc.ok(); ++i) {
        const json::Value& e = mi->items()[i];
        std::string w = at("texture/mip_inputs", i);
        if (!sc.object(&e, w)) break;
        for (const auto& kv : e.members())
            if (kv.first != "taps" && kv.first != "lod")
                sc.fail(w, "additional property '" + kv.first + "' is not allowed");
        const json::Value* taps = sc.field(e, w, "taps", true);
        std::string wt = at(w, "taps");
        if (!sc.array(taps, wt, 1)) break;
        std::vector<Tap> row(taps->size());
        for (size_t k = 0; k < taps->size() && sc.ok(); ++k) {
            const json::Value& pair = taps->items()[k];
            std::string wp = at(wt, k);
            if (!sc.array(&pair, wp)) break;
            if (pair.size() != 2) {
                sc.fail(wp, "expected a [grid, level] pair");
                break;
            }
            sc.u32(&pair.items()[0], at(wp, 0), 0, row[k].grid);
            sc.u32(&pair.items()[1], at(wp, 1), 0, row[k].level);
        }
        t.taps.push_back(row);
        if (const json::Value* lod = e.find("lod")) {
            int64_t v = 0;
            if (sc.integer(lod, at(w, "lod"), schema::kLodMin, &v) && v > schema::kLodMax)
                sc.fail(at(w, "lod"), "should be at most " + std::to_string(schema::kLodMax));
            t.lod_inputs.push_back(int32_t(v));
            ++with_lod;
        }
    }
    // the LOD input is a decoder input: every mip has one, or none does
    if (sc.ok() && with_lod != 0 && with_lod != mi->size())
        sc.fail("texture/mip_inputs", "'lod' must be given for every mip or for none");
}

// The neural_texture kind: fill `t` from the manifest while checking its schema.
void check_neural_texture(Schema& sc, const json::Value& m, NeuralTexture& t) {
    const json::Value* tex = sc.field(m, "", "texture", true);
    if (sc.object(tex, "texture")) {
        sc.u32(sc.field(*tex, "texture", "width", true), "texture/width", 1, t.width);
        sc.u32(sc.field(*tex, "texture", "height", true), "texture/height", 1, t.height);
        sc.u32(sc.field(*tex, "texture", "mip_levels", true), "texture/mip_levels", 1, t.mip_levels);
        check_mip_inputs(sc, *tex, t);
    }
    const json::Value* ch = sc.field(m, "", "channels", true);
    if (sc.array(ch, "channels", 1)) {
        for (size_t i = 0; i < ch->size() && sc.ok(); ++i) {
            const json::Value& c = ch->items()[i];
            std::string w = at("channels", i);
            if (!sc.object(&c, w)) break;
            Channel out;
            sc.string(sc.field(c, w, "name", true), at(w, "name"), &out.name, 1);
            if (sc.string(sc.field(c, w, "semantic", true), at(w, "semantic"), &out.semantic) && !semantic_ok(out.semantic))
                sc.fail(at(w, "semantic"), "is not a known semantic or 'user:NAME'");
            sc.string(sc.field(c, w, "component", true), at(w, "component"), &out.component);
            sc.one_of(sc.field(c, w, "colour_space", true), at(w, "colour_space"), schema::kColourSpaces,
                      &out.colour_space);
            if (const json::Value* src = c.find("source"))
                if (!src->is_null()) sc.string(src, at(w, "source"), &out.source);
            if (const json::Value* nc = c.find("normal_convention"))
                if (!nc->is_null())
                    sc.one_of(nc, at(w, "normal_convention"), schema::kNormalConventions, &out.normal_convention);
            t.channels.push_back(out);
        }
    }
    const json::Value* grids = sc.field(m, "", "grids", true);
    if (sc.array(grids, "grids", 1)) {
        for (size_t i = 0; i < grids->size() && sc.ok(); ++i) {
            const json::Value& g = grids->items()[i];
            std::string w = at("grids", i);
            if (!sc.object(&g, w)) break;
            Grid out;
            if (sc.string(sc.field(g, w, "name", true), at(w, "name"), &out.name) && !matches_name(out.name, false))
                sc.fail(at(w, "name"), "does not match '^[A-Za-z0-9_]+$'");
            if (sc.string(sc.field(g, w, "file", true), at(w, "file"), &out.file) &&
                !(matches_name(out.file, true) && ends_with(out.file, ".dds") && out.file.size() > 4))
                sc.fail(at(w, "file"), "does not match '^[A-Za-z0-9_.-]+\\.dds$'");
            sc.one_of(sc.field(g, w, "dxgi_format", true), at(w, "dxgi_format"), schema::kGridDxgiFormats);
            sc.u32(sc.field(g, w, "width", true), at(w, "width"), 1, out.width);
            sc.u32(sc.field(g, w, "height", true), at(w, "height"), 1, out.height);
            sc.u32(sc.field(g, w, "levels", true), at(w, "levels"), 1, out.levels);
            sc.u32(sc.field(g, w, "features", true), at(w, "features"), 1, out.features);
            if (sc.u32(sc.field(g, w, "bits", true), at(w, "bits"), 0, out.bits) &&
                std::none_of(std::begin(schema::kGridBits), std::end(schema::kGridBits),
                             [&](int b) { return uint32_t(b) == out.bits; })) {
                std::string list;
                for (int b : schema::kGridBits) list += (list.empty() ? "" : ", ") + std::to_string(b);
                sc.fail(at(w, "bits"), "is not one of [" + list + "]");
            }
            sc.u32(sc.field(g, w, "array_size", true), at(w, "array_size"), 1, out.array_size);
            sc.one_of(sc.field(g, w, "packing", true), at(w, "packing"), schema::kGridPackings);
            const json::Value* dq = sc.field(g, w, "dequantize", true);
            std::string wd = at(w, "dequantize");
            if (sc.object(dq, wd)) {
                double scale = 0, offset = 0;
                if (sc.number(sc.field(*dq, wd, "scale", true), at(wd, "scale"), &scale) &&
                    !(std::isfinite(scale) && scale != 0))
                    sc.fail(at(wd, "scale"), "must be finite and non-zero");
                sc.number(sc.field(*dq, wd, "offset", true), at(wd, "offset"), &offset);
                // The manifest stores float32 values as the shortest decimal of the widened double.
                out.scale = float(scale);
                out.offset = float(offset);
            }
            t.grids.push_back(out);
        }
    }
    const json::Value* dec = sc.field(m, "", "decoder", true);
    if (sc.object(dec, "decoder")) {
        std::string file;
        if (sc.string(sc.field(*dec, "decoder", "file", true), "decoder/file", &file) &&
            !(matches_name(file, true) && ends_with(file, ".npz") && file.size() > 4))
            sc.fail("decoder/file", "does not match '^[A-Za-z0-9_.-]+\\.npz$'");
        std::string dtype;
        sc.one_of(sc.field(*dec, "decoder", "dtype", true), "decoder/dtype", schema::kDecoderDtypes, &dtype);
        const json::Value* qd = dec->find("quantized");
        if (dtype == "int8" && !qd && sc.ok()) sc.fail("decoder", "'quantized' is a required property");
        t.quantized = qd != nullptr;
        if (qd && sc.object(qd, "decoder/quantized")) check_quantized(sc, *qd, t.q);
        sc.one_of(sc.field(*dec, "decoder", "layout", true), "decoder/layout", schema::kDecoderLayouts);
        int64_t ins = 0, outs = 0;
        sc.integer(sc.field(*dec, "decoder", "inputs", true), "decoder/inputs", 1, &ins);
        sc.integer(sc.field(*dec, "decoder", "outputs", true), "decoder/outputs", 1, &outs);
        double slope = 0.01;
        if (const json::Value* ls = dec->find("leaky_slope")) sc.number(ls, "decoder/leaky_slope", &slope);
        t.leaky_slope = float(slope);
        if (const json::Value* io = dec->find("input_order"))
            if (sc.array(io, "decoder/input_order"))
                for (size_t k = 0; k < io->size(); ++k) sc.string(&io->items()[k], at("decoder/input_order", k));
        const json::Value* layers = sc.field(*dec, "decoder", "layers", true);
        if (sc.array(layers, "decoder/layers", 1)) {
            for (size_t i = 0; i < layers->size() && sc.ok(); ++i) {
                const json::Value& l = layers->items()[i];
                std::string w = at("decoder/layers", i);
                if (!sc.object(&l, w)) break;
                Layer out;
                sc.string(sc.field(l, w, "weight", true), at(w, "weight"), &out.weight_key);
                sc.string(sc.field(l, w, "bias", true), at(w, "bias"), &out.bias_key);
                sc.u32(sc.field(l, w, "inputs", true), at(w, "inputs"), 1, out.inputs);
                sc.u32(sc.field(l, w, "outputs", true), at(w, "outputs"), 1, out.outputs);
                std::string act;
                sc.one_of(sc.field(l, w, "activation", true), at(w, "activation"), schema::kActivations, &act);
                out.activation = activation_of(act);
                if (t.quantized) {
                    sc.string(sc.field(l, w, "multiplier", true), at(w, "multiplier"), &out.multiplier_key);
                    sc.string(sc.field(l, w, "shift", true), at(w, "shift"), &out.shift_key);
                    double os = 0;
                    if (sc.number(sc.field(l, w, "out_scale", true), at(w, "out_scale"), &os) &&
                        !(std::isfinite(os) && os != 0))
                        sc.fail(at(w, "out_scale"), "must be finite and non-zero");
                    out.out_scale = float(os);
                }
                t.layers.push_back(out);
            }
        }
    }
    const json::Value* enc = sc.field(m, "", "encoding", true);
    if (sc.object(enc, "encoding")) {
        std::string type;
        sc.one_of(sc.field(*enc, "encoding", "type", true), "encoding/type", schema::kEncodingTypes, &type);
        t.encoding.triangle = type == "triangle";
        for (const char* key : {"frequencies", "phases"}) {
            const json::Value* arr = enc->find(key);
            std::string w = at("encoding", key);
            if (!arr || !sc.array(arr, w)) continue;
            for (size_t k = 0; k < arr->size(); ++k) {
                double v = 0;
                if (!sc.number(&arr->items()[k], at(w, k), &v)) break;
                if (key[0] == 'f' && !(v > 0)) sc.fail(at(w, k), "should be greater than 0");
                (key[0] == 'f' ? t.encoding.frequencies : t.encoding.phases).push_back(v);
            }
        }
    }
    const json::Value* smp = sc.field(m, "", "sampler", true);
    if (sc.object(smp, "sampler")) {
        std::string filter, address;
        sc.one_of(sc.field(*smp, "sampler", "filter", true), "sampler/filter", schema::kSamplerFilters, &filter);
        sc.one_of(sc.field(*smp, "sampler", "address", true), "sampler/address", schema::kSamplerAddresses, &address);
        t.filter = filter == "nearest" ? FilterMode::Nearest : FilterMode::Bilinear;
        t.address = address == "clamp" ? AddressMode::Clamp : AddressMode::Wrap;
    }
    std::string mode;
    if (sc.one_of(sc.field(m, "", "decode_mode", true), "decode_mode", schema::kDecodeModes, &mode))
        parse_decode_mode(mode, t.decode_mode);
}

Status validate(const json::Value& m, const std::string& path) {
    if (!m.is_object()) return Status::fail(path, "manifest is not a JSON object");
    const json::Value* format = m.find("format");
    if (!format || !format->is_string() || format->as_string() != "ngasset")
        return Status::fail(path, "not an ngsdk manifest (field 'format' is not 'ngasset')");
    const json::Value* version = m.find("format_version");
    std::string v = version && version->is_string() ? version->as_string() : "?";
    size_t dot = v.find('.');
    auto digit = [](char c) { return c >= '0' && c <= '9'; };
    bool shaped = dot != std::string::npos && dot > 0 && dot + 1 < v.size() &&
                  std::all_of(v.begin(), v.begin() + long(dot), digit) &&
                  std::all_of(v.begin() + long(dot) + 1, v.end(), digit);
    if (!shaped) return Status::fail(path, "format_version '" + v + "' is not MAJOR.MINOR");
    std::string major = v.substr(0, dot);
    while (major.size() > 1 && major[0] == '0') major.erase(0, 1);
    // The major versions each kind reads (its codec's READABLE_MAJORS, generated into manifest_schema.h).
    const json::Value* kind_v = m.find("kind");
    const std::string kind_name = kind_v && kind_v->is_string() ? kind_v->as_string() : "";
    const schema::KindVersions* known = nullptr;
    for (const schema::KindVersions& k : schema::kKinds)
        if (kind_name == k.kind) known = &k;
    if (known) {
        const long number = major.size() > 9 ? -1 : std::stol(major);
        if (std::none_of(known->majors, known->majors + known->count, [&](int x) { return x == number; })) {
            std::string readable;
            for (int i = 0; i < known->count; ++i)
                readable += (i ? " and " : "") + std::to_string(known->majors[i]) + ".x";
            const bool newer = number < 0 || number > known->majors[known->count - 1];
            return Status::fail(path, "unknown format version " + v + " (this ngsdk reads " + readable + " " +
                                          kind_name + " bundles; " + (newer ? "upgrade ngsdk" : "re-export the asset") +
                                          ")");
        }
    }
    Schema sc(path);
    check_common(sc, m);
    NGSDK_TRY(sc.status());
    if (!known) return Status::fail(path, "unknown asset kind '" + kind_name + "'");
    if (kind_name != "neural_texture")
        return Status::fail(path, "a " + kind_name + " bundle: this loader reads neural_texture bundles");
    NeuralTexture scratch;
    check_neural_texture(sc, m, scratch);
    return sc.status();
}

std::vector<std::string> referenced_files(const json::Value& m) {
    std::vector<std::string> refs;
    if (const json::Value* grids = m.find("grids"))
        for (const json::Value& g : grids->items())
            if (const json::Value* f = g.find("file")) refs.push_back(f->as_string());
    if (const json::Value* d = m.find("decoder"))
        if (const json::Value* f = d->find("file")) refs.push_back(f->as_string());
    if (const json::Value* w = m.find("weights"))
        if (const json::Value* f = w->find("file"))
            if (f->is_string()) refs.push_back(f->as_string());
    if (const json::Value* exports = m.find("exports"))
        for (const json::Value& e : exports->items())
            if (const json::Value* files = e.find("files"))
                for (const json::Value& f : files->items()) {
                    const std::string& s = f.as_string();
                    refs.push_back(s.substr(0, s.find('/')));
                }
    return refs;
}

// Whether `name` is a grid or the decoder file (what a decode needs), as opposed to a graph export.
bool is_core_file(const json::Value& m, const std::string& name) {
    if (const json::Value* grids = m.find("grids"))
        for (const json::Value& g : grids->items())
            if (const json::Value* f = g.find("file"))
                if (f->is_string() && f->as_string() == name) return true;
    if (const json::Value* d = m.find("decoder"))
        if (const json::Value* f = d->find("file"))
            if (f->is_string() && f->as_string() == name) return true;
    return false;
}

std::string short_hex(const std::string& h) { return h.substr(0, 12) + "..."; }

// Where bundle files come from: a folder on disk, or bytes in memory (an engine asset that keeps
// the bundle's files). Names are plain file names inside the bundle.
class Source {
public:
    virtual ~Source() = default;
    virtual std::string path(const std::string& name) const = 0;  // for messages
    // exists: present at all; is_dir: a package folder (folder sources only).
    virtual void stat(const std::string& name, bool& exists, bool& is_dir, uint64_t& size) const = 0;
    virtual Status read(const std::string& name, std::vector<uint8_t>& out, uint64_t max_bytes) const = 0;
    virtual Status digest(const std::string& name, bool is_dir, std::string& hex, uint64_t& size) const = 0;
    virtual bool listed_files_required() const = 0;
    // A folder source: the file's real path lies inside the bundle and is a regular file or a folder.
    virtual Status place(const std::string&) const { return Status::ok(); }
    // A folder source: every entry of the bundle is listed in files (or is manifest.json).
    virtual Status unlisted(const json::Value&) const { return Status::ok(); }
};

class FolderSource : public Source {
public:
    explicit FolderSource(std::string dir) : dir_(std::move(dir)) {}
    std::string path(const std::string& name) const override { return join(dir_, name); }
    void stat(const std::string& name, bool& exists, bool& is_dir, uint64_t& size) const override {
        std::error_code ec;
        fs::file_status st = fs::status(path(name), ec);
        exists = !ec && fs::exists(st);
        is_dir = exists && fs::is_directory(st);
        size = 0;
        if (exists && !is_dir) {
            size = fs::file_size(path(name), ec);
            if (ec) size = UINT64_MAX;
        }
    }
    Status read(const std::string& name, std::vector<uint8_t>& out, uint64_t max_bytes) const override {
        return read_file(path(name), out, max_bytes);
    }
    Status digest(const std::string& name, bool is_dir, std::string& hex, uint64_t& size) const override {
        return is_dir ? sha256_tree(path(name), hex, size) : sha256_file(path(name), hex, size);
    }
    bool listed_files_required() const override { return true; }
    Status place(const std::string& name) const override {
        // docs/security.md: resolve symlinks and compare real paths; only regular files and folders inside
        std::error_code ec;
        const fs::path root = fs::canonical(dir_, ec);
        if (ec) return Status::fail(dir_, "cannot resolve the bundle folder: " + ec.message());
        const fs::path p = path(name);
        if (!fs::exists(fs::symlink_status(p, ec))) return Status::ok();  // the caller reports it missing
        const fs::path real = fs::weakly_canonical(p, ec);
        if (ec) return Status::fail(p.string(), "cannot resolve its path: " + ec.message());
        const fs::path rel = real.lexically_relative(root);
        if (rel.empty() || *rel.begin() == ".." || rel == ".")
            return Status::fail(p.string(), "resolves to " + real.string() + ", outside the bundle (a symlink out is not read)");
        fs::file_status st = fs::status(real, ec);
        if (ec || !(fs::is_regular_file(st) || fs::is_directory(st)))
            return Status::fail(p.string(), "is not a regular file or a folder (a FIFO, device or socket is not read)");
        return Status::ok();
    }
    Status unlisted(const json::Value& files) const override {
        std::error_code ec;
        for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
            const std::string name = it->path().filename().string();
            if (name != "manifest.json" && !files.find(name))
                return Status::fail(it->path().string(), "not listed in manifest.json; a bundle holds only listed files");
        }
        if (ec) return Status::fail(dir_, "cannot list the bundle folder: " + ec.message());
        return Status::ok();
    }

private:
    std::string dir_;
};

class MemorySource : public Source {
public:
    MemorySource(std::string label, const std::map<std::string, std::vector<uint8_t>>& files)
        : label_(std::move(label)), files_(files) {}
    std::string path(const std::string& name) const override { return join(label_, name); }
    void stat(const std::string& name, bool& exists, bool& is_dir, uint64_t& size) const override {
        auto it = files_.find(name);
        exists = it != files_.end();
        is_dir = false;
        size = exists ? it->second.size() : 0;
    }
    Status read(const std::string& name, std::vector<uint8_t>& out, uint64_t max_bytes) const override {
        auto it = files_.find(name);
        if (it == files_.end()) return Status::fail(path(name), "file not found");
        if (it->second.size() > max_bytes)
            return Status::fail(path(name), "file is larger than " + std::to_string(max_bytes) + " bytes");
        out = it->second;
        return Status::ok();
    }
    Status digest(const std::string& name, bool, std::string& hex, uint64_t& size) const override {
        const std::vector<uint8_t>& b = files_.at(name);
        hex = sha256_hex(b.data(), b.size());
        size = b.size();
        return Status::ok();
    }
    // Graph exports need not travel with an engine asset; the grids and the decoder must.
    bool listed_files_required() const override { return false; }

private:
    std::string label_;
    const std::map<std::string, std::vector<uint8_t>>& files_;
};

Status verify_files(const Source& src, const json::Value& m, const LoadOptions& options) {
    const std::string manifest_path = src.path("manifest.json");
    const json::Value& files = *m.find("files");
    const std::vector<std::string> refs = referenced_files(m);
    for (const auto& kv : files.members()) {
        const std::string& name = kv.first;
        if (name.empty() || name.find('/') != std::string::npos || name.find('\\') != std::string::npos ||
            name[0] == '.' || name.find('\0') != std::string::npos)
            return Status::fail(manifest_path, "file name '" + name + "' is not a plain name inside the bundle");
        const std::string p = src.path(name);
        const std::string& want_sha = kv.second.find("sha256")->as_string();
        uint64_t want_bytes = uint64_t(kv.second.find("bytes")->as_int());
        NGSDK_TRY(src.place(name));
        bool exists = false, is_dir = false;
        uint64_t size = 0;
        src.stat(name, exists, is_dir, size);
        if (!exists) {
            // A memory source may leave out graph exports; grids and the decoder are always needed.
            if (src.listed_files_required() || is_core_file(m, name)) return Status::fail(p, "missing (listed in manifest.json)");
            continue;
        }
        if (is_dir) {
            std::string digest;
            NGSDK_TRY(src.digest(name, true, digest, size));
            if (digest != want_sha || size != want_bytes)
                return Status::fail(p, "package contents differ from manifest.json (sha256 over its files)");
            continue;
        }
        if (size == UINT64_MAX) return Status::fail(p, "cannot read file size");
        if (size != want_bytes)
            return Status::fail(p, "size is " + std::to_string(size) + " bytes, manifest.json says " +
                                       std::to_string(want_bytes) + " (truncated or replaced)");
        if (options.verify_checksums) {
            std::string digest;
            NGSDK_TRY(src.digest(name, false, digest, size));
            if (digest != want_sha)
                return Status::fail(p, "sha256 mismatch (file is " + short_hex(digest) + ", manifest says " +
                                           short_hex(want_sha) + ")");
        }
    }
    for (const std::string& ref : refs)
        if (!files.find(ref)) return Status::fail(manifest_path, ref + " is used but not listed under 'files'");
    return src.unlisted(files);
}

Status load_grid(const Source& src, Grid& g) {
    const std::string path = src.path(g.file);
    DdsTexture tex;
    {
        std::vector<uint8_t> bytes;
        NGSDK_TRY(src.read(g.file, bytes, uint64_t(1) << 32));
        NGSDK_TRY(decode_dds(bytes.data(), bytes.size(), path, tex));
    }
    if (std::string(tex.format->name) != schema::kGridDxgiFormats[0] || tex.dimension != Dimension::Tex2D || tex.cube)
        return Status::fail(path, std::string("is ") + tex.format->name + (tex.dimension == Dimension::Tex2D ? " 2d" : " 3d") +
                                      (tex.cube ? " cube" : "") + ", manifest says R8G8B8A8_UNORM 2d");
    if (tex.width != g.width || tex.height != g.height || tex.mip_count() != g.levels || tex.array_size != g.array_size)
        return Status::fail(path, "shape mismatch: DDS is " + std::to_string(tex.width) + "x" + std::to_string(tex.height) +
                                      " with " + std::to_string(tex.mip_count()) + " mips and " +
                                      std::to_string(tex.array_size) + " slices, manifest says " +
                                      std::to_string(g.width) + "x" + std::to_string(g.height) + " with " +
                                      std::to_string(g.levels) + " mips and " + std::to_string(g.array_size) + " slices");
    const uint32_t per_byte = 8 / g.bits;
    if (packed_slices(g.features, g.bits) != g.array_size)
        return Status::fail(path, std::to_string(g.features) + " codes of " + std::to_string(g.bits) + " bits need " +
                                      std::to_string(packed_slices(g.features, g.bits)) + " RGBA8 slices, file has " +
                                      std::to_string(g.array_size));
    const uint32_t mask = (1u << g.bits) - 1;
    g.codes.resize(g.levels);
    g.texels = std::move(tex.mips);
    for (uint32_t l = 0; l < g.levels; ++l) {
        const uint32_t w = g.level_width(l), h = g.level_height(l);
        const std::vector<uint8_t>& texels = g.texels[l];
        std::vector<uint8_t>& codes = g.codes[l];
        codes.assign(size_t(w) * h * g.features, 0);
        for (uint32_t y = 0; y < h; ++y)
            for (uint32_t x = 0; x < w; ++x) {
                uint8_t* c = codes.data() + (size_t(y) * w + x) * g.features;
                for (uint32_t k = 0; k < g.array_size * 4; ++k) {
                    uint32_t slice = k / 4, comp = k % 4;
                    uint8_t byte = texels[((size_t(slice) * h + y) * w + x) * 4 + comp];
                    uint32_t used = 0;  // bits of this byte that hold codes
                    for (uint32_t j = 0; j < per_byte; ++j) {
                        uint32_t f = k * per_byte + j;
                        if (f >= g.features) break;
                        c[f] = uint8_t((byte >> (j * g.bits)) & mask);
                        used |= mask << (j * g.bits);
                    }
                    if (byte & ~used & 0xFFu)
                        return Status::fail(path, "mip " + std::to_string(l) + " has bits set outside the " +
                                                      std::to_string(g.features) + " packed " + std::to_string(g.bits) +
                                                      "-bit codes");
                }
            }
    }
    return Status::ok();
}

std::string shape_str(const std::vector<uint64_t>& s) {
    std::string out = "(";
    for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
    return out + (s.size() == 1 ? ",)" : ")");
}

bool to_i32(const NpyArray& a, std::vector<int32_t>& out) {
    if (a.descr != "<i4" || a.fortran_order) return false;
    out.resize(a.data.size() / 4);
    for (size_t i = 0; i < out.size(); ++i) {
        const uint8_t* p = a.data.data() + 4 * i;
        out[i] = int32_t(uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24);
    }
    return true;
}

bool to_i8(const NpyArray& a, std::vector<int8_t>& out) {
    if ((a.descr != "|i1" && a.descr != "<i1") || a.fortran_order) return false;
    out.resize(a.data.size());
    for (size_t i = 0; i < out.size(); ++i) out[i] = int8_t(a.data[i]);
    return true;
}

Status load_decoder(const Source& src, const std::string& file, NeuralTexture& t) {
    const std::string path = src.path(file);
    std::map<std::string, NpyArray> arrays;
    {
        std::vector<uint8_t> bytes;
        NGSDK_TRY(src.read(file, bytes, uint64_t(1) << 32));
        NGSDK_TRY(read_npz_bytes(bytes.data(), bytes.size(), path, arrays));
    }
    struct Want {
        std::vector<uint64_t> shape;
        std::string descr, dtype_name;
    };
    std::map<std::string, Want> expected;
    std::vector<std::string> order;
    auto want = [&](const std::string& key, std::vector<uint64_t> shape, const char* descr, const char* name) {
        if (!expected.count(key)) order.push_back(key);
        expected[key] = {std::move(shape), descr, name};
    };
    for (const Layer& l : t.layers) {
        if (t.quantized) {
            want(l.weight_key, {l.outputs, l.inputs}, "|i1", "int8");
            want(l.bias_key, {l.outputs}, "<i4", "int32");
            want(l.multiplier_key, {l.outputs}, "<i4", "int32");
            want(l.shift_key, {l.outputs}, "<i4", "int32");
        } else {
            want(l.weight_key, {l.outputs, l.inputs}, "<f4", "float32");
            want(l.bias_key, {l.outputs}, "<f4", "float32");
        }
    }
    auto names = [](const std::map<std::string, NpyArray>& a) {
        std::string s;
        for (const auto& kv : a) s += (s.empty() ? "" : ", ") + kv.first;
        return s.empty() ? std::string("none") : s;
    };
    for (const std::string& key : order) {
        auto it = arrays.find(key);
        const Want& wnt = expected[key];
        if (it == arrays.end()) return Status::fail(path, "missing array '" + key + "' (found: " + names(arrays) + ")");
        std::string descr = it->second.descr;
        if (descr == "<i1") descr = "|i1";
        if (descr != wnt.descr)
            return Status::fail(path, "array '" + key + "' has dtype " + it->second.descr + ", expected " + wnt.dtype_name);
        if (it->second.shape != wnt.shape)
            return Status::fail(path, "array '" + key + "' has shape " + shape_str(it->second.shape) + ", expected " +
                                          shape_str(wnt.shape));
    }
    std::string extra;
    for (const auto& kv : arrays)
        if (!expected.count(kv.first)) extra += (extra.empty() ? "" : ", ") + kv.first;
    if (!extra.empty()) {
        std::string all;
        for (const auto& kv : expected) all += (all.empty() ? "" : ", ") + kv.first;
        return Status::fail(path, "unexpected arrays " + extra + " (expected only: " + all + ")");
    }
    for (Layer& l : t.layers) {
        if (t.quantized) {
            // Fortran-ordered integer arrays: transpose through the float path's index logic.
            const NpyArray& wa = arrays[l.weight_key];
            if (wa.fortran_order && wa.shape.size() == 2) {
                l.qweight.resize(wa.data.size());
                for (uint64_t j = 0; j < wa.shape[0]; ++j)
                    for (uint64_t k = 0; k < wa.shape[1]; ++k)
                        l.qweight[size_t(j * wa.shape[1] + k)] = int8_t(wa.data[size_t(k * wa.shape[0] + j)]);
            } else {
                to_i8(wa, l.qweight);
            }
            to_i32(arrays[l.bias_key], l.qbias);
            to_i32(arrays[l.multiplier_key], l.multiplier);
            to_i32(arrays[l.shift_key], l.shift);
        } else {
            arrays[l.weight_key].to_f32(l.weight);
            arrays[l.bias_key].to_f32(l.bias);
        }
    }
    return Status::ok();
}

// The real-valued view of an integer decoder, as QuantizedDecoder.float_layers computes it in
// float64: W_real = (W * (m_j * out_scale)) / in_scale_k with m_j = multiplier_j / 2^shift_j.
void float_view(NeuralTexture& t) {
    std::vector<double> in_scale(t.q.input_scales.begin(), t.q.input_scales.end());
    for (Layer& l : t.layers) {
        l.weight.assign(size_t(l.outputs) * l.inputs, 0.f);
        l.bias.assign(l.outputs, 0.f);
        for (uint32_t j = 0; j < l.outputs; ++j) {
            const double m = double(l.multiplier[j]) / std::ldexp(1.0, l.shift[j]);
            const double step = m * double(l.out_scale);
            for (uint32_t k = 0; k < l.inputs; ++k) {
                const double wv = double(l.qweight[size_t(j) * l.inputs + k]) * step;
                l.weight[size_t(j) * l.inputs + k] = float(wv / in_scale[k]);
            }
            l.bias[j] = float(double(l.qbias[j]) * step);
        }
        in_scale.assign(l.outputs, double(l.out_scale));
    }
}

// IntLayer / QuantizedDecoder checks (ngsdk.asset.types).
Status check_integer_decoder(const NeuralTexture& t, const std::string& manifest_path) {
    auto bad = [&](const std::string& why) { return Status::fail(manifest_path, "inconsistent with manifest.json: " + why); };
    int64_t xmax = 127;
    for (size_t i = 0; i < t.layers.size(); ++i) {
        const Layer& l = t.layers[i];
        const std::string name = "quantized decoder layer " + std::to_string(i) + ": ";
        bool last = i + 1 == t.layers.size();
        if (l.activation != (last ? Activation::Clamp01 : Activation::Relu))
            return bad("quantized decoder: hidden layers are relu, the output layer clamp01");
        for (int8_t w : l.qweight)
            if (w < -127) return bad(name + "weight must be 2-D integers in [-127, 127]");
        for (uint32_t j = 0; j < l.outputs; ++j) {
            if (l.shift[j] < 1 || l.shift[j] > 30 || l.multiplier[j] < 0)
                return bad(name + "shifts must lie in [1, 30] and multipliers be non-negative");
            // |acc| bound * multiplier + 2^(shift-1) must fit int32 (the shaders' arithmetic).
            int64_t bound = l.qbias[j] < 0 ? -int64_t(l.qbias[j]) : int64_t(l.qbias[j]);
            for (uint32_t k = 0; k < l.inputs; ++k) {
                int64_t w = l.qweight[size_t(j) * l.inputs + k];
                bound += (w < 0 ? -w : w) * xmax;
            }
            int64_t top = bound * int64_t(l.multiplier[j]) + (int64_t(1) << (l.shift[j] - 1));
            if (bound >= (int64_t(1) << 31) || top >= (int64_t(1) << 31))
                return bad(name + "channel " + std::to_string(j) + " can overflow int32");
        }
        xmax = 255;
    }
    if (t.q.period_log2.size() != t.q.phase.size()) return bad("quantized decoder: period_log2 and phase differ in length");
    for (size_t i = 0; i < t.q.period_log2.size(); ++i) {
        int32_t s = t.q.period_log2[i], p = t.q.phase[i];
        if (s < -7 || s > 15 || p < 0 || p >= (int32_t(1) << (8 + s)))
            return bad("quantized decoder: encoding term (period_log2 " + std::to_string(s) + ", phase " +
                       std::to_string(p) + ") out of range");
    }
    if (t.q.input_scales.size() != t.inputs())
        return bad("quantized decoder: " + std::to_string(t.q.input_scales.size()) + " input scales for " +
                   std::to_string(t.inputs()) + " inputs");
    if (t.encoding.triangle && 2 * t.q.period_log2.size() != t.encoding.features())
        return bad("quantized decoder has " + std::to_string(t.q.period_log2.size()) + " encoding terms, encoding gives " +
                   std::to_string(t.encoding.features() / 2));
    if (!t.encoding.triangle && !t.q.period_log2.empty())
        return bad("quantized decoder has encoding terms but the encoding is 'none'");
    // one shift per latent tap (1.x: per grid, which is the same list)
    const std::vector<Tap>& taps = t.taps.front();
    if (t.q.latent_shift.size() != taps.size())
        return bad("decoder.quantized.latent_shift has " + std::to_string(t.q.latent_shift.size()) + " entries for " +
                   std::to_string(taps.size()) + " latent taps");
    for (size_t k = 0; k < taps.size(); ++k)
        if (t.q.latent_shift[k] != int32_t(t.grids[taps[k].grid].bits) + 9)
            return bad("decoder.quantized.latent_shift[" + std::to_string(k) + "] is not the bits of tap " +
                       std::to_string(k) + "'s grid + 9");
    return Status::ok();
}

// The consistency checks of ngsdk.asset.types (NeuralTextureAsset, Decoder) and
// neural_texture_from_manifest.
Status check_consistency(const NeuralTexture& t, const std::string& manifest_path) {
    auto bad = [&](const std::string& why) { return Status::fail(manifest_path, "inconsistent with manifest.json: " + why); };
    if (t.taps.size() != t.mip_levels)
        return bad("texture has latent inputs for " + std::to_string(t.taps.size()) + " mips, mip_levels says " +
                   std::to_string(t.mip_levels));
    for (size_t m = 0; m < t.taps.size(); ++m) {
        if (t.taps[m].empty()) return bad("mip " + std::to_string(m) + ": no latent taps");
        for (const Tap& tap : t.taps[m])
            if (tap.grid >= t.grids.size() || tap.level >= t.grids[tap.grid].levels)
                return bad("mip " + std::to_string(m) + ": latent tap (grid " + std::to_string(tap.grid) + ", level " +
                           std::to_string(tap.level) + ") does not exist");
        bool same = t.taps[m].size() == t.taps[0].size();
        for (size_t k = 0; same && k < t.taps[m].size(); ++k) same = t.taps[m][k].grid == t.taps[0][k].grid;
        // every mip feeds the same decoder inputs
        if (!same) return bad("mip " + std::to_string(m) + ": taps read other grids than mip 0's");
    }
    for (size_t i = 0; i + 1 < t.layers.size(); ++i)
        if (t.layers[i].outputs != t.layers[i + 1].inputs)
            return bad("decoder: layer outputs " + std::to_string(t.layers[i].outputs) + " do not feed next layer inputs " +
                       std::to_string(t.layers[i + 1].inputs));
    uint64_t expect_in = t.encoding.features() + (t.has_lod() ? 1 : 0);
    for (const Tap& tap : t.taps.front()) expect_in += t.grids[tap.grid].features;
    if (t.inputs() != expect_in)
        return bad("decoder takes " + std::to_string(t.inputs()) + " inputs, taps+encoding+LOD give " +
                   std::to_string(expect_in));
    if (t.outputs() != t.channels.size())
        return bad("decoder gives " + std::to_string(t.outputs()) + " outputs for " + std::to_string(t.channels.size()) +
                   " channels");
    const json::Value* dec = t.manifest.find("decoder");
    if (uint64_t(dec->find("inputs")->as_int()) != t.inputs() || uint64_t(dec->find("outputs")->as_int()) != t.outputs())
        return bad("decoder.inputs/outputs disagree with its layers");
    if ((t.decode_mode == DecodeMode::Float) == t.quantized)
        return bad(std::string("decode mode '") + to_string(t.decode_mode) + "' needs " +
                   (t.decode_mode == DecodeMode::Float ? "a float" : "an integer (quantized)") + " decoder");
    if (t.quantized) NGSDK_TRY(check_integer_decoder(t, manifest_path));
    if (t.decode_mode == DecodeMode::Hardware) {
        for (const Grid& g : t.grids)
            if (g.bits != 8) return bad("hardware decode mode samples latents with the texture filter: grids need 8-bit codes");
        if (t.has_lod()) return bad("hardware decode mode: no LOD input (one sampler LOD addresses every grid)");
        if (!hardware_layout(t))
            return bad("hardware decode mode: every mip must read level min(mip, last) of every grid once, in grid "
                       "order");
    }
    std::set<std::string> names;
    for (const Grid& g : t.grids)
        if (!names.insert(g.name).second) return bad("two grids are named '" + g.name + "'");
    return Status::ok();
}

}  // namespace

Status sha256_file(const std::string& path, std::string& hex, uint64_t& size) {
    {   // only regular files are hashed: a FIFO or a device would never end (docs/security.md)
        std::error_code ec;
        fs::file_status st = fs::status(path, ec);
        if (ec || !fs::is_regular_file(st))
            return Status::fail(path, fs::is_directory(st) ? "is a folder, expected a regular file"
                                                           : "is not a regular file (a FIFO, device or socket is not read)");
    }
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return Status::fail(path, std::string("cannot read file: ") + std::strerror(errno));
    Sha256 h;
    size = 0;
    std::vector<uint8_t> buf(1 << 20);
    for (;;) {
        size_t n = std::fread(buf.data(), 1, buf.size(), f);
        if (n == 0) break;
        h.update(buf.data(), n);
        size += n;
    }
    bool bad = std::ferror(f) != 0;
    std::fclose(f);
    if (bad) return Status::fail(path, "cannot read file: I/O error");
    hex = h.hex();
    return Status::ok();
}

Status sha256_tree(const std::string& path, std::string& hex, uint64_t& size) {
    // The folder digest of docs/asset-format.md ("Folder digest"), as ngsdk.asset.digest.sha256_tree:
    // sha256 over one "<relpath> <sha256 of the file>\n" line per regular file, relpath with '/'
    // separators, files sorted by their path parts (Python's pathlib order), size = sum of file sizes.
    std::vector<std::pair<std::vector<std::string>, fs::path>> files;
    std::error_code ec;
    for (fs::recursive_directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
        std::error_code e2;
        if (it->is_symlink(e2))
            return Status::fail(it->path().string(), "symlink inside a package folder (only regular files and folders are read)");
        if (it->is_directory(e2)) continue;
        if (!it->is_regular_file(e2))
            return Status::fail(it->path().string(), "not a regular file or folder (a FIFO, device or socket is not read)");
        fs::path rel = it->path().lexically_relative(path);
        std::vector<std::string> parts;
        for (const fs::path& p : rel) parts.push_back(p.generic_string());
        files.emplace_back(parts, it->path());
    }
    if (ec) return Status::fail(path, "cannot list folder: " + ec.message());
    std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    Sha256 h;
    size = 0;
    for (const auto& entry : files) {
        std::string rel;
        for (const std::string& part : entry.first) rel += (rel.empty() ? "" : "/") + part;
        // a line break in a name would make two different folders hash the same lines
        if (rel.find('\n') != std::string::npos || rel.find('\r') != std::string::npos)
            return Status::fail(entry.second.string(), "file name contains a line break");
        std::string file_hex;
        uint64_t file_size = 0;
        NGSDK_TRY(sha256_file(entry.second.string(), file_hex, file_size));
        const std::string line = rel + " " + file_hex + "\n";
        h.update(line.data(), line.size());
        size += file_size;
    }
    hex = h.hex();
    return Status::ok();
}

namespace {

Status parse_manifest(const Source& src, json::Value& out, bool check_files, const LoadOptions& options) {
    const std::string path = src.path("manifest.json");
    std::vector<uint8_t> bytes;
    bool exists = false, is_dir = false;
    uint64_t size = 0;
    src.stat("manifest.json", exists, is_dir, size);
    if (!exists) return Status::fail(path, "missing (every bundle has a manifest.json)");
    NGSDK_TRY(src.place("manifest.json"));
    NGSDK_TRY(src.read("manifest.json", bytes, 16u << 20));  // docs/security.md: MAX_MANIFEST_BYTES
    std::string text(bytes.begin(), bytes.end());
    std::string error;
    if (!json::parse(text, out, error)) return Status::fail(path, "not valid JSON: " + error);
    NGSDK_TRY(validate(out, path));
    if (check_files) NGSDK_TRY(verify_files(src, out, options));
    return Status::ok();
}

Status load_from(const Source& src, const std::string& label, NeuralTexture& out, const LoadOptions& options) {
    out = NeuralTexture();
    json::Value manifest;
    NGSDK_TRY(parse_manifest(src, manifest, true, options));
    const std::string manifest_path = src.path("manifest.json");
    Schema sc(manifest_path);
    NeuralTexture t;
    check_neural_texture(sc, manifest, t);
    NGSDK_TRY(sc.status());
    t.bundle_path = label;
    t.manifest = manifest;
    t.name = manifest.find("name")->as_string();
    t.format_version = manifest.find("format_version")->as_string();
    if (const json::Value* rd = manifest.find("provenance")->find("reference_decode"))
        for (const auto& kv : rd->members()) t.reference_decode[kv.first] = kv.second.as_string();
    for (Grid& g : t.grids) NGSDK_TRY(load_grid(src, g));
    NGSDK_TRY(load_decoder(src, manifest.find("decoder")->find("file")->as_string(), t));
    NGSDK_TRY(check_consistency(t, manifest_path));
    if (t.quantized) float_view(t);
    out = std::move(t);
    return Status::ok();
}

Status check_folder(const std::string& bundle) {
    std::error_code ec;
    if (!fs::exists(bundle, ec)) return Status::fail(bundle, "bundle folder does not exist");
    if (!fs::is_directory(bundle, ec)) return Status::fail(bundle, "not a folder");
    return Status::ok();
}

}  // namespace

Status read_manifest(const std::string& bundle, json::Value& out, bool check_files, const LoadOptions& options) {
    NGSDK_TRY(check_folder(bundle));
    return parse_manifest(FolderSource(bundle), out, check_files, options);
}

Status load_neural_texture(const std::string& bundle, NeuralTexture& out, const LoadOptions& options) {
    out = NeuralTexture();
    NGSDK_TRY(check_folder(bundle));
    return load_from(FolderSource(bundle), bundle, out, options);
}

Status load_neural_texture_from_memory(const std::string& label, const std::map<std::string, std::vector<uint8_t>>& files,
                                       NeuralTexture& out, const LoadOptions& options) {
    return load_from(MemorySource(label, files), label, out, options);
}

}  // namespace ngsdk
