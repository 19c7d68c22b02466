"""The trainable neural texture (torch): quantized latent pyramids, encoding and MLP decoder.

The training forward uses fast, differentiable torch ops; the evaluation forward that decides
the exported asset is in :mod:`ngsdk.textures.strict` and matches runtime_ref bit for bit.
"""

from __future__ import annotations

import torch
from torch import nn

from ngsdk.textures.config import GridConfig, TextureTrainConfig

_ACT = {"relu": nn.ReLU, "leaky_relu": lambda: nn.LeakyReLU(0.01)}


def level_sizes(width: int, height: int) -> list[tuple[int, int]]:
    sizes = [(width, height)]
    while sizes[-1] != (1, 1):
        w, h = sizes[-1]
        sizes.append((max(1, w // 2), max(1, h // 2)))
    return sizes


class LatentPyramid(nn.Module):
    """All levels of one grid in one flat parameter (sum_l h_l * w_l, F), values in [-1, 1]."""

    def __init__(self, cfg: GridConfig, generator: torch.Generator):
        super().__init__()
        self.cfg = cfg
        self.sizes = level_sizes(cfg.width, cfg.height)
        offsets, total = [], 0
        for w, h in self.sizes:
            offsets.append(total)
            total += w * h
        init = (torch.rand(total, cfg.features, generator=generator) * 2 - 1) * 0.05
        self.values = nn.Parameter(init)
        self.register_buffer("offsets", torch.tensor(offsets, dtype=torch.int64), persistent=False)
        self.register_buffer("widths", torch.tensor([w for w, _ in self.sizes], dtype=torch.int64), persistent=False)
        self.register_buffer("heights", torch.tensor([h for _, h in self.sizes], dtype=torch.int64),
                             persistent=False)
        self.levels = len(self.sizes)
        self.q = (1 << cfg.bits) - 1

    @property
    def scale(self) -> float:
        return 2.0 / self.q

    @property
    def offset(self) -> float:
        return -1.0

    def quantized(self, mode: str, generator: torch.Generator | None = None) -> torch.Tensor:
        """Latent values as the decoder sees them: ``noise`` (training), ``ste`` or ``hard``."""
        z = (self.values + 1) * (self.q / 2)
        if mode == "noise":
            noise = torch.rand(z.shape, generator=generator, device=z.device) - 0.5
            zq = z + noise
        elif mode == "ste":
            zq = z + (torch.round(z) - z).detach()
        elif mode == "hard":
            zq = torch.round(z)
        else:
            raise ValueError(mode)
        return zq * self.scale + self.offset

    def codes(self) -> list[torch.Tensor]:
        """Integer codes per level, each (h, w, F) uint8."""
        z = torch.round((self.values.detach() + 1) * (self.q / 2)).clamp(0, self.q).to(torch.uint8)
        out = []
        for (w, h), off in zip(self.sizes, self.offsets.tolist()):
            out.append(z[off : off + w * h].reshape(h, w, -1).cpu())
        return out

    @torch.no_grad()
    def clamp_(self) -> None:
        self.values.clamp_(-1.0, 1.0)

    def sample(self, table: torch.Tensor, level: torch.Tensor, u: torch.Tensor, v: torch.Tensor,
               address: str) -> torch.Tensor:
        """Differentiable bilinear sample at per-sample ``level`` -> (N, F)."""
        w = self.widths[level]
        h = self.heights[level]
        x = u * w.to(u.dtype) - 0.5
        y = v * h.to(v.dtype) - 0.5
        x0f, y0f = torch.floor(x), torch.floor(y)
        fx, fy = (x - x0f)[:, None], (y - y0f)[:, None]
        x0, y0 = x0f.long(), y0f.long()
        x1, y1 = x0 + 1, y0 + 1
        if address == "wrap":
            x0, x1, y0, y1 = x0 % w, x1 % w, y0 % h, y1 % h
        else:
            x0, x1 = x0.clamp(min=0).minimum(w - 1), x1.clamp(min=0).minimum(w - 1)
            y0, y1 = y0.clamp(min=0).minimum(h - 1), y1.clamp(min=0).minimum(h - 1)
        base = self.offsets[level]
        r0, r1 = base + y0 * w, base + y1 * w
        # one gather for the four taps: a single (cheaper) scatter in the backward pass
        taps = table[torch.stack((r0 + x0, r0 + x1, r1 + x0, r1 + x1))]
        v00, v10, v01, v11 = taps.unbind(0)
        top = v00 + fx * (v10 - v00)
        bot = v01 + fx * (v11 - v01)
        return top + fy * (bot - top)


def triangle_encoding(u: torch.Tensor, v: torch.Tensor, freqs: list[float], phases: list[float],
                      level: torch.Tensor) -> torch.Tensor:
    scale = torch.exp2(-level.to(u.dtype))
    cols = []
    for f in freqs:
        fs = scale * f
        for p in phases:
            for c in (u, v):
                t = c * fs + p
                cols.append(torch.abs((t - torch.floor(t)) * 2 - 1))
    return torch.stack(cols, dim=1)


class NeuralTextureModel(nn.Module):
    """Latent pyramids of every grid + triangle encoding + MLP decoder."""

    def __init__(self, cfg: TextureTrainConfig, width: int, height: int, channels: int, seed: int):
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.cfg = cfg
        self.width, self.height = width, height
        self.grids = nn.ModuleList(LatentPyramid(g, gen) for g in cfg.grids)
        self.mips = len(level_sizes(width, height))
        # texture mip m reads level min(m, levels_g - 1) of grid g
        gl = [[min(m, g.levels - 1) for g in self.grids] for m in range(self.mips)]
        self.grid_levels = gl
        self.register_buffer("grid_level_table", torch.tensor(gl, dtype=torch.int64), persistent=False)
        g0w = cfg.grids[0].width
        self.frequencies = [g0w * c for c in cfg.encoding_frequencies_cells]
        self.phases = list(cfg.encoding_phases)
        inputs = sum(g.cfg.features for g in self.grids) + 2 * len(self.frequencies) * len(self.phases)
        dims = [inputs] + [cfg.hidden] * cfg.hidden_layers + [channels]
        layers: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(dims, dims[1:])):
            lin = nn.Linear(a, b)
            bound = (6.0 / a) ** 0.5 if i < len(dims) - 2 else (1.0 / a) ** 0.5
            with torch.no_grad():
                lin.weight.copy_((torch.rand(b, a, generator=gen) * 2 - 1) * bound * 0.5)
                lin.bias.zero_()
            layers.append(lin)
            if i < len(dims) - 2:
                layers.append(_ACT[cfg.activation]())
        self.mlp = nn.Sequential(*layers)
        self.inputs = inputs

    def forward(self, mip: torch.Tensor, u: torch.Tensor, v: torch.Tensor, quant: str,
                generator: torch.Generator | None = None) -> torch.Tensor:
        levels = self.grid_level_table[mip]
        feats = []
        for gi, grid in enumerate(self.grids):
            table = grid.quantized(quant, generator)
            feats.append(grid.sample(table, levels[:, gi], u, v, self.cfg.address))
        feats.append(triangle_encoding(u, v, self.frequencies, self.phases, levels[:, 0]))
        x = torch.cat(feats, dim=1)
        if u.is_cuda:
            with torch.autocast("cuda", dtype=torch.bfloat16):
                return self.mlp(x).float()
        return self.mlp(x)
