"""Write the portable export set of a shading MLP into a folder (a bundle or anywhere else).

Files (``NAME`` = the asset name): ``NAME.json`` (RTXNS JSON, fp16 values), ``NAME.<fp16|fp32>.
<row|col>.bin`` (binary layouts), ``NAME.wgsl`` (fp16, needs shader-f16), ``NAME.emulated.wgsl``
(fp16 results with f32 arithmetic, any WebGPU device), ``NAME.comp`` (GLSL), ``NAME.hlsl`` and
``NAME.slang``. All shaders read the row-major fp16 binary. Returns the manifest's ``portable``
entries.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ngsdk.asset.shading_mlp import ShadingMlpAsset
from ngsdk.exporters.shading_mlp_portable.binary import write_network_binary
from ngsdk.exporters.shading_mlp_portable.glsl import write_glsl
from ngsdk.exporters.shading_mlp_portable.hlsl import write_hlsl
from ngsdk.exporters.shading_mlp_portable.json_net import write_network_json
from ngsdk.exporters.shading_mlp_portable.slang import write_slang
from ngsdk.exporters.shading_mlp_portable.wgsl import write_wgsl

_LAYOUT_TAG = {"row_major": "row", "col_major": "col"}


def portable_names(name: str) -> list[dict[str, Any]]:
    """The portable entries (format, file, precision, layout) written for an asset called ``name``."""
    out: list[dict[str, Any]] = [
        {"format": "rtxns_json", "file": f"{name}.json", "precision": "fp16", "layout": "row_major"}
    ]
    for dtype in ("fp16", "fp32"):
        for layout in ("row_major", "col_major"):
            out.append(
                {
                    "format": "mlp_bin",
                    "file": f"{name}.{dtype}.{_LAYOUT_TAG[layout]}.bin",
                    "precision": dtype,
                    "layout": layout,
                }
            )
    params = f"{name}.fp16.row.bin"
    for fmt, file in (
        ("wgsl", f"{name}.wgsl"),
        ("wgsl_emulated_f16", f"{name}.emulated.wgsl"),
        ("glsl", f"{name}.comp"),
        ("hlsl", f"{name}.hlsl"),
        ("slang", f"{name}.slang"),
    ):
        out.append(
            {"format": fmt, "file": file, "precision": "fp16", "layout": "row_major", "params": params}
        )
    return out


def write_portable(asset: ShadingMlpAsset, folder: str | Path) -> list[dict[str, Any]]:
    """Write every portable export of ``asset`` into ``folder``; return their descriptions."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    entries = portable_names(asset.name)
    for e in entries:
        path = folder / e["file"]
        fmt = e["format"]
        if fmt == "rtxns_json":
            write_network_json(asset, path, e["precision"])
        elif fmt == "mlp_bin":
            write_network_binary(asset, path, e["precision"], e["layout"])
        elif fmt == "wgsl":
            write_wgsl(asset, path, "native")
        elif fmt == "wgsl_emulated_f16":
            write_wgsl(asset, path, "emulated")
        elif fmt == "glsl":
            write_glsl(asset, path, "native")
        elif fmt == "hlsl":
            write_hlsl(asset, path, "native")
        elif fmt == "slang":
            write_slang(asset, path, "native")
    return entries
