"""The catalog of verify codes: every check ``ngsdk verify`` can report, with its code, title, severity, what
it checks and how to fix a failure. Checks name their entry (``rep.add(NT.DECODE_CONSISTENCY, ...)``), never
a literal code; docs/verify-codes.md is generated from here (``python tools/verify_codes.py --write``).

Codes are stable (CI matches on them): a check keeps its code forever, a new check takes the next number.
One module per code family: ``graph_exports`` (GX, every kind) and one per asset kind, named by
``ngsdk.kinds`` (``neural_texture``: NT, ``neural_volume``: VX, ``shading_mlp``: SM).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from enum import Enum
from types import ModuleType


class Status(str, Enum):
    """What a check found. PASS and FAIL decide the verdict; WARN and SKIP never fail it (a SKIP for a
    missing tool does under ``--strict``)."""

    PASS = "pass"
    WARN = "warn"
    SKIP = "skip"
    FAIL = "fail"

    def __str__(self) -> str:  # the value in reports and f-strings, on every Python version
        return self.value


class Severity(str, Enum):
    """What a problem found by the check means for the bundle."""

    ERROR = "error"
    """The bundle is wrong or does not decode as trained: the check FAILs."""
    WARNING = "warning"
    """The bundle is usable but something deserves attention: the check WARNs, never FAILs."""
    INFO = "info"
    """A figure for the report (size, compression): the check always passes."""

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Code:
    """One catalog entry."""

    code: str
    title: str
    severity: Severity
    checks: str
    """What the check compares, in a sentence or two."""
    fix: str
    """What to do when it does not pass."""

    def __str__(self) -> str:
        return self.code


GRAPH_EXPORTS = "ngsdk.verify.catalog.graph_exports"


def families() -> list[tuple[str, ModuleType]]:
    """(title, module) of every code family: graph exports, then each kind of ``ngsdk.kinds``."""
    from ngsdk import kinds

    out = [("graph exports (every kind)", importlib.import_module(GRAPH_EXPORTS))]
    return out + [(f"{k.title} ({k.name})", k.part("codes")) for k in kinds.KINDS]


def codes_of(module: ModuleType) -> list[Code]:
    """The entries a family module defines, in code order."""
    return sorted((v for v in vars(module).values() if isinstance(v, Code)), key=lambda c: c.code)


def all_codes() -> list[Code]:
    """Every entry of every family."""
    return [c for _, m in families() for c in codes_of(m)]


def lookup(code: str) -> Code:
    """The entry of ``code`` (``NT004``); KeyError for an unknown code."""
    for c in all_codes():
        if c.code == code:
            return c
    raise KeyError(code)


def markdown() -> str:
    """docs/verify-codes.md: one table per family."""
    lines = ["# Verify codes", "",
             "Every check `ngsdk verify` reports, by code (generated from `ngsdk/verify/catalog/` by",
             "`python tools/verify_codes.py --write`; a test fails when this page is stale). Codes are stable:",
             "CI pipelines match on them. Severity says what a problem means: `error` FAILs the bundle, `warning`",
             "WARNs and never fails, `info` is a figure for the report. Any check is SKIPPED when it cannot run",
             "(no `--source`, a tool not installed: `--strict` fails those)."]
    for title, module in families():
        lines += ["", f"## {title[0].upper()}{title[1:]}", "", "| code | title | severity | checks | to fix |",
                  "|---|---|---|---|---|"]
        for c in codes_of(module):
            lines.append(f"| `{c.code}` | {c.title} | {c.severity} | {c.checks} | {c.fix} |")
    return "\n".join(lines) + "\n"
