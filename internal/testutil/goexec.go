package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var (
	goExecMu   sync.Mutex
	goExecMade = map[string][]byte{}
)

// GoExecutable returns a real, statically linked Linux ELF executable for
// goarch ("amd64" or "arm64"): a program that exits 0, built with the Go
// toolchain the tests run with (no cgo, nothing fetched). The bytes are
// built once per test process and shared.
func GoExecutable(t testing.TB, goarch string) []byte {
	t.Helper()
	goExecMu.Lock()
	defer goExecMu.Unlock()
	if b, ok := goExecMade[goarch]; ok {
		return b
	}
	b, err := buildGoExecutable(goarch)
	if err != nil {
		t.Fatal(err)
	}
	goExecMade[goarch] = b
	return b
}

func buildGoExecutable(goarch string) ([]byte, error) {
	dir, err := os.MkdirTemp("", "lambdapack-goexec-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	files := map[string]string{
		"go.mod":  "module exe\n\ngo 1.22\n",
		"main.go": "package main\n\nfunc main() {}\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			return nil, err
		}
	}
	out := filepath.Join(dir, "exe")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch,
		"GOFLAGS=", "GOWORK=off", "GOTOOLCHAIN=local", "GOPROXY=off")
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building a %s executable with go build: %v\n%s", goarch, err, b)
	}
	return os.ReadFile(out)
}
