package cache

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The helper process mode: the test binary re-executed by
// TestFetchTwoProcesses fetches the files named in the environment.
func TestMain(m *testing.M) {
	if os.Getenv("LAMBDAPACK_CACHE_HELPER") == "1" {
		os.Exit(helperProcess())
	}
	os.Exit(m.Run())
}

func helperProcess() int {
	c, err := Open(os.Getenv("LAMBDAPACK_CACHE_HELPER_DIR"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	var reqs []Request
	for _, f := range strings.Fields(os.Getenv("LAMBDAPACK_CACHE_HELPER_FILES")) {
		name, rest, _ := strings.Cut(f, "=")
		sha, size, _ := strings.Cut(rest, ":")
		var n int64
		fmt.Sscan(size, &n)
		reqs = append(reqs, Request{Name: name, URL: os.Getenv("LAMBDAPACK_CACHE_HELPER_URL") + "/" + name, SHA256: sha, Size: n})
	}
	blobs, err := c.Fetch(context.Background(), reqs)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for _, b := range blobs {
		data, err := os.ReadFile(b.Path)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		sum := sha256.Sum256(data)
		if hex.EncodeToString(sum[:]) != b.SHA256 {
			fmt.Fprintln(os.Stderr, "blob content does not match its hash", b.Path)
			return 1
		}
	}
	return 0
}

type file struct {
	name string
	data []byte
	sha  string
}

func makeFiles(n int, size int) []file {
	var out []file
	for i := range n {
		data := bytes.Repeat([]byte(fmt.Sprintf("file %d payload ", i)), size/10+1)[:size]
		sum := sha256.Sum256(data)
		out = append(out, file{name: fmt.Sprintf("pkg%d-1.0-py3-none-any.whl", i), data: data, sha: hex.EncodeToString(sum[:])})
	}
	return out
}

// server serves files by name, counting requests, after an optional delay.
type server struct {
	*httptest.Server
	mu    sync.Mutex
	hits  map[string]int
	delay time.Duration
	serve map[string][]byte // content actually served (defaults to the file)
}

func newServer(t *testing.T, files []file, delay time.Duration) *server {
	s := &server{hits: map[string]int{}, delay: delay, serve: map[string][]byte{}}
	for _, f := range files {
		s.serve[f.name] = f.data
	}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/")
		s.mu.Lock()
		s.hits[name]++
		data, ok := s.serve[name]
		s.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		time.Sleep(s.delay)
		w.Write(data)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) count(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[name]
}

func requests(s *server, files []file) []Request {
	var out []Request
	for _, f := range files {
		out = append(out, Request{Name: f.name, URL: s.URL + "/" + f.name, SHA256: f.sha, Size: int64(len(f.data))})
	}
	return out
}

// blobFiles lists every regular file under the cache's blobs folder.
func blobFiles(t *testing.T, c *Cache) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(filepath.Join(c.Root(), Layout, "blobs"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			out = append(out, p)
		}
		return nil
	})
	return out
}

type countingReporter struct {
	mu                sync.Mutex
	started, finished int
	bytes             int64
}

func (r *countingReporter) Start(string, int64) { r.mu.Lock(); r.started++; r.mu.Unlock() }
func (r *countingReporter) Advance(_ string, n int64) {
	r.mu.Lock()
	r.bytes += n
	r.mu.Unlock()
}
func (r *countingReporter) Done(string, error) { r.mu.Lock(); r.finished++; r.mu.Unlock() }

