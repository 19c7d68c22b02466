"""Shared shader generator: the contract's op sequence, written once, printed per language.

The generated code mirrors ngsdk.runtime_ref.shading_mlp step by step: float32 encoding functions built
from +, -, *, floor, min/max and bit casts; dense layers that start from the bias and add
``w * x`` for inputs in ascending order, one operation per statement; activations on fp16 values.
Each language module subclasses :class:`Dialect` for its syntax, declarations (``precise`` where
the language has it, so no multiply-add is contracted) and resource bindings.
"""

from __future__ import annotations

import struct

import numpy as np

from ngsdk.asset.shading_mlp import (
    COS_PI_COEFFS,
    EXP2_COEFFS,
    MAX_ABS_INPUT,
    NEG_LOG2E,
    NEWTON_STEPS,
    RECIP_MAGIC,
    SIGMOID_CLAMP,
    SIN_PI_COEFFS,
    TANH_COEFFS,
    TANH_SMALL,
    TRI_FRAC_BITS,
    TRI_MAX_ABS,
    ShadingMlpAsset,
)
from ngsdk.exporters.shading_mlp_portable.binary import layer_offsets

PREFIX = "ngsdk_"


def f32_literal_text(v: float) -> str:
    """Decimal text of a float32 value that parses to exactly that value (via f32 or via f64)."""
    v = float(np.float32(v))
    text = repr(v)
    if "e" not in text and "." not in text and "inf" not in text:
        text += ".0"
    return text


class Dialect:
    """Syntax of one shading language. ``mode``: ``native`` fp16 arithmetic, ``emulated`` (f32
    arithmetic rounded to fp16 after every operation) or ``fp32``."""

    name = ""
    f32 = "float"
    f16 = "half"
    i32 = "int"
    u32 = "uint"
    precise = "precise "

    def __init__(self, mode: str = "native"):
        if mode not in ("native", "emulated", "fp32"):
            raise ValueError(f"unknown shader mode {mode!r}")
        self.mode = mode

    # --- types and literals
    @property
    def t(self) -> str:
        """Type of network values."""
        return self.f16 if self.mode == "native" else self.f32

    def lit32(self, v: float) -> str:
        return (
            f"{f32_literal_text(v)}f"
            if not f32_literal_text(v).startswith("-")
            else f"(-{f32_literal_text(-v)}f)"
        )

    def lit16(self, v: float) -> str:
        return f"{self.f16}({self.lit32(float(np.float16(v)))})"

    def litv(self, v: float) -> str:
        """A literal of network value type holding the fp16 (or fp32) value of ``v``."""
        if self.mode == "native":
            return self.lit16(v)
        if self.mode == "emulated":
            return self.lit32(float(np.float16(v)))
        return self.lit32(v)

    def u32lit(self, v: int) -> str:
        return f"{v}u"

    # --- statements
    def let(self, ty: str, name: str, expr: str) -> str:
        return f"{self.precise}{ty} {name} = {expr};"

    def var(self, ty: str, name: str, expr: str) -> str:
        return self.let(ty, name, expr)

    def array(self, ty: str, name: str, n: int) -> str:
        return f"{self.precise}{ty} {name}[{n}];"

    def for_u32(self, var: str, n: int) -> str:
        return f"for ({self.u32} {var} = 0u; {var} < {n}u; {var}++) {{"

    def fn(self, ret: str, name: str, params: list[tuple[str, str]]) -> str:
        return f"{ret} {name}({', '.join(f'{t} {n}' for n, t in params)}) {{"

    # --- expressions
    def to_f32(self, e: str) -> str:
        return f"{self.f32}({e})"

    def to_t(self, e: str) -> str:
        """f32 -> network value type (fp16 rounding to nearest even in native and emulated modes)."""
        if self.mode == "native":
            return f"{self.f16}({e})"
        if self.mode == "emulated":
            return f"{PREFIX}r16({e})"
        return e

    def to_i32(self, e: str) -> str:
        return f"{self.i32}({e})"

    def i32_to_u32(self, e: str) -> str:
        """Reinterpret an int as unsigned (two's complement bits)."""
        return f"{self.u32}({e})"

    def select(self, cond: str, t: str, f: str) -> str:
        return f"(({cond}) ? ({t}) : ({f}))"

    def bits_to_f32(self, e: str, signed: bool = False) -> str:
        return f"asfloat({e})"

    def shift(self, n: int) -> str:
        return str(n)

    def f32_to_bits(self, e: str) -> str:
        return f"asuint({e})"

    def vec2(self) -> str:
        return "float2"

    def vec3_t(self) -> str:
        return f"{self.t}3"

    def make_vec3(self, a: str, b: str, c: str) -> str:
        return f"{self.vec3_t()}({a}, {b}, {c})"

    def param(self, index: str) -> str:
        """Load parameter ``index`` (in elements of the binary file) as the network value type."""
        raise NotImplementedError

    def round_helper(self) -> list[str]:
        """Definition of ``ngsdk_r16`` for the emulated mode."""
        return []

    def header(self) -> list[str]:
        return []

    def resources(self) -> list[str]:
        return []

    def entry_point(self, outputs: int) -> list[str]:
        return []


