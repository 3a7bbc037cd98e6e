package invoke

import "syscall"

// rusageBytes is ru_maxrss in bytes (Linux counts it in KiB).
func rusageBytes(ru *syscall.Rusage) int64 { return ru.Maxrss * 1024 }
