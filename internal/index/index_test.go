package index

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lambdapack/lambdapack/internal/testutil"
)

func fastClient(t *testing.T, cfg Config, opts ...Option) *Client {
	t.Helper()
	t.Setenv("NETRC", filepath.Join(t.TempDir(), "none"))
	c, err := NewClient(cfg, append([]Option{WithRetries(3, time.Millisecond)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// bigWheel has an incompressible payload after its dist-info so that reading
// the whole wheel is easy to tell from reading its directory.
func bigWheel(name, version string, deps ...string) testutil.Wheel {
	payload := make([]byte, 512<<10)
	rand.Read(payload)
	return testutil.Wheel{Name: name, Version: version, RequiresDist: deps,
		Files: map[string][]byte{strings.ToLower(name) + "/data.bin": payload, strings.ToLower(name) + "/__init__.py": []byte("")}}
}

// mustProject lists a project's files, failing the test on error.
func mustProject(t *testing.T, c *Client, name string) *Project {
	t.Helper()
	p, err := c.Project(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// mustDownload reads a file whole, failing the test on error.
func mustDownload(t *testing.T, c *Client, f File) []byte {
	t.Helper()
	rc, err := c.Open(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func findFile(t *testing.T, p *Project, filename string) File {
	t.Helper()
	for _, f := range p.Files {
		if f.Filename == filename {
			return f
		}
	}
	t.Fatalf("%s not listed; have %v", filename, p.Files)
	return File{}
}

func TestProjectJSONAndHTML(t *testing.T) {
	for _, format := range []testutil.IndexFormat{testutil.FormatJSON, testutil.FormatHTML} {
		t.Run(fmt.Sprint(format), func(t *testing.T) {
			ix := testutil.StartIndex(t, testutil.IndexOptions{Format: format})
			w := testutil.Wheel{Name: "Demo_Pkg", Version: "1.0", RequiresPython: ">=3.9", RequiresDist: []string{"dep>=2"}}
			ix.AddWheel(w, testutil.UploadedAt(time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)))
			ix.AddWheel(testutil.Wheel{Name: "demo-pkg", Version: "0.9"}, testutil.Yanked("bad build"))
			ix.AddSdist(testutil.Sdist{Name: "demo-pkg", Version: "1.0"})
			c := fastClient(t, Config{IndexURL: ix.URL})
			p := mustProject(t, c, "Demo.Pkg")
			if p.Name != "demo-pkg" || len(p.Files) != 3 || p.Index != ix.URL {
				t.Fatalf("project %+v", p)
			}
			f := findFile(t, p, w.Filename())
			if f.URL != ix.FileURL(w.Filename()) || f.Hashes["sha256"] != ix.SHA256(w.Filename()) || f.RequiresPython != ">=3.9" || f.Yanked {
				t.Fatalf("file %+v", f)
			}
			if f.MetadataURL != f.URL+".metadata" || len(f.MetadataHashes["sha256"]) != 64 {
				t.Fatalf("metadata url/hash %+v", f)
			}
			if format == testutil.FormatJSON {
				if f.Size != int64(len(w.Bytes())) || !f.UploadTime.Equal(time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)) {
					t.Fatalf("PEP 700 fields %+v", f)
				}
				if fmt.Sprint(p.Versions) != "[0.9 1.0]" {
					t.Fatalf("versions %v", p.Versions)
				}
			} else if f.Size != -1 {
				t.Fatalf("HTML has no size: %+v", f)
			}
			y := findFile(t, p, testutil.Wheel{Name: "demo-pkg", Version: "0.9"}.Filename())
			if !y.Yanked || y.YankedReason != "bad build" {
				t.Fatalf("yanked %+v", y)
			}
			md, err := c.Metadata(context.Background(), f)
			if err != nil {
				t.Fatal(err)
			}
			if string(md) != w.Metadata() {
				t.Fatalf("metadata %q", md)
			}
			if ix.Hits("/files/"+w.Filename()) != 0 {
				t.Fatal("the wheel was fetched although a metadata file exists")
			}
		})
	}
}

func TestLegacyMetadataKey(t *testing.T) {
	for _, format := range []testutil.IndexFormat{testutil.FormatJSON, testutil.FormatHTML} {
		ix := testutil.StartIndex(t, testutil.IndexOptions{Format: format, LegacyMetadataKey: true})
		w := testutil.Wheel{Name: "old", Version: "1"}
		ix.AddWheel(w)
		c := fastClient(t, Config{IndexURL: ix.URL})
		p := mustProject(t, c, "old")
		if p.Files[0].MetadataURL == "" || p.Files[0].MetadataHashes["sha256"] == "" {
			t.Fatalf("format %d: dist-info-metadata not read: %+v", format, p.Files[0])
		}
	}
}

func TestMetadataByRangeRequests(t *testing.T) {
	for _, format := range []testutil.IndexFormat{testutil.FormatJSON, testutil.FormatHTML} {
		ix := testutil.StartIndex(t, testutil.IndexOptions{Format: format, NoMetadata: true})
		w := bigWheel("big", "2.0", "numpy>=1")
		whl := w.Bytes()
		ix.AddWheel(w)
		c := fastClient(t, Config{IndexURL: ix.URL})
		p := mustProject(t, c, "big")
		f := p.Files[0]
		if f.MetadataURL != "" {
			t.Fatalf("metadata URL without PEP 658: %+v", f)
		}
		md, err := c.Metadata(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		if string(md) != w.Metadata() {
			t.Fatalf("metadata %q", md)
		}
		served := ix.BytesServed("/files/" + w.Filename())
		if served == 0 || served >= int64(len(whl))/2 {
			t.Fatalf("served %d bytes of a %d-byte wheel: the range path should read far less", served, len(whl))
		}
		t.Logf("format %d: read METADATA with %d requests, %d of %d bytes", format, ix.Hits("/files/"+w.Filename()), served, len(whl))
		if ix.Hits("/files/"+w.Filename()+".metadata") != 0 {
			t.Fatal("asked for a metadata file the index did not announce")
		}
	}
}

func TestMetadataRangeIgnoredFallsBackToDownload(t *testing.T) {
	ix := testutil.StartIndex(t, testutil.IndexOptions{NoMetadata: true, NoRanges: true})
	w := bigWheel("big", "2.0")
	ix.AddWheel(w)
	c := fastClient(t, Config{IndexURL: ix.URL})
	p := mustProject(t, c, "big")
	md, err := c.Metadata(context.Background(), p.Files[0])
	if err != nil {
		t.Fatal(err)
	}
	if string(md) != w.Metadata() {
		t.Fatalf("metadata %q", md)
	}
	if got := ix.Hits("/files/" + w.Filename()); got != 1 {
		t.Fatalf("%d requests for the wheel, want one full download", got)
	}
}

func TestMetadataHashMismatch(t *testing.T) {
	w := testutil.Wheel{Name: "m", Version: "1"}
	bad := []byte("Metadata-Version: 2.1\nName: m\nVersion: 666\n")
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/simple/m/":
			rw.Header().Set("Content-Type", "text/html")
			fmt.Fprintf(rw, `<a href="/f/%s" data-core-metadata="sha256=%s">x</a>`, w.Filename(), strings.Repeat("0", 64))
		case "/f/" + w.Filename() + ".metadata":
			rw.Write(bad)
		default:
			http.NotFound(rw, r)
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	c := fastClient(t, Config{IndexURL: srv.URL + "/simple/"}, WithCacheDir(dir))
	p := mustProject(t, c, "m")
	_, err := c.Metadata(context.Background(), p.Files[0])
	if !errors.Is(err, ErrHash) {
		t.Fatalf("want a hash mismatch, got %v", err)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "metadata-v2", "*", "*", "*")); len(m) != 0 {
		t.Fatalf("bad metadata was cached: %v", m)
	}
}

func TestNotFound(t *testing.T) {
	ix := testutil.StartIndex(t, testutil.IndexOptions{})
	c := fastClient(t, Config{IndexURL: ix.URL})
	_, err := c.Project(context.Background(), "nope")
	var nf *NotFoundError
	if !errors.As(err, &nf) || !errors.Is(err, ErrNotFound) {
		t.Fatalf("want NotFoundError, got %T %v", err, err)
	}
	if !strings.Contains(err.Error(), ix.URL) || !strings.Contains(err.Error(), `"nope"`) {
		t.Fatalf("error should name index and package: %v", err)
	}
}

func TestRetry500Then200(t *testing.T) {
	ix := testutil.StartIndex(t, testutil.IndexOptions{})
	ix.AddWheel(testutil.Wheel{Name: "flaky", Version: "1"})
	ix.FailNext("/simple/flaky/", 500, 503)
	c := fastClient(t, Config{IndexURL: ix.URL})
	p := mustProject(t, c, "flaky")
	if len(p.Files) != 1 || ix.Hits("/simple/flaky/") != 3 {
		t.Fatalf("files %d hits %d", len(p.Files), ix.Hits("/simple/flaky/"))
	}
	// Persistent failure: an error naming the index and package after the
	// configured attempts.
	ix.AddWheel(testutil.Wheel{Name: "down", Version: "1"})
	ix.FailNext("/simple/down/", 500, 500, 500, 500)
	_, err := c.Project(context.Background(), "down")
	if err == nil || !strings.Contains(err.Error(), "HTTP 500") || !strings.Contains(err.Error(), `"down"`) || !strings.Contains(err.Error(), ix.URL) {
		t.Fatalf("want a 500 error naming package and index, got %v", err)
	}
	if ix.Hits("/simple/down/") != 3 {
		t.Fatalf("tried %d times, want 3", ix.Hits("/simple/down/"))
	}
}

func TestRetryConnectionReset(t *testing.T) {
	var n atomic.Int32
	ix := testutil.StartIndex(t, testutil.IndexOptions{})
	ix.AddWheel(testutil.Wheel{Name: "r", Version: "1"})
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			hj, _ := rw.(http.Hijacker)
			conn, _, _ := hj.Hijack()
			conn.Close() // drop the connection without an answer
			return
		}
		ix.Server.Config.Handler.ServeHTTP(rw, r)
	}))
	defer srv.Close()
	c := fastClient(t, Config{IndexURL: srv.URL + "/simple/"})
	if _, err := c.Project(context.Background(), "r"); err != nil {
		t.Fatal(err)
	}
	if n.Load() != 2 {
		t.Fatalf("%d requests", n.Load())
	}
}

// badServer serves one project page with the given status, content type and body.
func badServer(t *testing.T, status int, ct string, body string, contentLength int) string {
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", ct)
		if contentLength > 0 {
			rw.Header().Set("Content-Length", fmt.Sprint(contentLength))
		}
		rw.WriteHeader(status)
		io.WriteString(rw, body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/simple/"
}

func TestBadPages(t *testing.T) {
	cases := []struct {
		name, ct, body string
		clen           int
		want           error
	}{
		{"malformed json", jsonType, `{"meta": {"api-version": "1.0"}, "files": [`, 0, ErrMalformed},
		{"json without files", jsonType, `{"meta": {"api-version": "1.0"}, "name": "x"}`, 0, ErrMalformed},
		{"json api v2", jsonType, `{"meta": {"api-version": "2.0"}, "name": "x", "files": []}`, 0, ErrMalformed},
		{"malformed html", "text/html", `<html><body><a href="x-1.0.tar.gz`, 0, ErrMalformed},
		{"truncated", "text/html", `<html><body>`, 5000, ErrTruncated},
		{"wrong content type", "application/octet-stream", `PK...`, 0, ErrContentType},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u := badServer(t, 200, tc.ct, tc.body, tc.clen)
			dir := t.TempDir()
			c := fastClient(t, Config{IndexURL: u}, WithCacheDir(dir))
			_, err := c.Project(context.Background(), "x")
			if !errors.Is(err, tc.want) {
				t.Fatalf("want %v, got %v", tc.want, err)
			}
			if !strings.Contains(err.Error(), `"x"`) || !strings.Contains(err.Error(), u) {
				t.Fatalf("error should name index and package: %v", err)
			}
			if m, _ := filepath.Glob(filepath.Join(dir, "pages-v3", "*", "*")); len(m) != 0 {
				t.Fatalf("a bad page was cached: %v", m)
			}
		})
	}
}

func TestMultiIndexFirstWins(t *testing.T) {
	private := testutil.StartIndex(t, testutil.IndexOptions{})
	public := testutil.StartIndex(t, testutil.IndexOptions{})
	private.AddWheel(testutil.Wheel{Name: "internal-lib", Version: "1.0"})
	public.AddWheel(testutil.Wheel{Name: "internal-lib", Version: "99.0"}) // the attacker's upload
	public.AddWheel(testutil.Wheel{Name: "requests", Version: "2.0"})
	c := fastClient(t, Config{IndexURL: private.URL, ExtraIndexURLs: []string{public.URL}})
	p := mustProject(t, c, "internal-lib")
	if len(p.Files) != 1 || !strings.Contains(p.Files[0].Filename, "1.0") || p.Index != private.URL || p.Files[0].Index != private.URL {
		t.Fatalf("want only the first index's files: %+v", p)
	}
	if public.Hits("/simple/internal-lib/") != 0 {
		t.Fatal("the extra index was asked although the first one has the project")
	}
	p = mustProject(t, c, "requests")
	if p.Index != public.URL {
		t.Fatalf("requests should come from the extra index: %+v", p)
	}
}

func TestFindLinksFolderAndFlatPage(t *testing.T) {
	dir := t.TempDir()
	w := testutil.Wheel{Name: "local_pkg", Version: "0.1", RequiresDist: []string{"six"}}
	os.WriteFile(filepath.Join(dir, w.Filename()), w.Bytes(), 0o644)
	sd := testutil.Sdist{Name: "local-pkg", Version: "0.2"}
	os.WriteFile(filepath.Join(dir, sd.Filename()), sd.Bytes(), 0o644)
	os.WriteFile(filepath.Join(dir, "other-1.0-py3-none-any.whl"), testutil.Wheel{Name: "other", Version: "1.0"}.Bytes(), 0o644)
	os.WriteFile(filepath.Join(dir, "README.txt"), []byte("hi"), 0o644)

	flat := testutil.StartIndex(t, testutil.IndexOptions{})
	fw := testutil.Wheel{Name: "local-pkg", Version: "0.3"}
	flat.AddWheel(fw)
	page := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(rw, "<html><body><a href=\"%s#sha256=%s\">%s</a>\n<a href=\"../docs/\">docs</a></body></html>", flat.FileURL(fw.Filename()), flat.SHA256(fw.Filename()), fw.Filename())
	}))
	defer page.Close()

	var logs bytes.Buffer
	c := fastClient(t, Config{NoIndex: true, FindLinks: []string{dir, page.URL + "/links.html", filepath.Join(dir, "missing")}},
		WithLogger(slogTo(&logs)))
	p := mustProject(t, c, "Local-Pkg")
	if len(p.Files) != 3 {
		t.Fatalf("files %+v", p.Files)
	}
	lw := findFile(t, p, w.Filename())
	if !strings.HasPrefix(lw.URL, "file://") || lw.Hashes["sha256"] == "" || lw.Size != int64(len(w.Bytes())) {
		t.Fatalf("local wheel %+v", lw)
	}
	md, err := c.Metadata(context.Background(), lw)
	if err != nil || string(md) != w.Metadata() {
		t.Fatalf("local metadata %q %v", md, err)
	}
	rf := findFile(t, p, fw.Filename())
	if rf.Hashes["sha256"] != flat.SHA256(fw.Filename()) {
		t.Fatalf("flat page file %+v", rf)
	}
	rc, err := c.Open(context.Background(), rf)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(got, fw.Bytes()) {
		t.Fatal("downloaded bytes differ")
	}
	if !strings.Contains(logs.String(), "missing") {
		t.Fatalf("no warning about the missing folder: %s", logs.String())
	}
	if _, err := c.Project(context.Background(), "six"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("want not found with no-index, got %v", err)
	}
}

