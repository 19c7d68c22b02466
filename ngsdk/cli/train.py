"""``ngsdk train <usecase>``: fit a model to data and write an asset bundle."""

from __future__ import annotations

import importlib

import click

# use case -> module under ngsdk.cli defining a click command called ``command``
_USECASES = {"texture": "train_texture", "shading": "train_shading", "volume": "train_volume"}


class _UseCases(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_USECASES)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        mod = _USECASES.get(name)
        return None if mod is None else importlib.import_module(f"ngsdk.cli.{mod}").command


@click.group(cls=_UseCases)
def command() -> None:
    """Train a neural graphics model (texture, shading, volume) and write an .ngasset bundle.

    \b
    Example:
      ngsdk train texture ngsdk/samples/ground068_512 --out build/ground.ngasset --time-budget 60
    """
