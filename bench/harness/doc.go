// Command harness measures lambdapack side by side with uv's and pip's
// documented AWS Lambda recipes: for each workload (a pinned requirements file
// under bench/workloads), target (runtime and architecture) and cache mode
// (cold, warm, lock-given) it runs the three ways alternately, several times,
// and reports the median wall time of each, the ratio per pair, CPU time
// (user+sys), peak memory, cache growth (bytes downloaded, where the cache
// keeps downloads as they came), the zip's size, whether the three outputs
// hold the same package versions, and whether they import.
//
// Two more modes: lock resolves the unpinned requirement sets under
// bench/locks alone, cold, with `lambdapack lock` against `uv pip compile`
// (wall, CPU, peak memory, the cache left behind); project builds the
// multi-function project under bench/project cold and warm (lambdapack
// alone). CPU time and peak memory are what to compare on a shared machine:
// its load moves wall times, barely these; every row records the load.
//
// It is run by bench/run.sh, which installs uv and pip into a private
// virtualenv (scripts/setup-pytools.sh) and builds lambdapack from the tree:
//
//	bench/run.sh [--quick] [--repeats N] [--workload NAME] [--mode cold,warm,lock-given,lock,project] [--target T] [--out FILE]
//
// The package index comes from configuration, the way lambdapack finds it
// (internal/index.DiscoverConfig), and all three tools are pointed at it. No
// host name is written to the results: URLs in captured error output are
// redacted.
//
// The harness exits non-zero when any way fails, when the outputs disagree on
// package versions, or when an output does not import, so that quick mode in
// CI (scripts/test.sh) keeps it from rotting.
package main
