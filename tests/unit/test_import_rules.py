"""The import rules of docs/architecture.md, checked over every module of the three folders (ngsdk/, exporters/
as ngsdk.exporters, runtime_ref/ as ngsdk.runtime_ref): which layer may import which, where torch may be
imported, and no import circle. Every ``import`` counts, also inside functions: a lazy import still runs."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

from ngsdk import kinds

REPO = Path(__file__).resolve().parents[2]
FOLDERS = {"ngsdk": REPO / "ngsdk", "ngsdk.exporters": REPO / "exporters", "ngsdk.runtime_ref": REPO / "runtime_ref"}
TORCH = {"torch", "torchvision", "torchaudio", "torchao", "triton", "executorch"}

ALLOWED = {  # layer -> the ngsdk layers its modules may import
    "registry": set(),
    "shared": {"shared"},
    "asset": {"asset", "registry", "shared"},
    "runtime_ref": {"runtime_ref", "asset", "registry", "shared"},
    "exporters": {"exporters", "asset", "registry", "shared", "use case (torch-free)"},
    "use case": {"use case", "use case (torch-free)", "asset", "runtime_ref", "exporters", "registry", "shared"},
    "verify": {"verify", "asset", "runtime_ref", "registry", "shared", "use case (torch-free)"},
    "cli": {"cli", "verify", "use case", "use case (torch-free)", "asset", "runtime_ref", "exporters", "registry",
            "shared"},
}
TORCH_FREE = {"registry", "shared", "asset", "runtime_ref", "verify"}
"""Layers that never import torch, directly or through another module (``ngsdk verify`` runs on numpy alone)."""


def _modules() -> dict[str, Path]:
    out = {}
    for name, folder in FOLDERS.items():
        for path in folder.rglob("*.py"):
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join([name, *parts])] = path
    return out


MODULES = _modules()


def _targets(module: str, node: ast.Import | ast.ImportFrom) -> list[str]:
    """The modules (ours: the longest known prefix; others: the top-level name) an import statement names."""
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    else:
        base = node.module or ""
        if node.level:
            package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
            for _ in range(node.level - 1):
                package = package.rpartition(".")[0]
            base = f"{package}.{base}" if base else package
        names = [f"{base}.{a.name}" for a in node.names]
    out = []
    for name in names:
        if name.split(".")[0] != "ngsdk":
            out.append(name.split(".")[0])
            continue
        while name not in MODULES and "." in name:
            name = name.rpartition(".")[0]
        out.append(name)
    return out


def _runs_at_import(tree: ast.Module):  # noqa: ANN202 - an iterator of nodes
    """The nodes outside function bodies (module body, class bodies, if/try blocks)."""
    todo: list[ast.AST] = list(tree.body)
    while todo:
        node = todo.pop()
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            yield node
            todo.extend(ast.iter_child_nodes(node))


@cache
def _imports(module: str, top_level: bool) -> frozenset[str]:
    """Everything ``module`` imports (``top_level``: only what runs when it is imported, not inside functions)."""
    tree = ast.parse(MODULES[module].read_text(), str(MODULES[module]))
    nodes = list(_runs_at_import(tree) if top_level else ast.walk(tree))
    found = {t for n in nodes if isinstance(n, (ast.Import, ast.ImportFrom)) for t in _targets(module, n)}
    return frozenset(found - {module})


@cache
def needs_torch(module: str) -> bool:
    """Whether importing ``module`` imports torch (itself or through the modules it imports at import time)."""
    deps = _imports(module, top_level=True)
    return bool(deps & TORCH) or any(needs_torch(d) for d in deps if d in MODULES)


def layer(module: str) -> str:
    if module == "ngsdk.kinds":
        return "registry"
    if module in ("ngsdk", "ngsdk.toolchain", "ngsdk.metrics"):
        return "shared"
    for prefix, name in (("ngsdk.asset", "asset"), ("ngsdk.runtime_ref", "runtime_ref"),
                         ("ngsdk.exporters", "exporters"), ("ngsdk.verify", "verify"), ("ngsdk.cli", "cli"),
                         ("ngsdk.__main__", "cli")):
        if module == prefix or module.startswith(prefix + "."):
            return name
    # ngsdk.textures, ngsdk.volumes, ngsdk.shading, ngsdk.training and every new use-case package
    return "use case" if needs_torch(module) else "use case (torch-free)"


def test_every_folder_has_modules() -> None:
    assert {layer(m) for m in MODULES} >= set(ALLOWED) - {"use case (torch-free)"}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_layers_import_only_what_the_table_allows(module: str) -> None:
    own = layer(module)
    own = "use case" if own.startswith("use case") else own
    bad = sorted(f"{t} ({layer(t)})" for t in _imports(module, top_level=False)
                 if t in MODULES and layer(t) not in ALLOWED[own] | {own})
    assert not bad, f"{module} ({own}) imports {', '.join(bad)}: not allowed by docs/architecture.md"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if layer(m) in TORCH_FREE))
def test_torch_free_layers_never_reach_torch(module: str) -> None:
    deps = _imports(module, top_level=False)
    bad = sorted(deps & TORCH) + sorted(d for d in deps if d in MODULES and needs_torch(d))
    assert not bad, f"{module} ({layer(module)}) reaches torch through {', '.join(bad)}"


def test_torch_at_import_only_in_use_cases_and_graph_builders() -> None:
    """The CLI imports torch only inside the commands that train or export; in exporters only the kinds' graph
    builders (ngsdk.kinds ``graphs``) import it when loaded."""
    graph_builders = {k.graphs.partition(":")[0] for k in kinds.KINDS if k.graphs}
    bad = sorted(m for m in MODULES if needs_torch(m) and not layer(m).startswith("use case")
                 and m not in graph_builders)
    assert not bad, f"modules that import torch when imported: {bad}"


def test_no_import_circles() -> None:
    """Tarjan's strongly connected components over every import (lazy ones included)."""
    graph = {m: sorted(t for t in _imports(m, top_level=False) if t in MODULES) for m in MODULES}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    assert not circles, f"import circles: {circles}"


def test_the_registry_names_modules_that_exist() -> None:
    for kind in kinds.KINDS:
        for part in ("codec", "load", "write", "verify", "codes", "inspect", "graphs", "decode", "train"):
            path = getattr(kind, part)
            if path is not None:
                assert path.partition(":")[0] in MODULES, f"{kind.name}.{part}: {path}"
