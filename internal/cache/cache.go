package cache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// Layout is the version of the on-disk layout; a change that old readers
// would misread gets a new one.
const Layout = "v1"

// EnvDir names the environment variable that sets the cache folder.
const EnvDir = "LAMBDAPACK_CACHE_DIR"

var (
	// ErrHashMismatch: a download's sha256 is not the expected one.
	ErrHashMismatch = errors.New("sha256 mismatch")
	// ErrTruncated: a download ended before the expected size.
	ErrTruncated = errors.New("truncated download")
)

// Request asks for one file.
type Request struct {
	// Name is what messages call the file (its file name).
	Name string
	// URL is where it comes from; messages show it with any user
	// information removed.
	URL string
	// SHA256 is the expected hex digest. Empty means unknown: the file is
	// hashed and stored under what it turns out to be (and Offline cannot
	// find it).
	SHA256 string
	// Size is the expected size in bytes; 0 or less means unknown.
	Size int64
	// Open returns the file's bytes. Nil means: http(s) URLs are fetched
	// with net/http, file URLs and plain paths are opened from disk.
	Open func(ctx context.Context) (io.ReadCloser, error)
}

// Blob is a file in the cache.
type Blob struct {
	Name   string // the request's
	Path   string // the blob on disk; read it, never write it
	SHA256 string
	Size   int64
	// Cached is true when the blob was already there (nothing was
	// downloaded).
	Cached bool
}

// Reporter hears about downloads, for progress bars. Calls for different
// files come from different goroutines.
type Reporter interface {
	// Start: a download of name begins; size is -1 when unknown.
	Start(name string, size int64)
	// Advance: n more bytes of name arrived.
	Advance(name string, n int64)
	// Done: the download of name ended (err nil on success).
	Done(name string, err error)
}

// MissingError lists what Offline mode could not find in the cache.
type MissingError struct {
	Missing []Request
}

func (e *MissingError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "offline: %d file(s) are not in the cache:", len(e.Missing))
	for _, r := range e.Missing {
		fmt.Fprintf(&b, "\n  %s", r.Name)
		if r.SHA256 != "" {
			fmt.Fprintf(&b, " (sha256 %s)", r.SHA256)
		}
	}
	b.WriteString("\nrun once without --offline to fetch them")
	return b.String()
}

// Cache is an open cache folder. It is safe for concurrent use, also by
// several processes sharing the folder.
type Cache struct {
	root     string
	base     string // root/Layout
	temp     bool
	offline  bool
	jobs     int
	reporter Reporter
	client   *http.Client

	mu       sync.Mutex
	inflight map[string]*call
}

type call struct {
	done chan struct{}
	blob Blob
	err  error
}

// Option configures Open.
type Option func(*Cache) error

// Offline makes Fetch use the cache alone.
func Offline(on bool) Option { return func(c *Cache) error { c.offline = on; return nil } }

// NoCache uses a fresh temporary folder instead of dir; Close removes it.
func NoCache(on bool) Option { return func(c *Cache) error { c.temp = on; return nil } }

// Concurrency bounds the downloads running at once (default 8).
func Concurrency(n int) Option {
	return func(c *Cache) error {
		if n < 1 {
			return fmt.Errorf("download concurrency %d: want at least 1", n)
		}
		c.jobs = n
		return nil
	}
}

// WithReporter sends download progress to r.
func WithReporter(r Reporter) Option { return func(c *Cache) error { c.reporter = r; return nil } }

// WithHTTPClient sets the client of the default opener for http(s) URLs.
func WithHTTPClient(h *http.Client) Option { return func(c *Cache) error { c.client = h; return nil } }

// DefaultDir returns LAMBDAPACK_CACHE_DIR, else lambdapack under the user's
// cache folder.
func DefaultDir() (string, error) {
	if d := os.Getenv(EnvDir); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("finding the user cache folder: %w; set %s or pass --cache-dir", err, EnvDir)
	}
	return filepath.Join(d, "lambdapack"), nil
}

// Open opens (creating it if needed) the cache at dir; "" means
// DefaultDir().
func Open(dir string, opts ...Option) (*Cache, error) {
	c := &Cache{jobs: 8, inflight: map[string]*call{}}
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, err
		}
	}
	if c.temp {
		d, err := os.MkdirTemp("", "lambdapack-cache-*")
		if err != nil {
			return nil, fmt.Errorf("creating a temporary cache: %w", err)
		}
		dir = d
	} else if dir == "" {
		d, err := DefaultDir()
		if err != nil {
			return nil, err
		}
		dir = d
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("opening cache %s: %w", dir, err)
	}
	c.root, c.base = abs, filepath.Join(abs, Layout)
	for _, d := range []string{filepath.Join(c.base, "blobs", "sha256"), filepath.Join(c.base, "locks", "sha256")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("opening cache %s: %w (choose another with --cache-dir or %s)", abs, err, EnvDir)
		}
	}
	if c.client == nil {
		c.client = http.DefaultClient
	}
	return c, nil
}

// Root is the cache's folder.
func (c *Cache) Root() string { return c.root }

