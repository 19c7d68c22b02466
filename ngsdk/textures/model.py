"""The trainable neural texture (torch): quantized latent pyramids, encoding and MLP decoder.

The training forward uses fast, differentiable torch ops; the evaluation forward that decides
the exported asset is in :mod:`ngsdk.textures.strict` and matches runtime_ref bit for bit.
For the ``exact`` and ``hardware`` decode modes, :meth:`NeuralTextureModel.forward_int` is the
integer decode itself (quantization-aware training, :mod:`ngsdk.textures.quant`): its forward
values are the decoded bytes.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ngsdk.asset.neural_texture import LOD_INPUT_MAX
from ngsdk.asset.types import INT_ACT_MAX, INT_INPUT_MAX, INTEGER_DECODE_MODES
from ngsdk.textures import quant
from ngsdk.textures.config import GridConfig, LatentPlan, TextureTrainConfig
from ngsdk.textures.latent_init import pca_latents

_ACT = {"relu": nn.ReLU, "leaky_relu": lambda: nn.LeakyReLU(0.01)}


def level_sizes(width: int, height: int, levels: int = 0) -> list[tuple[int, int]]:
    """(w, h) of each level: the full chain to 1x1, or its first ``levels``."""
    sizes = [(width, height)]
    while sizes[-1] != (1, 1) and (not levels or len(sizes) < levels):
        w, h = sizes[-1]
        sizes.append((max(1, w // 2), max(1, h // 2)))
    return sizes


class LatentPyramid(nn.Module):
    """All levels of one grid in one flat parameter (sum_l h_l * w_l, F), values in [-1, 1]."""

    def __init__(self, cfg: GridConfig, generator: torch.Generator, spread: float = 0.5,
                 target: np.ndarray | None = None):
        super().__init__()
        self.cfg = cfg
        self.sizes = level_sizes(cfg.width, cfg.height, cfg.levels)
        offsets, total = [], 0
        for w, h in self.sizes:
            offsets.append(total)
            total += w * h
        if target is not None:
            init = pca_latents(target, self.sizes, cfg.features, spread, generator)
        else:
            init = (torch.rand(total, cfg.features, generator=generator) * 2 - 1) * spread
        self.values = nn.Parameter(init)
        self.register_buffer("offsets", torch.tensor(offsets, dtype=torch.int64), persistent=False)
        self.register_buffer("widths", torch.tensor([w for w, _ in self.sizes], dtype=torch.int64), persistent=False)
        self.register_buffer("heights", torch.tensor([h for _, h in self.sizes], dtype=torch.int64),
                             persistent=False)
        # int32 copies for the fused CUDA sampling kernels
        self.register_buffer("offsets32", self.offsets.to(torch.int32), persistent=False)
        self.register_buffer("widths32", self.widths.to(torch.int32), persistent=False)
        self.register_buffer("heights32", self.heights.to(torch.int32), persistent=False)
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

    def code_table(self, mode: str) -> torch.Tensor:
        """Integer codes (float tensor, all levels): ``ste`` rounds with a straight-through gradient."""
        z = (self.values + 1) * (self.q / 2)
        c = torch.round(z.detach()).clamp(0, self.q)
        return quant.ste(c, z) if mode == "ste" else c

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


def mip_positions(i: torch.Tensor, n_out: torch.Tensor, n_grid: torch.Tensor) -> torch.Tensor:
    """Exact mode: ``floor((2i + 1) n_grid 128 / n_out) - 128`` in int64 (the int32-safe steps)."""
    q = (2 * i + 1) * n_grid
    return torch.div(q, n_out, rounding_mode="floor") * 128 + torch.div((q % n_out) * 128, n_out,
                                                                       rounding_mode="floor") - 128


def uv_positions(u: torch.Tensor, n_grid: torch.Tensor) -> torch.Tensor:
    """``floor(f32(u * f32(256 n_grid))) - 128`` for float32 ``u``."""
    return torch.floor(u * (n_grid * 256).to(torch.float32)).to(torch.int64) - 128


def wrap(i: torch.Tensor, n: torch.Tensor, address: str) -> torch.Tensor:
    if address == "wrap":
        return torch.remainder(i, n)
    return torch.minimum(i.clamp(min=0), n - 1)


def encoding_position(x0: torch.Tensor, n0: torch.Tensor, address: str) -> torch.Tensor:
    e = x0 + 128
    return torch.remainder(e, 256 * n0) if address == "wrap" else torch.minimum(e.clamp(min=0), 256 * n0 - 1)


def int_encoding(eu: torch.Tensor, ev: torch.Tensor, periods: list[int], phases: list[int]) -> torch.Tensor:
    """Integer triangle waves in [0, 127] (int64), per term u then v."""
    cols = []
    for s, p in zip(periods, phases):
        shift = 8 + s
        period = 1 << shift
        for e in (eu, ev):
            t = (e + p) & (period - 1)
            cols.append(((2 * t - period).abs() * INT_INPUT_MAX + (period >> 1)) >> shift)
    return torch.stack(cols, dim=1)


def hardware_coordinates(i: torch.Tensor, n_out: torch.Tensor) -> torch.Tensor:
    """Hardware mode texel centres: ``f32(2i + 1) * (f32(0.5) / f32(n_out))``."""
    # a Python scalar, not a new tensor: nothing is copied to the device (CUDA graph capture forbids it)
    inv = 0.5 / n_out.to(torch.float32)
    return (2 * i + 1).to(torch.float32) * inv


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
    """Latent pyramids + per-mip latent taps + triangle encoding (+ LOD input) + MLP decoder."""

    def __init__(self, cfg: TextureTrainConfig, plan: LatentPlan, width: int, height: int, channels: int,
                 seed: int, target: np.ndarray | None = None):
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.cfg = cfg
        self.width, self.height = width, height
        pca = target if cfg.latent_init_mode == "pca" else None
        self.grids = nn.ModuleList(LatentPyramid(g, gen, cfg.latent_init, pca) for g in plan.grids)
        self.mips = len(level_sizes(width, height))
        if len(plan.taps) != self.mips:
            raise ValueError(f"latent plan has taps for {len(plan.taps)} mips, the texture has {self.mips}")
        self.taps = [list(t) for t in plan.taps]
        self.tap_grids = [g for g, _ in self.taps[0]]
        self.register_buffer("tap_level_table", torch.tensor([[l for _, l in t] for t in self.taps],
                                                             dtype=torch.int64), persistent=False)
        # taps grouped by grid (contiguous runs, in tap order) for the fused sampling kernels
        self.tap_groups: list[tuple[int, list[int]]] = []
        for t, g in enumerate(self.tap_grids):
            if self.tap_groups and self.tap_groups[-1][0] == g:
                self.tap_groups[-1][1].append(t)
            else:
                self.tap_groups.append((g, [t]))
        for i, (_, ts) in enumerate(self.tap_groups):
            self.register_buffer(f"tap_levels32_{i}", self.tap_level_table[:, ts].to(torch.int32).contiguous(),
                                 persistent=False)
        self.fused = False
        """Use :mod:`ngsdk.textures.fused_sampling` for the float phases (set by the trainer on CUDA)."""
        self.lod_inputs = plan.lod_inputs
        if self.lod_inputs is not None:
            self.register_buffer("lod_table", torch.tensor(self.lod_inputs, dtype=torch.float32), persistent=False)
        g0w = self.grids[self.tap_grids[0]].cfg.width
        self.frequencies = [g0w * c for c in cfg.encoding_frequencies_cells]
        self.phases = list(cfg.encoding_phases)
        latent_in = sum(self.grids[g].cfg.features for g in self.tap_grids)
        inputs = latent_in + 2 * len(self.frequencies) * len(self.phases) + (1 if self.lod_inputs is not None else 0)
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
        self.decode_mode = cfg.decode_mode
        if self.decode_mode in INTEGER_DECODE_MODES:
            self.periods, self.phase_units = quant.encoding_terms(cfg.encoding_frequencies_cells,
                                                                  cfg.encoding_phases)
            scales = []
            for g in self.tap_grids:
                grid = self.grids[g]
                scales += [quant.latent_input_scale(grid.cfg.bits, self.decode_mode)] * grid.cfg.features
            scales += [1.0 / INT_INPUT_MAX] * (2 * len(self.periods))
            if self.lod_inputs is not None:
                scales.append(1.0 / LOD_INPUT_MAX)
            self.register_buffer("input_scales", torch.tensor(scales, dtype=torch.float32), persistent=False)
            # real value of one step of each hidden unit's 8-bit activation (per layer and channel); calibrate()
            self.register_buffer("act_scales", torch.zeros(cfg.hidden_layers, cfg.hidden, dtype=torch.float32))
            self.register_buffer("output_scale", torch.tensor(1.0 / INT_ACT_MAX, dtype=torch.float32),
                                 persistent=False)

    # ------------------------------------------------------------------ float forward (training warm-up)
    def float_inputs(self, mip: torch.Tensor, u: torch.Tensor, v: torch.Tensor, quant_mode: str,
                     generator: torch.Generator | None = None) -> torch.Tensor:
        """Decoder inputs in float units: bilinear latents of every tap, the encoding, the LOD input."""
        feats = []
        if self.fused:
            from ngsdk.textures.fused_sampling import sample_taps

            mip32 = mip.to(torch.int32)
            for i, (g, _) in enumerate(self.tap_groups):
                grid = self.grids[g]
                feats.append(sample_taps(grid.quantized(quant_mode, generator), mip32, u, v,
                                         getattr(self, f"tap_levels32_{i}"), grid.widths32, grid.heights32,
                                         grid.offsets32, self.cfg.address == "wrap"))
        else:
            tables = {}
            for t, g in enumerate(self.tap_grids):
                if g not in tables:
                    tables[g] = self.grids[g].quantized(quant_mode, generator)
                feats.append(self.grids[g].sample(tables[g], self.tap_level_table[mip, t], u, v, self.cfg.address))
        feats.append(triangle_encoding(u, v, self.frequencies, self.phases, self.tap_level_table[mip, 0]))
        if self.lod_inputs is not None:
            feats.append((self.lod_table[mip] / LOD_INPUT_MAX)[:, None])
        return torch.cat(feats, dim=1)

    def forward(self, mip: torch.Tensor, u: torch.Tensor, v: torch.Tensor, quant: str,
                generator: torch.Generator | None = None) -> torch.Tensor:
        x = self.float_inputs(mip, u, v, quant, generator)
        if u.is_cuda:
            # autocast's weight cache cannot live inside a captured CUDA graph
            with torch.autocast("cuda", dtype=torch.bfloat16, cache_enabled=False):
                return self.mlp(x).float()
        return self.mlp(x)

    # ------------------------------------------------------------------ integer decode (exact, hardware)
    def mip_dims(self, mip: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-sample texture mip sizes ``max(1, width >> mip)``, ``max(1, height >> mip)`` (int64)."""
        w = torch.full_like(mip, self.width) >> mip
        h = torch.full_like(mip, self.height) >> mip
        return w.clamp(min=1), h.clamp(min=1)

    @property
    def linears(self) -> list[nn.Linear]:
        return [m for m in self.mlp if isinstance(m, nn.Linear)]

    @property
    def calibrated(self) -> bool:
        return bool((self.act_scales > 0).all())

    @torch.no_grad()
    def calibrate(self, mip: torch.Tensor, u: torch.Tensor, v: torch.Tensor) -> None:
        """Fix each hidden unit's activation scale from the float network: its 99.99th percentile / 255.

        Per unit, not per layer: the spec's per-channel multipliers already carry a scale per output, so a
        unit with a small range keeps its 8 bits of resolution. The floor (1/256 of the layer's largest unit)
        bounds the multipliers' spread.
        """
        x = self.float_inputs(mip, u, v, "hard").float()[:1 << 18]
        k = max(1, int(x.shape[0] * 1e-4))
        scales = []
        for m in self.mlp:
            x = m(x)
            if not isinstance(m, nn.Linear):
                top = torch.topk(x, k, dim=0).values[-1].clamp_min(1e-3)
                scales.append(torch.maximum(top, top.max() / 256) / INT_ACT_MAX)
        self.act_scales.copy_(torch.stack(scales).float())

    def int_params(self) -> list[quant.IntLinearParams]:
        """Integer parameters of every layer (deterministic function of the float weights and scales)."""
        params = []
        in_scale = self.input_scales
        xmax = float(INT_INPUT_MAX)
        lins = self.linears
        for i, lin in enumerate(lins):
            hidden = i < len(lins) - 1
            out_scale = self.act_scales[i] if hidden else self.output_scale
            params.append(quant.IntLinearParams(lin, in_scale, out_scale, xmax))
            in_scale = out_scale.expand(lin.out_features) if out_scale.ndim == 0 else out_scale
            xmax = float(INT_ACT_MAX)
        return params

    def _bilinear_codes(self, grid: LatentPyramid, table, level, x, y):
        gw, gh = grid.widths[level], grid.heights[level]
        address = self.cfg.address
        x0, x1 = wrap(x >> 8, gw, address), wrap((x >> 8) + 1, gw, address)
        y0, y1 = wrap(y >> 8, gh, address), wrap((y >> 8) + 1, gh, address)
        # float32 is exact here: codes < 2^8 times weights <= 2^16 sum below 2^24, and the shift by 2^k
        # below divides by a power of two
        wx = (x & 255).to(torch.float32)[:, None]
        wy = (y & 255).to(torch.float32)[:, None]
        base = grid.offsets[level]
        r0, r1 = base + y0 * gw, base + y1 * gw
        taps = table[torch.stack((r0 + x0, r0 + x1, r1 + x0, r1 + x1))].float()
        c00, c10, c01, c11 = taps.unbind(0)
        total = (c00 * (256 - wx) + c10 * wx) * (256 - wy) + (c01 * (256 - wx) + c11 * wx) * wy
        bits = grid.cfg.bits
        k = bits + 9
        s = 2 * total - grid.q * 65536.0
        exact = torch.clamp(torch.floor((s + 2.0 ** (k - 1)) / 2.0**k), -INT_INPUT_MAX, INT_INPUT_MAX)
        return quant.ste(exact, s / 2.0**k)

    def _hardware_latents(self, grid: LatentPyramid, table, level, u, v):
        """d3d11-profile bilinear of the 8-bit codes at float32 (u, v), mapped to integer inputs (STE)."""
        gw, gh = grid.widths[level], grid.heights[level]
        address = self.cfg.address
        fx = torch.round(u * gw.to(torch.float32) * 256.0).to(torch.int64) - 128
        fy = torch.round(v * gh.to(torch.float32) * 256.0).to(torch.int64) - 128
        x0, x1 = wrap(fx >> 8, gw, address), wrap((fx >> 8) + 1, gw, address)
        y0, y1 = wrap(fy >> 8, gh, address), wrap((fy >> 8) + 1, gh, address)
        a = (fx & 255).to(torch.float64)[:, None]
        b = (fy & 255).to(torch.float64)[:, None]
        base = grid.offsets[level]
        r0, r1 = base + y0 * gw, base + y1 * gw
        taps = table[torch.stack((r0 + x0, r0 + x1, r1 + x0, r1 + x1))].double()
        c00, c10, c01, c11 = taps.unbind(0)
        total = c00 * ((256 - a) * (256 - b)) + c10 * (a * (256 - b)) + c01 * ((256 - a) * b) + c11 * (a * b)
        r = total.detach().float() / (255.0 * 65536.0)              # f32 division by an exact f32 constant
        t = torch.floor(r * 508.0).to(torch.int64)
        exact = torch.clamp(((t + 1) >> 1) - INT_INPUT_MAX, -INT_INPUT_MAX, INT_INPUT_MAX).double()
        return quant.ste(exact, total / (255.0 * 65536.0) * 254.0 - INT_INPUT_MAX).float()

    def int_inputs(self, mip: torch.Tensor, ix: torch.Tensor, iy: torch.Tensor, mode: str) -> torch.Tensor:
        """Decoder inputs at texel (ix, iy) of texture mip ``mip`` (float tensor of integers, STE)."""
        feats = []
        mw, mh = self.mip_dims(mip)
        if self.decode_mode == "hardware":
            u, v = hardware_coordinates(ix, mw), hardware_coordinates(iy, mh)
        tables = {}
        for t, g in enumerate(self.tap_grids):
            grid = self.grids[g]
            if g not in tables:
                tables[g] = grid.code_table(mode)
            lv = self.tap_level_table[mip, t]
            if self.decode_mode == "exact":
                x = mip_positions(ix, mw, grid.widths[lv])
                y = mip_positions(iy, mh, grid.heights[lv])
                lat = self._bilinear_codes(grid, tables[g], lv, x, y)
                if t == 0:
                    x0, y0 = x, y
            else:
                lat = self._hardware_latents(grid, tables[g], lv, u, v)
                if t == 0:
                    x0 = uv_positions(u, grid.widths[lv])
                    y0 = uv_positions(v, grid.heights[lv])
            feats.append(lat)
        g0 = self.grids[self.tap_grids[0]]
        l0 = self.tap_level_table[mip, 0]
        eu = encoding_position(x0, g0.widths[l0], self.cfg.address)
        ev = encoding_position(y0, g0.heights[l0], self.cfg.address)
        feats.append(int_encoding(eu, ev, self.periods, self.phase_units).float())
        if self.lod_inputs is not None:
            feats.append(self.lod_table[mip][:, None])
        return torch.cat(feats, dim=1)

    def forward_int(self, mip: torch.Tensor, ix: torch.Tensor, iy: torch.Tensor, mode: str = "ste",
                    params: list[quant.IntLinearParams] | None = None) -> torch.Tensor:
        """The integer decode at texels (ix, iy) of mips ``mip`` -> (N, C) bytes as floats (STE)."""
        x = self.int_inputs(mip, ix, iy, mode)
        params = params or self.int_params()
        for i, p in enumerate(params):
            x = quant.int_linear(x, p, hidden=i < len(params) - 1)
        return x
