package index

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/lambdapack/lambdapack/internal/netlimit"
)

// Open streams a distribution file: a local file for file:// URLs and
// absolute paths (only when the file did not come from a remote index),
// else an authenticated GET. Every attempt is bounded (the download
// deadline, and the read watchdog for stalls and trickles); a failed
// request is retried on 5xx/429 (after the server's Retry-After), resets
// and timeouts, and a body cut short is resumed with a range request where
// the server supports ranges, else downloaded again from the start with the
// bytes already delivered skipped. The caller hashes the bytes (the cache
// package does) and must Close the reader; a body shorter than announced
// ends in an error wrapping ErrTruncated. Errors name the URL, without
// credentials.
func (c *Client) Open(ctx context.Context, f File) (io.ReadCloser, error) {
	wrap := func(err error) error {
		return &Error{Op: "downloading " + f.Filename, Index: f.Index, URL: Redact(f.URL), Err: err}
	}
	if path, ok := localPath(f.URL); ok {
		if err := c.localAllowed(f); err != nil {
			return nil, wrap(err)
		}
		fh, err := os.Open(path)
		if err != nil {
			return nil, wrap(err)
		}
		return fh, nil
	}
	if c.offline {
		return nil, wrap(fmt.Errorf("%w (run once without --offline to fill the cache)", ErrOffline))
	}
	if u, err := url.Parse(f.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, wrap(fmt.Errorf("cannot download %q: want an http(s) or file URL, or an absolute path", Redact(f.URL)))
	}
	d := &download{c: c, ctx: ctx, url: f.URL, name: f.Filename, total: -1, wrap: wrap}
	if err := d.start(0); err != nil {
		return nil, wrap(err)
	}
	c.report(Event{Kind: EventDownloadStart, File: f.Filename, URL: Redact(f.URL), Bytes: d.total})
	return d, nil
}

// localAllowed refuses a local path that a remote index listed: only a
// local index or find-links location the user named may point at files
// on this machine.
func (c *Client) localAllowed(f File) error {
	if isRemote(f.Index) {
		return fmt.Errorf("%w: %s lists %s, a path on this machine; only a local find-links folder or page may do that", ErrLocalLink, f.Index, Redact(f.URL))
	}
	return nil
}

// isRemote reports whether a location is an http(s) URL.
func isRemote(loc string) bool {
	u, err := url.Parse(loc)
	return err == nil && (strings.EqualFold(u.Scheme, "http") || strings.EqualFold(u.Scheme, "https"))
}

type download struct {
	c    *Client
	ctx  context.Context
	url  string
	name string
	wrap func(error) error

	body   io.ReadCloser
	wd     *netlimit.Watchdog
	actx   context.Context
	cancel context.CancelFunc
	held   bool // holds a concurrency slot

	read  int64 // bytes delivered to the caller
	skip  int64 // bytes of the current body to discard (a restart from zero)
	total int64 // -1 unknown
	resum bool  // the server accepts ranges
	tries int
	wait  time.Duration // before the next attempt, when the server said
	done  bool          // the whole body was delivered
}

// start issues the GET, from offset with a range request when resuming,
// with retries. A server that ignores the range sends the whole file: the
// bytes already delivered are skipped.
func (d *download) start(offset int64) error {
	var lastErr error
	for d.tries < d.c.attempts {
		if d.tries > 0 {
			if err := sleepCtx(d.ctx, d.wait); err != nil {
				return err
			}
		}
		d.tries++
		err := d.attempt(offset)
		if err == nil {
			return nil
		}
		lastErr = err
		if d.ctx.Err() != nil {
			return d.ctx.Err()
		}
		if !retryable(d.ctx, err) {
			return err
		}
		if d.tries >= d.c.attempts {
			break
		}
		if d.wait, err = d.c.retryWait(err, d.tries+1); err != nil {
			return err
		}
		d.c.noteRetry(Event{File: d.name, URL: Redact(d.url), Offset: offset}, d.tries+1, d.wait, lastErr)
	}
	return fmt.Errorf("%w (gave up after %d attempts)", lastErr, d.tries)
}