// Close removes the folder of a NoCache cache; otherwise it does nothing.
func (c *Cache) Close() error {
	if c.temp {
		return os.RemoveAll(c.root)
	}
	return nil
}

var hexRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// BlobPath is where the blob with this sha256 lives (it may not exist).
func (c *Cache) BlobPath(sha string) string {
	sha = strings.ToLower(sha)
	return filepath.Join(c.base, "blobs", "sha256", sha[:2], sha)
}

// Lookup finds a blob by sha256.
func (c *Cache) Lookup(sha string) (Blob, bool) {
	sha = strings.ToLower(sha)
	if !hexRE.MatchString(sha) {
		return Blob{}, false
	}
	p := c.BlobPath(sha)
	fi, err := os.Stat(p)
	if err != nil || !fi.Mode().IsRegular() {
		return Blob{}, false
	}
	markUsed(p, fi) // for Prune (admin.go)
	return Blob{Path: p, SHA256: sha, Size: fi.Size(), Cached: true}, true
}

// Redact removes user information (tokens, passwords) from a URL for
// messages.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		if err != nil && strings.Contains(raw, "@") {
			return "(unparsable URL)"
		}
		return raw
	}
	u.User = nil
	return u.String()
}

// Fetch makes every requested file a blob: found in the cache or
// downloaded and checked. Blobs come back in request order. In Offline mode
// a *MissingError lists every file not in the cache.
func (c *Cache) Fetch(ctx context.Context, reqs []Request) ([]Blob, error) {
	for i := range reqs {
		r := &reqs[i]
		r.SHA256 = strings.ToLower(strings.TrimSpace(r.SHA256))
		if r.SHA256 != "" && !hexRE.MatchString(r.SHA256) {
			return nil, fmt.Errorf("fetching %s: expected sha256 %q is not 64 hex digits", r.Name, r.SHA256)
		}
	}
	blobs := make([]Blob, len(reqs))
	if c.offline {
		var missing []Request
		for i, r := range reqs {
			b, ok := c.Lookup(r.SHA256)
			if ok && r.Size > 0 && b.Size != r.Size {
				return nil, fmt.Errorf("cached %s (sha256 %s) is %d bytes but %d were expected; the index or lock disagrees with its own hash", r.Name, r.SHA256, b.Size, r.Size)
			}
			if !ok {
				missing = append(missing, r)
				continue
			}
			b.Name = r.Name
			blobs[i] = b
		}
		if missing != nil {
			return nil, &MissingError{Missing: missing}
		}
		return blobs, nil
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.jobs)
	for i, r := range reqs {
		if b, ok := c.Lookup(r.SHA256); ok {
			if r.Size > 0 && b.Size != r.Size {
				return nil, fmt.Errorf("cached %s (sha256 %s) is %d bytes but %d were expected; the index or lock disagrees with its own hash", r.Name, r.SHA256, b.Size, r.Size)
			}
			b.Name = r.Name
			blobs[i] = b
			continue
		}
		g.Go(func() error {
			b, err := c.fetchOne(gctx, r)
			if err != nil {
				return err
			}
			b.Name = r.Name
			blobs[i] = b
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return blobs, nil
}

// fetchOne downloads one file, once per process for a given sha256.
func (c *Cache) fetchOne(ctx context.Context, r Request) (Blob, error) {
	if r.SHA256 == "" {
		return c.download(ctx, r)
	}
	c.mu.Lock()
	if cl, ok := c.inflight[r.SHA256]; ok {
		c.mu.Unlock()
		select {
		case <-cl.done:
			return cl.blob, cl.err
		case <-ctx.Done():
			return Blob{}, ctx.Err()
		}
	}
	cl := &call{done: make(chan struct{})}
	c.inflight[r.SHA256] = cl
	c.mu.Unlock()
	cl.blob, cl.err = c.download(ctx, r)
	c.mu.Lock()
	delete(c.inflight, r.SHA256)
	c.mu.Unlock()
	close(cl.done)
	return cl.blob, cl.err
}

func (c *Cache) open(ctx context.Context, r Request) (io.ReadCloser, error) {
	if r.Open != nil {
		return r.Open(ctx)
	}
	u, err := url.Parse(r.URL)
	if err != nil || u.Scheme == "" || len(u.Scheme) == 1 {
		return os.Open(r.URL)
	}
	switch u.Scheme {
	case "file":
		return os.Open(filepath.FromSlash(u.Path))
	case "http", "https":
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.URL, nil)
		if err != nil {
			return nil, err
		}
		resp, err := c.client.Do(req)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			return nil, fmt.Errorf("HTTP %s", resp.Status)
		}
		return resp.Body, nil
	}
	return nil, fmt.Errorf("unsupported URL scheme %q", u.Scheme)
}

const maxUnknownSize = 8 << 30

// download streams one file into a temporary file beside its blob,
// checking size and sha256, and renames it into place.
func (c *Cache) download(ctx context.Context, r Request) (b Blob, err error) {
	what := fmt.Sprintf("%s from %s", r.Name, Redact(r.URL))
	dir := filepath.Join(c.base, "blobs", "sha256")
	if r.SHA256 != "" {
		dir = filepath.Dir(c.BlobPath(r.SHA256))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return Blob{}, fmt.Errorf("fetching %s: %w", what, err)
		}
		unlock, err := lockFile(ctx, filepath.Join(c.base, "locks", "sha256", r.SHA256+".lock"))
		if err != nil {
			return Blob{}, fmt.Errorf("fetching %s: locking the cache entry: %w", what, err)
		}
		defer unlock()
		// Another process may have fetched it while we waited.
		if b, ok := c.Lookup(r.SHA256); ok {
			return b, nil
		}
	}
	if c.reporter != nil {
		size := r.Size
		if size <= 0 {
			size = -1
		}
		c.reporter.Start(r.Name, size)
		defer func() { c.reporter.Done(r.Name, err) }()
	}
	rc, err := c.open(ctx, r)
	if err != nil {
		return Blob{}, fmt.Errorf("downloading %s: %w", what, err)
	}
	defer rc.Close()
	removeStale(dir)
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return Blob{}, fmt.Errorf("downloading %s: %w", what, err)
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	limit := int64(maxUnknownSize)
	if r.Size > 0 {
		limit = r.Size + 1
	}
	var w io.Writer = io.MultiWriter(tmp, h)
	if c.reporter != nil {
		w = io.MultiWriter(w, progress{c.reporter, r.Name})
	}
	n, err := io.Copy(w, io.LimitReader(readerCtx{ctx, rc}, limit))
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return Blob{}, fmt.Errorf("downloading %s: %w after %d bytes: %v; try again", what, ErrTruncated, n, err)
		}
		return Blob{}, fmt.Errorf("downloading %s: %w", what, err)
	}
	if r.Size > 0 && n < r.Size {
		return Blob{}, fmt.Errorf("downloading %s: %w: got %d of %d bytes; try again", what, ErrTruncated, n, r.Size)
	}
	if r.Size > 0 && n > r.Size {
		return Blob{}, fmt.Errorf("downloading %s: more than the expected %d bytes; the index or lock has the wrong size, or the file changed", what, r.Size)
	}
	got := hex.EncodeToString(h.Sum(nil))
	if r.SHA256 != "" && got != r.SHA256 {
		return Blob{}, fmt.Errorf("downloading %s: %w: expected %s, got %s; the file changed or was tampered with", what, ErrHashMismatch, r.SHA256, got)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return Blob{}, fmt.Errorf("storing %s: %w", what, err)
	}
	if err := tmp.Sync(); err != nil {
		return Blob{}, fmt.Errorf("storing %s: %w", what, err)
	}
	if err := tmp.Close(); err != nil {
		return Blob{}, fmt.Errorf("storing %s: %w", what, err)
	}
	final := c.BlobPath(got)
	if r.SHA256 == "" {
		if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
			return Blob{}, fmt.Errorf("storing %s: %w", what, err)
		}
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return Blob{}, fmt.Errorf("storing %s: %w", what, err)
	}
	ok = true
	syncDir(filepath.Dir(final))
	return Blob{Name: r.Name, Path: final, SHA256: got, Size: n}, nil
}

