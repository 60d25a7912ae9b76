#!/usr/bin/env bash
# Shrinks a production node_modules for the container image (run by the Dockerfile after
# `npm prune --omit=dev`). Removes what a Linux server never loads:
#   - onnxruntime-node binaries for other platforms and architectures (keeps linux/<arch>,
#     CPU only: no CUDA/TensorRT provider libraries);
#   - TensorFlow.js browser bundles (tfjs packages load only dist/*.node.js in Node; the
#     wasm backend also needs its dist/*.wasm files);
#   - core-js, which only tfjs's browser polyfill entry (removed above) imports;
#   - type declarations, source maps, TypeScript build info and @types packages.
# Usage: scripts/prune-node-modules.sh NODE_MODULES_DIR [amd64|arm64|x64]
set -euo pipefail
nm=${1:?usage: prune-node-modules.sh NODE_MODULES_DIR [amd64|arm64]}
arch=${2:-$(node -p process.arch)}
case "$arch" in
  amd64|x64) ort_arch=x64 ;;
  arm64) ort_arch=arm64 ;;
  *) echo "prune-node-modules: unsupported architecture '$arch' (amd64 or arm64)" >&2; exit 2 ;;
esac

ort=$nm/onnxruntime-node/bin
if [ -d "$ort" ]; then
  for dir in "$ort"/napi-v*/*/*; do
    [ "$dir" = "$(dirname "$dir" | xargs dirname)/linux/$ort_arch" ] || rm -rf "$dir"
  done
  find "$ort" -type d -empty -delete
  find "$ort" \( -name '*providers_cuda*' -o -name '*providers_tensorrt*' \) -delete
  ls "$ort"/napi-v*/linux/"$ort_arch"/onnxruntime_binding.node >/dev/null || {
    echo "prune-node-modules: onnxruntime-node has no linux/$ort_arch binding" >&2; exit 1; }
fi

for pkg in "$nm"/@tensorflow/*; do
  [ -d "$pkg/dist" ] || continue
  find "$pkg/dist" -mindepth 1 -maxdepth 1 \
    ! -name '*.node.js' ! -name '*.wasm' -exec rm -rf {} +
  rm -rf "$pkg/src" "$pkg/scripts"
done

rm -rf "$nm"/@types "$nm"/core-js
find "$nm" -type f \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' \
  -o -name '*.tsbuildinfo' -o -iname 'CHANGELOG*' \) -delete
