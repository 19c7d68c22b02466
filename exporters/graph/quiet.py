"""Keep the format libraries' noise off the user's terminal while ngsdk calls into them.

coremltools, torchao, torch.export, onnxscript and ExecuTorch announce things a user of ``ngsdk export``
cannot act on: missing macOS-only runtime proxies ("Failed to load _MLModelProxy" x8 on Linux), torchao
kernels built for other CUDA versions, untested torch/scikit-learn versions, deprecations inside their own
code, and a tqdm bar per coremltools pass. Inside :func:`quiet_libraries` their loggers drop everything
below ERROR, Python warnings are ignored, and the libraries' Python-level writes to stderr (the bars) go to
a buffer. Exceptions still propagate, and ngsdk's own logging keeps its stream. ``ngsdk -v`` (DEBUG on the
``ngsdk`` logger) leaves everything visible for debugging.
"""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from collections.abc import Iterator

# Loggers of the libraries the exporters call (children inherit the level unless they set their own).
LIBRARY_LOGGERS = (
    "coremltools", "torchao", "torch", "torch.utils._pytree", "torch.export", "torch.onnx", "torch._dynamo",
    "torch._export", "onnxscript", "onnx_ir", "onnx", "executorch", "tosa", "tosa_tools", "absl",
)


@contextlib.contextmanager
def quiet_libraries(enabled: bool | None = None) -> Iterator[None]:
    """Silence the format libraries' log records below ERROR, their warnings and their stderr writes.

    ``enabled`` defaults to "unless the ``ngsdk`` logger is at DEBUG" (``-v``).
    """
    if enabled is None:
        enabled = not logging.getLogger("ngsdk").isEnabledFor(logging.DEBUG)
    if not enabled:
        yield
        return
    saved = {name: logging.getLogger(name).level for name in LIBRARY_LOGGERS}
    try:
        for name in LIBRARY_LOGGERS:
            logging.getLogger(name).setLevel(logging.ERROR)
        with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)
