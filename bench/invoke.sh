#!/usr/bin/env bash
# Benchmarks lambdapack's local invoke and serve (issue 14): warm overhead,
# cold init split, edit -> first response under serve --watch, and
# python-lambda-local (installed from the index into a private venv) on the
# same handler.
#   bench/invoke.sh [--quick] [--out FILE]
set -euo pipefail
cd "$(dirname "$0")/.."
cache="${LAMBDAPACK_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lambdapack-test}"
venv="$cache/python-lambda-local-venv"
if [ ! -f "$venv/.complete" ]; then
  py=""
  for c in "$HOME"/.pyenv/versions/3.12.*/bin/python python3.12 python3; do
    if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import venv' >/dev/null 2>&1; then py=$(command -v "$c"); break; fi
  done
  [ -n "$py" ] || { echo "bench/invoke.sh: no python3 found" >&2; exit 1; }
  rm -rf "$venv"; mkdir -p "$cache"
  "$py" -m venv "$venv" >&2
  "$venv/bin/python" -m pip install -q --disable-pip-version-check python-lambda-local==0.1.13 "setuptools<81" >&2
  touch "$venv/.complete"
fi
bin=$(mktemp -d "${TMPDIR:-/tmp}/lambdapack-invoke-bench-XXXXXX")
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/lambdapack" ./cmd/lambdapack
go build -o "$bin/invoke-bench" ./bench/invoke
"$bin/invoke-bench" --root . --lambdapack "$bin/lambdapack" --lambda-local "$venv/bin/python-lambda-local" \
  --cache-dir "${LAMBDAPACK_CACHE_DIR:-$cache/e2e-cache}" "$@"
