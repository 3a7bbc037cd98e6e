package resolve

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lambdapack/lambdapack/internal/index"
	"github.com/lambdapack/lambdapack/internal/pep440"
	"github.com/lambdapack/lambdapack/internal/pep508"
	"github.com/lambdapack/lambdapack/internal/target"
	"github.com/lambdapack/lambdapack/internal/testutil"
)

func mustTarget(t testing.TB, runtime, arch string) target.Target {
	t.Helper()
	tg, err := target.New(runtime, arch)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

func reqs(t testing.TB, specs ...string) []pep508.Requirement {
	t.Helper()
	var out []pep508.Requirement
	for _, s := range specs {
		q, err := pep508.ParseRequirement(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, q)
	}
	return out
}

func resolveOn(t *testing.T, ix *testutil.Index, tg target.Target, opts Options, specs ...string) (*Result, error) {
	t.Helper()
	c, err := index.NewClient(index.Config{IndexURL: ix.URL})
	if err != nil {
		t.Fatal(err)
	}
	return Resolve(context.Background(), IndexSource{Client: c}, tg, reqs(t, specs...), opts)
}

func mustNoSolution(t *testing.T, err error) *NoSolutionError {
	t.Helper()
	var ns *NoSolutionError
	if !errors.As(err, &ns) {
		t.Fatalf("got %v, want a NoSolutionError", err)
	}
	t.Logf("%v", ns)
	return ns
}

func wantAll(t *testing.T, text string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(text, p) {
			t.Errorf("missing %q in:\n%s", p, text)
		}
	}
}

func TestErrorUnknownPackage(t *testing.T) {
	ix := testutil.StartIndex(t, testutil.IndexOptions{})
	ix.AddWheel(testutil.Wheel{Name: "app", Version: "1.0", RequiresDist: []string{"no-such-thing>=1"}})
	_, err := resolveOn(t, ix, mustTarget(t, "python3.12", "x86_64"), Options{}, "app")
	ns := mustNoSolution(t, err)
	wantAll(t, ns.Error(),
		"Because app==1.0 depends on no-such-thing>=1 and no-such-thing was not found in the package index, we can conclude that app==1.0 cannot be used.",
		"And because you require app, we can conclude that your requirements are unsatisfiable.",
		"hint: no-such-thing is not on the configured indexes")
}

func TestErrorNoWheelForTarget(t *testing.T) {
	ix := testutil.StartIndex(t, testutil.IndexOptions{})
	for _, tag := range []string{"cp312-cp312-manylinux_2_17_x86_64", "cp312-cp312-macosx_11_0_arm64", "cp312-cp312-win_amd64"} {
		ix.AddWheel(testutil.Wheel{Name: "fastlib", Version: "2.0", Tags: []string{tag}})
	}
	ix.AddSdist(testutil.Sdist{Name: "fastlib", Version: "2.0"})
	ix.AddWheel(testutil.Wheel{Name: "oldlib", Version: "1.0", Tags: []string{"cp310-cp310-manylinux_2_17_aarch64"}})
	tg := mustTarget(t, "python3.12", "arm64")

	_, err := resolveOn(t, ix, tg, Options{}, "fastlib")
	ns := mustNoSolution(t, err)
	wantAll(t, ns.Error(),
		"fastlib==2.0 has no wheel for python3.12/arm64 (no aarch64 manylinux wheel; wheels exist for Windows, macOS, manylinux x86_64) and you require fastlib",
		"hint: fastlib 2.0 has no wheel for python3.12/arm64: no aarch64 manylinux wheel")

	_, err = resolveOn(t, ix, tg, Options{}, "oldlib")
	ns = mustNoSolution(t, err)
	wantAll(t, ns.Error(), "oldlib==1.0 has no wheel for python3.12/arm64 (its wheels are for other Pythons: cp310-cp310)")

	// The index client leaves out wheels no Lambda target can install; a
	// version that has nothing else is still known and explained, and so
	// is a version with only Python 2 wheels.
	for _, tag := range []string{"cp312-cp312-macosx_11_0_arm64", "cp312-cp312-win_amd64", "cp312-cp312-musllinux_1_2_aarch64"} {
		ix.AddWheel(testutil.Wheel{Name: "desktop", Version: "3.0", Tags: []string{tag}})
	}
	ix.AddWheel(testutil.Wheel{Name: "legacy", Version: "1.0", Tags: []string{"cp27-cp27mu-manylinux1_aarch64"}})
	_, err = resolveOn(t, ix, tg, Options{}, "desktop")
	ns = mustNoSolution(t, err)
	wantAll(t, ns.Error(), "desktop 3.0 has no wheel for python3.12/arm64: no aarch64 manylinux wheel; wheels exist for Windows, macOS, musllinux (never loads on Lambda)")
	_, err = resolveOn(t, ix, tg, Options{}, "legacy")
	ns = mustNoSolution(t, err)
	wantAll(t, ns.Error(), "legacy==1.0 has no wheel for python3.12/arm64 (its wheels are for other Pythons: cp27-cp27mu)")
}

