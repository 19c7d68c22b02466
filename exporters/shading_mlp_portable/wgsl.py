"""WGSL inference shader (WebGPU / wgpu) for a shading MLP.

``native`` uses ``enable f16;`` (device feature ``shader-f16``): fp16 arithmetic, where each
operation rounds its result. ``emulated`` is for devices without ``shader-f16``: f32 arithmetic
with every result rounded to fp16 through ``pack2x16float``/``unpack2x16float`` (exact because
an f32 result of two fp16 operands rounds to the same fp16 value; needs pack2x16float to round to
nearest even, as lavapipe does). WGSL has no ``precise``: the contract relies on the driver not
contracting multiply-adds (lavapipe does not; docs/shading.md lists what was measured).

Bindings (group 0): 0 = parameter buffer (the binary layout file: ``array<f16>`` native,
``array<u32>`` emulated, ``array<f32>`` fp32), 1 = ``array<vec2<f32>>`` UVs, 2 = ``array<f32>``
outputs (3 per UV, the fp16 results widened exactly).
"""

from __future__ import annotations

from pathlib import Path

from ngsdk.asset.atomic import atomic_write_bytes
from ngsdk.asset.shading_mlp import ShadingMlpAsset
from ngsdk.exporters.shading_mlp_portable._codegen import PREFIX, Dialect, generate


class WGSL(Dialect):
    name = "wgsl"
    f32, f16, i32, u32 = "f32", "f16", "i32", "u32"
    precise = ""

    def let(self, ty: str, name: str, expr: str) -> str:
        return f"let {name}: {ty} = {expr};"

    def var(self, ty: str, name: str, expr: str) -> str:
        return f"var {name}: {ty} = {expr};"

    def array(self, ty: str, name: str, n: int) -> str:
        return f"var {name}: array<{ty}, {n}>;"

    def for_u32(self, var: str, n: int) -> str:
        return f"for (var {var}: u32 = 0u; {var} < {n}u; {var}++) {{"

    def fn(self, ret: str, name: str, params: list[tuple[str, str]]) -> str:
        return f"fn {name}({', '.join(f'{n}: {t}' for n, t in params)}) -> {ret} {{"

    def lit32(self, v: float) -> str:
        text = super().lit32(v)
        return text

    def select(self, cond: str, t: str, f: str) -> str:
        return f"select({f}, {t}, {cond})"

    def bits_to_f32(self, e: str, signed: bool = False) -> str:
        return f"bitcast<f32>({e})"

    def f32_to_bits(self, e: str) -> str:
        return f"bitcast<u32>({e})"

    def shift(self, n: int) -> str:
        return f"{n}u"

    def vec2(self) -> str:
        return "vec2<f32>"

    def vec3_t(self) -> str:
        return f"vec3<{self.t}>"

    def param(self, index: str) -> str:
        if self.mode == "emulated":
            return f"{PREFIX}param({index})"
        return f"{PREFIX}params[{index}]"

    def header(self) -> list[str]:
        return ["enable f16;", ""] if self.mode == "native" else []

    def resources(self) -> list[str]:
        elem = {"native": "f16", "emulated": "u32", "fp32": "f32"}[self.mode]
        lines = [f"@group(0) @binding(0) var<storage, read> {PREFIX}params: array<{elem}>;", ""]
        if self.mode == "emulated":
            lines += [
                f"fn {PREFIX}param(k: u32) -> f32 {{",
                f"    let pair: vec2<f32> = unpack2x16float({PREFIX}params[k >> 1u]);",
                "    return select(pair.x, pair.y, (k & 1u) == 1u);",
                "}",
                "",
            ]
        return lines

    def round_helper(self) -> list[str]:
        if self.mode != "emulated":
            return []
        return [
            "// round an f32 to the nearest fp16 value (ties to even), kept as f32",
            f"fn {PREFIX}r16(x: f32) -> f32 {{",
            "    return unpack2x16float(pack2x16float(vec2<f32>(x, 0.0f))).x;",
            "}",
            "",
        ]

    def entry_point(self, outputs: int) -> list[str]:
        return [
            f"@group(0) @binding(1) var<storage, read> {PREFIX}uv: array<vec2<f32>>;",
            f"@group(0) @binding(2) var<storage, read_write> {PREFIX}out: array<f32>;",
            "",
            "@compute @workgroup_size(64)",
            f"fn {PREFIX}main(@builtin(global_invocation_id) gid: vec3<u32>) {{",
            "    let k: u32 = gid.x;",
            f"    if (k >= arrayLength(&{PREFIX}uv)) {{ return; }}",
            f"    let rgb = {PREFIX}eval({PREFIX}uv[k]);",
            f"    {PREFIX}out[3u * k + 0u] = f32(rgb.x);",
            f"    {PREFIX}out[3u * k + 1u] = f32(rgb.y);",
            f"    {PREFIX}out[3u * k + 2u] = f32(rgb.z);",
            "}",
        ]


def generate_wgsl(asset: ShadingMlpAsset, mode: str = "native", layout: str = "row_major") -> str:
    """WGSL source evaluating ``asset`` (``mode``: native, emulated or fp32)."""
    return generate(WGSL(mode), asset, layout)


def write_wgsl(
    asset: ShadingMlpAsset, path: str | Path, mode: str = "native", layout: str = "row_major"
) -> None:
    atomic_write_bytes(path, generate_wgsl(asset, mode, layout).encode("utf-8"))
