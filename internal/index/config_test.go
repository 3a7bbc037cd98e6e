package index

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// isolate gives the test an empty HOME/XDG world with no index variables,
// and a stand-in interpreter (a shell script) whose "pip" reports prefix and
// default; it returns the prefix folder (the site config location).
func isolate(t *testing.T, pipDefault string) string {
	t.Helper()
	tmp := t.TempDir()
	for _, v := range []string{"PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_NO_INDEX", "PIP_CONFIG_FILE",
		"UV_DEFAULT_INDEX", "UV_INDEX_URL", "UV_INDEX", "UV_EXTRA_INDEX_URL", "UV_FIND_LINKS", "UV_NO_INDEX"} {
		t.Setenv(v, "")
	}
	t.Setenv("HOME", filepath.Join(tmp, "home"))
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(tmp, "xdg"))
	t.Setenv("XDG_CONFIG_DIRS", filepath.Join(tmp, "etcxdg"))
	prefix := filepath.Join(tmp, "prefix")
	os.MkdirAll(prefix, 0o755)
	return prefix
}

func fakePython(t *testing.T, prefix, def string) string {
	t.Helper()
	script := filepath.Join(t.TempDir(), "python")
	body := "#!/bin/sh\necho " + prefix + "\n"
	if def != "" {
		body += "echo 99.0\necho " + def + "\n"
	} else {
		body += "echo '!ModuleNotFoundError(pip)'\n"
	}
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return script
}

