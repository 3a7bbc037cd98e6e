package index

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lambdapack/lambdapack/internal/netlimit"
	"github.com/lambdapack/lambdapack/internal/testutil"
)

// The client against testutil's fault-injecting index: every fault a dead,
// slow or hostile index can inflict ends in a clear error within the
// configured limits (short here, so the tests are quick), retries are
// reported, and nothing bad reaches the page cache.

func testLimits() netlimit.Limits { return testutil.NetLimits() }

// recorder collects a client's events.
type recorder struct {
	mu  sync.Mutex
	evs []Event
}

func (r *recorder) Report(e Event) { r.mu.Lock(); r.evs = append(r.evs, e); r.mu.Unlock() }

func (r *recorder) retries() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Event
	for _, e := range r.evs {
		if e.Kind == EventRetry {
			out = append(out, e)
		}
	}
	return out
}

// faultClient is a client of ix with test limits, three attempts and a
// short backoff, reporting to the returned recorder.
func faultClient(t *testing.T, ix *testutil.Index, opts ...Option) (*Client, *recorder) {
	t.Helper()
	rec := &recorder{}
	c := fastClient(t, Config{IndexURL: ix.URL}, append([]Option{WithLimits(testLimits()), WithRetries(3, 10*time.Millisecond), WithReporter(rec)}, opts...)...)
	return c, rec
}

// bounded runs f and fails the test when it takes longer than limit: a
// hang check (the limits under test are ten times shorter), not a timing
// assertion.
func bounded(t *testing.T, limit time.Duration, f func(ctx context.Context)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*limit)
	defer cancel()
	start := time.Now()
	f(ctx)
	if took := time.Since(start); took > limit {
		t.Fatalf("took %v, more than %v: a limit is not enforced", took, limit)
	}
}

// cacheFiles lists the files under a page cache folder, relative.
func cacheFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	return out
}

func wantNoPages(t *testing.T, dir string) {
	t.Helper()
	for _, f := range cacheFiles(t, dir) {
		if strings.HasPrefix(f, "pages-v3") {
			t.Errorf("a refused page was cached: %s", f)
		}
	}
}

func demoIndex(t *testing.T, opts testutil.IndexOptions) (*testutil.Index, testutil.Wheel) {
	ix := testutil.StartIndex(t, opts)
	w := bigWheel("demo", "1.0")
	ix.AddWheel(w)
	return ix, w
}

// A dead index (accepts the connection, never answers) fails within the
// read timeout per attempt, says it is retrying, and names the URL.
func TestFaultDeadIndexNoHeaders(t *testing.T) {
	ix, _ := demoIndex(t, testutil.IndexOptions{})
	ix.Inject(testutil.PagePath("demo"), testutil.Fault{StallHeaders: true})
	c, rec := faultClient(t, ix)
	bounded(t, 5*time.Second, func(ctx context.Context) {
		_, err := c.Project(ctx, "demo")
		if !errors.Is(err, netlimit.ErrStalled) || !strings.Contains(err.Error(), "no response within 300ms") ||
			!strings.Contains(err.Error(), ix.URL+"demo/") || !strings.Contains(err.Error(), "gave up after 3 attempts") {
			t.Fatalf("err = %v", err)
		}
	})
	if n := ix.Hits(testutil.PagePath("demo")); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
	rs := rec.retries()
	if len(rs) != 2 || rs[0].Attempt != 2 || rs[1].Attempt != 3 || rs[0].Attempts != 3 {
		t.Fatalf("retry events %+v", rs)
	}
	if m := rs[0].Message(); !strings.HasPrefix(m, "retrying "+ix.URL+"demo/") || !strings.Contains(m, "(attempt 2 of 3): no response within 300ms") {
		t.Errorf("retry line %q", m)
	}
}

