// NeuralGraphicsCore: the engine-independent ngsdk loader (engine_plugins/common, copied into
// Private/ngsdk_loader and Public/ngsdk by tools/install_unreal_plugin.sh) and the mapping of the
// plugin's shader folder to the virtual path /Plugin/NeuralGraphics. Loads at PostConfigInit so the
// mapping exists before any shader compiles. No UObjects live here.
using System.IO;
using UnrealBuildTool;

public class NeuralGraphicsCore : ModuleRules
{
    public NeuralGraphicsCore(ReadOnlyTargetRules Target) : base(Target)
    {
        PCHUsage = PCHUsageMode.UseExplicitOrSharedPCHs;
        // The loader sources define file-local helpers with the same names; unity builds would
        // merge them into one translation unit.
        bUseUnity = false;
        // The loader reports errors through return values; it needs neither exceptions nor RTTI.
        bEnableExceptions = false;

        PublicIncludePaths.Add(Path.Combine(ModuleDirectory, "Public"));
        PublicDefinitions.Add("NGSDK_HAVE_ZLIB=1");
        PublicDependencyModuleNames.AddRange(new string[] { "Core" });
        PrivateDependencyModuleNames.AddRange(new string[] { "Projects", "RenderCore" });
        AddEngineThirdPartyPrivateStaticDependencies(Target, "zlib");

        if (!File.Exists(Path.Combine(ModuleDirectory, "Public", "ngsdk", "bundle.h")))
        {
            throw new BuildException("NeuralGraphicsCore: the ngsdk loader sources are missing. Install the plugin " +
                "with tools/install_unreal_plugin.sh (it copies engine_plugins/common and the shared shaders in).");
        }
    }
}
