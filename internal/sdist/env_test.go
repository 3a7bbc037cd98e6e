package sdist

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lambdapack/lambdapack/internal/testutil"
)

// TestScriptInterpreter: the build environment's scripts (meson's console
// script, for one) run with the environment's python, from a short path
// ("#!" line) and from one too long for the kernel's "#!" line or holding
// a space (the /bin/sh line).
func TestScriptInterpreter(t *testing.T) {
	py := testutil.Python(t, "3.12")
	dir := t.TempDir()
	long := filepath.Join(dir, strings.Repeat("d", 70), strings.Repeat("e", 70), "a python")
	if err := os.MkdirAll(filepath.Dir(long), 0o755); err != nil {
		t.Fatal(err)
	}
	short := filepath.Join(dir, "python")
	for _, p := range []string{short, long} {
		if err := os.Symlink(py, p); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct{ python, first string }{{short, "#!" + short + "\n"}, {long, "#!/bin/sh\n"}} {
		line := scriptInterpreter(c.python)
		if !strings.HasPrefix(line+"\n", c.first) {
			t.Errorf("%s: first line %q, want %q", c.python, line, c.first)
		}
		script := filepath.Join(dir, "script")
		body := line + "\n# -*- coding: utf-8 -*-\nimport sys\nprint(sys.argv[1:], sys.version_info[:2])\n"
		if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(script, "a b", `"$c'`).CombinedOutput()
		if err != nil {
			t.Fatalf("running a script of %s: %v\n%s", c.python, err, out)
		}
		if got, want := strings.TrimSpace(string(out)), `['a b', '"$c\''] (3, 12)`; got != want {
			t.Errorf("%s: got %s, want %s", c.python, got, want)
		}
	}
}
