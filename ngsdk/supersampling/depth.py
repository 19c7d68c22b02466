"""Forward-Z device depth and FSR2's ``depth_params`` (numpy).

Device depth follows the D3D convention with a [0, 1] depth range: ``d = f / (f - n) * (1 - n / z)``
for view depth ``z`` (near plane -> 0, far plane -> 1); an infinite far plane gives ``d = 1 - n / z``.
``depth_params`` are FSR2's ``deviceToViewDepth`` constants, which the gym stores per frame and its
disocclusion mask reads: view depth ``z = p1 / (d - p0)``, and ``p2 = tan(fovx / 2)``, ``p3 = tan(fovy / 2)``
(``1 / a`` and ``1 / b`` of the projection matrix).
"""

from __future__ import annotations

import numpy as np

FLT_EPSILON = 1e-7
"""FSR2's nudge for infinite projections, kept so the parameters match the gym's converter."""
INFINITE_FAR_STANDIN = 5000.0
"""What the gym's converter stores as ``zFar`` when the capture's far plane is infinite."""


def device_depth(view_z: np.ndarray, z_near: float, z_far: float, infinite: bool = False) -> np.ndarray:
    """Forward-Z device depth of positive view depth ``view_z``."""
    z = np.asarray(view_z, dtype=np.float64)
    if infinite:
        return (1.0 - z_near / z).astype(np.float32)
    return (z_far / (z_far - z_near) * (1.0 - z_near / z)).astype(np.float32)


def depth_params(z_near: np.ndarray, z_far: np.ndarray, fov_y: np.ndarray, width: int, height: int,
                 infinite: np.ndarray) -> np.ndarray:
    """(N, 4) float32 ``deviceToViewDepth`` for forward-Z, as FSR2 (and the gym's converter) derive them."""
    n = np.minimum(z_near, z_far).astype(np.float64)
    f = np.maximum(z_near, z_far).astype(np.float64)
    inf = np.asarray(infinite, dtype=bool)
    q = f / (n - f)
    c = np.where(inf, -1.0 - FLT_EPSILON, q)
    e = np.where(inf, -n - FLT_EPSILON, q * n)
    cot = np.cos(0.5 * fov_y) / np.sin(0.5 * fov_y)
    a = cot / (width / height)
    b = cot
    return np.stack([-c, e, 1.0 / a, 1.0 / b], axis=-1).astype(np.float32)


def view_depth(device: np.ndarray, params: np.ndarray) -> np.ndarray:
    """View depth of device depth under ``params`` (one frame's 4 values)."""
    return params[1] / (device - params[0])
