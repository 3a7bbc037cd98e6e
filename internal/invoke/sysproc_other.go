//go:build !linux

package invoke

import "syscall"

// sysProcAttr puts the runtime in its own process group.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
