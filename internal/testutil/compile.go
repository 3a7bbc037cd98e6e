package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// CompileC compiles the C source src with this machine's gcc and flags
// (e.g. "-shared", "-fPIC") and returns what gcc wrote: a shared object or
// an executable for this machine (x86_64 here).
func CompileC(t testing.TB, src string, flags ...string) []byte {
	t.Helper()
	dir := t.TempDir()
	in, out := filepath.Join(dir, "src.c"), filepath.Join(dir, "out")
	if err := os.WriteFile(in, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	args := append(append([]string(nil), flags...), "-o", out, in)
	if b, err := exec.Command("gcc", args...).CombinedOutput(); err != nil {
		t.Fatalf("gcc %v: %v\n%s", args, err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
