// ngsdk_vulkan_sample: decode one mip of an .ngasset neural texture on a Vulkan GPU with the compute
// shader built from the shared decode source (engine_plugins/shaders/NeuralTextureDecode.ush), write
// a PNG preview and a raw dump, and compare with the reference runtime's decode.
//
//   ngsdk_vulkan_sample BUNDLE [--mip M] [--mode exact|hardware|float] [--out out.png] [--raw out.bin]
//                       [--check-reference] [--expect SHA256] [--repeat N] [--device NAME|INDEX]
//   ngsdk_vulkan_sample --list-devices
//
// exact: texels read with Load, integer bilinear and integer decoder - the same bytes on every GPU.
// hardware: the GPU's bilinear sampler filters the 8-bit latents (exact where its arithmetic is
// known: compare with ngsdk.runtime_ref.neural_texture_hw.decode_mip(asset, mip, profile=...)).
// float: the shared shader implements the integer decoder only; float bundles decode on the CPU
// with the loader's strict fp32 decoder (reported as such).
// --raw writes UNORM8 bytes (H, W, C) for exact/hardware, little-endian float32 for float.
// Exit status: 0 ok, 1 error, 2 usage, 3 the decode differs from the reference / --expect.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "decode_spv.h"  // generated: the compute shader's SPIR-V
#include "gpu.h"
#include "ngsdk/bundle.h"
#include "ngsdk/decode.h"
#include "ngsdk/image.h"
#include "ngsdk/shader_params.h"

using namespace vkapi;
using vksample::Buffer;
using vksample::Gpu;
using vksample::Image;

namespace {

constexpr int kMaxGrids = 4;
constexpr uint32_t kMaxWidth = 256;  // NTD_MAX_WIDTH the shader is compiled with
// decode_vulkan.hlsl's set 0: 0 parameter blob, 1 output, 2-5 grids, 6 sampler. The blob carries the
// sizes and every mip's taps, so nothing else describes the bundle.
constexpr uint32_t kBindings = 3 + kMaxGrids;

VkDescriptorType binding_type(uint32_t i) {
    return i < 2 ? VK_DESCRIPTOR_TYPE_STORAGE_BUFFER
                 : i < 2 + kMaxGrids ? VK_DESCRIPTOR_TYPE_SAMPLED_IMAGE : VK_DESCRIPTOR_TYPE_SAMPLER;
}

struct Push {  // NtdPush in decode_vulkan.hlsl
    int32_t mip, path, width, height, channels, pad[3];
    float inv_w, inv_h;
};

struct Args {
    std::string bundle, out_png, raw, expect, device, mode = "bundle";
    uint32_t mip = 0, repeat = 1;
    bool check_reference = false, list_devices = false;
};

int usage(const std::string& why) {
    std::fprintf(stderr,
                 "%s\nusage: ngsdk_vulkan_sample BUNDLE [--mip M] [--mode exact|hardware|float] [--out out.png] "
                 "[--raw out.bin] [--check-reference] [--expect SHA256] [--repeat N] [--device NAME|INDEX]\n"
                 "       ngsdk_vulkan_sample --list-devices\n",
                 why.c_str());
    return 2;
}

bool parse_uint(const char* s, uint32_t& out) {
    char* end = nullptr;
    unsigned long v = std::strtoul(s, &end, 10);
    if (!*s || *end || v > 0xFFFFFFFFul) return false;
    out = uint32_t(v);
    return true;
}

int fail(const std::string& what) {
    std::fprintf(stderr, "error: %s\n", what.c_str());
    return 1;
}

class Pipeline {
public:
    explicit Pipeline(Gpu& gpu) : gpu_(gpu) {}
    ~Pipeline() {
        VkDevice d = gpu_.device();
        if (pool_) vkDestroyDescriptorPool(d, pool_, nullptr);
        if (pipeline_) vkDestroyPipeline(d, pipeline_, nullptr);
        if (layout_) vkDestroyPipelineLayout(d, layout_, nullptr);
        if (set_layout_) vkDestroyDescriptorSetLayout(d, set_layout_, nullptr);
        if (module_) vkDestroyShaderModule(d, module_, nullptr);
        if (sampler_) vkDestroySampler(d, sampler_, nullptr);
        if (queries_) vkDestroyQueryPool(d, queries_, nullptr);
    }