// The total deadline bounds a request however many attempts are allowed.
func TestFaultDeadIndexTotalDeadline(t *testing.T) {
	ix, _ := demoIndex(t, testutil.IndexOptions{})
	ix.Inject(testutil.PagePath("demo"), testutil.Fault{StallHeaders: true})
	lim := testLimits()
	lim.TotalTimeout = time.Second
	c, rec := faultClient(t, ix, WithLimits(lim), WithRetries(100, 10*time.Millisecond))
	bounded(t, 4*time.Second, func(ctx context.Context) {
		_, err := c.Project(ctx, "demo")
		if !errors.Is(err, netlimit.ErrDeadline) || !strings.Contains(err.Error(), "the request took longer than 1s") ||
			!strings.Contains(err.Error(), "no response within") {
			t.Fatalf("err = %v", err)
		}
	})
	if n := ix.Hits(testutil.PagePath("demo")); n < 2 || n > 4 {
		t.Errorf("%d attempts in 1s of 300ms stalls", n)
	}
	if len(rec.retries()) == 0 {
		t.Error("no retry was reported")
	}
}

// A page whose body stalls, or trickles, is cut and retried; when the
// index recovers the page is served and cached.
func TestFaultPageBodyStallsAndTrickles(t *testing.T) {
	for name, f := range map[string]testutil.Fault{
		"stall":   {StallBody: true, At: 20},
		"trickle": {Trickle: 20 * time.Millisecond},
	} {
		t.Run(name, func(t *testing.T) {
			ix, _ := demoIndex(t, testutil.IndexOptions{})
			ix.Inject(testutil.PagePath("demo"), f)
			c, _ := faultClient(t, ix)
			want := "the response stalled: no data for"
			if name == "trickle" {
				// A starved machine can see a trickle's gaps as a stall:
				// both are ErrStalled, and either message is right.
				want = "the response "
			}
			bounded(t, 5*time.Second, func(ctx context.Context) {
				_, err := c.Project(ctx, "demo")
				if !errors.Is(err, netlimit.ErrStalled) || !strings.Contains(err.Error(), want) {
					t.Fatalf("err = %v, want %q", err, want)
				}
			})

			// Once: the retry gets the page, which is cached.
			ix.ClearFaults()
			f.Times = 1
			ix.Inject(testutil.PagePath("demo"), f)
			dir := t.TempDir()
			c, rec := faultClient(t, ix, WithCacheDir(dir))
			bounded(t, 5*time.Second, func(ctx context.Context) {
				if p, err := c.Project(ctx, "demo"); err != nil || len(p.Files) != 1 {
					t.Fatalf("after one fault: %v", err)
				}
			})
			if len(rec.retries()) != 1 {
				t.Errorf("retries %+v", rec.retries())
			}
			if m, _ := filepath.Glob(filepath.Join(dir, "pages-v3", "*", "*")); len(m) != 1 {
				t.Errorf("page cache %v", m)
			}
		})
	}
}

// 429 and 503 with Retry-After: the wait is the server's; a wait past
// MaxRetryAfter fails at once, saying so.
func TestFaultRetryAfter(t *testing.T) {
	ix, _ := demoIndex(t, testutil.IndexOptions{})
	page := testutil.PagePath("demo")
	ix.Inject(page, testutil.Fault{Status: 503, RetryAfter: "1", Times: 1})
	ix.Inject(page, testutil.Fault{Status: 429, RetryAfter: "1", Times: 1})
	c, rec := faultClient(t, ix)
	bounded(t, 6*time.Second, func(ctx context.Context) {
		if _, err := c.Project(ctx, "demo"); err != nil {
			t.Fatal(err)
		}
	})
	rs := rec.retries()
	if len(rs) != 2 || rs[0].Wait != time.Second || rs[1].Wait != time.Second ||
		!strings.Contains(rs[0].Err, "503") || !strings.Contains(rs[1].Err, "429") {
		t.Fatalf("retries %+v, want two after Retry-After: 1", rs)
	}
	if m := rs[0].Message(); !strings.Contains(m, " in 1s (attempt 2 of 3): HTTP 503") {
		t.Errorf("retry line %q", m)
	}

	// An hour: no second request.
	ix2, _ := demoIndex(t, testutil.IndexOptions{})
	ix2.Inject(page, testutil.Fault{Status: 429, RetryAfter: "3600"})
	c2, rec2 := faultClient(t, ix2)
	bounded(t, 2*time.Second, func(ctx context.Context) {
		_, err := c2.Project(ctx, "demo")
		if err == nil || !strings.Contains(err.Error(), "HTTP 429") || !strings.Contains(err.Error(), "retry after 1h0m0s, longer than lambdapack waits (3s)") {
			t.Fatalf("err = %v", err)
		}
	})
	if n := ix2.Hits(page); n != 1 || len(rec2.retries()) != 0 {
		t.Errorf("%d requests, %d retries: want one request", n, len(rec2.retries()))
	}
}

