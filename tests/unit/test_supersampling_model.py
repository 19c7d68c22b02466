"""The NSS model at 16x16 target: network size and BN folding, pre- and post-processing against literal
per-pixel transcriptions of the gym's shaders and against invariants, sampling, loss, LARS-Adam,
LPIPS and gym checkpoint loading."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from ngsdk.asset.errors import AssetError  # noqa: E402
from ngsdk.supersampling.loss import nss_loss, spatial_weights  # noqa: E402
from ngsdk.supersampling.network import LAYERS, PARAMETER_COUNT, NSSNet, count_parameters, folded_net  # noqa: E402
from ngsdk.supersampling.optim import LarsAdam, cosine_lr  # noqa: E402
from ngsdk.supersampling.pipeline import FrameBatch, History, NSSModel  # noqa: E402
from ngsdk.supersampling.postprocess import KERNEL_TAPS, jitter_phase, postprocess  # noqa: E402
from ngsdk.supersampling.preprocess import NEAREST_OFFSETS, depth_clip, dilate_depth, preprocess  # noqa: E402
from ngsdk.supersampling.sampling import bilinear, catmull_rom, pixel_uv, warp_zero  # noqa: E402
from ngsdk.supersampling.tonemap import karis, karis_inverse  # noqa: E402

H = W = 8  # input; target 16 x 16
PARAMS = torch.tensor([[1.001, -0.1001, 0.6, 0.5]])  # near 0.1, far 100, as depth_params lays them out


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_network_has_the_gyms_parameter_count():
    net = NSSNet()
    assert count_parameters(net) == PARAMETER_COUNT == 132_392
    by_spec = sum(s.cin * s.cout * 9 + s.cout + (2 * s.cout if s.bn else 0) for s in LAYERS)
    assert by_spec == PARAMETER_COUNT
    outs = net(torch.rand(2, 12, 16, 24, generator=gen()))
    assert [tuple(o.shape) for o in outs] == [(2, 4, 16, 24)] * 6
    assert all(((o > 0) & (o < 1)).all() for o in outs)


def test_folded_net_matches_batchnorm_in_eval():
    torch.manual_seed(1)
    net = NSSNet()
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.1, 0.1)
    net.eval()
    x = torch.rand(1, 12, 16, 16, generator=gen(2))
    for a, b in zip(net(x), folded_net(net)(x)):
        assert torch.allclose(a, b, atol=2e-6)


def literal_dilation(depth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The shader's FindNearestDepth, pixel by pixel."""
    h, w = depth.shape
    best = np.zeros_like(depth)
    coord = np.zeros((h, w, 2), int)
    for y in range(h):
        for x in range(w):
            nd, nc = depth[y, x], (y, x)
            for dy, dx in NEAREST_OFFSETS[1:]:
                yy, xx = y + dy, x + dx
                if 0 <= yy < h and 0 <= xx < w and depth[yy, xx] < nd:
                    nd, nc = depth[yy, xx], (yy, xx)
            best[y, x], coord[y, x] = nd, nc
    return best, coord


def test_depth_dilation_matches_the_shader_loop():
    d = torch.rand(1, 1, H, W, generator=gen(3))
    d[0, 0, 2, 2:5] = 0.01  # ties: the first visited offset wins
    best, by, bx = dilate_depth(d)
    want, coord = literal_dilation(d[0, 0].numpy())
    assert np.array_equal(best[0, 0].numpy(), want)
    assert np.array_equal(by[0, 0].numpy(), coord[..., 0]) and np.array_equal(bx[0, 0].numpy(), coord[..., 1])


