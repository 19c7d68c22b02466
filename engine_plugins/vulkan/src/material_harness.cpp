// ngsdk_material_harness: run the Unreal material binding of the shared decode source
// (engine_plugins/unreal/NeuralGraphics/Shaders/.../NeuralTextureMaterial.ush inside
// engine_plugins/unreal/shim/MaterialHarness.hlsl, i.e. the Custom node code as Unreal generates it)
// on a Vulkan device, at the texel centres of one mip, and dump the decoded bytes.
//
//   ngsdk_material_harness BUNDLE --mip M --raw out.bin [--device NAME|INDEX]
//
// The output bytes are round(value * 255) of the node's outputs (channels 0-15), (H, W, C). Exact
// bundles decode through the coordinate path (NTD_Decode path 1), hardware bundles through the
// sampler at LOD M (path 2): compare with runtime_ref's decode_uv at the same coordinates.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "gpu.h"
#include "material_spv.h"  // generated
#include "ngsdk/bundle.h"
#include "ngsdk/image.h"
#include "ngsdk/shader_params.h"

using namespace vkapi;
using vksample::Buffer;
using vksample::Gpu;
using vksample::Image;

namespace {

struct Push {
    int32_t width, height;
    float mip;
    int32_t pad;
    float inv_w, inv_h;
};

int fail(const std::string& what) {
    std::fprintf(stderr, "error: %s\n", what.c_str());
    return 1;
}

// The parameter texture NeuralTextureMaterial.ush reads: the int32 blob (which carries the sizes and
// every mip's taps), one little-endian word per RGBA8 texel, 256 texels per row.
std::vector<uint8_t> params_texture(const std::vector<int32_t>& blob, uint32_t& rows) {
    std::vector<int32_t> words(blob);
    rows = uint32_t((words.size() + 255) / 256);
    words.resize(size_t(rows) * 256, 0);
    std::vector<uint8_t> out(words.size() * 4);
    for (size_t i = 0; i < words.size(); ++i)
        for (int k = 0; k < 4; ++k) out[4 * i + size_t(k)] = uint8_t(uint32_t(words[i]) >> (8 * k));
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    std::string bundle, raw, device;
    uint32_t mip = 0;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--mip" && i + 1 < argc) mip = uint32_t(std::strtoul(argv[++i], nullptr, 10));
        else if (a == "--raw" && i + 1 < argc) raw = argv[++i];
        else if (a == "--device" && i + 1 < argc) device = argv[++i];
        else if (bundle.empty() && !a.empty() && a[0] != '-') bundle = a;
        else {
            std::fprintf(stderr, "usage: ngsdk_material_harness BUNDLE --mip M --raw out.bin [--device D]\n");
            return 2;
        }
    }
    if (bundle.empty() || raw.empty()) return fail("need BUNDLE and --raw");
    ngsdk::NeuralTexture tex;
    ngsdk::Status st = ngsdk::load_neural_texture(bundle, tex);
    if (!st) return fail(st.what());
    if (!tex.quantized) return fail(bundle + ": the material decode needs an integer decoder (exact or hardware)");
    // The harness is the 2-grid Custom node (custom_node_2grids.txt); a 1-grid bundle binds its grid to
    // both slots, which is what NTD_MaterialBind1 does.
    if (tex.grids.size() > 2) return fail("the harness binds at most 2 latent grids");
    if (tex.outputs() > 16) return fail("the material decode returns at most 16 channels");
    if (mip >= tex.mip_levels) return fail("mip out of range");
    std::vector<int32_t> blob;
    st = ngsdk::shader_params(tex, tex.decode_mode, blob);
    if (!st) return fail(st.what());
    uint32_t rows = 0;
    std::vector<uint8_t> ptex = params_texture(blob, rows);

