// ngsdk_decode: load an .ngasset bundle with the C++ loader, decode mips on the CPU, report each
// mip's sha256 against the trainer's reference decode, and optionally write a raw dump (float32
// little-endian for the float mode, UNORM8 bytes for the exact mode) and a PNG preview.
//
//   ngsdk_decode BUNDLE [--mip M | --all] [--mode bundle|float|exact] [--raw FILE] [--raw-dir DIR]
//                [--raw-dir DIR] [--png FILE] [--check-reference] [--no-checksums] [--threads N] [--info]
// --raw-dir writes DIR/mip{M}.bin for every decoded mip. --params FILE writes the shaders' int32
// parameter array (little-endian) for the bundle's mode and exits.
// Exit status: 0 ok, 1 the bundle was refused or cannot be decoded, 2 usage, 3 reference mismatch.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "ngsdk/bundle.h"
#include "ngsdk/decode.h"
#include "ngsdk/image.h"
#include "ngsdk/shader_params.h"

namespace {

int usage(const char* why) {
    std::fprintf(stderr,
                 "%s\nusage: ngsdk_decode BUNDLE [--mip M | --all] [--mode bundle|float|exact] [--raw FILE] "
                 "[--raw-dir DIR] [--png FILE] [--check-reference] [--no-checksums] [--threads N] [--info]\n",
                 why);
    return 2;
}

bool parse_uint(const char* s, uint32_t& out) {
    char* end = nullptr;
    unsigned long v = std::strtoul(s, &end, 10);
    if (!*s || *end || v > 0xFFFFFFFFul) return false;
    out = uint32_t(v);
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    std::string bundle, raw, raw_dir, png, params, mode_name = "bundle";
    uint32_t mip = 0, threads = 0;
    bool all = false, check_ref = false, info = false;
    ngsdk::LoadOptions load;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto next = [&](const char* what) -> const char* {
            if (i + 1 >= argc) return nullptr;
            (void)what;
            return argv[++i];
        };
        if (a == "--mip") {
            const char* v = next("--mip");
            if (!v || !parse_uint(v, mip)) return usage("--mip needs a non-negative integer");
        } else if (a == "--all") {
            all = true;
        } else if (a == "--mode") {
            const char* v = next("--mode");
            if (!v) return usage("--mode needs a value");
            mode_name = v;
        } else if (a == "--raw") {
            const char* v = next("--raw");
            if (!v) return usage("--raw needs a file");
            raw = v;
        } else if (a == "--raw-dir") {
            const char* v = next("--raw-dir");
            if (!v) return usage("--raw-dir needs a folder");
            raw_dir = v;
        } else if (a == "--params") {
            const char* v = next("--params");
            if (!v) return usage("--params needs a file");
            params = v;
        } else if (a == "--png") {
            const char* v = next("--png");
            if (!v) return usage("--png needs a file");
            png = v;
        } else if (a == "--threads") {
            const char* v = next("--threads");
            if (!v || !parse_uint(v, threads)) return usage("--threads needs an integer");
        } else if (a == "--check-reference") {
            check_ref = true;
        } else if (a == "--no-checksums") {
            load.verify_checksums = false;
        } else if (a == "--info") {
            info = true;
        } else if (a == "-h" || a == "--help") {
            usage("decode an ngsdk bundle on the CPU");
            return 0;
        } else if (!a.empty() && a[0] == '-') {
            return usage(("unknown option " + a).c_str());
        } else if (bundle.empty()) {
            bundle = a;
        } else {
            return usage("only one BUNDLE");
        }
    }
    if (bundle.empty()) return usage("missing BUNDLE");
    if (all && (!raw.empty() || !png.empty())) return usage("--raw/--png need a single --mip");

