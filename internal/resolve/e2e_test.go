package resolve

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/lambdapack/lambdapack/internal/index"
	"github.com/lambdapack/lambdapack/internal/pep440"
	"github.com/lambdapack/lambdapack/internal/tags"
)

// realIndex is a client of the real package index, configured the way the
// product finds it (nothing set here), with a fresh cache.
func realIndex(t *testing.T) *index.Client {
	t.Helper()
	cfg, err := index.DiscoverConfig(index.Overrides{})
	if err != nil {
		t.Fatalf("finding the package index: %v", err)
	}
	client, err := index.NewClient(cfg, index.WithCacheDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	return client
}

// TestRealIndex locks a typical web + crypto + numeric set against the real
// package index (configured the way the product finds it, with nothing set
// here) for an Amazon Linux 2 runtime on x86_64 and an Amazon Linux 2023
// runtime on arm64, and checks every chosen wheel: the target accepts its
// tags and none needs a glibc above the runtime's.
func TestRealIndex(t *testing.T) {
	src := NewCachedSource(IndexSource{Client: realIndex(t)})
	for _, c := range []struct{ runtime, arch string }{{"python3.11", "x86_64"}, {"python3.12", "arm64"}} {
		t.Run(c.runtime+"-"+c.arch, func(t *testing.T) {
			tg := mustTarget(t, c.runtime, c.arch)
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			res, err := Resolve(ctx, src, tg, reqs(t, "fastapi", "pydantic", "cryptography", "numpy", "orjson"), Options{})
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for _, p := range res.Packages {
				seen[p.Name] = true
				w, err := tags.ParseWheelFilename(p.File.Filename)
				if err != nil {
					t.Errorf("%s: chosen file %s is not a wheel: %v", p.Name, p.File.Filename, err)
					continue
				}
				if _, ok := tg.WheelRank(w); !ok {
					t.Errorf("%s: %s is not accepted by %s", p.Name, p.File.Filename, tg)
				}
				// The least glibc any of its manylinux tags asks for must
				// be within the runtime's.
				need, any := [2]int{}, false
				for _, tag := range w.Tags {
					if m, ok := tags.ParseManylinux(tag.Platform); ok {
						if m.Arch != tg.Arch.Machine() {
							t.Errorf("%s: %s is for %s", p.Name, p.File.Filename, m.Arch)
						}
						if !any || m.GlibcMajor < need[0] || (m.GlibcMajor == need[0] && m.GlibcMinor < need[1]) {
							need, any = [2]int{m.GlibcMajor, m.GlibcMinor}, true
						}
					}
				}
				if any && (need[0] > tg.GlibcMajor || (need[0] == tg.GlibcMajor && need[1] > tg.GlibcMinor)) {
					t.Errorf("%s: %s needs glibc %d.%d, above %s's %s", p.Name, p.File.Filename, need[0], need[1], tg, tg.Glibc())
				}
				if p.File.Hashes["sha256"] == "" {
					t.Errorf("%s: no sha256 for %s", p.Name, p.File.Filename)
				}
				t.Logf("%-20s %-10s %s", p.Name, p.Version, p.File.Filename)
			}
			for _, n := range []string{"fastapi", "pydantic", "pydantic-core", "cryptography", "numpy", "orjson", "starlette", "cffi"} {
				if !seen[n] {
					t.Errorf("%s missing from the solution", n)
				}
			}
			for _, s := range res.Skipped {
				t.Logf("passed over: %s", s)
			}
			t.Logf("%d packages, %+v", len(res.Packages), res.Stats)
		})
	}
}

// TestRealIndexPrereleaseDependency: dbt-core 1.12.0 depends on
// dbt-core-experimental-parser>=2.0.0a4, whose stable versions are source
// distributions only; the default policy takes the pre-release with a wheel
// (and says so) rather than failing or falling back to dbt-core 1.11.
func TestRealIndexPrereleaseDependency(t *testing.T) {
	tg := mustTarget(t, "python3.12", "x86_64")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := Resolve(ctx, IndexSource{Client: realIndex(t)}, tg, reqs(t, "dbt-core==1.12.0"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, p := range res.Packages {
		got[p.Name] = p.Version.String()
	}
	if got["dbt-core"] != "1.12.0" {
		t.Errorf("dbt-core %q, want 1.12.0", got["dbt-core"])
	}
	parser := "dbt-core-experimental-parser"
	noted := false
	for _, n := range res.Notes {
		noted = noted || strings.HasPrefix(n, "chose the pre-release "+parser+" "+got[parser])
	}
	switch v, err := pep440.Parse(got[parser]); {
	case err != nil:
		t.Errorf("%s %q: %v", parser, got[parser], err)
	case v.IsPrerelease() && !noted:
		t.Errorf("%s %s is a pre-release, yet no note says so: %q", parser, v, res.Notes)
	}
	t.Logf("%d packages; %s %s; notes: %q", len(res.Packages), parser, got[parser], res.Notes)
}
