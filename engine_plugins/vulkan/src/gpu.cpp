#include "gpu.h"

#include <cstdlib>
#include <cstring>

using namespace vkapi;

namespace vksample {

std::string vk_result_name(VkResult r) {
    switch (r) {
        case VK_SUCCESS: return "VK_SUCCESS";
        case VK_ERROR_OUT_OF_HOST_MEMORY: return "VK_ERROR_OUT_OF_HOST_MEMORY";
        case VK_ERROR_OUT_OF_DEVICE_MEMORY: return "VK_ERROR_OUT_OF_DEVICE_MEMORY";
        case VK_ERROR_INITIALIZATION_FAILED: return "VK_ERROR_INITIALIZATION_FAILED";
        case VK_ERROR_DEVICE_LOST: return "VK_ERROR_DEVICE_LOST";
        case VK_ERROR_INCOMPATIBLE_DRIVER: return "VK_ERROR_INCOMPATIBLE_DRIVER (no Vulkan driver/ICD found)";
        case VK_ERROR_LAYER_NOT_PRESENT: return "VK_ERROR_LAYER_NOT_PRESENT";
        case VK_ERROR_EXTENSION_NOT_PRESENT: return "VK_ERROR_EXTENSION_NOT_PRESENT";
        case VK_ERROR_FEATURE_NOT_PRESENT: return "VK_ERROR_FEATURE_NOT_PRESENT";
        case VK_ERROR_FORMAT_NOT_SUPPORTED: return "VK_ERROR_FORMAT_NOT_SUPPORTED";
        default: return "VkResult " + std::to_string(int(r));
    }
}

#define VK_CHECK(call, what)                                                   \
    do {                                                                       \
        VkResult vk_check_r_ = (call);                                         \
        if (vk_check_r_ != VK_SUCCESS) {                                       \
            error = std::string(what) + " failed: " + vk_result_name(vk_check_r_); \
            return false;                                                      \
        }                                                                      \
    } while (0)

Gpu::~Gpu() {
    if (device_) {
        vkDeviceWaitIdle(device_);
        if (pool_) vkDestroyCommandPool(device_, pool_, nullptr);
        vkDestroyDevice(device_, nullptr);
    }
    if (instance_) vkDestroyInstance(instance_, nullptr);
}

bool Gpu::init(const std::string& filter, std::string& error) {
    if (!load_library(error)) return false;
    VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO};
    app.pApplicationName = "ngsdk_vulkan_sample";
    app.apiVersion = VK_API_VERSION_1_1;
    VkInstanceCreateInfo ici{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
    ici.pApplicationInfo = &app;
    VK_CHECK(vkCreateInstance(&ici, nullptr, &instance_), "vkCreateInstance");
    if (!load_instance(instance_, error)) return false;
    uint32_t n = 0;
    VK_CHECK(vkEnumeratePhysicalDevices(instance_, &n, nullptr), "vkEnumeratePhysicalDevices");
    if (n == 0) {
        error = "no Vulkan device found (is a driver/ICD installed? lavapipe: apt-get install mesa-vulkan-drivers)";
        return false;
    }
    std::vector<VkPhysicalDevice> devices(n);
    VK_CHECK(vkEnumeratePhysicalDevices(instance_, &n, devices.data()), "vkEnumeratePhysicalDevices");
    int best = -1, best_score = -1;
    std::string names;
    for (uint32_t i = 0; i < n; ++i) {
        VkPhysicalDeviceProperties p;
        vkGetPhysicalDeviceProperties(devices[i], &p);
        names += std::string(names.empty() ? "" : ", ") + std::to_string(i) + ": " + p.deviceName;
        uint32_t qn = 0;
        vkGetPhysicalDeviceQueueFamilyProperties(devices[i], &qn, nullptr);
        std::vector<VkQueueFamilyProperties> qf(qn);
        vkGetPhysicalDeviceQueueFamilyProperties(devices[i], &qn, qf.data());
        bool compute = false;
        for (auto& q : qf) compute = compute || (q.queueFlags & VK_QUEUE_COMPUTE_BIT);
        if (!compute) continue;
        int score;
        if (!filter.empty()) {
            bool is_index = filter.find_first_not_of("0123456789") == std::string::npos;
            bool match = is_index ? std::to_string(i) == filter : std::string(p.deviceName).find(filter) != std::string::npos;
            score = match ? 1 : -1;
        } else {
            score = p.deviceType == VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU ? 3
                    : p.deviceType == VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU ? 2 : 1;
        }
        if (score > best_score) {
            best_score = score;
            best = int(i);
        }
    }
    if (best < 0) {
        error = "no Vulkan device matches '" + filter + "' (devices: " + names + ")";
        return false;
    }
    physical_ = devices[size_t(best)];
    vkGetPhysicalDeviceProperties(physical_, &props_);
    vkGetPhysicalDeviceMemoryProperties(physical_, &memory_);
    uint32_t qn = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(physical_, &qn, nullptr);
    std::vector<VkQueueFamilyProperties> qf(qn);
    vkGetPhysicalDeviceQueueFamilyProperties(physical_, &qn, qf.data());
    for (uint32_t i = 0; i < qn; ++i)
        if (qf[i].queueFlags & VK_QUEUE_COMPUTE_BIT) {
            family_ = i;
            timestamp_bits_ = qf[i].timestampValidBits;
            break;
        }
    float priority = 1.0f;
    VkDeviceQueueCreateInfo qci{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
    qci.queueFamilyIndex = family_;
    qci.queueCount = 1;
    qci.pQueuePriorities = &priority;
    VkDeviceCreateInfo dci{VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO};
    dci.queueCreateInfoCount = 1;
    dci.pQueueCreateInfos = &qci;
    VK_CHECK(vkCreateDevice(physical_, &dci, nullptr, &device_), "vkCreateDevice");
    if (!load_device(device_, error)) return false;
    vkGetDeviceQueue(device_, family_, 0, &queue_);
    VkCommandPoolCreateInfo pci{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
    pci.queueFamilyIndex = family_;
    pci.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
    VK_CHECK(vkCreateCommandPool(device_, &pci, nullptr, &pool_), "vkCreateCommandPool");
    return true;
}

std::string Gpu::description() const {
    char buf[256];
    std::snprintf(buf, sizeof buf, "%s (Vulkan %u.%u.%u, driver 0x%x, vendor 0x%04x)", props_.deviceName,
                  VK_API_VERSION_MAJOR(props_.apiVersion), VK_API_VERSION_MINOR(props_.apiVersion),
                  VK_API_VERSION_PATCH(props_.apiVersion), props_.driverVersion, props_.vendorID);
    return buf;
}

bool Gpu::memory_type(uint32_t bits, VkMemoryPropertyFlags want, uint32_t& index) const {
    for (uint32_t i = 0; i < memory_.memoryTypeCount; ++i)
        if ((bits & (1u << i)) && (memory_.memoryTypes[i].propertyFlags & want) == want) {
            index = i;
            return true;
        }
    return false;
}

bool Gpu::create_buffer(VkDeviceSize size, VkBufferUsageFlags usage, VkMemoryPropertyFlags props, Buffer& out,
                        std::string& error) {
    VkBufferCreateInfo bci{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
    bci.size = size ? size : 4;
    bci.usage = usage;
    VK_CHECK(vkCreateBuffer(device_, &bci, nullptr, &out.buffer), "vkCreateBuffer");
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(device_, out.buffer, &req);
    uint32_t type;
    if (!memory_type(req.memoryTypeBits, props, type)) {
        error = "no suitable memory type for a buffer";
        return false;
    }
    VkMemoryAllocateInfo mai{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
    mai.allocationSize = req.size;
    mai.memoryTypeIndex = type;
    VK_CHECK(vkAllocateMemory(device_, &mai, nullptr, &out.memory), "vkAllocateMemory");
    VK_CHECK(vkBindBufferMemory(device_, out.buffer, out.memory, 0), "vkBindBufferMemory");
    out.size = bci.size;
    return true;
}

VkCommandBuffer Gpu::begin_commands() {
    VkCommandBufferAllocateInfo ai{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
    ai.commandPool = pool_;
    ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    ai.commandBufferCount = 1;
    VkCommandBuffer cmd = VK_NULL_HANDLE;
    if (vkAllocateCommandBuffers(device_, &ai, &cmd) != VK_SUCCESS) return VK_NULL_HANDLE;
    VkCommandBufferBeginInfo bi{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
    vkBeginCommandBuffer(cmd, &bi);
    return cmd;
}

bool Gpu::submit_and_wait(VkCommandBuffer cmd, std::string& error) {
    VK_CHECK(vkEndCommandBuffer(cmd), "vkEndCommandBuffer");
    VkFenceCreateInfo fci{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    VkFence fence;
    VK_CHECK(vkCreateFence(device_, &fci, nullptr, &fence), "vkCreateFence");
    VkSubmitInfo si{VK_STRUCTURE_TYPE_SUBMIT_INFO};
    si.commandBufferCount = 1;
    si.pCommandBuffers = &cmd;
    VkResult r = vkQueueSubmit(queue_, 1, &si, fence);
    if (r == VK_SUCCESS) r = vkWaitForFences(device_, 1, &fence, VK_TRUE, UINT64_MAX);
    vkDestroyFence(device_, fence, nullptr);
    vkFreeCommandBuffers(device_, pool_, 1, &cmd);
    VK_CHECK(r, "vkQueueSubmit/vkWaitForFences");
    return true;
}

bool Gpu::upload_buffer(const void* data, VkDeviceSize size, VkBufferUsageFlags usage, Buffer& out, std::string& error) {
    Buffer staging;
    if (!create_buffer(size, VK_BUFFER_USAGE_TRANSFER_SRC_BIT,
                       VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT, staging, error))
        return false;
    void* p = nullptr;
    VK_CHECK(vkMapMemory(device_, staging.memory, 0, staging.size, 0, &p), "vkMapMemory");
    std::memcpy(p, data, size_t(size));
    vkUnmapMemory(device_, staging.memory);
    if (!create_buffer(size, usage | VK_BUFFER_USAGE_TRANSFER_DST_BIT, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, out, error))
        return false;
    VkCommandBuffer cmd = begin_commands();
    VkBufferCopy copy{0, 0, size};
    vkCmdCopyBuffer(cmd, staging.buffer, out.buffer, 1, &copy);
    bool ok = submit_and_wait(cmd, error);
    destroy(staging);
    return ok;
}

bool Gpu::download_buffer(const Buffer& src, void* dst, VkDeviceSize size, std::string& error) {
    Buffer staging;
    if (!create_buffer(size, VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                       VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT, staging, error))
        return false;
    VkCommandBuffer cmd = begin_commands();
    VkBufferCopy copy{0, 0, size};
    vkCmdCopyBuffer(cmd, src.buffer, staging.buffer, 1, &copy);
    if (!submit_and_wait(cmd, error)) return false;
    void* p = nullptr;
    VK_CHECK(vkMapMemory(device_, staging.memory, 0, staging.size, 0, &p), "vkMapMemory");
    std::memcpy(dst, p, size_t(size));
    vkUnmapMemory(device_, staging.memory);
    destroy(staging);
    return true;
}

bool Gpu::upload_image_array(VkFormat format, uint32_t texel_bytes, uint32_t width, uint32_t height, uint32_t layers,
                             const std::vector<std::vector<uint8_t>>& levels, Image& out, std::string& error) {
    VkFormatProperties fp;
    vkGetPhysicalDeviceFormatProperties(physical_, format, &fp);
    if (!(fp.optimalTilingFeatures & VK_FORMAT_FEATURE_SAMPLED_IMAGE_BIT)) {
        error = "the device cannot sample the latent format";
        return false;
    }
    const uint32_t mips = uint32_t(levels.size());
    VkImageCreateInfo ici{VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO};
    ici.imageType = VK_IMAGE_TYPE_2D;
    ici.format = format;
    ici.extent = {width, height, 1};
    ici.mipLevels = mips;
    ici.arrayLayers = layers;
    ici.samples = VK_SAMPLE_COUNT_1_BIT;
    ici.tiling = VK_IMAGE_TILING_OPTIMAL;
    ici.usage = VK_IMAGE_USAGE_SAMPLED_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT;
    ici.initialLayout = VK_IMAGE_LAYOUT_UNDEFINED;
    VK_CHECK(vkCreateImage(device_, &ici, nullptr, &out.image), "vkCreateImage");
    VkMemoryRequirements req;
    vkGetImageMemoryRequirements(device_, out.image, &req);
    uint32_t type;
    if (!memory_type(req.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, type)) {
        error = "no device-local memory for an image";
        return false;
    }
    VkMemoryAllocateInfo mai{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
    mai.allocationSize = req.size;
    mai.memoryTypeIndex = type;
    VK_CHECK(vkAllocateMemory(device_, &mai, nullptr, &out.memory), "vkAllocateMemory");
    VK_CHECK(vkBindImageMemory(device_, out.image, out.memory, 0), "vkBindImageMemory");
    size_t total = 0;
    for (const auto& l : levels) total += l.size();
    Buffer staging;
    if (!create_buffer(total, VK_BUFFER_USAGE_TRANSFER_SRC_BIT,
                       VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT, staging, error))
        return false;
    uint8_t* p = nullptr;
    VK_CHECK(vkMapMemory(device_, staging.memory, 0, staging.size, 0, reinterpret_cast<void**>(&p)), "vkMapMemory");
    std::vector<VkBufferImageCopy> copies;
    size_t offset = 0;
    for (uint32_t m = 0; m < mips; ++m) {
        std::memcpy(p + offset, levels[m].data(), levels[m].size());
        const uint32_t w = std::max(1u, width >> m), h = std::max(1u, height >> m);
        // levels[m] is (layers, h, w, texel): one copy region per layer.
        for (uint32_t l = 0; l < layers; ++l) {
            VkBufferImageCopy c{};
            c.bufferOffset = offset + size_t(l) * w * h * texel_bytes;
            c.imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, m, l, 1};
            c.imageExtent = {w, h, 1};
            copies.push_back(c);
        }
        offset += levels[m].size();
    }
    vkUnmapMemory(device_, staging.memory);
    VkCommandBuffer cmd = begin_commands();
    VkImageMemoryBarrier b{VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER};
    b.srcQueueFamilyIndex = b.dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED;
    b.image = out.image;
    b.subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, mips, 0, layers};
    b.oldLayout = VK_IMAGE_LAYOUT_UNDEFINED;
    b.newLayout = VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL;
    b.dstAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
    vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 0, nullptr, 0,
                         nullptr, 1, &b);
    vkCmdCopyBufferToImage(cmd, staging.buffer, out.image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, uint32_t(copies.size()),
                           copies.data());
    b.oldLayout = VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL;
    b.newLayout = VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL;
    b.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
    b.dstAccessMask = VK_ACCESS_SHADER_READ_BIT;
    vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 0, nullptr, 0,
                         nullptr, 1, &b);
    bool ok = submit_and_wait(cmd, error);
    destroy(staging);
    if (!ok) return false;
    VkImageViewCreateInfo vci{VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO};
    vci.image = out.image;
    vci.viewType = VK_IMAGE_VIEW_TYPE_2D_ARRAY;
    vci.format = format;
    vci.subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, mips, 0, layers};
    VK_CHECK(vkCreateImageView(device_, &vci, nullptr, &out.view), "vkCreateImageView");
    out.width = width;
    out.height = height;
    out.layers = layers;
    out.mips = mips;
    return true;
}

void Gpu::destroy(Buffer& b) {
    if (b.buffer) vkDestroyBuffer(device_, b.buffer, nullptr);
    if (b.memory) vkFreeMemory(device_, b.memory, nullptr);
    b = Buffer();
}

void Gpu::destroy(Image& i) {
    if (i.view) vkDestroyImageView(device_, i.view, nullptr);
    if (i.image) vkDestroyImage(device_, i.image, nullptr);
    if (i.memory) vkFreeMemory(device_, i.memory, nullptr);
    i = Image();
}

}  // namespace vksample