    ngsdk::NeuralTexture tex;
    auto t0 = std::chrono::steady_clock::now();
    ngsdk::Status s = ngsdk::load_neural_texture(bundle, tex, load);
    auto t1 = std::chrono::steady_clock::now();
    if (!s) {
        std::fprintf(stderr, "error: %s\n", s.what().c_str());
        return 1;
    }
    ngsdk::DecodeMode mode = tex.decode_mode;
    if (mode_name != "bundle" && !ngsdk::parse_decode_mode(mode_name, mode))
        return usage("--mode is bundle, float or exact");
    if (info) {
        std::printf("bundle %s: %s %ux%u, %u mips, %zu channels, %zu grids, %zu layers, decode_mode %s, load %.1f ms\n",
                    bundle.c_str(), tex.name.c_str(), tex.width, tex.height, tex.mip_levels, tex.channels.size(),
                    tex.grids.size(), tex.layers.size(), ngsdk::to_string(tex.decode_mode),
                    std::chrono::duration<double, std::milli>(t1 - t0).count());
    }
    if (!params.empty()) {
        std::vector<int32_t> blob;
        s = ngsdk::shader_params(tex, mode == ngsdk::DecodeMode::Float ? tex.decode_mode : mode, blob);
        if (s) {
            std::vector<uint8_t> bytes(blob.size() * 4);
            for (size_t i = 0; i < blob.size(); ++i)
                for (int k = 0; k < 4; ++k) bytes[4 * i + size_t(k)] = uint8_t(uint32_t(blob[i]) >> (8 * k));
            s = ngsdk::write_file_atomic(params, bytes.data(), bytes.size());
        }
        if (!s) {
            std::fprintf(stderr, "error: %s\n", s.what().c_str());
            return 1;
        }
        std::printf("wrote %zu shader parameters to %s\n", blob.size(), params.c_str());
        return 0;
    }
    ngsdk::DecodeOptions dopt;
    dopt.threads = int(threads);
    int rc = 0;
    std::string ref_problem;  // the first --check-reference failure, for the one error line
    uint32_t first = all ? 0 : mip, last = all ? tex.mip_levels : mip + 1;
    for (uint32_t m = first; m < last; ++m) {
        ngsdk::DecodedMip out;
        auto a = std::chrono::steady_clock::now();
        s = ngsdk::decode_mip(tex, m, mode, out, dopt);
        auto b = std::chrono::steady_clock::now();
        if (!s) {
            std::fprintf(stderr, "error: %s\n", s.what().c_str());
            return 1;
        }
        std::string hash = out.hash();
        std::string verdict = "no reference";
        auto ref = tex.reference_decode.find("mip" + std::to_string(m));
        if (mode != tex.decode_mode) {
            verdict = "reference is for mode " + std::string(ngsdk::to_string(tex.decode_mode));
        } else if (ref != tex.reference_decode.end()) {
            verdict = ref->second == hash ? "matches reference" : "DIFFERS from reference " + ref->second;
            if (ref->second != hash && check_ref && rc != 3) {
                rc = 3;
                ref_problem = "mip " + std::to_string(m) + " decodes differently from the trained model's reference";
            }
        } else if (check_ref && rc != 3) {
            rc = 3;
            ref_problem = "the bundle records no reference decode hash for mip " + std::to_string(m);
        }
        std::printf("mip %u %ux%ux%u %s sha256 %s %s (%.2f ms)\n", m, out.width, out.height, out.channels,
                    ngsdk::to_string(mode), hash.c_str(), verdict.c_str(),
                    std::chrono::duration<double, std::milli>(b - a).count());
        if (!raw.empty() || !raw_dir.empty()) {
            std::vector<uint8_t> bytes = out.raw();
            s = ngsdk::write_file_atomic(raw.empty() ? raw_dir + "/mip" + std::to_string(m) + ".bin" : raw,
                                         bytes.data(), bytes.size());
            if (!s) {
                std::fprintf(stderr, "error: %s\n", s.what().c_str());
                return 1;
            }
        }
        if (!png.empty()) {
            uint32_t pw = 0;
            std::vector<uint8_t> img = ngsdk::preview_rgb8(tex, out, pw);
            s = ngsdk::write_png(png, img.data(), pw, out.height, 3);
            if (!s) {
                std::fprintf(stderr, "error: %s\n", s.what().c_str());
                return 1;
            }
        }
    }
    if (rc == 3) std::fprintf(stderr, "error: %s: %s (--check-reference)\n", bundle.c_str(), ref_problem.c_str());
    return rc;
}
