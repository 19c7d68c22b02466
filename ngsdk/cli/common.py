"""What every CLI command shares: one logging setup (-q/-v), one error style, one way to name an extra.

Output rules (docs/cli.md): results go to stdout (reports, summaries, ``--json -``); progress, notes and
errors go to stderr through the ``ngsdk`` logger. An error is one line ``error: ...`` on stderr with exit
code 2 (bad usage or input, a missing dependency) or 1 (a check failed: ``ngsdk verify``).
"""

from __future__ import annotations

import inspect
import logging
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any

import click

from ngsdk import kinds
from ngsdk.asset.errors import AssetError
from ngsdk.exporters.graph.errors import ExportError
from ngsdk.kinds import Kind, Part

log = logging.getLogger("ngsdk")

FILE_ONLY = {"console": False}
"""``log.info(msg, extra=FILE_ONLY)``: into a log file (ngsdk.cli.progress.log_file), not onto the terminal."""

# missing top-level module -> (what it is, the pip extra that installs it)
EXTRAS = {
    "torch": ("PyTorch", "train"), "tqdm": ("tqdm", "train"),
    "onnx": ("onnx", "export"), "onnxscript": ("onnxscript", "export"), "onnxruntime": ("onnxruntime", "export"),
    "coremltools": ("coremltools", "export"), "executorch": ("ExecuTorch", "export"),
    "torchao": ("torchao", "export"), "tosa_serializer": ("tosa-tools", "export"),
    "etcpak": ("etcpak", "bench"), "texture2ddecoder": ("texture2ddecoder", "bench"),
    "cupy": ("CuPy", "gpu"), "wgpu": ("wgpu", "vulkan"),
}


def missing_extra(exc: ImportError, extra: str | None = None) -> str | None:
    """``this command needs PyTorch (...): pip install 'ngsdk[train]'`` for a missing optional dependency
    (``extra`` names the extra to install when the command knows better, e.g. ``export`` for torch)."""
    top = (exc.name or "").split(".")[0]
    if top not in EXTRAS:
        return None
    what, default = EXTRAS[top]
    return f"this command needs {what} (module {top!r} is not installed): pip install 'ngsdk[{extra or default}]'"


class _Formatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        msg = record.getMessage()
        if record.levelno >= logging.ERROR:
            return f"error: {msg}"
        if record.levelno >= logging.WARNING:
            return f"warning: {msg}"
        return msg


def setup_logging(verbosity: int = 0) -> None:
    """The ``ngsdk`` logger on stderr: ``-q`` (-1) warnings and errors only, default (0) progress and notes,
    ``-v`` (1) debug details and the format libraries' own messages (ngsdk.exporters.graph.quiet)."""
    level = logging.WARNING if verbosity < 0 else logging.DEBUG if verbosity > 0 else logging.INFO
    for h in list(log.handlers):
        if getattr(h, "_ngsdk", False):
            log.removeHandler(h)
    # bound to the stream now: library output redirected later (ngsdk.exporters.graph.quiet) must not take ours
    handler = logging.StreamHandler(sys.stderr)
    handler._ngsdk = True  # type: ignore[attr-defined]
    handler.setFormatter(_Formatter())
    handler.addFilter(lambda record: getattr(record, "console", True))
    handler.setLevel(level)
    log.addHandler(handler)
    log.setLevel(level)  # a log file (ngsdk.cli.progress.log_file) lowers it to INFO while it is open
    log.propagate = False


def quiet() -> bool:
    """True under ``-q``: print only results and errors."""
    levels = [h.level for h in log.handlers if getattr(h, "_ngsdk", False)]
    return not log.isEnabledFor(logging.INFO) or bool(levels) and min(levels) > logging.INFO


def _verbosity_callback(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    levels = ctx.meta.setdefault("ngsdk.verbosity", {})
    levels[param.name] = value
    setup_logging(int(levels.get("verbose") or 0) - int(bool(levels.get("quiet"))))


def verbosity_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``-q/--quiet`` and ``-v/--verbose`` (one logging setup for every command)."""
    fn = click.option("-v", "--verbose", count=True, expose_value=False, callback=_verbosity_callback,
                      help="More detail on stderr, including the format libraries' own messages.")(fn)
    return click.option("-q", "--quiet", is_flag=True, expose_value=False, callback=_verbosity_callback,
                        help="Print only results and errors.")(fn)


def fail(message: str, code: int = 2) -> None:
    """Print ``error: message`` on stderr and exit with ``code`` (2: usage or input, 1: a failed check)."""
    click.echo(f"error: {' '.join(str(message).split())}", err=True)
    sys.exit(code)


def friendly_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn asset, export, value, file system and missing-dependency errors into one ``error:`` line, exit code 2."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except AssetError as e:
            fail(str(e))
        except ExportError as e:  # a format library failed: "<format> export failed: <reason>", no traceback
            fail(str(e))
        except ImportError as e:
            hint = missing_extra(e)
            if hint is None:
                raise
            fail(hint)
        except (ValueError, FileExistsError, FileNotFoundError, RuntimeError) as e:
            fail(str(e).splitlines()[0] if str(e) else type(e).__name__)
        except OSError as e:  # a full disk, a read-only or forbidden folder: the file and the reason
            fail(f"{e.filename}: {e.strerror}" if e.filename and e.strerror else str(e) or type(e).__name__)

    return wrapper


class DeviceType(click.ParamType):
    """``auto``, ``cpu``, ``cuda`` or ``cuda:N`` (the trainers' ngsdk.training.pick_device names)."""

    name = "device"
    json_schema = {"type": "string", "pattern": "^(auto|cpu|cuda(:[0-9]+)?)$"}

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value).strip().lower()
        head, sep, index = text.partition(":")
        if text in ("auto", "cpu", "cuda") or (head == "cuda" and sep and index.isdigit()):
            return text
        self.fail(f"{value!r} is not auto, cpu, cuda or cuda:N (N the GPU index, e.g. cuda:1)", param, ctx)


DEVICE = DeviceType()


def size_text(n: float) -> str:
    """A byte count for people: ``655.4 KiB``."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def kind_options(kind: Kind, part: Part, names: tuple[str, ...]) -> dict[str, Any]:
    """The values of the kind-specific options ``names`` of the running command that the user gave, when the
    kind's ``part`` takes each of them; else a usage error (exit 2) naming the kinds they apply to (``--mip
    applies to neural textures, not neural volumes``). Which options a kind takes is its function's signature:
    a new kind declares them there, not here."""
    from click.core import ParameterSource

    ctx = click.get_current_context()
    given = {n: ctx.params[n] for n in names if ctx.get_parameter_source(n) != ParameterSource.DEFAULT}

    def takes(k: Kind) -> bool:
        return getattr(k, part) is not None and set(given) <= set(inspect.signature(k.part(part)).parameters)

    if takes(kind):
        return given
    params = inspect.signature(kind.part(part)).parameters
    flags = [next(p.opts[0] for p in ctx.command.params if p.name == n) for n in given if n not in params]
    takers = [f"{k.title}s" for k in kinds.KINDS if takes(k)] or ["no bundles"]
    fail(f"{', '.join(flags)} appl{'y' if len(flags) > 1 else 'ies'} to {' and '.join(takers)}, not {kind.title}s")
    return {}
