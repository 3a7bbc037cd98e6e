package index

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/lambdapack/lambdapack/internal/netlimit"
)

// response is a fully read HTTP response.
type response struct {
	Status int
	Header http.Header
	// Body is the body of a 200 or 206 answer; nil for other statuses
	// and for a 200 answer to a range request (see getOpts.ranged).
	Body     []byte
	FinalURL string // after redirects, without userinfo
}

// getOpts says how fetchAll reads a body.
type getOpts struct {
	// what the body is, for messages: "the index page", "the metadata
	// file", "a range of the wheel".
	what string
	// limit bounds the body in bytes (decompressed); past it the request
	// fails with ErrTooLarge and is not retried.
	limit int64
	// hint is what the user can do about a body past limit, if anything.
	hint string
	// ranged: the request has a Range header. A 200 answer means the
	// server ignored it: its body is not read (unless whole is set), and
	// Body is nil.
	ranged bool
	// whole, when set, consumes the body of a 200 answer as a stream
	// (bounded by itself) and returns what goes in Body.
	whole func(body io.Reader, resp *http.Response) ([]byte, error)
	// attempt overrides the attempt timeout (a request that may bring a
	// whole file takes the download timeout).
	attempt time.Duration
}

// errBodyLimit bounds the bodies of error and redirect answers, which are
// read only so that the connection can be reused.
const errBodyLimit = 64 << 10

// statusError is a non-success HTTP status.
type statusError struct {
	Status int
	Text   string
	// RetryAfter is the server's Retry-After, when it sent one.
	RetryAfter   time.Duration
	HasRetryWait bool
}

func (e *statusError) Error() string {
	switch e.Status {
	case http.StatusUnauthorized, http.StatusForbidden:
		return fmt.Sprintf("HTTP %d %s (check the credentials in the index URL or your netrc file)", e.Status, http.StatusText(e.Status))
	}
	if e.Text != "" {
		return fmt.Sprintf("HTTP %d %s", e.Status, e.Text)
	}
	return fmt.Sprintf("HTTP %d %s", e.Status, http.StatusText(e.Status))
}

func newStatusError(resp *http.Response) *statusError {
	e := &statusError{Status: resp.StatusCode}
	e.RetryAfter, e.HasRetryWait = netlimit.RetryAfter(resp.Header, time.Now())
	return e
}

// tooLargeError is a body past its bound. It matches ErrTooLarge.
type tooLargeError struct {
	what     string
	limit    int64
	declared int64 // Content-Length, -1 when not given
	hint     string
}

func (e *tooLargeError) Error() string {
	s := fmt.Sprintf("%s is larger than %s", e.what, netlimit.HumanSize(e.limit))
	if e.declared > e.limit {
		s = fmt.Sprintf("%s is %d bytes, more than %s", e.what, e.declared, netlimit.HumanSize(e.limit))
	}
	s += ": refusing it"
	if e.hint != "" {
		s += " (" + e.hint + ")"
	}
	return s
}

func (e *tooLargeError) Is(target error) bool { return target == ErrTooLarge }

// permanentError is a failure that another attempt would repeat (a
// malformed file, as opposed to a network fault).
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

func retryableStatus(code int) bool {
	return code >= 500 || code == http.StatusTooManyRequests || code == http.StatusRequestTimeout
}

// retryable reports whether a transport or body error is worth another try.
func retryable(ctx context.Context, err error) bool {
	if ctx.Err() != nil || errors.Is(err, context.Canceled) {
		return false
	}
	if errors.Is(err, ErrTooLarge) || errors.Is(err, netlimit.ErrRedirectLoop) || errors.Is(err, netlimit.ErrTooManyRedirects) {
		return false
	}
	var pe *permanentError
	if errors.As(err, &pe) {
		return false
	}
	var se *statusError
	if errors.As(err, &se) {
		return retryableStatus(se.Status)
	}
	var uerr x509.UnknownAuthorityError
	var herr x509.HostnameError
	var cerr *tls.CertificateVerificationError
	if errors.As(err, &uerr) || errors.As(err, &herr) || errors.As(err, &cerr) {
		return false
	}
	var dns *net.DNSError
	if errors.As(err, &dns) && dns.IsNotFound {
		return false
	}
	var ue *url.Error
	if errors.As(err, &ue) && (ue.Op == "parse") {
		return false
	}
	return true
}

