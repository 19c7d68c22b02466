"""Environment for running VGF files through the Vulkan ML emulation layer (ai-ml-emulation-layer-for-vulkan).

Debian 12's Vulkan loader (1.3.239) enables explicit layers in the order it discovers their manifests, not in
the order of VK_INSTANCE_LAYERS; the wheel ships both manifests in one folder, so the Tensor layer can end up
above the Graph layer and graph dispatch fails. The workaround: give each manifest its own folder and list the
Graph layer's folder first in VK_LAYER_PATH. The copied manifests point at the wheel's libraries by absolute
path; the library folder also goes on LD_LIBRARY_PATH.

Command line (for shells and CI): ``eval "$(python -m ngsdk.runtime_ref.vgf --dir DIR)"``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shlex
from pathlib import Path

from ngsdk.asset.atomic import atomic_write_bytes
from ngsdk.toolchain import ToolchainError, install_hint

LAYERS = (
    ("graph", "VkLayer_Graph", "VK_LAYER_ML_Graph_Emulation"),
    ("tensor", "VkLayer_Tensor", "VK_LAYER_ML_Tensor_Emulation"),
)
# Mesa's lavapipe ICD on Debian; used to pin the device so results do not depend on which GPU is present.
LAVAPIPE_ICDS = (
    "/usr/share/vulkan/icd.d/lvp_icd.x86_64.json",
    "/usr/share/vulkan/icd.d/lvp_icd.aarch64.json",
)


def emulation_layer_deploy() -> Path:
    """The wheel's ``deploy`` folder (lib/ and share/vulkan/explicit_layer.d/)."""
    spec = importlib.util.find_spec("emulation_layer")
    if spec is None or spec.origin is None:
        raise ToolchainError(
            "Python package 'emulation_layer' is missing; "
            + install_hint("pip package 'ai-ml-emulation-layer-for-vulkan==0.11.0'")
        )
    deploy = Path(spec.origin).parent / "deploy"
    for _, stem, _ in LAYERS:
        for p in (
            deploy / "lib" / f"lib{stem}.so",
            deploy / "share/vulkan/explicit_layer.d" / f"{stem}.json",
        ):
            if not p.is_file():
                raise ToolchainError(
                    f"{p}: emulation layer file missing; reinstall: "
                    + install_hint("pip package 'ai-ml-emulation-layer-for-vulkan==0.11.0'")
                )
    return deploy


def lavapipe_icd() -> Path | None:
    for p in LAVAPIPE_ICDS:
        if Path(p).is_file():
            return Path(p)
    return None


def emulation_layer_env(layer_dir: str | Path, *, lavapipe: bool = True) -> dict[str, str]:
    """Write one-manifest-per-folder copies under ``layer_dir`` and return the variables to add to the
    environment: VK_LAYER_PATH (Graph folder first), VK_INSTANCE_LAYERS, LD_LIBRARY_PATH and, with
    ``lavapipe`` (the default), VK_DRIVER_FILES/VK_ICD_FILENAMES pinning Mesa's CPU driver."""
    deploy = emulation_layer_deploy()
    layer_dir = Path(layer_dir).resolve()
    folders = []
    for sub, stem, _ in LAYERS:
        manifest = json.loads((deploy / "share/vulkan/explicit_layer.d" / f"{stem}.json").read_text())
        manifest["layer"]["library_path"] = str((deploy / "lib" / f"lib{stem}.so").resolve())
        target = layer_dir / sub / f"{stem}.json"
        data = (json.dumps(manifest, indent=2) + "\n").encode()
        if not target.is_file() or target.read_bytes() != data:
            atomic_write_bytes(target, data)
        folders.append(str(target.parent))
    lib = str((deploy / "lib").resolve())
    old_ld = os.environ.get("LD_LIBRARY_PATH", "")
    env = {
        "VK_LAYER_PATH": os.pathsep.join(folders),
        "VK_INSTANCE_LAYERS": ":".join(name for _, _, name in LAYERS),
        "LD_LIBRARY_PATH": lib + (os.pathsep + old_ld if old_ld else ""),
    }
    if lavapipe:
        icd = lavapipe_icd()
        if icd is None:
            raise ToolchainError(
                "lavapipe (Mesa's CPU Vulkan driver) is missing; it comes from apt package 'mesa-vulkan-drivers': "
                "apt-get install mesa-vulkan-drivers libvulkan1"
            )
        env["VK_DRIVER_FILES"] = str(icd)
        env["VK_ICD_FILENAMES"] = str(icd)  # older loaders read only this name
    return env


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Print shell exports for the Vulkan ML emulation layer")
    ap.add_argument(
        "--dir",
        default=os.path.join(os.path.expanduser("~"), ".cache", "ngsdk", "vulkan-layers"),
        help="folder for the per-layer manifest copies",
    )
    ap.add_argument("--any-driver", action="store_true", help="do not pin lavapipe")
    args = ap.parse_args(argv)
    for k, v in emulation_layer_env(args.dir, lavapipe=not args.any_driver).items():
        print(f"export {k}={shlex.quote(v)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
