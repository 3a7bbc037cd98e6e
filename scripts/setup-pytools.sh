#!/usr/bin/env bash
# Installs the Python tools that tests and benchmarks compare against or take
# lockfiles from (uv, poetry, pip) into a private virtualenv under the test
# cache, idempotently, and prints the virtualenv's bin folder.
set -euo pipefail
tools=(uv==0.13.8 poetry==2.5.1 pip==25.3)
cache="${LAMBDAPACK_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lambdapack-test}"
key=$(printf '%s\n' "${tools[@]}" | sha256sum | cut -c1-12)
venv="$cache/pytools-$key"
if [ ! -f "$venv/.complete" ]; then
  py=""
  for c in python3.12 "$HOME"/.pyenv/versions/3.12.*/bin/python python3; do
    if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import venv' >/dev/null 2>&1; then py=$(command -v "$c"); break; fi
  done
  [ -n "$py" ] || { echo "setup-pytools: no python3 found" >&2; exit 1; }
  rm -rf "$venv"
  mkdir -p "$cache"
  "$py" -m venv "$venv" >&2
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "${tools[@]}" >&2
  touch "$venv/.complete"
fi
echo "$venv/bin"
