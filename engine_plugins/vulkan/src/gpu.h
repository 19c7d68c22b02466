// A small Vulkan compute context: one device, one queue, buffers and sampled images with staging
// uploads, one-shot command buffers, timestamps. Enough for the decode sample and nothing more.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vk_api.h"

namespace vksample {

struct Buffer {
    VkBuffer buffer = VK_NULL_HANDLE;
    VkDeviceMemory memory = VK_NULL_HANDLE;
    VkDeviceSize size = 0;
};

struct Image {
    VkImage image = VK_NULL_HANDLE;
    VkDeviceMemory memory = VK_NULL_HANDLE;
    VkImageView view = VK_NULL_HANDLE;
    uint32_t width = 0, height = 0, layers = 0, mips = 0;
};

class Gpu {
public:
    ~Gpu();
    // Pick a device: `filter` is an index or a substring of the device name; empty prefers a
    // discrete GPU, then any device with a compute queue.
    bool init(const std::string& filter, std::string& error);

    bool create_buffer(VkDeviceSize size, VkBufferUsageFlags usage, VkMemoryPropertyFlags props, Buffer& out,
                       std::string& error);
    // A device-local storage buffer filled with `data` through a staging copy.
    bool upload_buffer(const void* data, VkDeviceSize size, VkBufferUsageFlags usage, Buffer& out, std::string& error);
    bool download_buffer(const Buffer& src, void* dst, VkDeviceSize size, std::string& error);
    // A sampled 2D array image with every mip: levels[m] holds (layers, h_m, w_m, texel_bytes) bytes.
    bool upload_image_array(VkFormat format, uint32_t texel_bytes, uint32_t width, uint32_t height, uint32_t layers,
                            const std::vector<std::vector<uint8_t>>& levels, Image& out, std::string& error);
    void destroy(Buffer& b);
    void destroy(Image& i);

    VkCommandBuffer begin_commands();
    bool submit_and_wait(VkCommandBuffer cmd, std::string& error);

    VkDevice device() const { return device_; }
    const VkPhysicalDeviceProperties& properties() const { return props_; }
    bool timestamps() const { return timestamp_bits_ != 0; }
    std::string description() const;

private:
    bool memory_type(uint32_t bits, VkMemoryPropertyFlags want, uint32_t& index) const;

    VkInstance instance_ = VK_NULL_HANDLE;
    VkPhysicalDevice physical_ = VK_NULL_HANDLE;
    VkDevice device_ = VK_NULL_HANDLE;
    VkQueue queue_ = VK_NULL_HANDLE;
    uint32_t family_ = 0;
    uint32_t timestamp_bits_ = 0;
    VkCommandPool pool_ = VK_NULL_HANDLE;
    VkPhysicalDeviceProperties props_{};
    VkPhysicalDeviceMemoryProperties memory_{};
};

std::string vk_result_name(VkResult r);

}  // namespace vksample
