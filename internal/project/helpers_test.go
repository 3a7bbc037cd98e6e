package project

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lambdapack/lambdapack/internal/testutil"
)

// writeTree writes files (slash paths -> contents) under a temp folder.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	testutil.WriteFiles(t, dir, files)
	return dir
}

// testNow is the date deprecations are judged on in tests: python3.9 and
// python3.10 are past their end of support, python3.11 is not.
var testNow = time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)

func load(t *testing.T, dir string) *Config {
	t.Helper()
	cfg, err := Load(dir, LoadOptions{Env: noEnv, Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func loadErr(t *testing.T, files map[string]string) error {
	t.Helper()
	_, err := Load(writeTree(t, files), LoadOptions{Env: noEnv, Now: testNow})
	if err == nil {
		t.Fatal("Load succeeded, want an error")
	}
	return err
}

func noEnv(string) (string, bool) { return "", false }

// fnSum is a function's model in comparable form.
type fnSum struct {
	Name, Handler, Runtime, Arch string
	Pkg                          string // kind:path[>prefix] or skip:reason
	Deps                         string // req:path | lock:path | inline:a;b (+from)
	Layers                       []string
	External                     []string
	Env                          []string
}

func pkgSum(p Package) string {
	switch p.Kind {
	case PackageSkip:
		return "skip:" + p.Reason
	case PackageNone:
		return "none"
	}
	s := p.Kind.String() + ":" + p.Path
	if p.Prefix != "" {
		s += ">" + p.Prefix
	}
	return s
}

func depsSum(d Deps) string {
	var parts []string
	if d.Requirements != "" {
		parts = append(parts, "req:"+d.Requirements)
	}
	if d.Lock != "" {
		parts = append(parts, "lock:"+d.Lock)
	}
	if len(d.Inline) > 0 {
		parts = append(parts, "inline:"+strings.Join(d.Inline, ";"))
	}
	return strings.Join(parts, " ")
}

func summarize(f Function) fnSum {
	s := fnSum{Name: f.Name, Handler: f.Handler, Runtime: f.Runtime, Arch: string(f.Arch), Pkg: pkgSum(f.Package), Deps: depsSum(f.Deps), External: f.ExternalLayers}
	for _, u := range f.Layers {
		s.Layers = append(s.Layers, u.Name+"@"+string(u.Arch))
	}
	for _, e := range f.Environment {
		if e.Expr != "" {
			s.Env = append(s.Env, e.Name+"~"+e.Expr)
		} else {
			s.Env = append(s.Env, e.Name+"="+e.Value)
		}
	}
	return s
}

func fn(t *testing.T, cfg *Config, name string) fnSum {
	t.Helper()
	f, ok := cfg.Function(name)
	if !ok {
		t.Fatalf("no function %s in %v", name, cfg.Names())
	}
	return summarize(*f)
}

// lySum is a layer's model in comparable form.
type lySum struct {
	Name     string
	Pkg      string
	Deps     string
	Runtimes []string
	Archs    []string
}

func summarizeLayer(l Layer) lySum {
	s := lySum{Name: l.Name, Pkg: pkgSum(l.Package), Deps: depsSum(l.Deps), Runtimes: l.Runtimes}
	for _, a := range l.Archs {
		s.Archs = append(s.Archs, string(a))
	}
	return s
}

func ly(t *testing.T, cfg *Config, name string) lySum {
	t.Helper()
	l, ok := cfg.Layer(name)
	if !ok {
		t.Fatalf("no layer %s in %v", name, cfg.Names())
	}
	return summarizeLayer(*l)
}

func joinNotes(ns []Note) string {
	var b strings.Builder
	for _, n := range ns {
		fmt.Fprintf(&b, "%s %s\n", n.Level, n)
	}
	return b.String()
}

func wantNote(t *testing.T, cfg *Config, subs ...string) {
	t.Helper()
	notes := joinNotes(cfg.Notes)
	for _, s := range subs {
		if !strings.Contains(notes, s) {
			t.Errorf("notes lack %q:\n%s", s, notes)
		}
	}
}

func wantErr(t *testing.T, err error, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error lacks %q:\n%v", s, err)
		}
	}
}

// selected lists the files of a folder package its matcher keeps.
func selected(t *testing.T, cfg *Config, p Package, files []string) []string {
	t.Helper()
	var out []string
	for _, f := range files {
		if p.Files.Match(f) {
			out = append(out, f)
		}
	}
	return out
}

func fmtSscanf(s string, n *int) (int, error) { return fmt.Sscanf(s, "%d", n) }

func itoa(n int) string { return fmt.Sprint(n) }
