"""Portable exports of shading MLPs: the RTXNS JSON evaluated by an independent NumPy float16
evaluator reproduces runtime_ref bit for bit; binary layouts round-trip; shaders are generated
deterministically with no contraction allowed."""

from __future__ import annotations

import json
import math
import struct

import numpy as np
import pytest

from ngsdk.asset.errors import AssetError
from ngsdk.asset.shading_mlp import ShadingEncoding, ShadingMlpAsset, build_decoder
from ngsdk.asset.types import Provenance
from ngsdk.exporters.shading_mlp_portable.binary import encode_network, write_network_binary
from ngsdk.exporters.shading_mlp_portable.glsl import generate_glsl
from ngsdk.exporters.shading_mlp_portable.hlsl import generate_hlsl
from ngsdk.exporters.shading_mlp_portable.json_net import write_network_json
from ngsdk.exporters.shading_mlp_portable.slang import generate_slang
from ngsdk.exporters.shading_mlp_portable.wgsl import generate_wgsl
from ngsdk.runtime_ref.shading_mlp import evaluate, texel_centres
from ngsdk.runtime_ref.shading_mlp_files import read_network_binary, read_network_json


def random_asset(
    encoding: str = "frequency",
    per_input: int = 6,
    hidden: int = 64,
    layers: int = 4,
    activation: str = "leaky_relu",
    seed: int = 0,
    scale: float = 1.0,
) -> ShadingMlpAsset:
    """A network with the seed's initialisation (optionally scaled) and the given shape."""
    rng = np.random.default_rng(seed)
    enc = ShadingEncoding(encoding, per_input)
    sizes = [enc.features] + [hidden] * layers + [3]
    ws = [
        (rng.uniform(-1, 1, (o, i)) * math.sqrt(6 / (i + o)) * scale).astype(np.float32)
        for i, o in zip(sizes, sizes[1:], strict=False)
    ]
    bs = [(rng.uniform(-1, 1, o) * math.sqrt(6 / o) * 0.5).astype(np.float32) for o in sizes[1:]]
    return ShadingMlpAsset(
        name="net",
        width=48,
        height=32,
        encoding=enc,
        decoder=build_decoder(ws, bs, activation),
        provenance=Provenance("test"),
    )


def sample_uvs(n_random: int = 3000) -> np.ndarray:
    rng = np.random.default_rng(7)
    return np.concatenate(
        [texel_centres(48, 32), rng.random((n_random, 2)), rng.uniform(-3, 4, (500, 2))]
    ).astype(np.float32)


# --------------------------------------------------------------------------- independent evaluator
# Written from docs/shading.md, not from runtime_ref: NumPy float16 arithmetic (each operation
# rounds to fp16), encoding and activations by the documented float32 formulas.


def _doc_sincospi(x):
    f = np.float32
    x = np.clip(x.astype(f), f(-4194304), f(4194304))
    y = x * f(2)
    q = np.floor(y + f(0.5))
    r = (y - q) * f(0.5)
    z = r * r
    s = np.full_like(z, f(math.pi**9 / 362880))
    for c in (-(math.pi**7) / 5040, math.pi**5 / 120, -(math.pi**3) / 6, math.pi):
        s = s * z + f(c)
    s = s * r
    c_ = np.full_like(z, f(-(math.pi**10) / 3628800))
    for c in (math.pi**8 / 40320, -(math.pi**6) / 720, math.pi**4 / 24, -(math.pi**2) / 2, 1.0):
        c_ = c_ * z + f(c)
    n = q.astype(np.int64) % 4
    sin = np.choose(n, [s, c_, -s, -c_])
    cos = np.choose(n, [c_, -s, -c_, s])
    return sin, cos


