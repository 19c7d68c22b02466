"""Errors raised while reading or writing assets: each names the file and the problem."""

from __future__ import annotations

from pathlib import Path


class AssetError(Exception):
    """A bundle, manifest, grid or weight file is missing, malformed or inconsistent.

    ``str(err)`` is a single line of the form ``<path>: <problem>``, suitable for a CLI.
    """

    def __init__(self, path: str | Path | None, problem: str):
        self.path = None if path is None else Path(path)
        self.problem = problem
        super().__init__(problem if path is None else f"{path}: {problem}")
