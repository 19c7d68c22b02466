"""``ngsdk train <usecase>``: fit a model to data and write an asset bundle.

The use cases are those of the kinds in ``ngsdk.kinds`` that have a ``train`` module: its click ``command``
is named by the use case (``texture``, ``volume``, ``shading``).
"""

from __future__ import annotations

from types import ModuleType

import click

from ngsdk import kinds


def train_modules() -> dict[str, ModuleType]:
    """Use case -> the CLI module of ``ngsdk train <use case>`` (``command``, ``REPLAY``, ``default_config``)."""
    modules = (k.part("train") for k in kinds.KINDS if k.train is not None)
    return {m.command.name: m for m in modules}


class _UseCases(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(train_modules())

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        module = train_modules().get(name)
        return None if module is None else module.command


@click.group(cls=_UseCases)
def command() -> None:
    """Train a neural graphics model (texture, shading, volume) and write an .ngasset bundle.

    \b
    Example:
      ngsdk train texture ngsdk/samples/ground068_512 --out build/ground.ngasset --time-budget 60
    """