func TestFetchDownloadsChecksAndReuses(t *testing.T) {
	files := makeFiles(5, 100_000)
	s := newServer(t, files, 0)
	rep := &countingReporter{}
	c, err := Open(t.TempDir(), WithReporter(rep), Concurrency(2))
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := c.Fetch(context.Background(), requests(s, files))
	if err != nil {
		t.Fatal(err)
	}
	for i, b := range blobs {
		got, err := os.ReadFile(b.Path)
		if err != nil || !bytes.Equal(got, files[i].data) {
			t.Fatalf("blob %d: %v, content equal %v", i, err, bytes.Equal(got, files[i].data))
		}
		if b.Cached || b.SHA256 != files[i].sha || b.Size != int64(len(files[i].data)) || b.Name != files[i].name {
			t.Errorf("blob %d = %+v", i, b)
		}
		want := filepath.Join(c.Root(), "v1", "blobs", "sha256", files[i].sha[:2], files[i].sha)
		if b.Path != want {
			t.Errorf("blob path %s, want %s", b.Path, want)
		}
	}
	if rep.started != 5 || rep.finished != 5 || rep.bytes != 500_000 {
		t.Errorf("reporter saw %d starts, %d ends, %d bytes", rep.started, rep.finished, rep.bytes)
	}
	// Second time: from the cache, no request.
	blobs, err = c.Fetch(context.Background(), requests(s, files))
	if err != nil {
		t.Fatal(err)
	}
	for i, b := range blobs {
		if !b.Cached {
			t.Errorf("blob %d not served from the cache", i)
		}
		if n := s.count(files[i].name); n != 1 {
			t.Errorf("%s requested %d times", files[i].name, n)
		}
	}
	if n := len(blobFiles(t, c)); n != 5 {
		t.Errorf("%d files under blobs, want 5 (no temporaries left)", n)
	}
}

func TestFetchUnknownHashStoresUnderComputedHash(t *testing.T) {
	files := makeFiles(1, 1000)
	s := newServer(t, files, 0)
	c, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	reqs := requests(s, files)
	reqs[0].SHA256, reqs[0].Size = "", 0
	blobs, err := c.Fetch(context.Background(), reqs)
	if err != nil {
		t.Fatal(err)
	}
	if blobs[0].SHA256 != files[0].sha {
		t.Fatalf("computed sha %s, want %s", blobs[0].SHA256, files[0].sha)
	}
	if _, ok := c.Lookup(files[0].sha); !ok {
		t.Fatal("blob not found by its computed hash")
	}
}

func TestFetchConcurrentGoroutinesShareOneDownload(t *testing.T) {
	files := makeFiles(4, 50_000)
	s := newServer(t, files, 150*time.Millisecond)
	dir := t.TempDir()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Separate Cache values: only the file lock can coordinate them.
			c, err := Open(dir)
			if err != nil {
				errs[i] = err
				return
			}
			blobs, err := c.Fetch(context.Background(), requests(s, files))
			if err != nil {
				errs[i] = err
				return
			}
			for j, b := range blobs {
				got, _ := os.ReadFile(b.Path)
				if !bytes.Equal(got, files[j].data) {
					errs[i] = fmt.Errorf("blob %s has the wrong content", b.Path)
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range files {
		if n := s.count(f.name); n != 1 {
			t.Errorf("%s downloaded %d times, want 1 (the lock should make the second wait)", f.name, n)
		}
	}
}

func TestFetchTwoProcessesShareOneCache(t *testing.T) {
	files := makeFiles(4, 200_000)
	s := newServer(t, files, 300*time.Millisecond)
	dir := t.TempDir()
	var spec []string
	for _, f := range files {
		spec = append(spec, fmt.Sprintf("%s=%s:%d", f.name, f.sha, len(f.data)))
	}
	var cmds []*exec.Cmd
	var outs []*bytes.Buffer
	for range 2 {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "LAMBDAPACK_CACHE_HELPER=1", "LAMBDAPACK_CACHE_HELPER_DIR="+dir,
			"LAMBDAPACK_CACHE_HELPER_URL="+s.URL, "LAMBDAPACK_CACHE_HELPER_FILES="+strings.Join(spec, " "))
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds, outs = append(cmds, cmd), append(outs, &out)
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("helper process %d: %v\n%s", i, err, outs[i])
		}
	}
	for _, f := range files {
		if n := s.count(f.name); n != 1 {
			t.Errorf("%s downloaded %d times by two processes, want 1", f.name, n)
		}
	}
	c, _ := Open(dir)
	if n := len(blobFiles(t, c)); n != 4 {
		t.Errorf("%d files under blobs, want 4", n)
	}
}

