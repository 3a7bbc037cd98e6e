// Command profile runs one lambdapack command in-process under the Go
// profilers, so its time and memory can be read with go tool pprof without a
// hook in the shipped binary:
//
//	go run ./bench/profile -cpuprofile cpu.out -memprofile mem.out -- layer -r bench/workloads/data.txt --runtime python3.11 -o /tmp/l.zip
//	go tool pprof -top cpu.out
//
// -trace writes a runtime trace (go tool trace) too, which shows where the
// wall time goes when the CPU is idle (waiting on the network or the disk).
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"time"

	"github.com/lambdapack/lambdapack/internal/cli"
)

func main() {
	cpu := flag.String("cpuprofile", "", "write a CPU profile to this file")
	mem := flag.String("memprofile", "", "write a heap profile (allocations) to this file at the end")
	tr := flag.String("trace", "", "write a runtime trace to this file")
	flag.Parse()
	if *cpu != "" {
		f, err := os.Create(*cpu)
		if err != nil {
			fmt.Fprintln(os.Stderr, "profile:", err)
			os.Exit(2)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "profile:", err)
			os.Exit(2)
		}
	}
	if *tr != "" {
		f, err := os.Create(*tr)
		if err != nil {
			fmt.Fprintln(os.Stderr, "profile:", err)
			os.Exit(2)
		}
		defer f.Close()
		if err := trace.Start(f); err != nil {
			fmt.Fprintln(os.Stderr, "profile:", err)
			os.Exit(2)
		}
	}
	start := time.Now()
	code := cli.Main(flag.Args(), os.Stdin, os.Stdout, os.Stderr)
	fmt.Fprintf(os.Stderr, "profile: %s took %s\n", flag.Arg(0), time.Since(start).Round(time.Millisecond))
	if *tr != "" {
		trace.Stop()
	}
	if *cpu != "" {
		pprof.StopCPUProfile()
	}
	if *mem != "" {
		runtime.GC()
		f, err := os.Create(*mem)
		if err == nil {
			_ = pprof.Lookup("allocs").WriteTo(f, 0)
			f.Close()
		}
	}
	os.Exit(code)
}
