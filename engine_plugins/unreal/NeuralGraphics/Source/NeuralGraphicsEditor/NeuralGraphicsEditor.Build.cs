// NeuralGraphicsEditor: the .ngasset import factory (latent textures with exact-data settings,
// UNeuralTexture, decode material function) and reimport.
using UnrealBuildTool;

public class NeuralGraphicsEditor : ModuleRules
{
    public NeuralGraphicsEditor(ReadOnlyTargetRules Target) : base(Target)
    {
        PCHUsage = PCHUsageMode.UseExplicitOrSharedPCHs;
        PublicDependencyModuleNames.AddRange(new string[] { "Core", "CoreUObject", "Engine" });
        PrivateDependencyModuleNames.AddRange(new string[]
        {
            "NeuralGraphics", "NeuralGraphicsCore", "UnrealEd", "AssetTools", "AssetRegistry", "Slate", "SlateCore"
        });
    }
}