// removeStale deletes temporary files a killed run left in dir (older than
// an hour: a download still running elsewhere keeps writing its own).
func removeStale(dir string) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), ".tmp-") {
			continue
		}
		if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > time.Hour {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

type progress struct {
	r    Reporter
	name string
}

func (p progress) Write(b []byte) (int, error) {
	p.r.Advance(p.name, int64(len(b)))
	return len(b), nil
}

type readerCtx struct {
	ctx context.Context
	r   io.Reader
}

func (r readerCtx) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

var keyRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// Dir returns (creating it) a folder of the cache for other artifacts, e.g.
// Dir("index") for the index client's pages. name is a plain name.
func (c *Cache) Dir(name string) (string, error) {
	if !keyRE.MatchString(name) || name == "blobs" || name == "locks" {
		return "", fmt.Errorf("cache folder name %q is not allowed", name)
	}
	d := filepath.Join(c.base, name)
	if err := os.MkdirAll(d, 0o755); err != nil {
		return "", fmt.Errorf("creating cache folder %s: %w", d, err)
	}
	return d, nil
}

// WriteFileAtomic writes data to path through a temporary file in the same
// folder, synced and renamed, so readers see the old file or the new one.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(perm)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// Memo is a set of keys kept in the cache (e.g. "this wheel passed its
// checks"); it satisfies install.Memo.
type Memo struct{ dir string }

// Memo returns the memo set called name.
func (c *Cache) Memo(name string) (*Memo, error) {
	d, err := c.Dir("memo-" + name)
	if err != nil {
		return nil, err
	}
	return &Memo{dir: d}, nil
}

// Has reports whether key was Put.
func (m *Memo) Has(key string) bool {
	if !keyRE.MatchString(key) {
		return false
	}
	_, err := os.Stat(filepath.Join(m.dir, key))
	return err == nil
}

// Put records key.
func (m *Memo) Put(key string) error {
	if !keyRE.MatchString(key) {
		return fmt.Errorf("memo key %q is not a plain name", key)
	}
	return WriteFileAtomic(filepath.Join(m.dir, key), nil, 0o644)
}
