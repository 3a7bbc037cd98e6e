package index

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// An index given by a flag is used as is: the installed pip is not asked
// for its site config (a Python process per run).
func TestFlagIndexDoesNotAskPip(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "asked")
	py := filepath.Join(dir, "python")
	if err := os.WriteFile(py, []byte("#!/bin/sh\ntouch "+marker+"\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", dir)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "config"))
	t.Setenv("XDG_CONFIG_DIRS", filepath.Join(dir, "etc"))
	for _, k := range []string{"PIP_CONFIG_FILE", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "UV_DEFAULT_INDEX", "UV_INDEX_URL", "UV_INDEX", "UV_EXTRA_INDEX_URL"} {
		t.Setenv(k, "")
	}
	cfg, err := DiscoverConfig(Overrides{Flags: Settings{IndexURL: "https://example.invalid/simple"}, Python: py})
	if err != nil || cfg.IndexURL != "https://example.invalid/simple" {
		t.Fatalf("cfg %+v, err %v", cfg, err)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("pip was asked although --index-url was given")
	}
	// Without one, pip is asked (here it fails, and the error says how to
	// set an index).
	if _, err := DiscoverConfig(Overrides{Python: py}); err == nil {
		t.Error("no index anywhere and a failing pip: no error")
	}
	if _, err := os.Stat(marker); err != nil {
		t.Error("pip was not asked with no index configured")
	}
}

// pip's answer is kept in the cache folder while the interpreter and pip's
// files stay the same: a later run (a new process, here the in-process
// memo forgotten) does not start Python again; changing pip does.
func TestPipAnswerRemembered(t *testing.T) {
	dir := t.TempDir()
	calls := filepath.Join(dir, "calls")
	pipInit := filepath.Join(dir, "site", "pip", "__init__.py")
	if err := os.MkdirAll(filepath.Dir(pipInit), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(pipInit, []byte("# pip\n"), 0o644)
	py := filepath.Join(dir, "python")
	script := "#!/bin/sh\necho x >> " + calls + "\necho " + dir + "\necho 25.3\necho https://example.invalid/simple/\necho " + pipInit + "\n"
	if err := os.WriteFile(py, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", dir)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "config"))
	t.Setenv("XDG_CONFIG_DIRS", filepath.Join(dir, "etc"))
	for _, k := range []string{"PIP_CONFIG_FILE", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "UV_DEFAULT_INDEX", "UV_INDEX_URL", "UV_INDEX", "UV_EXTRA_INDEX_URL"} {
		t.Setenv(k, "")
	}
	cacheDir := filepath.Join(dir, "cache")
	run := func() Config {
		t.Helper()
		pipMu.Lock()
		delete(pipCache, py) // a new process
		pipMu.Unlock()
		cfg, err := DiscoverConfig(Overrides{Python: py, CacheDir: cacheDir})
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	asked := func() int {
		b, _ := os.ReadFile(calls)
		return len(b) / 2
	}
	if cfg := run(); cfg.IndexURL != "https://example.invalid/simple/" || !strings.Contains(cfg.Source, "default of pip 25.3") {
		t.Fatalf("cfg %+v", cfg)
	}
	run()
	if n := asked(); n != 1 {
		t.Errorf("pip asked %d times in two runs, want once", n)
	}
	later := time.Now().Add(time.Hour)
	os.Chtimes(pipInit, later, later) // pip upgraded
	run()
	if n := asked(); n != 2 {
		t.Errorf("pip asked %d times, want again after pip changed", n)
	}
	run()
	os.Chtimes(py, later, later) // another interpreter
	run()
	if n := asked(); n != 3 {
		t.Errorf("pip asked %d times, want again after the interpreter changed", n)
	}
	// Without a cache folder, every process asks.
	pipMu.Lock()
	delete(pipCache, py)
	pipMu.Unlock()
	if _, err := DiscoverConfig(Overrides{Python: py}); err != nil {
		t.Fatal(err)
	}
	if n := asked(); n != 4 {
		t.Errorf("pip asked %d times, want 4", n)
	}
}
