package resolve_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/lambdapack/lambdapack/internal/cache"
	"github.com/lambdapack/lambdapack/internal/index"
	"github.com/lambdapack/lambdapack/internal/pep508"
	"github.com/lambdapack/lambdapack/internal/resolve"
	"github.com/lambdapack/lambdapack/internal/sdist"
	"github.com/lambdapack/lambdapack/internal/target"
	"github.com/lambdapack/lambdapack/internal/testutil"
)

// sdistIndex serves the projects the tests below resolve:
//
//	solo 1.0, 2.0        sdists only (2.0 depends on dep)
//	dep 1.0              a pure wheel
//	np 1.9               a manylinux2014 wheel and an sdist
//	np 2.0               a manylinux_2_28 wheel (too new for glibc 2.26) and an sdist
//	ms 1.0               a pure wheel and an sdist
//	mc 1.0               a pure wheel
//	mc 2.0               a cp311 manylinux wheel, a pure wheel
//	broken 1.0           a pure wheel
//	broken 2.0           an sdist whose metadata needs its backend, which the index lacks
//	brokenonly 1.0       the same, with nothing else
func sdistIndex(t *testing.T) *testutil.Index {
	ix := testutil.StartIndex(t, testutil.IndexOptions{})
	ix.AddSdist(testutil.Sdist{Name: "solo", Version: "1.0"})
	ix.AddSdist(testutil.Sdist{Name: "solo", Version: "2.0", RequiresDist: []string{"dep>=1"}})
	ix.AddWheel(testutil.Wheel{Name: "dep", Version: "1.0", Tags: []string{"py3-none-any"}})
	ix.AddWheel(testutil.Wheel{Name: "np", Version: "1.9", Tags: []string{"cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64"}})
	ix.AddSdist(testutil.Sdist{Name: "np", Version: "1.9"})
	ix.AddWheel(testutil.Wheel{Name: "np", Version: "2.0", Tags: []string{"cp311-cp311-manylinux_2_28_x86_64"}})
	ix.AddSdist(testutil.Sdist{Name: "np", Version: "2.0"})
	ix.AddWheel(testutil.Wheel{Name: "ms", Version: "1.0", Tags: []string{"py3-none-any"}})
	ix.AddSdist(testutil.Sdist{Name: "ms", Version: "1.0"})
	ix.AddWheel(testutil.Wheel{Name: "mc", Version: "1.0", Tags: []string{"py3-none-any"}})
	ix.AddWheel(testutil.Wheel{Name: "mc", Version: "2.0", Tags: []string{"cp311-cp311-manylinux_2_17_x86_64"}})
	ix.AddWheel(testutil.Wheel{Name: "mc", Version: "2.0", Tags: []string{"py2.py3-none-any"}})
	ix.AddWheel(testutil.Wheel{Name: "broken", Version: "1.0", Tags: []string{"py3-none-any"}})
	ix.AddSdist(testutil.Sdist{Name: "broken", Version: "2.0", MetadataVersion: "2.1"})
	ix.AddSdist(testutil.Sdist{Name: "brokenonly", Version: "1.0", MetadataVersion: "2.1"})
	return ix
}

// resolveWith resolves reqs for python3.11/x86_64 on ix, reading sdists
// with a real sdist.Builder as the CLI does.
func resolveWith(t *testing.T, ix *testutil.Index, opts resolve.Options, reqs ...string) (*resolve.Result, error) {
	t.Helper()
	client, err := index.NewClient(index.Config{IndexURL: ix.URL})
	if err != nil {
		t.Fatal(err)
	}
	c, err := cache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if opts.SdistMetadata == nil {
		b := &sdist.Builder{Cache: c, Index: client, FindPython: testutil.FindPython}
		opts.SdistMetadata = b.FileMetadata
	}
	tg, err := target.New("python3.11", "x86_64")
	if err != nil {
		t.Fatal(err)
	}
	var rs []pep508.Requirement
	for _, r := range reqs {
		q, err := pep508.ParseRequirement(r)
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, q)
	}
	return resolve.Resolve(context.Background(), resolve.IndexSource{Client: client}, tg, rs, opts)
}

