"""runtime_ref's vectorised onnx.reference Resize gives what onnx's own per-element implementation gives."""

from __future__ import annotations

import itertools

import numpy as np
import pytest


def _resize_model(mode: str, coord: str, nearest: str, scales: list[float] | None, sizes: list[int] | None):  # noqa: ANN202
    from onnx import TensorProto, helper

    inputs = ["X", "", "scales" if scales is not None else ""]
    inits = []
    if scales is not None:
        inits.append(helper.make_tensor("scales", TensorProto.FLOAT, [4], scales))
    else:
        inputs.append("sizes")
        inits.append(helper.make_tensor("sizes", TensorProto.INT64, [4], sizes))
    attrs = {"mode": mode, "coordinate_transformation_mode": coord}
    if mode == "nearest":
        attrs["nearest_mode"] = nearest
    node = helper.make_node("Resize", inputs, ["Y"], **attrs)
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, None)],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


CASES = [
    ("linear", c, "round_prefer_floor")
    for c in ("half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric")
] + [
    ("nearest", c, n)
    for c, n in itertools.product(
        ("half_pixel", "asymmetric", "align_corners"),
        ("round_prefer_floor", "round_prefer_ceil", "floor", "ceil"),
    )
]


@pytest.mark.parametrize("mode,coord,nearest", CASES)
@pytest.mark.parametrize(
    "scales,sizes", [([1, 1, 2, 2], None), ([1, 1, 0.5, 1.5], None), (None, [1, 2, 7, 3])]
)
def test_fast_resize_matches_onnx_reference(tmp_path, mode, coord, nearest, scales, sizes) -> None:  # noqa: ANN001
    import onnx
    from onnx.reference import ReferenceEvaluator

    from ngsdk.runtime_ref.onnx_check import fast_resize_op

    model = _resize_model(mode, coord, nearest, scales, sizes)
    path = tmp_path / "r.onnx"
    onnx.save(model, str(path))
    x = np.random.default_rng(0).random((1, 2, 4, 5), dtype=np.float32)
    want = ReferenceEvaluator(str(path)).run(None, {"X": x})[0]
    got = ReferenceEvaluator(str(path), new_ops=[fast_resize_op()]).run(None, {"X": x})[0]
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)
