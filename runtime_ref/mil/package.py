"""Read a Core ML ``.mlpackage``: Manifest.json, the ML Program spec and its weight blobs (weight.bin)."""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ngsdk.asset.errors import AssetError
from ngsdk.runtime_ref.mil.spec import BlobRef, ModelSpec, SpecError, Value, decode_model

BLOB_SENTINEL = 0xDEADBEEF
# weight.bin per-blob dtype codes (Core ML's MIL blob storage); only the ones our exporters write.
BLOB_DTYPES = {1: "float16", 2: "float32", 3: "uint8", 4: "int8"}
_MODEL_PATH_PREFIX = "@model_path/"


@dataclass
class MilPackage:
    """A decoded .mlpackage; ``const_value`` resolves a const op's value (immediate or blob)."""

    path: Path
    model_file: Path
    weights_dir: Path
    spec: ModelSpec

    def __post_init__(self) -> None:
        self._blob_files: dict[Path, bytes] = {}

    def const_value(self, value: Value, what: str) -> np.ndarray:
        if value.immediate is not None:
            return value.immediate
        assert value.blob is not None
        return self._read_blob(value.blob, value, what)

    def _read_blob(self, ref: BlobRef, value: Value, what: str) -> np.ndarray:
        if not ref.file.startswith(_MODEL_PATH_PREFIX):
            raise AssetError(self.model_file, f"{what}: blob file {ref.file!r} is not under @model_path/")
        # @model_path is the folder holding model.mlmodel; weights sit beside it.
        path = (self.model_file.parent / ref.file[len(_MODEL_PATH_PREFIX) :]).resolve()
        root = (self.path if self.path.is_dir() else self.model_file.parent).resolve()
        if root not in path.parents:
            raise AssetError(self.model_file, f"{what}: blob file {ref.file!r} points outside the package")
        data = self._blob_files.get(path)
        if data is None:
            try:
                data = path.read_bytes()
            except OSError as e:
                raise AssetError(path, f"cannot read weight file for {what}: {e}") from e
            self._blob_files[path] = data
        if ref.offset + 64 > len(data):
            raise AssetError(
                path, f"{what}: blob record at offset {ref.offset} is past the end ({len(data)} bytes)"
            )
        sentinel, code, nbytes, data_offset = struct.unpack_from("<IIQQ", data, ref.offset)
        if sentinel != BLOB_SENTINEL:
            raise AssetError(path, f"{what}: no blob record at offset {ref.offset} (sentinel {sentinel:#x})")
        dtype = BLOB_DTYPES.get(code)
        if dtype is None:
            raise AssetError(path, f"{what}: blob dtype code {code} is not supported by ngsdk.runtime_ref.mil")
        declared = value.type.np_dtype if value.type is not None else None
        if declared != dtype:
            raise AssetError(path, f"{what}: blob holds {dtype} but the spec declares {declared}")
        if data_offset + nbytes > len(data):
            raise AssetError(
                path, f"{what}: blob data {data_offset}+{nbytes} runs past the end ({len(data)} bytes)"
            )
        arr = np.frombuffer(
            data,
            dtype=np.dtype(dtype).newbyteorder("<"),
            count=nbytes // np.dtype(dtype).itemsize,
            offset=data_offset,
        )
        shape = value.type.shape if value.type is not None else (arr.size,)
        if any(d is None for d in shape) or int(np.prod(shape)) != arr.size:
            raise AssetError(path, f"{what}: blob has {arr.size} values, the spec declares shape {shape}")
        return arr.astype(dtype).reshape(shape)


def load_mlpackage(path: str | Path) -> MilPackage:
    """Open ``path`` (a ``.mlpackage`` folder, or a bare ``model.mlmodel`` with ``weights/`` beside it)."""
    path = Path(path)
    if path.is_dir():
        manifest_path = path / "Manifest.json"
        try:
            manifest = json.loads(manifest_path.read_text())
            root = manifest["itemInfoEntries"][manifest["rootModelIdentifier"]]
            model_file = path / "Data" / root["path"]
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise AssetError(manifest_path, f"not a readable .mlpackage manifest: {e}") from e
    else:
        model_file = path
    try:
        data = model_file.read_bytes()
    except OSError as e:
        raise AssetError(model_file, f"cannot read Core ML model spec: {e}") from e
    try:
        spec = decode_model(data)
    except SpecError as e:
        raise AssetError(model_file, str(e)) from e
    return MilPackage(path, model_file, model_file.parent / "weights", spec)