// A redirect loop fails at the first pass round it, naming the loop.
func TestFaultRedirectLoop(t *testing.T) {
	ix, w := demoIndex(t, testutil.IndexOptions{})
	page := testutil.PagePath("demo")
	ix.Inject(page, testutil.Fault{RedirectLoop: true})
	c, rec := faultClient(t, ix)
	_, err := c.Project(context.Background(), "demo")
	if !errors.Is(err, netlimit.ErrRedirectLoop) || !strings.Contains(err.Error(), "redirect loop: "+ix.URL+"demo/ -> "+ix.URL+"demo/?loop=1 -> "+ix.URL+"demo/") {
		t.Fatalf("err = %v", err)
	}
	if n := ix.Hits(page); n != 2 || len(rec.retries()) != 0 {
		t.Errorf("%d requests and %d retries; want one pass round the loop", n, len(rec.retries()))
	}
	// Downloads too.
	file := testutil.FilePath(w.Filename())
	ix.Inject(file, testutil.Fault{RedirectLoop: true})
	_, err = c.Open(context.Background(), File{Filename: w.Filename(), URL: ix.FileURL(w.Filename())})
	if !errors.Is(err, netlimit.ErrRedirectLoop) || ix.Hits(file) != 2 {
		t.Fatalf("download: %v after %d requests", err, ix.Hits(file))
	}
}

// allocated runs f and returns the bytes it allocated on the heap: an
// upper bound on how much its peak heap grew.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// A gzip bomb (1 MiB on the wire, 1 GiB inflated) is refused at the page
// limit, with memory bounded by it, and never cached or retried; with the
// shipped default limit too.
func TestFaultGzipBombPage(t *testing.T) {
	for _, tc := range []struct {
		name     string
		lim      netlimit.Limits
		maxAlloc uint64
		what     string
	}{
		{"test-limit", testLimits(), 16 << 20, "larger than 1 MiB"},
		{"default-limit", netlimit.Limits{}, 3 * netlimit.DefaultMaxPageSize, "larger than 64 MiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ix, _ := demoIndex(t, testutil.IndexOptions{})
			page := testutil.PagePath("demo")
			ix.Inject(page, testutil.Fault{GzipBomb: 1 << 30})
			dir := t.TempDir()
			c, _ := faultClient(t, ix, WithCacheDir(dir), WithLimits(tc.lim))
			var err error
			alloc := allocated(func() { _, err = c.Project(context.Background(), "demo") })
			if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "the index page is "+tc.what+": refusing it") ||
				!strings.Contains(err.Error(), netlimit.EnvMaxPageSize) {
				t.Fatalf("err = %v", err)
			}
			if alloc > tc.maxAlloc {
				t.Errorf("allocated %d MiB reading a gzip bomb, want at most %d MiB", alloc>>20, tc.maxAlloc>>20)
			}
			if n := ix.Hits(page); n != 1 {
				t.Errorf("%d requests: a page past the limit must not be retried", n)
			}
			wantNoPages(t, dir)
		})
	}
}

// A 2 GiB page is refused from its Content-Length without reading it, and
// without one at the limit.
func TestFaultHugePage(t *testing.T) {
	for _, noLength := range []bool{false, true} {
		ix, _ := demoIndex(t, testutil.IndexOptions{})
		page := testutil.PagePath("demo")
		ix.Inject(page, testutil.Fault{Pad: 2 << 30, PadNoLength: noLength})
		dir := t.TempDir()
		c, _ := faultClient(t, ix, WithCacheDir(dir))
		var err error
		alloc := allocated(func() { _, err = c.Project(context.Background(), "demo") })
		want := "the index page is 2147" // its declared size
		if noLength {
			want = "the index page is larger than 1 MiB"
		}
		if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), want) {
			t.Fatalf("no length %v: err = %v", noLength, err)
		}
		if alloc > 16<<20 {
			t.Errorf("no length %v: allocated %d MiB", noLength, alloc>>20)
		}
		wantNoPages(t, dir)
	}
}

