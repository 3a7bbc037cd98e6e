package app_test

import (
	"archive/zip"
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lambdapack/lambdapack/internal/app"
	"github.com/lambdapack/lambdapack/internal/index"
	"github.com/lambdapack/lambdapack/internal/testutil"
)

// e2eEntryTimes returns the distinct modification times in a zip.
func e2eEntryTimes(t *testing.T, p string) []time.Time {
	t.Helper()
	zr, err := zip.OpenReader(p)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var out []time.Time
	for _, f := range zr.File {
		m := f.Modified.UTC()
		if !slices.ContainsFunc(out, m.Equal) {
			out = append(out, m)
		}
	}
	return out
}

// TestE2EReproducible builds the same inputs from the real index with a cold
// cache and with the warm shared one: the zips are byte-identical.
// SOURCE_DATE_EPOCH changes the bytes (the entries' timestamps), and two
// builds with the same SOURCE_DATE_EPOCH agree again. Not parallel: it sets
// SOURCE_DATE_EPOCH in the process environment.
func TestE2EReproducible(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "")
	// A pure package with dependencies and a binary one (its wheel's
	// deflated members are copied raw).
	deps := app.Inputs{Requirements: []string{"requests", "orjson"}}
	build := func(cacheDir, name string) *app.ArtifactReport {
		t.Helper()
		env := e2eEnv(t, app.EnvOptions{CacheDir: cacheDir})
		return e2eBuild(t, env, app.ArtifactOptions{
			Kind: app.KindLayer, Deps: deps, Runtime: "python3.12", Arch: "arm64",
			Output: filepath.Join(t.TempDir(), name),
		})
	}
	cold := t.TempDir()
	a := build(cold, "a.zip")                    // cold cache: everything downloaded
	b := build(testutil.SharedCache(t), "b.zip") // another, warm, cache
	if a.RequirementsSHA256 != b.RequirementsSHA256 {
		t.Fatalf("the two builds resolved different sets (the index changed under the test?): %+v vs %+v", a.Packages, b.Packages)
	}
	if a.SHA256 != b.SHA256 {
		t.Errorf("same inputs, different cache folders: sha256 %s vs %s", a.SHA256, b.SHA256)
	}
	ab, _ := os.ReadFile(a.Path)
	bb, _ := os.ReadFile(b.Path)
	if !bytes.Equal(ab, bb) {
		t.Errorf("the zips differ (%d and %d bytes)", len(ab), len(bb))
	}
	if got := e2eEntryTimes(t, a.Path); len(got) != 1 || !got[0].Equal(time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("without SOURCE_DATE_EPOCH every entry should carry 1980-01-01, got %v", got)
	}

	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	c := build(testutil.SharedCache(t), "c.zip")
	t.Setenv("SOURCE_DATE_EPOCH", "1600000000")
	d := build(testutil.SharedCache(t), "d.zip")
	e := build(cold, "e.zip") // the same SOURCE_DATE_EPOCH as d, another cache
	if c.SHA256 == a.SHA256 || d.SHA256 == a.SHA256 || c.SHA256 == d.SHA256 {
		t.Errorf("SOURCE_DATE_EPOCH did not change the zip: unset %s, 1700000000 %s, 1600000000 %s", a.SHA256, c.SHA256, d.SHA256)
	}
	if d.SHA256 != e.SHA256 {
		t.Errorf("same SOURCE_DATE_EPOCH, different sha256: %s vs %s", d.SHA256, e.SHA256)
	}
	if got := e2eEntryTimes(t, c.Path); len(got) != 1 || !got[0].Equal(time.Unix(1700000000, 0).UTC()) {
		t.Errorf("SOURCE_DATE_EPOCH=1700000000: entry times %v", got)
	}
	if !slices.Equal(testutil.ZipNames(t, a.Path), testutil.ZipNames(t, c.Path)) {
		t.Errorf("SOURCE_DATE_EPOCH changed the entries, not only their times")
	}
}