func TestMissingFindLinksIsAWarning(t *testing.T) {
	ix := testutil.StartIndex(t, testutil.IndexOptions{})
	ix.AddWheel(testutil.Wheel{Name: "a", Version: "1"})
	empty := t.TempDir()
	c := fastClient(t, Config{IndexURL: ix.URL, FindLinks: []string{"/nonexistent/wheels", empty}})
	p, err := c.Project(context.Background(), "a")
	if err != nil || len(p.Files) != 1 {
		t.Fatalf("%v %+v", err, p)
	}
}

func TestETagRevalidation(t *testing.T) {
	var full, notMod atomic.Int32
	body := `<html><body><a href="/f/e-1.0-py3-none-any.whl#sha256=` + strings.Repeat("a", 64) + `">e</a></body></html>`
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") == `"v1"` {
			notMod.Add(1)
			rw.WriteHeader(http.StatusNotModified)
			return
		}
		full.Add(1)
		rw.Header().Set("ETag", `"v1"`)
		rw.Header().Set("Cache-Control", "max-age=0")
		rw.Header().Set("Content-Type", "text/html")
		io.WriteString(rw, body)
	}))
	defer srv.Close()
	dir := t.TempDir()
	for i := 0; i < 3; i++ {
		c := fastClient(t, Config{IndexURL: srv.URL + "/simple/"}, WithCacheDir(dir))
		p, err := c.Project(context.Background(), "e")
		if err != nil || len(p.Files) != 1 {
			t.Fatalf("run %d: %v %+v", i, err, p)
		}
	}
	if full.Load() != 1 || notMod.Load() != 2 {
		t.Fatalf("full %d, 304 %d: want 1 and 2", full.Load(), notMod.Load())
	}
	// Offline: from the cache, no request.
	c := fastClient(t, Config{IndexURL: srv.URL + "/simple/"}, WithCacheDir(dir), WithOffline(true))
	if _, err := c.Project(context.Background(), "e"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Project(context.Background(), "other"); !errors.Is(err, ErrOffline) {
		t.Fatalf("offline miss: %v", err)
	}
	if full.Load()+notMod.Load() != 3 {
		t.Fatal("offline mode made a request")
	}
}

