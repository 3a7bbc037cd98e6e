package index

import (
	"os"
	"path/filepath"
	"testing"
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
