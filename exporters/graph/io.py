"""IO descriptions of exported graphs and the records that list exports in a bundle manifest.

Torch-free: the JSON written here is what runtime_ref and engines read back. Every tensor's first dimension
is the dynamic batch dimension (a symbol such as ``"batch"``); the other dimensions are fixed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ngsdk.asset.digest import sha256_file, sha256_tree

LAYOUTS: dict[str, int] = {"NC": 2, "NCHW": 4, "NHWC": 4}
DTYPES = ("float32", "float16", "int8", "uint8", "int32")
FORMATS = ("onnx", "coreml", "vgf")
PRECISIONS = ("fp32", "fp16", "int8")


@dataclass(frozen=True)
class TensorIO:
    """One graph input or output.

    ``shape[0]`` is the dynamic batch symbol; ``value_range`` is the (min, max) a consumer may expect (inputs:
    what the graph was trained on; outputs: what it produces); ``color_space`` is ``"linear"``, ``"srgb"`` or
    ``"data"`` (not a colour); ``semantics`` says what the tensor means; ``channels`` optionally names each
    channel (e.g. ``("albedo.r", "albedo.g", ...)``).
    """

    name: str
    shape: tuple[int | str, ...]
    dtype: str = "float32"
    layout: str = "NC"
    value_range: tuple[float, float] | None = None
    color_space: str = "data"
    semantics: str = ""
    channels: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "shape", tuple(self.shape))
        object.__setattr__(self, "channels", tuple(self.channels))
        if self.value_range is not None:
            object.__setattr__(self, "value_range", (float(self.value_range[0]), float(self.value_range[1])))
        where = f"tensor {self.name!r}"
        if not self.name or not self.name.replace("_", "a").isalnum() or self.name[0].isdigit():
            raise ValueError(f"{where}: name must be an identifier (letters, digits, _), got {self.name!r}")
        if self.layout not in LAYOUTS:
            raise ValueError(f"{where}: layout {self.layout!r} is not one of {sorted(LAYOUTS)}")
        if len(self.shape) != LAYOUTS[self.layout]:
            raise ValueError(
                f"{where}: layout {self.layout} needs rank {LAYOUTS[self.layout]}, shape {self.shape}"
            )
        if not isinstance(self.shape[0], str) or not self.shape[0]:
            raise ValueError(
                f"{where}: shape[0] must be the dynamic batch symbol (e.g. 'batch'), got {self.shape}"
            )
        if any(not isinstance(d, int) or isinstance(d, bool) or d <= 0 for d in self.shape[1:]):
            raise ValueError(f"{where}: dimensions after the batch must be positive ints, got {self.shape}")
        if self.dtype not in DTYPES:
            raise ValueError(f"{where}: dtype {self.dtype!r} is not one of {DTYPES}")
        if self.color_space not in ("linear", "srgb", "data"):
            raise ValueError(f"{where}: color_space {self.color_space!r} is not linear, srgb or data")
        if self.value_range is not None and not self.value_range[0] < self.value_range[1]:
            raise ValueError(f"{where}: value_range {self.value_range} must be (min, max) with min < max")
        if self.channels and len(self.channels) != self.channel_count:
            raise ValueError(f"{where}: {len(self.channels)} channel names for {self.channel_count} channels")

    @property
    def channel_count(self) -> int:
        return int(self.shape[-1] if self.layout == "NHWC" else self.shape[1])

    def fixed_shape(self, batch: int) -> tuple[int, ...]:
        """The concrete shape for a given batch size."""
        return (int(batch), *(int(d) for d in self.shape[1:]))

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "shape": list(self.shape),
            "dtype": self.dtype,
            "layout": self.layout,
            "value_range": None if self.value_range is None else list(self.value_range),
            "color_space": self.color_space,
            "semantics": self.semantics,
            "channels": list(self.channels),
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> TensorIO:
        vr = d.get("value_range")
        return cls(
            name=d["name"],
            shape=tuple(d["shape"]),
            dtype=d.get("dtype", "float32"),
            layout=d.get("layout", "NC"),
            value_range=None if vr is None else (vr[0], vr[1]),
            color_space=d.get("color_space", "data"),
            semantics=d.get("semantics", ""),
            channels=tuple(d.get("channels", ())),
        )


@dataclass(frozen=True)
class IODescription:
    """The inputs and outputs of one exported graph, in call order."""

    inputs: tuple[TensorIO, ...]
    outputs: tuple[TensorIO, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "inputs", tuple(self.inputs))
        object.__setattr__(self, "outputs", tuple(self.outputs))
        if not self.inputs or not self.outputs:
            raise ValueError("IO description needs at least one input and one output")
        names = [t.name for t in (*self.inputs, *self.outputs)]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"IO description: tensor names must be unique, repeated: {dup}")

    def to_json(self) -> dict[str, Any]:
        return {"inputs": [t.to_json() for t in self.inputs], "outputs": [t.to_json() for t in self.outputs]}

    def dumps(self) -> str:
        """Compact, key-sorted JSON (stable bytes: it is embedded in model metadata)."""
        return json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> IODescription:
        return cls(
            inputs=tuple(TensorIO.from_json(t) for t in d["inputs"]),
            outputs=tuple(TensorIO.from_json(t) for t in d["outputs"]),
        )

    def check_inputs(self, shapes: Sequence[Sequence[int]]) -> None:
        """Raise ValueError unless ``shapes`` (example inputs) match the declared inputs except for batch."""
        if len(shapes) != len(self.inputs):
            raise ValueError(f"{len(shapes)} example inputs for {len(self.inputs)} declared inputs")
        for t, s in zip(self.inputs, shapes, strict=True):
            if tuple(s[1:]) != tuple(t.shape[1:]) or len(s) != len(t.shape):
                raise ValueError(
                    f"input {t.name!r}: example shape {tuple(s)} does not match declared {t.shape}"
                )


@dataclass(frozen=True)
class ExportedFile:
    """One file written by an exporter, relative to the export folder (POSIX separators)."""

    path: str
    sha256: str
    bytes: int

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "sha256": self.sha256, "bytes": self.bytes}


@dataclass(frozen=True)
class ExportRecord:
    """What one graph export wrote: the entry a bundle manifest lists.

    ``path`` is the artifact an engine opens (a file, or the ``.mlpackage`` folder); ``sha256`` is that file's
    digest, or for a folder the digest of its sorted ``"<relpath> <sha256>\\n"`` lines (see ``tree_sha256``);
    ``files`` lists every file written, sidecars included; ``target`` is the ONNX opset (``"opset17"``), the
    Core ML deployment target (``"iOS16"``) or the TOSA specification (``"TOSA-1.0+INT"``); ``details`` holds
    format-specific facts (exporter used, quantization parameters, tool versions).
    """

    format: str
    path: str
    sha256: str
    files: tuple[ExportedFile, ...]
    io: IODescription
    precision: str
    target: str
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "path": self.path,
            "sha256": self.sha256,
            "files": [f.to_json() for f in self.files],
            "io": self.io.to_json(),
            "precision": self.precision,
            "target": self.target,
            "details": json.loads(json.dumps(dict(self.details))),
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> ExportRecord:
        return cls(
            format=d["format"],
            path=d["path"],
            sha256=d["sha256"],
            files=tuple(ExportedFile(f["path"], f["sha256"], int(f["bytes"])) for f in d["files"]),
            io=IODescription.from_json(d["io"]),
            precision=d["precision"],
            target=d["target"],
            details=dict(d.get("details", {})),
        )


file_sha256 = sha256_file
tree_sha256 = sha256_tree


def describe_files(out_dir: str | Path, paths: Sequence[str | Path]) -> tuple[ExportedFile, ...]:
    """ExportedFile entries for ``paths`` (files, or folders expanded to their files) under ``out_dir``."""
    out_dir = Path(out_dir)
    files: list[ExportedFile] = []
    for p in paths:
        p = Path(p)
        members = sorted(q for q in p.rglob("*") if q.is_file()) if p.is_dir() else [p]
        for q in members:
            files.append(ExportedFile(q.relative_to(out_dir).as_posix(), file_sha256(q), q.stat().st_size))
    return tuple(files)
