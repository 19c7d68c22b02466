"""Verification of a bundle's graph exports (ONNX, Core ML, VGF), torch-free, for every asset kind.

One check per export against the reference the exporter stored (the torch model; for int8 the quantized
torch model), and, where the kind's verifier gives a reference of its own (the export compared with the
reference runtime on the bundle itself: ``reference(entry, record)``), a second check against it. A run that
needs a tool that is not installed is SKIPPED with the install line, not FAILED (``--strict`` fails it).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ngsdk.asset.errors import AssetError
from ngsdk.toolchain import EXPORT_INSTALL
from ngsdk.verify.catalog import Code, Status
from ngsdk.verify.catalog import graph_exports as GX
from ngsdk.verify.report import Progress, Report

RUNTIME_REF_BOUND = 1e-5

Reference = Callable[[dict[str, Any], dict[str, Any]], "tuple[dict, dict, str] | None"]
"""``(export entry, export record) -> (inputs, expected outputs, what they are) | None``: the kind's own
reference for one export (None: no second check for it); AssetError fails the check with its message."""


def _skip_for_tool(rep: Report, entry: Code, label: str, r: dict[str, Any]) -> bool:
    """A run that needs a tool that is not installed is SKIPPED (files still checked), not FAILED: a
    numpy-only install verifies everything else. Returns True when it skipped."""
    missing = r.get("missing_tool")
    if not missing:
        return False
    files = f"{r['integrity']['files']} files match their sha256; " if r.get("integrity") else ""
    rep.add(entry, Status.SKIP, f"{files}not run: {missing}", name=label, report=r, needs=EXPORT_INSTALL)
    return True


def verify_exports(rep: Report, bundle: str | Path, manifest: dict[str, Any], reference: Reference | None = None,
                   progress: Progress | None = None) -> None:
    """Append the checks of every export in ``manifest`` to ``rep``; failures make the report FAIL.

    ``progress`` hears of each export's check (they take seconds each)."""
    from ngsdk.runtime_ref.graph_verify import verify_export

    bundle = Path(bundle)
    exports = manifest.get("exports", [])
    if progress is not None:
        progress.expect(len(exports))
    formats: dict[str, str] = {}
    for entry in exports:
        rec = entry.get("details", {}).get("record")
        label = f"{entry['format']} {entry['precision']} {entry['graph']}"
        if rec is None:
            rep.add(GX.RECORDED_REFERENCE, Status.FAIL, f"{bundle / 'manifest.json'}: export entry has no record to "
                    "verify", name=label)
            continue
        if progress is not None:
            progress.step(f"check {label}")
        r = verify_export(rec, bundle)
        if _skip_for_tool(rep, GX.RECORDED_REFERENCE, label, r):
            formats[label] = "skipped: " + r["missing_tool"]
            continue
        msg = _summary(r)
        rep.add(GX.RECORDED_REFERENCE, Status.PASS if r["ok"] else Status.FAIL, msg, name=label, report=r)
        formats[label] = msg
        if reference is not None:
            _check_runtime_ref(rep, bundle, entry, rec, label, reference, formats)
    if formats:
        rep.checks[-1].details.setdefault("formats", formats)
        rep.summary["exports"] = formats


def _check_runtime_ref(rep: Report, bundle: Path, entry: dict[str, Any], rec: dict[str, Any], label: str,
                       reference: Reference, formats: dict[str, str]) -> None:
    from ngsdk.runtime_ref.graph_verify import verify_export

    try:
        ref = reference(entry, rec)
    except AssetError as e:
        rep.add(GX.RUNTIME_REF, Status.FAIL, str(e), name=label)
        return
    if ref is None:
        return
    ins, expected, what = ref
    r = verify_export(rec, bundle, ins, expected, bound=RUNTIME_REF_BOUND)
    if _skip_for_tool(rep, GX.RUNTIME_REF, label, r):
        return
    msg = f"vs runtime_ref {what}: {_summary(r)}"
    rep.add(GX.RUNTIME_REF, Status.PASS if r["ok"] else Status.FAIL, msg, name=label, report=r)
    formats[label + " vs runtime_ref"] = msg


def _summary(r: dict[str, Any]) -> str:
    if r["errors"] and not r.get("runs"):
        return r["errors"][0]
    parts = []
    for name, run in r.get("runs", {}).items():
        if "mismatches" in run:
            parts.append(f"{name}: {run['mismatches']} mismatches")
        elif "max_abs_error" in run:
            parts.append(f"{name}: max error {run['max_abs_error']:.3g}")
    text = ", ".join(parts) or "no runs"
    if r.get("bound") is not None:
        text += f" (bound {r['bound']:.3g})"
    if r["errors"]:
        text += f"; {r['errors'][0][:200]}"
    return text