    bool create(bool wrap, std::string& error) {
        VkDevice d = gpu_.device();
        VkShaderModuleCreateInfo smi{VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO};
        smi.codeSize = decode_spv_words * 4;
        smi.pCode = decode_spv;
        if (vkCreateShaderModule(d, &smi, nullptr, &module_) != VK_SUCCESS) return err(error, "vkCreateShaderModule");
        VkDescriptorSetLayoutBinding b[kBindings] = {};
        for (uint32_t i = 0; i < kBindings; ++i) {
            b[i].binding = i;
            b[i].descriptorCount = 1;
            b[i].stageFlags = VK_SHADER_STAGE_COMPUTE_BIT;
            b[i].descriptorType = binding_type(i);
        }
        VkDescriptorSetLayoutCreateInfo dli{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO};
        dli.bindingCount = kBindings;
        dli.pBindings = b;
        if (vkCreateDescriptorSetLayout(d, &dli, nullptr, &set_layout_) != VK_SUCCESS)
            return err(error, "vkCreateDescriptorSetLayout");
        VkPushConstantRange pcr{VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof(Push)};
        VkPipelineLayoutCreateInfo pli{VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO};
        pli.setLayoutCount = 1;
        pli.pSetLayouts = &set_layout_;
        pli.pushConstantRangeCount = 1;
        pli.pPushConstantRanges = &pcr;
        if (vkCreatePipelineLayout(d, &pli, nullptr, &layout_) != VK_SUCCESS) return err(error, "vkCreatePipelineLayout");
        VkComputePipelineCreateInfo cpi{VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO};
        cpi.stage.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO;
        cpi.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
        cpi.stage.module = module_;
        cpi.stage.pName = "main";
        cpi.layout = layout_;
        if (vkCreateComputePipelines(d, VK_NULL_HANDLE, 1, &cpi, nullptr, &pipeline_) != VK_SUCCESS)
            return err(error, "vkCreateComputePipelines");
        // Hardware mode: bilinear within the level the LOD names (nearest mip), the bundle's address mode.
        VkSamplerCreateInfo sci{VK_STRUCTURE_TYPE_SAMPLER_CREATE_INFO};
        sci.magFilter = sci.minFilter = VK_FILTER_LINEAR;
        sci.mipmapMode = VK_SAMPLER_MIPMAP_MODE_NEAREST;
        sci.addressModeU = sci.addressModeV = wrap ? VK_SAMPLER_ADDRESS_MODE_REPEAT : VK_SAMPLER_ADDRESS_MODE_CLAMP_TO_EDGE;
        sci.addressModeW = VK_SAMPLER_ADDRESS_MODE_CLAMP_TO_EDGE;
        sci.maxLod = VK_LOD_CLAMP_NONE;
        if (vkCreateSampler(d, &sci, nullptr, &sampler_) != VK_SUCCESS) return err(error, "vkCreateSampler");
        VkDescriptorPoolSize sizes[3] = {{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 2},
                                         {VK_DESCRIPTOR_TYPE_SAMPLED_IMAGE, 4},
                                         {VK_DESCRIPTOR_TYPE_SAMPLER, 1}};
        VkDescriptorPoolCreateInfo dpi{VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO};
        dpi.maxSets = 1;
        dpi.poolSizeCount = 3;
        dpi.pPoolSizes = sizes;
        if (vkCreateDescriptorPool(d, &dpi, nullptr, &pool_) != VK_SUCCESS) return err(error, "vkCreateDescriptorPool");
        VkDescriptorSetAllocateInfo dsa{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO};
        dsa.descriptorPool = pool_;
        dsa.descriptorSetCount = 1;
        dsa.pSetLayouts = &set_layout_;
        if (vkAllocateDescriptorSets(d, &dsa, &set_) != VK_SUCCESS) return err(error, "vkAllocateDescriptorSets");
        if (gpu_.timestamps()) {
            VkQueryPoolCreateInfo qpi{VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO};
            qpi.queryType = VK_QUERY_TYPE_TIMESTAMP;
            qpi.queryCount = 2;
            if (vkCreateQueryPool(d, &qpi, nullptr, &queries_) != VK_SUCCESS) queries_ = VK_NULL_HANDLE;
        }
        return true;
    }

