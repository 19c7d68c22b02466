"""IO descriptions, export records, format/precision planning and the protobuf wire reader (no torch)."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

from ngsdk.exporters.graph.api import plan
from ngsdk.exporters.graph.io import ExportedFile, ExportRecord, IODescription, TensorIO
from ngsdk.runtime_ref.mil import protowire as pw


def _io() -> IODescription:
    return IODescription(
        inputs=(
            TensorIO(
                "frame",
                ("batch", 3, 540, 960),
                layout="NCHW",
                value_range=(0, 1),
                color_space="linear",
                semantics="jittered frame",
                channels=("r", "g", "b"),
            ),
        ),
        outputs=(TensorIO("out", ("n", 1080, 1920, 3), layout="NHWC", dtype="float16"),),
    )


def test_io_description_json_round_trip() -> None:
    io = _io()
    doc = json.loads(io.dumps())
    assert IODescription.from_json(doc) == io
    assert doc["inputs"][0]["shape"] == ["batch", 3, 540, 960]
    assert io.inputs[0].fixed_shape(4) == (4, 3, 540, 960)
    assert io.outputs[0].channel_count == 3


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"shape": (2, 3)}, "dynamic batch symbol"),
        ({"shape": ("b", 3), "layout": "NCHW"}, "needs rank 4"),
        ({"shape": ("b", 0)}, "positive ints"),
        ({"shape": ("b", 3), "dtype": "float64"}, "dtype"),
        ({"shape": ("b", 3), "color_space": "rec709"}, "color_space"),
        ({"shape": ("b", 3), "value_range": (1, 0)}, "min < max"),
        ({"shape": ("b", 3), "channels": ("r", "g")}, "2 channel names for 3"),
    ],
)
def test_tensor_io_rejects_bad_declarations(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TensorIO("t", **kwargs)


def test_io_description_checks_names_and_examples() -> None:
    t = TensorIO("x", ("b", 3))
    with pytest.raises(ValueError, match="unique"):
        IODescription((t,), (t,))
    io = IODescription((t,), (TensorIO("y", ("b", 1)),))
    io.check_inputs([(7, 3)])
    with pytest.raises(ValueError, match="does not match"):
        io.check_inputs([(7, 4)])


def test_export_record_json_round_trip() -> None:
    rec = ExportRecord(
        "vgf",
        "m.int8.vgf",
        "ab" * 32,
        (ExportedFile("m.int8.vgf", "ab" * 32, 10),),
        _io(),
        "int8",
        "TOSA-1.0+INT",
        {"batch": 1},
    )
    assert ExportRecord.from_json(json.loads(json.dumps(rec.to_json()))) == rec


def test_plan_pairs_formats_with_supported_precisions() -> None:
    assert plan(["onnx", "coreml", "vgf"], "fp32") == [("onnx", "fp32"), ("coreml", "fp32"), ("vgf", "fp32")]
    assert plan(["coreml", "vgf"], ["fp16", "int8"]) == [("coreml", "fp16"), ("vgf", "int8")]
    assert plan(["onnx", "vgf"], {"onnx": "fp32", "vgf": ["fp32", "int8"]}) == [
        ("onnx", "fp32"),
        ("vgf", "fp32"),
        ("vgf", "int8"),
    ]
    with pytest.raises(ValueError, match="onnx export supports precisions"):
        plan(["onnx", "vgf"], "int8")
    with pytest.raises(ValueError, match="no requested format supports precision"):
        plan(["coreml"], ["fp16", "int8"])
    with pytest.raises(ValueError, match="unknown graph formats"):
        plan(["tflite"], "fp32")


def _varint(v: int) -> bytes:
    v &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        out.append(b | (0x80 if v else 0))
        if not v:
            return bytes(out)


def test_protowire_decodes_every_wire_type() -> None:
    sub = b"\x0a\x03abc"  # field 1: "abc"
    packed = b"".join(_varint(v) for v in (1, -2, 300))
    floats = np.array([1.5, -2.25], "<f4").tobytes()
    msg = (
        _varint(1 << 3 | 0)
        + _varint(150)
        + _varint(2 << 3 | 2)
        + _varint(len(sub))
        + sub
        + _varint(3 << 3 | 2)
        + _varint(len(packed))
        + packed
        + _varint(4 << 3 | 2)
        + _varint(len(floats))
        + floats
        + _varint(5 << 3 | 5)
        + struct.pack("<f", 0.5)
        + _varint(5 << 3 | 5)
        + struct.pack("<f", 4.0)
        + _varint(6 << 3 | 1)
        + struct.pack("<d", 2.5)
    )
    f = pw.parse(msg)
    assert pw.uint(f, 1) == 150
    assert pw.string(pw.message(f, 2), 1) == "abc"
    assert pw.packed_varints(f, 3) == [1, -2, 300]
    assert pw.packed_fixed(f, 4, "<f4").tolist() == [1.5, -2.25]
    assert pw.packed_fixed(f, 5, "<f4").tolist() == [0.5, 4.0]  # unpacked repeats are accepted too
    assert pw.fixed_scalar(f, 6, "<d") == 2.5
    with pytest.raises(pw.WireError):
        pw.parse(_varint(2 << 3 | 2) + _varint(10) + b"abc")