def test_depth_clip_flags_disocclusion_only():
    b = 1
    uv_y, uv_x = pixel_uv(H, W, b, torch.device("cpu"))
    plane = torch.full((b, 1, H, W), 0.95)
    same = depth_clip(plane, uv_y, uv_x, plane, PARAMS, (H, W))
    assert same.abs().max() == 0
    # last frame saw a near occluder where now the far plane shows: disoccluded
    near = torch.full((b, 1, H, W), 0.2)
    assert depth_clip(near, uv_y, uv_x, plane, PARAMS, (H, W)).min() > 0.99
    # reprojected off-screen: disoccluded
    assert (depth_clip(plane, uv_y + 2.0, uv_x, plane, PARAMS, (H, W)) == 1).all()
    # something moved in front (current nearer than history): not a disocclusion
    assert depth_clip(plane, uv_y, uv_x, near, PARAMS, (H, W)).max() == 0


def frame(seed: int, motion: torch.Tensor | None = None, jitter=(0.1, -0.2)) -> FrameBatch:
    g = gen(seed)
    return FrameBatch(torch.rand(1, 3, H, W, generator=g) * 2, torch.rand(1, 1, H, W, generator=g) * 0.1 + 0.9,
                      torch.zeros(1, 2, 2 * H, 2 * W) if motion is None else motion,
                      torch.tensor([list(jitter)]), PARAMS, torch.tensor([math.exp(2.0)]), (H, W))


def test_preprocess_static_inputs():
    f = frame(4)
    exp = f.exposure.view(1, 1, 1, 1)
    history = torch.full((1, 3, 2 * H, 2 * W), 0.3)
    feedback = torch.rand(1, 4, H, W, generator=gen(5))
    pre = preprocess(f.colour, history, f.motion, f.depth, f.depth.clone(), f.jitter * 0, feedback,
                     torch.zeros(1, 2, H, W), f.depth_params, f.exposure, (H, W), torch.tensor(0.5))
    x = pre.net_input
    assert x.shape == (1, 12, H, W)
    assert torch.allclose(x[:, 0:3], karis(history[:, :, :H, :W] * exp), atol=1e-6)
    assert torch.allclose(x[:, 3:6], karis(f.colour * exp))
    assert torch.allclose(x[:, 7:11], feedback, atol=1e-6)
    assert torch.equal(pre.depth_dilated, dilate_depth(f.depth)[0])
    # same depth as last frame and no motion: nothing disoccluded, so the luma derivative accumulates
    assert x[:, 6].abs().max() < 1e-6
    luma = 0.2126 * x[:, 3] + 0.7152 * x[:, 4] + 0.0722 * x[:, 5]
    d = (luma - 0).abs()
    d = torch.where(d > 0.05, d.clamp_max(0.3), torch.zeros_like(d)) ** 1.5 / 0.3 ** 1.5
    assert torch.allclose(x[:, 11], 0.1 * d, atol=1e-6)


def test_preprocess_warps_by_the_dilated_motion():
    """A uniform motion of 2 target pixels = 1 input pixel to the right: history and feedback are read one
    input pixel to the left (zero beyond the edge)."""
    motion = torch.zeros(1, 2, 2 * H, 2 * W)
    motion[:, 1] = 2.0
    f = frame(6, motion)
    ramp = torch.arange(W, dtype=torch.float32).repeat_interleave(2).view(1, 1, 1, -1).expand(1, 3, 2 * H, -1)
    feedback = torch.arange(W, dtype=torch.float32).view(1, 1, 1, -1).expand(1, 4, H, -1) / W
    pre = preprocess(f.colour, ramp.contiguous(), motion, f.depth, f.depth.clone(), f.jitter, feedback.contiguous(),
                     torch.zeros(1, 2, H, W), f.depth_params, f.exposure, (H, W), torch.tensor(0.5))
    x = pre.net_input
    assert torch.allclose(x[0, 7, :, 1:], feedback[0, 0, :, :-1], atol=1e-6)
    assert (x[0, 7, :, 0] == 0).all()
    exp = f.exposure.item()
    assert torch.allclose(x[0, 0, :, 1:], karis(ramp[:, :, ::2, ::2] * exp)[0, 0, :, :-1], atol=1e-6)