def _op(d: Dialect, ty: str, name: str, a: str, op: str, b: str, rounded: bool) -> str:
    expr = f"{a} {op} {b}"
    if rounded and d.mode == "emulated":
        expr = f"{PREFIX}r16({expr})"
    return d.let(ty, name, expr)


def f32_functions(d: Dialect) -> list[str]:
    """sin/cos(pi x), sigmoid and tanh in float32 by the contract's op sequence."""
    f, L = d.f32, []
    # sin(pi x), cos(pi x) with x clamped to the exact-reduction range
    L.append(d.fn(f"{d.vec2()}", f"{PREFIX}sincospi", [("x_in", f)]))
    L.append("    " + d.let(f, "x", f"min(max(x_in, {d.lit32(-MAX_ABS_INPUT)}), {d.lit32(MAX_ABS_INPUT)})"))
    L.append("    " + d.let(f, "y", f"x * {d.lit32(2.0)}"))
    L.append("    " + d.let(f, "yh", f"y + {d.lit32(0.5)}"))
    L.append("    " + d.let(f, "q", "floor(yh)"))
    L.append("    " + d.let(f, "yq", "y - q"))
    L.append("    " + d.let(f, "r", f"yq * {d.lit32(0.5)}"))
    L.append("    " + d.let(f, "z", "r * r"))
    L.append("    " + d.var(f, "t", d.lit32(SIN_PI_COEFFS[-1])))
    for c in reversed(SIN_PI_COEFFS[:-1]):
        L.append(f"    t = t * z; t = t + {d.lit32(c)};")
    L.append("    " + d.let(f, "sp", "t * r"))
    L.append("    " + d.var(f, "u", d.lit32(COS_PI_COEFFS[-1])))
    for c in reversed(COS_PI_COEFFS[:-1]):
        L.append(f"    u = u * z; u = u + {d.lit32(c)};")
    L.append("    " + d.let(d.i32, "n", f"{d.to_i32('q')} & 3"))
    L.append(
        "    "
        + d.let(f, "s", d.select("n == 0", "sp", d.select("n == 1", "u", d.select("n == 2", "-sp", "-u"))))
    )
    L.append(
        "    "
        + d.let(f, "c", d.select("n == 0", "u", d.select("n == 1", "-sp", d.select("n == 2", "-u", "sp"))))
    )
    L.append(f"    return {d.vec2()}(s, c);")
    L.append("}")
    L.append("")
    # sigmoid
    L.append(d.fn(f, f"{PREFIX}sigmoid32", [("x", f)]))
    L.append("    " + d.let(f, "xc", f"min(max(x, {d.lit32(-SIGMOID_CLAMP)}), {d.lit32(SIGMOID_CLAMP)})"))
    L.append("    " + d.let(f, "t", f"xc * {d.lit32(NEG_LOG2E)}"))
    L.append("    " + d.let(f, "th", f"t + {d.lit32(0.5)}"))
    L.append("    " + d.let(f, "k", "floor(th)"))
    L.append("    " + d.let(f, "fr", "t - k"))
    L.append("    " + d.var(f, "p", d.lit32(EXP2_COEFFS[-1])))
    for c in reversed(EXP2_COEFFS[:-1]):
        L.append(f"    p = p * fr; p = p + {d.lit32(c)};")
    L.append(
        "    " + d.let(f, "scale", d.bits_to_f32(f"({d.to_i32('k')} + 127) << {d.shift(23)}", signed=True))
    )
    L.append("    " + d.let(f, "e", "p * scale"))
    L.append("    " + d.let(f, "dn", f"e + {d.lit32(1.0)}"))
    L.append("    " + d.var(f, "rc", d.bits_to_f32(f"{d.u32lit(RECIP_MAGIC)} - {d.f32_to_bits('dn')}")))
    for _ in range(NEWTON_STEPS):
        L.append(
            f"    {{ {d.let(f, 'm', 'dn * rc')} {d.let(f, 'm2', f'{d.lit32(2.0)} - m')} rc = rc * m2; }}"
        )
    L.append("    return rc;")
    L.append("}")
    L.append("")
    # tanh
    L.append(d.fn(f, f"{PREFIX}tanh32", [("x", f)]))
    L.append("    " + d.let(f, "xs", f"min(max(x, {d.lit32(-1.0)}), {d.lit32(1.0)})"))
    L.append("    " + d.let(f, "z", "xs * xs"))
    L.append("    " + d.var(f, "t", d.lit32(TANH_COEFFS[-1])))
    for c in reversed(TANH_COEFFS[:-1]):
        L.append(f"    t = t * z; t = t + {d.lit32(c)};")
    L.append("    " + d.let(f, "small", "t * xs"))
    L.append("    " + d.let(f, "x2", f"x * {d.lit32(2.0)}"))
    L.append("    " + d.let(f, "sg", f"{PREFIX}sigmoid32(x2)"))
    L.append("    " + d.let(f, "sg2", f"sg * {d.lit32(2.0)}"))
    L.append("    " + d.let(f, "large", f"sg2 - {d.lit32(1.0)}"))
    L.append(f"    return {d.select(f'abs(x) < {d.lit32(TANH_SMALL)}', 'small', 'large')};")
    L.append("}")
    L.append("")
    return L


