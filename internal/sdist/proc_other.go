//go:build !unix

package sdist

import "os/exec"

func setProcessGroup(cmd *exec.Cmd) {}
