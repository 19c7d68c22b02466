// NeuralGraphics runtime: the UNeuralTexture asset, CPU decode through the ngsdk loader
// (NeuralGraphicsCore) and Blueprint calls that decode a whole texture into UTexture2D or a render
// target.
using UnrealBuildTool;

public class NeuralGraphics : ModuleRules
{
    public NeuralGraphics(ReadOnlyTargetRules Target) : base(Target)
    {
        PCHUsage = PCHUsageMode.UseExplicitOrSharedPCHs;
        PublicDependencyModuleNames.AddRange(new string[] { "Core", "CoreUObject", "Engine" });
        PrivateDependencyModuleNames.AddRange(new string[] { "NeuralGraphicsCore", "RenderCore", "RHI" });
    }
}
