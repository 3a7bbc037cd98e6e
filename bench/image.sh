#!/usr/bin/env bash
# Benchmarks lambdapack image against lambdapack layer on the data workload
# (see bench/image/main.go): cold builds, the base fetch, and a warm rebuild
# after a code-only change.
#   bench/image.sh [--quick] [--repeats N] [--workload FILE]
# --quick (CI) runs the aws-sdk workload once.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(scripts/setup-image.sh)
bin=$(mktemp -d "${TMPDIR:-/tmp}/lambdapack-bench-image-XXXXXX")
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/lambdapack" ./cmd/lambdapack
args=(-workload bench/workloads/data.txt -repeats 3)
if [ "${1:-}" = --quick ]; then shift; args=(-workload bench/workloads/aws-sdk.txt -repeats 1); fi
go run ./bench/image -lambdapack "$bin/lambdapack" -root "$root" "${args[@]}" "$@"
