#!/usr/bin/env bash
# Prints the path of an `aws` command (the AWS CLI, used by the serve tests
# as a real client of the Lambda Invoke API). Uses the machine's when there
# is one; otherwise installs awscli into a private venv under the test cache
# folder (through pip's own index configuration), once.
set -euo pipefail

if [ -n "${LAMBDAPACK_TEST_AWS:-}" ]; then echo "$LAMBDAPACK_TEST_AWS"; exit 0; fi
if command -v aws >/dev/null 2>&1 && aws --version >/dev/null 2>&1; then
  command -v aws; exit 0
fi
cache="${LAMBDAPACK_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lambdapack-test}"
venv="$cache/awscli-venv"
mkdir -p "$cache"
exec 9>"$cache/awscli-venv.lock"
command -v flock >/dev/null 2>&1 && flock 9
if [ -f "$venv/.complete" ] && "$venv/bin/aws" --version >/dev/null 2>&1; then
  echo "$venv/bin/aws"; exit 0
fi
command -v python3 >/dev/null 2>&1 || { echo "setup-awscli: no python3 on PATH to create a venv with" >&2; exit 1; }
echo "setup-awscli: installing awscli into $venv" >&2
rm -rf "$venv"
python3 -m venv "$venv" >&2
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check awscli >&2
"$venv/bin/aws" --version >&2
touch "$venv/.complete"
echo "$venv/bin/aws"