    Gpu gpu;
    std::string error;
    if (!gpu.init(device, error)) return fail(error);
    Image params, grids[2];
    const int ngrids = int(tex.grids.size());
    if (!gpu.upload_image_array(VK_FORMAT_R8G8B8A8_UNORM, 4, 256, rows, 1, {ptex}, params, error)) return fail(error);
    for (int g = 0; g < ngrids; ++g)
        if (!gpu.upload_image_array(VK_FORMAT_R8G8B8A8_UNORM, 4, tex.grids[size_t(g)].width, tex.grids[size_t(g)].height,
                                    tex.grids[size_t(g)].array_size, tex.grids[size_t(g)].texels, grids[g], error))
            return fail(error);
    const uint32_t W = tex.mip_width(mip), H = tex.mip_height(mip), C = tex.outputs();
    Buffer out;
    const VkDeviceSize out_bytes = VkDeviceSize(W) * H * 16 * sizeof(float);
    if (!gpu.create_buffer(out_bytes, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT,
                           VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, out, error))
        return fail(error);

    VkDevice d = gpu.device();
    VkShaderModuleCreateInfo smi{VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO};
    smi.codeSize = material_spv_words * 4;
    smi.pCode = material_spv;
    VkShaderModule module;
    if (vkCreateShaderModule(d, &smi, nullptr, &module) != VK_SUCCESS) return fail("vkCreateShaderModule");
    VkDescriptorType types[5] = {VK_DESCRIPTOR_TYPE_SAMPLED_IMAGE, VK_DESCRIPTOR_TYPE_SAMPLED_IMAGE,
                                 VK_DESCRIPTOR_TYPE_SAMPLED_IMAGE, VK_DESCRIPTOR_TYPE_SAMPLER,
                                 VK_DESCRIPTOR_TYPE_STORAGE_BUFFER};
    VkDescriptorSetLayoutBinding b[5] = {};
    for (uint32_t i = 0; i < 5; ++i) b[i] = {i, types[i], 1, VK_SHADER_STAGE_COMPUTE_BIT, nullptr};
    VkDescriptorSetLayoutCreateInfo dli{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO};
    dli.bindingCount = 5;
    dli.pBindings = b;
    VkDescriptorSetLayout set_layout;
    if (vkCreateDescriptorSetLayout(d, &dli, nullptr, &set_layout) != VK_SUCCESS) return fail("set layout");
    VkPushConstantRange pcr{VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof(Push)};
    VkPipelineLayoutCreateInfo pli{VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO};
    pli.setLayoutCount = 1;
    pli.pSetLayouts = &set_layout;
    pli.pushConstantRangeCount = 1;
    pli.pPushConstantRanges = &pcr;
    VkPipelineLayout layout;
    if (vkCreatePipelineLayout(d, &pli, nullptr, &layout) != VK_SUCCESS) return fail("pipeline layout");
    VkComputePipelineCreateInfo cpi{VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO};
    cpi.stage = {VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO, nullptr, 0, VK_SHADER_STAGE_COMPUTE_BIT, module,
                 "main", nullptr};
    cpi.layout = layout;
    VkPipeline pipeline;
    if (vkCreateComputePipelines(d, VK_NULL_HANDLE, 1, &cpi, nullptr, &pipeline) != VK_SUCCESS) return fail("pipeline");
    // The material's sampler for hardware bundles: bilinear, nearest mip, the bundle's address mode.
    VkSamplerCreateInfo sci{VK_STRUCTURE_TYPE_SAMPLER_CREATE_INFO};
    sci.magFilter = sci.minFilter = VK_FILTER_LINEAR;
    sci.mipmapMode = VK_SAMPLER_MIPMAP_MODE_NEAREST;
    sci.addressModeU = sci.addressModeV =
        tex.address == ngsdk::AddressMode::Wrap ? VK_SAMPLER_ADDRESS_MODE_REPEAT : VK_SAMPLER_ADDRESS_MODE_CLAMP_TO_EDGE;
    sci.addressModeW = VK_SAMPLER_ADDRESS_MODE_CLAMP_TO_EDGE;
    sci.maxLod = VK_LOD_CLAMP_NONE;
    VkSampler sampler;
    if (vkCreateSampler(d, &sci, nullptr, &sampler) != VK_SUCCESS) return fail("sampler");
    VkDescriptorPoolSize sizes[3] = {{VK_DESCRIPTOR_TYPE_SAMPLED_IMAGE, 3}, {VK_DESCRIPTOR_TYPE_SAMPLER, 1},
                                     {VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1}};
    VkDescriptorPoolCreateInfo dpi{VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO};
    dpi.maxSets = 1;
    dpi.poolSizeCount = 3;
    dpi.pPoolSizes = sizes;
    VkDescriptorPool pool;
    if (vkCreateDescriptorPool(d, &dpi, nullptr, &pool) != VK_SUCCESS) return fail("descriptor pool");
    VkDescriptorSetAllocateInfo dsa{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO};
    dsa.descriptorPool = pool;
    dsa.descriptorSetCount = 1;
    dsa.pSetLayouts = &set_layout;
    VkDescriptorSet set;
    if (vkAllocateDescriptorSets(d, &dsa, &set) != VK_SUCCESS) return fail("descriptor set");
    VkDescriptorImageInfo ii[3] = {{VK_NULL_HANDLE, params.view, VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL},
                                   {VK_NULL_HANDLE, grids[0].view, VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL},
                                   {VK_NULL_HANDLE, grids[ngrids - 1].view, VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL}};
    VkDescriptorImageInfo si{sampler, VK_NULL_HANDLE, VK_IMAGE_LAYOUT_UNDEFINED};
    VkDescriptorBufferInfo bi{out.buffer, 0, VK_WHOLE_SIZE};
    VkWriteDescriptorSet w[5] = {};
    for (uint32_t i = 0; i < 5; ++i) {
        w[i].sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET;
        w[i].dstSet = set;
        w[i].dstBinding = i;
        w[i].descriptorCount = 1;
        w[i].descriptorType = types[i];
        if (i < 3) w[i].pImageInfo = &ii[i];
        else if (i == 3) w[i].pImageInfo = &si;
        else w[i].pBufferInfo = &bi;
    }
    vkUpdateDescriptorSets(d, 5, w, 0, nullptr);
    Push push{int32_t(W), int32_t(H), float(mip), 0, 0.5f / float(W), 0.5f / float(H)};
    VkCommandBuffer cmd = gpu.begin_commands();
    vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline);
    vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, layout, 0, 1, &set, 0, nullptr);
    vkCmdPushConstants(cmd, layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof push, &push);
    vkCmdDispatch(cmd, (W + 7) / 8, (H + 7) / 8, 1);
    VkMemoryBarrier mb{VK_STRUCTURE_TYPE_MEMORY_BARRIER, nullptr, VK_ACCESS_SHADER_WRITE_BIT, VK_ACCESS_TRANSFER_READ_BIT};
    vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &mb, 0,
                         nullptr, 0, nullptr);
    if (!gpu.submit_and_wait(cmd, error)) return fail(error);
    std::vector<float> values(size_t(W) * H * 16);
    if (!gpu.download_buffer(out, values.data(), out_bytes, error)) return fail(error);
    std::vector<uint8_t> bytes(size_t(W) * H * C);
    for (size_t p = 0; p < size_t(W) * H; ++p)
        for (uint32_t c = 0; c < C; ++c) bytes[p * C + c] = uint8_t(std::lround(values[p * 16 + c] * 255.0f));
    st = ngsdk::write_file_atomic(raw, bytes.data(), bytes.size());
    if (!st) return fail(st.what());
    vkDestroyDescriptorPool(d, pool, nullptr);
    vkDestroySampler(d, sampler, nullptr);
    vkDestroyPipeline(d, pipeline, nullptr);
    vkDestroyPipelineLayout(d, layout, nullptr);
    vkDestroyDescriptorSetLayout(d, set_layout, nullptr);
    vkDestroyShaderModule(d, module, nullptr);
    gpu.destroy(out);
    gpu.destroy(params);
    for (int g = 0; g < ngrids; ++g) gpu.destroy(grids[g]);
    std::printf("mip %u %ux%ux%u %s decoded through the Unreal material binding on %s\n", mip, W, H, C,
                ngsdk::to_string(tex.decode_mode), gpu.properties().deviceName);
    return 0;
}