func TestCacheControl(t *testing.T) {
	var hits atomic.Int32
	cc := "max-age=600"
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		rw.Header().Set("Cache-Control", cc)
		rw.Header().Set("Last-Modified", "Mon, 01 Jan 2024 00:00:00 GMT")
		rw.Header().Set("Content-Type", "text/html")
		io.WriteString(rw, `<a href="c-1.0.tar.gz">c</a>`)
	}))
	defer srv.Close()
	dir := t.TempDir()
	get := func() {
		c := fastClient(t, Config{IndexURL: srv.URL + "/simple/"}, WithCacheDir(dir))
		if _, err := c.Project(context.Background(), "c"); err != nil {
			t.Fatal(err)
		}
	}
	get()
	get()
	if hits.Load() != 1 {
		t.Fatalf("max-age: %d requests, want 1", hits.Load())
	}
	cc = "no-store"
	dir = t.TempDir()
	get()
	get()
	if hits.Load() != 3 {
		t.Fatalf("no-store: %d requests, want 3", hits.Load())
	}
}

func TestNetrcAndUserinfoAuth(t *testing.T) {
	ix := testutil.StartIndex(t, testutil.IndexOptions{})
	w := testutil.Wheel{Name: "secret", Version: "1"}
	ix.AddWheel(w)
	var seen atomic.Int32
	guard := func(user, pass string) *httptest.Server {
		s := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			u, p, ok := r.BasicAuth()
			if !ok || u != user || p != pass {
				rw.Header().Set("WWW-Authenticate", `Basic realm="x"`)
				http.Error(rw, "no", http.StatusUnauthorized)
				return
			}
			seen.Add(1)
			ix.Server.Config.Handler.ServeHTTP(rw, r)
		}))
		t.Cleanup(s.Close)
		return s
	}
	// netrc
	srv := guard("alice", "s3cr3t-netrc")
	netrc := filepath.Join(t.TempDir(), "netrc")
	host := strings.Split(strings.TrimPrefix(srv.URL, "http://"), ":")[0]
	os.WriteFile(netrc, []byte("machine "+host+"\n  login alice\n  password s3cr3t-netrc\n"), 0o600)
	t.Setenv("NETRC", netrc)
	c, err := NewClient(Config{IndexURL: srv.URL + "/simple/"}, WithRetries(1, 0))
	if err != nil {
		t.Fatal(err)
	}
	p := mustProject(t, c, "secret")
	if _, err := c.Metadata(context.Background(), p.Files[0]); err != nil {
		t.Fatal(err)
	}

	// userinfo on the index URL, applied to files on the same host; never printed.
	srv2 := guard("bob", "pa55-userinfo")
	t.Setenv("NETRC", filepath.Join(t.TempDir(), "none"))
	withCreds := strings.Replace(srv2.URL, "http://", "http://bob:pa55-userinfo@", 1) + "/simple/"
	c, err = NewClient(Config{IndexURL: withCreds}, WithRetries(1, 0))
	if err != nil {
		t.Fatal(err)
	}
	p, err = c.Project(context.Background(), "secret")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(p.Index, "pa55") || strings.Contains(p.Files[0].URL, "pa55") {
		t.Fatalf("credentials leaked: %+v", p)
	}
	b := mustDownload(t, c, p.Files[0])
	if !bytes.Equal(b, w.Bytes()) {
		t.Fatal("download differs")
	}
	_, err = c.Project(context.Background(), "missing-one")
	if err == nil || strings.Contains(err.Error(), "pa55") || !strings.Contains(err.Error(), "bob:****@") {
		t.Fatalf("error must name the redacted index: %v", err)
	}
	// Wrong password: the error says so without the secret.
	wrong := strings.Replace(srv2.URL, "http://", "http://bob:wr0ng-pass@", 1) + "/simple/"
	c, _ = NewClient(Config{IndexURL: wrong}, WithRetries(1, 0))
	_, err = c.Project(context.Background(), "secret")
	if err == nil || strings.Contains(err.Error(), "wr0ng") || !strings.Contains(err.Error(), "401") {
		t.Fatalf("auth failure: %v", err)
	}
	if seen.Load() < 4 {
		t.Fatalf("authenticated requests: %d", seen.Load())
	}
}

