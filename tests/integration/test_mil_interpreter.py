"""runtime_ref's MIL interpreter against torch on a net that makes coremltools emit every op our exporters
use (linear, matmul, conv, conv_transpose with groups and output padding, crop, relu, leaky_relu, sigmoid,
tanh, silu, gelu exact and tanh, add, sub, mul, real_div, concat, reshape, transpose, slice_by_index,
pixel_shuffle, nearest and both bilinear variants, clip, cast)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.integration.graph_nets import require_toolchain

EXPECTED_OPS = {
    "add",
    "clip",
    "concat",
    "const",
    "conv",
    "conv_transpose",
    "crop",
    "gelu",
    "leaky_relu",
    "linear",
    "matmul",
    "mul",
    "pixel_shuffle",
    "real_div",
    "relu",
    "reshape",
    "sigmoid",
    "silu",
    "slice_by_index",
    "sub",
    "tanh",
    "transpose",
    "upsample_bilinear",
    "upsample_nearest_neighbor",
}


def _kitchen_sink():  # noqa: ANN202
    import torch
    from torch import nn
    from torch.nn import functional as F  # noqa: N812

    class KitchenSink(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.c1 = nn.Conv2d(4, 8, 3, padding=1)
            self.c2 = nn.Conv2d(8, 8, 3, stride=2, padding=1, groups=2)
            self.ct = nn.ConvTranspose2d(8, 6, 3, stride=2, padding=1, output_padding=1, groups=2)
            self.ct2 = nn.ConvTranspose2d(8, 4, 2, stride=2)
            self.lin = nn.Linear(16, 8)
            self.w = nn.Parameter(torch.randn(8, 5) * 0.3)

        def forward(self, x):  # noqa: ANN001, ANN202
            a = F.silu(self.c1(x))
            b = F.gelu(self.c2(a))
            c = torch.tanh(self.ct(F.gelu(b, approximate="tanh")))
            d = torch.cat([c, F.leaky_relu(self.ct2(b), 0.2)], 1)
            e = F.interpolate(F.pixel_shuffle(d[:, :8], 2), scale_factor=0.5, mode="nearest")
            g = F.interpolate(d, scale_factor=2, mode="bilinear", align_corners=True)
            h = (g[:, :2] - F.interpolate(e, scale_factor=2, mode="bilinear", align_corners=False)) * 0.5
            h = h / (1.5 + torch.sigmoid(g[:, 2:4]))
            v = h.reshape(h.shape[0], 2, 8, 32).permute(0, 2, 1, 3).reshape(h.shape[0], 16, 32)
            lin = torch.relu(self.lin(v.transpose(1, 2)))
            m = torch.clamp(lin @ self.w, -0.5, 0.75) + 0.1 * torch.matmul(lin, lin.transpose(1, 2))[:, :, :5]
            return m.flatten(1)

    torch.manual_seed(7)
    return KitchenSink().eval()


EXPECTED_OPS_2 = {
    "abs",
    "cos",
    "exp",
    "fill_like",
    "gather",
    "greater",
    "maximum",
    "reduce_mean",
    "select",
    "sin",
    "softmax",
    "split",
    "sqrt",
    "stack",
    "tile",
}


def _indexing_net():  # noqa: ANN202
    """Split, gather, stack, tile, where/compare, fill, reductions, softmax and elementwise maths."""
    import torch
    from torch import nn

    class IndexingNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("idx", torch.tensor([3, 0, 2, 2, 1]))
            self.lin = nn.Linear(8, 8)

        def forward(self, x):  # noqa: ANN001, ANN202
            a, b = torch.split(x, [3, 5], dim=1)
            g = torch.index_select(b, 1, self.idx)
            t = torch.stack([a, g[:, :3]], dim=1).repeat(1, 2, 1).flatten(1)
            w = torch.where(t > 0.5, t, -t)
            e = torch.exp(-w) + torch.sin(w) * torch.cos(w) + torch.sqrt(w.abs())
            m = torch.maximum(e, torch.full_like(e, 0.3)) + e.mean(dim=1, keepdim=True)
            return torch.cat([m, torch.softmax(self.lin(x), dim=1)], 1)

    torch.manual_seed(8)
    return IndexingNet().eval()


@pytest.fixture(scope="module")
def indexing(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    require_toolchain()
    import torch

    from ngsdk.exporters.graph.coreml_export import export_coreml
    from ngsdk.exporters.graph.io import IODescription, TensorIO

    io = IODescription([TensorIO("x", ("batch", 8))], [TensorIO("y", ("batch", 20))])
    net = _indexing_net()
    out = tmp_path_factory.mktemp("indexing")
    recs = {
        p: export_coreml(net, (torch.rand(2, 8),), io, out, name="ix", precision=p) for p in ("fp32", "fp16")
    }
    return net, out, recs


@pytest.mark.parametrize("precision,bound", [("fp32", 1e-5), ("fp16", 2.0**-8)])
def test_mil_interpreter_indexing_ops(indexing, precision: str, bound: float) -> None:  # noqa: ANN001
    import torch

    from ngsdk.runtime_ref.mil import run_program

    net, out, recs = indexing
    assert EXPECTED_OPS_2 <= set(recs[precision].details["mil_ops"])
    x = torch.rand(6, 8)
    with torch.no_grad():
        want = net(x).numpy()
    got = run_program(Path(out) / recs[precision].path, {"x": x.numpy()})["y"]
    err = float(np.abs(got - want).max())
    print(f"indexing net {precision}: max |MIL - torch| = {err:.3g} (bound {bound:.3g} x scale)")
    assert err <= bound * max(1.0, float(np.abs(want).max()))


@pytest.fixture(scope="module")
def sink(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    require_toolchain()
    import torch

    from ngsdk.exporters.graph.coreml_export import export_coreml
    from ngsdk.exporters.graph.io import IODescription, TensorIO

    io = IODescription([TensorIO("x", ("batch", 4, 8, 8), layout="NCHW")], [TensorIO("y", ("batch", 160))])
    net = _kitchen_sink()
    out = tmp_path_factory.mktemp("sink")
    recs = {
        p: export_coreml(net, (torch.rand(2, 4, 8, 8),), io, out, name="sink", precision=p)
        for p in ("fp32", "fp16")
    }
    return net, out, recs


@pytest.mark.parametrize("precision,bound", [("fp32", 1e-5), ("fp16", 2.0**-8)])
def test_mil_interpreter_matches_torch(sink, precision: str, bound: float) -> None:  # noqa: ANN001
    import torch

    from ngsdk.runtime_ref.mil import run_program

    net, out, recs = sink
    assert EXPECTED_OPS <= set(recs[precision].details["mil_ops"])
    x = torch.rand(5, 4, 8, 8) * 2 - 0.5  # batch 5: the program's batch is dynamic
    with torch.no_grad():
        want = net(x).numpy()
    got = run_program(Path(out) / recs[precision].path, {"x": x.numpy()})["y"]
    err = float(np.abs(got - want).max())
    print(f"kitchen sink {precision}: max |MIL - torch| = {err:.3g} (bound {bound:.3g})")
    assert got.dtype == np.float32 and got.shape == want.shape
    assert err <= bound * max(1.0, float(np.abs(want).max()))


def test_fp16_program_rounds_every_op_to_half(sink) -> None:  # noqa: ANN001
    import torch

    from ngsdk.runtime_ref.mil import run_program

    _, out, recs = sink
    x = torch.rand(2, 4, 8, 8).numpy()
    env = run_program(Path(out) / recs["fp16"].path, {"x": x}, keep_intermediates=True)
    halves = [k for k, v in env.items() if np.asarray(v).dtype == np.float16]
    assert len(halves) > 20  # every compute op of the fp16 program stays in float16
    fp32 = run_program(Path(out) / recs["fp32"].path, {"x": x}, keep_intermediates=True)
    assert not [k for k, v in fp32.items() if np.asarray(v).dtype == np.float16]


def _expand_net():  # noqa: ANN202
    """A constant expanded to the dynamic batch (as texture graphs did for their encoding planes):
    coremltools builds the target shape with ``concat`` of rank-0 int32 values (gather of ``shape`` and
    constants), which MIL defines as a rank-1 result."""
    import torch
    from torch import nn

    class ExpandNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("plane", torch.arange(24, dtype=torch.float32).reshape(1, 2, 3, 4) / 24)
            self.conv = nn.Conv2d(4, 2, 1)

        def forward(self, x):  # noqa: ANN001, ANN202
            return self.conv(torch.cat([x, self.plane.expand(x.shape[0], -1, -1, -1)], 1))

    torch.manual_seed(9)
    return ExpandNet().eval()


@pytest.mark.parametrize("precision,bound", [("fp32", 1e-5), ("fp16", 2.0**-8)])
def test_concat_of_scalars_builds_a_vector(tmp_path: Path, precision: str, bound: float) -> None:
    require_toolchain()
    import torch

    from ngsdk.exporters.graph.coreml_export import export_coreml
    from ngsdk.exporters.graph.io import IODescription, TensorIO
    from ngsdk.runtime_ref.mil import load_mlpackage, run_program

    io = IODescription([TensorIO("x", ("batch", 2, 3, 4), layout="NCHW")],
                       [TensorIO("y", ("batch", 2, 3, 4), layout="NCHW")])
    net = _expand_net()
    rec = export_coreml(net, (torch.rand(2, 2, 3, 4),), io, tmp_path, name="ex", precision=precision)
    pkg = load_mlpackage(tmp_path / rec.path)
    fn = pkg.spec.functions["main"]
    declared = dict(fn.inputs) | {name: t for o in fn.block.operations for name, t in o.outputs}
    scalar_concats = [
        o for o in fn.block.operations
        if o.type == "concat" and all(len(declared[b.name].shape) == 0 for b in o.inputs["values"] if b.name)
    ]
    assert scalar_concats, "coremltools no longer emits concat of scalars for expand; find another net"
    for batch in (1, 3):
        x = torch.rand(batch, 2, 3, 4)
        with torch.no_grad():
            want = net(x).numpy()
        got = run_program(pkg, {"x": x.numpy()})["y"]
        assert got.shape == want.shape
        assert float(np.abs(got - want).max()) <= bound