def _doc_sigmoid(x):
    f = np.float32
    x = np.minimum(np.maximum(x.astype(f), f(-20)), f(20))
    t = x * f(-1 / math.log(2))
    k = np.floor(t + f(0.5))
    fr = t - k
    p = np.full_like(fr, f(math.log(2) ** 7 / math.factorial(7)))
    for n in range(6, -1, -1):
        p = p * fr + f(math.log(2) ** n / math.factorial(n))
    d = p * np.ldexp(f(1), k.astype(np.int32)).astype(f) + f(1)
    y = (np.uint32(0x7EF311C3) - d.view(np.uint32)).view(f)
    for _ in range(3):
        y = y * (f(2) - d * y)
    return y


def _doc_tanh(x):
    f = np.float32
    x = x.astype(f)
    xs = np.minimum(np.maximum(x, f(-1)), f(1))
    z = xs * xs
    coeffs = [1.0, -1 / 3, 2 / 15, -17 / 315, 62 / 2835, -1382 / 155925, 21844 / 6081075, -929569 / 638512875]
    t = np.full_like(z, f(coeffs[-1]))
    for c in reversed(coeffs[:-1]):
        t = t * z + f(c)
    return np.where(np.abs(x) < f(0.5), t * xs, _doc_sigmoid(x * f(2)) * f(2) - f(1))


