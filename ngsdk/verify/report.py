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
    bundle: str
    kind: str = "unknown"
    checks: list[Check] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    previews: list[str] = field(default_factory=list)

    def add(self, code: str, name: str, status: str, message: str, **details: Any) -> Check:
        c = Check(code, name, status, message, details)
        self.checks.append(c)
        return c

    @property
    def passed(self) -> bool:
        return all(c.status != "fail" for c in self.checks)

    def to_json(self) -> dict[str, Any]:
        return {"bundle": self.bundle, "kind": self.kind, "result": "PASS" if self.passed else "FAIL",
                "summary": self.summary, "checks": [asdict(c) for c in self.checks], "previews": self.previews}

    def write_json(self, path: str | Path) -> None:
        atomic_write_bytes(path, (json.dumps(self.to_json(), indent=2) + "\n").encode())

    def text(self) -> str:
        lines = [f"{self.bundle} ({self.kind})"]
        for c in self.checks:
            lines.append(f"  [{c.status.upper():4}] {c.code} {c.name}: {c.message}")
        lines.append("PASS" if self.passed else "FAIL")
        return "\n".join(lines)


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
