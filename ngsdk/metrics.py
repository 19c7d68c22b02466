"""Quality metrics shared by every use case (numpy-free, torch-free)."""

from __future__ import annotations

import math


def psnr(mse: float, peak: float = 1.0) -> float:
    """PSNR in dB of a signal with range ``peak``; 99 dB caps a perfect match so JSON stays finite."""
    if peak <= 0 or mse <= 1e-10 * peak * peak:
        return 99.0
    return 10.0 * math.log10(peak * peak / mse)
