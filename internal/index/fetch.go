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
	"strconv"
	"time"
)

// response is a fully read HTTP response.
type response struct {
	Status   int
	Header   http.Header
	Body     []byte
	FinalURL string // after redirects, without userinfo
}

// statusError is a non-success HTTP status.
type statusError struct {
	Status int
	Text   string
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

func retryableStatus(code int) bool {
	return code >= 500 || code == http.StatusTooManyRequests || code == http.StatusRequestTimeout
}

// retryable reports whether a transport or body error is worth another try.
func retryable(ctx context.Context, err error) bool {
	if ctx.Err() != nil || errors.Is(err, context.Canceled) {
		return false
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

func (c *Client) sleep(ctx context.Context, attempt int) error {
	d := c.backoff << (attempt - 1)
	if d > 10*time.Second {
		d = 10 * time.Second
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
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

// fetchAll GETs rawURL and reads the whole body, retrying 5xx/429, network
// errors and truncated bodies with exponential backoff. Non-retryable
// statuses are returned as a response, not an error.
func (c *Client) fetchAll(ctx context.Context, rawURL string, hdr http.Header) (*response, error) {
	var lastErr error
	for attempt := 0; attempt < c.attempts; attempt++ {
		if attempt > 0 {
			c.log.Debug("retrying", "url", Redact(rawURL), "attempt", attempt+1, "after", c.auth.scrub(lastErr.Error()))
			c.report(Event{Kind: EventRetry, URL: Redact(rawURL)})
			if err := c.sleep(ctx, attempt); err != nil {
				return nil, err
			}
		}
		r, err := c.fetchOnce(ctx, rawURL, hdr)
		if err == nil {
			return r, nil
		}
		lastErr = err
		var se *statusError
		if errors.As(err, &se) {
			if !retryableStatus(se.Status) {
				return nil, err
			}
			continue
		}
		if !retryable(ctx, err) {
			return nil, err
		}
	}
	if c.attempts > 1 {
		return nil, fmt.Errorf("%w (gave up after %d attempts)", lastErr, c.attempts)
	}
	return nil, lastErr
}

func (c *Client) fetchOnce(ctx context.Context, rawURL string, hdr http.Header) (*response, error) {
	// Bound one attempt, so a stalled body becomes a retry, not a hang.
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := c.newRequest(ctx, rawURL, hdr)
	if err != nil {
		return nil, err
	}
	if err := c.acquire(ctx); err != nil {
		return nil, err
	}
	defer c.release()
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, c.cleanErr(err)
	}
	defer resp.Body.Close()
	if retryableStatus(resp.StatusCode) {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		return nil, &statusError{Status: resp.StatusCode}
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w: got %d of %s bytes", ErrTruncated, len(body), strconv.FormatInt(resp.ContentLength, 10))
		}
		return nil, fmt.Errorf("reading the response body: %w", c.cleanErr(err))
	}
	if resp.ContentLength >= 0 && int64(len(body)) != resp.ContentLength && resp.Request.Method != http.MethodHead {
		return nil, fmt.Errorf("%w: got %d of %d bytes", ErrTruncated, len(body), resp.ContentLength)
	}
	return &response{Status: resp.StatusCode, Header: resp.Header, Body: body, FinalURL: stripUserinfo(resp.Request.URL.String())}, nil
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
