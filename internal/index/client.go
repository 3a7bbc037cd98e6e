package index

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
	"weak"

	"github.com/lambdapack/lambdapack/internal/netlimit"
)

// Client talks to the configured indexes and find-links locations. It is
// safe for concurrent use.
type Client struct {
	cfg         Config
	hc          *http.Client
	sem         chan struct{}
	cache       *pageCache
	offline     bool
	log         *slog.Logger
	attempts    int
	backoff     time.Duration
	concurrency int
	heuristic   time.Duration
	lim         netlimit.Limits
	auth        *authStore
	reporter    Reporter

	mu       sync.Mutex
	projects map[string]*projectCall
	warned   map[string]bool
	flCache  map[string]*flResult
}

type projectCall struct {
	done chan struct{}
	p    *Project              // an answer the disk cache cannot give again
	weak weak.Pointer[Project] // else this
	err  error
}

// Option configures a Client.
type Option func(*Client) error

// WithCacheDir keeps index pages and metadata files under dir (created when
// missing). Without it nothing is cached on disk.
func WithCacheDir(dir string) Option {
	return func(c *Client) error {
		if dir == "" {
			return nil
		}
		pc, err := newPageCache(dir)
		if err != nil {
			return err
		}
		c.cache = pc
		return nil
	}
}

// WithOffline serves pages and metadata from the cache only; a miss is an
// error wrapping ErrOffline.
func WithOffline(offline bool) Option {
	return func(c *Client) error { c.offline = offline; return nil }
}

// WithHTTPClient replaces the shared HTTP client (tests, proxies).
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) error {
		if hc == nil {
			return fmt.Errorf("WithHTTPClient: nil client")
		}
		c.hc = hc
		return nil
	}
}

// WithConcurrency bounds the number of requests in flight (default 16).
func WithConcurrency(n int) Option {
	return func(c *Client) error {
		if n < 1 {
			return fmt.Errorf("WithConcurrency: %d is not a positive number of requests", n)
		}
		c.concurrency = n
		return nil
	}
}

// WithLogger sends debug and warning messages (cache hits, retries, missing
// find-links folders) to l.
func WithLogger(l *slog.Logger) Option {
	return func(c *Client) error {
		if l != nil {
			c.log = l
		}
		return nil
	}
}

// WithRetries sets how many times a request is tried in all (default 5) and
// the first backoff delay, doubled after each failure (default 250ms).
func WithRetries(attempts int, backoff time.Duration) Option {
	return func(c *Client) error {
		if attempts < 1 {
			return fmt.Errorf("WithRetries: %d attempts", attempts)
		}
		c.attempts, c.backoff = attempts, backoff
		return nil
	}
}

// WithTimeout bounds one attempt at a page or metadata request, body
// included (default netlimit.DefaultAttemptTimeout); a timed-out attempt is
// retried.
func WithTimeout(d time.Duration) Option {
	return func(c *Client) error {
		if d <= 0 {
			return fmt.Errorf("WithTimeout: %v is not a positive duration", d)
		}
		c.lim.AttemptTimeout = d
		return nil
	}
}

// WithLimits replaces the network limits (read timeout and minimum rate,
// attempt, total and download deadlines, page size, longest Retry-After).
// Zero fields take their defaults. Without it the limits are
// netlimit.FromEnv's: the defaults, changed by LAMBDAPACK_HTTP_TIMEOUT,
// LAMBDAPACK_DOWNLOAD_TIMEOUT and LAMBDAPACK_MAX_PAGE_SIZE.
func WithLimits(l netlimit.Limits) Option {
	return func(c *Client) error {
		c.lim = l.WithDefaults()
		return nil
	}
}

// WithHeuristicMaxAge sets how long a page whose response has no
// Cache-Control header counts as fresh (default 10 minutes, like the
// max-age common indexes send); 0 always revalidates such pages.
func WithHeuristicMaxAge(d time.Duration) Option {
	return func(c *Client) error { c.heuristic = d; return nil }
}

