"""The one error type graph exports raise when a format library fails (torch.export, onnx, coremltools,
ExecuTorch): the CLI prints it as a single line instead of the library's traceback."""

from __future__ import annotations

_MAX_PART = 400


class ExportError(RuntimeError):
    """``<format> export failed: <graph> <precision>: <reason>``; the library's exception is ``__cause__``.

    ``reason`` names the innermost exception of the chain (usually the specific problem, e.g. an op the
    backend cannot lower) and, when different, the outermost one (usually where it happened).
    """

    def __init__(self, fmt: str, precision: str, name: str, reason: str):
        self.format, self.precision, self.name, self.reason = fmt, precision, name, reason
        super().__init__(f"{fmt} export failed: {name} {precision}: {reason}")

    @classmethod
    def wrap(cls, fmt: str, precision: str, name: str, exc: BaseException) -> ExportError:
        return cls(fmt, precision, name, describe(exc))


def _line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())  # one line: library messages often span many
    if len(text) > _MAX_PART:
        text = text[: _MAX_PART - 3] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def describe(exc: BaseException) -> str:
    """One line for an exception chain: the innermost cause, then the outermost exception if different.

    Only explicit causes (``raise ... from e``) are followed; an implicit ``__context__`` is often an
    unrelated exception a library handled on the way.
    """
    chain = [exc]
    while (nxt := chain[-1].__cause__) is not None and nxt not in chain:
        chain.append(nxt)
    inner, outer = _line(chain[-1]), _line(exc)
    return inner if inner == outer else f"{inner} (raised as {outer})"
