package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lambdapack/lambdapack/internal/index"
	"github.com/lambdapack/lambdapack/internal/lock"
	"github.com/lambdapack/lambdapack/internal/resolve"
	"github.com/lambdapack/lambdapack/internal/target"
	"github.com/lambdapack/lambdapack/internal/testutil"
)

func lockIndex(t *testing.T) *testutil.Index {
	ix := testutil.StartIndex(t, testutil.IndexOptions{})
	ix.AddWheel(testutil.Wheel{Name: "app", Version: "1.0", RequiresDist: []string{"lib>=1", "winonly; sys_platform == 'win32'"}})
	ix.AddWheel(testutil.Wheel{Name: "lib", Version: "1.0", RequiresPython: ">=3.8"})
	ix.AddWheel(testutil.Wheel{Name: "lib", Version: "2.0", Tags: []string{"cp312-cp312-manylinux_2_28_x86_64"}})
	ix.AddWheel(testutil.Wheel{Name: "lib", Version: "2.0", Tags: []string{"cp312-cp312-manylinux_2_17_aarch64"}})
	return ix
}

func lockEnv(t *testing.T, ix *testutil.Index) *Env {
	env, err := OpenEnv(EnvOptions{CacheDir: t.TempDir(), Index: index.Settings{IndexURL: ix.URL}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { env.Close() })
	return env
}

func TestLockWritesPylock(t *testing.T) {
	ix := lockIndex(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "pylock.toml")
	r, err := Lock(context.Background(), lockEnv(t, ix), LockOptions{
		Deps: Inputs{Requirements: []string{"app"}}, Runtime: "python3.12", Arch: "x86_64", Output: out,
	})
	if err != nil {
		t.Fatal(err)
	}
	l, err := lock.ReadPylockFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if l.LockVersion != "1.0" || l.CreatedBy != "lambdapack" || l.RequiresPython != "==3.12.*" {
		t.Errorf("header: %+v", l)
	}
	if len(l.Environments) != 1 || l.Environments[0] != `sys_platform == "linux" and platform_machine == "x86_64" and implementation_name == "cpython" and python_version == "3.12"` {
		t.Errorf("environments %q", l.Environments)
	}
	if len(l.Packages) != 2 || l.Packages[0].Name != "app" || l.Packages[1].Name != "lib" {
		t.Fatalf("packages %+v", l.Packages)
	}
	app, lib := l.Packages[0], l.Packages[1]
	if len(app.Dependencies) != 1 || app.Dependencies[0].Name != "lib" {
		t.Errorf("app dependencies %+v", app.Dependencies)
	}
	if lib.Version != "2.0" || len(lib.Wheels) != 1 {
		t.Fatalf("lib %+v", lib)
	}
	w := lib.Wheels[0]
	if w.Name != "lib-2.0-cp312-cp312-manylinux_2_28_x86_64.whl" || w.URL != ix.FileURL(w.Name) || w.SHA256() != ix.SHA256(w.Name) || w.Size <= 0 || w.UploadTime.IsZero() {
		t.Errorf("lib wheel %+v", w)
	}
	if r.Report.Target != (LockTarget{Runtime: "python3.12", Architecture: "x86_64", Python: "3.12", Glibc: "2.34"}) {
		t.Errorf("report target %+v", r.Report.Target)
	}
	if len(r.Report.Packages) != 2 || r.Report.Packages[1].SHA256 != w.SHA256() || r.Report.Packages[1].URL != w.URL || r.Report.Packages[1].Size != w.Size {
		t.Errorf("report packages %+v", r.Report.Packages)
	}
	var b strings.Builder
	if err := WriteLockText(&b, r, out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "lib      2.0      lib-2.0-cp312-cp312-manylinux_2_28_x86_64.whl") {
		t.Errorf("table:\n%s", b.String())
	}
}

func TestLockOlderRuntimePassesOver(t *testing.T) {
	ix := lockIndex(t)
	out := filepath.Join(t.TempDir(), "pylock.toml")
	// python3.12 on arm64 takes lib 2.0's aarch64 wheel; on a glibc 2.26
	// custom target lib 2.0 needs glibc 2.28 and 1.0 is taken, with a note.
	r, err := Lock(context.Background(), lockEnv(t, ix), LockOptions{
		Deps: Inputs{Requirements: []string{"app"}}, Python: "3.12", Glibc: "2.26", Arch: "x86_64", Output: out,
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Report.Packages[1]; got.Version != "1.0" {
		t.Fatalf("lib %+v", got)
	}
	if len(r.Notes) == 0 || !strings.Contains(r.Notes[0], "lib 2.0") || !strings.Contains(r.Notes[0], "glibc 2.28") {
		t.Errorf("notes %q", r.Notes)
	}
	if r.Report.Target.Runtime != "" || r.Report.Target.Glibc != "2.26" {
		t.Errorf("target %+v", r.Report.Target)
	}
}

func TestLockNoSolution(t *testing.T) {
	ix := lockIndex(t)
	out := filepath.Join(t.TempDir(), "pylock.toml")
	_, err := Lock(context.Background(), lockEnv(t, ix), LockOptions{
		Deps: Inputs{Requirements: []string{"lib==2.0"}}, Python: "3.12", Glibc: "2.26", Arch: "x86_64", Output: out,
	})
	var ns *resolve.NoSolutionError
	if !errors.As(err, &ns) {
		t.Fatalf("got %v", err)
	}
	if !strings.Contains(ns.Error(), "glibc 2.28") {
		t.Errorf("%v", ns)
	}
	if _, err := lock.ReadPylockFile(out); err == nil {
		t.Errorf("a lock was written despite the failure")
	}
}

func TestLockDirectRemoteWheel(t *testing.T) {
	ix := lockIndex(t)
	w := testutil.Wheel{Name: "mine", Version: "0.1", RequiresDist: []string{"lib"}}
	ix.AddWheel(w)
	out := filepath.Join(t.TempDir(), "pylock.toml")
	r, err := Lock(context.Background(), lockEnv(t, ix), LockOptions{
		Deps: Inputs{Requirements: []string{"mine @ " + ix.FileURL(w.Filename())}}, Runtime: "python3.12", Output: out,
	})
	if err != nil {
		t.Fatal(err)
	}
	l, err := lock.ReadPylockFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var mine *lock.Package
	for i := range l.Packages {
		if l.Packages[i].Name == "mine" {
			mine = &l.Packages[i]
		}
	}
	if mine == nil || mine.Wheels[0].SHA256() != ix.SHA256(w.Filename()) || mine.Wheels[0].Size != int64(len(w.Bytes())) {
		t.Fatalf("mine: %+v (report %+v)", mine, r.Report.Packages)
	}
}

func TestLockKeepsExistingVersions(t *testing.T) {
	ix := testutil.StartIndex(t, testutil.IndexOptions{})
	ix.AddWheel(testutil.Wheel{Name: "lib", Version: "1.0"})
	out := filepath.Join(t.TempDir(), "pylock.toml")
	env := lockEnv(t, ix)
	o := LockOptions{Deps: Inputs{Requirements: []string{"lib"}}, Runtime: "python3.12", Output: out}
	if _, err := Lock(context.Background(), env, o); err != nil {
		t.Fatal(err)
	}
	ix.AddWheel(testutil.Wheel{Name: "lib", Version: "2.0"})
	env2 := lockEnv(t, ix)
	r, err := Lock(context.Background(), env2, o)
	if err != nil {
		t.Fatal(err)
	}
	if v := r.Report.Packages[0].Version; v != "1.0" {
		t.Errorf("re-lock moved lib to %s, want 1.0 kept", v)
	}
	o.Upgrade = true
	r, err = Lock(context.Background(), lockEnv(t, ix), o)
	if err != nil {
		t.Fatal(err)
	}
	if v := r.Report.Packages[0].Version; v != "2.0" {
		t.Errorf("--upgrade gave lib %s, want 2.0", v)
	}
}

func TestLockFindLinksFolder(t *testing.T) {
	dir := t.TempDir()
	wheels := filepath.Join(dir, "wheels")
	if err := os.MkdirAll(wheels, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, w := range []testutil.Wheel{
		{Name: "app", Version: "1.0", RequiresDist: []string{"lib"}},
		{Name: "lib", Version: "1.0"},
	} {
		if err := os.WriteFile(filepath.Join(wheels, w.Filename()), w.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env, err := OpenEnv(EnvOptions{CacheDir: filepath.Join(dir, "cache"), Index: index.Settings{NoIndex: true, FindLinks: []string{wheels}}})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	out := filepath.Join(dir, "pylock.toml")
	if _, err := Lock(context.Background(), env, LockOptions{Deps: Inputs{Requirements: []string{"app"}}, Runtime: "python3.13", Arch: "arm64", Output: out}); err != nil {
		t.Fatal(err)
	}
	l, err := lock.ReadPylockFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range l.Packages {
		w := p.Wheels[0]
		if w.URL != "" || w.Path != "wheels/"+w.Name || w.SHA256() == "" {
			t.Errorf("%s: wheel %+v, want a path relative to the lock", p.Name, w)
		}
	}
}

// A lock made for another target never steers a new one: lib 2.0 needs
// glibc 2.28, so python3.11 (2.26) locks lib 1.0; locking python3.12 into
// the same file must take lib 2.0 and say why the old versions were ignored.
// Re-locking python3.12 keeps its own versions and says how many.
func TestLockIgnoresAnotherTargetsLock(t *testing.T) {
	ix := lockIndex(t)
	out := filepath.Join(t.TempDir(), "pylock.toml")
	o := LockOptions{Deps: Inputs{Requirements: []string{"app"}}, Runtime: "python3.11", Arch: "x86_64", Output: out}
	r, err := Lock(context.Background(), lockEnv(t, ix), o)
	if err != nil {
		t.Fatal(err)
	}
	if v := r.Report.Packages[1].Version; v != "1.0" {
		t.Fatalf("python3.11 locked lib %s, want 1.0", v)
	}
	o.Runtime = "python3.12"
	r, err = Lock(context.Background(), lockEnv(t, ix), o)
	if err != nil {
		t.Fatal(err)
	}
	if v := r.Report.Packages[1].Version; v != "2.0" {
		t.Errorf("python3.12 over a python3.11 lock locked lib %s, want 2.0 (a fresh resolution)", v)
	}
	note := strings.Join(r.Notes, "\n")
	if !strings.Contains(note, "ignored the versions in "+out) || !strings.Contains(note, "python3.11/x86_64") || !strings.Contains(note, "glibc 2.26, not 2.34") {
		t.Errorf("notes %q, want one saying the python3.11 lock was ignored", r.Notes)
	}
	// The python3.11 lock is gone: the note must say so, and how to keep both.
	if !strings.Contains(note, "replaced it, so it no longer holds the python3.11/x86_64 lock") || !strings.Contains(note, "-o pylock.NAME.toml") {
		t.Errorf("notes %q do not say the python3.11 lock was replaced", r.Notes)
	}
	ix.AddWheel(testutil.Wheel{Name: "lib", Version: "3.0"})
	r, err = Lock(context.Background(), lockEnv(t, ix), o)
	if err != nil {
		t.Fatal(err)
	}
	if v := r.Report.Packages[1].Version; v != "2.0" {
		t.Errorf("re-locking python3.12 moved lib to %s, want 2.0 kept", v)
	}
	note = strings.Join(r.Notes, "\n")
	if !strings.Contains(note, "kept 2 of the 2 versions in "+out) || !strings.Contains(note, "-U upgrades them") {
		t.Errorf("notes %q, want the count of kept versions and -U", r.Notes)
	}
	o.Upgrade = true
	r, err = Lock(context.Background(), lockEnv(t, ix), o)
	if err != nil {
		t.Fatal(err)
	}
	if v := r.Report.Packages[1].Version; v != "3.0" {
		t.Errorf("-U gave lib %s, want 3.0", v)
	}
	if note := strings.Join(r.Notes, "\n"); strings.Contains(note, "kept") || strings.Contains(note, "ignored") {
		t.Errorf("-U notes %q mention the old lock", r.Notes)
	}
}

func TestLockPrereleaseFlags(t *testing.T) {
	ix := testutil.StartIndex(t, testutil.IndexOptions{})
	ix.AddWheel(testutil.Wheel{Name: "lib", Version: "1.0"})
	ix.AddWheel(testutil.Wheel{Name: "lib", Version: "2.0b1"})
	lockWith := func(in Inputs) (*LockResult, error) {
		in.Requirements = []string{"lib"}
		return Lock(context.Background(), lockEnv(t, ix), LockOptions{Deps: in, Runtime: "python3.12", Output: filepath.Join(t.TempDir(), "pylock.toml")})
	}
	for _, c := range []struct {
		in   Inputs
		want string
	}{
		{Inputs{}, "1.0"},
		{Inputs{Pre: true}, "2.0b1"},
		{Inputs{Prerelease: "allow"}, "2.0b1"},
		{Inputs{Pre: true, Prerelease: "allow"}, "2.0b1"},
		{Inputs{Prerelease: "disallow"}, "1.0"},
		{Inputs{Prerelease: "if-necessary"}, "1.0"},
	} {
		r, err := lockWith(c.in)
		if err != nil {
			t.Errorf("%+v: %v", c.in, err)
			continue
		}
		if v := r.Report.Packages[0].Version; v != c.want {
			t.Errorf("%+v: lib %s, want %s", c.in, v, c.want)
		}
	}
	_, err := lockWith(Inputs{Pre: true, Prerelease: "disallow"})
	if err == nil || !strings.Contains(err.Error(), "--pre and --prerelease disallow disagree") {
		t.Errorf("--pre with --prerelease disallow: %v, want an error naming both flags", err)
	}
	_, err = lockWith(Inputs{Prerelease: "sometimes"})
	if err == nil || !strings.Contains(err.Error(), "--prerelease") || !strings.Contains(err.Error(), "if-necessary-or-explicit") {
		t.Errorf("--prerelease sometimes: %v, want an error listing the modes", err)
	}
	// The mode is part of the Pinner's memo key: one Env, two modes, two answers.
	env := lockEnv(t, ix)
	for _, c := range []struct{ mode, want string }{{"disallow", "1.0"}, {"allow", "2.0b1"}} {
		s, err := env.Pins.Pin(context.Background(), mustTarget(t, "python3.12", "x86_64"), Inputs{Requirements: []string{"lib"}, Prerelease: c.mode})
		if err != nil {
			t.Fatal(err)
		}
		if s.Pins[0].Version != c.want {
			t.Errorf("Pin with --prerelease %s: lib %s, want %s", c.mode, s.Pins[0].Version, c.want)
		}
	}
}

func mustTarget(t *testing.T, runtime, arch string) target.Target {
	t.Helper()
	tg, err := target.New(runtime, arch)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

// [tool.lambdapack] prerelease reaches every artifact's resolution, and
// changing it rebuilds (the mode is in the inputs key).
func TestBuildPrereleaseKey(t *testing.T) {
	ix := testutil.StartIndex(t, testutil.IndexOptions{})
	ix.AddWheel(testutil.Wheel{Name: "lib", Version: "1.0"})
	ix.AddWheel(testutil.Wheel{Name: "lib", Version: "2.0b1"})
	dir := t.TempDir()
	project := func(mode string) {
		testutil.WriteFiles(t, dir, map[string]string{"pyproject.toml": fmt.Sprintf(
			"[tool.lambdapack]\nruntime = \"python3.12\"\nindex-url = %q\nprerelease = %q\n[tool.lambdapack.layers.deps]\ndependencies = [\"lib\"]\n", ix.URL, mode)})
	}
	o := BuildOptions{Dir: dir, Env: EnvOptions{CacheDir: t.TempDir()}}
	for _, c := range []struct{ mode, want string }{{"allow", "2.0b1"}, {"disallow", "1.0"}} {
		project(c.mode)
		rep, _, err := Build(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		a := rep.Artifacts[0]
		if got := distVersions(t, a.Path)["lib"]; got != c.want {
			t.Errorf("prerelease = %q: lib %s, want %s", c.mode, got, c.want)
		}
	}
}

// TestLockWarnsDeprecatedRuntime: lock for a runtime past its deprecation
// date warns, as layer, function and build do (python3.9: 2025-12-15).
func TestLockWarnsDeprecatedRuntime(t *testing.T) {
	ix := lockIndex(t)
	var log strings.Builder
	env, err := OpenEnv(EnvOptions{CacheDir: t.TempDir(), Index: index.Settings{IndexURL: ix.URL}, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	if _, err := Lock(context.Background(), env, LockOptions{Deps: Inputs{Requirements: []string{"lib"}}, Runtime: "python3.9", Arch: "x86_64",
		Output: filepath.Join(t.TempDir(), "pylock.toml")}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "python3.9 was deprecated on 2025-12-15") {
		t.Errorf("no deprecation warning for python3.9:\n%s", log.String())
	}
}
