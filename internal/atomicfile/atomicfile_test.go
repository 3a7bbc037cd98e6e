package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lambdapack/lambdapack/internal/testutil"
)

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "state.json")
	for _, sync := range []bool{false, true} {
		if err := WriteFile(p, []byte("new"), 0o600, WithSync(sync)); err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(p)
		if b, _ := os.ReadFile(p); err != nil || string(b) != "new" || st.Mode().Perm() != 0o600 {
			t.Errorf("sync %v: %q %v", sync, b, st.Mode())
		}
	}
	if got := testutil.DirNames(t, dir); len(got) != 1 {
		t.Errorf("left behind: %v", got)
	}
	// A destination that cannot be replaced: nothing is left.
	sub := filepath.Join(dir, "folder")
	os.MkdirAll(filepath.Join(sub, "x"), 0o755)
	if err := WriteFile(sub, []byte("x"), 0o644); err == nil {
		t.Error("renamed over a folder with content")
	}
	if got := testutil.DirNames(t, dir); len(got) != 2 {
		t.Errorf("left behind: %v", got)
	}
	if err := WriteFile(filepath.Join(dir, "missing", "f"), nil, 0o644); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("a missing folder: %v", err)
	}
}

func TestAbortAndCommitAs(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "layer.zip")
	os.WriteFile(p, []byte("old"), 0o644)
	f, err := Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(filepath.Base(f.Name()), ".tmp-lambdapack-layer.zip-") || !IsTemp(filepath.Base(f.Name())) {
		t.Errorf("temporary name %s", f.Name())
	}
	f.WriteString("half")
	f.Abort()
	f.Abort()
	if b, _ := os.ReadFile(p); string(b) != "old" {
		t.Errorf("aborted write changed the file: %q", b)
	}
	if got := testutil.DirNames(t, dir); len(got) != 1 {
		t.Errorf("left behind: %v", got)
	}
	f, _ = Create(p, Sync())
	f.WriteString("blob")
	other := filepath.Join(dir, "abc123")
	if err := f.CommitAs(other, 0o644); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(other); string(b) != "blob" {
		t.Errorf("CommitAs wrote %q", b)
	}
	f.Abort() // a no-op now
	if _, err := os.Stat(other); err != nil {
		t.Error("Abort after Commit removed the file")
	}
	if err := f.Commit(0o644); err == nil {
		t.Error("a second Commit succeeded")
	}
	if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
		t.Error("the original destination vanished")
	}
}
