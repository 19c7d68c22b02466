"""Colour maps for the volume renderer: compact anchor tables sampled with linear interpolation.

The perceptual maps (viridis, magma, inferno, plasma) are the ten evenly spaced sRGB anchors that the
viridis colour-map family publishes (R ``viridisLite``: ``viridis(10, option=...)``); ``coolwarm`` is
generated here from Moreland's diverging-map algorithm ("Diverging Color Maps for Scientific
Visualization", 2009: interpolation in the Msh polar form of CIELAB between his published end colours
(59, 76, 192) and (180, 4, 38) through a neutral white of M = 88). ``gray`` is the identity ramp.
Linear interpolation between ten anchors keeps every map within a few 8-bit steps of its full table.
"""

from __future__ import annotations

from functools import cache

import numpy as np

_HEX_ANCHORS = {
    "viridis": "440154 482878 3E4A89 31688E 26828E 1F9E89 35B779 6DCD59 B4DE2C FDE725",
    "magma": "000004 180F3E 451077 721F81 9F2F7F CD4071 F1605D FD9567 FEC98D FCFDBF",
    "inferno": "000004 1B0C42 4B0C6B 781C6D A52C60 CF4446 ED6925 FB9A06 F7D03C FCFFA4",
    "plasma": "0D0887 47039F 7301A8 9C179E BD3786 D8576B ED7953 FA9E3B FDC926 F0F921",
}

NAMES: tuple[str, ...] = ("viridis", "magma", "inferno", "plasma", "gray", "coolwarm")

# CIE D65 reference white (X, Y, Z scaled so Y = 100), the white point of sRGB
_WHITE = np.array([95.047, 100.0, 108.883])
_SRGB_TO_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375],
                         [0.2126729, 0.7151522, 0.0721750],
                         [0.0193339, 0.1191920, 0.9503041]])


def _hex_table(text: str) -> np.ndarray:
    return np.array([[int(h[i:i + 2], 16) for i in (0, 2, 4)] for h in text.split()], dtype=np.float64) / 255.0


def _srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    xyz = (_SRGB_TO_XYZ @ lin) * 100.0 / _WHITE
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def _lab_to_srgb(lab: np.ndarray) -> np.ndarray:
    fy = (lab[0] + 16) / 116
    f = np.array([fy + lab[1] / 500, fy, fy - lab[2] / 200])
    xyz = np.where(f > 6 / 29, f ** 3, 3 * (6 / 29) ** 2 * (f - 4 / 29)) * _WHITE / 100.0
    lin = np.clip(np.linalg.solve(_SRGB_TO_XYZ, xyz), 0.0, 1.0)
    return np.where(lin <= 0.0031308, 12.92 * lin, 1.055 * lin ** (1 / 2.4) - 0.055)


def _to_msh(rgb: np.ndarray) -> tuple[float, float, float]:
    lab = _srgb_to_lab(rgb)
    m = float(np.linalg.norm(lab))
    return m, float(np.arccos(lab[0] / m)), float(np.arctan2(lab[2], lab[1]))


def _from_msh(m: float, s: float, h: float) -> np.ndarray:
    return _lab_to_srgb(np.array([m * np.cos(s), m * np.sin(s) * np.cos(h), m * np.sin(s) * np.sin(h)]))


def _spin_hue(m: float, s: float, h: float, m_unsat: float) -> float:
    # an unsaturated end takes the hue of the saturated one, spun so the path stays perceptually even
    if m >= m_unsat:
        return h
    spin = s * np.sqrt(m_unsat ** 2 - m ** 2) / (m * np.sin(s))
    return h + spin if h > -np.pi / 3 else h - spin


def _diverging(rgb1: np.ndarray, rgb2: np.ndarray, n: int) -> np.ndarray:
    """Moreland's Msh diverging interpolation between two saturated colours, ``n`` evenly spaced stops."""
    msh1, msh2 = _to_msh(rgb1), _to_msh(rgb2)
    m_mid = max(msh1[0], msh2[0], 88.0)
    out = []
    for t in np.linspace(0.0, 1.0, n):
        (m1, s1, h1), (m2, s2, h2) = msh1, msh2
        if t < 0.5:  # first half: from colour 1 to the neutral midpoint
            m2, s2, h2, u = m_mid, 0.0, 0.0, 2 * t
        else:
            m1, s1, h1, u = m_mid, 0.0, 0.0, 2 * t - 1
        if s1 < 0.05 < s2:
            h1 = _spin_hue(m2, s2, h2, m1)
        elif s2 < 0.05 < s1:
            h2 = _spin_hue(m1, s1, h1, m2)
        out.append(_from_msh((1 - u) * m1 + u * m2, (1 - u) * s1 + u * s2, (1 - u) * h1 + u * h2))
    return np.array(out)


@cache
def anchors(name: str) -> np.ndarray:
    """The evenly spaced anchor colours of colour map ``name``: float32 (n, 3) sRGB in [0, 1]."""
    if name in _HEX_ANCHORS:
        table = _hex_table(_HEX_ANCHORS[name])
    elif name == "gray":
        table = np.array([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]])
    elif name == "coolwarm":
        table = _diverging(np.array([59, 76, 192]) / 255.0, np.array([180, 4, 38]) / 255.0, 33)
    else:
        raise ValueError(f"unknown colour map {name!r}; choose one of {', '.join(NAMES)}")
    table = table.astype(np.float32)
    table.setflags(write=False)
    return table


def apply(name: str, values: np.ndarray) -> np.ndarray:
    """Colours of ``values`` (any shape, clipped to [0, 1]): float32 ``values.shape + (3,)`` sRGB in [0, 1]."""
    table = anchors(name)
    v = np.clip(np.asarray(values, dtype=np.float32), 0.0, 1.0)
    x = v * np.float32(len(table) - 1)
    i0 = np.minimum(x.astype(np.int32), len(table) - 2)
    w = (x - i0)[..., None]
    return table[i0] * (1 - w) + table[i0 + 1] * w


def lut(name: str, n: int = 256) -> np.ndarray:
    """An ``n``-entry uint8 (n, 3) table of the colour map (for colour bars and shaders)."""
    return np.round(apply(name, np.linspace(0.0, 1.0, n, dtype=np.float32)) * 255).astype(np.uint8)
