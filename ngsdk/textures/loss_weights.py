"""Names a ``--loss-weight NAME=W`` may use, and the check that refuses any other (torch-free).

A weight applies to one channel (``albedo.r``) or to every channel of a texture (``albedo``); the trainer
resolves a channel's weight as its own name's, else its texture's, else 1 (ngsdk.textures.train).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ngsdk.asset.neural_texture import Channel


def loss_weight_names(channels: Sequence[Channel]) -> list[str]:
    """Texture names (semantics) first, then channel names, each once, in channel order."""
    return list(dict.fromkeys([c.semantic for c in channels] + [c.name for c in channels]))


def check_loss_weights(channels: Sequence[Channel], weights: Mapping[str, float]) -> None:
    """Raise ValueError naming every unknown name and listing the valid ones; weights must be >= 0."""
    valid = loss_weight_names(channels)
    unknown = [n for n in weights if n not in valid]
    if unknown:
        raise ValueError(f"unknown loss-weight name{'s' if len(unknown) > 1 else ''} "
                         f"{', '.join(repr(n) for n in unknown)}; this material has: {', '.join(valid)}")
    negative = [f"{n}={w:g}" for n, w in weights.items() if not w >= 0]
    if negative:
        raise ValueError(f"loss weights must be >= 0, got {', '.join(negative)}")
