#!/usr/bin/env bash
# The whole test suite, as CI runs it. Installs what the tests need first
# (Go modules; qemu-user-static and Debian's arm64 CPython for the arm64
# tests, through apt, so it needs root or sudo; the pinned pypa/packaging the
# differential tests compare with, in a venv under the test cache), then runs
# vet, every Go test, each fuzz target briefly, and the benchmark harness in
# quick mode.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== setup"
go mod download
# Node.js runs the Serverless plugin lambdapack build writes (project tests).
command -v node >/dev/null || { apt-get update -qq && apt-get install -y -qq nodejs >/dev/null; }
LAMBDAPACK_TEST_ARM64_ROOT="$(scripts/setup-arm64.sh)"
export LAMBDAPACK_TEST_ARM64_ROOT
LAMBDAPACK_TEST_PACKAGING_PYTHON="$(scripts/setup-packaging.sh)"
export LAMBDAPACK_TEST_PACKAGING_PYTHON
# The serve tests' clients: the aws CLI and curl.
LAMBDAPACK_TEST_AWS="$(scripts/setup-awscli.sh)"
export LAMBDAPACK_TEST_AWS
command -v curl >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl; }
# skopeo and Debian's amd64 CPython for the container-image tests.
LAMBDAPACK_TEST_AMD64_ROOT="$(scripts/setup-image.sh)"
export LAMBDAPACK_TEST_AMD64_ROOT

echo "== vet"
unformatted=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$unformatted" ]; then echo "gofmt would change: $unformatted"; exit 1; fi
go vet ./...
# staticcheck's default checks, pinned; deliberate exceptions carry a
# //lint:ignore with the reason.
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

echo "== test"
go test -count=1 -timeout 60m ./...

echo "== fuzz (${FUZZTIME:=5s} each)"
grep -rl --include='*_test.go' '^func Fuzz' internal | xargs -r -n1 dirname | sort -u | while read -r dir; do
  for f in $(grep -h '^func Fuzz' "$dir"/*_test.go | sed -E 's/^func (Fuzz[A-Za-z0-9_]*).*/\1/'); do
    echo "-- $dir $f"
    # A failing input is saved under $dir/testdata/fuzz and always fails the
    # run. A failure that saved none is the fuzzing engine's own (a worker
    # the loaded machine let hang): its output is shown and the target runs
    # once more.
    log=$(mktemp)
    if ! go test -run='^$' -fuzz="^$f\$" -fuzztime="$FUZZTIME" "./$dir" >"$log" 2>&1; then
      cat "$log"
      if [ -n "$(git status --porcelain -- "$dir/testdata/fuzz")" ]; then rm -f "$log"; exit 1; fi
      echo "-- $dir $f: no failing input saved; running it again"
      go test -run='^$' -fuzz="^$f\$" -fuzztime="$FUZZTIME" "./$dir" || { rm -f "$log"; exit 1; }
    fi
    rm -f "$log"
  done
done

if [ -x bench/run.sh ]; then
  echo "== bench (quick)"
  bench/run.sh --quick
fi
if [ -x bench/image.sh ]; then
  echo "== bench image (quick)"
  bench/image.sh --quick
fi
echo "== all tests passed"
