#include "vk_api.h"

#include <dlfcn.h>

#include <cstdlib>

namespace vkapi {

PFN_vkGetInstanceProcAddr vkGetInstanceProcAddr = nullptr;
#define NGSDK_VK_DEFINE(name) PFN_##name name = nullptr;
NGSDK_VK_GLOBAL_FUNCS(NGSDK_VK_DEFINE)
NGSDK_VK_INSTANCE_FUNCS(NGSDK_VK_DEFINE)
NGSDK_VK_DEVICE_FUNCS(NGSDK_VK_DEFINE)
#undef NGSDK_VK_DEFINE

bool load_library(std::string& error) {
    const char* env = std::getenv("NGSDK_VULKAN_LIBRARY");
    const char* names[] = {env, "libvulkan.so.1", "libvulkan.so"};
    void* lib = nullptr;
    for (const char* n : names) {
        if (n && *n && (lib = dlopen(n, RTLD_NOW | RTLD_LOCAL))) break;
    }
    if (!lib) {
        error = "no Vulkan loader found (libvulkan.so.1; install libvulkan1 or set NGSDK_VULKAN_LIBRARY)";
        return false;
    }
    vkGetInstanceProcAddr = reinterpret_cast<PFN_vkGetInstanceProcAddr>(dlsym(lib, "vkGetInstanceProcAddr"));
    if (!vkGetInstanceProcAddr) {
        error = "the Vulkan loader lacks vkGetInstanceProcAddr";
        return false;
    }
#define NGSDK_VK_LOAD_GLOBAL(name) name = reinterpret_cast<PFN_##name>(vkGetInstanceProcAddr(VK_NULL_HANDLE, #name));
    NGSDK_VK_GLOBAL_FUNCS(NGSDK_VK_LOAD_GLOBAL)
#undef NGSDK_VK_LOAD_GLOBAL
    if (!vkCreateInstance) {
        error = "the Vulkan loader lacks vkCreateInstance";
        return false;
    }
    return true;
}

bool load_instance(VkInstance instance, std::string& error) {
#define NGSDK_VK_LOAD_INSTANCE(name)                                                    \
    name = reinterpret_cast<PFN_##name>(vkGetInstanceProcAddr(instance, #name));      \
    if (!name) {                                                                        \
        error = "missing Vulkan instance function " #name;                             \
        return false;                                                                   \
    }
    NGSDK_VK_INSTANCE_FUNCS(NGSDK_VK_LOAD_INSTANCE)
#undef NGSDK_VK_LOAD_INSTANCE
    return true;
}

bool load_device(VkDevice device, std::string& error) {
#define NGSDK_VK_LOAD_DEVICE(name)                                                   \
    name = reinterpret_cast<PFN_##name>(vkGetDeviceProcAddr(device, #name));       \
    if (!name) {                                                                     \
        error = "missing Vulkan device function " #name;                            \
        return false;                                                                \
    }
    NGSDK_VK_DEVICE_FUNCS(NGSDK_VK_LOAD_DEVICE)
#undef NGSDK_VK_LOAD_DEVICE
    return true;
}

}  // namespace vkapi
