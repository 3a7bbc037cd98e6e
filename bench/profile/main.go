// Command profile runs one lambdapack command in-process under the Go
// profilers, so its time and memory can be read with go tool pprof without a
// hook in the shipped binary:
//
//	go run ./bench/profile -cpuprofile cpu.out -memprofile mem.out -- layer -r bench/workloads/data.txt --runtime python3.11 -o /tmp/l.zip
//	go tool pprof -top cpu.out
//
// -trace writes a runtime trace (go tool trace) too, which shows where the
// wall time goes when the CPU is idle (waiting on the network or the disk).
// -n runs the command that many times in the one process, so that a warm
// run of a few tens of milliseconds gives the CPU profile enough samples
// (what a process pays once, like loading the runtime, is not repeated).
// -heapprofile writes the in-use heap profile (go tool pprof
// -sample_index=inuse_space) taken when the live heap was largest, checked
// every 50ms: what holds the memory at the peak.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"sync/atomic"
	"time"

	"github.com/lambdapack/lambdapack/internal/cli"
)

func main() {
	cpu := flag.String("cpuprofile", "", "write a CPU profile to this file")
	mem := flag.String("memprofile", "", "write a heap profile (allocations) to this file at the end")
	tr := flag.String("trace", "", "write a runtime trace to this file")
	n := flag.Int("n", 1, "run the command this many times")
	heap := flag.String("heapprofile", "", "write the in-use heap profile at the heap's peak to this file")
	rate := flag.Int("memprofilerate", 0, "sample one allocation per this many bytes (runtime.MemProfileRate; default 512 KiB)")
	flag.Parse()
	if *rate > 0 {
		runtime.MemProfileRate = *rate
	}
	if *heap != "" {
		stop := watchHeap(*heap)
		defer stop()
	}
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
	code := 0
	for i := 0; i < *n && code == 0; i++ {
		code = cli.Main(flag.Args(), os.Stdin, os.Stdout, os.Stderr)
	}
	fmt.Fprintf(os.Stderr, "profile: %s took %s (%d runs)\n", flag.Arg(0), time.Since(start).Round(time.Millisecond), *n)
	if *tr != "" {
		trace.Stop()
	}
	if *cpu != "" {
		pprof.StopCPUProfile()
	}
	if *heap != "" {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		fmt.Fprintf(os.Stderr, "profile: live heap peak %d MiB (sys %d MiB)\n", peakHeap.Load()>>20, ms.Sys>>20)
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

var peakHeap atomic.Uint64

// watchHeap collects garbage every 50ms (which slows the run: this is for
// finding what holds memory, not for timing it) and writes the heap
// profile each time the live heap is the largest yet.
func watchHeap(path string) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			runtime.GC()
			runtime.GC() // the heap profile lags a cycle behind
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > peakHeap.Load() {
				peakHeap.Store(ms.HeapAlloc)
				if f, err := os.Create(path); err == nil {
					_ = pprof.Lookup("heap").WriteTo(f, 0)
					f.Close()
				}
			}
		}
	}()
	return func() { close(done); <-finished }
}