def _activation(d: Dialect, act: str, h: str, slope: float) -> str:
    """Expression of ``act`` applied to the network value ``h`` (a variable name)."""
    zero = d.litv(0.0)
    if act == "none":
        return h
    if act == "relu":
        return d.select(f"{h} < {zero}", zero, h)
    if act == "leaky_relu":
        prod = f"{h} * {d.litv(slope)}"
        if d.mode == "emulated":
            prod = f"{PREFIX}r16({prod})"
        return d.select(f"{h} < {zero}", prod, h)
    if act == "sigmoid":
        return d.to_t(f"{PREFIX}sigmoid32({d.to_f32(h)})")
    if act == "tanh":
        return d.to_t(f"{PREFIX}tanh32({d.to_f32(h)})")
    if act == "swish":
        prod = f"{h} * {d.to_t(f'{PREFIX}sigmoid32({d.to_f32(h)})')}"
        return f"{PREFIX}r16({prod})" if d.mode == "emulated" else prod
    raise ValueError(f"unknown activation {act!r}")


def eval_function(d: Dialect, asset: ShadingMlpAsset, layout: str) -> list[str]:
    """``ngsdk_eval(uv) -> vec3 of network values``: encoding, then every layer."""
    enc, T = asset.encoding, d.t
    dtype = "fp32" if d.mode == "fp32" else "fp16"
    size = 4 if dtype == "fp32" else 2
    _, offsets = layer_offsets(asset, dtype)
    width = max([enc.features] + [ly.outputs for ly in asset.decoder.layers])
    L = [d.fn(d.vec3_t(), f"{PREFIX}eval", [("uv", d.vec2())])]
    L.append("    " + d.array(T, "a", width))
    L.append("    " + d.array(T, "b", width))
    comps = ["uv.x", "uv.y"]
    k = 0
    for i in range(enc.inputs):
        x = comps[i]
        L.append("    {")
        if enc.kind == "none":
            L.append(f"        a[{k}] = {d.to_t(x)};")
            k += 1
        elif enc.kind == "frequency":
            L.append("        " + d.let(d.vec2(), "sc", f"{PREFIX}sincospi({x})"))
            L.append("        " + d.var(T, "s", d.to_t("sc.x")))
            L.append("        " + d.var(T, "c", d.to_t("sc.y")))
            L.append(f"        a[{k}] = s; a[{k + 1}] = c;")
            k += 2
            for _ in range(enc.features_per_input // 2 - 1):
                L.append("        {")
                L.append("            " + _op(d, T, "s2", "s", "*", d.litv(2.0), True))
                L.append("            " + _op(d, T, "sn", "s2", "*", "c", True))
                L.append("            " + _op(d, T, "c2", "c", "*", d.litv(2.0), True))
                L.append("            " + _op(d, T, "cc", "c2", "*", "c", True))
                L.append("            " + _op(d, T, "cn", "cc", "-", d.litv(1.0), True))
                L.append(f"            s = sn; c = cn; a[{k}] = s; a[{k + 1}] = c;")
                L.append("        }")
                k += 2
        else:
            f, one = d.f32, 1 << TRI_FRAC_BITS
            lo, hi = d.lit32(-TRI_MAX_ABS), d.lit32(TRI_MAX_ABS)
            L.append("        " + d.let(f, "xt", f"min(max({x}, {lo}), {hi})"))
            L.append("        " + d.let(f, "xq", f"floor(xt * {d.lit32(2.0**TRI_FRAC_BITS)})"))
            L.append("        " + d.let(d.u32, "xu", d.i32_to_u32(d.to_i32("xq"))))
            scale = d.lit32(2.0 ** -(TRI_FRAC_BITS - 1))
            for j in range(enc.features_per_input):
                add = d.u32lit((j << (TRI_FRAC_BITS - 1)) & 0xFFFFFFFF)
                phase = f"((xu << {d.shift(j)}) + {add}) & {d.u32lit(2 * one - 1)}"
                L.append("        {")
                L.append("            " + d.let(d.u32, "ph", phase))
                L.append("            " + d.let(d.i32, "dd", f"abs({d.to_i32('ph')} - {one}) - {one >> 1}"))
                value = d.to_f32("dd") + " * " + scale
                L.append(f"            a[{k}] = {d.to_t(value)};")
                L.append("        }")
                k += 1
        L.append("    }")
    src, dst = "a", "b"
    for li, (layer, (w_off, b_off)) in enumerate(zip(asset.decoder.layers, offsets, strict=False)):
        n_in, n_out = layer.inputs, layer.outputs
        wi, bi = w_off // size, b_off // size
        widx = f"{wi}u + o * {n_in}u + i" if layout == "row_major" else f"{wi}u + i * {n_out}u + o"
        L.append(f"    // layer {li}: {n_in} -> {n_out}, {layer.activation}")
        L.append("    " + d.for_u32("o", n_out))
        L.append("        " + d.var(T, "acc", d.param(f"{bi}u + o")))
        L.append("        " + d.for_u32("i", n_in))
        L.append("            " + d.let(T, "w", d.param(widx)))
        L.append("            " + _op(d, T, "p", "w", "*", f"{src}[i]", True))
        L.append(
            "            " + ("acc = " + (f"{PREFIX}r16(acc + p);" if d.mode == "emulated" else "acc + p;"))
        )
        L.append("        }")
        L.append(f"        {dst}[o] = {_activation(d, layer.activation, 'acc', asset.leaky_slope)};")
        L.append("    }")
        src, dst = dst, src
    L.append(f"    return {d.make_vec3(f'{src}[0]', f'{src}[1]', f'{src}[2]')};")
    L.append("}")
    return L


def generate(d: Dialect, asset: ShadingMlpAsset, layout: str = "row_major") -> str:
    """The complete shader text for dialect ``d``."""
    if asset.decoder.outputs != 3:
        raise ValueError(f"shader export supports 3 outputs (RGB), the network has {asset.decoder.outputs}")
    if layout not in ("row_major", "col_major"):
        raise ValueError(f"layout must be 'row_major' or 'col_major', got {layout!r}")
    if asset.encoding.inputs != 2:
        raise ValueError(f"shader export takes 2 inputs (u, v), the network has {asset.encoding.inputs}")
    dtype = "fp32" if d.mode == "fp32" else "fp16"
    enc = asset.encoding
    lines = d.header()
    lines += [
        f"// ngsdk shading MLP '{asset.name}': {enc.inputs} inputs, {enc.kind} encoding "
        f"({enc.features_per_input} per input) -> "
        + " -> ".join(str(ly.outputs) for ly in asset.decoder.layers)
        + f", {d.mode} arithmetic ({dtype} weights, {layout.replace('_', '-')}).",
        "// Evaluates the ngsdk decode contract (docs/shading.md): every result of a multiply or add",
        "// is rounded to the network precision before the next operation; inputs are summed in",
        "// ascending order starting from the bias. Bind the binary layout file "
        f"(*.{dtype}.{'row' if layout == 'row_major' else 'col'}.bin) as the parameter buffer.",
        "",
    ]
    lines += d.resources()
    lines += d.round_helper()
    lines += f32_functions(d)
    lines += eval_function(d, asset, layout)
    lines.append("")
    lines += d.entry_point(asset.decoder.outputs)
    return "\n".join(lines) + "\n"


def header_words(data: bytes) -> list[int]:
    """The file as little-endian u32 words (helper for tests and hosts that upload words)."""
    pad = data + b"\0" * (-len(data) % 4)
    return list(struct.unpack(f"<{len(pad) // 4}I", pad))