func TestOpenRetriesAndTruncation(t *testing.T) {
	ix := testutil.StartIndex(t, testutil.IndexOptions{})
	w := bigWheel("dl", "1")
	ix.AddWheel(w)
	ix.FailNext("/files/"+w.Filename(), 502)
	c := fastClient(t, Config{IndexURL: ix.URL})
	p := mustProject(t, c, "dl")
	rc, err := c.Open(context.Background(), p.Files[0])
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(b, w.Bytes()) {
		t.Fatalf("download: %v", err)
	}

	// A server that drops the connection mid-body and does not do ranges.
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Length", "100000")
		rw.Write(make([]byte, 1000))
	}))
	defer srv.Close()
	rc, err = c.Open(context.Background(), File{Filename: "t.whl", URL: srv.URL + "/t.whl", Index: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(rc)
	rc.Close()
	if !errors.Is(err, ErrTruncated) {
		t.Fatalf("want truncated, got %v", err)
	}
}

func TestResumeDownload(t *testing.T) {
	w := bigWheel("resume", "1")
	data := w.Bytes()
	var first atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Range") == "" && !first.Swap(true) {
			rw.Header().Set("Accept-Ranges", "bytes")
			rw.Header().Set("Content-Length", fmt.Sprint(len(data)))
			rw.Write(data[:len(data)/3])
			return // connection ends early
		}
		http.ServeContent(rw, r, "x.whl", time.Time{}, bytes.NewReader(data))
	}))
	defer srv.Close()
	c := fastClient(t, Config{IndexURL: srv.URL})
	rc, err := c.Open(context.Background(), File{Filename: w.Filename(), URL: srv.URL + "/" + w.Filename()})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("resumed download: %v, %d of %d bytes", err, len(got), len(data))
	}
}

