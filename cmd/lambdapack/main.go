// Command lambdapack turns Python dependencies and code into AWS Lambda
// artifacts for any Python runtime and architecture, without Docker.
package main

import (
	"fmt"
	"os"
	"runtime/debug"
	"runtime/pprof"

	"github.com/lambdapack/lambdapack/internal/cli"
)

func main() {
	os.Exit(run())
}

func run() int {
	// A soft memory limit keeps peak RSS low on big layers and projects
	// (the GC runs sooner instead of letting the heap double); it never
	// fails an allocation. The largest live heap measured (a nine-artifact
	// project build) is about 50 MB, so 128 MiB leaves room and keeps the
	// process well under 160 MB resident, the budget that lets a 512 MB
	// Lambda function run lambdapack. GOMEMLIMIT overrides it.
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(128 << 20)
	}
	if os.Getenv("GOGC") == "" {
		paceGC()
	}
	// LAMBDAPACK_CPUPROFILE=file writes a CPU profile of the run (for
	// benchmarks: go tool pprof file).
	if p := os.Getenv("LAMBDAPACK_CPUPROFILE"); p != "" {
		f, err := os.Create(p)
		if err != nil {
			fmt.Fprintf(os.Stderr, "lambdapack: LAMBDAPACK_CPUPROFILE: %v\n", err)
			return 2
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(os.Stderr, "lambdapack: LAMBDAPACK_CPUPROFILE: %v\n", err)
			return 2
		}
		defer pprof.StopCPUProfile()
	}
	return cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
}
