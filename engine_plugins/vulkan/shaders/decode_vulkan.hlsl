// Vulkan compute entry point of the neural texture decode: binds the includer interface of the shared
// source (engine_plugins/shaders/NeuralTextureDecode.ush) to Vulkan resources and decodes one texel
// of one mip per invocation. Compiled to SPIR-V by glslang's HLSL front end (see CMakeLists.txt).
//
// set 0: 0 parameter blob (int32, NTD_Param: decoder, sizes, each mip's taps and LOD input),
//        1 output (one uint per decoded byte, (pixel, channel) row-major), 2-5 latent grids
//        (RGBA8 UNORM 2D arrays with every stored level), 6 the latent sampler (hardware mode).

#ifndef NTD_MAX_WIDTH
#define NTD_MAX_WIDTH 256
#endif

struct NtdPush
{
    int mip;        // texture mip to decode
    int path;       // 0: exact whole mip, 3: hardware whole mip (NTD_Decode's path)
    int width;      // mip size
    int height;
    int channels;   // decoder outputs
    int pad0;
    int pad1;
    int pad2;
    float invW;     // hardware path: f32(0.5) / f32(width)
    float invH;     // hardware path: f32(0.5) / f32(height)
};

[[vk::push_constant]] ConstantBuffer<NtdPush> Push;
[[vk::binding(0, 0)]] StructuredBuffer<int> NtdParams;
[[vk::binding(1, 0)]] RWStructuredBuffer<uint> NtdOutput;
[[vk::binding(2, 0)]] Texture2DArray<float4> NtdGrid0;
[[vk::binding(3, 0)]] Texture2DArray<float4> NtdGrid1;
[[vk::binding(4, 0)]] Texture2DArray<float4> NtdGrid2;
[[vk::binding(5, 0)]] Texture2DArray<float4> NtdGrid3;
[[vk::binding(6, 0)]] SamplerState NtdSampler;

int NTD_Param(int index)
{
    return NtdParams[index];
}

float4 NTD_LoadGrid(int grid, int slice, int x, int y, int level)
{
    int4 at = int4(x, y, slice, level);
    if (grid == 0)
    {
        return NtdGrid0.Load(at);
    }
    if (grid == 1)
    {
        return NtdGrid1.Load(at);
    }
    if (grid == 2)
    {
        return NtdGrid2.Load(at);
    }
    return NtdGrid3.Load(at);
}

float4 NTD_SampleGrid(int grid, int slice, float u, float v, float lod)
{
    float3 at = float3(u, v, float(slice));
    if (grid == 0)
    {
        return NtdGrid0.SampleLevel(NtdSampler, at, lod);
    }
    if (grid == 1)
    {
        return NtdGrid1.SampleLevel(NtdSampler, at, lod);
    }
    if (grid == 2)
    {
        return NtdGrid2.SampleLevel(NtdSampler, at, lod);
    }
    return NtdGrid3.SampleLevel(NtdSampler, at, lod);
}

void NTD_Store(int pixel, int channel, int value)
{
    NtdOutput[pixel * Push.channels + channel] = uint(value);
}

#include "NeuralTextureDecode.ush"

[numthreads(8, 8, 1)]
void main(uint3 id : SV_DispatchThreadID)
{
    int x = int(id.x);
    int y = int(id.y);
    if (x >= Push.width || y >= Push.height)
    {
        return;
    }
    NTD_Decode(y * Push.width + x, Push.path, x, y, Push.mip, Push.invW, Push.invH, 0.0);
}
