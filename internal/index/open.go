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
)

// Open streams a distribution file: a local file for file:// URLs, else an
// authenticated GET retried on 5xx, resets and timeouts, resumed with a
// range request when the connection drops mid-body. The caller hashes the
// bytes (the cache package does) and must Close the reader; a body shorter
// than announced ends in an error wrapping ErrTruncated.
func (c *Client) Open(ctx context.Context, f File) (io.ReadCloser, error) {
	wrap := func(err error) error {
		return &Error{Op: "downloading " + f.Filename, Index: f.Index, URL: Redact(f.URL), Err: err}
	}
	if path, ok := localPath(f.URL); ok {
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
	d := &download{c: c, ctx: ctx, url: f.URL, total: -1}
	if err := d.start(0); err != nil {
		return nil, wrap(err)
	}
	d.wrap = wrap
	c.report(Event{Kind: EventDownloadStart, File: f.Filename, URL: Redact(f.URL), Bytes: d.total})
	return d, nil
}

type download struct {
	c     *Client
	ctx   context.Context
	url   string
	wrap  func(error) error
	body  io.ReadCloser
	held  bool // holds a concurrency slot
	read  int64
	total int64 // -1 unknown
	resum bool  // server accepts ranges
	tries int
}

// start issues the GET (from offset when resuming) with retries.
func (d *download) start(offset int64) error {
	var lastErr error
	for d.tries < d.c.attempts {
		if d.tries > 0 {
			if err := d.c.sleep(d.ctx, d.tries); err != nil {
				return err
			}
		}
		d.tries++
		hdr := http.Header{"Accept-Encoding": {"identity"}}
		if offset > 0 {
			hdr.Set("Range", "bytes="+strconv.FormatInt(offset, 10)+"-")
		}
		req, err := d.c.newRequest(d.ctx, d.url, hdr)
		if err != nil {
			return err
		}
		if err := d.c.acquire(d.ctx); err != nil {
			return err
		}
		resp, err := d.c.hc.Do(req)
		if err != nil {
			d.c.release()
			lastErr = d.c.cleanErr(err)
			if !retryable(d.ctx, err) {
				return lastErr
			}
			continue
		}
		want := http.StatusOK
		if offset > 0 {
			want = http.StatusPartialContent
		}
		if resp.StatusCode != want {
			resp.Body.Close()
			d.c.release()
			lastErr = &statusError{Status: resp.StatusCode}
			if retryableStatus(resp.StatusCode) {
				continue
			}
			return lastErr
		}
		if offset == 0 {
			d.total = resp.ContentLength
			d.resum = resp.Header.Get("Accept-Ranges") == "bytes"
		}
		d.body, d.held = resp.Body, true
		return nil
	}
	return fmt.Errorf("%w (gave up after %d attempts)", lastErr, d.c.attempts)
}

func (d *download) Read(p []byte) (int, error) {
	if d.body == nil {
		return 0, io.ErrClosedPipe
	}
	n, err := d.body.Read(p)
	d.read += int64(n)
	if err == nil {
		return n, nil
	}
	if err == io.EOF {
		if d.total >= 0 && d.read < d.total {
			err = io.ErrUnexpectedEOF
		} else {
			d.finish()
			return n, io.EOF
		}
	}
	// A dropped connection: resume where we stopped when the server
	// supports ranges and tries remain.
	if d.resum && d.total > 0 && d.tries < d.c.attempts && retryable(d.ctx, err) {
		d.c.log.Debug("resuming download", "url", Redact(d.url), "at", d.read, "after", d.c.cleanErr(err).Error())
		d.finish()
		if serr := d.start(d.read); serr == nil {
			return n, nil
		} else {
			err = serr
		}
	}
	d.finish()
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = fmt.Errorf("%w: got %d of %d bytes", ErrTruncated, d.read, d.total)
	}
	return n, d.wrap(d.c.cleanErr(err))
}

// finish closes the current body and gives back the concurrency slot.
func (d *download) finish() {
	if d.body != nil {
		d.body.Close()
	}
	if d.held {
		d.held = false
		d.c.release()
	}
}

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
