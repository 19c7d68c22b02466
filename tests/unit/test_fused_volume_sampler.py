"""The fused Triton volume sampler (training, ``--sampler fused``) equals the torch ``gather`` sampler, forward and
backward, and its backward gives the same bits every time.

Triton's interpreter runs the kernels on the CPU (TRITON_INTERPRET=1, set before Triton is imported, hence the
subprocess); on a CUDA machine the trainer compiles them for the GPU.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("triton")

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent("""
    import json, torch
    from ngsdk.volumes.model import sample_grids_gather
    from ngsdk.volumes.fused_sampler import sample_grids_fused
    out = {}
    gen = torch.Generator().manual_seed(0)
    # odd feature counts and non-cubic grids; a third of the points outside the grids (zero padding)
    for (g, f, rz, ry, rx) in ((3, 3, 5, 6, 7), (2, 4, 4, 4, 4), (1, 1, 3, 9, 2)):
        feats = torch.randn(g, f, rz, ry, rx, generator=gen)
        n = 300
        q = torch.rand(g, n, 3, generator=gen) * 2.4 - 1.2
        wgt = torch.randn(n, g * f, generator=gen)
        res = []
        for fn in (sample_grids_gather, sample_grids_fused):
            a = feats.clone().requires_grad_(True)
            b = q.clone().requires_grad_(True)
            (fn(a, b) * wgt).sum().backward()
            res.append((fn(feats, q), a.grad.clone(), b.grad.clone()))
        (y0, ga0, gb0), (y1, ga1, gb1) = res
        again = feats.clone().requires_grad_(True)
        (sample_grids_fused(again, q) * wgt).sum().backward()  # q without a gradient (frozen transforms)
        out[f"{g}x{f}x{rz}x{ry}x{rx}"] = {
            "forward": float((y0 - y1).abs().max()), "value_scale": float(y0.abs().max()),
            "grad_features": float((ga0 - ga1).abs().max()), "grad_scale": float(ga0.abs().max()),
            "grad_q": float((gb0 - gb1).abs().max()), "q_scale": float(gb0.abs().max()),
            "repeat_equal": bool(torch.equal(again.grad, ga1)),
            "outside": int((q.abs() > 1).any(-1).sum()), "points": g * n}
    a = torch.randn(2, 2, 3, 3, 3).requires_grad_(True)
    b = torch.zeros(2, 0, 3).requires_grad_(True)
    y = sample_grids_fused(a, b)
    y.sum().backward()
    out["empty"] = {"shape": list(y.shape), "grad_zero": bool((a.grad == 0).all()), "q_grad": list(b.grad.shape)}
    print(json.dumps(out))
""")


def test_fused_volume_sampler_matches_the_gather_sampler() -> None:
    env = dict(os.environ, TRITON_INTERPRET="1", PYTHONPATH=str(ROOT), OMP_NUM_THREADS="2")
    res = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    cases = json.loads(res.stdout.strip().splitlines()[-1])
    assert cases.pop("empty") == {"shape": [0, 4], "grad_zero": True, "q_grad": [2, 0, 3]}  # an empty batch
    assert len(cases) == 3
    for name, c in cases.items():
        assert 0 < c["outside"] < c["points"], name
        assert c["value_scale"] > 0.5 and c["forward"] <= 1e-6 * c["value_scale"], name
        # both backwards sum fixed-point terms with the same power-of-two scale
        assert c["grad_scale"] > 0.5 and c["grad_features"] <= 1e-6 * c["grad_scale"], name
        assert c["q_scale"] > 1 and c["grad_q"] <= 1e-6 * c["q_scale"], name
        assert c["repeat_equal"], name


def test_fused_sampler_needs_triton_on_the_device() -> None:
    import torch

    from ngsdk.volumes.fit import resolve_sampler

    assert resolve_sampler("auto", torch.device("cpu")) == "grid_sample"
    assert resolve_sampler("auto", torch.device("cuda")) == "gather"
    if os.environ.get("TRITON_INTERPRET") != "1":
        with pytest.raises(ValueError, match="--sampler fused needs Triton and a CUDA device"):
            resolve_sampler("fused", torch.device("cpu"))
