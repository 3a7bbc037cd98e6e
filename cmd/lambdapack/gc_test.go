package main

import "testing"

// The heap goal, live * (1 + GOGC/100), stays at least minHeapGoal, and
// GOGC is Go's 100 once half of it is live.
func TestGCPercent(t *testing.T) {
	for _, c := range []struct {
		live uint64
		want int
	}{
		{0, 800},         // the runtime's first goal, 4 MB, scaled to 32 MB
		{1 << 10, 1000},  // capped
		{4 << 20, 700},   // 4 MB live: goal 32 MB
		{8 << 20, 300},   // 8 MB live: goal 32 MB
		{16 << 20, 100},  // half the goal live: the default
		{100 << 20, 100}, // big heaps: the default (and the memory limit)
	} {
		if got := gcPercent(c.live); got != c.want {
			t.Errorf("gcPercent(%d) = %d, want %d", c.live, got, c.want)
		}
		if c.live >= 1<<20 && c.live < minHeapGoal/2 {
			if goal := c.live * uint64(100+gcPercent(c.live)) / 100; goal < minHeapGoal {
				t.Errorf("live %d: goal %d below %d", c.live, goal, minHeapGoal)
			}
		}
	}
}
