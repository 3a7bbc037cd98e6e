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

	"github.com/lambdapack/lambdapack/internal/atomicfile"
	"github.com/lambdapack/lambdapack/internal/netlimit"
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
	unlock   func() // releases a temporary cache's lock
	swept    []string
	offline  bool
	jobs     int
	reporter Reporter
	client   *http.Client
	lim      netlimit.Limits
	limSet   bool
	attempts int
	backoff  time.Duration

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

// WithLimits sets the network limits of the default opener for http(s)
// URLs (zero fields take their defaults). Without it they are
// netlimit.FromEnv's.
func WithLimits(l netlimit.Limits) Option {
	return func(c *Cache) error { c.lim, c.limSet = l.WithDefaults(), true; return nil }
}

// WithRetries sets how many times the default opener tries a download in
// all (default 3: each try starts from zero) and the first wait between
// tries, doubled after each (default 250ms). Requests with their own Open
// retry as that opener does.
func WithRetries(attempts int, backoff time.Duration) Option {
	return func(c *Cache) error {
		if attempts < 1 {
			return fmt.Errorf("download attempts %d: want at least 1", attempts)
		}
		c.attempts, c.backoff = attempts, backoff
		return nil
	}
}

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
	c := &Cache{jobs: 8, inflight: map[string]*call{}, attempts: 3, backoff: 250 * time.Millisecond}
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, err
		}
	}
	if !c.limSet {
		lim, err := netlimit.FromEnv(os.Getenv)
		if err != nil {
			return nil, err
		}
		c.lim = lim
	}
	c.swept = sweepTempCachesOnce()
	if c.temp {
		d, unlock, err := makeTempCache()
		if err != nil {
			return nil, err
		}
		dir, c.unlock = d, unlock
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
			c.Close()
			return nil, fmt.Errorf("opening cache %s: %w (choose another with --cache-dir or %s)", abs, err, EnvDir)
		}
	}
	if c.client == nil {
		// Response headers and bodies are watched per attempt
		// (netlimit.Watchdog); the transport bounds the rest.
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSHandshakeTimeout = 15 * time.Second
		c.client = &http.Client{Transport: tr}
	}
	if c.client.CheckRedirect == nil {
		hc := *c.client
		hc.CheckRedirect = netlimit.CheckRedirect
		c.client = &hc
	}
	return c, nil
}

// Root is the cache's folder.
func (c *Cache) Root() string { return c.root }

// Swept lists the temporary caches of killed --no-cache runs that opening
// this cache removed (SweepTempCaches; only the first Open of a process
// sweeps).
func (c *Cache) Swept() []string { return c.swept }

// Close removes the folder of a NoCache cache; otherwise it does nothing.
func (c *Cache) Close() error {
	if c.temp {
		err := os.RemoveAll(c.root)
		if c.unlock != nil {
			c.unlock()
			c.unlock = nil
		}
		return err
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
		return c.openHTTP(ctx, r.URL)
	}
	return nil, fmt.Errorf("unsupported URL scheme %q", u.Scheme)
}

// byDefaultOpener reports whether the cache's own HTTP opener serves r.
func byDefaultOpener(r Request) bool {
	return r.Open == nil && (strings.HasPrefix(r.URL, "http://") || strings.HasPrefix(r.URL, "https://"))
}

// statusError is an HTTP answer other than 200.
type statusError struct {
	status     int
	retryAfter time.Duration
	hasWait    bool
}

func (e *statusError) Error() string {
	return fmt.Sprintf("HTTP %d %s", e.status, http.StatusText(e.status))
}

// openHTTP GETs rawURL for one attempt, bounded by the download deadline
// and watched for stalls and trickles; closing the body ends the attempt.
func (c *Cache) openHTTP(ctx context.Context, rawURL string) (io.ReadCloser, error) {
	actx, cancel := context.WithTimeoutCause(ctx, c.lim.DownloadTimeout, &netlimit.DeadlineError{
		What: "one download attempt", After: c.lim.DownloadTimeout, Hint: "set " + netlimit.EnvDownloadTimeout + " to allow more"})
	wctx, wd := c.lim.Watch(actx)
	stop := func() { wd.Stop(); cancel() }
	req, err := http.NewRequestWithContext(wctx, http.MethodGet, rawURL, nil)
	if err != nil {
		stop()
		return nil, err
	}
	req.Header.Set("Accept-Encoding", "identity")
	resp, err := c.client.Do(req)
	if err != nil {
		err = attemptErr(actx, wd, err)
		stop()
		return nil, err
	}
	wd.Headers()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		stop()
		e := &statusError{status: resp.StatusCode}
		e.retryAfter, e.hasWait = netlimit.RetryAfter(resp.Header, time.Now())
		return nil, e
	}
	return &watchedBody{ReadCloser: wd.Body(resp.Body), actx: actx, wd: wd, stop: stop}, nil
}

