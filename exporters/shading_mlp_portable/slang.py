"""Slang inference compute shader for a shading MLP (HLSL-style syntax, ``half`` arithmetic).

Every value is declared ``precise`` (Slang emits NoContraction for SPIR-V and ``precise`` for
HLSL). Parameters come from the binary layout file bound as a ``StructuredBuffer<half>``. The network is a
plain function ``ngsdk_eval(float2 uv) -> half3``, so it can be called from RTXNS-style samples in
place of their CoopVec inference (which does not fix the summation order).
"""

from __future__ import annotations

from pathlib import Path

from ngsdk.asset.atomic import atomic_write_bytes
from ngsdk.asset.shading_mlp import ShadingMlpAsset
from ngsdk.exporters.shading_mlp_portable._codegen import generate
from ngsdk.exporters.shading_mlp_portable.hlsl import HLSL


class Slang(HLSL):
    name = "slang"

    def to_f32(self, e: str) -> str:
        return f"float({e})"

    def to_t(self, e: str) -> str:
        return f"half({e})" if self.mode == "native" else e

    def to_i32(self, e: str) -> str:
        return f"int({e})"

    def lit16(self, v: float) -> str:
        return f"half({self.lit32(float(v))})"

    def entry_point(self, outputs: int) -> list[str]:
        lines = super().entry_point(outputs)
        return ['[shader("compute")]'] + lines


def generate_slang(asset: ShadingMlpAsset, mode: str = "native", layout: str = "row_major") -> str:
    """Slang source evaluating ``asset`` (``mode``: native fp16 or fp32)."""
    if mode == "emulated":
        raise ValueError("Slang export: use mode 'native' (fp16) or 'fp32'")
    return generate(Slang(mode), asset, layout)


def write_slang(
    asset: ShadingMlpAsset, path: str | Path, mode: str = "native", layout: str = "row_major"
) -> None:
    atomic_write_bytes(path, generate_slang(asset, mode, layout).encode("utf-8"))
