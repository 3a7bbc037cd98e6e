package invoke_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lambdapack/lambdapack/internal/cache"
	"github.com/lambdapack/lambdapack/internal/invoke"
	"github.com/lambdapack/lambdapack/internal/tree"
)

func digest(s string) string {
	h := sha256.Sum256([]byte(s))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

func TestFolderSink(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	store := filepath.Join(root, "store")
	dir := filepath.Join(root, "work", "task")
	one := filesTree(map[string]string{"app.py": "print(1)\n", "pkg/__init__.py": "", "bin/run*": "#!/bin/sh\n"})
	one.Files[0].Digest = digest("print(1)\n") // app.py: digest known, as from a wheel's RECORD

	sink := &invoke.FolderSink{Dir: dir, Store: store, Key: invoke.TreeKey(one)}
	w, err := sink.Write(ctx, one)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(w.Summary, "3 files (3 linked") {
		t.Errorf("summary %q", w.Summary)
	}
	check := func(rel, content string, mode os.FileMode) {
		t.Helper()
		p := filepath.Join(dir, rel)
		b, err := os.ReadFile(p)
		st, _ := os.Stat(p)
		if err != nil || string(b) != content || st.Mode().Perm() != mode {
			t.Errorf("%s: %q %v %v", rel, b, st.Mode(), err)
			return
		}
		if st.Sys().(*syscall.Stat_t).Nlink < 2 {
			t.Errorf("%s is not a hard link into the store", rel)
		}
		if st.ModTime().Year() != 1980 && os.Getenv("SOURCE_DATE_EPOCH") == "" {
			t.Errorf("%s: modification time %v, want the fixed epoch", rel, st.ModTime())
		}
	}
	check("app.py", "print(1)\n", 0o644)
	check("bin/run", "#!/bin/sh\n", 0o755)
	check("pkg/__init__.py", "", 0o644)

	// A function that wrote into a linked file changed the stored copy: the
	// next tree with that file gets a fresh one.
	os.WriteFile(filepath.Join(dir, "app.py"), []byte("print(9)\n"), 0o644)
	again := filesTree(map[string]string{"app.py": "print(1)\n"})
	again.Files[0].Digest = digest("print(1)\n")
	other := filepath.Join(root, "other")
	if _, err := (&invoke.FolderSink{Dir: other, Store: store}).Write(ctx, again); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(other, "app.py")); string(b) != "print(1)\n" {
		t.Errorf("a changed stored file was linked: %q", b)
	}
	os.WriteFile(filepath.Join(dir, "app.py"), []byte("print(1)\n"), 0o644)

	// The same tree again: nothing written.
	w, err = sink.Write(ctx, one)
	if err != nil || !strings.Contains(w.Summary, "unchanged") {
		t.Errorf("rewrite: %v %v", w, err)
	}

	// A rebuild: the folder is swapped for the new one whole, and old files
	// are gone.
	before, _ := os.Stat(dir)
	two := filesTree(map[string]string{"app.py": "print(2)\n"})
	sink2 := &invoke.FolderSink{Dir: dir, Store: store, Key: invoke.TreeKey(two)}
	if _, err := sink2.Write(ctx, two); err != nil {
		t.Fatal(err)
	}
	check("app.py", "print(2)\n", 0o644)
	if _, err := os.Stat(filepath.Join(dir, "bin")); err == nil {
		t.Error("a file of the old tree is still there")
	}
	after, _ := os.Stat(dir)
	if os.SameFile(before, after) {
		t.Error("the folder was rewritten in place, not swapped")
	}
	leftovers, _ := filepath.Glob(filepath.Join(root, "work", ".task.new-*"))
	if len(leftovers) > 0 {
		t.Errorf("left behind: %v", leftovers)
	}

	// A tree that cannot be written (a file whose bytes lie about their
	// digest) leaves the old folder as it was, and nothing beside it.
	bad := filesTree(map[string]string{"app.py": "print(3)\n", "evil.py": "x"})
	bad.Files[1].Digest = digest("not x")
	_, err = (&invoke.FolderSink{Dir: dir, Store: store, Key: invoke.TreeKey(bad)}).Write(ctx, bad)
	if err == nil || !strings.Contains(err.Error(), "evil.py") {
		t.Errorf("a lying digest: %v", err)
	}
	check("app.py", "print(2)\n", 0o644)
	if leftovers, _ := filepath.Glob(filepath.Join(root, "work", ".task.new-*")); len(leftovers) > 0 {
		t.Errorf("left behind: %v", leftovers)
	}
	// A path that would leave the folder is refused.
	escape := &tree.Tree{Files: []tree.File{{Path: "../out.py", Origin: tree.FromBytes, Data: []byte("x"), Size: 1}}}
	if _, err := (&invoke.FolderSink{Dir: dir}).Write(ctx, escape); err == nil {
		t.Error("../out.py was written")
	}
	if _, err := os.Stat(filepath.Join(root, "work", "out.py")); err == nil {
		t.Error("a file was written outside the folder")
	}

	// Without a store, files are copied; the result is the same.
	plain := filepath.Join(root, "plain")
	if _, err := (&invoke.FolderSink{Dir: plain}).Write(ctx, one); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(plain, "bin", "run")); string(b) != "#!/bin/sh\n" {
		t.Errorf("copied bin/run: %q", b)
	}
}

