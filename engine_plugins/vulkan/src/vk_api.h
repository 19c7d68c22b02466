// Vulkan entry points loaded at run time from libvulkan.so.1 (or NGSDK_VULKAN_LIBRARY), so the sample
// has no link-time dependency on a loader: on a machine where the loader is unpacked by hand the
// binary still starts, and says clearly when no loader can be found.
#pragma once

#define VK_NO_PROTOTYPES
#include <vulkan/vulkan.h>

#include <string>

#define NGSDK_VK_GLOBAL_FUNCS(X) \
    X(vkCreateInstance)          \
    X(vkEnumerateInstanceVersion)

#define NGSDK_VK_INSTANCE_FUNCS(X)              \
    X(vkDestroyInstance)                        \
    X(vkEnumeratePhysicalDevices)               \
    X(vkGetPhysicalDeviceProperties)            \
    X(vkGetPhysicalDeviceQueueFamilyProperties) \
    X(vkGetPhysicalDeviceMemoryProperties)      \
    X(vkGetPhysicalDeviceFormatProperties)      \
    X(vkCreateDevice)                           \
    X(vkGetDeviceProcAddr)

#define NGSDK_VK_DEVICE_FUNCS(X)      \
    X(vkDestroyDevice)                \
    X(vkGetDeviceQueue)               \
    X(vkCreateBuffer)                 \
    X(vkDestroyBuffer)                \
    X(vkGetBufferMemoryRequirements)  \
    X(vkAllocateMemory)               \
    X(vkFreeMemory)                   \
    X(vkBindBufferMemory)             \
    X(vkMapMemory)                    \
    X(vkUnmapMemory)                  \
    X(vkCreateImage)                  \
    X(vkDestroyImage)                 \
    X(vkGetImageMemoryRequirements)   \
    X(vkBindImageMemory)              \
    X(vkCreateImageView)              \
    X(vkDestroyImageView)             \
    X(vkCreateSampler)                \
    X(vkDestroySampler)               \
    X(vkCreateShaderModule)           \
    X(vkDestroyShaderModule)          \
    X(vkCreateDescriptorSetLayout)    \
    X(vkDestroyDescriptorSetLayout)   \
    X(vkCreatePipelineLayout)         \
    X(vkDestroyPipelineLayout)        \
    X(vkCreateComputePipelines)       \
    X(vkDestroyPipeline)              \
    X(vkCreateDescriptorPool)         \
    X(vkDestroyDescriptorPool)        \
    X(vkAllocateDescriptorSets)       \
    X(vkUpdateDescriptorSets)         \
    X(vkCreateCommandPool)            \
    X(vkDestroyCommandPool)           \
    X(vkAllocateCommandBuffers)       \
    X(vkFreeCommandBuffers)           \
    X(vkBeginCommandBuffer)           \
    X(vkEndCommandBuffer)             \
    X(vkCmdBindPipeline)              \
    X(vkCmdBindDescriptorSets)        \
    X(vkCmdPushConstants)             \
    X(vkCmdDispatch)                  \
    X(vkCmdPipelineBarrier)           \
    X(vkCmdCopyBuffer)                \
    X(vkCmdCopyBufferToImage)         \
    X(vkCmdWriteTimestamp)            \
    X(vkCmdResetQueryPool)            \
    X(vkCreateQueryPool)              \
    X(vkDestroyQueryPool)             \
    X(vkGetQueryPoolResults)          \
    X(vkQueueSubmit)                  \
    X(vkQueueWaitIdle)                \
    X(vkCreateFence)                  \
    X(vkDestroyFence)                 \
    X(vkWaitForFences)                \
    X(vkDeviceWaitIdle)

namespace vkapi {

#define NGSDK_VK_DECLARE(name) extern PFN_##name name;
extern PFN_vkGetInstanceProcAddr vkGetInstanceProcAddr;
NGSDK_VK_GLOBAL_FUNCS(NGSDK_VK_DECLARE)
NGSDK_VK_INSTANCE_FUNCS(NGSDK_VK_DECLARE)
NGSDK_VK_DEVICE_FUNCS(NGSDK_VK_DECLARE)
#undef NGSDK_VK_DECLARE

// Open the loader library; false with `error` set when none can be opened.
bool load_library(std::string& error);
bool load_instance(VkInstance instance, std::string& error);
bool load_device(VkDevice device, std::string& error);

}  // namespace vkapi