// attemptErr names why an attempt failed: a stall or a deadline, else the
// error without net/http's URL wrapper (the URL may carry credentials;
// messages name it redacted themselves).
func attemptErr(actx context.Context, wd *netlimit.Watchdog, err error) error {
	if cause := wd.Cause(actx, err); cause != err {
		return cause
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

type watchedBody struct {
	io.ReadCloser
	actx context.Context
	wd   *netlimit.Watchdog
	stop func()
}

func (b *watchedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		err = attemptErr(b.actx, b.wd, err)
	}
	return n, err
}

func (b *watchedBody) Close() error {
	err := b.ReadCloser.Close()
	b.stop()
	return err
}

// transient reports whether another try of the default opener could
// succeed: a stall, a deadline, a cut or reset connection, a 5xx or 429.
func transient(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var se *statusError
	if errors.As(err, &se) {
		return se.status >= 500 || se.status == http.StatusTooManyRequests || se.status == http.StatusRequestTimeout
	}
	if errors.Is(err, ErrHashMismatch) || errors.Is(err, errTooBig) ||
		errors.Is(err, netlimit.ErrRedirectLoop) || errors.Is(err, netlimit.ErrTooManyRedirects) {
		return false
	}
	return true
}

var errTooBig = errors.New("larger than expected")

const maxUnknownSize = 8 << 30

// download streams one file into a temporary file beside its blob,
// checking size and sha256, and renames it into place. The default HTTP
// opener's failures that another try could mend are tried again from zero.
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
	removeStale(dir)
	tmp, err := atomicfile.Create(filepath.Join(dir, "download"), atomicfile.Sync())
	if err != nil {
		return Blob{}, fmt.Errorf("downloading %s: %w", what, err)
	}
	defer tmp.Abort()
	tries := 1
	if byDefaultOpener(r) {
		tries = c.attempts
	}
	var n int64
	var got string
	for attempt := 1; ; attempt++ {
		n, got, err = c.copyOnce(ctx, r, tmp.File)
		if err == nil {
			break
		}
		if attempt >= tries || !transient(ctx, err) {
			if attempt > 1 {
				err = fmt.Errorf("%w (gave up after %d attempts)", err, attempt)
			}
			return Blob{}, fmt.Errorf("downloading %s: %w", what, err)
		}
		wait := c.backoff << (attempt - 1)
		var se *statusError
		if errors.As(err, &se) && se.hasWait {
			if se.retryAfter > c.lim.MaxRetryAfter {
				return Blob{}, fmt.Errorf("downloading %s: %w: the server asks to retry after %v, longer than lambdapack waits (%v); try again later", what, err, se.retryAfter, c.lim.MaxRetryAfter)
			}
			wait = se.retryAfter
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return Blob{}, fmt.Errorf("downloading %s: %w", what, ctx.Err())
		}
		if _, err := tmp.Seek(0, io.SeekStart); err != nil {
			return Blob{}, fmt.Errorf("downloading %s: %w", what, err)
		}
		if err := tmp.Truncate(0); err != nil {
			return Blob{}, fmt.Errorf("downloading %s: %w", what, err)
		}
	}
	if r.SHA256 != "" && got != r.SHA256 {
		return Blob{}, fmt.Errorf("downloading %s: %w: expected %s, got %s; the file changed or was tampered with", what, ErrHashMismatch, r.SHA256, got)
	}
	final := c.BlobPath(got)
	if r.SHA256 == "" {
		if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
			return Blob{}, fmt.Errorf("storing %s: %w", what, err)
		}
	}
	if err := tmp.CommitAs(final, 0o644); err != nil {
		return Blob{}, fmt.Errorf("storing %s: %w", what, err)
	}
	return Blob{Name: r.Name, Path: final, SHA256: got, Size: n}, nil
}

// copyOnce opens the file and copies it into tmp (from its start), at most
// the expected size (or maxUnknownSize), returning its size and sha256.
func (c *Cache) copyOnce(ctx context.Context, r Request, tmp *os.File) (int64, string, error) {
	rc, err := c.open(ctx, r)
	if err != nil {
		return 0, "", err
	}
	defer rc.Close()
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
			return n, "", fmt.Errorf("%w after %d bytes: %v; try again", ErrTruncated, n, err)
		}
		return n, "", err
	}
	if r.Size > 0 && n < r.Size {
		return n, "", fmt.Errorf("%w: got %d of %d bytes; try again", ErrTruncated, n, r.Size)
	}
	if r.Size > 0 && n > r.Size {
		return n, "", fmt.Errorf("%w: more than the expected %d bytes; the index or lock has the wrong size, or the file changed", errTooBig, r.Size)
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
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
	return atomicfile.WriteFile(filepath.Join(m.dir, key), nil, 0o644, atomicfile.Sync())
}