def _doc_encode(uv, kind, per_input):
    h = np.float16
    cols = []
    for i in range(uv.shape[1]):
        x = uv[:, i].astype(np.float32)
        if kind == "frequency":
            s32, c32 = _doc_sincospi(x)
            s, c = s32.astype(h), c32.astype(h)
            cols += [s, c]
            for _ in range(per_input // 2 - 1):
                s, c = (s * h(2)) * c, (c * h(2)) * c - h(1)
                cols += [s, c]
        elif kind == "triangle":
            # integer phases of x quantized to 2^-20: P = (X 2^j + j 2^19) mod 2^21, f = |P - 2^20| / 2^19 - 1
            xq = np.floor(np.clip(x, np.float32(-1024), np.float32(1024)).astype(np.float64) * 2**20).astype(
                np.int64
            )
            for j in range(per_input):
                p = (xq * 2**j + j * 2**19) % 2**21
                cols.append((np.abs(p - 2**20) / 2**19 - 1).astype(np.float32).astype(h))
        else:
            cols.append(x.astype(h))
    return np.stack(cols, axis=1)


def independent_fp16(doc: dict, uv: np.ndarray) -> np.ndarray:
    """Evaluate an exported JSON network in NumPy float16."""
    meta = doc["ngsdk"]
    e = meta["encoding"]
    x = _doc_encode(uv, e["type"], e["features_per_input"])
    slope = np.float16(meta["leaky_slope"])
    with np.errstate(over="ignore", invalid="ignore"):
        for layer, act in zip(doc["layers"], meta["activations"], strict=True):
            w = np.array(layer["weights"], np.float16).reshape(layer["num_outputs"], layer["num_inputs"])
            acc = np.tile(np.array(layer["biases"], np.float16), (x.shape[0], 1))
            for i in range(w.shape[1]):
                acc = acc + x[:, i : i + 1] * w[:, i]
            if act == "leaky_relu":
                x = np.where(acc < 0, acc * slope, acc)
            elif act == "relu":
                x = np.where(acc < 0, np.float16(0), acc)
            elif act == "tanh":
                x = _doc_tanh(acc.astype(np.float32)).astype(np.float16)
            elif act == "swish":
                x = acc * _doc_sigmoid(acc.astype(np.float32)).astype(np.float16)
            elif act == "sigmoid":
                x = _doc_sigmoid(acc.astype(np.float32)).astype(np.float16)
            else:
                x = acc
    return x


CONFIGS = [
    ("frequency", 6, "leaky_relu", 1.0),
    ("frequency", 10, "swish", 1.0),
    ("triangle", 6, "tanh", 1.0),
    ("triangle", 4, "relu", 2.0),
]


@pytest.mark.parametrize("encoding,per_input,activation,scale", CONFIGS)
def test_exported_json_evaluated_independently_matches_runtime_ref_fp16(
    tmp_path, encoding, per_input, activation, scale
):
    asset = random_asset(encoding, per_input, activation=activation, scale=scale)
    write_network_json(asset, tmp_path / "net.json")
    doc = json.loads((tmp_path / "net.json").read_text())
    uv = sample_uvs()
    ref = evaluate(asset, uv, "fp16")
    got = independent_fp16(doc, uv)
    assert ref.dtype == np.float16 and got.dtype == np.float16
    assert np.array_equal(ref.view(np.uint16), got.view(np.uint16))


def test_overflowing_network_takes_the_ieee_path_and_still_matches(tmp_path):
    # positive weights big enough that a hidden layer overflows fp16 to +inf (positive output
    # weights too, so no inf - inf: NaN behaviour is outside the contract)
    asset = random_asset(hidden=32, layers=2, activation="relu", seed=5)
    for layer in asset.decoder.layers:
        layer.weight = np.abs(layer.weight) * np.float32(300)
        layer.bias = np.abs(layer.bias)
    write_network_json(asset, tmp_path / "net.json")
    uv = sample_uvs(500)
    ref = evaluate(asset, uv, "fp16")
    got = independent_fp16(json.loads((tmp_path / "net.json").read_text()), uv)
    assert np.array_equal(ref.view(np.uint16), got.view(np.uint16))
    assert np.isfinite(ref).all() and (ref == 1).any()  # sigmoid(+inf) = 1


def test_fp16_results_do_not_depend_on_chunking_or_threads():
    asset = random_asset(seed=3)
    uv = sample_uvs()
    a = evaluate(asset, uv, "fp16", chunk=97, threads=1)
    b = evaluate(asset, uv, "fp16", chunk=4096, threads=2)
    assert np.array_equal(a.view(np.uint16), b.view(np.uint16))
    c = evaluate(asset, uv, "fp32", chunk=97, threads=1)
    d = evaluate(asset, uv, "fp32", chunk=1000, threads=2)
    assert np.array_equal(c.view(np.uint32), d.view(np.uint32))


def test_json_is_the_rtxns_format_with_exact_fp16_values(tmp_path):
    asset = random_asset()
    write_network_json(asset, tmp_path / "a.json")
    write_network_json(asset, tmp_path / "b.json")
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    doc = json.loads((tmp_path / "a.json").read_text())
    assert [(ly["num_inputs"], ly["num_outputs"]) for ly in doc["layers"]] == [
        (12, 64),
        (64, 64),
        (64, 64),
        (64, 64),
        (64, 3),
    ]
    w0 = np.array(doc["layers"][0]["weights"])
    assert np.array_equal(w0, asset.decoder.layers[0].weight.astype(np.float16).astype(np.float64).ravel())
    nf = read_network_json(tmp_path / "a.json")
    assert nf.dtype == "fp16" and nf.encoding == asset.encoding
    for (w, b), (ww, bb) in zip(zip(nf.weights, nf.biases, strict=True), asset.fp16_layers(), strict=True):
        assert np.array_equal(w.view(np.uint16), ww.view(np.uint16))
        assert np.array_equal(b.view(np.uint16), bb.view(np.uint16))


@pytest.mark.parametrize("dtype", ["fp16", "fp32"])
@pytest.mark.parametrize("layout", ["row_major", "col_major"])
def test_binary_layouts_round_trip(tmp_path, dtype, layout):
    asset = random_asset(encoding="triangle", per_input=4, hidden=40, layers=3, activation="tanh")
    path = tmp_path / "net.bin"
    write_network_binary(asset, path, dtype, layout)
    data = path.read_bytes()
    assert data == encode_network(asset, dtype, layout)
    # the documented header, field by field (little-endian, no padding)
    assert data[:4] == b"NGSM"
    version, header_bytes = struct.unpack_from("<HH", data, 4)
    assert (version, header_bytes % 16) == (1, 0)
    assert data[8] == {"fp16": 1, "fp32": 2}[dtype] and data[9] == {"row_major": 0, "col_major": 1}[layout]
    assert (data[10], data[11]) == (2, 4)  # triangle, 4 features per input
    assert struct.unpack_from("<HH", data, 12) == (2, 4)  # 2 inputs, 4 layers
    assert struct.unpack_from("<I", data, 20)[0] == len(data)
    n_in, n_out, act, _, _, w_off, b_off = struct.unpack_from("<HHBBHII", data, 32)
    assert (n_in, n_out, act, w_off % 16, b_off % 16) == (8, 40, 4, 0, 0)
    np_dtype = "<f2" if dtype == "fp16" else "<f4"
    w0 = np.frombuffer(data, np_dtype, n_in * n_out, w_off)
    want = asset.decoder.layers[0].weight.astype(np_dtype)
    assert np.array_equal(w0, want.ravel() if layout == "row_major" else want.T.ravel())
    nf = read_network_binary(path)
    ref = asset.fp16_layers() if dtype == "fp16" else [(ly.weight, ly.bias) for ly in asset.decoder.layers]
    for (w, b), (ww, bb) in zip(zip(nf.weights, nf.biases, strict=True), ref, strict=True):
        assert w.shape == ww.shape and np.array_equal(w, ww) and np.array_equal(b, bb)
    assert nf.activations == ["tanh"] * 3 + ["sigmoid"] and nf.encoding == asset.encoding
    assert nf.leaky_slope == pytest.approx(0.01)


def test_damaged_binaries_are_refused_with_the_file_named(tmp_path):
    asset = random_asset(hidden=16, layers=2)
    data = encode_network(asset)
    cases = {
        "truncated.bin": data[:-16],
        "flipped.bin": data[:-20] + bytes([data[-20] ^ 1]) + data[-19:],
        "magic.bin": b"XXXX" + data[4:],
        "short.bin": data[:10],
    }
    messages = {}
    for name, blob in cases.items():
        (tmp_path / name).write_bytes(blob)
        with pytest.raises(AssetError) as err:
            read_network_binary(tmp_path / name)
        assert name in str(err.value)
        messages[name] = str(err.value)
    assert "header says" in messages["truncated.bin"]
    assert "CRC" in messages["flipped.bin"]
    assert "magic" in messages["magic.bin"]
    assert "truncated" in messages["short.bin"]


def test_shaders_are_deterministic_and_forbid_contraction():
    asset = random_asset(activation="swish")
    for gen in (generate_glsl, generate_hlsl, generate_slang):
        text = gen(asset)
        assert text == gen(asset)
        assert "precise" in text and "fma" not in text and "mad(" not in text
        assert "ngsdk_eval" in text and "exp(" not in text and "sin(" not in text
    wgsl = generate_wgsl(asset)
    assert wgsl.startswith("enable f16;")
    emulated = generate_wgsl(asset, "emulated")
    assert "enable f16" not in emulated and "pack2x16float" in emulated
    with pytest.raises(ValueError):
        generate_glsl(asset, "emulated")


def test_graph_module_matches_the_fp32_reference():
    torch = pytest.importorskip("torch")
    from ngsdk.exporters.graph.shading_mlp import graph_module

    asset = random_asset(seed=2)
    uv = sample_uvs()
    ref = evaluate(asset, uv, "fp32")
    for include_encoding in (True, False):
        module, example, io = graph_module(asset, include_encoding=include_encoding)
        assert example.shape[1] == (2 if include_encoding else 12)
        with torch.no_grad():
            x = torch.from_numpy(uv)
            if not include_encoding:
                from ngsdk.shading.model import encode

                x = encode(x, asset.encoding, fp16=False)
            got = module(x).numpy()
        assert np.abs(got - ref).max() < 1e-5
        assert io["outputs"][0]["name"] == "rgb"
