// MaterialHarness.hlsl - a compute shader shaped like the code Unreal generates for the NeuralGraphics
// material Custom node: the include, a CustomExpression function with the node's inputs (texture
// objects become Texture + Sampler parameters) and its additional outputs, and a caller. compile_ush.sh
// splices the node code (UNeuralTexture::MaterialCustomNodeCode for a 2-grid bundle) into the body.
// The Vulkan build runs it (ngsdk_material_harness) on lavapipe against runtime_ref's decode_uv.
// set 0: 0 parameter texture, 1-2 grids, 3 sampler, 4 output (4 float4 per texel: channels 0-15).
#include "UnrealShim.ush"
#include "NeuralTextureMaterial.ush"

[[vk::binding(0, 0)]] Texture2D Material_Params;
[[vk::binding(1, 0)]] Texture2DArray Material_Grid0;
[[vk::binding(2, 0)]] Texture2DArray Material_Grid1;
[[vk::binding(3, 0)]] SamplerState Material_Sampler;
[[vk::binding(4, 0)]] RWStructuredBuffer<float4> HarnessOut;

struct HarnessPush
{
    int width;
    int height;
    float mip;
    int pad;
    float invW;  // f32(0.5) / f32(width): texel centres f32(2i + 1) * invW, one rounding (as runtime_ref)
    float invH;
};
[[vk::push_constant]] ConstantBuffer<HarnessPush> Push;

MaterialFloat4 CustomExpression0(FMaterialPixelParameters Parameters, MaterialFloat2 UV, MaterialFloat Mip,
                                 Texture2D Params, SamplerState ParamsSampler, Texture2DArray Grid0,
                                 SamplerState Grid0Sampler, Texture2DArray Grid1, SamplerState Grid1Sampler,
                                 inout MaterialFloat4 Out1, inout MaterialFloat4 Out2, inout MaterialFloat4 Out3)
{
// @custom-node-code
}

[numthreads(8, 8, 1)]
void main(uint3 id : SV_DispatchThreadID)
{
    if (int(id.x) >= Push.width || int(id.y) >= Push.height)
    {
        return;
    }
    FMaterialPixelParameters p;
    p.TexCoords[0] = float2(float(2 * int(id.x) + 1) * Push.invW, float(2 * int(id.y) + 1) * Push.invH);
    float4 o1 = float4(0.0, 0.0, 0.0, 0.0);
    float4 o2 = o1;
    float4 o3 = o1;
    float4 o0 = CustomExpression0(p, p.TexCoords[0], Push.mip, Material_Params, Material_Sampler, Material_Grid0,
                                  Material_Sampler, Material_Grid1, Material_Sampler, o1, o2, o3);
    int at = (int(id.y) * Push.width + int(id.x)) * 4;
    HarnessOut[at] = o0;
    HarnessOut[at + 1] = o1;
    HarnessOut[at + 2] = o2;
    HarnessOut[at + 3] = o3;
}
