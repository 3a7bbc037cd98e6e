#!/usr/bin/env bash
# Prints the path of a Python interpreter that can run `python -m moto.server`
# (moto's S3 and Lambda emulator, used by the publish tests). Uses the
# machine's python3 when it has moto with its server extras; otherwise
# creates a private venv under the test cache folder and installs
# moto[server] there (through pip's own index configuration), once.
set -euo pipefail

probe='import moto, moto.server, flask, werkzeug'
if [ -n "${LAMBDAPACK_TEST_MOTO_PYTHON:-}" ]; then
  echo "$LAMBDAPACK_TEST_MOTO_PYTHON"; exit 0
fi
if command -v python3 >/dev/null 2>&1 && python3 -c "$probe" >/dev/null 2>&1; then
  python3 -c 'import sys; print(sys.executable)'; exit 0
fi

cache="${LAMBDAPACK_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lambdapack-test}"
venv="$cache/moto-venv"
mkdir -p "$cache"
# One installer at a time; a venv is only used once its .complete marker is
# written, so an interrupted install is redone rather than half-used.
exec 9>"$cache/moto-venv.lock"
command -v flock >/dev/null 2>&1 && flock 9
if [ -f "$venv/.complete" ] && "$venv/bin/python" -c "$probe" >/dev/null 2>&1; then
  echo "$venv/bin/python"; exit 0
fi
command -v python3 >/dev/null 2>&1 || { echo "setup-moto: no python3 on PATH to create a venv with" >&2; exit 1; }
echo "setup-moto: installing moto[server] into $venv" >&2
rm -rf "$venv"
python3 -m venv "$venv" >&2
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check 'moto[server]' >&2
"$venv/bin/python" -c "$probe"
touch "$venv/.complete"
echo "$venv/bin/python"