def test_dm_scale_gets_gradients_where_motion_is_small():
    f = frame(7)
    dm = torch.tensor(0.5, requires_grad=True)
    prev_depth = torch.full_like(f.depth, 0.2)  # everything disoccluded
    pre = preprocess(f.colour, torch.zeros(1, 3, 2 * H, 2 * W), f.motion, f.depth, prev_depth, f.jitter,
                     torch.zeros(1, 4, H, W), torch.zeros(1, 2, H, W), f.depth_params, f.exposure, (H, W), dm)
    assert torch.allclose(pre.net_input[:, 6], 0.5 * pre.disocclusion[:, 0])
    pre.net_input[:, 6].sum().backward()
    assert dm.grad.item() == pytest.approx(pre.disocclusion.sum().item(), rel=1e-5)


def literal_filter(colour: np.ndarray, kpn_hr: np.ndarray, phase: tuple[int, int]) -> np.ndarray:
    """The shader's 4x4 kernel loop for scale 2 (colour already exposed), pixel by pixel."""
    _, h, w = colour.shape
    out = np.zeros((3, 2 * h, 2 * w))
    for y in range(2 * h):
        for x in range(2 * w):
            acc, ws = np.zeros(3), 0.0
            for i, (dy, dx) in enumerate(KERNEL_TAPS):
                ty, tx = y + dy, x + dx
                valid = abs(math.fmod(ty, 2)) == phase[0] and abs(math.fmod(tx, 2)) == phase[1]
                ly = min(max(math.floor((ty + 0.5) / 2), 0), h - 1)
                lx = min(max(math.floor((tx + 0.5) / 2), 0), w - 1)
                wt = max(kpn_hr[i, y, x], 1e-7) * valid
                acc += colour[:, ly, lx] * wt
                ws += wt
            out[:, y, x] = acc / max(ws, 1e-7)
    return out


@pytest.mark.parametrize("jitter", [(0.1, -0.2), (-0.4375, 0.3125), (0.0625, 0.4375)])
def test_kernel_filter_matches_the_shader_loop(jitter):
    f = frame(8, jitter=jitter)
    kpn = torch.rand(1, 16, H, W, generator=gen(9))
    temporal = torch.rand(1, 4, H, W, generator=gen(10))
    _, filtered = postprocess(f.colour, torch.zeros(1, 3, 2 * H, 2 * W), kpn, temporal, f.motion, f.exposure,
                              f.jitter, 2, torch.tensor([True]))
    kpn_hr = torch.nn.functional.interpolate(kpn, scale_factor=2, mode="bilinear", align_corners=False)
    phase = tuple(int(v) for v in jitter_phase(f.jitter, 2)[0])
    assert phase == tuple(int(math.floor((j + 0.5) * 2)) for j in jitter)
    exp = f.exposure.item()
    want = literal_filter((f.colour[0] * exp).double().numpy(), kpn_hr[0].double().numpy(), phase) / exp
    assert np.allclose(filtered[0].numpy(), want, rtol=1e-5, atol=1e-6)


def test_constant_colour_is_reproduced():
    c = torch.tensor([0.2, 0.5, 1.7]).view(1, 3, 1, 1)
    f = frame(11)
    colour = c.expand(1, 3, H, W).contiguous()
    kpn = torch.rand(1, 16, H, W, generator=gen(12))
    temporal = torch.rand(1, 4, H, W, generator=gen(13))
    for reset, hist in ((True, torch.zeros(1, 3, 2 * H, 2 * W)), (False, c.expand(1, 3, 2 * H, 2 * W).contiguous())):
        out, filtered = postprocess(colour, hist, kpn, temporal, f.motion, f.exposure, f.jitter, 2,
                                    torch.tensor([reset]))
        assert torch.allclose(filtered, c.expand_as(filtered), rtol=1e-5)
        assert torch.allclose(out, c.expand_as(out), rtol=1e-4), reset


