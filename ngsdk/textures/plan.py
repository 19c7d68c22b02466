"""Planning the read of a material folder: what each image holds (its channel file entry, else its name) and
the refusals: unsupported formats, unrecognised names, a map that two files provide."""

from __future__ import annotations

import json
from pathlib import Path

from ngsdk.asset.errors import AssetError
from ngsdk.textures.channel_file import CHANNEL_FILE_NAME, INPUT_DOCS, ChannelFile, FileMap
from ngsdk.textures.images import UNSUPPORTED_IMAGE_SUFFIXES
from ngsdk.textures.map_names import guess_map


def plan_files(folder: Path, images: list[Path], spec: ChannelFile | None, notes: list[str]) -> list[FileMap]:
    """Decide what each image holds; raise for unsupported, unrecognised or duplicate files."""
    plans: list[FileMap] = []
    unrecognised: list[str] = []
    ignored: list[str] = []
    for path in images:
        name = path.name
        if spec is not None and name in spec.files:
            plan = spec.files[name]
            if plan is None:
                ignored.append(name)
                continue
        elif spec is not None and spec.unlisted == "ignore":
            ignored.append(name)
            continue
        else:
            try:
                guess = guess_map(name)
            except AssetError as e:
                raise AssetError(path, e.problem) from None
            if guess is None:
                unrecognised.append(name)
                continue
            plan = FileMap(name=name, origin=f"keyword {guess.keyword!r}", semantic=guess.semantic,
                            convention=guess.normal_convention, packed=guess.packed)
            if guess.also:
                what = plan.semantic or "packed " + "/".join(guess.packed or {})
                notes.append(f"{name}: name also contains {', '.join(repr(a) for a in guess.also)}; "
                             f"used the last map keyword {guess.keyword!r} ({what})")
        if path.suffix.lower() in UNSUPPORTED_IMAGE_SUFFIXES:
            raise AssetError(path, UNSUPPORTED_IMAGE_SUFFIXES[path.suffix.lower()])
        plans.append(plan)
    if ignored:
        notes.append(f"ignored as the channel file says: {', '.join(ignored)}")
    if unrecognised:
        example = json.dumps({"files": {unrecognised[0]: "roughness"}})
        raise AssetError(
            folder,
            f"cannot tell which map these files hold: {', '.join(unrecognised)}. Put a map keyword in each "
            "name (albedo/basecolor/color/diffuse, normal/nor_gl/nor_dx, roughness, ao/occlusion, metallic, "
            "specular, displacement/height, opacity/mask, emissive; arm/orm for packed AO+rough+metal) "
            f"or describe them in {CHANNEL_FILE_NAME}, e.g. {example} (use \"ignore\" to skip a file; "
            f"see {INPUT_DOCS})",
        )
    if not plans:
        raise AssetError(folder, "no texture maps left to read: the channel file ignores every image")
    seen: dict[str, FileMap] = {}
    for plan in plans:
        for sem in plan.provides():
            if sem in seen:
                first = seen[sem]
                raise AssetError(
                    folder,
                    f"{sem} comes from two files: {first.name} ({first.origin}) and "
                    f"{plan.name} ({plan.origin}); "
                    f"remove or rename one, or mark one \"ignore\" in {CHANNEL_FILE_NAME} (see {INPUT_DOCS})",
                )
            seen[sem] = plan
    return plans
