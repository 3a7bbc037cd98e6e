package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lambdapack/lambdapack/internal/testutil"
)

// `lambdapack cache dir | info | clean | prune` on a cache that real layer
// builds filled, from a local index.
func TestCLICache(t *testing.T) {
	url := testutil.NewIndex(t,
		testutil.Wheel{Name: "six", Version: "1.16.0"},
		testutil.Wheel{Name: "attrs", Version: "24.2.0"},
	)
	dir := filepath.Join(t.TempDir(), "cache")
	for _, pkg := range []string{"six", "attrs"} {
		code, _, stderr := cliMain(t, "layer", pkg, "--runtime", "python3.12", "--index-url", url, "--cache-dir", dir, "-o", filepath.Join(t.TempDir(), pkg+".zip"))
		if code != 0 {
			t.Fatalf("layer %s: exit %d: %s", pkg, code, stderr)
		}
	}

	code, stdout, _ := cliMain(t, "cache", "dir", "--cache-dir", dir)
	if code != 0 || strings.TrimSpace(stdout) != dir {
		t.Errorf("cache dir: %d %q, want %s", code, stdout, dir)
	}
	t.Setenv("LAMBDAPACK_CACHE_DIR", dir)
	if code, stdout, _ := cliMain(t, "cache", "dir"); code != 0 || strings.TrimSpace(stdout) != dir {
		t.Errorf("cache dir with LAMBDAPACK_CACHE_DIR: %d %q", code, stdout)
	}

	type usage struct {
		Files int
		Kinds []struct {
			Kind  string
			Files int
		}
		Packages []struct {
			Name  string
			Files int
		}
	}
	info := func() usage {
		t.Helper()
		code, stdout, stderr := cliMain(t, "cache", "info", "--packages", "--json")
		if code != 0 {
			t.Fatalf("cache info: exit %d: %s", code, stderr)
		}
		var u usage
		if err := json.Unmarshal([]byte(stdout), &u); err != nil {
			t.Fatalf("cache info --json: %v\n%s", err, stdout)
		}
		return u
	}
	pkgs := func(u usage) map[string]int {
		out := map[string]int{}
		for _, p := range u.Packages {
			out[p.Name] = p.Files
		}
		return out
	}
	u := info()
	kinds := map[string]int{}
	for _, k := range u.Kinds {
		kinds[k.Kind] = k.Files
	}
	if kinds["wheels"] != 2 || kinds["index pages"] != 2 {
		t.Errorf("kinds %v: want 2 wheels and 2 index pages", kinds)
	}
	if p := pkgs(u); p["six"] < 2 || p["attrs"] < 2 {
		t.Errorf("packages %v: want six's and attrs's wheel and page at least", p)
	}
	code, stdout, stderr := cliMain(t, "cache", "info")
	if code != 0 || !strings.Contains(stdout, "wheels") || !strings.Contains(stdout, "Cache: "+dir) {
		t.Errorf("cache info: %d\n%s%s", code, stdout, stderr)
	}
	// The two tables of --packages are apart by an empty line, not one of
	// spaces, and line up.
	code, stdout, stderr = cliMain(t, "cache", "info", "--packages")
	lines := strings.Split(stdout, "\n")
	if code != 0 || !slices.Contains(lines, "") || slices.IndexFunc(lines, func(l string) bool { return strings.TrimRight(l, " ") != l }) >= 0 {
		t.Errorf("cache info --packages: %d\n%q%s", code, stdout, stderr)
	}
	kindAt, pkgAt := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "KIND ") }), slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "PACKAGE ") })
	if kindAt < 0 || pkgAt < 0 || strings.Index(lines[kindAt], "FILES") != strings.Index(lines[pkgAt], "FILES") {
		t.Errorf("cache info --packages: the tables do not line up:\n%s", stdout)
	}

	// One package.
	code, stdout, _ = cliMain(t, "cache", "clean", "SIX")
	if code != 0 || !strings.HasPrefix(stdout, "Removed ") {
		t.Errorf("cache clean six: %d %q", code, stdout)
	}
	if p := pkgs(info()); p["six"] != 0 || p["attrs"] < 2 {
		t.Errorf("after cleaning six: %v", p)
	}

	// Nothing is older than a day; everything is older than the future.
	if code, stdout, _ = cliMain(t, "cache", "prune"); code != 0 || !strings.HasPrefix(stdout, "Nothing to remove") {
		t.Errorf("cache prune right after a run: %d %q", code, stdout)
	}
	old := time.Now().Add(-40 * 24 * time.Hour)
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			os.Chtimes(p, old, old)
		}
		return nil
	})
	if code, stdout, _ = cliMain(t, "cache", "prune", "--older-than", "30d"); code != 0 || !strings.HasPrefix(stdout, "Removed ") {
		t.Errorf("cache prune: %d %q", code, stdout)
	}
	if u := info(); u.Files != 0 {
		t.Errorf("after pruning 40-day-old entries %d files are left: %+v", u.Files, u)
	}

	// All of it.
	if code, _, stderr = cliMain(t, "layer", "attrs", "--runtime", "python3.12", "--index-url", url, "-o", filepath.Join(t.TempDir(), "a.zip")); code != 0 {
		t.Fatalf("layer: %s", stderr)
	}
	if code, stdout, _ = cliMain(t, "cache", "clean"); code != 0 || !strings.HasPrefix(stdout, "Removed ") {
		t.Errorf("cache clean: %d %q", code, stdout)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the cache folder stays after cache clean: %v", err)
	}

	for _, args := range [][]string{{"cache"}, {"cache", "purge"}, {"cache", "prune", "--older-than", "soon"}} {
		if code, _, stderr := cliMain(t, args...); code != 2 || stderr == "" {
			t.Errorf("lambdapack %v: exit %d, %q; want 2 and a message", args, code, stderr)
		}
	}
}