def test_accumulation_takes_history_where_theta_is_one():
    f = frame(14)
    kpn = torch.rand(1, 16, H, W, generator=gen(15))
    temporal = torch.zeros(1, 4, H, W)
    temporal[:, 0] = 1.0  # theta 1: rectified = warped history; alpha = 0.05 on the own sample
    hist = torch.rand(1, 3, 2 * H, 2 * W, generator=gen(16))
    out, _ = postprocess(f.colour, hist, kpn, temporal, f.motion, f.exposure, f.jitter, 2, torch.tensor([False]))
    exp = f.exposure.item()
    phase = jitter_phase(f.jitter, 2)[0]
    own = torch.zeros(2 * H, 2 * W, dtype=torch.bool)
    own[int(phase[0])::2, int(phase[1])::2] = True
    assert torch.allclose(out[0][:, ~own], hist[0][:, ~own], rtol=1e-4, atol=1e-6)
    sample = (f.colour * exp).repeat_interleave(2, 2).repeat_interleave(2, 3)
    want = karis_inverse(karis(hist * exp) * 0.95 + karis(sample) * 0.05) / exp
    assert torch.allclose(out[0][:, own], want[0][:, own], rtol=1e-4)


def test_sampling_helpers():
    img = torch.arange(W, dtype=torch.float32).view(1, 1, 1, W).expand(1, 2, H, W).contiguous()
    uv_y, uv_x = pixel_uv(H, W, 1, torch.device("cpu"))
    assert torch.allclose(bilinear(img, uv_y, uv_x + 0.5 / W), (img + 0.5).clamp_max(W - 1))
    cr = catmull_rom(img, uv_y, uv_x + 0.25 / W)
    assert torch.allclose(cr[..., 2:-2], img[..., 2:-2] + 0.25, atol=1e-5)  # linear ramps are reproduced
    assert torch.allclose(catmull_rom(torch.full((1, 3, H, W), 0.7), uv_y, uv_x + 0.3 / W), torch.tensor(0.7))
    spike = torch.zeros(1, 3, H, W)
    spike[..., 4, 4] = 1.0  # ringing would go negative next to a spike: de-ringing clamps it
    assert catmull_rom(spike, uv_y + 0.4 / H, uv_x + 0.4 / W).min() >= 0
    flow = torch.zeros(1, 2, H, W)
    flow[:, 1] = 2.0
    shifted = warp_zero(img, flow)
    assert torch.equal(shifted[..., 2:], img[..., :-2]) and (shifted[..., :2] == 0).all()


def test_loss_is_zero_for_a_perfect_window_and_sees_flicker():
    g = gen(17)
    truth = torch.rand(2, 4, 3, 16, 16, generator=g)
    motion = torch.zeros(2, 4, 2, 16, 16)
    assert nss_loss(truth, truth, truth, motion).item() == 0.0
    static = truth[:, :1].expand_as(truth).contiguous()
    flicker = static + 0.05 * torch.tensor([1.0, -1.0, 1.0, -1.0]).view(1, 4, 1, 1, 1)
    steady = static + 0.05
    assert nss_loss(flicker, static, static, motion) > nss_loss(steady, static, static, motion)
    w = spatial_weights(15, torch.device("cpu")).flatten()
    assert w[-1].item() == pytest.approx(0.9, rel=1e-6) and w[0].item() < 0.02 and bool((w[1:] > w[:-1]).all())


def test_lars_adam_rescales_gradients_per_tensor():
    p = torch.nn.Parameter(torch.tensor([3.0, 4.0]))
    q = torch.nn.Parameter(torch.tensor([3.0, 4.0]))
    p.grad = torch.tensor([0.6, 0.8])
    q.grad = p.grad * (5.0 / ((1.0 + 1e-8) * 1e-3))
    LarsAdam([p], lr=0.1).step()
    torch.optim.Adam([q], lr=0.1).step()
    assert torch.allclose(p, q)
    assert cosine_lr(0.0, 2e-3, 2e-4) == pytest.approx(2e-4)
    assert cosine_lr(0.05, 2e-3, 2e-4) == pytest.approx(2e-3)
    assert cosine_lr(1.0, 2e-3, 2e-4) == pytest.approx(2e-4)


