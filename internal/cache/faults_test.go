package cache_test

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lambdapack/lambdapack/internal/cache"
	"github.com/lambdapack/lambdapack/internal/index"
	"github.com/lambdapack/lambdapack/internal/netlimit"
	"github.com/lambdapack/lambdapack/internal/testutil"
)

// The download path (cache.Fetch, through the index client's Open as the
// pipeline wires it, or through the cache's own opener) against the
// fault-injecting index: a fault is survived or fails within the limits,
// naming the file and URL, and the cache holds a whole, checked blob or
// nothing at all.

func testLimits() netlimit.Limits { return testutil.NetLimits() }

// payloadWheel is a wheel of about 300 KB, big enough to be cut mid-body.
func payloadWheel() testutil.Wheel {
	data := make([]byte, 300_000)
	rand.NewChaCha8([32]byte{1}).Read(data) // incompressible
	return testutil.Wheel{Name: "payload", Version: "1.0", Files: map[string][]byte{"payload/data.bin": data}}
}

type fetchSetup struct {
	ix    *testutil.Index
	w     testutil.Wheel
	c     *cache.Cache
	req   cache.Request
	viaIx bool
}

// setup serves the wheel, opens a cache with test limits, and builds the
// request: through an index client (viaIndex) or the cache's own opener.
// The URL carries credentials that must never show.
func setup(t *testing.T, opts testutil.IndexOptions, viaIndex bool) *fetchSetup {
	t.Helper()
	ix := testutil.StartIndex(t, opts)
	w := payloadWheel()
	ix.AddWheel(w)
	c, err := cache.Open(t.TempDir(), cache.WithLimits(testLimits()), cache.WithRetries(3, 10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	u := strings.Replace(ix.FileURL(w.Filename()), "http://", "http://carol:pa55word@", 1)
	req := cache.Request{Name: w.Filename(), URL: u, SHA256: ix.SHA256(w.Filename()), Size: int64(len(w.Bytes()))}
	if viaIndex {
		cl, err := index.NewClient(index.Config{IndexURL: ix.URL}, index.WithLimits(testLimits()), index.WithRetries(3, 10*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		f := index.File{Filename: w.Filename(), URL: u, Size: req.Size, Index: ix.URL}
		req.Open = func(ctx context.Context) (io.ReadCloser, error) { return cl.Open(ctx, f) }
	}
	return &fetchSetup{ix: ix, w: w, c: c, req: req, viaIx: viaIndex}
}

func (s *fetchSetup) fetch(t *testing.T, limit time.Duration) ([]cache.Blob, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*limit)
	defer cancel()
	start := time.Now()
	blobs, err := s.c.Fetch(ctx, []cache.Request{s.req})
	if took := time.Since(start); took > limit {
		t.Fatalf("took %v, more than %v: a limit is not enforced", took, limit)
	}
	return blobs, err
}

// blobFiles lists every file under the cache's blob folder, temporaries
// included.
func (s *fetchSetup) blobFiles(t *testing.T) []string {
	var out []string
	filepath.WalkDir(filepath.Join(s.c.Root(), cache.Layout, "blobs"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, filepath.Base(p))
		}
		return nil
	})
	return out
}

func both(t *testing.T, f func(t *testing.T, viaIndex bool)) {
	for _, via := range []bool{true, false} {
		name := "cache-opener"
		if via {
			name = "index-open"
		}
		t.Run(name, func(t *testing.T) { f(t, via) })
	}
}

// One fault, then a good answer: the blob is whole and checked.
func TestFaultFetchRecovers(t *testing.T) {
	for name, tc := range map[string]struct {
		noRanges bool
		fault    testutil.Fault
	}{
		"stall-no-ranges":  {true, testutil.Fault{StallBody: true, At: 50_000, Times: 1}},
		"stall-ranges":     {false, testutil.Fault{StallBody: true, At: 50_000, Times: 1}},
		"cut-no-ranges":    {true, testutil.Fault{Truncate: true, At: 50_000, Times: 1}},
		"trickle":          {false, testutil.Fault{Trickle: 20 * time.Millisecond, Times: 1}},
		"no-headers":       {false, testutil.Fault{StallHeaders: true, Times: 1}},
		"503-retry-after":  {false, testutil.Fault{Status: 503, RetryAfter: "1", Times: 1}},
		"429-no-wait-said": {false, testutil.Fault{Status: 429, Times: 1}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel() // each has its own index; they mostly wait
			both(t, func(t *testing.T, viaIndex bool) {
				s := setup(t, testutil.IndexOptions{NoRanges: tc.noRanges}, viaIndex)
				s.ix.Inject(testutil.FilePath(s.w.Filename()), tc.fault)
				blobs, err := s.fetch(t, 6*time.Second)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := os.ReadFile(blobs[0].Path)
				if string(b) != string(s.w.Bytes()) || blobs[0].SHA256 != s.req.SHA256 {
					t.Fatal("the blob is not the wheel")
				}
				if got := s.blobFiles(t); len(got) != 1 || got[0] != s.req.SHA256 {
					t.Fatalf("blob folder holds %v", got)
				}
				if n := s.ix.Hits(testutil.FilePath(s.w.Filename())); n != 2 {
					t.Errorf("%d requests, want 2", n)
				}
			})
		})
	}
}

// A fault on every attempt: the fetch fails within the limits with an
// error naming the file and URL (no credentials), and leaves nothing.
func TestFaultFetchFailsLeavesNothing(t *testing.T) {
	for name, tc := range map[string]struct {
		fault testutil.Fault
		is    error
		want  string
		hits  int
	}{
		"stall": {testutil.Fault{StallBody: true, At: 50_000}, netlimit.ErrStalled, "the response stalled", 3},
		// A starved machine can see a trickle's gaps as a stall: both are
		// ErrStalled, and either message is right.
		"trickle":       {testutil.Fault{Trickle: 20 * time.Millisecond}, netlimit.ErrStalled, "the response ", 3},
		"no-headers":    {testutil.Fault{StallHeaders: true}, netlimit.ErrStalled, "no response within 300ms", 3},
		"redirect-loop": {testutil.Fault{RedirectLoop: true}, netlimit.ErrRedirectLoop, "redirect loop: ", 2},
		"retry-after":   {testutil.Fault{Status: 503, RetryAfter: "3600"}, nil, "the server asks to retry after 1h0m0s", 1},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel() // each has its own index; they mostly wait
			both(t, func(t *testing.T, viaIndex bool) {
				s := setup(t, testutil.IndexOptions{}, viaIndex)
				s.ix.Inject(testutil.FilePath(s.w.Filename()), tc.fault)
				_, err := s.fetch(t, 6*time.Second)
				if err == nil || (tc.is != nil && !errors.Is(err, tc.is)) || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("err = %v, want %q", err, tc.want)
				}
				msg := err.Error()
				if !strings.Contains(msg, s.w.Filename()) || !strings.Contains(msg, strings.TrimPrefix(s.ix.FileURL(s.w.Filename()), "http://")) {
					t.Errorf("the error does not name the file and its URL: %s", msg)
				}
				if strings.Contains(msg, "pa55word") {
					t.Errorf("the error shows the password: %s", msg)
				}
				if got := s.blobFiles(t); len(got) != 0 {
					t.Errorf("a failed download left %v", got)
				}
				if n := s.ix.Hits(testutil.FilePath(s.w.Filename())); n != tc.hits {
					t.Errorf("%d requests, want %d", n, tc.hits)
				}
			})
		})
	}
}
