#!/usr/bin/env bash
# Benchmarks lambdapack against uv's and pip's documented Lambda recipes.
#   bench/run.sh [--quick] [--repeats N] [--workload NAME] [--mode M] [--target T] [--out FILE] [--keep]
#                [--baseline BIN]   (compare with another lambdapack build, interleaved, instead of uv and pip)
# Full mode writes bench/results/<date>-<mode>.md; --quick (CI) runs one
# workload, target and mode once, writes to a temp folder, prints the table and
# fails if any way fails or the outputs disagree.
set -euo pipefail
cd "$(dirname "$0")/.."
tools=$(scripts/setup-pytools.sh)
bin=$(mktemp -d "${TMPDIR:-/tmp}/lambdapack-bench-bin-XXXXXX")
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/lambdapack" ./cmd/lambdapack
go build -o "$bin/harness" ./bench/harness
"$bin/harness" --lambdapack "$bin/lambdapack" --tools "$tools" --root . "$@"
