"""GLSL (Vulkan, #version 450) inference compute shader for a shading MLP.

fp16 arithmetic through GL_EXT_shader_explicit_arithmetic_types_float16 and fp16 storage through
GL_EXT_shader_16bit_storage. Every value is declared ``precise`` so the compiler marks each
operation NoContraction (no fused multiply-add). Conversions f32 -> fp16 must round to nearest
even (Vulkan leaves the rounding mode of OpFConvert to the implementation unless the
RoundingModeRTE execution mode of VK_KHR_shader_float_controls is requested; lavapipe rounds to
nearest even).

Bindings (set 0): 0 = parameter buffer (the binary layout file), 1 = UVs (vec2), 2 = outputs
(3 floats per UV). ``ngsdk_eval(vec2 uv)`` is the reusable function.
"""

from __future__ import annotations

from pathlib import Path

from ngsdk.asset.atomic import atomic_write_bytes
from ngsdk.asset.shading_mlp import ShadingMlpAsset
from ngsdk.exporters.shading_mlp_portable._codegen import PREFIX, Dialect, generate


class GLSL(Dialect):
    name = "glsl"
    f32, f16, i32, u32 = "float", "float16_t", "int", "uint"

    def lit32(self, v: float) -> str:
        return super().lit32(v)

    def bits_to_f32(self, e: str, signed: bool = False) -> str:
        return f"{'int' if signed else 'uint'}BitsToFloat({e})"

    def f32_to_bits(self, e: str) -> str:
        return f"floatBitsToUint({e})"

    def vec2(self) -> str:
        return "vec2"

    def vec3_t(self) -> str:
        return "f16vec3" if self.mode == "native" else "vec3"

    def param(self, index: str) -> str:
        return f"{PREFIX}params[{index}]"

    def header(self) -> list[str]:
        lines = ["#version 450"]
        if self.mode == "native":
            lines += [
                "#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require",
                "#extension GL_EXT_shader_16bit_storage : require",
            ]
        return lines + [""]

    def resources(self) -> list[str]:
        elem = "float16_t" if self.mode == "native" else "float"
        return [
            f"layout(std430, set = 0, binding = 0) readonly buffer NgsdkParams "
            f"{{ {elem} {PREFIX}params[]; }};",
            "",
        ]

    def entry_point(self, outputs: int) -> list[str]:
        return [
            f"layout(std430, set = 0, binding = 1) readonly buffer NgsdkUV {{ vec2 {PREFIX}uv[]; }};",
            f"layout(std430, set = 0, binding = 2) writeonly buffer NgsdkOut {{ float {PREFIX}out[]; }};",
            "layout(local_size_x = 64) in;",
            "",
            "void main() {",
            "    uint k = gl_GlobalInvocationID.x;",
            f"    if (k >= uint({PREFIX}uv.length())) {{ return; }}",
            f"    {self.vec3_t()} rgb = {PREFIX}eval({PREFIX}uv[k]);",
            f"    {PREFIX}out[3u * k + 0u] = float(rgb.x);",
            f"    {PREFIX}out[3u * k + 1u] = float(rgb.y);",
            f"    {PREFIX}out[3u * k + 2u] = float(rgb.z);",
            "}",
        ]


def generate_glsl(asset: ShadingMlpAsset, mode: str = "native", layout: str = "row_major") -> str:
    """GLSL source evaluating ``asset`` (``mode``: native fp16 or fp32)."""
    if mode == "emulated":
        raise ValueError("GLSL export: use mode 'native' (fp16) or 'fp32'")
    return generate(GLSL(mode), asset, layout)


def write_glsl(
    asset: ShadingMlpAsset, path: str | Path, mode: str = "native", layout: str = "row_major"
) -> None:
    atomic_write_bytes(path, generate_glsl(asset, mode, layout).encode("utf-8"))