// NewClient returns a client for cfg. Credentials come from the index URLs'
// userinfo and from the netrc file ($NETRC or ~/.netrc).
func NewClient(cfg Config, opts ...Option) (*Client, error) {
	c := &Client{
		cfg:         cfg,
		log:         slog.New(slog.NewTextHandler(io.Discard, nil)),
		attempts:    5,
		backoff:     250 * time.Millisecond,
		concurrency: 16,
		heuristic:   10 * time.Minute,
		projects:    map[string]*projectCall{},
		warned:      map[string]bool{},
	}
	lim, err := netlimit.FromEnv(os.Getenv)
	if err != nil {
		return nil, err
	}
	c.lim = lim
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, err
		}
	}
	auth, err := newAuthStore(cfg)
	if err != nil {
		return nil, err
	}
	c.auth = auth
	if c.hc == nil {
		// The transport (and the system's certificate pool, which takes
		// tens of milliseconds to load) is made on the first request: a
		// run served from the cache never needs it.
		c.hc = &http.Client{Transport: &lazyTransport{make: func() (http.RoundTripper, error) {
			return newTransport(c.concurrency, c.log)
		}}}
	}
	if c.hc.CheckRedirect == nil {
		// A redirect loop fails at once, naming the loop, instead of
		// being retried.
		hc := *c.hc
		hc.CheckRedirect = netlimit.CheckRedirect
		c.hc = &hc
	}
	c.sem = make(chan struct{}, c.concurrency)
	return c, nil
}

// Limits returns the network limits the client obeys.
func (c *Client) Limits() netlimit.Limits { return c.lim }

// Config returns the configuration the client uses.
func (c *Client) Config() Config { return c.cfg }

// newTransport builds the shared transport: connection reuse, HTTP/2, proxies
// from the environment, system roots plus PIP_CERT / SSL_CERT_FILE /
// REQUESTS_CA_BUNDLE.
func newTransport(concurrency int, log *slog.Logger) (*http.Transport, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	for _, env := range []string{"PIP_CERT", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"} {
		path := os.Getenv(env)
		if path == "" {
			continue
		}
		pem, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("reading the CA bundle %s named by %s: %w (fix or unset %s)", path, env, err, env)
		}
		if !pool.AppendCertsFromPEM(pem) {
			log.Warn("no PEM certificates found in CA bundle", "file", path, "env", env)
		}
	}
	dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		TLSClientConfig:       &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   concurrency,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   15 * time.Second,
		ExpectContinueTimeout: time.Second,
		// Response headers and bodies are watched per attempt
		// (netlimit.Watchdog), with the client's own limits.
		HTTP2: &http.HTTP2Config{
			// What a server may send before it is read is held in
			// memory: Go's defaults (4 MiB a stream, 1 GiB a connection)
			// let sixteen parallel downloads on a busy machine buffer
			// tens of megabytes. These keep it to a few, and still fill
			// 100 MB/s at a 20 ms round trip.
			MaxReceiveBufferPerStream:     1 << 20,
			MaxReceiveBufferPerConnection: 2 << 20,
		},
	}, nil
}

// lazyTransport makes the real transport on its first request. An error
// making it (a CA bundle that cannot be read) fails every request at once,
// without retries.
type lazyTransport struct {
	make func() (http.RoundTripper, error)
	mu   sync.Mutex
	made bool
	rt   http.RoundTripper
	err  error
}

func (l *lazyTransport) get() (http.RoundTripper, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.made {
		l.rt, l.err = l.make()
		if l.err != nil {
			l.err = &permanentError{l.err}
		}
		l.made = true
	}
	return l.rt, l.err
}

func (l *lazyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	rt, err := l.get()
	if err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	return rt.RoundTrip(req)
}

// CloseIdleConnections closes the idle connections of the transport, if it
// was made.
func (l *lazyTransport) CloseIdleConnections() {
	l.mu.Lock()
	rt := l.rt
	l.mu.Unlock()
	if c, ok := rt.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

func (c *Client) acquire(ctx context.Context) error {
	select {
	case c.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *Client) release() { <-c.sem }

func (c *Client) warnOnce(key, msg string, args ...any) {
	c.mu.Lock()
	seen := c.warned[key]
	c.warned[key] = true
	c.mu.Unlock()
	if !seen {
		c.log.Warn(msg, args...)
	}
}

func ensureSlash(u string) string {
	if strings.HasSuffix(u, "/") {
		return u
	}
	return u + "/"
}
