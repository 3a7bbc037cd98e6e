package main

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
)

// A short run (a warm build, a lock served from the cache) allocates a few
// tens of megabytes and keeps little: with Go's default pacing it collects
// every 4 to 8 MB, and a third of its CPU goes to the collector. A bigger
// run keeps tens of megabytes live, and then its peak memory is what
// matters. So the collector is paced for a heap goal of at least
// minHeapGoal: while little is live, GOGC is raised so that the goal stays
// there; beyond, GOGC is floorGC, a little below Go's 100, so that the heap
// grows to 1.75 times what is live rather than twice (a cold lock of
// jupyter peaks about 5 MB lower; the soft memory limit bounds the rest).
// The pacing is set again after every collection. A GOGC variable turns
// this off.

const (
	minHeapGoal = 24 << 20
	floorGC     = 75
)

// sentinel is an object whose finalizer runs once per collection.
type sentinel struct{ _ *int }

func paceGC() {
	debug.SetGCPercent(gcPercent(0))
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	var arm func()
	arm = func() {
		runtime.SetFinalizer(&sentinel{}, func(*sentinel) {
			metrics.Read(sample)
			if sample[0].Value.Kind() == metrics.KindUint64 {
				debug.SetGCPercent(gcPercent(sample[0].Value.Uint64()))
			}
			arm()
		})
	}
	arm()
}

// gcPercent is the GOGC that makes the heap goal (live * (1 + GOGC/100))
// at least minHeapGoal, and never less than floorGC. Before the first
// collection (live unknown, 0) the runtime's 4 MB first goal is scaled.
func gcPercent(live uint64) int {
	if live == 0 {
		return minHeapGoal / (4 << 20) * 100
	}
	if live >= minHeapGoal {
		return floorGC
	}
	return int(max(min(minHeapGoal*100/live-100, 1000), floorGC))
}
