// ngsdk_fuzz: mutation robustness check for the loader. Takes a real (or synthetic) bundle, applies
// random byte flips, truncations, extensions and field rewrites to one file at a time, patches the
// manifest's size/sha256 so the damage reaches the inner parsers, then loads and decodes. Any
// outcome but "loaded" or "refused with an error" (a crash, a sanitizer report, a hang) fails.
// Also feeds mutated bytes straight to the DDS, npz and JSON parsers.
//
//   ngsdk_fuzz (BUNDLE | --synthetic) [--iterations N] [--seed S] [--work DIR]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>

#include "ngsdk/bundle.h"
#include "ngsdk/dds.h"
#include "ngsdk/decode.h"
#include "ngsdk/json.h"
#include "ngsdk/npz.h"
#include "synthetic.h"

namespace fs = std::filesystem;

namespace {

std::vector<uint8_t> mutate(std::vector<uint8_t> b, std::mt19937& rng) {
    auto pick = [&](size_t n) { return n ? size_t(rng() % n) : size_t(0); };
    int kind = int(rng() % 7);
    if (b.empty()) kind = 3;
    switch (kind) {
        case 0:  // flip a few bits
            for (int i = 0, n = 1 + int(rng() % 8); i < n; ++i) b[pick(b.size())] ^= uint8_t(1u << (rng() % 8));
            break;
        case 1:  // truncate
            b.resize(pick(b.size()));
            break;
        case 2:  // overwrite a little-endian u32 with an extreme value (headers, sizes, counts)
            if (b.size() >= 4) {
                static const uint32_t extremes[] = {0, 1, 2, 3, 4, 6, 0x7F, 0xFF, 0xFFFF, 0x10000, 0x7FFFFFFF,
                                                    0x80000000u, 0xFFFFFFFEu, 0xFFFFFFFFu};
                uint32_t v = extremes[rng() % (sizeof extremes / sizeof extremes[0])];
                size_t at = pick(b.size() - 3);
                if (rng() % 2 && b.size() > 200) at = pick(200) & ~size_t(3);  // header-heavy
                for (int i = 0; i < 4 && at + size_t(i) < b.size(); ++i) b[at + size_t(i)] = uint8_t(v >> (8 * i));
            }
            break;
        case 3:  // append junk
            for (int i = 0, n = 1 + int(rng() % 64); i < n; ++i) b.push_back(uint8_t(rng()));
            break;
        case 4:  // duplicate a span
            if (b.size() > 2) {
                size_t a = pick(b.size()), n = 1 + pick(std::min<size_t>(64, b.size() - a));
                std::vector<uint8_t> span(b.begin() + long(a), b.begin() + long(a + n));
                b.insert(b.begin() + long(pick(b.size())), span.begin(), span.end());
            }
            break;
        case 5:  // delete a span
            if (b.size() > 2) {
                size_t a = pick(b.size()), n = 1 + pick(std::min<size_t>(64, b.size() - a));
                b.erase(b.begin() + long(a), b.begin() + long(a + n));
            }
            break;
        default:  // random bytes at a random place
            for (int i = 0, n = 1 + int(rng() % 16); i < n; ++i) b[pick(b.size())] = uint8_t(rng());
    }
    return b;
}

// Rewrite one JSON number or string value of the manifest text with a hostile one.
std::string mutate_manifest(std::string m, std::mt19937& rng) {
    static const char* values[] = {"0", "-1", "1", "4294967295", "4294967296", "99999999999999999999", "1e308",
                                   "-1e308", "0.5", "NaN", "Infinity", "null", "true", "\"\"", "[]", "{}",
                                   "\"relu\"", "\"sigmoid\"", "\"clamp\"", "\"exact\"", "\"1.9\"", "65535", "8",
                                   "2", "31", "32", "33"};
    for (int attempt = 0; attempt < 20; ++attempt) {
        size_t colon = m.find(": ", size_t(rng() % m.size()));
        if (colon == std::string::npos) continue;
        size_t v0 = colon + 2;
        if (v0 >= m.size()) continue;
        size_t v1 = v0;
        if (m[v0] == '"') {
            v1 = m.find('"', v0 + 1);
            if (v1 == std::string::npos) continue;
            ++v1;
        } else if (m[v0] == '-' || (m[v0] >= '0' && m[v0] <= '9') || m[v0] == 't' || m[v0] == 'f' || m[v0] == 'n') {
            v1 = m.find_first_of(",}\n]", v0);
            if (v1 == std::string::npos) continue;
        } else {
            continue;
        }
        m.replace(v0, v1 - v0, values[rng() % (sizeof values / sizeof values[0])]);
        return m;
    }
    return m;
}

int usage() {
    std::fprintf(stderr, "usage: ngsdk_fuzz (BUNDLE | --synthetic) [--iterations N] [--seed S] [--work DIR]\n");
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    std::string bundle, work;
    bool synthetic = false;
    long iterations = 200;
    unsigned seed = 1;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--synthetic") synthetic = true;
        else if (a == "--iterations" && i + 1 < argc) iterations = std::atol(argv[++i]);
        else if (a == "--seed" && i + 1 < argc) seed = unsigned(std::atol(argv[++i]));
        else if (a == "--work" && i + 1 < argc) work = argv[++i];
        else if (!a.empty() && a[0] != '-' && bundle.empty()) bundle = a;
        else return usage();
    }
    if (synthetic == !bundle.empty()) return usage();
    if (work.empty()) work = synth::make_temp_dir("fuzz");
    fs::create_directories(work);
    std::string src = synthetic ? work + "/synthetic.ngasset" : bundle;
    if (synthetic) {
        fs::remove_all(src);
        fs::create_directories(src);
        if (!synth::write_bundle(src, synth::BundleSpec{})) {
            std::fprintf(stderr, "cannot write the synthetic bundle in %s\n", src.c_str());
            return 1;
        }
    }
    ngsdk::NeuralTexture base;
    ngsdk::Status s = ngsdk::load_neural_texture(src, base);
    if (!s) {
        std::fprintf(stderr, "the unmutated bundle does not load: %s\n", s.what().c_str());
        return 1;
    }
    std::vector<std::string> names = {"manifest.json"};
    for (const auto& kv : base.manifest.find("files")->members())
        if (fs::is_regular_file(src + "/" + kv.first)) names.push_back(kv.first);
    std::map<std::string, std::vector<uint8_t>> original;
    for (const std::string& n : names) original[n] = synth::read_all(src + "/" + n);

