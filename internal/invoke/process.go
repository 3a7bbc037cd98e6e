package invoke

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// process is one runtime process, in its own process group. Kill stops the
// group and every process that still carries the process's
// AWS_LAMBDA_RUNTIME_API in its environment (a child that left the group
// with setsid), so nothing the function started outlives it.
type process struct {
	cmd *exec.Cmd
	tag string // "AWS_LAMBDA_RUNTIME_API=host:port": unique to this process

	mu     sync.Mutex
	maxRSS int64
	exited bool
}

func startProcess(argv, env []string, dir string, out *os.File, tag string) (*process, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &process{cmd: cmd, tag: tag}, nil
}

func (p *process) Wait() error {
	err := p.cmd.Wait()
	p.mu.Lock()
	p.exited = true
	p.mu.Unlock()
	// Whatever the function started dies with it.
	p.killTagged()
	return err
}

func (p *process) Kill() {
	pid := p.cmd.Process.Pid
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	_ = p.cmd.Process.Kill()
	p.killTagged()
}

// killTagged kills the processes whose environment carries the tag, and
// their groups.
func (p *process) killTagged() {
	if p.tag == "" {
		return
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return
	}
	self := os.Getpid()
	tag := []byte(p.tag + "\x00")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil || !bytes.Contains(env, tag) {
			continue
		}
		if pgid, err := syscall.Getpgid(pid); err == nil && pgid > 1 && pgid != syscall.Getpgrp() {
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
		}
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// MaxRSS reads the process's peak resident memory (VmHWM) and remembers the
// highest reading.
func (p *process) MaxRSS() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.exited {
		// The kernel's account of the process's peak, read when it was
		// reaped.
		if ru, ok := p.cmd.ProcessState.SysUsage().(*syscall.Rusage); ok && ru != nil && rusageBytes(ru) > p.maxRSS {
			p.maxRSS = rusageBytes(ru)
		}
		return p.maxRSS
	}
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(p.cmd.Process.Pid), "status"))
	if err != nil {
		return p.maxRSS
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "VmHWM:" {
			if kb, err := strconv.ParseInt(f[1], 10, 64); err == nil && kb*1024 > p.maxRSS {
				p.maxRSS = kb * 1024
			}
		}
	}
	return p.maxRSS
}
