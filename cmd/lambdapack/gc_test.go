package main

import "testing"

// The heap goal, live * (1 + GOGC/100), stays at least minHeapGoal, and
// GOGC is floorGC once enough is live.
func TestGCPercent(t *testing.T) {
	for _, c := range []struct {
		live uint64
		want int
	}{
		{0, 600},        // the runtime's first goal, 4 MB, scaled to 24 MB
		{1 << 10, 1000}, // capped
		{4 << 20, 500},  // 4 MB live: goal 24 MB
		{8 << 20, 200},  // 8 MB live: goal 24 MB
		{12 << 20, 100}, // half the goal live
		{16 << 20, 75},  // the floor
		{100 << 20, 75}, // big heaps: the floor (and the memory limit)
	} {
		if got := gcPercent(c.live); got != c.want {
			t.Errorf("gcPercent(%d) = %d, want %d", c.live, got, c.want)
		}
		if c.live >= 1<<20 {
			if goal := c.live * uint64(100+gcPercent(c.live)) / 100; goal < minHeapGoal {
				t.Errorf("live %d: goal %d below %d", c.live, goal, minHeapGoal)
			}
		}
	}
}
