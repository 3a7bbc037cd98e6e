package atomicfile

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestIsTemp(t *testing.T) {
	for name, want := range map[string]bool{
		".tmp-lambdapack-layer.zip-0123456789abcdef": true,
		".tmp-lambdapack-spill-fedcba9876543210":     true,
		".tmp-lambdapack--0123456789abcdef":          true,
		".tmp-lambdapack-layer.zip-0123456789ABCDEF": false, // upper case: not ours
		".tmp-lambdapack-layer.zip-0123456789abcde":  false, // 15 digits
		".tmp-lambdapack-layer.zip0123456789abcdef":  false,
		".tmp-layer.zip-1234567890":                  false, // another program's (or an older lambdapack's)
		".tmp-notes":                                 false,
		"layer.zip":                                  false,
		"tmp-lambdapack-layer.zip-0123456789abcdef":  false,
	} {
		if got := IsTemp(name); got != want {
			t.Errorf("IsTemp(%q) = %v, want %v", name, got, want)
		}
	}
	f, err := Scratch(t.TempDir(), strings.Repeat("x", 300))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if base := filepath.Base(f.Name()); !IsTemp(base) || len(base) > 255 {
		t.Errorf("Scratch made %q (%d bytes)", base, len(base))
	}
}

// RemoveStale removes lambdapack's own temporary files once stale, and
// nothing else: not a fresh one (a run still writing it), not another
// program's, not a folder or a symlink with our name.
func TestRemoveStale(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	old := time.Now().Add(-2 * time.Hour)
	mk := func(name string, age time.Time) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, age, age); err != nil {
			t.Fatal(err)
		}
		return p
	}
	stale, err := Create(filepath.Join(dir, "layer.zip"))
	if err != nil {
		t.Fatal(err)
	}
	stale.Close()
	os.Chtimes(stale.Name(), old, old)
	fresh, err := Create(filepath.Join(dir, "function.zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Abort()
	mk(".tmp-layer.zip-1234567890", old)
	mk(".tmp-notes", old)
	mk("layer.zip", old)
	ours := ".tmp-lambdapack-deps.zip-0123456789abcdef"
	if err := os.Mkdir(filepath.Join(dir, ours), 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(filepath.Join(dir, ours), old, old)
	target := filepath.Join(outside, "precious")
	os.WriteFile(target, []byte("keep"), 0o644)
	link := filepath.Join(dir, ".tmp-lambdapack-api.zip-fedcba9876543210")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	tv := []unix.Timeval{unix.NsecToTimeval(old.UnixNano()), unix.NsecToTimeval(old.UnixNano())}
	if err := unix.Lutimes(link, tv); err != nil {
		t.Fatal(err)
	}

	removed := RemoveStale(dir, StaleAge)
	if !slices.Equal(removed, []string{filepath.Base(stale.Name())}) {
		t.Errorf("removed %v, want only %s", removed, filepath.Base(stale.Name()))
	}
	var left []string
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		left = append(left, e.Name())
	}
	want := []string{".tmp-lambdapack-api.zip-fedcba9876543210", ours, filepath.Base(fresh.Name()), ".tmp-layer.zip-1234567890", ".tmp-notes", "layer.zip"}
	slices.Sort(want)
	if !slices.Equal(left, want) {
		t.Errorf("left %v, want %v", left, want)
	}
	if b, err := os.ReadFile(target); err != nil || string(b) != "keep" {
		t.Errorf("the symlink's target: %q %v", b, err)
	}
	if RemoveStale(filepath.Join(dir, "missing"), StaleAge) != nil {
		t.Error("a missing folder removed something")
	}
}

// The first write of a process into a folder sweeps it; a fresh temporary
// file (another run's, still writing) stays.
func TestCreateSweepsOncePerFolder(t *testing.T) {
	dir := t.TempDir()
	old := time.Now().Add(-2 * time.Hour)
	stale := filepath.Join(dir, TempPrefix+"page.json-0123456789abcdef")
	fresh := filepath.Join(dir, TempPrefix+"page.json-fedcba9876543210")
	for _, p := range []string{stale, fresh} {
		os.WriteFile(p, []byte("{"), 0o600)
	}
	os.Chtimes(stale, old, old)
	if err := WriteFile(filepath.Join(dir, "other.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("the stale temporary file is still there: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("the fresh one went: %v", err)
	}
	// Once per folder: a second leftover is not looked for again.
	os.Chtimes(fresh, old, old)
	if err := WriteFile(filepath.Join(dir, "other.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := Sweep(dir); got != nil {
		t.Errorf("a second sweep removed %v", got)
	}
}
