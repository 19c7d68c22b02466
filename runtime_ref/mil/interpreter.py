"""Evaluate a Core ML ML Program with NumPy.

Each op's result is rounded to the dtype the program declares for its output (float16 in fp16 programs),
and its shape is checked against the declared shape. An op runtime_ref does not implement, or an op input it
does not know, is an AssetError naming the op before anything runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ngsdk.asset.errors import AssetError
from ngsdk.runtime_ref.mil.ops import OPS, Args, OpArgumentError
from ngsdk.runtime_ref.mil.package import MilPackage, load_mlpackage
from ngsdk.runtime_ref.mil.spec import Function, Operation, TensorType


class UnsupportedOpError(AssetError):
    """The program uses a MIL op (or op input) that ngsdk.runtime_ref.mil cannot evaluate."""


def supported_ops() -> list[str]:
    return sorted([*OPS, "const"])


def _function(pkg: MilPackage, name: str) -> Function:
    if name not in pkg.spec.functions:
        raise AssetError(
            pkg.model_file, f"no function {name!r} in the ML Program (has {sorted(pkg.spec.functions)})"
        )
    fn = pkg.spec.functions[name]
    if fn.opset not in fn.blocks:
        raise AssetError(pkg.model_file, f"function {name!r} has no block for its opset {fn.opset!r}")
    return fn


def check_supported(pkg: MilPackage, function: str = "main") -> None:
    """Raise UnsupportedOpError listing every op (and op input) the interpreter cannot evaluate."""
    problems = []
    for i, o in enumerate(_function(pkg, function).block.operations):
        where = f"op #{i} {o.type!r} (output {o.outputs[0][0] if o.outputs else '?'!r})"
        if o.type == "const":
            if "val" not in o.attributes:
                problems.append(f"{where}: const without a 'val' attribute")
            continue
        if o.has_blocks:
            problems.append(f"{where}: ops with nested blocks (control flow) are not supported")
            continue
        d = OPS.get(o.type)
        if d is None:
            problems.append(f"{where}: unknown MIL op {o.type!r}")
            continue
        extra = sorted(set(o.inputs) - d.params)
        if extra:
            problems.append(f"{where}: inputs {extra} are not implemented for {o.type!r}")
    if problems:
        raise UnsupportedOpError(
            pkg.model_file,
            "ngsdk.runtime_ref.mil cannot evaluate this program: "
            + "; ".join(problems)
            + f". Supported ops: {', '.join(supported_ops())}",
        )


def _round_to(value: Any, ttype: TensorType | None, where: str, model_file: Path) -> np.ndarray:
    arr = np.asarray(value)
    if ttype is None:
        return arr
    dt = ttype.np_dtype
    if dt is None:
        if arr.dtype == object:  # string tensors
            return arr
        raise AssetError(model_file, f"{where}: output type {ttype.describe()} is not a numeric tensor")
    if len(ttype.shape) != arr.ndim or any(
        d is not None and d != s for d, s in zip(ttype.shape, arr.shape, strict=False)
    ):
        raise AssetError(
            model_file, f"{where}: computed shape {list(arr.shape)}, program declares {ttype.describe()}"
        )
    return arr.astype(dt, copy=False)  # ops never write into their inputs, so sharing is safe


def run_program(
    pkg: MilPackage | str | Path,
    inputs: Mapping[str, np.ndarray],
    *,
    function: str = "main",
    keep_intermediates: bool = False,
) -> dict[str, np.ndarray]:
    """Evaluate ``function`` on ``inputs`` (by input name) and return its outputs by name.

    Inputs are converted to the declared input dtype (float -> float16 for an fp16-input program). With
    ``keep_intermediates`` every variable is returned as well.
    """
    if not isinstance(pkg, MilPackage):
        pkg = load_mlpackage(pkg)
    check_supported(pkg, function)
    fn = _function(pkg, function)
    env: dict[str, Any] = {}
    for name, ttype in fn.inputs:
        if name not in inputs:
            raise ValueError(
                f"{pkg.model_file}: input {name!r} not given (program inputs: {[n for n, _ in fn.inputs]})"
            )
        arr = np.asarray(inputs[name])
        if ttype is not None and ttype.np_dtype is not None:
            want = np.dtype(ttype.np_dtype)
            if (arr.dtype.kind == "f") != (want.kind == "f"):
                raise ValueError(
                    f"{pkg.model_file}: input {name!r} needs {ttype.describe()}, got {arr.dtype}"
                )
            arr = arr.astype(want)
        env[name] = _round_to(arr, ttype, f"input {name!r}", pkg.model_file)
    extra = sorted(set(inputs) - {n for n, _ in fn.inputs})
    if extra:
        raise ValueError(f"{pkg.model_file}: unknown inputs {extra}")

    # Free each variable after its last use: whole-mip programs hold several (C, 1024, 1024) tensors.
    dead_after: dict[int, list[str]] = {}
    if not keep_intermediates:
        last: dict[str, int] = {}
        for i, o in enumerate(fn.block.operations):
            for binds in o.inputs.values():
                last.update((b.name, i) for b in binds if b.name is not None)
        keep = set(fn.block.outputs)
        for name, i in last.items():
            if name not in keep:
                dead_after.setdefault(i, []).append(name)
    for i, o in enumerate(fn.block.operations):
        where = f"op #{i} {o.type!r} (output {o.outputs[0][0] if o.outputs else '?'!r})"
        results = _eval(pkg, o, env, where)
        if len(results) != len(o.outputs):
            raise AssetError(
                pkg.model_file, f"{where}: produced {len(results)} outputs, declares {len(o.outputs)}"
            )
        for (name, ttype), r in zip(o.outputs, results, strict=True):
            env[name] = _round_to(r, ttype, where, pkg.model_file)
        for name in dead_after.get(i, ()):
            env.pop(name, None)

    missing = [n for n in fn.block.outputs if n not in env]
    if missing:
        raise AssetError(pkg.model_file, f"block outputs {missing} are never computed")
    out = {n: env[n] for n in fn.block.outputs}
    if keep_intermediates:
        out = {**env, **out}
    return out


def _eval(pkg: MilPackage, o: Operation, env: dict[str, Any], where: str) -> tuple[Any, ...]:
    if o.type == "const":
        return (pkg.const_value(o.attributes["val"], where),)
    values: dict[str, list[Any]] = {}
    for key, binds in o.inputs.items():
        vals = []
        for b in binds:
            if b.name is not None:
                if b.name not in env:
                    raise AssetError(
                        pkg.model_file, f"{where}: input {key!r} refers to undefined variable {b.name!r}"
                    )
                vals.append(env[b.name])
            else:
                assert b.value is not None
                vals.append(pkg.const_value(b.value, f"{where} input {key!r}"))
        values[key] = vals
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            r = OPS[o.type].fn(Args(o.type, values))
    except OpArgumentError as e:
        raise AssetError(pkg.model_file, f"{where}: {e}") from e
    return tuple(r) if isinstance(r, tuple) else (r,)
