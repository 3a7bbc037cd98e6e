#!/usr/bin/env bash
# Installs the differential tests' oracle, pypa/packaging at a pinned version,
# into a private virtualenv under the test cache (through pip's own index
# configuration), idempotently, and prints that virtualenv's python.
# The pin is the version the tests agree with: change it here, run
# `go test ./internal/pep440 -run Differential`, and fix what differs.
set -euo pipefail
pin="packaging==26.4"
cache="${LAMBDAPACK_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lambdapack-test}"
venv="$cache/oracle-${pin/==/-}"
mkdir -p "$cache"
# One installer at a time; the venv is used only once .complete is written,
# so an interrupted install is redone rather than half-used.
exec 9>"$venv.lock"
command -v flock >/dev/null 2>&1 && flock 9
if [ ! -f "$venv/.complete" ]; then
  py=""
  for c in "$HOME"/.pyenv/versions/3.11.*/bin/python python3.11 python3; do
    if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import venv, ensurepip' >/dev/null 2>&1; then py=$(command -v "$c"); break; fi
  done
  [ -n "$py" ] || { echo "setup-packaging: no python3 with venv and ensurepip found" >&2; exit 1; }
  echo "setup-packaging: installing $pin into $venv" >&2
  rm -rf "$venv"
  "$py" -m venv "$venv" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$pin" >&2
  "$venv/bin/python" -c "import packaging, sys; sys.exit(packaging.__version__ != '${pin#*==}')"
  touch "$venv/.complete"
fi
echo "$venv/bin/python"
