"""The ConvAttn student (presets ``convattn`` and ``convattn_tiny``): the seed's shapes (1024 -> 1024, C 320, 3 PLK
blocks, 17x17), its size beside mobile512, the shared normalised kernel, views merged before the blocks, and the
MIL ops its graph needs (large-kernel depthwise and grouped conv, standalone batch_norm) against torch."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import torch.nn.functional as F  # noqa: E402

from ngsdk.pbr.config import STUDENT_PRESETS, ModelSpec, model_spec  # noqa: E402
from ngsdk.pbr.convattn import ConvAttnFusion  # noqa: E402
from ngsdk.pbr.model import build_model, count_macs, parameter_count  # noqa: E402
from ngsdk.runtime_ref.mil.ops import OPS, Args  # noqa: E402


def mil(op: str, **inputs: object) -> np.ndarray:
    return OPS[op].fn(Args(op, {k: [v] for k, v in inputs.items()}))


def test_convattn_preset_has_the_seed_shapes() -> None:
    spec = model_spec("student", "convattn")
    assert (spec.fusion, spec.dim, spec.depth, spec.plk_kernel, spec.sr) == ("convattn", 320, 3, 17, False)
    assert spec.image_size == 1024 and spec.output_size() == 1024 and spec.tokens() == 0
    model = build_model(spec)
    fusion = model.fusion
    assert isinstance(fusion, ConvAttnFusion) and len(fusion.blocks) == 3
    assert tuple(fusion.kernel.weight.shape) == (320, 1, 17, 17)
    assert all(b.norm.num_features == 320 for b in fusion.blocks)
    assert model.encoder.channels == [16, 24, 40, 112, 960] and fusion.out_channels == 112
    assert model.decoder.widths == [56, 40, 24, 16] and model.sr is None
    # shapes at the seed size on meta tensors: no 1024^2 forward on the CPU
    meta = build_model(spec).to("meta").eval()
    views = [torch.empty(1, 3, 1024, 1024, device="meta") for _ in range(3)]
    with torch.no_grad():
        bottleneck = meta.encoder(torch.empty(3, 3, 1024, 1024, device="meta"))[4]
        fused = meta.fusion(bottleneck)
        maps = meta(*views)
    assert tuple(bottleneck.shape) == (3, 960, 64, 64) and tuple(fused.shape) == (1, 112, 64, 64)
    assert [tuple(m.shape) for m in maps] == [(1, 3, 1024, 1024), (1, 1, 1024, 1024), (1, 1, 1024, 1024),
                                              (1, 3, 1024, 1024)]


def test_convattn_size_beside_mobile512() -> None:
    convattn = build_model(STUDENT_PRESETS["convattn"])
    mobile = build_model(STUDENT_PRESETS["mobile512"])
    assert parameter_count(convattn) == 7_769_083 and parameter_count(mobile) == 5_026_568
    macs = count_macs(convattn)
    assert macs["sr"] == 0 and 100e9 < macs["total"] < 112e9  # 106.2 G, as mobile512's 106.3 G
    # the fusion by hand at the 64 x 64 bottleneck: per-view depthwise 3x3 and 1x1 on 960 channels, merge
    # 2880 -> 320, 1x1 320 -> 320, 3 blocks (17x17 depthwise + 1x1 + gate on 1 x 1), last 1x1, 320 -> 112
    hw = 64 * 64
    blocks = 3 * ((320 * 289 + 320 * 320) * hw + 2 * 320 * 80)
    expected = (2880 * 9 + 3 * 960 * 960 + 2880 * 320 + 2 * 320 * 320 + 320 * 112) * hw + blocks
    assert macs["fusion"] == expected


def test_blocks_share_one_kernel_of_unit_mass() -> None:
    fusion = ConvAttnFusion(16, 32, 3, 17, 8)
    with torch.no_grad():
        fusion.kernel.weight.normal_()
    k = fusion.kernel()
    assert k.shape == (32, 1, 17, 17)
    assert torch.allclose(k.abs().sum(dim=(2, 3)), torch.ones(32, 1), atol=1e-5)
    large = [name for name, p in fusion.named_parameters() if p.shape[-2:] == (17, 17)]
    assert large == ["kernel.weight"]  # one kernel for all three blocks


def test_each_view_is_refined_on_its_own_before_the_merge() -> None:
    fusion = ConvAttnFusion(8, 16, 1, 5, 8).eval()
    g = torch.Generator().manual_seed(0)
    x = torch.randn(1, 24, 6, 6, generator=g)  # one sample's three views side by side in channels
    y = x.clone()
    y[:, :8] += 1.0  # change view 0 only
    with torch.no_grad():
        a, b = fusion.views.refine(x), fusion.views.refine(y)
    assert not torch.allclose(a[:, :8], b[:, :8])
    assert torch.allclose(a[:, 8:], b[:, 8:], atol=1e-7, rtol=0)


def test_convattn_tiny_trains_and_keeps_its_size() -> None:
    spec = STUDENT_PRESETS["convattn_tiny"]
    assert (spec.image_size, spec.output_size(), spec.depth, spec.plk_kernel) == (128, 128, 3, 17)
    model = build_model(spec)
    g = torch.Generator().manual_seed(0)
    views = [torch.rand(2, 3, 128, 128, generator=g) for _ in range(3)]
    logits = model.logits(*views)
    assert logits.shape == (2, 8, 128, 128)
    logits.square().mean().backward()
    grad = model.fusion.kernel.weight.grad
    assert grad is not None and torch.isfinite(grad).all() and grad.abs().sum() > 0


def test_spec_checks_and_round_trip() -> None:
    spec = STUDENT_PRESETS["convattn"]
    assert ModelSpec.from_dict(spec.to_dict()) == spec
    old = {k: v for k, v in STUDENT_PRESETS["tiny"].to_dict().items() if k not in ("fusion", "plk_kernel")}
    assert ModelSpec.from_dict(old).fusion == "vit"  # bundles written before ConvAttn read as they were
    with pytest.raises(ValueError, match="plk_kernel must be odd"):
        ModelSpec("student", "mobilenetv3", 128, fusion="convattn", plk_kernel=16)
    with pytest.raises(ValueError, match="fusion must be vit or convattn"):
        ModelSpec("student", "mobilenetv3", 128, fusion="swin")  # type: ignore[arg-type]


@pytest.mark.parametrize("size", [8, 21])
def test_mil_conv_runs_the_large_depthwise_kernel_like_torch(size: int) -> None:
    # the bottleneck of convattn_tiny is 8 x 8, smaller than the 17 x 17 kernel: most taps read padding
    rng = np.random.default_rng(size)
    x = rng.standard_normal((2, 12, size, size)).astype(np.float32)
    w = rng.standard_normal((12, 1, 17, 17)).astype(np.float32)
    got = mil("conv", x=x, weight=w, strides=np.int32([1, 1]), pad_type="custom", pad=np.int32([8, 8, 8, 8]),
              dilations=np.int32([1, 1]), groups=np.int32(12))
    want = F.conv2d(torch.from_numpy(x).double(), torch.from_numpy(w).double(), padding=8, groups=12)
    np.testing.assert_allclose(got, want.numpy(), rtol=1e-12, atol=1e-12)


def test_mil_grouped_pointwise_conv_and_batch_norm_match_torch() -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1, 12, 5, 5)).astype(np.float32)
    w = rng.standard_normal((12, 4, 1, 1)).astype(np.float32)  # each view's own 1x1 (3 groups)
    got = mil("conv", x=x, weight=w, pad_type="valid", groups=np.int32(3))
    want = F.conv2d(torch.from_numpy(x).double(), torch.from_numpy(w).double(), groups=3)
    np.testing.assert_allclose(got, want.numpy(), rtol=1e-12, atol=1e-12)

    bn = torch.nn.BatchNorm2d(12).double().eval()
    with torch.no_grad():
        for t in (bn.running_mean, bn.weight, bn.bias):
            t.copy_(torch.from_numpy(rng.standard_normal(12)))
        bn.running_var.copy_(torch.from_numpy(rng.uniform(0.5, 2.0, 12)))
        want = bn(torch.from_numpy(x).double()).numpy()
    got = mil("batch_norm", x=x, mean=bn.running_mean.numpy(), variance=bn.running_var.numpy(),
              gamma=bn.weight.detach().numpy(), beta=bn.bias.detach().numpy(), epsilon=np.float32(bn.eps))
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
