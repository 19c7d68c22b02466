"""The C++ loader's manifest checks (engine_plugins/common/src/bundle.cpp) against the Python reader (the JSON
Schemas + the codec), so the hand-written C++ validator cannot drift from the schemas: every constraint of
manifest.schema.json and neural_texture.schema.json is broken in turn (a required field removed, a wrong type,
a value outside its enum, const, bounds or pattern, an extra property where none is allowed) and also every
other value of each enum tried, on bundles of each layout and decode mode; both readers must load each
mutated bundle, or both refuse it.

The schema values the C++ code compares with are generated from the schemas (manifest_schema.h); this test
holds the structure of its checks to the same verdicts.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ngsdk.asset.errors import AssetError
from ngsdk.asset.manifest import MANIFEST_NAME, dump_manifest, load_schema
from ngsdk.asset.types import Decoder
from ngsdk.runtime_ref.neural_texture import load_neural_texture
from tests.fixtures.decode_vectors import tiny_asset, write_vector_bundle

from .engine_build import REPO, cmake_build

Mutation = tuple[str, dict[str, Any]]


@pytest.fixture(scope="module")
def loader_build() -> Path:
    return cmake_build(REPO / "engine_plugins" / "common", "common")


def _bases(root: Path) -> dict[str, Path]:
    """Bundles of every manifest shape: integer and float decoders, grids and pyramid layouts, format 1.x."""
    float_asset = tiny_asset("exact", "wrap", "pyramid")
    float_asset.decoder = Decoder(layers=float_asset.decoder.quantized.float_layers())
    float_asset.decode_mode = "float"
    assets = {"exact-grids": (tiny_asset("exact", "clamp", "grids"), False),
              "exact-pyramid": (tiny_asset("exact", "wrap", "pyramid"), False),
              "hardware-grids": (tiny_asset("hardware", "wrap", "grids"), False),
              "float-pyramid": (float_asset, False),
              "exact-grids-1x": (tiny_asset("exact", "wrap", "grids"), True)}
    return {name: write_vector_bundle(asset, root / f"{name}.ngasset", format_1x=legacy)
            for name, (asset, legacy) in assets.items()}


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    return _resolve(schema, schema["$defs"][ref.rsplit("/", 1)[1]]) if ref else node


def _wrong_type(value: Any) -> Any:
    return "x" if not isinstance(value, str) else 7


def _constraint_breaks(node: dict[str, Any], value: Any) -> Iterator[tuple[str, Any]]:
    """(what, replacement value) for each constraint of ``node`` that ``value`` satisfies."""
    if "type" in node:
        yield "type", _wrong_type(value)
    for option in node.get("enum", []):
        if option != value:
            yield f"enum value {option!r}", option
    if "enum" in node:
        yield "enum", "__bogus__" if isinstance(value, str) or value is None else 3
    if "const" in node:
        const = node["const"]
        yield "const", ("__bogus__" if isinstance(const, str) else const + 1 if isinstance(const, int)
                        else [x + 1 for x in const] if isinstance(const, list) else None)
    if "minimum" in node:
        yield "minimum", node["minimum"] - 1
    if "maximum" in node:
        yield "maximum", node["maximum"] + 1
    if "pattern" in node:
        yield "pattern", "not allowed!"
    if node.get("minItems", 0) >= 1 and isinstance(value, list):
        yield "minItems", []
    if "maxItems" in node and isinstance(value, list) and value:
        yield "maxItems", value + [value[0]] * (node["maxItems"] + 1 - len(value))


def _mutations(schema: dict[str, Any], node: dict[str, Any], manifest: dict[str, Any],
               path: tuple[Any, ...]) -> Iterator[Mutation]:
    node = _resolve(schema, node)
    value = _get(manifest, path)
    for what, replacement in _constraint_breaks(node, value) if path else ():
        yield f"{'/'.join(map(str, path))}: {what}", _set(manifest, path, replacement)
    if isinstance(value, dict):
        for key in node.get("required", []):
            if key in value:
                yield f"{'/'.join(map(str, path + (key,)))}: required", _set(manifest, path + (key,), _DELETE)
        if node.get("additionalProperties") is False:
            yield f"{'/'.join(map(str, path))}: additionalProperties", _set(manifest, path + ("extra",), 1)
        for key, sub in node.get("properties", {}).items():
            if key in value and isinstance(sub, dict):
                yield from _mutations(schema, sub, manifest, path + (key,))
    if isinstance(value, list) and value and isinstance(node.get("items"), dict):
        yield from _mutations(schema, node["items"], manifest, path + (0,))


_DELETE = object()


def _get(obj: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        obj = obj[p]
    return obj


def _set(manifest: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(manifest)
    parent = _get(out, path[:-1])
    if value is _DELETE:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return out


def _python_loads(bundle: Path) -> bool:
    try:
        load_neural_texture(bundle)
        return True
    except AssetError:
        return False


def _cpp_loads(build: Path, bundle: Path) -> bool:
    """Whether ngsdk_decode loads the bundle: ``--info`` prints its line once the loader accepted it (the decode
    of mip 0 after it is refused for the hardware mode, which has no CPU decode)."""
    res = subprocess.run([str(build / "ngsdk_decode"), str(bundle), "--info"], capture_output=True, text=True)
    assert res.returncode in (0, 1), res.stderr  # 1: refused with a one-line error; anything else is a crash
    return res.stdout.startswith("bundle ")


def test_both_readers_give_the_same_verdict(loader_build: Path, tmp_path: Path) -> None:
    schemas = [load_schema("manifest"), load_schema("neural_texture")]
    disagreements, tried = [], 0
    for name, bundle in _bases(tmp_path).items():
        manifest = json.loads((bundle / MANIFEST_NAME).read_text())
        assert _python_loads(bundle) and _cpp_loads(loader_build, bundle), name
        work = tmp_path / f"{name}.work.ngasset"
        shutil.copytree(bundle, work)
        for schema in schemas:
            for label, mutated in _mutations(schema, schema, manifest, ()):
                (work / MANIFEST_NAME).write_bytes(dump_manifest(mutated))
                tried += 1
                python, cpp = _python_loads(work), _cpp_loads(loader_build, work)
                if python != cpp:
                    disagreements.append(f"{name} {label}: Python {'loads' if python else 'refuses'}, "
                                         f"C++ {'loads' if cpp else 'refuses'}")
    assert tried > 500
    assert not disagreements, f"{len(disagreements)} of {tried} mutated manifests:\n" + "\n".join(disagreements)