// TestOfflineNeedsTheCache: --offline on an empty cache fails, naming what
// it lacks, without a single request; after one online build it succeeds
// with the index gone.
func TestOfflineNeedsTheCache(t *testing.T) {
	t.Parallel()
	ix := testutil.StartIndex(t, testutil.IndexOptions{})
	ix.AddWheel(testutil.Wheel{Name: "alpha", Version: "1.0", RequiresDist: []string{"beta>=2"},
		Files: map[string][]byte{"alpha/__init__.py": []byte("import beta\n")}})
	ix.AddWheel(testutil.Wheel{Name: "beta", Version: "2.1",
		Files: map[string][]byte{"beta/__init__.py": []byte("B = 2\n")}})
	cacheDir := t.TempDir()
	outDir := t.TempDir()
	settings := index.Settings{IndexURL: ix.URL}
	opts := func(name string) app.ArtifactOptions {
		return app.ArtifactOptions{Kind: app.KindLayer, Deps: app.Inputs{Requirements: []string{"alpha"}},
			Runtime: "python3.12", Arch: "x86_64", Output: filepath.Join(outDir, name)}
	}

	env := e2eEnv(t, app.EnvOptions{CacheDir: cacheDir, Offline: true, Index: settings})
	_, err := app.BuildArtifact(context.Background(), env, opts("offline-cold.zip"))
	if err == nil {
		t.Fatal("an offline build on an empty cache succeeded")
	}
	t.Logf("offline, empty cache: %v", err)
	if !strings.Contains(err.Error(), "alpha") || !strings.Contains(strings.ToLower(err.Error()), "offline") {
		t.Errorf("the error should say it is offline and name what is missing (alpha): %v", err)
	}
	for _, p := range []string{"/simple/alpha/", "/simple/beta/", "/files/" + (testutil.Wheel{Name: "alpha", Version: "1.0"}).Filename() + ".metadata"} {
		if n := ix.Hits(p); n != 0 {
			t.Errorf("offline build asked the index for %s (%d times)", p, n)
		}
	}
	if left := testutil.DirNames(t, outDir); len(left) > 0 {
		t.Errorf("failed build left %v", left)
	}

	// An online run that resolves (caching the pages and metadata) but
	// cannot download the wheels; offline, the next run lists both wheels
	// it lacks.
	alphaWheel := (testutil.Wheel{Name: "alpha", Version: "1.0"}).Filename()
	betaWheel := (testutil.Wheel{Name: "beta", Version: "2.1"}).Filename()
	ix.FailNext("/files/"+alphaWheel, 404)
	ix.FailNext("/files/"+betaWheel, 404)
	if _, err := app.BuildArtifact(context.Background(), e2eEnv(t, app.EnvOptions{CacheDir: cacheDir, Index: settings}), opts("downloads-fail.zip")); err == nil {
		t.Fatal("a build whose downloads answer 404 succeeded")
	}
	// The first 404 may cancel the other download before it is asked for:
	// use up a failure nobody met, so the online build below is served.
	for _, w := range []string{alphaWheel, betaWheel} {
		if ix.Hits("/files/"+w) == 0 {
			if resp, err := http.Get(ix.FileURL(w)); err == nil {
				resp.Body.Close()
			}
		}
	}
	_, err = app.BuildArtifact(context.Background(), e2eEnv(t, app.EnvOptions{CacheDir: cacheDir, Offline: true, Index: settings}), opts("offline-no-wheels.zip"))
	if err == nil {
		t.Fatal("an offline build without the wheels in the cache succeeded")
	}
	t.Logf("offline, pages cached, wheels not: %v", err)
	for _, w := range []string{alphaWheel, betaWheel} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("the offline error should list the missing %s: %v", w, err)
		}
	}
	if left := testutil.DirNames(t, outDir); len(left) > 0 {
		t.Errorf("failed builds left %v", left)
	}

	online := e2eBuild(t, e2eEnv(t, app.EnvOptions{CacheDir: cacheDir, Index: settings}), opts("online.zip"))
	ix.Server.Close() // from here on, anything that reaches for the index fails

	off := e2eBuild(t, e2eEnv(t, app.EnvOptions{CacheDir: cacheDir, Offline: true, Index: settings}), opts("offline-warm.zip"))
	if off.SHA256 != online.SHA256 {
		t.Errorf("offline build from the cache differs from the online one: %s vs %s", off.SHA256, online.SHA256)
	}
	var got []string
	for _, p := range off.Packages {
		got = append(got, p.Name+"=="+p.Version)
	}
	if !slices.Equal(got, []string{"alpha==1.0", "beta==2.1"}) {
		t.Errorf("offline build installed %v", got)
	}
}
