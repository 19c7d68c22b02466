"""Neural texture training configuration: rates that follow the decoder's size."""

from __future__ import annotations

import pytest

from ngsdk.textures.config import TextureTrainConfig


@pytest.mark.parametrize(("hidden", "rate"), [(32, 0.005), (64, 0.005), (96, 0.01), (128, 0.01)])
def test_decoder_rate_follows_the_width_unless_given(hidden: int, rate: float) -> None:
    assert TextureTrainConfig(hidden=hidden).resolved_lr_decoder == rate
    assert TextureTrainConfig(hidden=hidden, lr_decoder=0.002).resolved_lr_decoder == 0.002


def test_the_automatic_rate_survives_a_round_trip_through_the_provenance_dict() -> None:
    from dataclasses import asdict

    cfg = TextureTrainConfig.from_dict(asdict(TextureTrainConfig(hidden=128)))
    assert cfg.lr_decoder is None and cfg.resolved_lr_decoder == 0.01