func pkgOf(t *testing.T, res *resolve.Result, name string) resolve.Package {
	t.Helper()
	for _, p := range res.Packages {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("%s not in the result %+v", name, res.Packages)
	return resolve.Package{}
}

func TestSdistCandidates(t *testing.T) {
	ix := sdistIndex(t)
	t.Run("sdist-only: newest version built, dependencies from PKG-INFO", func(t *testing.T) {
		res, err := resolveWith(t, ix, resolve.Options{}, "solo")
		if err != nil {
			t.Fatal(err)
		}
		p := pkgOf(t, res, "solo")
		if !p.Sdist || p.Version.String() != "2.0" || p.File.Filename != "solo-2.0.tar.gz" || len(p.Dependencies) != 1 {
			t.Fatalf("got %+v", p)
		}
		if pkgOf(t, res, "dep").Sdist {
			t.Error("dep has a wheel: it must not be built")
		}
		if len(p.Notes) != 1 || !strings.Contains(p.Notes[0], "solo 2.0 is built from source for python3.11/x86_64 (solo-2.0.tar.gz): it has only a source distribution") {
			t.Errorf("notes %q", p.Notes)
		}
	})
	t.Run("a version with a wheel before a newer one to build", func(t *testing.T) {
		res, err := resolveWith(t, ix, resolve.Options{}, "np")
		if err != nil {
			t.Fatal(err)
		}
		if p := pkgOf(t, res, "np"); p.Sdist || p.Version.String() != "1.9" {
			t.Fatalf("got %+v", p)
		}
		if len(res.Skipped) != 1 || !strings.Contains(res.Skipped[0].String(), "np 2.0: have no wheel for python3.11/x86_64 (its x86_64 wheels need glibc 2.28") ||
			!strings.Contains(res.Skipped[0].String(), "pin one (==) to build it") {
			t.Errorf("skipped %v", res.Skipped)
		}
		// Pinned, it is built.
		res, err = resolveWith(t, ix, resolve.Options{}, "np==2.0")
		if err != nil {
			t.Fatal(err)
		}
		if p := pkgOf(t, res, "np"); !p.Sdist || !strings.Contains(p.Notes[0], "it has no wheel for python3.11/x86_64 (its x86_64 wheels need glibc 2.28") {
			t.Fatalf("got %+v", p)
		}
	})
	t.Run("--no-binary and --only-binary", func(t *testing.T) {
		for _, c := range []struct {
			opts  resolve.Options
			sdist bool
		}{
			{resolve.Options{}, false},
			{resolve.Options{NoBinary: []string{"MS"}}, true},
			{resolve.Options{NoBinary: []string{":all:"}}, true},
			{resolve.Options{NoBinary: []string{":all:"}, OnlyBinary: []string{"ms"}}, false},
			{resolve.Options{NoBinary: []string{"ms"}, OnlyBinary: []string{":all:"}}, true},
			{resolve.Options{NoBinary: []string{":all:", ":none:"}}, false},
		} {
			res, err := resolveWith(t, ix, c.opts, "ms")
			if err != nil {
				t.Fatalf("%+v: %v", c.opts, err)
			}
			p := pkgOf(t, res, "ms")
			if p.Sdist != c.sdist {
				t.Errorf("%+v: built=%v, want %v", c.opts, p.Sdist, c.sdist)
			}
			if c.sdist && !strings.HasSuffix(p.Notes[0], ": --no-binary") {
				t.Errorf("notes %q", p.Notes)
			}
		}
		_, err := resolveWith(t, ix, resolve.Options{NoBinary: []string{"ms"}, OnlyBinary: []string{"ms"}}, "ms")
		if err == nil || !strings.Contains(err.Error(), "ms named in both --no-binary and --only-binary") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("--no-build and --only-binary: wheels only, explained", func(t *testing.T) {
		for _, c := range []struct {
			opts resolve.Options
			want string
		}{
			{resolve.Options{NoBuild: true}, "--no-build rules out building it"},
			{resolve.Options{OnlyBinary: []string{"solo"}}, "--only-binary solo rules out building it"},
			{resolve.Options{OnlyBinary: []string{":all:"}}, "--only-binary :all: rules out building it"},
		} {
			_, err := resolveWith(t, ix, c.opts, "solo")
			var ns *resolve.NoSolutionError
			if !errors.As(err, &ns) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "have only source distributions (not built: ") {
				t.Errorf("%+v: got %v", c.opts, err)
			}
		}
		_, err := resolveWith(t, ix, resolve.Options{NoBuild: true, NoBinary: []string{"ms"}}, "ms")
		if err == nil || !strings.Contains(err.Error(), "ms==1.0 is excluded by --no-binary (and not built: --no-build)") {
			t.Errorf("got %v", err)
		}
	})
}

// TestRefusedFiles: a refused wheel gives way to the next file of the same
// version the target accepts, then to older versions; a refused sdist (a
// failed build) rules out building the package.
func TestRefusedFiles(t *testing.T) {
	ix := sdistIndex(t)
	bin := "mc-2.0-cp311-cp311-manylinux_2_17_x86_64.whl"
	res, err := resolveWith(t, ix, resolve.Options{}, "mc")
	if err != nil {
		t.Fatal(err)
	}
	if p := pkgOf(t, res, "mc"); p.File.Filename != bin {
		t.Fatalf("without refusals: %s", p.File.Filename)
	}
	res, err = resolveWith(t, ix, resolve.Options{Refused: map[string]string{bin: "missing-library: libssl.so.3"}}, "mc")
	if err != nil {
		t.Fatal(err)
	}
	p := pkgOf(t, res, "mc")
	if p.File.Filename != "mc-2.0-py2.py3-none-any.whl" || len(p.Notes) != 1 ||
		p.Notes[0] != "mc 2.0: "+bin+" was refused (missing-library: libssl.so.3); using mc-2.0-py2.py3-none-any.whl" {
		t.Fatalf("got %s %q", p.File.Filename, p.Notes)
	}
	res, err = resolveWith(t, ix, resolve.Options{Refused: map[string]string{bin: "bad", "mc-2.0-py2.py3-none-any.whl": "worse"}}, "mc")
	if err != nil {
		t.Fatal(err)
	}
	if p := pkgOf(t, res, "mc"); p.Version.String() != "1.0" || len(res.Skipped) != 1 || !strings.Contains(res.Skipped[0].String(), "mc 2.0: cannot be used: "+bin+" was refused (bad)") {
		t.Fatalf("got %+v, skipped %v", p, res.Skipped)
	}
	// solo's build failed: solo 1.0 would need a build too, so nothing is
	// left, and the error says why.
	_, err = resolveWith(t, ix, resolve.Options{Refused: map[string]string{"solo-2.0.tar.gz": "the C compiler failed"}}, "solo")
	if err == nil || !strings.Contains(err.Error(), "not built: building solo-2.0.tar.gz failed: the C compiler failed") {
		t.Fatalf("got %v", err)
	}
}

// TestSdistMetadataFails: an sdist whose metadata cannot be had (its
// backend is not on the index) is passed over for an older wheel, or, with
// nothing else, the error carries the build's failure.
func TestSdistMetadataFails(t *testing.T) {
	testutil.Python(t, "3.11")
	ix := sdistIndex(t)
	res, err := resolveWith(t, ix, resolve.Options{NoBinary: []string{"broken"}}, "broken")
	if err == nil {
		t.Fatalf("--no-binary broken with a broken sdist resolved: %+v", res.Packages)
	}
	var be *sdist.BuildError
	if !errors.As(err, &be) || be.Package != "broken" {
		t.Fatalf("want the build error inside, got %v", err)
	}
	_, err = resolveWith(t, ix, resolve.Options{}, "broken==2.0")
	if !errors.As(err, &be) || !strings.Contains(err.Error(), "broken==2.0 cannot be built from source (") {
		t.Fatalf("got %v", err)
	}
	// Unpinned, the wheel of 1.0 wins without the sdist ever being read.
	if res, err = resolveWith(t, ix, resolve.Options{}, "broken"); err != nil || pkgOf(t, res, "broken").Version.String() != "1.0" {
		t.Fatalf("got %v", err)
	}
	_, err = resolveWith(t, ix, resolve.Options{}, "brokenonly")
	var ns *resolve.NoSolutionError
	if !errors.As(err, &ns) || len(ns.Builds) != 1 || !errors.As(err, &be) {
		t.Fatalf("got %v", err)
	}
	t.Log(err)
}

// The index client leaves out wheels no Lambda target can install: a
// version with an sdist and only macOS and Windows wheels is still a
// version with no wheel for the target, built from its sdist when pinned,
// and explained with the platforms that exist.
func TestSdistBesideLeftOutWheels(t *testing.T) {
	ix := testutil.StartIndex(t, testutil.IndexOptions{})
	for _, tag := range []string{"cp311-cp311-macosx_11_0_arm64", "cp311-cp311-win_amd64"} {
		ix.AddWheel(testutil.Wheel{Name: "desk", Version: "2.0", Tags: []string{tag}})
	}
	ix.AddSdist(testutil.Sdist{Name: "desk", Version: "2.0"})
	ix.AddWheel(testutil.Wheel{Name: "desk", Version: "1.0", Tags: []string{"py3-none-any"}})
	res, err := resolveWith(t, ix, resolve.Options{}, "desk")
	if err != nil {
		t.Fatal(err)
	}
	if p := pkgOf(t, res, "desk"); p.Sdist || p.Version.String() != "1.0" {
		t.Fatalf("got %+v", p)
	}
	if len(res.Skipped) != 1 || !strings.Contains(res.Skipped[0].String(), "desk 2.0: have no wheel for python3.11/x86_64 (no x86_64 manylinux wheel; wheels exist for Windows, macOS)") {
		t.Errorf("skipped %v", res.Skipped)
	}
	res, err = resolveWith(t, ix, resolve.Options{}, "desk==2.0")
	if err != nil {
		t.Fatal(err)
	}
	if p := pkgOf(t, res, "desk"); !p.Sdist || p.File.Filename != "desk-2.0.tar.gz" {
		t.Fatalf("pinned: got %+v", p)
	}
}
