package testutil

import (
	"archive/zip"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
)

// WriteFiles writes files (slash paths relative to dir -> contents) under
// dir, creating folders as needed.
func WriteFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for p, c := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// SharedCache is a cache folder the end-to-end tests share, between tests
// and between runs, so that a real wheel is downloaded once per machine.
// Tests that need a cold cache use a fresh temporary folder instead.
func SharedCache(t testing.TB) string {
	t.Helper()
	dir, err := os.UserCacheDir()
	if err != nil {
		t.Fatalf("finding the user cache folder: %v", err)
	}
	dir = filepath.Join(dir, "lambdapack-test", "e2e-cache")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Unzip extracts a zip into a new temporary folder and returns it. Entry
// names are checked, so a bad artifact fails the test instead of writing
// outside the folder.
func Unzip(t testing.TB, zipPath string) string {
	t.Helper()
	dir := t.TempDir()
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatalf("opening %s: %v", zipPath, err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		name := f.Name
		if name == "" || strings.HasPrefix(name, "/") || path.Clean(name) != strings.TrimSuffix(name, "/") || strings.HasPrefix(name, "../") {
			t.Fatalf("%s holds a bad entry name %q", zipPath, name)
		}
		dst := filepath.Join(dir, filepath.FromSlash(name))
		if f.FileInfo().IsDir() {
			if err := os.MkdirAll(dst, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if f.Mode()&fs.ModeSymlink != 0 {
			t.Fatalf("%s holds a symlink %q", zipPath, name)
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("reading %s from %s: %v", name, zipPath, err)
		}
		if err := os.WriteFile(dst, data, f.Mode().Perm()|0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
