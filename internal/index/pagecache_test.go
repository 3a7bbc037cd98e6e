package index

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/lambdapack/lambdapack/internal/testutil"
)

// multiPlatform is a project with wheels for every platform, a Python 2
// wheel and an sdist, the way big projects publish.
func multiPlatform(t *testing.T, opts testutil.IndexOptions) *testutil.Index {
	ix := testutil.StartIndex(t, opts)
	for _, tag := range []string{
		"cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64",
		"cp312-cp312-manylinux_2_28_aarch64",
		"cp312-cp312-macosx_11_0_arm64",
		"cp312-cp312-macosx_10_9_x86_64",
		"cp312-cp312-win_amd64",
		"cp312-cp312-musllinux_1_2_x86_64",
		"cp312-cp312-manylinux_2_17_ppc64le",
		"cp27-cp27mu-manylinux1_x86_64",
		"pp310-pypy310_pp73-manylinux_2_17_x86_64",
	} {
		ix.AddWheel(testutil.Wheel{Name: "multi", Version: "1.0", Tags: []string{tag}})
	}
	ix.AddWheel(testutil.Wheel{Name: "multi", Version: "0.9", Tags: []string{"cp312-cp312-win_amd64"}})
	ix.AddWheel(testutil.Wheel{Name: "multi", Version: "0.8", Tags: []string{"py2.py3-none-any"}})
	ix.AddSdist(testutil.Sdist{Name: "multi", Version: "1.0"})
	return ix
}

func filenames(p *Project) []string {
	var out []string
	for _, f := range p.Files {
		out = append(out, f.Filename)
	}
	slices.Sort(out)
	return out
}

// A page keeps the wheels a Lambda target may install and every sdist, and
// summarises the rest per version; the cache holds one entry for it, and a
// warm run sees exactly what the cold one did. Both page formats agree.
func TestPageKeepsLambdaFiles(t *testing.T) {
	for _, format := range []testutil.IndexFormat{testutil.FormatJSON, testutil.FormatHTML} {
		ix := multiPlatform(t, testutil.IndexOptions{Format: format})
		dir := t.TempDir()
		cold, err := fastClient(t, Config{IndexURL: ix.URL}, WithCacheDir(dir)).Project(context.Background(), "multi")
		if err != nil {
			t.Fatal(err)
		}
		want := []string{
			"multi-0.8-py2.py3-none-any.whl",
			"multi-1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
			"multi-1.0-cp312-cp312-manylinux_2_28_aarch64.whl",
			"multi-1.0.tar.gz",
		}
		if diff := gocmp.Diff(want, filenames(cold)); diff != "" {
			t.Errorf("format %v: files (-want +got):\n%s", format, diff)
		}
		wantElse := []Elsewhere{
			{Version: "1.0", Tags: []string{
				"cp27-cp27mu-manylinux1_x86_64", "cp312-cp312-macosx_10_9_x86_64", "cp312-cp312-manylinux_2_17_ppc64le",
				"cp312-cp312-musllinux_1_2_x86_64", "cp312-cp312-win_amd64", "pp310-pypy310_pp73-manylinux_2_17_x86_64"}},
			{Version: "0.9", Tags: []string{"cp312-cp312-win_amd64"}},
		}
		// One tag per platform family: macOS once, though two wheels.
		sortElse := func(es []Elsewhere) []Elsewhere {
			es = slices.Clone(es)
			slices.SortFunc(es, func(a, b Elsewhere) int { return strings.Compare(a.Version, b.Version) })
			return es
		}
		if diff := gocmp.Diff(sortElse(wantElse), sortElse(cold.Elsewhere)); diff != "" {
			t.Errorf("format %v: elsewhere (-want +got):\n%s", format, diff)
		}
		pages, _ := filepath.Glob(filepath.Join(dir, "pages-v3", "*", "*"))
		if len(pages) != 1 {
			t.Errorf("format %v: page cache %v, want one entry", format, pages)
		}
		hits := ix.Hits("/simple/multi/")
		warm, err := fastClient(t, Config{IndexURL: ix.URL}, WithCacheDir(dir)).Project(context.Background(), "multi")
		if err != nil {
			t.Fatal(err)
		}
		if ix.Hits("/simple/multi/") != hits {
			t.Errorf("format %v: the warm run asked the index", format)
		}
		if diff := gocmp.Diff(cold, warm); diff != "" {
			t.Errorf("format %v: warm differs from cold (-cold +warm):\n%s", format, diff)
		}
		// A damaged entry is a miss, never trusted.
		if err := os.WriteFile(pages[0], []byte("{\"url\":\"x\",\"status\":200}\nnot a page"), 0o644); err != nil {
			t.Fatal(err)
		}
		again, err := fastClient(t, Config{IndexURL: ix.URL}, WithCacheDir(dir)).Project(context.Background(), "multi")
		if err != nil {
			t.Fatal(err)
		}
		if ix.Hits("/simple/multi/") != hits+1 || !gocmp.Equal(filenames(again), want) {
			t.Errorf("format %v: after a damaged entry: %d requests, files %v", format, ix.Hits("/simple/multi/")-hits, filenames(again))
		}
	}
}

