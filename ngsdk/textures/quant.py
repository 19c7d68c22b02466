"""Quantization-aware training of the integer decoder (torch): the ``exact`` and ``hardware`` modes.

The forward pass computes the decoder's integer arithmetic exactly (docs/decode-spec.md) and lets
gradients through a real-valued surrogate (straight-through estimators), so the trained model is
the decoded model. Integer values are held in float tensors: every weight, input and partial sum is
an integer below 2^24, so float32 matrix products of them are exact in any summation order (also
with TF32 on CUDA: inputs need at most 8 significant bits). The requantization runs in float64.

The STE form ``exact + (s - s.detach())`` adds an exact zero in the forward pass, so forward values
are the integers bit for bit while the gradient is that of the surrogate ``s``.
"""

from __future__ import annotations

import math

import torch

from ngsdk.asset.types import INT_ACT_MAX, INT_INPUT_MAX, INT_WEIGHT_MAX, IntLayer

BIAS_CAP = 1 << 21
"""Integer biases are clamped to [-2^21, 2^21] (keeps the accumulator far from the int32 limit)."""
MULTIPLIER_BITS = 8


def ste(exact: torch.Tensor, surrogate: torch.Tensor) -> torch.Tensor:
    """Forward ``exact`` (bit for bit), backward the gradient of ``surrogate``."""
    return exact.detach() + (surrogate - surrogate.detach())


def bit_length(a: torch.Tensor) -> torch.Tensor:
    """Bit length of non-negative integers held in a float64 tensor (0 for 0)."""
    _, e = torch.frexp(a)
    return torch.where(a >= 1, e.to(torch.int64), torch.zeros_like(e, dtype=torch.int64))


def multiplier_bits(w_q: torch.Tensor, b_q: torch.Tensor, xmax: float) -> torch.Tensor:
    """Bits allowed for each channel's multiplier so ``|acc| * M + 2^(shift - 1) < 2^31``.

    ``|acc| <= A = |b| + xmax * sum |W|``; with ``M < 2^bits`` and ``bits <= 30 - bit_length(A)``,
    ``A * M < 2^30`` and the rounding term ``2^(shift - 1) <= 2^29``.
    """
    a = b_q.double().abs() + xmax * w_q.double().abs().sum(dim=1)
    return torch.clamp(30 - bit_length(a), 1, MULTIPLIER_BITS)


def quantize_multiplier(m: torch.Tensor, bits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Real multipliers ``m > 0`` (float64) -> integer ``(M, shift)``, ``M / 2^shift ~ m``, ``M < 2^bits``,
    shift in [1, 30]; ``M = round_half_even(m * 2^shift)``."""
    e = torch.floor(torch.log2(m.clamp_min(2.0**-60))).to(torch.int64)
    shift = torch.clamp(bits - 1 - e, 1, 30)
    mant = torch.round(m * torch.exp2(shift.double()))
    top = torch.exp2(bits.double())
    over = mant >= top
    # rounding carried into the next power of two: one bit less of shift (if any is left)
    shift = torch.where(over & (shift > 1), shift - 1, shift)
    mant = torch.where(over, torch.round(m * torch.exp2(shift.double())), mant)
    mant = torch.minimum(mant, top - 1)
    return mant, shift


def requantize(acc: torch.Tensor, mult: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """``clamp((acc * M + 2^(shift - 1)) >> shift, 0, 255)`` in float64 (exact below 2^53)."""
    s = shift.double()
    return torch.clamp(torch.floor((acc * mult + torch.exp2(s - 1)) * torch.exp2(-s)), 0.0, float(INT_ACT_MAX))


class IntLinearParams:
    """The integer parameters of one layer, derived from its float weights (deterministic)."""

    def __init__(self, linear: torch.nn.Linear, in_scale: torch.Tensor, out_scale: torch.Tensor, xmax: float):
        wt = linear.weight * in_scale[None, :]                 # weights in integer-input units
        self.s_w = (wt.detach().abs().amax(dim=1) / INT_WEIGHT_MAX).clamp_min(1e-12)
        v = wt / self.s_w[:, None]
        self.w_q = torch.round(v.detach()).clamp(-INT_WEIGHT_MAX, INT_WEIGHT_MAX)
        self.w_ste = ste(self.w_q, v)
        bv = linear.bias / self.s_w
        self.b_q = torch.round(bv.detach()).clamp(-BIAS_CAP, BIAS_CAP)
        self.b_ste = ste(self.b_q, bv)
        bits = multiplier_bits(self.w_q, self.b_q, xmax)
        self.mult, self.shift = quantize_multiplier(self.s_w.double() / out_scale, bits)
        self.out_scale = out_scale

    def to_layer(self, activation: str) -> IntLayer:
        return IntLayer(
            weight=self.w_q.cpu().to(torch.int64).numpy(), bias=self.b_q.cpu().to(torch.int64).numpy(),
            multiplier=self.mult.cpu().to(torch.int64).numpy(), shift=self.shift.cpu().numpy(),
            # the stored step is informative (the float view): any positive value gives an equivalent view,
            # since the next layer's real weights divide by it; per-unit scales store their largest
            activation=activation, out_scale=float(torch.as_tensor(self.out_scale).float().max().cpu()),
        )


def int_linear(x: torch.Tensor, p: IntLinearParams, hidden: bool) -> torch.Tensor:
    """One integer layer with straight-through gradients: forward the exact requantized integers."""
    acc = x @ p.w_ste.t() + p.b_ste                          # exact integers in float32
    y = requantize(acc.detach().double(), p.mult, p.shift).to(x.dtype)
    m = (p.mult / torch.exp2(p.shift.double())).to(x.dtype)
    z = acc * m
    if hidden:
        # ReLU with saturation: no gradient where the clamp holds
        mask = ((z > 0) & (z < INT_ACT_MAX)).to(x.dtype)
        return y + (z - z.detach()) * mask
    return y + (z - z.detach())


def encoding_terms(cells: list[float], phases: list[float]) -> tuple[list[int], list[int]]:
    """Encoding frequencies in cycles per grid-0 texel (powers of two) and phases (fractions of a
    period) -> integer ``(period_log2, phase)`` terms, frequency-major then phase."""
    periods, offs = [], []
    for c in cells:
        s = -math.log2(c) if c > 0 else float("nan")
        if not (s == round(s) and -7 <= s <= 15):
            raise ValueError(f"exact/hardware decode: encoding frequency {c} cycles per texel must be 2^-s, "
                             f"s integer in [-7, 15]")
        s = int(round(s))
        for p in phases:
            units = p * (1 << (8 + s))
            if units != round(units) or not 0 <= p < 1:
                raise ValueError(f"exact/hardware decode: phase {p} must be in [0, 1) and a multiple of "
                                 f"2^-{8 + s} for frequency {c}")
            periods.append(s)
            offs.append(int(round(units)))
    return periods, offs


def latent_input_scale(bits: int, mode: str) -> float:
    """Real latent value of one integer input step: exact ``2^(bits - 7) / (2^bits - 1)``, hardware 2/254."""
    if mode == "hardware":
        return 2.0 / (2 * INT_INPUT_MAX)
    return 2.0 ** (bits - 7) / ((1 << bits) - 1)
