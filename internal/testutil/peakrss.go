package testutil

import (
	"os"
	"strconv"
	"strings"
)

// PeakRSS is this process's peak resident memory in bytes: the kernel's
// high-water mark (VmHWM in /proc/self/status), or -1 when it cannot be
// read. A test that bounds a child's memory has the child report this
// rather than reading ru_maxrss from wait4: Linux starts a child's maxrss
// at the parent's peak when it execs from a vfork (as os/exec does), so
// the parent's own allocations would be counted.
func PeakRSS() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return -1
			}
			return kb << 10
		}
	}
	return -1
}
