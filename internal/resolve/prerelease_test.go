package resolve

import (
	"strings"
	"testing"

	"github.com/lambdapack/lambdapack/internal/testutil"
)

// TestPrereleaseNotes: a chosen pre-release, and a newer version of a package
// you require passed over because of one, are said in the Result's notes.
func TestPrereleaseNotes(t *testing.T) {
	ix := testutil.StartIndex(t, testutil.IndexOptions{})
	// dbt-core 1.12 and dbt-core-experimental-parser, in small.
	ix.AddWheel(testutil.Wheel{Name: "core", Version: "1.11"})
	ix.AddWheel(testutil.Wheel{Name: "core", Version: "1.12", RequiresDist: []string{"parser<3,>=2.0.0a4"}})
	ix.AddWheel(testutil.Wheel{Name: "parser", Version: "2.0.0a4"})
	ix.AddSdist(testutil.Sdist{Name: "parser", Version: "2.0.8"})
	// A stable version exists, but none in the range a dependency asks for.
	ix.AddWheel(testutil.Wheel{Name: "app", Version: "1.0", RequiresDist: []string{"lib>1"}})
	ix.AddWheel(testutil.Wheel{Name: "lib", Version: "1.0"})
	ix.AddWheel(testutil.Wheel{Name: "lib", Version: "2.0rc1"})
	ix.AddWheel(testutil.Wheel{Name: "plain", Version: "1.0"})
	ix.AddWheel(testutil.Wheel{Name: "plain", Version: "1.1b1"})
	tg := mustTarget(t, "python3.12", "x86_64")

	notes := func(t *testing.T, opts Options, specs ...string) (*Result, string) {
		t.Helper()
		res, err := resolveOn(t, ix, tg, opts, specs...)
		if err != nil {
			t.Fatal(err)
		}
		return res, strings.Join(res.Notes, "\n")
	}
	version := func(res *Result, name string) string {
		for _, p := range res.Packages {
			if p.Name == name {
				return p.Version.String()
			}
		}
		return ""
	}

	t.Run("a dependency names it", func(t *testing.T) {
		res, got := notes(t, Options{}, "core")
		if version(res, "core") != "1.12" || version(res, "parser") != "2.0.0a4" {
			t.Fatalf("chose %+v", res.Packages)
		}
		for _, want := range []string{"chose the pre-release parser 2.0.0a4", "every requirement on it names a pre-release", "core==1.12 requires parser<3,>=2.0.0a4"} {
			if !strings.Contains(got, want) {
				t.Errorf("notes lack %q:\n%s", want, got)
			}
		}
	})
	t.Run("no stable version fits", func(t *testing.T) {
		res, got := notes(t, Options{}, "app")
		if version(res, "lib") != "2.0rc1" {
			t.Fatalf("chose %+v", res.Packages)
		}
		for _, want := range []string{"chose the pre-release lib 2.0rc1", "no stable version of lib that can be used on python3.12/x86_64 satisfies", "app==1.0 requires lib>1"} {
			if !strings.Contains(got, want) {
				t.Errorf("notes lack %q:\n%s", want, got)
			}
		}
	})
	t.Run("the newest stable one cannot be used", func(t *testing.T) {
		// With a plain requirement beside the dependency's, the stable
		// 2.0.8 would be preferred, but it has no wheel.
		_, got := notes(t, Options{}, "core", "parser<3")
		if !strings.Contains(got, "the newest stable one, 2.0.8, has only a source distribution") {
			t.Errorf("notes do not say why 2.0.8 was not taken:\n%s", got)
		}
	})
	t.Run("nothing to say", func(t *testing.T) {
		_, got := notes(t, Options{}, "plain")
		if strings.Contains(got, "pre-release") {
			t.Errorf("no pre-release was chosen, yet:\n%s", got)
		}
	})
	t.Run("--pre", func(t *testing.T) {
		_, got := notes(t, Options{Prerelease: PrereleaseAllow}, "plain")
		if !strings.Contains(got, "chose the pre-release plain 1.1b1 (--pre") {
			t.Errorf("notes:\n%s", got)
		}
	})
	t.Run("passed over", func(t *testing.T) {
		for _, mode := range []PrereleaseMode{PrereleaseDisallow, PrereleaseExplicit} {
			res, got := notes(t, Options{Prerelease: mode}, "core")
			if version(res, "core") != "1.11" {
				t.Fatalf("--prerelease %s chose %+v", mode, res.Packages)
			}
			want := "core 1.12 was passed over for 1.11: it requires parser<3,>=2.0.0a4, which only pre-releases satisfy, and --prerelease " + mode.String() + " rules them out"
			if !strings.Contains(got, want) {
				t.Errorf("--prerelease %s: notes lack %q:\n%s", mode, want, got)
			}
		}
	})
}

// TestPrereleaseSkippedNoise: pre-releases newer than a chosen stable version
// are not "passed over" (stable versions come first); newer than a chosen
// pre-release, they are.
func TestPrereleaseSkippedNoise(t *testing.T) {
	ix := testutil.StartIndex(t, testutil.IndexOptions{})
	ix.AddWheel(testutil.Wheel{Name: "core", Version: "1.12", RequiresDist: []string{"parser<3,>=2.0.0a4"}})
	ix.AddWheel(testutil.Wheel{Name: "parser", Version: "2.0.0a4"})
	ix.AddSdist(testutil.Sdist{Name: "parser", Version: "2.0.0b1"})
	ix.AddSdist(testutil.Sdist{Name: "parser", Version: "2.0.8"})
	res, err := resolveOn(t, ix, mustTarget(t, "python3.12", "x86_64"), Options{}, "core")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range res.Skipped {
		got = append(got, s.String())
	}
	if want := "parser 2.0.8, 2.0.0b1: have only source distributions (lambdapack installs wheels only)"; strings.Join(got, "\n") != want {
		t.Errorf("skipped = %q, want %q", got, want)
	}
}