func TestErrorConflictingPins(t *testing.T) {
	ix := testutil.StartIndex(t, testutil.IndexOptions{})
	ix.AddWheel(testutil.Wheel{Name: "web", Version: "3.0", RequiresDist: []string{"urllib3==2.2.0"}})
	for _, v := range []string{"1.26.0", "2.2.0"} {
		ix.AddWheel(testutil.Wheel{Name: "urllib3", Version: v})
	}
	_, err := resolveOn(t, ix, mustTarget(t, "python3.12", "x86_64"), Options{}, "web", "urllib3==1.26.0")
	ns := mustNoSolution(t, err)
	wantAll(t, ns.Error(),
		"web==3.0 depends on urllib3==2.2.0",
		"you require urllib3==1.26.0",
		"we can conclude that your requirements are unsatisfiable",
		"hint: the pins on urllib3 conflict (web==3.0 requires urllib3==2.2.0; you require urllib3==1.26.0): relax one of them")
}

func TestErrorRequiresPythonTooHigh(t *testing.T) {
	ix := testutil.StartIndex(t, testutil.IndexOptions{})
	ix.AddWheel(testutil.Wheel{Name: "modern", Version: "1.0", RequiresPython: ">=3.13"})
	// The file's index attribute says nothing; only the metadata does.
	ix.AddWheel(testutil.Wheel{Name: "sneaky", Version: "1.0", RequiresPython: ">=3.14"}, testutil.FileRequiresPython(""))
	tg := mustTarget(t, "python3.12", "x86_64")
	_, err := resolveOn(t, ix, tg, Options{}, "modern")
	ns := mustNoSolution(t, err)
	wantAll(t, ns.Error(), "modern==1.0 requires Python >=3.13 (the target has 3.12.11)", "hint: modern 1.0 requires Python >=3.13")
	_, err = resolveOn(t, ix, tg, Options{}, "sneaky")
	ns = mustNoSolution(t, err)
	wantAll(t, ns.Error(), "sneaky==1.0 requires Python >=3.14")
}

func TestErrorYankedOnly(t *testing.T) {
	ix := testutil.StartIndex(t, testutil.IndexOptions{})
	ix.AddWheel(testutil.Wheel{Name: "gone", Version: "1.0"}, testutil.Yanked("broken build"))
	tg := mustTarget(t, "python3.12", "x86_64")
	_, err := resolveOn(t, ix, tg, Options{}, "gone")
	ns := mustNoSolution(t, err)
	wantAll(t, ns.Error(), `gone==1.0 was yanked (reason: "broken build")`, "pin one with == to use it anyway")
	// Pinned with ==, the yanked file is allowed (PEP 592).
	res, err := resolveOn(t, ix, tg, Options{}, "gone==1.0")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Packages) != 1 || res.Packages[0].Version.String() != "1.0" {
		t.Fatalf("got %+v", res.Packages)
	}
}