func writeConf(t *testing.T, path, text string) {
	t.Helper()
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestDiscoverConfigPrecedence(t *testing.T) {
	prefix := isolate(t, "")
	py := fakePython(t, prefix, "http://pip-default.test/simple/")
	home := os.Getenv("HOME")
	tmp := filepath.Dir(home)

	o := Overrides{
		Flags:         Settings{IndexURL: "http://flags.test/simple/"},
		Requirements:  Settings{IndexURL: "http://reqfile.test/simple/"},
		Project:       Settings{IndexURL: "http://project.test/simple/"},
		ProjectSource: "pyproject.toml [tool.lambdapack]",
		Python:        py,
	}
	t.Setenv("UV_DEFAULT_INDEX", "http://uv-default.test/simple/")
	t.Setenv("UV_INDEX_URL", "http://uv-index-url.test/simple/")
	t.Setenv("PIP_INDEX_URL", "http://pip-env.test/simple/")
	envFile := filepath.Join(tmp, "envconf", "pip.conf")
	writeConf(t, envFile, "[global]\nindex-url = http://pip-config-file.test/simple/\n")
	t.Setenv("PIP_CONFIG_FILE", envFile)
	writeConf(t, filepath.Join(prefix, "pip.conf"), "[global]\nindex-url = http://site.test/simple/\n")
	writeConf(t, filepath.Join(tmp, "xdg", "pip", "pip.conf"), "[global]\nindex-url = http://user-xdg.test/simple/\n")
	writeConf(t, filepath.Join(home, ".pip", "pip.conf"), "[global]\nindex-url = http://user-legacy.test/simple/\n")
	writeConf(t, filepath.Join(tmp, "etcxdg", "pip", "pip.conf"), "[global]\nindex-url = http://global.test/simple/\n")

	steps := []struct {
		want, source string
		peel         func()
	}{
		{"flags", "command-line flags", func() { o.Flags = Settings{} }},
		{"reqfile", "requirements file options", func() { o.Requirements = Settings{} }},
		{"project", "pyproject.toml [tool.lambdapack]", func() { o.Project = Settings{} }},
		{"uv-default", "UV_DEFAULT_INDEX", func() { t.Setenv("UV_DEFAULT_INDEX", "") }},
		{"uv-index-url", "UV_INDEX_URL", func() { t.Setenv("UV_INDEX_URL", "") }},
		{"pip-env", "PIP_INDEX_URL", func() { t.Setenv("PIP_INDEX_URL", "") }},
		{"pip-config-file", envFile, func() { t.Setenv("PIP_CONFIG_FILE", "") }},
		{"site", filepath.Join(prefix, "pip.conf"), func() { os.Remove(filepath.Join(prefix, "pip.conf")) }},
		{"user-xdg", filepath.Join(tmp, "xdg", "pip", "pip.conf"), func() { os.Remove(filepath.Join(tmp, "xdg", "pip", "pip.conf")) }},
		{"user-legacy", filepath.Join(home, ".pip", "pip.conf"), func() { os.Remove(filepath.Join(home, ".pip", "pip.conf")) }},
		{"global", filepath.Join(tmp, "etcxdg", "pip", "pip.conf"), func() { os.Remove(filepath.Join(tmp, "etcxdg", "pip", "pip.conf")) }},
		{"pip-default", "default of pip 99.0", nil},
	}
	for _, s := range steps {
		cfg, err := DiscoverConfig(o)
		if err != nil {
			t.Fatalf("%s: %v", s.want, err)
		}
		if cfg.IndexURL != "http://"+s.want+".test/simple/" || !strings.Contains(cfg.Source, s.source) {
			t.Fatalf("want %s from %q, got %q from %q", s.want, s.source, cfg.IndexURL, cfg.Source)
		}
		if s.peel != nil {
			s.peel()
		}
	}
}

func TestDiscoverConfigPipConfigFile(t *testing.T) {
	prefix := isolate(t, "")
	py := fakePython(t, prefix, "http://pip-default.test/simple/")
	home := os.Getenv("HOME")
	// An existing PIP_CONFIG_FILE hides the user files, like pip.
	writeConf(t, filepath.Join(home, ".pip", "pip.conf"), "[global]\nextra-index-url = http://user.test/simple/\n")
	env := filepath.Join(t.TempDir(), "pip.conf")
	writeConf(t, env, "[global]\nindex_url = http://global-section.test/simple/\nfind-links = /a\n\n[install]\nindex-url = http://install.test/simple/\nextra-index-url =\n    http://e1.test/simple/\n    http://e2.test/simple/\n")
	t.Setenv("PIP_CONFIG_FILE", env)
	cfg, err := DiscoverConfig(Overrides{Python: py})
	if err != nil {
		t.Fatal(err)
	}
	want := Config{IndexURL: "http://install.test/simple/", ExtraIndexURLs: []string{"http://e1.test/simple/", "http://e2.test/simple/"}, FindLinks: []string{"/a"}, Source: "pip config " + env + " [install]"}
	if !reflect.DeepEqual(cfg, want) {
		t.Fatalf("got %+v\nwant %+v", cfg, want)
	}
	// /dev/null turns config files off.
	t.Setenv("PIP_CONFIG_FILE", os.DevNull)
	cfg, err = DiscoverConfig(Overrides{Python: py})
	if err != nil || cfg.IndexURL != "http://pip-default.test/simple/" || cfg.ExtraIndexURLs != nil {
		t.Fatalf("%v %+v", err, cfg)
	}
}

func TestDiscoverConfigEnvLists(t *testing.T) {
	prefix := isolate(t, "")
	py := fakePython(t, prefix, "http://pip-default.test/simple/")
	t.Setenv("PIP_EXTRA_INDEX_URL", "http://a.test/simple/ http://b.test/simple/")
	t.Setenv("PIP_FIND_LINKS", "/opt/wheels /srv/wheels")
	t.Setenv("UV_INDEX", "internal=http://uv.test/simple/")
	cfg, err := DiscoverConfig(Overrides{Python: py, Flags: Settings{FindLinks: []string{"./w"}}})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg.ExtraIndexURLs, []string{"http://uv.test/simple/"}) || !reflect.DeepEqual(cfg.FindLinks, []string{"./w"}) {
		t.Fatalf("%+v", cfg)
	}
	t.Setenv("UV_INDEX", "")
	cfg, _ = DiscoverConfig(Overrides{Python: py})
	if !reflect.DeepEqual(cfg.ExtraIndexURLs, []string{"http://a.test/simple/", "http://b.test/simple/"}) || !reflect.DeepEqual(cfg.FindLinks, []string{"/opt/wheels", "/srv/wheels"}) {
		t.Fatalf("%+v", cfg)
	}
	// no-index keeps find-links only.
	t.Setenv("PIP_NO_INDEX", "1")
	cfg, err = DiscoverConfig(Overrides{Python: py})
	if err != nil || !cfg.NoIndex || cfg.IndexURL != "" || cfg.ExtraIndexURLs != nil || len(cfg.Indexes()) != 0 {
		t.Fatalf("%v %+v", err, cfg)
	}
	t.Setenv("PIP_FIND_LINKS", "")
	if _, err := DiscoverConfig(Overrides{Python: py}); !errors.Is(err, ErrNoIndex) {
		t.Fatalf("no-index without find-links: %v", err)
	}
}

func TestDiscoverConfigNothingFound(t *testing.T) {
	prefix := isolate(t, "")
	py := fakePython(t, prefix, "") // a python without pip
	_, err := DiscoverConfig(Overrides{Python: py})
	if !errors.Is(err, ErrNoIndex) || !strings.Contains(err.Error(), "PIP_INDEX_URL") || !strings.Contains(err.Error(), "--index-url") {
		t.Fatalf("want a how-to-fix error, got %v", err)
	}
	// No python on PATH at all.
	t.Setenv("PATH", t.TempDir())
	_, err = DiscoverConfig(Overrides{})
	if !errors.Is(err, ErrNoIndex) {
		t.Fatalf("want ErrNoIndex, got %v", err)
	}
}

func TestDiscoverConfigAsksRealPip(t *testing.T) {
	isolate(t, "")
	cfg, err := DiscoverConfig(Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(cfg.IndexURL, "https://") || !strings.Contains(cfg.Source, "default of pip") {
		t.Fatalf("%+v", cfg)
	}
}
