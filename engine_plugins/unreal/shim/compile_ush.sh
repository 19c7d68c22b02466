#!/usr/bin/env bash
# Compile the shared decode .ush the way the Unreal plugin uses it, with glslang's HLSL front end:
#   compile_ush.sh INSTALLED_PLUGIN_DIR OUT_DIR
#   compile_ush.sh --repo OUT_DIR      (the plugin's shaders + engine_plugins/shaders, as installed)
# 1. the shared NeuralTextureDecode.ush alone, with the Vulkan sample's includer (a real HLSL compile
#    of the unchanged file);
# 2. the material binding NeuralTextureMaterial.ush inside MaterialHarness.hlsl, shaped like Unreal's
#    generated Custom node code, with the node code of custom_node_2grids.txt spliced in. Unreal's
#    virtual path /Plugin/NeuralGraphics/ is mapped to the plugin's Shaders folder as the
#    NeuralGraphicsCore module does.
# Every SPIR-V module is validated with spirv-val. Writes OUT_DIR/{decode,material}.spv.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
out="$2"
mkdir -p "$out"
if [ "$1" = "--repo" ]; then
  # Assemble the installed Shaders layout from the repository (what install_unreal_plugin.sh copies).
  shaders="$out/shaders_installed"
  rm -rf "$shaders"
  mkdir -p "$shaders/Private/ngsdk"
  cp -R "$root/engine_plugins/unreal/NeuralGraphics/Shaders/." "$shaders/"
  cp "$root"/engine_plugins/shaders/*.ush "$shaders/Private/ngsdk/"
else
  shaders="$1/Shaders"
fi
[ -f "$shaders/Private/ngsdk/NeuralTextureDecode.ush" ] || { echo "$shaders: no installed shared shader" >&2; exit 1; }

glslang() { glslangValidator -V -D -S comp -e main --target-env vulkan1.1 "$@" >"$out/glslang.log" 2>&1 || { cat "$out/glslang.log" >&2; return 1; }; }

glslang -I"$shaders/Private/ngsdk" "$root/engine_plugins/vulkan/shaders/decode_vulkan.hlsl" -o "$out/decode.spv"
spirv-val --target-env vulkan1.1 "$out/decode.spv"
echo "ok: NeuralTextureDecode.ush (Vulkan includer) -> decode.spv"

# Virtual path mapping /Plugin/NeuralGraphics/X -> a copy of the Shaders folder searched with -I
# (glslang resolves include names relative to -I folders, not absolute virtual paths).
rm -rf "$out/src"
mkdir -p "$out/src"
cp -R "$shaders" "$out/src/vfs"
sed -i 's|"/Plugin/NeuralGraphics/|"|' "$out/src/vfs/Private/NeuralGraphics/NeuralTextureMaterial.ush"
cp "$out/src/vfs/Private/NeuralGraphics/NeuralTextureMaterial.ush" "$here/UnrealShim.ush" "$out/src/"
python3 - "$here/MaterialHarness.hlsl" "$here/custom_node_2grids.txt" "$out/src/MaterialHarness.hlsl" <<'PY'
import sys
harness, code, dst = sys.argv[1:]
text = open(harness).read()
body = "".join("    " + line for line in open(code).read().splitlines(True))
assert "// @custom-node-code" in text
open(dst, "w").write(text.replace("// @custom-node-code\n", body))
PY
glslang -I"$out/src" -I"$out/src/vfs" "$out/src/MaterialHarness.hlsl" -o "$out/material.spv"
spirv-val --target-env vulkan1.1 "$out/material.spv"
echo "ok: NeuralTextureMaterial.ush in a Custom node harness -> material.spv"