// A remote page may not point downloads at files of this machine; a local
// find-links folder may.
func TestFaultFileLinks(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "secret.whl")
	os.WriteFile(secret, []byte("not for the index to read"), 0o600)
	for _, format := range []testutil.IndexFormat{testutil.FormatJSON, testutil.FormatHTML} {
		for _, link := range []string{"file://" + secret, "file:///etc/passwd"} {
			ix := testutil.StartIndex(t, testutil.IndexOptions{Format: format})
			ix.AddWheel(testutil.Wheel{Name: "demo", Version: "1.0"}, testutil.LinkedAs(link))
			c, _ := faultClient(t, ix)
			_, err := c.Project(context.Background(), "demo")
			if !errors.Is(err, ErrLocalLink) || !strings.Contains(err.Error(), link) {
				t.Fatalf("format %v, link %s: err = %v", format, link, err)
			}
		}
	}
	// A remote find-links page neither.
	fl := testutil.StartIndex(t, testutil.IndexOptions{Format: testutil.FormatHTML})
	fl.AddWheel(testutil.Wheel{Name: "demo", Version: "1.0"}, testutil.LinkedAs("file://"+secret))
	c0 := fastClient(t, Config{NoIndex: true, FindLinks: []string{fl.URL + "demo/"}})
	if _, err := c0.Project(context.Background(), "demo"); !errors.Is(err, ErrLocalLink) {
		t.Fatalf("remote find-links page: %v", err)
	}
	// A File that says it came from a remote index is not opened locally,
	// whatever built it.
	c := fastClient(t, Config{NoIndex: true})
	for _, u := range []string{secret, "file://" + secret} {
		f := File{Filename: "secret.whl", URL: u, Index: "https://index.invalid/simple/"}
		if _, err := c.Open(context.Background(), f); !errors.Is(err, ErrLocalLink) {
			t.Errorf("Open %s: %v", u, err)
		}
		if _, err := c.Metadata(context.Background(), f); !errors.Is(err, ErrLocalLink) {
			t.Errorf("Metadata %s: %v", u, err)
		}
	}
	// A local find-links folder may.
	dir := t.TempDir()
	w := testutil.Wheel{Name: "local", Version: "1"}
	os.WriteFile(filepath.Join(dir, w.Filename()), w.Bytes(), 0o644)
	c = fastClient(t, Config{NoIndex: true, FindLinks: []string{dir}})
	p := mustProject(t, c, "local")
	rc, err := c.Open(context.Background(), p.Files[0])
	if err != nil {
		t.Fatal(err)
	}
	rc.Close()
}

// Credentials in the index URL reach the server but never the disk: not
// in cache file names (keys are of the URL without them), not in contents;
// a page that echoes them in its links is not stored at all.
func TestFaultCredentialsNeverStored(t *testing.T) {
	const user, pass = "alice-login", "s3cr3t-token"
	for _, echo := range []bool{false, true} {
		ix, w := demoIndex(t, testutil.IndexOptions{NoMetadata: true, BasicAuth: user + ":" + pass, EchoCredentials: echo})
		withCreds := strings.Replace(ix.URL, "http://", "http://"+user+":"+pass+"@", 1)
		dir := t.TempDir()
		c := fastClient(t, Config{IndexURL: withCreds}, WithCacheDir(dir), WithLimits(testLimits()))
		p, err := c.Project(context.Background(), "demo")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Metadata(context.Background(), p.Files[0]); err != nil {
			t.Fatal(err)
		}
		got := mustDownload(t, c, p.Files[0])
		if !bytes.Equal(got, w.Bytes()) {
			t.Fatal("download differs")
		}
		files := cacheFiles(t, dir)
		if len(files) == 0 {
			t.Fatal("nothing was cached")
		}
		for _, f := range files {
			b, _ := os.ReadFile(filepath.Join(dir, f))
			for _, s := range []string{user, pass} {
				if strings.Contains(f, s) || bytes.Contains(b, []byte(s)) {
					t.Errorf("echo %v: %s holds %q", echo, f, s)
				}
			}
		}
		// The cache holds the page's parsed form, whose URLs have no
		// userinfo: a page that echoes the credentials in its links is
		// stored too, without them, under the key of the bare URL.
		pageKey := key("page", ix.URL+"demo/", acceptPages)
		if _, err := os.Stat(filepath.Join(dir, "pages-v3", pageKey[:2], pageKey)); err != nil {
			t.Errorf("echo %v: the page is not cached under the key of the bare URL: %v", echo, err)
		}
		// Errors name the index without the secret.
		ix.Inject(testutil.PagePath("other"), testutil.Fault{Status: 500})
		_, err = c.Project(context.Background(), "other")
		if err == nil || strings.Contains(err.Error(), pass) || !strings.Contains(err.Error(), user+":****@") {
			t.Errorf("error %v", err)
		}
	}
}

