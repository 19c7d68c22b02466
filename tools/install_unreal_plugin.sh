#!/usr/bin/env bash
# Install the NeuralGraphics Unreal plugin into a project (or any Plugins folder):
#   tools/install_unreal_plugin.sh /path/to/MyProject        -> MyProject/Plugins/NeuralGraphics
#   tools/install_unreal_plugin.sh --plugins-dir /path/Plugins -> /path/Plugins/NeuralGraphics
# The plugin folder in engine_plugins/unreal/NeuralGraphics holds only the Unreal layer; this script
# adds the two shared parts so there is one copy of each in the repository:
#   engine_plugins/common/{include,src}  -> Source/NeuralGraphicsCore/{Public/ngsdk,Private/ngsdk_loader}
#   engine_plugins/shaders/*.ush (+ .hlsl) -> Shaders/Private/ngsdk/
# An existing installed copy is replaced.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
usage() { echo "usage: $0 PROJECT_DIR | --plugins-dir DIR" >&2; exit 2; }
[ $# -ge 1 ] || usage
if [ "$1" = "--plugins-dir" ]; then
  [ $# -eq 2 ] || usage
  plugins="$2"
else
  [ $# -eq 1 ] || usage
  ls "$1"/*.uproject >/dev/null 2>&1 || { echo "$1: no .uproject here (use --plugins-dir for a bare folder)" >&2; exit 1; }
  plugins="$1/Plugins"
fi
src="$root/engine_plugins/unreal/NeuralGraphics"
shaders="$root/engine_plugins/shaders"
[ -d "$shaders" ] || { echo "$shaders: the shared shader source is missing" >&2; exit 1; }
dst="$plugins/NeuralGraphics"
mkdir -p "$plugins"
tmp="$(mktemp -d "$plugins/.NeuralGraphics.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
cp -R "$src/." "$tmp/"
core="$tmp/Source/NeuralGraphicsCore"
mkdir -p "$core/Public/ngsdk" "$core/Private/ngsdk_loader" "$tmp/Shaders/Private/ngsdk"
cp "$root"/engine_plugins/common/include/ngsdk/*.h "$core/Public/ngsdk/"
# The loader minus the PNG writer (tools only), with its private headers.
cp "$root"/engine_plugins/common/src/*.h "$core/Private/ngsdk_loader/"
for f in "$root"/engine_plugins/common/src/*.cpp; do
  [ "$(basename "$f")" = image.cpp ] && continue
  cp "$f" "$core/Private/ngsdk_loader/"
done
rm -f "$core/Public/ngsdk/image.h"
find "$shaders" -maxdepth 1 -type f \( -name '*.ush' -o -name '*.usf' -o -name '*.hlsl' \) -exec cp {} "$tmp/Shaders/Private/ngsdk/" \;
rm -rf "$dst"
mv "$tmp" "$dst"
trap - EXIT
echo "installed NeuralGraphics into $dst"