// attempt makes one request and, on success, holds its body.
func (d *download) attempt(offset int64) error {
	if err := d.c.acquire(d.ctx); err != nil {
		return err
	}
	lim := d.c.lim
	actx, cancel := context.WithTimeoutCause(d.ctx, lim.DownloadTimeout, &netlimit.DeadlineError{
		What: "one download attempt", After: lim.DownloadTimeout, Hint: "set " + netlimit.EnvDownloadTimeout + " to allow more"})
	wctx, wd := lim.Watch(actx)
	fail := func(err error) error {
		wd.Stop()
		cancel()
		d.c.release()
		return err
	}
	hdr := http.Header{"Accept-Encoding": {"identity"}}
	ranged := offset > 0 && d.resum
	if ranged {
		hdr.Set("Range", "bytes="+strconv.FormatInt(offset, 10)+"-")
	}
	req, err := d.c.newRequest(wctx, d.url, hdr)
	if err != nil {
		return fail(err)
	}
	resp, err := d.c.hc.Do(req)
	if err != nil {
		return fail(d.c.attemptErr(actx, wd, err))
	}
	wd.Headers()
	switch {
	case ranged && resp.StatusCode == http.StatusPartialContent:
		start, _, err := parseContentRange(resp.Header.Get("Content-Range"))
		if err != nil || start != offset {
			// Not the bytes asked for: start over from zero.
			resp.Body.Close()
			d.resum = false
			return fail(fmt.Errorf("%w: the server resumed at %q, not at byte %d", ErrTruncated, resp.Header.Get("Content-Range"), offset))
		}
		d.skip = 0
	case resp.StatusCode == http.StatusOK:
		if d.total < 0 && offset == 0 {
			d.total = resp.ContentLength
		}
		if offset == 0 {
			d.resum = resp.Header.Get("Accept-Ranges") == "bytes"
		}
		// A full body after a cut: skip what the caller already has.
		d.skip = d.read
	default:
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, errBodyLimit))
		resp.Body.Close()
		return fail(newStatusError(resp))
	}
	d.body, d.wd, d.actx, d.cancel, d.held = wd.Body(resp.Body), wd, actx, cancel, true
	return nil
}

func (d *download) Read(p []byte) (int, error) {
	for {
		if d.done {
			return 0, io.EOF
		}
		if d.body == nil {
			return 0, io.ErrClosedPipe
		}
		n, err := d.body.Read(p)
		if d.skip > 0 && n > 0 {
			k := int(min(int64(n), d.skip))
			copy(p, p[k:n])
			n -= k
			d.skip -= int64(k)
		}
		d.read += int64(n)
		if err == nil {
			if n == 0 {
				continue
			}
			return n, nil
		}
		if err == io.EOF {
			if d.skip == 0 && (d.total < 0 || d.read >= d.total) {
				d.finish()
				d.body, d.done = nil, true
				return n, io.EOF
			}
			err = io.ErrUnexpectedEOF
		}
		err = d.c.attemptErr(d.actx, d.wd, err)
		if errors.Is(err, io.ErrUnexpectedEOF) {
			err = fmt.Errorf("%w: got %d of %d bytes", ErrTruncated, d.read, d.total)
		}
		// The body failed: carry on where it stopped when the server
		// takes ranges, else from the start (skipping what was
		// delivered), while attempts remain.
		d.finish()
		if d.tries >= d.c.attempts && retryable(d.ctx, err) {
			err = fmt.Errorf("%w (gave up after %d attempts)", err, d.tries)
		} else if retryable(d.ctx, err) {
			offset := int64(0)
			if d.resum && d.total > 0 {
				offset = d.read
			}
			wait, werr := d.c.retryWait(err, d.tries+1)
			if werr == nil {
				d.wait = wait
				d.c.noteRetry(Event{File: d.name, URL: Redact(d.url), Offset: offset}, d.tries+1, wait, err)
				serr := d.start(offset)
				if serr == nil {
					if n > 0 {
						return n, nil
					}
					continue
				}
				err = serr
			} else {
				err = werr
			}
		}
		d.body = nil
		return n, d.wrap(err)
	}
}

// finish closes the current body and releases its slot, watchdog and
// deadline.
func (d *download) finish() {
	if d.body != nil {
		d.body.Close()
	}
	if d.wd != nil {
		d.wd.Stop()
		d.wd = nil
	}
	if d.cancel != nil {
		d.cancel()
		d.cancel = nil
	}
	if d.held {
		d.held = false
		d.c.release()
	}
}

// Size is the file's length as its server announced it (Content-Length),
// -1 when it did not: a caller can tell how much is coming before reading
// it (pins.StopOver).
func (d *download) Size() int64 { return d.total }

func (d *download) Close() error {
	d.finish()
	d.body = nil
	return nil
}

// localPath returns the filesystem path of a file:// URL or of an absolute
// path given in place of a URL.
func localPath(u string) (string, bool) {
	if filepath.IsAbs(u) {
		return u, true
	}
	pu, err := url.Parse(u)
	if err == nil && pu.Scheme == "file" {
		return filepath.FromSlash(pu.Path), true
	}
	return "", false
}