// glibcIndex has a package whose newest release needs glibc 2.28 on x86_64
// and an older one with manylinux2014 wheels.
func glibcIndex(t *testing.T) *testutil.Index {
	ix := testutil.StartIndex(t, testutil.IndexOptions{})
	ix.AddWheel(testutil.Wheel{Name: "pydantic-core", Version: "2.27.0", Tags: []string{"cp311-cp311-manylinux_2_28_x86_64"}})
	ix.AddWheel(testutil.Wheel{Name: "pydantic-core", Version: "2.27.0", Tags: []string{"cp311-cp311-manylinux_2_17_aarch64.manylinux2014_aarch64"}})
	ix.AddWheel(testutil.Wheel{Name: "pydantic-core", Version: "2.26.0", Tags: []string{"cp311-cp311-manylinux_2_28_x86_64"}})
	ix.AddWheel(testutil.Wheel{Name: "pydantic-core", Version: "2.10.0", Tags: []string{"cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64"}})
	return ix
}

func TestErrorGlibcHint(t *testing.T) {
	ix := glibcIndex(t)
	tg := mustTarget(t, "python3.11", "x86_64")
	_, err := resolveOn(t, ix, tg, Options{}, "pydantic-core>=2.26")
	ns := mustNoSolution(t, err)
	wantAll(t, ns.Error(),
		"pydantic-core>=2.26.0 have no wheel for python3.11/x86_64 (its x86_64 wheels need glibc 2.28 (manylinux_2_28_x86_64), above the target's 2.26)",
		"hint: pydantic-core 2.27.0 has x86_64 wheels only for glibc 2.28 and later (manylinux_2_28_x86_64), but python3.11/x86_64 has glibc 2.26; runtimes on Amazon Linux 2023 (python3.12 and later) have glibc 2.34",
		"hint: pydantic-core 2.10.0 is the newest version usable on python3.11/x86_64")

	// Unpinned, the resolver passes over the glibc 2.28 releases and says so.
	res, err := resolveOn(t, ix, tg, Options{}, "pydantic-core")
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Packages[0].Version.String(); got != "2.10.0" {
		t.Fatalf("chose %s, want 2.10.0", got)
	}
	if len(res.Skipped) != 1 || strings.Join(res.Skipped[0].Versions, ",") != "2.27.0,2.26.0" || !strings.Contains(res.Skipped[0].Reason, "glibc 2.28") {
		t.Fatalf("skipped = %+v", res.Skipped)
	}
	// The same requirement on arm64 takes the newest.
	res, err = resolveOn(t, ix, mustTarget(t, "python3.11", "arm64"), Options{}, "pydantic-core")
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Packages[0]; got.Version.String() != "2.27.0" || !strings.Contains(got.File.Filename, "aarch64") {
		t.Fatalf("arm64 chose %s %s", got.Version, got.File.Filename)
	}
}

