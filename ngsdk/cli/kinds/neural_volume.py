"""The neural volume's share of the CLI: its ``ngsdk inspect`` lines and ``ngsdk decode`` (a .npy file)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click
import numpy as np

from ngsdk.cli.common import fail, log, quiet, size_text


def _box(b: list[int]) -> str:
    return f"z[{b[0]},{b[1]}) y[{b[2]},{b[3]}) x[{b[4]},{b[5]})"


def _transform(t: list[list[float]]) -> str:
    """Diagonal, |det| and translation of a grid transform (q = T[:, :3] p + T[:, 3]); notes off-diagonal terms."""
    import numpy as np

    a = np.array(t, dtype=np.float64)
    diag = ", ".join(f"{v:.3g}" for v in np.diag(a[:, :3]))
    off = np.abs(a[:, :3] - np.diag(np.diag(a[:, :3]))).max()
    text = (f"transform diag ({diag}) |det| {abs(np.linalg.det(a[:, :3])):.3g}, "
            f"translation ({', '.join(f'{v:.3g}' for v in a[:, 3])})")
    return text + (f", off-diagonal up to {off:.3g}" if off > 0 else "")


def describe(manifest: dict[str, Any]) -> list[str]:
    """Volume shape and normalization, decode arithmetic, bricks with their grids and decoders, sizes."""
    import numpy as np

    v = manifest["volume"]
    d, h, w = v["shape"]
    nrm = v["normalization"]
    dec = manifest.get("decode", {})
    lines = [f"volume       {w}x{h}x{d} (x, y, z; stored {v.get('axes', 'zyx')}), source {nrm['source_dtype']}, "
             f"normalized from [{nrm['vmin']:g}, {nrm['vmax']:g}]",
             f"decode       {manifest['decode_mode']} ({dec.get('arithmetic', '?')}, output {dec.get('output', '?')})"]
    grid_bytes = dec_bytes = 0
    lines.append(f"bricks       {len(manifest['bricks'])}")
    for b in manifest["bricks"]:
        lines.append(f"  {b['name']:<10} core {_box(b['core'])}  fit {_box(b['fit'])}")
        for g in b["grids"]:
            texel = 4 if g["storage"] == "unorm8" else 8
            grid_bytes += g["width"] * g["height"] * g["depth"] * texel
            deq = g.get("dequantize", {})
            q = f", scale {deq['scale']:.4g} offset {deq['offset']:.4g}" if g["storage"] == "unorm8" else ""
            lines.append(f"    {g['name']:<8} {g['width']}x{g['height']}x{g['depth']} x {g['features']} features "
                         f"{g['storage']}{q}; {_transform(g['transform'])}  {g['file']}")
        dd = b["decoder"]
        dec_bytes += sum(ly["outputs"] * (ly["inputs"] + 1) * 4 for ly in dd["layers"])
        dims = " -> ".join([str(dd["inputs"])] + [f"{ly['outputs']} {ly['activation']}" for ly in dd["layers"]])
        lines.append(f"    decoder  {dims}  ({dd['file']}, {dd.get('dtype', 'float32')})")
    stored = grid_bytes + dec_bytes
    source = d * h * w * np.dtype(nrm["source_dtype"]).itemsize
    lines.append(f"stored       {size_text(stored)} (grids {size_text(grid_bytes)}, decoders "
                 f"{size_text(dec_bytes)}); source {size_text(source)}; compression {source / stored:.1f}:1")
    psnr = manifest["provenance"].get("metrics", {}).get("psnr_db")
    if psnr is not None:
        lines.append(f"PSNR         {psnr:.2f} dB (normalized, from provenance)")
    return lines


def decode(bundle: Path, manifest: dict[str, Any], out: Path, *, mode: str | None = None, denormalize: bool = False,
           points: Path | None = None, source: Path | None = None, backend: str = "numpy") -> None:
    """``ngsdk decode`` of a neural volume: every voxel (D, H, W) z-major, or the points of ``points`` (N,), in
    the .npy file ``out``; with ``source``, PSNR and max error of the reconstruction against it."""
    from ngsdk.asset.atomic import atomic_open
    from ngsdk.asset.errors import AssetError
    from ngsdk.runtime_ref.neural_volume import VolumeDecoder, load_neural_volume
    from ngsdk.runtime_ref.neural_volume import denormalize as to_source_units

    if points is not None and source is not None:
        fail("--source compares a full reconstruction; leave out --points")
    asset = load_neural_volume(bundle, manifest)
    dec = VolumeDecoder(asset, mode, backend=backend)
    t0 = time.perf_counter()
    if points is not None:
        from ngsdk.asset.safe_read import load_npy

        p = load_npy(points, what="points .npy")
        if p.ndim != 2 or p.shape[1] != 3 or p.dtype.kind != "f":
            raise AssetError(points, f"expected float points of shape (N, 3), found {p.dtype} {p.shape}")
        values = dec(p.astype(np.float32))
        what = f"{len(values)} points"
    else:
        log.info("decoding %s voxels ...", "x".join(map(str, asset.shape[::-1])))
        values = dec.reconstruct()
        what = "x".join(map(str, asset.shape[::-1])) + " voxels"
    secs = time.perf_counter() - t0
    result = to_source_units(asset, values) if denormalize else values
    with atomic_open(out) as f:
        np.save(f, result, allow_pickle=False)
    if quiet():
        return
    click.echo(f"decoded {what} ({dec.mode}) in {secs:.2f} s -> {out}"
               + (" (source units)" if denormalize else " (normalized)"))
    if source is not None:
        from ngsdk.verify.neural_volume import load_source, volume_metrics

        m = volume_metrics(values, load_source(source, asset), asset)
        click.echo(f"PSNR {m['psnr_db']:.2f} dB (normalized, range 1), max abs error {m['max_abs_error']:.4g}; "
                   f"source units: PSNR {m['psnr_source_db']:.2f} dB (peak {m['source_peak']:g}), "
                   f"max abs error {m['max_abs_error_source']:.4g}")