// Downloads through Open: a stalled or cut body is resumed with a range
// request where the server takes ranges, else fetched again from zero with
// what was delivered skipped; the bytes come out whole either way.
func TestFaultDownloadResumesOrRestarts(t *testing.T) {
	for _, tc := range []struct {
		name     string
		noRanges bool
		fault    testutil.Fault
	}{
		{"stall-ranges", false, testutil.Fault{StallBody: true, At: 100_000, Times: 1}},
		{"stall-no-ranges", true, testutil.Fault{StallBody: true, At: 100_000, Times: 1}},
		{"cut-ranges", false, testutil.Fault{Truncate: true, At: 100_000, Times: 1}},
		{"cut-no-ranges", true, testutil.Fault{Truncate: true, At: 100_000, Times: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ix, w := demoIndex(t, testutil.IndexOptions{NoRanges: tc.noRanges})
			file := testutil.FilePath(w.Filename())
			ix.Inject(file, tc.fault)
			c, rec := faultClient(t, ix)
			var got []byte
			bounded(t, 5*time.Second, func(ctx context.Context) {
				rc, err := c.Open(ctx, File{Filename: w.Filename(), URL: ix.FileURL(w.Filename()), Size: int64(len(w.Bytes()))})
				if err != nil {
					t.Fatal(err)
				}
				got, err = io.ReadAll(rc)
				rc.Close()
				if err != nil {
					t.Fatal(err)
				}
			})
			size := int64(len(w.Bytes()))
			if !bytes.Equal(got, w.Bytes()) {
				t.Fatalf("got %d bytes, want the wheel's %d", len(got), size)
			}
			served := ix.BytesServed(file)
			wantServed := size // resumed: each byte once
			if tc.noRanges {
				wantServed = size + 100_000 // restarted from zero
			}
			if ix.Hits(file) != 2 || served != wantServed {
				t.Errorf("%d requests, %d bytes served; want 2 and %d", ix.Hits(file), served, wantServed)
			}
			rs := rec.retries()
			if len(rs) != 1 || rs[0].File != w.Filename() || (rs[0].Offset == 100_000) == tc.noRanges {
				t.Fatalf("retries %+v", rs)
			}
			want := "resuming " + w.Filename() + " from " + ix.FileURL(w.Filename()) + " at byte 100000 in 10ms (attempt 2 of 3): "
			if tc.noRanges {
				want = "retrying " + w.Filename() + " from " + ix.FileURL(w.Filename()) + " in 10ms (attempt 2 of 3): "
			}
			if m := rs[0].Message(); !strings.HasPrefix(m, want) {
				t.Errorf("retry line %q, want it to start %q", m, want)
			}
		})
	}
}

