"""PBR reconstruction networks: presets, shapes, sizes against the shipped student, backbone loading, losses,
and the MIL ops the student converts to."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from ngsdk.asset.errors import AssetError  # noqa: E402
from ngsdk.pbr.backbones import MobileNetV3Encoder, ResNetEncoder  # noqa: E402
from ngsdk.pbr.config import STUDENT_PRESETS, TEACHER_PRESETS, PBRTrainConfig, model_spec  # noqa: E402
from ngsdk.pbr.discriminator import PatchDiscriminator, receptive_field  # noqa: E402
from ngsdk.pbr.losses import distillation_loss, ssim  # noqa: E402
from ngsdk.pbr.model import build_model, count_macs, parameter_count  # noqa: E402
from ngsdk.pbr.weights import load_backbone, read_safetensors  # noqa: E402

# MIL ops of the tiny and mobile512 students after ct.convert (coremltools 9.0, iOS 17, fp16 and fp32)
STUDENT_MIL_OPS = {
    "add", "concat", "const", "conv", "gelu", "layer_norm", "linear", "matmul", "maximum", "mul", "pixel_shuffle",
    "real_div", "reduce_l2_norm", "reduce_mean", "relu", "reshape", "sigmoid", "sigmoid_hard", "slice_by_index",
    "softmax", "stack", "sub", "thresholded_relu", "tile", "transpose", "upsample_bilinear",
}


def _views(size: int, batch: int = 1) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return [torch.rand(batch, 3, size, size, generator=g) for _ in range(3)]


def test_mobile512_matches_the_shipped_student():
    spec = STUDENT_PRESETS["mobile512"]
    model = build_model(spec)
    params = parameter_count(model)
    assert abs(params - 5.0e6) / 5.0e6 < 0.02  # shipped: 5.0 M fp16 weights
    macs = count_macs(model)
    assert 100e9 < macs["total"] < 110e9  # shipped: ~104 GMAC at 512 -> 1024
    assert 0.6 < macs["sr"] / macs["total"] < 0.75  # shipped: ~70 % in the SR head
    assert spec.tokens() == 3072 and spec.output_size() == 1024
    assert model.decoder.widths == [56, 40, 24, 16]


def test_backbones_have_torchvision_sizes():
    # torchvision without classifiers: resnet18 11,176,512, resnet50 23,508,032, mobilenet_v3_large 2,971,952
    assert parameter_count(ResNetEncoder("basic", (2, 2, 2, 2))) == 11_176_512
    assert parameter_count(ResNetEncoder("bottleneck", (3, 4, 6, 3))) == 23_508_032
    assert parameter_count(MobileNetV3Encoder("large")) == 2_971_952


@pytest.mark.parametrize("role,preset", [("teacher", "tiny"), ("student", "tiny")])
def test_tiny_presets_shapes_and_ranges(role, preset):
    spec = model_spec(role, preset)
    model = build_model(spec).eval()
    with torch.no_grad():
        albedo, rough, metal, normal = model(*_views(spec.image_size, batch=2))
    out = spec.output_size()
    assert albedo.shape == (2, 3, out, out) and rough.shape == (2, 1, out, out)
    assert metal.shape == (2, 1, out, out) and normal.shape == (2, 3, out, out)
    for m in (albedo, rough, metal):
        assert m.min() >= 0 and m.max() <= 1
    assert torch.allclose(normal.norm(dim=1), torch.ones(2, out, out), atol=1e-4)


def test_teacher_presets_span_tiny_to_the_seed():
    assert TEACHER_PRESETS["neuropbr"].tokens() == 49152  # ResNet-50 at 2048^2 with a stride-1 stem
    assert TEACHER_PRESETS["neuropbr"].dim == 2048 and TEACHER_PRESETS["neuropbr"].heads == 32
    base = build_model(TEACHER_PRESETS["base"])
    assert 15e6 < parameter_count(base) < 25e6
    # the teacher's optional x2 super-resolution head, switched on from the training config
    sr_teacher = PBRTrainConfig(preset="tiny", sr=True, image_size=64).spec("teacher")
    assert sr_teacher.output_size() == 128
    with torch.no_grad():
        assert build_model(sr_teacher).eval()(*_views(64))[0].shape == (1, 3, 128, 128)
    with pytest.raises(ValueError, match="unknown student preset 'mobile'.*did you mean 'mobile512'"):
        PBRTrainConfig(preset="mobile", steps=1).check("student")


def test_patchgan_receptive_fields():
    assert [receptive_field(n) for n in (3, 4, 6)] == [70, 142, 574]
    d = PatchDiscriminator(8, 16, 3)
    assert d(torch.zeros(2, 8, 128, 128)).shape[:2] == (2, 1)


def test_distillation_loss_vanishes_when_the_student_matches():
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(2, 8, 16, 16, generator=g)
    teacher = torch.cat([torch.sigmoid(logits[:, :5]), torch.nn.functional.normalize(logits[:, 5:], dim=1)], 1)
    assert float(distillation_loss(logits, teacher, 4.0)) < 1e-5
    assert float(distillation_loss(-logits, teacher, 4.0)) > 0.1
    img = torch.rand(1, 3, 32, 32, generator=g)
    assert abs(float(ssim(img, img)) - 1) < 1e-6


def test_backbone_init_from_safetensors_and_npz(tmp_path):
    safetensors_torch = pytest.importorskip("safetensors.torch")
    spec = STUDENT_PRESETS["tiny"]
    torch.manual_seed(1)
    source = build_model(spec).encoder
    torch.manual_seed(2)
    target = build_model(spec).encoder
    state = {f"backbone.{k}": v.contiguous() for k, v in source.state_dict().items()}
    state["classifier.0.weight"] = torch.zeros(4, 4)  # a classifier the encoder does not have
    safetensors_torch.save_file(state, str(tmp_path / "enc.safetensors"))
    report = load_backbone(target, tmp_path / "enc.safetensors")
    assert report["loaded"] == len(source.state_dict()) and report["unused"] == 1
    for k, v in source.state_dict().items():
        assert torch.equal(v, target.state_dict()[k])
    np.savez(tmp_path / "enc.npz", **{k: v.numpy() for k, v in source.state_dict().items()})
    assert load_backbone(build_model(spec).encoder, tmp_path / "enc.npz")["loaded"] == len(source.state_dict())
    # bfloat16 tensors widen exactly to float32
    x = torch.tensor([1.5, -2.25, 3.0e-3]).to(torch.bfloat16)
    safetensors_torch.save_file({"x": x}, str(tmp_path / "bf16.safetensors"))
    assert np.array_equal(read_safetensors(tmp_path / "bf16.safetensors")["x"], x.float().numpy())


def test_backbone_init_errors_name_the_file(tmp_path):
    enc = build_model(STUDENT_PRESETS["tiny"]).encoder
    (tmp_path / "w.pth").write_bytes(b"\x80\x04")
    with pytest.raises(AssetError, match=r"w.pth: backbone weights must be .safetensors or .npz"):
        load_backbone(enc, tmp_path / "w.pth")
    np.savez(tmp_path / "other.npz", unrelated=np.zeros(3, np.float32))
    with pytest.raises(AssetError, match=r"other.npz: no tensor matches"):
        load_backbone(enc, tmp_path / "other.npz")
    big = build_model(STUDENT_PRESETS["mobile512"]).encoder
    np.savez(tmp_path / "big.npz", **{k: v.numpy() for k, v in big.state_dict().items()})
    with pytest.raises(AssetError, match=r"big.npz: tensor 'features.0.0.weight' has shape"):
        load_backbone(enc, tmp_path / "big.npz")


@pytest.mark.parametrize("precision", ["fp16", "fp32"])
def test_student_converts_to_known_mil_ops(precision):
    ct = pytest.importorskip("coremltools")
    import warnings

    model = build_model(STUDENT_PRESETS["tiny"]).eval()
    views = tuple(_views(128))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.export.export(model, views).run_decompositions({})
        ml = ct.convert(program, convert_to="mlprogram", minimum_deployment_target=ct.target.iOS17,
                        compute_precision=ct.precision.FLOAT16 if precision == "fp16" else ct.precision.FLOAT32,
                        inputs=[ct.TensorType(name=f"view{i}", shape=(1, 3, 128, 128)) for i in range(3)],
                        outputs=[ct.TensorType(name=n) for n in ("albedo", "roughness", "metallic", "normal")],
                        skip_model_load=True)
    ops = {op.op_type for f in ml._mil_program.functions.values() for op in f.operations}
    assert ops <= STUDENT_MIL_OPS, sorted(ops - STUDENT_MIL_OPS)
    assert {"thresholded_relu", "reduce_l2_norm", "sigmoid_hard"} <= ops  # hard-swish, L2-normalised normals