func TestFetchTruncatedDownloadLeavesNothing(t *testing.T) {
	files := makeFiles(1, 10_000)
	f := files[0]
	// Server 1: a short body (its own Content-Length matches the short body).
	s := newServer(t, files, 0)
	s.serve[f.name] = f.data[:6000]
	// Server 2: a body cut off below its announced Content-Length.
	cut := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(len(f.data)))
		w.Write(f.data[:3000])
		// Return: the server closes the connection early.
	}))
	defer cut.Close()
	for _, base := range []string{s.URL, cut.URL} {
		c, err := Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		u := strings.Replace(base, "http://", "http://alice:s3cret@", 1) + "/" + f.name
		_, err = c.Fetch(context.Background(), []Request{{Name: f.name, URL: u, SHA256: f.sha, Size: int64(len(f.data))}})
		if !errors.Is(err, ErrTruncated) {
			t.Fatalf("%s: err = %v, want ErrTruncated", base, err)
		}
		msg := err.Error()
		if !strings.Contains(msg, f.name) || !strings.Contains(msg, strings.TrimPrefix(base, "http://")) {
			t.Errorf("error does not name the file and URL: %s", msg)
		}
		if strings.Contains(msg, "s3cret") || strings.Contains(msg, "alice") {
			t.Errorf("error leaks user information: %s", msg)
		}
		if left := blobFiles(t, c); len(left) != 0 {
			t.Errorf("truncated download left %v", left)
		}
	}
}

func TestFetchHashMismatchLeavesNothing(t *testing.T) {
	files := makeFiles(2, 5000)
	s := newServer(t, files, 0)
	bad := bytes.Clone(files[1].data)
	bad[100] ^= 1
	s.serve[files[1].name] = bad
	c, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Fetch(context.Background(), requests(s, files))
	if !errors.Is(err, ErrHashMismatch) {
		t.Fatalf("err = %v, want ErrHashMismatch", err)
	}
	if !strings.Contains(err.Error(), files[1].name) || !strings.Contains(err.Error(), files[1].sha) {
		t.Errorf("error does not name the file and expected hash: %v", err)
	}
	if _, ok := c.Lookup(files[1].sha); ok {
		t.Error("the mismatching file is in the cache")
	}
	for _, p := range blobFiles(t, c) {
		if strings.Contains(filepath.Base(p), "tmp") {
			t.Errorf("temporary left: %s", p)
		}
	}
}

func TestFetchRejectsOversizedAndBadHash(t *testing.T) {
	files := makeFiles(1, 5000)
	s := newServer(t, files, 0)
	c, _ := Open(t.TempDir())
	reqs := requests(s, files)
	reqs[0].Size = 4000
	if _, err := c.Fetch(context.Background(), reqs); err == nil || !strings.Contains(err.Error(), "more than the expected") {
		t.Errorf("oversized download: err = %v", err)
	}
	reqs = requests(s, files)
	reqs[0].SHA256 = "abc"
	if _, err := c.Fetch(context.Background(), reqs); err == nil {
		t.Error("a malformed expected hash was accepted")
	}
	if n := len(blobFiles(t, c)); n != 0 {
		t.Errorf("%d files left", n)
	}
}

func TestOfflineListsMissing(t *testing.T) {
	files := makeFiles(3, 1000)
	s := newServer(t, files, 0)
	dir := t.TempDir()
	c, _ := Open(dir)
	if _, err := c.Fetch(context.Background(), requests(s, files[:1])); err != nil {
		t.Fatal(err)
	}
	off, err := Open(dir, Offline(true))
	if err != nil {
		t.Fatal(err)
	}
	_, err = off.Fetch(context.Background(), requests(s, files))
	var miss *MissingError
	if !errors.As(err, &miss) {
		t.Fatalf("err = %v, want *MissingError", err)
	}
	if len(miss.Missing) != 2 || miss.Missing[0].Name != files[1].name || miss.Missing[1].Name != files[2].name {
		t.Errorf("missing = %+v", miss.Missing)
	}
	if !strings.Contains(err.Error(), files[2].name) {
		t.Errorf("message does not list the missing file: %v", err)
	}
	if s.count(files[1].name) != 0 {
		t.Error("offline mode downloaded")
	}
	blobs, err := off.Fetch(context.Background(), requests(s, files[:1]))
	if err != nil || !blobs[0].Cached {
		t.Errorf("offline fetch of a cached file: %v %+v", err, blobs)
	}
}