    void bind(const Buffer& params, const Buffer& output, const std::vector<Image>& grids) {
        VkDescriptorBufferInfo bi[2] = {{params.buffer, 0, VK_WHOLE_SIZE}, {output.buffer, 0, VK_WHOLE_SIZE}};
        VkDescriptorImageInfo ii[kMaxGrids];
        for (int g = 0; g < kMaxGrids; ++g) {
            // Unused grid slots repeat grid 0 (every binding the shader declares must be valid).
            const Image& img = grids[size_t(g) < grids.size() ? size_t(g) : 0];
            ii[g] = {VK_NULL_HANDLE, img.view, VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL};
        }
        VkDescriptorImageInfo si{sampler_, VK_NULL_HANDLE, VK_IMAGE_LAYOUT_UNDEFINED};
        VkWriteDescriptorSet w[kBindings] = {};
        for (uint32_t i = 0; i < kBindings; ++i) {
            w[i].sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET;
            w[i].dstSet = set_;
            w[i].dstBinding = i;
            w[i].descriptorCount = 1;
            w[i].descriptorType = binding_type(i);
            if (i < 2) w[i].pBufferInfo = &bi[i];
            else if (i < 2 + kMaxGrids) w[i].pImageInfo = &ii[i - 2];
            else w[i].pImageInfo = &si;
        }
        vkUpdateDescriptorSets(gpu_.device(), kBindings, w, 0, nullptr);
    }

    // One dispatch over the mip; returns the GPU time in ms (timestamps) or -1.
    bool dispatch(const Push& push, double& gpu_ms, std::string& error) {
        VkCommandBuffer cmd = gpu_.begin_commands();
        if (!cmd) return err(error, "vkAllocateCommandBuffers");
        if (queries_) vkCmdResetQueryPool(cmd, queries_, 0, 2);
        vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline_);
        vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, layout_, 0, 1, &set_, 0, nullptr);
        vkCmdPushConstants(cmd, layout_, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof(Push), &push);
        if (queries_) vkCmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, queries_, 0);
        vkCmdDispatch(cmd, (uint32_t(push.width) + 7) / 8, (uint32_t(push.height) + 7) / 8, 1);
        if (queries_) vkCmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, queries_, 1);
        VkMemoryBarrier mb{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
        mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT;
        mb.dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_HOST_READ_BIT;
        vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                             VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &mb, 0, nullptr, 0,
                             nullptr);
        if (!gpu_.submit_and_wait(cmd, error)) return false;
        gpu_ms = -1.0;
        if (queries_) {
            uint64_t t[2];
            if (vkGetQueryPoolResults(gpu_.device(), queries_, 0, 2, sizeof t, t, sizeof(uint64_t),
                                      VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT) == VK_SUCCESS)
                gpu_ms = double(t[1] - t[0]) * double(gpu_.properties().limits.timestampPeriod) * 1e-6;
        }
        return true;
    }

private:
    static bool err(std::string& error, const char* what) {
        error = std::string(what) + " failed";
        return false;
    }
    Gpu& gpu_;
    VkShaderModule module_ = VK_NULL_HANDLE;
    VkDescriptorSetLayout set_layout_ = VK_NULL_HANDLE;
    VkPipelineLayout layout_ = VK_NULL_HANDLE;
    VkPipeline pipeline_ = VK_NULL_HANDLE;
    VkSampler sampler_ = VK_NULL_HANDLE;
    VkDescriptorPool pool_ = VK_NULL_HANDLE;
    VkDescriptorSet set_ = VK_NULL_HANDLE;
    VkQueryPool queries_ = VK_NULL_HANDLE;
};

