"""The ``ngsdk`` command line: train, export, verify, inspect, sample, decode, render.

Each command lives in its own module and imports heavy dependencies (torch, onnx...) only
when it runs, so ``ngsdk inspect`` and ``ngsdk verify`` work with numpy alone.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

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
    "batch": "batch",
    "synth": "synth",
    "infer": "infer",
    "run": "run",
}


def _one_line(e: click.ClickException) -> str:
    """A click usage error as one line, pointing at the command's --help."""
    msg = " ".join(e.format_message().split())
    ctx = getattr(e, "ctx", None)
    if isinstance(e, click.UsageError) and ctx is not None:
        msg += f" (see '{ctx.command_path} --help')"
    return msg


class _LazyGroup(click.Group):
    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        """Click's main, with its usage errors in the one ngsdk error style: ``error: ...`` on stderr."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, False, **extra)
        except click.ClickException as e:
            click.echo(f"error: {_one_line(e)}", err=True)
            sys.exit(e.exit_code)
        except click.exceptions.Abort:
            click.echo("error: interrupted", err=True)
            sys.exit(130)
        except BrokenPipeError:  # `ngsdk inspect B | head`: the reader went away; not an error of ours
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit's flush
            sys.exit(0)
        sys.exit(rv if isinstance(rv, int) else 0)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        module = _COMMANDS.get(name)
        if module is None:
            return None
        return importlib.import_module(f"ngsdk.cli.{module}").command


@click.group("ngsdk", cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "show_default": True})
@click.version_option(__version__, prog_name="ngsdk")
def main() -> None:
    """Train neural graphics assets, export them for engines, and verify them bit for bit.

    \b
    Example:
      ngsdk train texture ngsdk/samples/ground068_512 --out build/ground.ngasset --time-budget 60
      ngsdk export build/ground.ngasset --format dds-npz,onnx,coreml,vgf
      ngsdk verify build/ground.ngasset --source ngsdk/samples/ground068_512 --html build/report.html
    """
