"""The ``ngsdk`` command line: train, export, verify, inspect, sample, decode, render.

Each command lives in its own module and imports heavy dependencies (torch, onnx...) only
when it runs, so ``ngsdk inspect`` and ``ngsdk verify`` work with numpy alone.
"""

from __future__ import annotations

import importlib

import click

from ngsdk import __version__

# command name -> module under ngsdk.cli that defines a click command called ``command``
_COMMANDS = {
    "train": "train",
    "export": "export",
    "verify": "verify",
    "inspect": "inspect_cmd",
    "sample": "sample",
    "decode": "decode",
    "render": "render",
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        module = _COMMANDS.get(name)
        if module is None:
            return None
        return importlib.import_module(f"ngsdk.cli.{module}").command


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ngsdk")
def main() -> None:
    """Train neural graphics assets, export them for engines, and verify them bit for bit."""