int finish(const Args& a, const ngsdk::NeuralTexture& tex, const ngsdk::DecodedMip& out, const std::string& where,
           double gpu_ms) {
    if (!a.raw.empty()) {
        std::vector<uint8_t> bytes = out.raw();
        ngsdk::Status s = ngsdk::write_file_atomic(a.raw, bytes.data(), bytes.size());
        if (!s) return fail(s.what());
    }
    if (!a.out_png.empty()) {
        uint32_t pw = 0;
        std::vector<uint8_t> img = ngsdk::preview_rgb8(tex, out, pw);
        ngsdk::Status s = ngsdk::write_png(a.out_png, img.data(), pw, out.height, 3);
        if (!s) return fail(s.what());
    }
    const std::string hash = out.hash();
    std::string verdict = "no reference";
    int rc = 0;
    if (!a.expect.empty()) {
        verdict = hash == a.expect ? "matches expected" : "DIFFERS from expected " + a.expect;
        rc = hash == a.expect ? 0 : 3;
    } else if (a.check_reference) {
        auto ref = tex.reference_decode.find("mip" + std::to_string(a.mip));
        if (out.mode != tex.decode_mode) {
            verdict = std::string("no reference for mode ") + ngsdk::to_string(out.mode) + " (bundle is " +
                      ngsdk::to_string(tex.decode_mode) + ")";
            rc = 3;
        } else if (ref == tex.reference_decode.end()) {
            verdict = "bundle has no reference for this mip";
            rc = 3;
        } else if (out.mode == ngsdk::DecodeMode::Hardware) {
            // The trainer's reference emulates one sampler profile; other GPUs filter differently.
            verdict = (ref->second == hash ? "matches" : "differs from") + std::string(" the reference of sampler profile ") +
                      tex.q.reference_profile + " (hardware decodes depend on the GPU's sampler; use --expect)";
        } else {
            verdict = ref->second == hash ? "matches reference" : "DIFFERS from reference " + ref->second;
            rc = ref->second == hash ? 0 : 3;
        }
    }
    char timing[64] = "";
    if (gpu_ms >= 0) std::snprintf(timing, sizeof timing, ", gpu %.3f ms", gpu_ms);
    std::printf("mip %u %ux%ux%u %s (%s) sha256 %s %s%s\n", a.mip, out.width, out.height, out.channels,
                ngsdk::to_string(out.mode), where.c_str(), hash.c_str(), verdict.c_str(), timing);
    return rc;
}

}  // namespace

