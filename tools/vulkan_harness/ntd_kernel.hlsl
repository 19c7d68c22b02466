// Compute kernel around engine_plugins/shaders/NeuralTextureDecode.ush for the Vulkan conformance
// harness (tools/vulkan_harness/ntd_decode.py): compiled with glslangValidator -D to SPIR-V. The WGSL
// kernel in ntd_decode.py has the same bindings and job layout, except that here texel loads go through
// one Texture2D view per array slice (bindings 9-20): wgpu's SPIR-V reader (naga 29) cannot parse
// OpImageFetch on arrayed images. An engine loads from the Texture2DArray directly.
[[vk::binding(0, 0)]] Texture2DArray<float4> grid0;
[[vk::binding(1, 0)]] Texture2DArray<float4> grid1;
[[vk::binding(2, 0)]] Texture2DArray<float4> grid2;
[[vk::binding(3, 0)]] Texture2DArray<float4> grid3;
[[vk::binding(4, 0)]] SamplerState samp;
[[vk::binding(5, 0)]] StructuredBuffer<int> blob;
[[vk::binding(6, 0)]] StructuredBuffer<int> job;
[[vk::binding(7, 0)]] StructuredBuffer<float> coords;
[[vk::binding(8, 0)]] RWStructuredBuffer<int> outb;
[[vk::binding(9, 0)]] Texture2D<float4> g0s0;
[[vk::binding(10, 0)]] Texture2D<float4> g0s1;
[[vk::binding(11, 0)]] Texture2D<float4> g0s2;
[[vk::binding(12, 0)]] Texture2D<float4> g1s0;
[[vk::binding(13, 0)]] Texture2D<float4> g1s1;
[[vk::binding(14, 0)]] Texture2D<float4> g1s2;
[[vk::binding(15, 0)]] Texture2D<float4> g2s0;
[[vk::binding(16, 0)]] Texture2D<float4> g2s1;
[[vk::binding(17, 0)]] Texture2D<float4> g2s2;
[[vk::binding(18, 0)]] Texture2D<float4> g3s0;
[[vk::binding(19, 0)]] Texture2D<float4> g3s1;
[[vk::binding(20, 0)]] Texture2D<float4> g3s2;

int NTD_Param(int i) { return blob[i]; }
float4 NTD_LoadGrid(int g, int s, int x, int y, int level)
{
    int k = 3 * g + s;
    int3 p = int3(x, y, level);
    if (k == 0) { return g0s0.Load(p); }
    if (k == 1) { return g0s1.Load(p); }
    if (k == 2) { return g0s2.Load(p); }
    if (k == 3) { return g1s0.Load(p); }
    if (k == 4) { return g1s1.Load(p); }
    if (k == 5) { return g1s2.Load(p); }
    if (k == 6) { return g2s0.Load(p); }
    if (k == 7) { return g2s1.Load(p); }
    if (k == 8) { return g2s2.Load(p); }
    if (k == 9) { return g3s0.Load(p); }
    if (k == 10) { return g3s1.Load(p); }
    return g3s2.Load(p);
}
float4 NTD_SampleGrid(int g, int s, float u, float v, float lod)
{
    if (g == 0) { return grid0.SampleLevel(samp, float3(u, v, float(s)), lod); }
    if (g == 1) { return grid1.SampleLevel(samp, float3(u, v, float(s)), lod); }
    if (g == 2) { return grid2.SampleLevel(samp, float3(u, v, float(s)), lod); }
    return grid3.SampleLevel(samp, float3(u, v, float(s)), lod);
}
void NTD_Store(int pixel, int c, int value) { outb[pixel * job[4] + c] = value; }

#include "NeuralTextureDecode.ush"

[numthreads(64, 1, 1)]
void main(uint3 gid : SV_DispatchThreadID)
{
    int i = int(gid.x) + int(gid.y) * job[11] * 64;
    if (i >= job[3]) { return; }
    int path = job[0];
    int mipW = job[1];
    if (path == 0 || path == 3)
    {
        float u = asfloat(job[9]);
        float v = asfloat(job[10]);
        NTD_Decode(i, path, i % mipW, i / mipW, job[5], u, v, 0.0);
    }
    else
    {
        NTD_Decode(i, path, 0, 0, job[5], coords[3 * i], coords[3 * i + 1], coords[3 * i + 2]);
    }
}
