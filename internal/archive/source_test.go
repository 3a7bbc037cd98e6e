package archive

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMatchGlobs(t *testing.T) {
	globs := []string{"*.pyc", "__pycache__", "pkg/*/tests", "/docs/"}
	for p, want := range map[string]bool{
		"a.pyc": true, "x/y/z.pyc": true, "x/__pycache__/m.py": true, "pkg/sub/tests/t.py": true,
		"pkg/sub/tests": true, "docs/index.md": true, "a.py": false, "pkg/tests/t.py": false,
		"other/pkg/sub/tests/t.py": false, "mydocs/x": false,
	} {
		if got := MatchGlobs(globs, p); got != want {
			t.Errorf("MatchGlobs(%q) = %v, want %v", p, got, want)
		}
	}
	if CheckGlobs([]string{"[bad"}) == nil {
		t.Error("malformed glob accepted")
	}
}

func TestSourceEntries(t *testing.T) {
	src := t.TempDir()
	write := func(rel, data string, mode os.FileMode) {
		p := filepath.Join(src, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(data), mode); err != nil {
			t.Fatal(err)
		}
	}
	write("handler.py", "def handler(e, c): return 1\n", 0o600)
	write("lib/util.py", "X = 1\n", 0o644)
	write("lib/run.sh", "#!/bin/sh\n", 0o755)
	write("lib/__pycache__/util.cpython-312.pyc", "junk", 0o644)
	write(".git/config", "x", 0o644)
	write(".venv/bin/python", "x", 0o755)
	write("tests/test_handler.py", "x", 0o644)
	write("notes.md", "x", 0o644)
	write("function.zip", "old output", 0o644)
	os.Symlink(filepath.Join(src, "lib", "util.py"), filepath.Join(src, "linked.py"))
	other := t.TempDir()
	os.WriteFile(filepath.Join(other, "x.py"), []byte("x"), 0o644)
	os.Symlink(other, filepath.Join(src, "linkdir"))

	entries, skipped, err := SourceEntries(src, SourceOptions{Exclude: []string{"tests", "*.md"}, Skip: []string{filepath.Join(src, "function.zip")}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Path)
	}
	if diff := cmp.Diff([]string{"handler.py", "lib/run.sh", "lib/util.py", "linked.py"}, got); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"linkdir"}, skipped); diff != "" {
		t.Errorf("skipped (-want +got):\n%s", diff)
	}
	out := filepath.Join(t.TempDir(), "f.zip")
	if _, err := Write(context.Background(), out, entries, Options{}); err != nil {
		t.Fatal(err)
	}
	f := fixture{want: map[string][]byte{}, modes: map[string]fs.FileMode{}}
	for _, e := range entries {
		b, _ := os.ReadFile(e.File)
		f.want[e.Path] = b
		f.modes[e.Path] = 0o644
	}
	f.modes["lib/run.sh"] = 0o755
	checkZip(t, out, f, DefaultEpoch)

	// With a prefix and without default excludes.
	entries, _, err = SourceEntries(src, SourceOptions{Prefix: "python/", NoDefaultExcludes: true})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range entries {
		if e.Path == "python/.git/config" {
			found = true
		}
	}
	if !found {
		t.Error("NoDefaultExcludes still left out .git")
	}
	if _, _, err := SourceEntries(filepath.Join(src, "handler.py"), SourceOptions{}); err == nil {
		t.Error("a file was accepted as a source folder")
	}
}
