//go:build unix

package sdist

import (
	"os/exec"
	"syscall"
)

// setProcessGroup runs the build in its own process group, so that a
// timeout stops the compilers and scripts it started too.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		if cmd.Process == nil {
			return nil
		}
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
