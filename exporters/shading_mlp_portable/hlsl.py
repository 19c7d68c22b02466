"""HLSL (Shader Model 6.2+, ``-enable-16bit-types``) inference compute shader for a shading MLP.

fp16 arithmetic with ``half`` as a real 16-bit type; every value is declared ``precise`` so no
multiply and add are fused or reordered. The parameter buffer is the binary layout file bound as
a ``StructuredBuffer<half>`` (stride 2; ``StructuredBuffer<float>`` for fp32).
``ngsdk_eval(float2 uv)`` is the reusable function; ``ngsdk_main`` is a conformance entry point
(t0 params, t1 UVs, u0 outputs; Vulkan bindings 0, 1, 2 of set 0 as in the GLSL and WGSL exports).
"""

from __future__ import annotations

from pathlib import Path

from ngsdk.asset.atomic import atomic_write_bytes
from ngsdk.asset.shading_mlp import ShadingMlpAsset
from ngsdk.exporters.shading_mlp_portable._codegen import PREFIX, Dialect, generate


class HLSL(Dialect):
    name = "hlsl"
    f32, f16, i32, u32 = "float", "half", "int", "uint"

    def to_f32(self, e: str) -> str:
        return f"(float)({e})"

    def to_t(self, e: str) -> str:
        return f"(half)({e})" if self.mode == "native" else e

    def to_i32(self, e: str) -> str:
        return f"(int)({e})"

    def lit16(self, v: float) -> str:
        return f"(half){self.lit32(float(v))}"

    def param(self, index: str) -> str:
        return f"{PREFIX}params[{index}]"

    def resources(self) -> list[str]:
        return [f"[[vk::binding(0, 0)]] StructuredBuffer<{self.t}> {PREFIX}params : register(t0);", ""]

    def entry_point(self, outputs: int) -> list[str]:
        return [
            f"[[vk::binding(1, 0)]] StructuredBuffer<float2> {PREFIX}uv : register(t1);",
            f"[[vk::binding(2, 0)]] RWStructuredBuffer<float> {PREFIX}out : register(u0);",
            "",
            "[numthreads(64, 1, 1)]",
            f"void {PREFIX}main(uint3 gid : SV_DispatchThreadID) {{",
            "    uint k = gid.x;",
            "    uint n, stride;",
            f"    {PREFIX}uv.GetDimensions(n, stride);",
            "    if (k >= n) { return; }",
            f"    {self.vec3_t()} rgb = {PREFIX}eval({PREFIX}uv[k]);",
            f"    {PREFIX}out[3u * k + 0u] = (float)rgb.x;",
            f"    {PREFIX}out[3u * k + 1u] = (float)rgb.y;",
            f"    {PREFIX}out[3u * k + 2u] = (float)rgb.z;",
            "}",
        ]


def generate_hlsl(asset: ShadingMlpAsset, mode: str = "native", layout: str = "row_major") -> str:
    """HLSL source evaluating ``asset`` (``mode``: native fp16 or fp32)."""
    if mode == "emulated":
        raise ValueError("HLSL export: use mode 'native' (fp16) or 'fp32'")
    return generate(HLSL(mode), asset, layout)


def write_hlsl(
    asset: ShadingMlpAsset, path: str | Path, mode: str = "native", layout: str = "row_major"
) -> None:
    atomic_write_bytes(path, generate_hlsl(asset, mode, layout).encode("utf-8"))
