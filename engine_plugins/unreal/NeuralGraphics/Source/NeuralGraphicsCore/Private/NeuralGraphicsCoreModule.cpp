// Maps the plugin's Shaders folder to /Plugin/NeuralGraphics so materials and global shaders can
// #include "/Plugin/NeuralGraphics/Private/ngsdk/<shared>.ush" (the same files the Vulkan sample
// compiles).
#include "Interfaces/IPluginManager.h"
#include "Misc/Paths.h"
#include "Modules/ModuleManager.h"
#include "ShaderCore.h"

class FNeuralGraphicsCoreModule : public IModuleInterface
{
public:
    virtual void StartupModule() override
    {
        TSharedPtr<IPlugin> Plugin = IPluginManager::Get().FindPlugin(TEXT("NeuralGraphics"));
        if (Plugin.IsValid())
        {
            const FString ShaderDir = FPaths::Combine(Plugin->GetBaseDir(), TEXT("Shaders"));
            AddShaderSourceDirectoryMapping(TEXT("/Plugin/NeuralGraphics"), ShaderDir);
        }
    }
};

IMPLEMENT_MODULE(FNeuralGraphicsCoreModule, NeuralGraphicsCore)
