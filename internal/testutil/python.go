package testutil

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Python returns the newest pyenv CPython of the minor version ("3.12"),
// failing the test when there is none.
func Python(t testing.TB, minor string) string {
	t.Helper()
	p, err := FindPython(minor)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// FindPython finds the newest CPython of minor ("3.12") under pyenv's
// versions folder ($PYENV_ROOT or ~/.pyenv).
func FindPython(minor string) (string, error) {
	root := os.Getenv("PYENV_ROOT")
	if root == "" {
		home, _ := os.UserHomeDir()
		root = filepath.Join(home, ".pyenv")
	}
	matches, _ := filepath.Glob(filepath.Join(root, "versions", minor+".*", "bin", "python"))
	best, bestPatch := "", -1
	for _, m := range matches {
		ver := filepath.Base(filepath.Dir(filepath.Dir(m)))
		patch, err := strconv.Atoi(strings.TrimPrefix(ver, minor+"."))
		if err != nil {
			continue
		}
		if patch > bestPatch {
			best, bestPatch = m, patch
		}
	}
	if best == "" {
		return "", &exec.Error{Name: "python" + minor, Err: os.ErrNotExist}
	}
	return best, nil
}

var (
	arm64Once sync.Once
	arm64Root string
	arm64Err  error
)

// ARM64Python returns the command prefix that runs Debian 12's arm64 CPython
// 3.11 under qemu-aarch64-static: append "-c", "code" and run it. The root
// comes from LAMBDAPACK_TEST_ARM64_ROOT or from scripts/setup-arm64.sh, which
// installs it on first use.
func ARM64Python(t testing.TB) []string {
	t.Helper()
	arm64Once.Do(func() {
		if r := os.Getenv("LAMBDAPACK_TEST_ARM64_ROOT"); r != "" {
			arm64Root = r
			return
		}
		script := filepath.Join(RepoRoot(t), "scripts", "setup-arm64.sh")
		cmd := exec.Command("bash", script)
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			arm64Err = err
			return
		}
		arm64Root = strings.TrimSpace(string(out))
	})
	if arm64Err != nil {
		t.Fatalf("setting up the arm64 interpreter (scripts/setup-arm64.sh): %v", arm64Err)
	}
	qemu, err := exec.LookPath("qemu-aarch64-static")
	if err != nil {
		t.Fatalf("qemu-aarch64-static: %v (run scripts/setup-arm64.sh)", err)
	}
	return []string{qemu, "-L", arm64Root, filepath.Join(arm64Root, "usr", "bin", "python3.11")}
}

// RunPython runs code with an interpreter (cmd is the command prefix: a
// pyenv python, or qemu plus the arm64 python) with only pythonpath (a
// PATH-style list) on sys.path besides the standard library: -S, no user
// site, no inherited PYTHON* variables. It returns stdout, trimmed, and
// fails the test, with both outputs, on a non-zero exit or after four
// minutes.
func RunPython(t testing.TB, cmd []string, pythonpath, code string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	args := append(append([]string{}, cmd[1:]...), "-S", "-c", code)
	c := exec.CommandContext(ctx, cmd[0], args...)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PYTHON") {
			env = append(env, kv)
		}
	}
	c.Env = append(env, "PYTHONPATH="+pythonpath, "PYTHONNOUSERSITE=1", "PYTHONDONTWRITEBYTECODE=1")
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	if err := c.Run(); err != nil {
		t.Fatalf("%s -S -c %q with PYTHONPATH=%s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(cmd, " "), code, pythonpath, err, stdout.String(), stderr.String())
	}
	return strings.TrimSpace(stdout.String())
}

// RepoRoot returns the repository's top folder (the one holding go.mod).
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's folder")
		}
		dir = parent
	}
}

// PythonMinors lists the CPython minor versions pyenv has here, sorted.
func PythonMinors() []string {
	var out []string
	for _, m := range []string{"3.9", "3.10", "3.11", "3.12", "3.13", "3.14"} {
		if _, err := FindPython(m); err == nil {
			out = append(out, m)
		}
	}
	sort.Strings(out)
	return out
}