// Older layouts (raw pages, their parsed copies, metadata per wheel URL)
// are removed when a client opens the cache; other folders stay.
func TestOldLayoutsRemoved(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"simple-v2/ab/abcd", "parsed-v1/ab/abcd", "metadata-v1/ab/abcd", "simple-v1/ab/abcd", "other/keep"} {
		testutil.WriteFiles(t, dir, map[string]string{p: "x"})
	}
	fastClient(t, Config{IndexURL: "http://127.0.0.1:9/simple/"}, WithCacheDir(dir))
	for _, old := range oldLayouts {
		if _, err := os.Stat(filepath.Join(dir, old)); !os.IsNotExist(err) {
			t.Errorf("%s is still there: %v", old, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "other", "keep")); err != nil {
		t.Errorf("a folder that is not an old layout was touched: %v", err)
	}
}

// Metadata files are stored once by their content's sha256, however many
// wheels share them; without an index hash (range requests), a small
// pointer per wheel leads to the content.
func TestMetadataStoredOnce(t *testing.T) {
	for _, noMeta := range []bool{false, true} {
		ix := testutil.StartIndex(t, testutil.IndexOptions{NoMetadata: noMeta})
		for _, tag := range []string{"cp312-cp312-manylinux_2_17_x86_64", "cp312-cp312-manylinux_2_17_aarch64"} {
			ix.AddWheel(testutil.Wheel{Name: "same", Version: "1.0", Tags: []string{tag}, RequiresDist: []string{"dep"}})
		}
		dir := t.TempDir()
		read := func() {
			c := fastClient(t, Config{IndexURL: ix.URL}, WithCacheDir(dir))
			p, err := c.Project(context.Background(), "same")
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range p.Files {
				if _, err := c.Metadata(context.Background(), f); err != nil {
					t.Fatal(err)
				}
			}
		}
		read()
		contents, _ := filepath.Glob(filepath.Join(dir, "metadata-v2", "sha256", "*", "*"))
		pointers, _ := filepath.Glob(filepath.Join(dir, "metadata-v2", "by-file", "*", "*"))
		wantPointers := 0
		if noMeta {
			wantPointers = 2
		}
		if len(contents) != 1 || len(pointers) != wantPointers {
			t.Errorf("no metadata files %v: %d contents, %d pointers; want 1 and %d", noMeta, len(contents), len(pointers), wantPointers)
		}
		served := ix.BytesServed("")
		read()
		if got := ix.BytesServed(""); got != served && !noMeta {
			t.Errorf("the warm run fetched %d bytes", got-served)
		}
	}
}

// Serving an entry marks it used, so that `lambdapack cache prune` keeps
// what runs read.
func TestCacheHitsMarkUse(t *testing.T) {
	ix := testutil.StartIndex(t, testutil.IndexOptions{})
	ix.AddWheel(testutil.Wheel{Name: "used", Version: "1.0"})
	dir := t.TempDir()
	read := func() {
		c := fastClient(t, Config{IndexURL: ix.URL}, WithCacheDir(dir))
		p, err := c.Project(context.Background(), "used")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Metadata(context.Background(), p.Files[0]); err != nil {
			t.Fatal(err)
		}
	}
	read()
	var files []string
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	if len(files) != 2 {
		t.Fatalf("cache files %v, want a page and a metadata file", files)
	}
	old := time.Now().Add(-90 * 24 * time.Hour)
	for _, f := range files {
		os.Chtimes(f, old, old)
	}
	read()
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if time.Since(fi.ModTime()) > time.Hour {
			t.Errorf("%s was served but not marked used (modified %v)", f, fi.ModTime())
		}
	}
}

