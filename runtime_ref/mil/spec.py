"""Decode a Core ML ``Model`` protobuf (ML Program only) into plain Python objects.

Field numbers are those of Apple's public Model.proto, FeatureTypes.proto and MIL.proto (the Core ML
specification); only the messages an ML Program needs are decoded.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ngsdk.runtime_ref.mil import protowire as pw

# MIL.proto DataType -> NumPy dtype (None: not a numeric tensor type runtime_ref evaluates).
MIL_DTYPES: dict[int, str | None] = {
    1: "bool",
    2: None,
    10: "float16",
    11: "float32",
    12: "float64",
    13: None,
    21: "int8",
    22: "int16",
    23: "int32",
    24: "int64",
    31: "uint8",
    32: "uint16",
    33: "uint32",
    34: "uint64",
}
MIL_DTYPE_NAMES = {
    1: "bool",
    2: "string",
    10: "fp16",
    11: "fp32",
    12: "fp64",
    13: "bf16",
    21: "int8",
    22: "int16",
    23: "int32",
    24: "int64",
    31: "uint8",
    32: "uint16",
    33: "uint32",
    34: "uint64",
}
# FeatureTypes.proto ArrayFeatureType.ArrayDataType.
ARRAY_DTYPES = {65568: "float32", 65600: "float64", 131104: "int32", 131080: "int8", 65552: "float16"}


@dataclass(frozen=True)
class TensorType:
    dtype: int  # MIL DataType code
    shape: tuple[int | None, ...]  # None: unknown (dynamic) dimension

    @property
    def np_dtype(self) -> str | None:
        return MIL_DTYPES.get(self.dtype)

    def describe(self) -> str:
        dims = ",".join("?" if d is None else str(d) for d in self.shape)
        return f"{MIL_DTYPE_NAMES.get(self.dtype, self.dtype)}[{dims}]"


@dataclass(frozen=True)
class BlobRef:
    file: str
    offset: int


@dataclass(frozen=True)
class Value:
    type: TensorType | None
    immediate: np.ndarray | None = None
    blob: BlobRef | None = None


@dataclass(frozen=True)
class Binding:
    name: str | None = None  # a variable reference ...
    value: Value | None = None  # ... or a literal


@dataclass(frozen=True)
class Operation:
    type: str
    inputs: dict[str, tuple[Binding, ...]]
    outputs: tuple[tuple[str, TensorType | None], ...]
    attributes: dict[str, Value]
    has_blocks: bool


@dataclass(frozen=True)
class Block:
    inputs: tuple[tuple[str, TensorType | None], ...]
    outputs: tuple[str, ...]
    operations: tuple[Operation, ...]


@dataclass(frozen=True)
class Function:
    inputs: tuple[tuple[str, TensorType | None], ...]
    opset: str
    blocks: dict[str, Block]

    @property
    def block(self) -> Block:
        return self.blocks[self.opset]


@dataclass(frozen=True)
class Feature:
    name: str
    description: str
    kind: str  # "multiArray" or the other FeatureType oneof name
    dtype: str | None
    shape: tuple[int, ...]
    shape_range: tuple[tuple[int, int], ...] = ()
    image: tuple[int, int, str] | None = None
    """Image features: (width, height, colour space: ``GRAYSCALE``, ``RGB``, ``BGR`` or ``GRAYSCALE_FLOAT16``)."""


@dataclass(frozen=True)
class ModelSpec:
    specification_version: int
    inputs: tuple[Feature, ...]
    outputs: tuple[Feature, ...]
    metadata: dict[str, str]
    user_defined: dict[str, str]
    program_version: int
    functions: dict[str, Function] = field(default_factory=dict)


class SpecError(ValueError):
    """The spec is malformed or is not an ML Program."""


def _dimension(f: pw.Fields) -> int | None:
    const = pw.message(f, 1)
    if const is not None:
        return pw.uint(const, 1)
    return None


def _value_type(f: pw.Fields | None) -> TensorType | None:
    if f is None:
        return None
    t = pw.message(f, 1)
    if t is None:  # list, tuple, dict or state types: not used by our graphs
        return None
    dims = tuple(_dimension(d) for d in pw.messages(t, 3))
    rank = pw.uint(t, 2, len(dims))
    if rank != len(dims):
        raise SpecError(f"tensor type rank {rank} with {len(dims)} dimensions")
    return TensorType(pw.uint(t, 1), dims)


def _tensor_value(f: pw.Fields, ttype: TensorType | None) -> np.ndarray:
    dtype = (ttype.np_dtype if ttype is not None else None) or "float32"
    shape = tuple(d if d is not None else -1 for d in ttype.shape) if ttype is not None else (-1,)
    if 1 in f:
        arr = pw.packed_fixed(pw.message(f, 1) or {}, 1, "<f4")
    elif 2 in f:
        arr = np.array(pw.packed_varints(pw.message(f, 2) or {}, 1), dtype=np.int64)
    elif 3 in f:
        arr = np.array(pw.packed_varints(pw.message(f, 3) or {}, 1), dtype=bool)
    elif 4 in f:
        arr = np.array(pw.strings(pw.message(f, 4) or {}, 1), dtype=object)
        return arr.reshape(shape) if ttype is not None else arr
    elif 5 in f:
        arr = np.array(pw.packed_varints(pw.message(f, 5) or {}, 1), dtype=np.int64)
    elif 6 in f:
        arr = pw.packed_fixed(pw.message(f, 6) or {}, 1, "<f8")
    elif 7 in f:
        raw = pw.raw_bytes(pw.message(f, 7) or {}, 1)
        arr = np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder("<"))
    else:
        arr = np.zeros(0, dtype=dtype)
    return arr.astype(dtype).reshape(shape)


def _value(f: pw.Fields) -> Value:
    ttype = _value_type(pw.message(f, 2))
    imm = pw.message(f, 3)
    if imm is not None:
        tv = pw.message(imm, 1)
        if tv is None:
            raise SpecError("immediate value that is not a tensor (tuple, list or dict)")
        return Value(ttype, immediate=_tensor_value(tv, ttype))
    blob = pw.message(f, 5)
    if blob is not None:
        return Value(ttype, blob=BlobRef(pw.string(blob, 1), pw.uint(blob, 2)))
    raise SpecError("value with neither an immediate nor a blob file value")


def _named_types(fs: list[pw.Fields]) -> tuple[tuple[str, TensorType | None], ...]:
    return tuple((pw.string(f, 1), _value_type(pw.message(f, 2))) for f in fs)


def _map_entries(fs: list[pw.Fields]) -> list[tuple[str, pw.Fields | None]]:
    return [(pw.string(e, 1), pw.message(e, 2)) for e in fs]


def _operation(f: pw.Fields) -> Operation:
    inputs: dict[str, tuple[Binding, ...]] = {}
    for key, arg in _map_entries(pw.messages(f, 2)):
        binds = []
        for b in pw.messages(arg or {}, 1):
            if 1 in b:
                binds.append(Binding(name=pw.string(b, 1)))
            else:
                v = pw.message(b, 2)
                if v is None:
                    raise SpecError(f"argument {key!r} has an empty binding")
                binds.append(Binding(value=_value(v)))
        inputs[key] = tuple(binds)
    attrs = {k: _value(v) for k, v in _map_entries(pw.messages(f, 5)) if v is not None}
    return Operation(pw.string(f, 1), inputs, _named_types(pw.messages(f, 3)), attrs, bool(f.get(4)))


def _block(f: pw.Fields) -> Block:
    return Block(
        _named_types(pw.messages(f, 1)),
        tuple(pw.strings(f, 2)),
        tuple(_operation(o) for o in pw.messages(f, 3)),
    )


def _function(f: pw.Fields) -> Function:
    blocks = {k: _block(v or {}) for k, v in _map_entries(pw.messages(f, 3))}
    return Function(_named_types(pw.messages(f, 1)), pw.string(f, 2), blocks)


_FEATURE_KINDS = {
    1: "int64",
    2: "double",
    3: "string",
    4: "image",
    5: "multiArray",
    6: "dictionary",
    7: "sequence",
    8: "state",
}


# FeatureTypes.proto ImageFeatureType.ColorSpace.
_IMAGE_SPACES = {10: "GRAYSCALE", 20: "RGB", 30: "BGR", 40: "GRAYSCALE_FLOAT16"}


def _feature(f: pw.Fields) -> Feature:
    ft = pw.message(f, 3) or {}
    kind = next((k for n, k in _FEATURE_KINDS.items() if n in ft), "unknown")
    dtype, shape, ranges = None, (), ()
    arr = pw.message(ft, 5)
    if arr is not None:
        dtype = ARRAY_DTYPES.get(pw.uint(arr, 2))
        shape = tuple(pw.packed_varints(arr, 1))
        sr = pw.message(arr, 31)
        if sr is not None:
            ranges = tuple((pw.uint(r, 1), pw.sint64(pw.uint(r, 2))) for r in pw.messages(sr, 1))
    image = None
    img = pw.message(ft, 4)
    if img is not None:
        space = _IMAGE_SPACES.get(pw.uint(img, 3), "INVALID")
        image = (pw.uint(img, 1), pw.uint(img, 2), space)
    return Feature(pw.string(f, 1), pw.string(f, 2), kind, dtype, shape, ranges, image)


def decode_model(data: bytes) -> ModelSpec:
    """Decode serialized ``CoreML.Specification.Model`` bytes; raise SpecError unless it is an ML Program."""
    try:
        m = pw.parse(data)
        desc = pw.message(m, 2) or {}
        meta_f = pw.message(desc, 100) or {}
        metadata = {
            k: pw.string(meta_f, n)
            for n, k in ((1, "shortDescription"), (2, "versionString"), (3, "author"), (4, "license"))
        }
        user = {pw.string(e, 1): pw.string(e, 2) for e in pw.messages(meta_f, 100)}
        prog = pw.message(m, 502)
        if prog is None:
            kinds = sorted(k for k in m if k >= 200)
            raise SpecError(
                f"not an ML Program (model type field {kinds}); ngsdk.runtime_ref.mil reads ML Programs only"
            )
        functions = {k: _function(v or {}) for k, v in _map_entries(pw.messages(prog, 2))}
        return ModelSpec(
            specification_version=pw.uint(m, 1),
            inputs=tuple(_feature(x) for x in pw.messages(desc, 1)),
            outputs=tuple(_feature(x) for x in pw.messages(desc, 10)),
            metadata=metadata,
            user_defined=user,
            program_version=pw.uint(prog, 1),
            functions=functions,
        )
    except pw.WireError as e:
        raise SpecError(f"malformed protobuf: {e}") from e
