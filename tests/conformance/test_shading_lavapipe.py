"""Generated shading-MLP shaders on a real Vulkan driver (lavapipe in CI) reproduce runtime_ref
bit for bit: WGSL with native fp16 (shader-f16), WGSL with fp16 emulated in f32, WGSL fp32, both
matrix layouts, and GLSL / HLSL compiled to SPIR-V by glslangValidator.

Needs wgpu-py and a Vulkan driver (``apt-get install mesa-vulkan-drivers libvulkan1``); the GLSL
and HLSL cases need ``glslangValidator`` (``apt-get install glslang-tools``).
"""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from ngsdk.exporters.shading_mlp_portable.binary import encode_network
from ngsdk.exporters.shading_mlp_portable.glsl import generate_glsl
from ngsdk.exporters.shading_mlp_portable.hlsl import generate_hlsl
from ngsdk.exporters.shading_mlp_portable.wgsl import generate_wgsl
from ngsdk.runtime_ref.shading_mlp import evaluate
from tests.unit.test_shading_exports import CONFIGS, random_asset, sample_uvs

pytestmark = pytest.mark.conformance
wgpu = pytest.importorskip("wgpu")


@pytest.fixture(scope="module")
def adapter():
    ad = wgpu.gpu.request_adapter_sync(power_preference="high-performance")
    if ad is None:
        raise RuntimeError("no Vulkan adapter: install mesa-vulkan-drivers (lavapipe) and libvulkan1")
    return ad


def run_shader(adapter, code, entry: str, params: bytes, uv: np.ndarray, f16: bool) -> np.ndarray:
    """Dispatch one UV per invocation; returns (N, 3) float32 outputs."""
    features = ["shader-f16"] if f16 else []
    if f16 and "shader-f16" not in adapter.features:
        pytest.skip(f"{adapter.info['device']} has no shader-f16")
    dev = adapter.request_device_sync(required_features=features)
    module = dev.create_shader_module(code=code)
    pipe = dev.create_compute_pipeline(layout="auto", compute={"module": module, "entry_point": entry})
    usage = wgpu.BufferUsage
    bufs = [
        dev.create_buffer_with_data(data=params, usage=usage.STORAGE),
        dev.create_buffer_with_data(data=np.ascontiguousarray(uv, np.float32).tobytes(), usage=usage.STORAGE),
        dev.create_buffer(size=uv.shape[0] * 12, usage=usage.STORAGE | usage.COPY_SRC),
    ]
    group = dev.create_bind_group(
        layout=pipe.get_bind_group_layout(0),
        entries=[{"binding": i, "resource": {"buffer": b}} for i, b in enumerate(bufs)],
    )
    enc = dev.create_command_encoder()
    cp = enc.begin_compute_pass()
    cp.set_pipeline(pipe)
    cp.set_bind_group(0, group)
    cp.dispatch_workgroups((uv.shape[0] + 63) // 64)
    cp.end()
    dev.queue.submit([enc.finish()])
    return np.frombuffer(dev.queue.read_buffer(bufs[2]), np.float32).reshape(-1, 3).copy()


def _assert_exact(got: np.ndarray, ref: np.ndarray) -> None:
    ref = ref.astype(np.float32)
    bad = np.count_nonzero(got.view(np.uint32) != ref.view(np.uint32))
    assert bad == 0, f"{bad} of {got.size} outputs differ (max |diff| {np.abs(got - ref).max():.3g})"


@pytest.mark.parametrize("encoding,per_input,activation,scale", CONFIGS)
@pytest.mark.parametrize("mode", ["native", "emulated"])
def test_wgsl_fp16_matches_runtime_ref(adapter, encoding, per_input, activation, scale, mode):
    asset = random_asset(encoding, per_input, activation=activation, scale=scale, seed=11)
    uv = sample_uvs()
    got = run_shader(
        adapter, generate_wgsl(asset, mode), "ngsdk_main", encode_network(asset, "fp16"), uv, mode == "native"
    )
    _assert_exact(got, evaluate(asset, uv, "fp16"))


@pytest.mark.parametrize("layout", ["row_major", "col_major"])
def test_wgsl_layouts_and_fp32(adapter, layout):
    asset = random_asset(seed=12)
    uv = sample_uvs()
    got = run_shader(
        adapter,
        generate_wgsl(asset, "native", layout),
        "ngsdk_main",
        encode_network(asset, "fp16", layout),
        uv,
        True,
    )
    _assert_exact(got, evaluate(asset, uv, "fp16"))
    got = run_shader(
        adapter,
        generate_wgsl(asset, "fp32", layout),
        "ngsdk_main",
        encode_network(asset, "fp32", layout),
        uv,
        False,
    )
    _assert_exact(got, evaluate(asset, uv, "fp32"))


def test_trained_network_on_a_real_image(adapter, shared_data):
    torch = pytest.importorskip("torch")  # noqa: F841
    from ngsdk.shading.train import ShadingTrainConfig, train_shading

    res = train_shading(
        shared_data / "images" / "kodim05.png",
        ShadingTrainConfig(steps=150, device="cpu", eval_every=1e9),
        progress=False,
        exact_metrics=False,
    )
    asset = res.asset
    uv = np.concatenate([sample_uvs(), np.random.default_rng(1).random((20_000, 2)).astype(np.float32)])
    got = run_shader(adapter, generate_wgsl(asset), "ngsdk_main", encode_network(asset, "fp16"), uv, True)
    _assert_exact(got, evaluate(asset, uv, "fp16"))


@pytest.mark.parametrize("language", ["glsl", "hlsl"])
@pytest.mark.parametrize("mode", ["native", "fp32"])
def test_glsl_and_hlsl_through_spirv(adapter, tmp_path, language, mode):
    tool = shutil.which("glslangValidator")
    if tool is None:
        pytest.skip("glslangValidator not installed (apt-get install glslang-tools)")
    asset = random_asset("frequency", 6, activation="tanh", seed=13)
    src = tmp_path / ("net.comp" if language == "glsl" else "net.hlsl")
    spv = tmp_path / "net.spv"
    if language == "glsl":
        src.write_text(generate_glsl(asset, mode))
        cmd = [tool, "-V", "--target-env", "vulkan1.1", str(src), "-o", str(spv)]
        entry = "main"
    else:
        src.write_text(generate_hlsl(asset, mode))
        cmd = [
            tool,
            "-V",
            "-D",
            "-e",
            "ngsdk_main",
            "-S",
            "comp",
            "--hlsl-enable-16bit-types",
            "--target-env",
            "vulkan1.1",
            str(src),
            "-o",
            str(spv),
        ]
        entry = "ngsdk_main"
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    dis = shutil.which("spirv-dis")
    if dis:
        text = subprocess.run([dis, str(spv)], capture_output=True, text=True, check=True).stdout
        assert "NoContraction" in text
    uv = sample_uvs()
    precision = "fp16" if mode == "native" else "fp32"
    got = run_shader(adapter, spv.read_bytes(), entry, encode_network(asset, precision), uv, mode == "native")
    _assert_exact(got, evaluate(asset, uv, precision))