func TestZipTreeAndMerge(t *testing.T) {
	zipPath := buildZip(t, appFunctionOptions(t))
	tr, err := invoke.ZipTree(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if tr.Record.Kind != "function" || tr.Record.Runtime != "python3.12" || tr.Record.Architecture != "x86_64" {
		t.Errorf("record %+v", tr.Record)
	}
	var paths []string
	for _, f := range tr.Files {
		paths = append(paths, f.Path)
	}
	if strings.Join(paths, ",") != "app.py,lib/helper.py" {
		t.Errorf("files %v", paths)
	}
	merged := invoke.Merge(
		filesTree(map[string]string{"python/a.py": "1", "python/b.py": "1"}),
		filesTree(map[string]string{"python/b.py": "2", "bin/c": "2"}),
	)
	var got []string
	for _, f := range merged.Files {
		got = append(got, f.Path+"="+string(f.Data))
	}
	if strings.Join(got, ",") != "bin/c=2,python/a.py=1,python/b.py=2" {
		t.Errorf("merged %v", got)
	}
}

// TestFolderRewrittenWhenPruned: a folder that lost a file (a cache prune)
// is written again rather than reused.
func TestFolderRewrittenWhenPruned(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "task")
	tr := filesTree(map[string]string{"a.py": "a", "pkg/b.py": "b"})
	sink := &invoke.FolderSink{Dir: dir, Key: invoke.TreeKey(tr)}
	if _, err := sink.Write(ctx, tr); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(dir, "pkg", "__pycache__"), 0o755)
	os.WriteFile(filepath.Join(dir, "pkg", "__pycache__", "b.cpython-312.pyc"), []byte("x"), 0o644)
	if w, err := sink.Write(ctx, tr); err != nil || !strings.Contains(w.Summary, "unchanged") {
		t.Errorf("Python's caches made the folder look changed: %v %v", w, err)
	}
	os.Remove(filepath.Join(dir, "pkg", "b.py"))
	if w, err := sink.Write(ctx, tr); err != nil || strings.Contains(w.Summary, "unchanged") {
		t.Errorf("a folder missing a file was reused: %v %v", w, err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "pkg", "b.py")); err != nil || string(b) != "b" {
		t.Errorf("pkg/b.py after the rewrite: %q %v", b, err)
	}
}

// TestFolderSurvivesPrune: files laid out in the cache carry the zip epoch
// as their modification time (as Lambda's task root does, and the store
// uses it to see a stored file is intact), but they were written now:
// `lambdapack cache prune --older-than 30d` right after an invoke removed
// most of its runtime client and file store as 46 years unused.
func TestFolderSurvivesPrune(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	c, err := cache.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	base, err := c.Dir("invoke")
	if err != nil {
		t.Fatal(err)
	}
	tr := filesTree(map[string]string{"a.py": "a", "pkg/b.py": "b", "bin/run*": "#!/bin/sh\n"})
	if _, err := (&invoke.FolderSink{Dir: filepath.Join(base, "runtime", "x"), Store: filepath.Join(base, "files")}).Write(ctx, tr); err != nil {
		t.Fatal(err)
	}
	rm, err := cache.Prune(root, time.Now().Add(-30*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if rm.Files != 0 {
		t.Errorf("prune removed %d fresh files: %+v", rm.Files, rm.Kinds)
	}
}