// backoffDelay is the wait before attempt (2, 3, ...): the backoff doubled
// after each failure, at most 10 s.
func (c *Client) backoffDelay(attempt int) time.Duration {
	d := c.backoff << max(0, attempt-2)
	if d > 10*time.Second || d < 0 {
		d = 10 * time.Second
	}
	return d
}

// retryWait decides the wait before attempt next after err: the server's
// Retry-After when it gave one, else the backoff. It fails when the server
// asks for longer than the client waits.
func (c *Client) retryWait(err error, next int) (time.Duration, error) {
	var se *statusError
	if errors.As(err, &se) && se.HasRetryWait {
		if se.RetryAfter > c.lim.MaxRetryAfter {
			return 0, fmt.Errorf("%w: the server asks to retry after %v, longer than lambdapack waits (%v); try again later", err, se.RetryAfter, c.lim.MaxRetryAfter)
		}
		return se.RetryAfter, nil
	}
	return c.backoffDelay(next), nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// noteRetry tells the reporter that a request failed and will be tried
// again, or the log when there is no reporter (one place says it: a run
// printed every retry twice).
func (c *Client) noteRetry(ev Event, next int, wait time.Duration, err error) {
	ev.Kind, ev.Attempt, ev.Attempts, ev.Wait = EventRetry, next, c.attempts, wait
	ev.Err = c.auth.scrub(err.Error())
	if c.reporter == nil {
		c.log.Warn("retrying", "url", ev.URL, "attempt", next, "of", c.attempts, "in", wait, "after", ev.Err)
		return
	}
	c.log.Debug("retrying", "url", ev.URL, "attempt", next, "of", c.attempts, "in", wait, "after", ev.Err)
	c.report(ev)
}

// newRequest builds an authenticated GET.
func (c *Client) newRequest(ctx context.Context, rawURL string, hdr http.Header) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("bad URL %s: %w", Redact(rawURL), errors.Unwrap(err))
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", "lambdapack")
	}
	c.auth.apply(req)
	return req, nil
}

// fetchAll GETs rawURL and reads its body (at most o.limit bytes),
// retrying 5xx/429, network errors, stalls and truncated bodies with
// exponential backoff (or the server's Retry-After). Each attempt is bound
// by the attempt timeout and the read watchdog, the whole by the total
// timeout. Non-retryable statuses are returned as a response, not an
// error.
func (c *Client) fetchAll(ctx context.Context, rawURL string, hdr http.Header, o getOpts) (*response, error) {
	// One slot for the whole request, retries included, so waiting for a
	// slot never eats into the request's time.
	if err := c.acquire(ctx); err != nil {
		return nil, err
	}
	defer c.release()
	start := time.Now()
	total := &netlimit.DeadlineError{
		What: "the request", After: c.lim.TotalTimeout, Hint: "set " + netlimit.EnvHTTPTimeout + " to allow more on a slow network"}
	tctx, cancel := context.WithTimeoutCause(ctx, c.lim.TotalTimeout, total)
	defer cancel()
	ev := Event{URL: Redact(rawURL)}
	var prev error
	for attempt := 1; ; attempt++ {
		r, err := c.fetchOnce(tctx, rawURL, hdr, o)
		if err == nil {
			return r, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if tctx.Err() != nil {
			if errors.Is(err, netlimit.ErrDeadline) && prev != nil {
				err = prev // cut by the total deadline: say what failed before
			}
			return nil, c.gaveUp(context.Cause(tctx), err, attempt, start)
		}
		prev = err
		if !retryable(tctx, err) {
			return nil, err
		}
		if attempt >= c.attempts {
			return nil, c.gaveUp(nil, err, attempt, start)
		}
		wait, werr := c.retryWait(err, attempt+1)
		if werr != nil {
			return nil, werr
		}
		if dl, ok := tctx.Deadline(); ok && time.Now().Add(wait).After(dl) {
			// Waiting would cross the total deadline: give up now, saying so.
			return nil, c.gaveUp(total, fmt.Errorf("%w; the next attempt would start after the deadline", err), attempt, start)
		}
		c.noteRetry(ev, attempt+1, wait, err)
		if err := sleepCtx(tctx, wait); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, c.gaveUp(err, nil, attempt, start)
		}
	}
}

// gaveUp is the error after the last attempt: why (a deadline, or the
// attempts running out) and the last failure.
func (c *Client) gaveUp(deadline, last error, attempts int, start time.Time) error {
	took := time.Since(start).Round(10 * time.Millisecond)
	switch {
	case deadline != nil && last != nil:
		return fmt.Errorf("%w, after %d attempt(s) in %v; the last failed with: %v", deadline, attempts, took, last)
	case deadline != nil:
		return fmt.Errorf("%w, after %d attempt(s) in %v", deadline, attempts, took)
	case attempts > 1:
		return fmt.Errorf("%w (gave up after %d attempts in %v)", last, attempts, took)
	}
	return last
}