int main(int argc, char** argv) {
    Args a;
    for (int i = 1; i < argc; ++i) {
        std::string s = argv[i];
        auto value = [&](std::string& dst) {
            if (i + 1 >= argc) return false;
            dst = argv[++i];
            return true;
        };
        std::string v;
        if (s == "--mip") {
            if (!value(v) || !parse_uint(v.c_str(), a.mip)) return usage("--mip needs a non-negative integer");
        } else if (s == "--repeat") {
            if (!value(v) || !parse_uint(v.c_str(), a.repeat) || a.repeat == 0) return usage("--repeat needs N >= 1");
        } else if (s == "--mode") {
            if (!value(a.mode)) return usage("--mode needs a value");
        } else if (s == "--out") {
            if (!value(a.out_png)) return usage("--out needs a file");
        } else if (s == "--raw") {
            if (!value(a.raw)) return usage("--raw needs a file");
        } else if (s == "--expect") {
            if (!value(a.expect)) return usage("--expect needs a sha256");
        } else if (s == "--device") {
            if (!value(a.device)) return usage("--device needs a name or index");
        } else if (s == "--check-reference") {
            a.check_reference = true;
        } else if (s == "--list-devices") {
            a.list_devices = true;
        } else if (s == "-h" || s == "--help") {
            usage("decode a neural texture mip on a Vulkan GPU");
            return 0;
        } else if (!s.empty() && s[0] == '-') {
            return usage("unknown option " + s);
        } else if (a.bundle.empty()) {
            a.bundle = s;
        } else {
            return usage("only one BUNDLE");
        }
    }
    if (a.list_devices) {
        Gpu gpu;
        std::string error;
        if (!gpu.init(a.device, error)) return fail(error);
        std::printf("%s\n", gpu.description().c_str());
        return 0;
    }
    if (a.bundle.empty()) return usage("missing BUNDLE");

    ngsdk::NeuralTexture tex;
    ngsdk::Status st = ngsdk::load_neural_texture(a.bundle, tex);
    if (!st) return fail(st.what());
    ngsdk::DecodeMode mode = tex.decode_mode;
    if (a.mode != "bundle" && !ngsdk::parse_decode_mode(a.mode, mode)) return usage("--mode is exact, hardware or float");
    if (a.mip >= tex.mip_levels)
        return fail(a.bundle + ": mip " + std::to_string(a.mip) + " out of range (asset has " +
                    std::to_string(tex.mip_levels) + ")");

    if (mode == ngsdk::DecodeMode::Float) {
        // The shared shader source is the integer decoder; the float mode's strict fp32 reference
        // runs on the CPU (the loader), so this path exists for comparisons only.
        ngsdk::DecodedMip out;
        auto t0 = std::chrono::steady_clock::now();
        st = ngsdk::decode_mip(tex, a.mip, mode, out);
        if (!st) return fail(st.what());
        double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        std::fprintf(stderr, "note: float mode decodes on the CPU (%.1f ms); the shared shader implements the "
                             "integer decoder of the exact and hardware modes\n", ms);
        return finish(a, tex, out, "cpu", -1.0);
    }
    if (!tex.quantized)
        return fail(a.bundle + ": decode mode '" + ngsdk::to_string(tex.decode_mode) +
                    "' has no integer decoder; the GPU decodes exact and hardware bundles (--mode float decodes on "
                    "the CPU)");
    if (mode == ngsdk::DecodeMode::Hardware)
        for (const ngsdk::Grid& g : tex.grids)
            if (g.bits != 8) return fail(a.bundle + ": hardware mode samples latents with the texture filter: grids need 8-bit codes");
    if (tex.grids.size() > size_t(kMaxGrids))
        return fail(a.bundle + ": the sample binds at most 4 latent grids");
    for (const ngsdk::Layer& l : tex.layers)
        if (l.inputs > kMaxWidth || l.outputs > kMaxWidth)
            return fail(a.bundle + ": decoder layers wider than 256 exceed the shader's NTD_MAX_WIDTH");

    std::vector<int32_t> params;
    st = ngsdk::shader_params(tex, mode, params);
    if (!st) return fail(st.what());

    Gpu gpu;
    std::string error;
    if (!gpu.init(a.device, error)) return fail(error);
    Buffer pbuf, obuf;
    std::vector<Image> grids(tex.grids.size());
    const uint32_t W = tex.mip_width(a.mip), H = tex.mip_height(a.mip), C = tex.outputs();
    const VkDeviceSize out_bytes = VkDeviceSize(W) * H * C * 4;
    if (!gpu.upload_buffer(params.data(), params.size() * 4, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, pbuf, error) ||
        !gpu.create_buffer(out_bytes, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT,
                           VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, obuf, error))
        return fail(error);
    for (size_t g = 0; g < tex.grids.size(); ++g) {
        const ngsdk::Grid& grid = tex.grids[g];
        if (!gpu.upload_image_array(VK_FORMAT_R8G8B8A8_UNORM, 4, grid.width, grid.height, grid.array_size, grid.texels,
                                    grids[g], error))
            return fail(error);
    }
    Pipeline pipe(gpu);
    if (!pipe.create(tex.address == ngsdk::AddressMode::Wrap, error)) return fail(error);
    pipe.bind(pbuf, obuf, grids);
    Push push{};
    push.mip = int32_t(a.mip);
    push.path = mode == ngsdk::DecodeMode::Hardware ? 3 : 0;
    push.width = int32_t(W);
    push.height = int32_t(H);
    push.channels = int32_t(C);
    // Texel-centre coordinates f32(2i + 1) * (f32(0.5) / f32(n)), as runtime_ref computes them.
    push.inv_w = 0.5f / float(W);
    push.inv_h = 0.5f / float(H);
    std::vector<double> times;
    for (uint32_t r = 0; r < a.repeat; ++r) {
        double ms = -1;
        if (!pipe.dispatch(push, ms, error)) return fail(error);
        if (ms >= 0) times.push_back(ms);
    }
    std::vector<uint32_t> words(size_t(W) * H * C);
    if (!gpu.download_buffer(obuf, words.data(), out_bytes, error)) return fail(error);
    ngsdk::DecodedMip out;
    out.mode = mode;
    out.width = W;
    out.height = H;
    out.channels = C;
    out.bytes.resize(words.size());
    for (size_t i = 0; i < words.size(); ++i) out.bytes[i] = uint8_t(words[i]);
    double median = -1;
    if (!times.empty()) {
        std::sort(times.begin(), times.end());
        median = times[times.size() / 2];
    }
    for (Image& img : grids) gpu.destroy(img);
    gpu.destroy(pbuf);
    gpu.destroy(obuf);
    return finish(a, tex, out, gpu.properties().deviceName, median);
}
