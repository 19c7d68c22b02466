"""``--config FILE`` for the train commands: every option of the command, from a TOML, JSON or YAML file.

The file holds what the command line would (docs/cli.md, "Configuration files"): keys are the option names
without the leading ``--`` (``time-budget``; ``time_budget`` is accepted too), arguments by their name
(``source``), flags as booleans (``tiling = false``, ``no-previews = true``), repeatable options as arrays
(``loss-weight = ["albedo=2"]``, or a table ``[loss-weight]`` of name = weight). Paths are taken as
written, relative to the current folder, as on the command line. Options given on the command line win
over the file. The file is checked against a JSON Schema generated from the command's options
(``config_schema``; shipped as ``ngsdk/cli/schema/train-<usecase>.config.schema.json``), so a mistyped key
or a value of the wrong type is one error naming the file, the key and the valid choices.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from ngsdk.asset.errors import AssetError

SCHEMA_DIR = Path(__file__).with_name("schema")
_SKIP = {"config_file", "help"}


def _key(param: click.Parameter) -> str:
    """The file key of a parameter: its long option name without dashes, or the argument's name."""
    if isinstance(param, click.Option):
        longs = [o for o in param.opts if o.startswith("--")]
        return longs[0][2:] if longs else param.name.replace("_", "-")
    return param.name.replace("_", "-")


def _params(command: click.Command) -> dict[str, click.Parameter]:
    return {_key(p): p for p in command.params if p.name not in _SKIP and p.expose_value}


def _type_schema(param: click.Parameter) -> dict[str, Any]:
    t = param.type
    if isinstance(param, click.Option) and param.is_flag:
        return {"type": "boolean"}
    if isinstance(t, click.Choice):  # numeric choices (--latent-bits 4) may be written as numbers too
        return {"enum": list(t.choices) + [int(c) for c in t.choices if str(c).isdigit()]}
    if isinstance(t, (click.IntRange, click.FloatRange)):
        out: dict[str, Any] = {"type": "integer" if isinstance(t, click.IntRange) else "number"}
        if t.min is not None:
            out["exclusiveMinimum" if t.min_open else "minimum"] = t.min
        if t.max is not None:
            out["exclusiveMaximum" if t.max_open else "maximum"] = t.max
        return out
    if t is click.INT or isinstance(t, type(click.INT)):
        return {"type": "integer"}
    if t is click.FLOAT or isinstance(t, type(click.FLOAT)):
        return {"type": "number"}
    schema = getattr(t, "json_schema", None)  # custom param types describe themselves
    return dict(schema) if schema else {"type": "string"}


def config_schema(command: click.Command, title: str) -> dict[str, Any]:
    """The JSON Schema of ``command``'s config file (every parameter but --config and --help)."""
    props: dict[str, Any] = {}
    for key, p in _params(command).items():
        one = _type_schema(p)
        if getattr(p, "multiple", False):
            one = {"type": "array", "items": one}
            if key == "loss-weight":  # also a table of name = weight
                one = {"anyOf": [one, {"type": "object", "additionalProperties": {"type": "number"}}]}
        help_text = " ".join((getattr(p, "help", None) or "").split())
        if help_text:
            one["description"] = help_text
        props[key] = one
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://ngsdk.dev/schema/{title}.config.schema.json",
        "title": f"ngsdk {title.replace('-', ' ')} --config file",
        "description": "Keys are the command's option names without the leading --; the command line wins over "
                       "the file. See docs/cli.md.",
        "type": "object",
        "additionalProperties": False,
        "properties": props,
    }