func (c *Client) fetchOnce(ctx context.Context, rawURL string, hdr http.Header, o getOpts) (*response, error) {
	at := c.lim.AttemptTimeout
	if o.attempt > 0 {
		at = o.attempt
	}
	actx, cancel := context.WithTimeoutCause(ctx, at, &netlimit.DeadlineError{What: "one attempt", After: at})
	defer cancel()
	wctx, wd := c.lim.Watch(actx)
	defer wd.Stop()
	req, err := c.newRequest(wctx, rawURL, hdr)
	if err != nil {
		return nil, err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, c.attemptErr(actx, wd, err)
	}
	defer resp.Body.Close()
	wd.Headers()
	body := wd.Body(resp.Body)
	final := stripUserinfo(resp.Request.URL.String())
	if o.whole != nil && resp.StatusCode == http.StatusOK {
		b, err := o.whole(body, resp)
		if err != nil {
			return nil, c.attemptErr(actx, wd, err)
		}
		return &response{Status: resp.StatusCode, Header: resp.Header, Body: b, FinalURL: final}, nil
	}
	ok := resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusPartialContent
	if !ok || (o.ranged && resp.StatusCode == http.StatusOK) {
		_, _ = io.Copy(io.Discard, io.LimitReader(body, errBodyLimit))
		if retryableStatus(resp.StatusCode) {
			return nil, newStatusError(resp)
		}
		return &response{Status: resp.StatusCode, Header: resp.Header, FinalURL: final}, nil
	}
	limit := o.limit
	if limit <= 0 {
		limit = c.lim.MaxPageSize
	}
	if resp.ContentLength > limit {
		return nil, &tooLargeError{what: o.what, limit: limit, declared: resp.ContentLength, hint: o.hint}
	}
	b, err := readBounded(body, limit, resp.ContentLength)
	if err != nil {
		if errors.Is(err, errPastLimit) {
			return nil, &tooLargeError{what: o.what, limit: limit, declared: -1, hint: o.hint}
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w: got %d of %d bytes", ErrTruncated, len(b), resp.ContentLength)
		}
		return nil, fmt.Errorf("reading the response body: %w", c.attemptErr(actx, wd, err))
	}
	if resp.ContentLength >= 0 && int64(len(b)) != resp.ContentLength {
		return nil, fmt.Errorf("%w: got %d of %d bytes", ErrTruncated, len(b), resp.ContentLength)
	}
	return &response{Status: resp.StatusCode, Header: resp.Header, Body: b, FinalURL: final}, nil
}

var errPastLimit = errors.New("past the limit")

// readBounded reads r to its end into memory, failing with errPastLimit
// as soon as it holds more than limit bytes. The buffer starts at size
// (when known) and never grows past limit, so a body at the limit costs
// about twice the limit in allocations, and a bomb no more.
func readBounded(r io.Reader, limit, size int64) ([]byte, error) {
	c := int64(32 << 10)
	if size >= 0 {
		c = size + 1 // +1: reaching EOF needs no growth
	}
	buf := make([]byte, 0, min(c, limit))
	for {
		if len(buf) == cap(buf) {
			if int64(len(buf)) >= limit {
				var probe [1]byte
				n, err := io.ReadFull(r, probe[:])
				if n > 0 {
					return buf, errPastLimit
				}
				if err == io.EOF || err == io.ErrUnexpectedEOF {
					return buf, nil
				}
				return buf, err
			}
			nb := make([]byte, len(buf), min(2*int64(cap(buf))+512, limit))
			copy(nb, buf)
			buf = nb
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// attemptErr names why an attempt failed: a stall the watchdog caught, a
// deadline (the attempt's or the request's), else the cleaned error.
func (c *Client) attemptErr(actx context.Context, wd *netlimit.Watchdog, err error) error {
	if cause := wd.Cause(actx, err); cause != err {
		return cause
	}
	return c.cleanErr(err)
}

// cleanErr drops the URL wrapper of net/http errors (its URL may carry
// credentials) and scrubs known secrets.
func (c *Client) cleanErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if s := c.auth.scrub(err.Error()); s != err.Error() {
		return errors.New(s)
	}
	return err
}