func TestResultShape(t *testing.T) {
	ix := testutil.StartIndex(t, testutil.IndexOptions{})
	ix.AddWheel(testutil.Wheel{Name: "Web_Framework", Version: "2.0", ProvidesExtra: []string{"fast"},
		RequiresDist: []string{"helper>=1", "speedups; extra == 'fast'", "winonly; sys_platform == 'win32'", "old-py; python_version < '3.8'"}})
	ix.AddWheel(testutil.Wheel{Name: "helper", Version: "1.5"})
	ix.AddWheel(testutil.Wheel{Name: "helper", Version: "1.6", Tags: []string{"py3-none-any"}})
	ix.AddWheel(testutil.Wheel{Name: "helper", Version: "1.6", Tags: []string{"cp312-abi3-manylinux_2_17_x86_64"}})
	ix.AddWheel(testutil.Wheel{Name: "helper", Version: "1.6", Tags: []string{"cp312-cp312-manylinux_2_28_x86_64"}})
	ix.AddWheel(testutil.Wheel{Name: "speedups", Version: "0.1"})
	tg := mustTarget(t, "python3.12", "x86_64")
	res, err := resolveOn(t, ix, tg, Options{}, "web-framework[fast]")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range res.Packages {
		got = append(got, p.Name+"=="+p.Version.String()+" "+p.File.Filename+" "+strings.Join(p.Extras, ",")+" deps:"+strings.Join(p.Dependencies, ","))
	}
	want := []string{
		"helper==1.6 helper-1.6-cp312-cp312-manylinux_2_28_x86_64.whl  deps:",
		"speedups==0.1 speedups-0.1-py3-none-any.whl  deps:",
		"web-framework==2.0 Web_Framework-2.0-py3-none-any.whl fast deps:helper,speedups",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !res.Packages[2].Direct || res.Packages[0].Direct {
		t.Errorf("Direct flags wrong: %+v", res.Packages)
	}
	if res.Packages[0].File.Hashes["sha256"] != ix.SHA256(res.Packages[0].File.Filename) {
		t.Errorf("chosen file hash %v", res.Packages[0].File.Hashes)
	}
	// Preferences pin a version when it fits; constraints limit one.
	res, err = resolveOn(t, ix, tg, Options{Preferences: map[string]pep440.Version{"helper": pep440.MustParse("1.5")}}, "web-framework")
	if err != nil || res.Packages[0].Version.String() != "1.5" {
		t.Fatalf("with a preference: %v %+v", err, res)
	}
	res, err = resolveOn(t, ix, tg, Options{Constraints: reqs(t, "helper<1.6")}, "web-framework")
	if err != nil || res.Packages[0].Version.String() != "1.5" {
		t.Fatalf("with a constraint: %v %+v", err, res)
	}
	_, err = resolveOn(t, ix, tg, Options{Constraints: reqs(t, "helper<1")}, "web-framework")
	ns := mustNoSolution(t, err)
	wantAll(t, ns.Error(), "your constraints require helper<1")
}

func TestDirectWheelReference(t *testing.T) {
	ix := testutil.StartIndex(t, testutil.IndexOptions{})
	ix.AddWheel(testutil.Wheel{Name: "helper", Version: "1.0"})
	ix.AddWheel(testutil.Wheel{Name: "mine", Version: "9.0"})
	w := testutil.Wheel{Name: "mine", Version: "0.1", RequiresDist: []string{"helper"}}
	p := filepath.Join(t.TempDir(), w.Filename())
	if err := os.WriteFile(p, w.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	tg := mustTarget(t, "python3.12", "x86_64")
	res, err := resolveOn(t, ix, tg, Options{}, "mine @ file://"+p)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Packages) != 2 || res.Packages[1].Name != "mine" || res.Packages[1].Version.String() != "0.1" {
		t.Fatalf("got %+v", res.Packages)
	}
	sum := sha256.Sum256(w.Bytes())
	if got := res.Packages[1].File.Hashes["sha256"]; got != hex.EncodeToString(sum[:]) {
		t.Errorf("hash %s", got)
	}
	// The index's newer version does not count: the reference is the only one.
	_, err = resolveOn(t, ix, tg, Options{}, "mine @ file://"+p, "mine>=1")
	mustNoSolution(t, err)
	_, err = resolveOn(t, ix, tg, Options{}, "mine @ https://example.invalid/mine-0.1.tar.gz")
	if err == nil || !strings.Contains(err.Error(), "only wheels can be direct references") {
		t.Fatalf("sdist reference: %v", err)
	}
}

func TestPrereleaseModes(t *testing.T) {
	ix := testutil.StartIndex(t, testutil.IndexOptions{})
	ix.AddWheel(testutil.Wheel{Name: "mixed", Version: "1.0"})
	ix.AddWheel(testutil.Wheel{Name: "mixed", Version: "2.0b1"})
	ix.AddWheel(testutil.Wheel{Name: "onlypre", Version: "0.1a1"})
	ix.AddWheel(testutil.Wheel{Name: "dep", Version: "1.0", RequiresDist: []string{"mixed>=2.0b1"}})
	tg := mustTarget(t, "python3.12", "x86_64")
	cases := []struct {
		mode PrereleaseMode
		reqs []string
		want string // mixed's (or the only package's) version; "" = no solution
	}{
		{PrereleaseIfNecessaryOrExplicit, []string{"mixed"}, "1.0"},
		{PrereleaseIfNecessaryOrExplicit, []string{"mixed>=2.0b1"}, "2.0b1"},
		{PrereleaseIfNecessaryOrExplicit, []string{"mixed>=0.5b1"}, "2.0b1"},
		{PrereleaseIfNecessaryOrExplicit, []string{"mixed>=0.5b1", "mixed<3"}, "1.0"},
		{PrereleaseIfNecessaryOrExplicit, []string{"mixed>1.0"}, "2.0b1"},
		{PrereleaseIfNecessaryOrExplicit, []string{"dep"}, "2.0b1"},
		{PrereleaseIfNecessaryOrExplicit, []string{"onlypre"}, "0.1a1"},
		{PrereleaseAllow, []string{"mixed"}, "2.0b1"},
		{PrereleaseAllow, []string{"mixed>=0.5b1", "mixed<3"}, "2.0b1"},
		{PrereleaseIfNecessary, []string{"mixed>=0.5b1"}, "1.0"},
		{PrereleaseIfNecessary, []string{"mixed>=2.0b1"}, "2.0b1"},
		{PrereleaseIfNecessary, []string{"onlypre"}, "0.1a1"},
		{PrereleaseExplicit, []string{"onlypre"}, ""},
		{PrereleaseExplicit, []string{"mixed>1.0"}, ""},
		{PrereleaseExplicit, []string{"dep"}, ""},
		{PrereleaseExplicit, []string{"mixed>=2.0b1"}, "2.0b1"},
		{PrereleaseExplicit, []string{"mixed>=0.5b1"}, "2.0b1"},
		{PrereleaseDisallow, []string{"onlypre"}, ""},
		{PrereleaseDisallow, []string{"mixed>=2.0b1"}, ""},
		{PrereleaseDisallow, []string{"mixed>=0.5b1"}, "1.0"},
	}
	for _, c := range cases {
		res, err := resolveOn(t, ix, tg, Options{Prerelease: c.mode}, c.reqs...)
		got := ""
		if err == nil {
			for _, p := range res.Packages {
				if p.Name == "mixed" || len(res.Packages) == 1 {
					got = p.Version.String()
				}
			}
		} else {
			var ns *NoSolutionError
			if !errors.As(err, &ns) {
				t.Fatal(err)
			}
		}
		if got != c.want {
			t.Errorf("--prerelease %s, %v: got %q, want %q (%v)", c.mode, c.reqs, got, c.want, err)
		}
	}
}

func TestParsePrereleaseMode(t *testing.T) {
	for _, s := range []string{"disallow", "allow", "if-necessary", "explicit", "if-necessary-or-explicit"} {
		m, err := ParsePrereleaseMode(s)
		if err != nil || m.String() != s {
			t.Errorf("ParsePrereleaseMode(%q) = %v, %v", s, m, err)
		}
	}
	if m, _ := ParsePrereleaseMode("if-necessary-or-explicit"); m != PrereleaseIfNecessaryOrExplicit || (Options{}).Prerelease != m {
		t.Errorf("the zero Options must be uv's default, if-necessary-or-explicit")
	}
	if _, err := ParsePrereleaseMode("sometimes"); err == nil || !strings.Contains(err.Error(), "if-necessary-or-explicit") {
		t.Errorf("an unknown mode must be refused with the list of modes: %v", err)
	}
}

func TestDeterministic(t *testing.T) {
	ix := glibcIndex(t)
	ix.AddWheel(testutil.Wheel{Name: "app", Version: "1.0", RequiresDist: []string{"pydantic-core", "helper"}})
	ix.AddWheel(testutil.Wheel{Name: "helper", Version: "3.0", RequiresDist: []string{"pydantic-core>=2.10"}})
	tg := mustTarget(t, "python3.11", "x86_64")
	first := ""
	for i := 0; i < 5; i++ {
		res, err := resolveOn(t, ix, tg, Options{}, "app")
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for _, p := range res.Packages {
			b.WriteString(p.Name + " " + p.Version.String() + " " + p.File.Filename + " " + strings.Join(p.Dependencies, ",") + "\n")
		}
		for _, s := range res.Skipped {
			b.WriteString(s.String() + "\n")
		}
		if i == 0 {
			first = b.String()
		} else if b.String() != first {
			t.Fatalf("run %d differs:\n%s\nvs\n%s", i, b.String(), first)
		}
	}
	if !strings.Contains(first, "pydantic-core 2.10.0") || !strings.Contains(first, "pydantic-core 2.27.0, 2.26.0: have no wheel") {
		t.Errorf("got\n%s", first)
	}
}
