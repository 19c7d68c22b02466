"""The kind registry: where each asset kind's parts live. The manifest reader, the CLI commands and verify
dispatch on a manifest's ``kind`` through this table, never through if-chains of their own.

Each part is named by its import path (``module`` or ``module:attribute``) and imported when first asked
for. This module imports nothing of ngsdk, so every layer may read it; a layer resolves only parts of its
own layer or below (the manifest reader the codec, ``ngsdk export`` the loader and writers), which keeps
``ngsdk verify`` free of torch. Adding a kind means writing its modules and adding one entry to ``KINDS``
(docs/architecture.md, "Adding an asset kind").
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Literal

Part = Literal["codec", "load", "write", "graphs", "verify", "codes", "inspect", "decode", "train"]


@dataclass(frozen=True)
class Kind:
    """One asset kind and its parts, by import path; optional parts are None when the kind has none."""

    name: str
    """The manifest's ``kind`` (and the name of its schema, ``ngsdk/asset/schema/<name>.schema.json``)."""
    title: str
    """For messages: ``neural texture``."""
    codec: str
    """Module implementing ``ngsdk.asset.codec.KindCodec``: types, versions, manifest mapping."""
    load: str
    """``(bundle, manifest=None) -> asset`` (ngsdk.runtime_ref, numpy only)."""
    write: str
    """``(asset, out) -> manifest``: the bundle writer (ngsdk.exporters, on ``ngsdk.exporters.bundle``)."""
    verify: str
    """``(bundle, source=None, *, manifest, min_psnr, previews, log, progress, context, exports, **options)
    -> Report``: every check of the kind, then its graph exports; the keyword options it takes beyond these are
    the ``ngsdk verify`` options that apply to the kind."""
    codes: str
    """Module of the kind's verify codes (``ngsdk.verify.catalog``)."""
    inspect: str
    """``(manifest) -> list[str]``: the kind's lines of ``ngsdk inspect``."""
    graphs: str | None = None
    """``(asset, folder, formats, *, precision, calibration, opset, **options) -> [GraphExport]``."""
    decode: str | None = None
    """``(bundle, manifest, out, *, mode, **options)``: ``ngsdk decode`` for the kind."""
    train: str | None = None
    """CLI module of ``ngsdk train <use case>``: ``command`` (a click command named by the use case),
    ``REPLAY`` (config field -> option) and ``default_config()``."""

    def part(self, part: Part) -> Any:
        """Import and return a part (a module, or the attribute after ``:``); LookupError if the kind has none."""
        path = getattr(self, part)
        if path is None:
            raise LookupError(f"{self.title} bundles have no {part} (ngsdk.kinds)")
        module, _, attr = path.partition(":")
        loaded = importlib.import_module(module)
        return getattr(loaded, attr) if attr else loaded


KINDS: tuple[Kind, ...] = (
    Kind("neural_texture", "neural texture", codec="ngsdk.asset.neural_texture",
         load="ngsdk.runtime_ref.neural_texture:load_neural_texture",
         write="ngsdk.exporters.neural_texture:write_neural_texture",
         verify="ngsdk.verify.neural_texture:verify_neural_texture", codes="ngsdk.verify.catalog.neural_texture",
         inspect="ngsdk.cli.kinds.neural_texture:describe", graphs="ngsdk.exporters.graph.neural_texture:export_graphs",
         decode="ngsdk.cli.kinds.neural_texture:decode", train="ngsdk.cli.train_texture"),
    Kind("neural_volume", "neural volume", codec="ngsdk.asset.neural_volume",
         load="ngsdk.runtime_ref.neural_volume:load_neural_volume",
         write="ngsdk.exporters.neural_volume:write_neural_volume",
         verify="ngsdk.verify.neural_volume:verify_neural_volume", codes="ngsdk.verify.catalog.neural_volume",
         inspect="ngsdk.cli.kinds.neural_volume:describe", graphs="ngsdk.exporters.graph.neural_volume:export_graphs",
         decode="ngsdk.cli.kinds.neural_volume:decode", train="ngsdk.cli.train_volume"),
    Kind("shading_mlp", "shading MLP", codec="ngsdk.asset.shading_mlp",
         load="ngsdk.runtime_ref.shading_mlp:load_shading_mlp",
         write="ngsdk.exporters.shading_mlp:write_shading_mlp",
         verify="ngsdk.verify.shading_mlp:verify_shading_mlp", codes="ngsdk.verify.catalog.shading_mlp",
         inspect="ngsdk.cli.kinds.shading_mlp:describe", graphs="ngsdk.exporters.graph.shading_mlp:export_graphs",
         train="ngsdk.cli.train_shading"),
    Kind("supersampling", "super sampling", codec="ngsdk.asset.supersampling",
         load="ngsdk.runtime_ref.supersampling:load_supersampling",
         write="ngsdk.exporters.supersampling:write_supersampling",
         verify="ngsdk.verify.supersampling:verify_supersampling", codes="ngsdk.verify.catalog.supersampling",
         inspect="ngsdk.cli.kinds.supersampling:describe", graphs="ngsdk.exporters.graph.supersampling:export_graphs",
         train="ngsdk.cli.train_supersampling"),
    # graphs: the network is the use case's torch module (ngsdk.pbr.bundle), the formats are
    # ngsdk.exporters.graph.pbr_reconstruction's
    Kind("pbr_reconstruction", "PBR reconstruction network", codec="ngsdk.asset.pbr_reconstruction",
         load="ngsdk.runtime_ref.pbr_reconstruction:load_pbr_reconstruction",
         write="ngsdk.exporters.pbr_reconstruction:write_pbr_reconstruction",
         verify="ngsdk.verify.pbr_reconstruction:verify_pbr_reconstruction",
         codes="ngsdk.verify.catalog.pbr_reconstruction", inspect="ngsdk.cli.kinds.pbr_reconstruction:describe",
         graphs="ngsdk.pbr.bundle:export_graphs", train="ngsdk.cli.train_pbr"),
)


def get(name: str) -> Kind:
    """The kind called ``name``; LookupError naming the known kinds otherwise."""
    for kind in KINDS:
        if kind.name == name:
            return kind
    raise LookupError(f"unknown asset kind {name!r} (this ngsdk knows {', '.join(k.name for k in KINDS)})")


def of(manifest: dict[str, Any]) -> Kind:
    """The kind of a (validated) manifest."""
    return get(manifest["kind"])