// A download that stalls or trickles every time fails within the limits,
// naming the file and URL; one that keeps a good pace but runs past the
// attempt deadline is cut by it.
func TestFaultDownloadFailsNamingURL(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault testutil.Fault
		lim   func(*netlimit.Limits)
		is    error
		want  string
	}{
		{"stall", testutil.Fault{StallBody: true, At: 1000}, nil, netlimit.ErrStalled, "the response stalled"},
		{"trickle", testutil.Fault{Trickle: 10 * time.Millisecond}, nil, netlimit.ErrStalled, "the response trickled"},
		{"no-headers", testutil.Fault{StallHeaders: true}, nil, netlimit.ErrStalled, "no response within"},
		{"deadline", testutil.Fault{Trickle: time.Millisecond}, func(l *netlimit.Limits) {
			l.MinRate, l.DownloadTimeout = -1, 400*time.Millisecond
		}, netlimit.ErrDeadline, "one download attempt took longer than 400ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ix, w := demoIndex(t, testutil.IndexOptions{})
			ix.Inject(testutil.FilePath(w.Filename()), tc.fault)
			lim := testLimits()
			if tc.lim != nil {
				tc.lim(&lim)
			}
			c, rec := faultClient(t, ix, WithLimits(lim))
			u := strings.Replace(ix.FileURL(w.Filename()), "http://", "http://bob:hunter2@", 1)
			bounded(t, 6*time.Second, func(ctx context.Context) {
				rc, err := c.Open(ctx, File{Filename: w.Filename(), URL: u, Index: ix.URL})
				if err == nil {
					_, err = io.Copy(io.Discard, rc)
					rc.Close()
				}
				if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.want) ||
					!strings.Contains(err.Error(), "downloading "+w.Filename()) || !strings.Contains(err.Error(), "bob:****@"+strings.TrimPrefix(ix.FileURL(w.Filename()), "http://")) ||
					strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "gave up after 3 attempts") {
					t.Fatalf("err = %v", err)
				}
			})
			if n := len(rec.retries()); n != 2 {
				t.Errorf("%d retries reported, want 2", n)
			}
		})
	}
}

// Metadata read from a wheel on a server without ranges comes from one
// streamed download, in memory below spillAt and spooled past it.
func TestFaultMetadataWholeWheelIsBounded(t *testing.T) {
	ix := testutil.StartIndex(t, testutil.IndexOptions{NoMetadata: true, NoRanges: true})
	w := bigWheel("demo", "1.0")
	ix.AddWheel(w)
	c, _ := faultClient(t, ix)
	p := mustProject(t, c, "demo")
	f := p.Files[0]
	// The index lies about the size: the wheel is larger than it says.
	f.Size = 1000
	_, err := c.Metadata(context.Background(), f)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "the wheel is") {
		t.Fatalf("err = %v", err)
	}
	// A cut whole-wheel answer is retried, then read.
	ix.Inject(testutil.FilePath(w.Filename()), testutil.Fault{Truncate: true, At: 1000, Times: 1})
	md, err := c.Metadata(context.Background(), p.Files[0])
	if err != nil || string(md) != w.Metadata() {
		t.Fatalf("metadata %q, %v", md, err)
	}
}

func TestSpoolSpillsToDisk(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), (spillAt/16)+1000)
	sp, err := spool(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	if sp.file == nil || sp.size != int64(len(data)) {
		t.Fatalf("spooled %d bytes, in a file: %v", sp.size, sp.file != nil)
	}
	tail := make([]byte, 16)
	if _, err := sp.ReadAt(tail, sp.size-16); err != nil || string(tail) != "0123456789abcdef" {
		t.Fatalf("%q %v", tail, err)
	}
	if _, err := spool(bytes.NewReader(data), int64(len(data))-1); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("past the limit: %v", err)
	}
}

// A retry is said once: by the reporter when there is one (lambdapack's
// runs print its line), not again as a logger warning. Every retry printed
// twice, once as "warning: retrying url=... attempt=2 of=5" and once as
// "retrying URL in 250ms (attempt 2 of 5): ...".
func TestRetrySaidOnce(t *testing.T) {
	ix, _ := demoIndex(t, testutil.IndexOptions{})
	ix.Inject(testutil.PagePath("demo"), testutil.Fault{Status: 503})
	var log bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelInfo}))
	c, rec := faultClient(t, ix, WithLogger(logger))
	if _, err := c.Project(context.Background(), "demo"); err == nil {
		t.Fatal("a 503 index answered")
	}
	if n := len(rec.retries()); n != 2 {
		t.Fatalf("%d retry events, want 2", n)
	}
	if strings.Contains(log.String(), "retrying") {
		t.Errorf("the logger said the retries the reporter says:\n%s", log.String())
	}

	// Without a reporter, the logger is where retries are said.
	log.Reset()
	c = fastClient(t, Config{IndexURL: ix.URL}, WithLimits(testLimits()), WithRetries(3, 10*time.Millisecond), WithLogger(logger))
	c.Project(context.Background(), "demo")
	if n := strings.Count(log.String(), "retrying"); n != 2 {
		t.Errorf("without a reporter the logger said %d retries, want 2:\n%s", n, log.String())
	}
}
