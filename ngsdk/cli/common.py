"""Helpers shared by CLI commands: one-line errors and exit codes."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Any

import click

from exporters.graph.errors import ExportError
from ngsdk.asset.errors import AssetError


def fail(message: str, code: int = 2) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def friendly_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn asset, export, value and file errors into a one-line message and exit code 2."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except AssetError as e:
            fail(str(e))
        except ExportError as e:  # a format library failed: "<format> export failed: <reason>", no traceback
            fail(" ".join(str(e).split()))
        except (ValueError, FileExistsError, FileNotFoundError, RuntimeError) as e:
            fail(str(e).splitlines()[0] if str(e) else type(e).__name__)

    return wrapper
