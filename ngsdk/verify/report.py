"""A verification report: ordered checks with stable codes, PASS/FAIL, JSON/text rendering."""

from __future__ import annotations

import contextlib
import contextvars
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ngsdk.asset.atomic import atomic_write_bytes
from ngsdk.verify.catalog import Code, Status

_ALLOW_MISSING_REFERENCE = contextvars.ContextVar("ngsdk_allow_missing_reference", default=False)


@contextlib.contextmanager
def allow_missing_reference(allow: bool = True) -> Iterator[None]:
    """Reports created inside the block turn a missing reference decode hash into a WARN instead of a FAIL
    (``ngsdk verify --allow-missing-reference``: bundles from writers that did not record one)."""
    token = _ALLOW_MISSING_REFERENCE.set(allow)
    try:
        yield
    finally:
        _ALLOW_MISSING_REFERENCE.reset(token)


class Progress(Protocol):
    """How a verifier announces its long steps (``ngsdk verify`` shows them as a bar or numbered lines)."""

    def expect(self, items: int) -> None:
        """``items`` more steps will be announced."""

    def step(self, item: str) -> None:
        """The previous step is done; ``item`` starts now."""


class Silent:
    """A :class:`Progress` that shows nothing (library calls)."""

    def expect(self, items: int) -> None:
        pass

    def step(self, item: str) -> None:
        pass


@dataclass
class Check:
    """One check: its catalog code (stable across versions, CI matches on it), a name (the entry's title, or
    what the check is about: the export it ran), status, message and details."""

    code: str
    name: str
    status: Status
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
    allow_missing_reference: bool = field(default_factory=_ALLOW_MISSING_REFERENCE.get)
    """A missing reference decode hash WARNs instead of failing (see :func:`allow_missing_reference`)."""

    def missing_reference(self, entry: Code, message: str, **details: Any) -> Check:
        """Record that the bundle has no reference decode hash for ``entry``: a FAIL (changed weights would
        otherwise pass unnoticed), or a WARN under ``--allow-missing-reference``."""
        if self.allow_missing_reference:
            return self.add(entry, Status.WARN, f"{message} (allowed by --allow-missing-reference)", **details)
        return self.add(entry, Status.FAIL, f"{message}: nothing proves the decode is the trained model's (re-export "
                                            f"with this ngsdk, or pass --allow-missing-reference for an older bundle)",
                        **details)

    def add(self, entry: Code, status: Status, message: str, *, name: str | None = None, **details: Any) -> Check:
        """Record a check of the catalog ``entry`` (named by its title unless ``name`` says what it is about)."""
        c = Check(entry.code, name or entry.title, Status(status), message, details)
        self.checks.append(c)
        return c

    def failing(self) -> list[Check]:
        """The checks that make the report FAIL: failures, and under ``strict`` skips for a missing tool."""
        return [c for c in self.checks
                if c.status == Status.FAIL or (self.strict and c.status == Status.SKIP and c.details.get("needs"))]

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
            lines.append(f"  [{c.status.value.upper():4}] {c.code} {c.name}: {c.message}")
        lines.append(self.verdict())
        return "\n".join(lines)

    def verdict(self) -> str:
        """``PASS``, ``PASS (2 checks skipped: ...)`` or ``FAIL``: the last line of the text report."""
        if not self.passed:
            return "FAIL"
        needs = sorted({c.details["needs"] for c in self.checks if c.status == Status.SKIP and c.details.get("needs")})
        skipped = sum(1 for c in self.checks if c.status == Status.SKIP and c.details.get("needs"))
        if not skipped:
            return "PASS"
        return f"PASS ({skipped} check{'s' if skipped > 1 else ''} skipped: {'; '.join(needs)}; --strict fails them)"


def require_recorded_psnr(recorded: float | None, min_psnr: float | None, source: object) -> None:
    """A ``min_psnr`` without a source is checked against the PSNR the trainer recorded: ValueError (a usage
    error: give --source) when the bundle records none. Verifiers call this before decoding anything."""
    if min_psnr is not None and source is None and recorded is None:
        raise ValueError("--min-psnr: the bundle records no PSNR; give --source to measure it")


def check_recorded_psnr(rep: Report, entry: Code, recorded: float | None, min_psnr: float | None,
                        what: str = "mip-0 PSNR") -> None:
    """Without a source, check ``min_psnr`` against the PSNR the trainer recorded, and say so.

    The decode-consistency check proves this bundle decodes to the model the trainer measured, so its
    recorded figure is what an engine shows. A bundle that records none cannot be checked: ValueError (a
    usage error: give --source).
    """
    if min_psnr is None:
        return
    require_recorded_psnr(recorded, min_psnr, None)
    status = Status.PASS if recorded >= min_psnr else Status.FAIL
    below = "below" if status == Status.FAIL else "at or above"
    rep.add(entry, status,
            f"{what} {recorded:.2f} dB as recorded by the trainer (no --source: not measured here), {below} "
            f"--min-psnr {min_psnr:g}", name=f"{entry.title} (recorded)", recorded_psnr_db=recorded,
            min_psnr=min_psnr)
    rep.summary.setdefault("psnr_db", recorded)
    rep.summary["psnr_source"] = "recorded by the trainer"


def check_manifest_and_files(rep: Report, bundle: Path, manifest: dict[str, Any] | None, manifest_entry: Code,
                             files_entry: Code) -> dict[str, Any] | None:
    """Checks ``manifest_entry`` (JSON, version, schema) and ``files_entry`` (sizes and sha256); returns the
    manifest, or None after recording the failure."""
    from ngsdk.asset.errors import AssetError
    from ngsdk.asset.manifest import read_manifest, validate_manifest, verify_files

    try:
        manifest = manifest or read_manifest(bundle, check_files=False)
        validate_manifest(manifest, bundle / "manifest.json")
    except AssetError as e:
        rep.add(manifest_entry, Status.FAIL, str(e))
        return None
    rep.add(manifest_entry, Status.PASS, f"format {manifest['format_version']}, schema valid")
    try:
        verify_files(bundle, manifest)
    except AssetError as e:
        rep.add(files_entry, Status.FAIL, str(e))
        return None
    rep.add(files_entry, Status.PASS, f"{len(manifest['files'])} files, sizes and sha256 match")
    return manifest