func TestNoCacheRemovesItsFolder(t *testing.T) {
	files := makeFiles(1, 1000)
	s := newServer(t, files, 0)
	c, err := Open("", NoCache(true))
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := c.Fetch(context.Background(), requests(s, files))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(blobs[0].Path); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(c.Root()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("temporary cache %s still there: %v", c.Root(), err)
	}
}

func TestDefaultDir(t *testing.T) {
	t.Setenv(EnvDir, "/some/where")
	if d, _ := DefaultDir(); d != "/some/where" {
		t.Errorf("DefaultDir = %s", d)
	}
	t.Setenv(EnvDir, "")
	t.Setenv("XDG_CACHE_HOME", "/xdg")
	if d, _ := DefaultDir(); d != "/xdg/lambdapack" {
		t.Errorf("DefaultDir = %s", d)
	}
}

func TestDirAndMemo(t *testing.T) {
	c, _ := Open(t.TempDir())
	d, err := c.Dir("index")
	if err != nil {
		t.Fatal(err)
	}
	if d != filepath.Join(c.Root(), "v1", "index") {
		t.Errorf("Dir = %s", d)
	}
	for _, bad := range []string{"../x", "a/b", "", "blobs"} {
		if _, err := c.Dir(bad); err == nil {
			t.Errorf("Dir(%q) accepted", bad)
		}
	}
	m, err := c.Memo("checked")
	if err != nil {
		t.Fatal(err)
	}
	if m.Has("k1") {
		t.Error("empty memo has k1")
	}
	if err := m.Put("k1"); err != nil {
		t.Fatal(err)
	}
	m2, _ := c.Memo("checked")
	if !m2.Has("k1") || m2.Has("k2") {
		t.Error("memo does not persist exactly its keys")
	}
	if err := m.Put("../evil"); err == nil {
		t.Error("memo accepted a path as key")
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"https://user:pw@example.invalid/a.whl": "https://example.invalid/a.whl",
		"https://token@example.invalid/a.whl":   "https://example.invalid/a.whl",
		"https://example.invalid/a.whl":         "https://example.invalid/a.whl",
		"/local/a.whl":                          "/local/a.whl",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFetchCancelledWhileWaitingForLock(t *testing.T) {
	files := makeFiles(1, 1000)
	dir := t.TempDir()
	c, _ := Open(dir)
	unlock, err := lockFile(context.Background(), filepath.Join(c.Root(), "v1", "locks", "sha256", files[0].sha+".lock"))
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	var opened atomic.Bool
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err = c.Fetch(ctx, []Request{{Name: files[0].name, URL: "x", SHA256: files[0].sha, Size: 1000,
		Open: func(context.Context) (io.ReadCloser, error) {
			opened.Store(true)
			return io.NopCloser(bytes.NewReader(files[0].data)), nil
		}}})
	if !errors.Is(err, context.DeadlineExceeded) || opened.Load() {
		t.Errorf("err = %v, opened %v: want a deadline error while the lock is held", err, opened.Load())
	}
}

func TestStaleTemporariesAreRemoved(t *testing.T) {
	files := makeFiles(1, 1000)
	s := newServer(t, files, 0)
	c, _ := Open(t.TempDir())
	dir := filepath.Dir(c.BlobPath(files[0].sha))
	os.MkdirAll(dir, 0o755)
	old, fresh := filepath.Join(dir, ".tmp-killed"), filepath.Join(dir, ".tmp-running")
	os.WriteFile(old, []byte("partial"), 0o644)
	os.WriteFile(fresh, []byte("partial"), 0o644)
	os.Chtimes(old, time.Now().Add(-2*time.Hour), time.Now().Add(-2*time.Hour))
	if _, err := c.Fetch(context.Background(), requests(s, files)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(old); err == nil {
		t.Error("a stale temporary survived")
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Error("a fresh temporary (another run's download) was removed")
	}
}