def read_config_file(path: str) -> dict[str, Any]:
    """Parse ``path`` (``-``: stdin) as TOML, JSON or YAML by its suffix (stdin: JSON, else TOML)."""
    where = "<stdin>" if path == "-" else path
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise AssetError(where, f"cannot read config file: {e.strerror or e}") from None
    except UnicodeDecodeError as e:
        raise AssetError(where, f"config file is not UTF-8 text ({e.reason} at byte {e.start})") from None
    suffix = Path(path).suffix.lower() if path != "-" else (".json" if text.lstrip().startswith("{") else ".toml")
    try:
        if suffix == ".json":
            data = json.loads(text)
        elif suffix in (".yaml", ".yml"):
            try:
                import yaml
            except ImportError:
                raise AssetError(where, "YAML config files need PyYAML: pip install pyyaml "
                                        "(or write the file as TOML or JSON)") from None
            data = yaml.safe_load(text)
        elif suffix == ".toml":
            if sys.version_info >= (3, 11):
                import tomllib
            else:  # pragma: no cover - Python 3.10
                import tomli as tomllib
            data = tomllib.loads(text)
        else:
            raise AssetError(where, f"unknown config file type {suffix!r}: use .toml, .json, .yaml or .yml")
    except AssetError:
        raise
    except Exception as e:  # noqa: BLE001 - each parser has its own error type; all mean "malformed"
        raise AssetError(where, f"cannot parse config file: {' '.join(str(e).split())}") from None
    if not isinstance(data, dict):
        raise AssetError(where, "config file must hold a table of option = value")
    return data


def config_values(command: click.Command, data: dict[str, Any], where: str, title: str) -> dict[str, Any]:
    """Check ``data`` against the command's schema; return click's ``default_map`` (parameter name -> value)."""
    import jsonschema

    data = {str(k).replace("_", "-"): v for k, v in data.items()}
    params = _params(command)
    unknown = sorted(k for k in data if k not in params)
    if unknown:
        raise AssetError(where, f"unknown option(s) {', '.join(unknown)}; valid: {', '.join(sorted(params))}")
    errors = sorted(jsonschema.Draft202012Validator(config_schema(command, title)).iter_errors(data),
                    key=lambda e: list(e.absolute_path))
    if errors:
        e = errors[0]
        key = "/".join(str(p) for p in e.absolute_path) or "(top level)"
        raise AssetError(where, f"{key}: {e.message}")
    out: dict[str, Any] = {}
    for key, value in data.items():
        p = params[key]
        if key == "loss-weight" and isinstance(value, dict):
            value = [f"{k}={v}" for k, v in value.items()]
        if isinstance(p.type, click.Choice) and not isinstance(value, str):
            value = str(value)
        out[p.name] = tuple(value) if getattr(p, "multiple", False) else value
    return out


def config_option(title: str):  # noqa: ANN201 - a click decorator
    """``--config FILE``: take the command's options from a file (see the module docstring)."""

    def load(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
        if value is None:
            return
        where = "<stdin>" if value == "-" else value
        try:
            values = config_values(ctx.command, read_config_file(value), where, title)
        except AssetError as e:
            raise click.BadParameter(str(e), ctx=ctx, param=param) from None
        ctx.default_map = {**(ctx.default_map or {}), **values}

    return click.option("--config", "config_file", type=click.Path(dir_okay=False, allow_dash=True),
                        is_eager=True, expose_value=False, callback=load,
                        help=f"Take options from a TOML, JSON or YAML file ('-': stdin); the command line wins. "
                             f"Schema: ngsdk/cli/schema/{title}.config.schema.json.")


def toml_lines(values: dict[str, Any]) -> str:
    """``key = value`` lines (TOML) for flat values: strings, numbers, booleans and arrays of them."""

    def fmt(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return repr(v)
        if isinstance(v, (list, tuple)):
            return "[" + ", ".join(fmt(x) for x in v) + "]"
        return json.dumps(str(v))  # a JSON string is a valid TOML basic string

    return "".join(f"{k} = {fmt(v)}\n" for k, v in values.items() if v is not None)


def schema_titles() -> list[str]:
    """The titles of the shipped schemas: ``train-<use case>`` for every ``ngsdk train`` use case."""
    from ngsdk.cli.train import train_modules

    return sorted(f"train-{usecase}" for usecase in train_modules())


def schema_text(title: str) -> str:
    """The shipped schema file's text for ``title`` (``train-texture``...), generated from the command."""
    from ngsdk.cli.train import train_modules

    command = train_modules()[title.removeprefix("train-")].command
    return json.dumps(config_schema(command, title), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":  # python -m ngsdk.cli.config_file: rewrite the shipped schemas after option changes
    from ngsdk.asset.atomic import atomic_write_bytes

    for name in schema_titles():
        atomic_write_bytes(SCHEMA_DIR / f"{name}.config.schema.json", schema_text(name).encode())
        print(SCHEMA_DIR / f"{name}.config.schema.json")
