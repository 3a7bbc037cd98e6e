//go:build !linux

package invoke

import (
	"runtime"
	"syscall"
)

// rusageBytes is ru_maxrss in bytes (macOS counts it in bytes, the BSDs in
// KiB).
func rusageBytes(ru *syscall.Rusage) int64 {
	if runtime.GOOS == "darwin" {
		return int64(ru.Maxrss)
	}
	return int64(ru.Maxrss) * 1024
}
