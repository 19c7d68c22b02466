"""Verify a graph export (ONNX, Core ML, VGF) listed in a bundle manifest: file digests, format checks, and a
run on Linux compared with the torch model's outputs. Torch-free.

Bounds (max |export - torch| / max(1, max|torch|), per output; see docs/graph-exports.md for how they were
derived): fp32 everywhere 1e-5; Core ML fp16 2**-8; int8 VGF: 0 mismatches in int8 units.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ngsdk.asset.digest import sha256_file, sha256_tree
from ngsdk.asset.errors import AssetError
from ngsdk.asset.safe_read import inside, loads_strict, read_json
from ngsdk.runtime_ref.npz import read_npz
from ngsdk.toolchain import ToolchainError

BOUNDS: dict[tuple[str, str], float] = {
    ("onnx", "fp32"): 1e-5,
    ("coreml", "fp32"): 1e-5,
    ("coreml", "fp16"): 2.0**-8,
    ("vgf", "fp32"): 1e-5,
    ("vgf", "int8"): 0.0,  # exact: counted as int8 mismatches
}


def _record_json(record: Any) -> dict[str, Any]:
    return record.to_json() if hasattr(record, "to_json") else dict(record)




def check_record(rec: Any, bundle_dir: Path) -> None:
    """The export record's structure (types of the fields verify reads) and every path in it: a plain name
    inside the bundle (ngsdk.asset.safe_read.inside). AssetError naming manifest.json and the field."""
    where = bundle_dir / "manifest.json"
    if not isinstance(rec, Mapping):
        raise AssetError(where, "export record is not an object")
    for key in ("format", "precision", "path"):
        if not isinstance(rec.get(key), str):
            raise AssetError(where, f"export record field {key!r} is missing or not a string")
    if not isinstance(rec.get("files"), list) or not rec["files"]:
        raise AssetError(where, f"export record {rec['path']!r}: field 'files' is missing or not a non-empty list")
    for i, f in enumerate(rec["files"]):
        ok = (isinstance(f, Mapping) and isinstance(f.get("path"), str) and isinstance(f.get("sha256"), str)
              and isinstance(f.get("bytes"), int) and not isinstance(f.get("bytes"), bool))
        if not ok:
            raise AssetError(where, f"export record {rec['path']!r}: files/{i} needs path, sha256 (strings) and "
                                    f"bytes (an integer)")
        inside(bundle_dir, f["path"], f"export record {rec['path']!r} files/{i}")
    inside(bundle_dir, rec["path"], "export record path", expect="any")
    if "io" in rec and not isinstance(rec["io"], Mapping):
        raise AssetError(where, f"export record {rec['path']!r}: field 'io' is not an object")
    details = rec.get("details", {})
    if not isinstance(details, Mapping):
        raise AssetError(where, f"export record {rec['path']!r}: field 'details' is not an object")
    for key in ("reference", "sidecar"):
        if details.get(key) is not None:
            if not isinstance(details[key], str):
                raise AssetError(where, f"export record {rec['path']!r}: details/{key} is not a string")
            inside(bundle_dir, details[key], f"export record {rec['path']!r} details/{key}")


def check_files(rec: Mapping[str, Any], bundle_dir: Path) -> dict[str, Any]:
    """Every listed file exists with its recorded sha256 and size; the artifact digest matches."""
    for f in rec["files"]:
        p = inside(bundle_dir, f["path"], "export record files")
        if p.stat().st_size != f["bytes"] or sha256_file(p) != f["sha256"]:
            raise AssetError(p, "content differs from the export record (size or sha256)")
    art = inside(bundle_dir, rec["path"], "export record path", expect="any")
    digest = sha256_tree(art) if art.is_dir() else sha256_file(art)
    if digest != rec["sha256"]:
        raise AssetError(art, "artifact sha256 differs from the export record")
    return {"ok": True, "files": len(rec["files"])}


@dataclass(frozen=True)
class Sampled:
    """An output stored as a seeded sample of its elements (ngsdk.exporters.graph.reference): the full ``shape``,
    sorted flat indices ``at`` and the expected ``values`` there."""

    shape: tuple[int, ...]
    at: np.ndarray
    values: np.ndarray


def load_reference(
    rec: Mapping[str, Any], bundle_dir: Path
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray | Sampled]]:
    """The reference inputs and torch outputs stored beside the export (``details.reference`` npz); a
    sampled output comes back as :class:`Sampled`."""
    ref = rec.get("details", {}).get("reference")
    if not ref:
        raise AssetError(
            bundle_dir / rec["path"], "export record lists no reference npz; pass inputs and expected"
        )
    path = inside(bundle_dir, ref, "export record details/reference")
    arrays = read_npz(path)
    inputs = {k[3:]: v for k, v in arrays.items() if k.startswith("in.")}
    expected: dict[str, np.ndarray | Sampled] = {}
    for k, v in arrays.items():
        if not k.startswith("out."):
            continue
        name = k[4:]
        if f"at.{name}" not in arrays:
            expected[name] = v
            continue
        at, shape = arrays[f"at.{name}"], arrays.get(f"shape.{name}")
        if shape is None or at.shape != v.shape or at.ndim != 1 or at.dtype.kind not in "iu":
            raise AssetError(path, f"sampled output {name!r} needs at.{name} (int, same length as out.{name}) "
                                   f"and shape.{name}")
        shape_t = tuple(int(d) for d in shape)
        if at.size and (at.min() < 0 or at.max() >= int(np.prod(shape_t))):
            raise AssetError(path, f"sampled output {name!r}: indices outside its shape {shape_t}")
        expected[name] = Sampled(shape_t, at.astype(np.int64), v)
    return inputs, expected


def _paired(name: str, got: np.ndarray, exp: np.ndarray | Sampled) -> tuple[np.ndarray, np.ndarray]:
    """(got, expected) as arrays of the same shape: a sampled expectation picks its elements from ``got``."""
    g = np.asarray(got)
    if isinstance(exp, Sampled):
        if g.shape != exp.shape:
            raise AssetError(None, f"output {name!r}: shape {g.shape}, expected {exp.shape}")
        return g.reshape(-1)[exp.at], np.asarray(exp.values)
    e = np.asarray(exp)
    if g.shape != e.shape:
        raise AssetError(None, f"output {name!r}: shape {g.shape}, expected {e.shape}")
    return g, e


def _scale(expected: np.ndarray) -> float:
    return max(1.0, float(np.max(np.abs(expected)))) if expected.size else 1.0


def compare_float(
    got: Mapping[str, np.ndarray], expected: Mapping[str, np.ndarray], bound: float
) -> dict[str, Any]:
    per = {}
    ok = True
    for name, exp in expected.items():
        if name not in got:
            raise AssetError(None, f"output {name!r} missing from the run (got {sorted(got)})")
        g, e = _paired(name, got[name], exp)
        g, e = g.astype(np.float64), e.astype(np.float64)
        err = float(np.max(np.abs(g - e))) if e.size else 0.0
        finite = bool(np.all(np.isfinite(g)))
        b = bound * _scale(e)
        per[name] = {"max_abs_error": err, "bound": b, "ok": finite and err <= b, "finite": finite}
        ok = ok and per[name]["ok"]
    return {"ok": ok, "max_abs_error": max(v["max_abs_error"] for v in per.values()), "outputs": per}


def verify_export(
    record: Any,
    bundle_dir: str | Path,
    inputs: Mapping[str, np.ndarray] | None = None,
    expected: Mapping[str, np.ndarray] | None = None,
    *,
    bound: float | None = None,
) -> dict[str, Any]:
    """Check one export and return a JSON-able report with ``ok``, ``errors`` and per-run max errors.

    ``record`` is an ExportRecord or its JSON; paths in it are relative to ``bundle_dir``. ``inputs`` and
    ``expected`` (the torch model's outputs; for int8 the quantized torch model's) are keyed by IO names and
    default to the reference npz the exporter stored. ``bound`` overrides ``BOUNDS``. Problems (bad file,
    missing tool, error over the bound) are reported in ``errors``, never raised; a missing tool also sets
    ``missing_tool`` (its ToolchainError message, with the install line).
    """
    rec = _record_json(record)
    bundle_dir = Path(bundle_dir)
    try:
        check_record(rec, bundle_dir)
    except AssetError as e:
        return {"format": rec.get("format"), "path": rec.get("path"), "ok": False,
                "errors": [f"{type(e).__name__}: {e}"], "runs": {}}
    fmt, precision = rec["format"], rec["precision"]
    report: dict[str, Any] = {
        "format": fmt,
        "path": rec["path"],
        "precision": precision,
        "target": rec.get("target"),
        "ok": False,
        "errors": [],
        "runs": {},
    }
    try:
        report["integrity"] = check_files(rec, bundle_dir)
        if inputs is None or expected is None:
            ref_in, ref_out = load_reference(rec, bundle_dir)
            inputs = ref_in if inputs is None else inputs
            expected = ref_out if expected is None else expected
        b = BOUNDS.get((fmt, precision)) if bound is None else bound
        if b is None:
            raise AssetError(bundle_dir / rec["path"], f"no verification bound for {fmt} {precision}")
        report["bound"] = b
        if fmt == "onnx":
            _verify_onnx(rec, bundle_dir, inputs, expected, b, report)
        elif fmt == "coreml":
            _verify_coreml(rec, bundle_dir, inputs, expected, b, report)
        elif fmt == "vgf":
            _verify_vgf(rec, bundle_dir, inputs, expected, b, report)
        else:
            raise AssetError(bundle_dir / rec["path"], f"unknown export format {fmt!r}")
    except ToolchainError as e:  # the files were checked; running the graph needs a tool that is not here
        report["errors"].append(f"{type(e).__name__}: {e}")
        report["missing_tool"] = str(e)
    except (AssetError, ValueError) as e:
        report["errors"].append(f"{type(e).__name__}: {e}")
    runs = report["runs"].values()
    report["max_abs_error"] = max((r.get("max_abs_error", 0.0) for r in runs), default=None)
    report["ok"] = not report["errors"] and bool(runs) and all(r["ok"] for r in runs)
    if not report["errors"]:
        for name, r in report["runs"].items():
            if not r["ok"]:
                report["errors"].append(
                    f"{name}: result outside the bound ({json.dumps(r, default=str)[:400]})"
                )
    return report


def _check_io(rec: Mapping[str, Any], where: Path, in_names: list[str], out_names: list[str]) -> None:
    io = rec.get("io")
    try:
        want_in = [t["name"] for t in io["inputs"]]
        want_out = [t["name"] for t in io["outputs"]]
    except (KeyError, TypeError):
        raise AssetError(where, "export record field 'io' needs 'inputs' and 'outputs' lists of named tensors") \
            from None
    if in_names != want_in or out_names != want_out:
        raise AssetError(
            where, f"graph IO {in_names} -> {out_names} differs from the record {want_in} -> {want_out}"
        )


def _verify_onnx(
    rec: Mapping[str, Any],
    bundle: Path,
    inputs: Mapping[str, np.ndarray],
    expected: Mapping[str, np.ndarray],
    bound: float,
    report: dict[str, Any],
) -> None:
    from ngsdk.runtime_ref.onnx_check import check_onnx, run_onnx_reference, run_onnxruntime

    path = bundle / rec["path"]
    facts = check_onnx(path)
    report["checks"] = facts
    _check_io(rec, path, [v["name"] for v in facts["inputs"]], [v["name"] for v in facts["outputs"]])
    if facts["external_data"]:
        raise AssetError(path, f"initializers use external data: {facts['external_data'][:5]}")
    want = rec.get("details", {}).get("opset")
    if want is not None and facts["opset"].get("ai.onnx") != want:
        raise AssetError(path, f"opset {facts['opset']} but the record says {want}")
    for v in facts["inputs"] + facts["outputs"]:
        if not v["shape"] or not isinstance(v["shape"][0], str):
            raise AssetError(path, f"tensor {v['name']} has no dynamic batch dimension: {v['shape']}")
    feeds = {k: np.asarray(v, dtype=np.float32) for k, v in inputs.items()}
    ort_out = run_onnxruntime(path, feeds)
    report["runs"]["onnxruntime"] = compare_float(ort_out, expected, bound)
    report["runs"]["onnx.reference"] = compare_float(run_onnx_reference(path, feeds), expected, bound)
    # Dynamic batch: a batch of one must give the first row of the full run.
    first = run_onnxruntime(path, {k: v[:1] for k, v in feeds.items()})
    report["runs"]["onnxruntime.batch1"] = compare_float(first, {k: v[:1] for k, v in ort_out.items()}, 1e-6)


def _verify_coreml(
    rec: Mapping[str, Any],
    bundle: Path,
    inputs: Mapping[str, np.ndarray],
    expected: Mapping[str, np.ndarray],
    bound: float,
    report: dict[str, Any],
) -> None:
    from ngsdk.runtime_ref.mil import load_mlpackage, run_program

    path = bundle / rec["path"]
    pkg = load_mlpackage(path)
    spec = pkg.spec
    _check_io(rec, path, [f.name for f in spec.inputs], [f.name for f in spec.outputs])
    fn = spec.functions.get("main")
    ops = sorted({o.type for o in fn.block.operations}) if fn and fn.opset in fn.blocks else []
    report["checks"] = {
        "specification_version": spec.specification_version,
        "opset": fn.opset if fn else None,
        "ops": ops,
        "metadata": spec.metadata,
        "user_defined": spec.user_defined,
        "batch_ranges": {f.name: list(f.shape_range[0]) if f.shape_range else None for f in spec.inputs},
    }
    io_json = spec.user_defined.get("ngsdk.io_description")
    if io_json is not None and loads_strict(io_json, pkg.model_file) != rec.get("io"):
        raise AssetError(pkg.model_file, "embedded ngsdk.io_description differs from the export record")
    out = run_program(pkg, {k: np.asarray(v, dtype=np.float32) for k, v in inputs.items()})
    report["runs"]["mil_interpreter"] = compare_float(out, expected, bound)


def _quantize(x: np.ndarray, q: Mapping[str, Any]) -> np.ndarray:
    # ExecuTorch/torch quantize_per_tensor: round_half_even(f32(x) * f32(1/scale)) + zero_point, clamped.
    inv = np.float32(1.0 / q["scale"])
    v = np.rint(np.asarray(x, dtype=np.float32) * inv).astype(np.int64) + int(q["zero_point"])
    return np.clip(v, q["qmin"], q["qmax"]).astype(q.get("dtype", "int8"))


def _dequantize(v: np.ndarray, q: Mapping[str, Any]) -> np.ndarray:
    return ((v.astype(np.int64) - int(q["zero_point"])) * np.float64(q["scale"])).astype(np.float32)


def _verify_vgf(
    rec: Mapping[str, Any],
    bundle: Path,
    inputs: Mapping[str, np.ndarray],
    expected: Mapping[str, np.ndarray],
    bound: float,
    report: dict[str, Any],
) -> None:
    from ngsdk.asset.vgf import read_vgf
    from ngsdk.runtime_ref.vgf import run_vgf

    path = bundle / rec["path"]
    side_name = rec.get("details", {}).get("sidecar") or f"{rec['path']}.json"
    side_path = inside(bundle, side_name, "VGF sidecar")
    side = read_json(side_path, what="VGF sidecar")
    if not isinstance(side, dict) or not isinstance(side.get("inputs"), list) or \
            not isinstance(side.get("outputs"), list):
        raise AssetError(side_path, "VGF sidecar needs 'inputs' and 'outputs' lists")
    info = read_vgf(path)
    report["checks"] = {"vgf": info.to_json(), "tosa_spec": side.get("tosa_spec"), "batch": side.get("batch")}
    _check_io(rec, side_path, [t["name"] for t in side["inputs"]], [t["name"] for t in side["outputs"]])
    for decl, got in ((side["inputs"], info.inputs), (side["outputs"], info.outputs)):
        for s, t in zip(decl, got, strict=True):
            if s["vgf_name"] != t.name or list(t.shape) != s["shape"] or t.dtype != s["dtype"]:
                raise AssetError(
                    side_path,
                    f"sidecar entry {s['name']} does not match VGF tensor {t.name} {t.dtype}{list(t.shape)}",
                )
    batch = int(side["batch"])
    n = int(next(iter(inputs.values())).shape[0])
    outs: dict[str, list[np.ndarray]] = {t["name"]: [] for t in side["outputs"]}
    for start in range(0, n, batch):
        feeds = []
        for t in side["inputs"]:
            chunk = np.asarray(inputs[t["name"]])[start : start + batch]
            if chunk.shape[0] < batch:  # pad the last chunk by repeating its last sample
                chunk = np.concatenate([chunk, np.repeat(chunk[-1:], batch - chunk.shape[0], axis=0)])
            q = t["quantization"]
            feeds.append(_quantize(chunk, q) if q else chunk.astype(t["dtype"]))
        for t, o in zip(side["outputs"], run_vgf(path, feeds), strict=True):
            outs[t["name"]].append(o[: min(batch, n - start)])
    got = {k: np.concatenate(v) for k, v in outs.items()}
    if rec["precision"] != "int8":
        report["runs"]["lavapipe"] = compare_float(got, expected, bound)
        return
    per = {}
    for t in side["outputs"]:
        q = t["quantization"]
        if not q:
            raise AssetError(side_path, f"int8 VGF output {t['name']} has no quantization parameters")
        g, exp = _paired(t["name"], got[t["name"]], expected[t["name"]])
        want = _quantize(exp, q)
        diff = np.abs(g.astype(np.int64) - want.astype(np.int64))
        mism = int(np.count_nonzero(diff))
        err = float(np.max(np.abs(_dequantize(g, q) - np.asarray(exp, np.float64))))
        per[t["name"]] = {
            "mismatches": mism,
            "elements": int(want.size),
            "max_int_diff": int(diff.max()),
            "max_abs_error": err,
            "ok": mism <= bound * want.size,
        }
    report["runs"]["lavapipe"] = {
        "ok": all(v["ok"] for v in per.values()),
        "mismatches": sum(v["mismatches"] for v in per.values()),
        "max_abs_error": max(v["max_abs_error"] for v in per.values()),
        "outputs": per,
    }
