package invoke

import "syscall"

// sysProcAttr puts the runtime in its own process group, killed with
// lambdapack if lambdapack dies.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
