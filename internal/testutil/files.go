package testutil

import (
	"archive/zip"
	"bytes"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
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

// ZipNames lists a zip's entry names, in the zip's order.
func ZipNames(t testing.TB, zipPath string) []string {
	t.Helper()
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatalf("opening %s: %v", zipPath, err)
	}
	defer zr.Close()
	var out []string
	for _, f := range zr.File {
		out = append(out, f.Name)
	}
	return out
}

// DirNames lists a folder's entries (names only), sorted.
func DirNames(t testing.TB, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("listing %s: %v", dir, err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

// WriteZip writes a zip at p (creating its folder) holding files (slash
// path -> content), in sorted order and deflated, with comment as its
// archive comment ("" for none), and returns p.
func WriteZip(t testing.TB, p string, files map[string][]byte, comment string) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range slices.Sorted(maps.Keys(files)) {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(files[n]); err != nil {
			t.Fatal(err)
		}
	}
	if comment != "" {
		if err := zw.SetComment(comment); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return writeFileAt(t, p, buf.Bytes())
}

// writeFileAt writes data at p, creating its folder, and returns p.
func writeFileAt(t testing.TB, p string, data []byte) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// FileBytes converts text files to the map WriteZip takes.
func FileBytes(files map[string]string) map[string][]byte {
	out := make(map[string][]byte, len(files))
	for k, v := range files {
		out[k] = []byte(v)
	}
	return out
}
