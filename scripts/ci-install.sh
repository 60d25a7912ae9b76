#!/usr/bin/env bash
# Installs the Debian packages that the tests and benchmarks use (Debian's Python with
# scikit-learn, numpy and onnx for reference results and fixtures). Idempotent.
set -euo pipefail
need=()
/usr/bin/python3 -c 'import sklearn, onnx, pandas' 2>/dev/null || need+=(python3-sklearn python3-onnx python3-pandas python3-numpy)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
