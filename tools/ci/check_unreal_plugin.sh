#!/usr/bin/env bash
# Check the Unreal plugin without Unreal (CI): tools/ci/check_unreal_plugin.sh [WORK_DIR]
#   1. NeuralGraphics.uplugin is valid JSON with a Runtime and an Editor module, and every module it
#      lists has a Build.cs (and the reverse);
#   2. tools/install_unreal_plugin.sh produces a plugin whose loader sources compile as Unreal sees
#      them (each translation unit on its own, C++20, warnings as errors);
#   3. the shared decode .ush, as the material path includes it, compiles to SPIR-V with glslang's
#      HLSL front end through engine_plugins/unreal/shim (the Unreal macros it uses) and validates.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="${1:-$(mktemp -d)}"
mkdir -p "$work"
plugin="$root/engine_plugins/unreal/NeuralGraphics"
say() { printf '== unreal: %s\n' "$*"; }

say "uplugin and modules"
python3 - "$plugin" <<'PY'
import json, pathlib, sys
plugin = pathlib.Path(sys.argv[1])
desc = json.loads((plugin / "NeuralGraphics.uplugin").read_text())
mods = {m["Name"]: m for m in desc["Modules"]}
types = {m["Type"] for m in mods.values()}
assert "Runtime" in types and "Editor" in types, f"needs Runtime and Editor modules, has {types}"
on_disk = {p.parent.name for p in (plugin / "Source").glob("*/*.Build.cs")}
assert on_disk == set(mods), f"modules in .uplugin {sorted(mods)} differ from Build.cs files {sorted(on_disk)}"
for name in mods:
    assert (plugin / "Source" / name / f"{name}.Build.cs").is_file(), name
print("ok:", ", ".join(f"{n} ({m['Type']}, {m.get('LoadingPhase', 'Default')})" for n, m in mods.items()))
PY

say "installed copy: loader sources compile one by one"
rm -rf "$work/Plugins"
bash "$root/tools/install_unreal_plugin.sh" --plugins-dir "$work/Plugins" >/dev/null
core="$work/Plugins/NeuralGraphics/Source/NeuralGraphicsCore"
n=0
for f in "$core"/Private/ngsdk_loader/*.cpp; do
  g++ -std=c++20 -fsyntax-only -Wall -Wextra -Wshadow -Werror -fno-exceptions -DNGSDK_HAVE_ZLIB=1 \
      -I"$core/Public" "$f"
  n=$((n + 1))
done
echo "ok: $n loader translation units"

say "shared .ush through the Unreal shim"
bash "$root/engine_plugins/unreal/shim/compile_ush.sh" "$work/Plugins/NeuralGraphics" "$work/spirv"
say "plugin checks passed"