func TestConcurrencyBound(t *testing.T) {
	var inflight, peak atomic.Int32
	ix := testutil.StartIndex(t, testutil.IndexOptions{})
	for i := 0; i < 20; i++ {
		ix.AddWheel(testutil.Wheel{Name: fmt.Sprintf("p%d", i), Version: "1"})
	}
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		n := inflight.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
		ix.Server.Config.Handler.ServeHTTP(rw, r)
		inflight.Add(-1)
	}))
	defer srv.Close()
	c := fastClient(t, Config{IndexURL: srv.URL + "/simple/"}, WithConcurrency(3))
	errs := make(chan error, 20)
	for i := 0; i < 20; i++ {
		go func() {
			_, err := c.Project(context.Background(), fmt.Sprintf("p%d", i))
			errs <- err
		}()
	}
	for i := 0; i < 20; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if peak.Load() > 3 || peak.Load() < 2 {
		t.Fatalf("peak in flight %d, want <= 3", peak.Load())
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"https://u:p@host/simple/":  "https://u:****@host/simple/",
		"https://token@host/simple": "https://****@host/simple",
		"https://host/simple/":      "https://host/simple/",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestReporterEvents(t *testing.T) {
	ix := testutil.StartIndex(t, testutil.IndexOptions{NoMetadata: true})
	w := bigWheel("ev", "1")
	ix.AddWheel(w)
	ix.FailNext("/simple/ev/", 503)
	var mu sync.Mutex
	var evs []Event
	rep := ReporterFunc(func(e Event) { mu.Lock(); evs = append(evs, e); mu.Unlock() })
	dir := t.TempDir()
	c := fastClient(t, Config{IndexURL: ix.URL}, WithReporter(rep), WithCacheDir(dir))
	p := mustProject(t, c, "ev")
	if _, err := c.Metadata(context.Background(), p.Files[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Metadata(context.Background(), p.Files[0]); err != nil {
		t.Fatal(err)
	}
	rc, err := c.Open(context.Background(), p.Files[0])
	if err != nil {
		t.Fatal(err)
	}
	rc.Close()
	kinds := []EventKind{}
	for _, e := range evs {
		kinds = append(kinds, e.Kind)
	}
	want := []EventKind{EventRetry, EventPage, EventMetadata, EventMetadata, EventDownloadStart}
	if !reflect.DeepEqual(kinds, want) {
		t.Fatalf("events %v, want %v", kinds, want)
	}
	if evs[1].Project != "ev" || evs[1].Bytes == 0 || evs[2].Cached || evs[2].Bytes == 0 || evs[2].Bytes >= int64(len(w.Bytes())) || !evs[3].Cached || evs[4].Bytes != int64(len(w.Bytes())) {
		t.Fatalf("events %+v", evs)
	}
}

func TestLocalPathsAsURLs(t *testing.T) {
	dir := t.TempDir()
	w := testutil.Wheel{Name: "loc", Version: "1"}
	p := filepath.Join(dir, w.Filename())
	os.WriteFile(p, w.Bytes(), 0o644)
	c := fastClient(t, Config{NoIndex: true})
	for _, u := range []string{p, "file://" + p} {
		f := File{Filename: w.Filename(), URL: u}
		md, err := c.Metadata(context.Background(), f)
		if err != nil || string(md) != w.Metadata() {
			t.Fatalf("%s: %v", u, err)
		}
		rc, err := c.Open(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if !bytes.Equal(b, w.Bytes()) {
			t.Fatalf("%s: bytes differ", u)
		}
	}
	if _, err := c.Open(context.Background(), File{Filename: "x.whl", URL: "relative/x.whl"}); err == nil {
		t.Fatal("a relative path was accepted")
	}
}

func TestStalledResponseIsRetried(t *testing.T) {
	var n atomic.Int32
	ix := testutil.StartIndex(t, testutil.IndexOptions{})
	ix.AddWheel(testutil.Wheel{Name: "slow", Version: "1"})
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			rw.Header().Set("Content-Length", "100")
			rw.WriteHeader(200)
			rw.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
			return
		}
		ix.Server.Config.Handler.ServeHTTP(rw, r)
	}))
	defer srv.Close()
	c := fastClient(t, Config{IndexURL: srv.URL + "/simple/"}, WithTimeout(200*time.Millisecond))
	start := time.Now()
	if _, err := c.Project(context.Background(), "slow"); err != nil {
		t.Fatal(err)
	}
	if n.Load() != 2 || time.Since(start) > 3*time.Second {
		t.Fatalf("%d requests in %v", n.Load(), time.Since(start))
	}
}
