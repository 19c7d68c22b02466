"""A verification report: ordered checks with stable codes, PASS/FAIL, JSON/text rendering."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ngsdk.asset.atomic import atomic_write_bytes


@dataclass
class Check:
    """One check. ``code`` is stable across versions (e.g. ``NT001``) so CI can match on it."""

    code: str
    name: str
    status: str  # "pass", "fail", "warn", "skip"
    message: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class Report:
    """The checks of one bundle. ``strict``: a check skipped for a missing tool (``details["needs"]``, the
    install line) fails the report, for CI machines that must run every check."""

    bundle: str
    kind: str = "unknown"
    checks: list[Check] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    previews: list[str] = field(default_factory=list)
    strict: bool = False

    def add(self, code: str, name: str, status: str, message: str, **details: Any) -> Check:
        c = Check(code, name, status, message, details)
        self.checks.append(c)
        return c

    def failing(self) -> list[Check]:
        """The checks that make the report FAIL: failures, and under ``strict`` skips for a missing tool."""
        return [c for c in self.checks
                if c.status == "fail" or (self.strict and c.status == "skip" and c.details.get("needs"))]

    @property
    def passed(self) -> bool:
        return not self.failing()

    def to_json(self) -> dict[str, Any]:
        return {"bundle": self.bundle, "kind": self.kind, "result": "PASS" if self.passed else "FAIL",
                "strict": self.strict, "summary": self.summary, "checks": [asdict(c) for c in self.checks],
                "previews": self.previews}

    def write_json(self, path: str | Path) -> None:
        atomic_write_bytes(path, (json.dumps(self.to_json(), indent=2) + "\n").encode())

    def text(self) -> str:
        lines = [f"{self.bundle} ({self.kind})"]
        for c in self.checks:
            lines.append(f"  [{c.status.upper():4}] {c.code} {c.name}: {c.message}")
        lines.append(self.verdict())
        return "\n".join(lines)

    def verdict(self) -> str:
        """``PASS``, ``PASS (2 checks skipped: ...)`` or ``FAIL``: the last line of the text report."""
        if not self.passed:
            return "FAIL"
        needs = sorted({c.details["needs"] for c in self.checks if c.status == "skip" and c.details.get("needs")})
        skipped = sum(1 for c in self.checks if c.status == "skip" and c.details.get("needs"))
        if not skipped:
            return "PASS"
        return f"PASS ({skipped} check{'s' if skipped > 1 else ''} skipped: {'; '.join(needs)}; --strict fails them)"


def check_recorded_psnr(rep: Report, code: str, recorded: float | None, min_psnr: float | None,
                        what: str = "mip-0 PSNR") -> None:
    """Without a source, check ``min_psnr`` against the PSNR the trainer recorded, and say so.

    The decode-consistency check proves this bundle decodes to the model the trainer measured, so its
    recorded figure is what an engine shows. A bundle that records none cannot be checked: ValueError (a
    usage error: give --source).
    """
    if min_psnr is None:
        return
    if recorded is None:
        raise ValueError("--min-psnr: the bundle records no PSNR; give --source to measure it")
    status = "pass" if recorded >= min_psnr else "fail"
    below = "below" if status == "fail" else "at or above"
    rep.add(code, "quality (recorded)", status,
            f"{what} {recorded:.2f} dB as recorded by the trainer (no --source: not measured here), {below} "
            f"--min-psnr {min_psnr:g}", recorded_psnr_db=recorded, min_psnr=min_psnr)
    rep.summary.setdefault("psnr_db", recorded)
    rep.summary["psnr_source"] = "recorded by the trainer"


def check_manifest_and_files(rep: Report, bundle: Path, manifest: dict[str, Any] | None,
                             prefix: str) -> dict[str, Any] | None:
    """Checks ``{prefix}001`` (manifest: JSON, version, schema) and ``{prefix}002`` (files: sizes and
    sha256); returns the manifest, or None after recording the failure."""
    from ngsdk.asset.errors import AssetError
    from ngsdk.asset.manifest import read_manifest, validate_manifest

    try:
        manifest = manifest or read_manifest(bundle, check_files=False)
        validate_manifest(manifest, bundle / "manifest.json")
    except AssetError as e:
        rep.add(f"{prefix}001", "manifest", "fail", str(e))
        return None
    rep.add(f"{prefix}001", "manifest", "pass", f"format {manifest['format_version']}, schema valid")
    try:
        read_manifest(bundle, check_files=True)
    except AssetError as e:
        rep.add(f"{prefix}002", "files", "fail", str(e))
        return None
    rep.add(f"{prefix}002", "files", "pass", f"{len(manifest['files'])} files, sizes and sha256 match")
    return manifest