    std::mt19937 rng(seed);
    const std::string dir = work + "/mutant.ngasset";
    long loaded = 0, refused = 0, decoded = 0;
    auto t0 = std::chrono::steady_clock::now();
    for (long it = 0; it < iterations; ++it) {
        fs::remove_all(dir);
        fs::create_directories(dir);
        for (const auto& kv : original) synth::write_file(dir + "/" + kv.first, kv.second);
        const std::string& victim = names[rng() % names.size()];
        if (victim == "manifest.json") {
            const auto& orig = original[victim];
            std::string text(orig.begin(), orig.end());
            std::vector<uint8_t> bytes;
            if (rng() % 2) {
                text = mutate_manifest(text, rng);
                bytes.assign(text.begin(), text.end());
            } else {
                bytes = mutate(orig, rng);
            }
            synth::write_file(dir + "/manifest.json", bytes);
        } else {
            synth::write_file(dir + "/" + victim, mutate(original[victim], rng));
            if (rng() % 8) synth::refresh_record(dir, victim);  // mostly reach the inner parsers
        }
        ngsdk::NeuralTexture t;
        s = ngsdk::load_neural_texture(dir, t);
        if (!s) {
            ++refused;
            if (s.what().find('\n') != std::string::npos) {
                std::fprintf(stderr, "error message spans lines: %s\n", s.what().c_str());
                return 1;
            }
            continue;
        }
        ++loaded;
        ngsdk::DecodeOptions o;
        o.threads = 1;
        o.max_output_bytes = 256u << 10;  // small mips only: keeps sanitizer runs short
        for (uint32_t m = 0; m < t.mip_levels && m < 40; m += 1 + m) {
            ngsdk::DecodedMip out;
            if (ngsdk::decode_mip(t, m, t.decode_mode, out, o)) ++decoded;
            if (ngsdk::decode_mip(t, m, ngsdk::DecodeMode::Float, out, o)) ++decoded;
            if (ngsdk::decode_mip(t, m, ngsdk::DecodeMode::Exact, out, o)) ++decoded;
        }
    }
    // Straight parser fuzz: DDS, npz and JSON bytes.
    long parser_runs = 0;
    for (long it = 0; it < iterations * 20; ++it) {
        const std::string& victim = names[rng() % names.size()];
        std::vector<uint8_t> b = mutate(original[victim], rng);
        ngsdk::DdsTexture dds;
        (void)ngsdk::decode_dds(b.data(), b.size(), "fuzz.dds", dds);
        std::map<std::string, ngsdk::NpyArray> arrays;
        (void)ngsdk::read_npz_bytes(b.data(), b.size(), "fuzz.npz", arrays);
        ngsdk::json::Value v;
        std::string err;
        (void)ngsdk::json::parse(std::string(b.begin(), b.end()), v, err);
        ++parser_runs;
    }
    fs::remove_all(dir);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("fuzz: %ld bundle mutants (%ld refused, %ld loaded, %ld decodes), %ld parser runs, %.1f s, "
                "no crash\n", iterations, refused, loaded, decoded, parser_runs, secs);
    return 0;
}