// An entry that would hold a known secret (a link with the password in its
// query) is not stored at all.
func TestPageWithSecretNotStored(t *testing.T) {
	const user, pass = "bob", "query-s3cret"
	ix := testutil.StartIndex(t, testutil.IndexOptions{BasicAuth: user + ":" + pass})
	w := testutil.Wheel{Name: "leaky", Version: "1.0"}
	ix.AddWheel(w, testutil.LinkedAs("http://files.invalid/"+w.Filename()+"?token="+pass))
	dir := t.TempDir()
	withCreds := strings.Replace(ix.URL, "http://", "http://"+user+":"+pass+"@", 1)
	p, err := fastClient(t, Config{IndexURL: withCreds}, WithCacheDir(dir)).Project(context.Background(), "leaky")
	if err != nil || len(p.Files) != 1 {
		t.Fatalf("%v %+v", err, p)
	}
	if pages, _ := filepath.Glob(filepath.Join(dir, "pages-v3", "*", "*")); len(pages) != 0 {
		t.Errorf("a page holding the password was cached: %v", pages)
	}
}

// The transport, and with it the certificate pool, is made on the first
// request: a client served from the cache never loads them, and a CA
// bundle that cannot be read fails the first request at once, naming it.
func TestTransportIsLazy(t *testing.T) {
	ix := testutil.StartIndex(t, testutil.IndexOptions{})
	ix.AddWheel(testutil.Wheel{Name: "lazy", Version: "1.0"})
	t.Setenv("PIP_CERT", filepath.Join(t.TempDir(), "missing.pem"))
	t.Setenv("SSL_CERT_FILE", "")
	t.Setenv("REQUESTS_CA_BUNDLE", "")
	c, err := NewClient(Config{IndexURL: ix.URL}, WithRetries(3, time.Millisecond))
	if err != nil {
		t.Fatalf("NewClient read the CA bundle: %v", err)
	}
	_, err = c.Project(context.Background(), "lazy")
	if err == nil || !strings.Contains(err.Error(), "reading the CA bundle") || !strings.Contains(err.Error(), "PIP_CERT") {
		t.Fatalf("err = %v, want the CA bundle named", err)
	}
	if strings.Contains(err.Error(), "attempts") || ix.Hits("/simple/lazy/") != 0 {
		t.Errorf("a transport that cannot be made was retried: %v", err)
	}
}

// The memo of projects lets go of a page the disk cache holds (a long
// project build keeps no page it is done with) and reads it again from
// the disk, without asking the index; a page the disk cache does not hold
// (Cache-Control: no-store) is kept.
func TestProjectMemoLetsGo(t *testing.T) {
	ix := testutil.StartIndex(t, testutil.IndexOptions{})
	ix.AddWheel(testutil.Wheel{Name: "kept", Version: "1.0"})
	c := fastClient(t, Config{IndexURL: ix.URL}, WithCacheDir(t.TempDir()))
	first, err := c.Project(context.Background(), "kept")
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.GC()
	c.mu.Lock()
	collected := c.projects["kept"].value() == nil
	c.mu.Unlock()
	if !collected {
		t.Error("the memo still holds a page the disk cache has")
	}
	second, err := c.Project(context.Background(), "kept")
	if err != nil {
		t.Fatal(err)
	}
	if n := ix.Hits("/simple/kept/"); n != 1 {
		t.Errorf("the index was asked %d times, want once", n)
	}
	if !gocmp.Equal(first, second) {
		t.Errorf("read again: %+v, first %+v", second, first)
	}

	// Without a disk cache the memo holds the answer.
	nc := fastClient(t, Config{IndexURL: ix.URL})
	if _, err := nc.Project(context.Background(), "kept"); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.GC()
	if _, err := nc.Project(context.Background(), "kept"); err != nil {
		t.Fatal(err)
	}
	if n := ix.Hits("/simple/kept/"); n != 2 {
		t.Errorf("the index was asked %d times in all, want twice", n)
	}
}