def test_recurrent_model_runs_and_backpropagates_through_history():
    torch.manual_seed(0)
    model = NSSModel()

    def pair(i: int) -> FrameBatch:  # batch 2: BatchNorm needs more than one value at the 1x1 bottleneck
        a, b = frame(20 + i), frame(40 + i)
        return FrameBatch(*(torch.cat([x, y]) for x, y in zip((a.colour, a.depth, a.motion, a.jitter, a.depth_params,
                                                                 a.exposure), (b.colour, b.depth, b.motion, b.jitter,
                                                                               b.depth_params, b.exposure))), (H, W))

    frames = [pair(i) for i in range(3)]
    outs = model.run(frames, keep=("output", "filtered", "net_input"))
    assert outs["output"].shape == (2, 3, 3, 16, 16) and outs["net_input"].shape == (2, 3, 12, H, W)
    hist = History.reset(frames[0], 2)
    assert hist.fresh and hist.output.abs().sum() == 0
    outs["output"][:, -1].mean().backward()
    assert model.dm_scale.grad is not None
    assert model.net.conv2d_0.conv2d.weight.grad.abs().sum() > 0


def test_gym_checkpoint_maps_onto_the_model(tmp_path: Path):
    from ngsdk.supersampling.gym_checkpoint import load_gym_checkpoint

    torch.manual_seed(3)
    src = NSSModel()
    state = {f"ng_model.autoencoder.{k[4:]}": v for k, v in src.state_dict().items() if k.startswith("net.")}
    state["ng_model.dm_scale_on_no_motion"] = torch.tensor([0.25])
    path = tmp_path / "gym.pt"
    torch.save({"epoch": 3, "model_state_dict": state}, path)
    dst = NSSModel()
    notes = load_gym_checkpoint(path, dst)
    assert "gym.pt" in notes[0]
    for k, v in src.net.state_dict().items():
        assert torch.equal(dst.net.state_dict()[k], v)
    assert dst.dm_scale.item() == 0.25
    torch.save({"model_state_dict": {"ng_model.autoencoder.kpn_params.conv2d.weight": torch.zeros(36, 32, 3, 3)}},
               tmp_path / "v03.pt")
    with pytest.raises(AssetError, match="v03.pt: is a gym NSS v0.3"):
        load_gym_checkpoint(tmp_path / "v03.pt", NSSModel())
    torch.save({"model_state_dict": {"ng_model.dm_scale_on_no_motion": torch.tensor([0.5])}}, tmp_path / "x.pt")
    with pytest.raises(AssetError, match="x.pt: lacks"):
        load_gym_checkpoint(tmp_path / "x.pt", NSSModel())


def test_lpips_from_user_weights(tmp_path: Path):
    from safetensors.torch import save_file

    from ngsdk.supersampling.lpips import LPIPS, SLICE_ENDS, _features

    torch.manual_seed(4)
    feats = _features()
    state = {f"features.{k}": v for k, v in feats.state_dict().items()}
    for i, c in enumerate((64, 128, 256, 512, 512)):
        state[f"lin{i}.model.1.weight"] = torch.rand(1, c, 1, 1) * 0.1
    save_file(state, str(tmp_path / "lpips.safetensors"))
    lp = LPIPS.from_files([tmp_path / "lpips.safetensors"])
    a = torch.rand(2, 3, 16, 16, generator=gen(5))
    b = torch.rand(2, 3, 16, 16, generator=gen(6))
    assert torch.allclose(lp(a, a), torch.zeros(2)) and (lp(a, b) > 0).all()
    assert len(SLICE_ENDS) == 5
    truth = torch.rand(1, 3, 3, 16, 16, generator=gen(7))
    out = truth + 0.05
    motion = torch.zeros(1, 3, 2, 16, 16)
    assert nss_loss(out, out, truth, motion, lp) > nss_loss(out, out, truth, motion)
    del state["lin0.model.1.weight"]
    save_file(state, str(tmp_path / "bad.safetensors"))
    with pytest.raises(AssetError, match="not LPIPS-VGG weights"):
        LPIPS.from_files([tmp_path / "bad.safetensors"])
