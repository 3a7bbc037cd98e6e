package testutil

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lambdapack/lambdapack/internal/netlimit"
)

// Fault is a way for an Index response to go wrong, for tests of what a
// client does against dead, slow and hostile servers. Set one kind of
// fault (Status, StallHeaders, StallBody, Trickle, Truncate, RedirectLoop,
// GzipBomb or Pad); Inject it for a path. Stalls and trickles last until
// the client gives up (closes the connection) or MaxStall passes.
type Fault struct {
	// Status answers with this status (and a Retry-After header when
	// RetryAfter is set) instead of the response.
	Status     int
	RetryAfter string
	// StallHeaders accepts the request and sends nothing at all.
	StallHeaders bool
	// StallBody sends the headers and the first At bytes of the body,
	// then nothing.
	StallBody bool
	// Trickle sends the headers, then the body one byte every Trickle.
	Trickle time.Duration
	// Truncate announces the whole body in Content-Length, sends its first
	// At bytes and closes the connection. With the index's NoRanges the
	// response offers no ranges, else it offers them (Accept-Ranges).
	Truncate bool
	At       int64
	// RedirectLoop answers with a redirect to the same path with
	// "?loop=1", which redirects back: a loop of two.
	RedirectLoop bool
	// GzipBomb answers with a gzip-encoded body (whatever the client
	// accepts) that inflates to this many bytes of spaces: a few hundred
	// times smaller on the wire.
	GzipBomb int64
	// Pad streams this many bytes of spaces before the real body (valid
	// leading whitespace for a JSON page, text for an HTML one), with a
	// Content-Length unless PadNoLength.
	Pad         int64
	PadNoLength bool
	// Times is how many requests the fault answers; 0 means every one.
	Times int
	// MaxStall bounds a stall or trickle on the server's side (default
	// one minute), so that a client that never gives up fails its test
	// instead of hanging it.
	MaxStall time.Duration
}

type faultState struct {
	Fault
	left int
}

// Inject makes requests to path ("/simple/numpy/", "/files/x.whl",
// "/files/x.whl.metadata") answer with f. Faults injected for a path are
// used in order; each answers f.Times requests (every one when 0, so
// later faults for the path then never come).
func (ix *Index) Inject(path string, f Fault) {
	ix.mu.Lock()
	ix.faults[path] = append(ix.faults[path], &faultState{Fault: f, left: f.Times})
	ix.mu.Unlock()
}

// ClearFaults removes every injected fault.
func (ix *Index) ClearFaults() {
	ix.mu.Lock()
	clear(ix.faults)
	ix.mu.Unlock()
}

// PagePath is the path of a project's page ("/simple/name/").
func PagePath(project string) string { return "/simple/" + canonicalName(project) + "/" }

// FilePath is the path of a served file ("/files/x.whl").
func FilePath(filename string) string { return "/files/" + filename }

// takeFault returns the fault for the next request to path, if any. The
// caller holds ix.mu.
func (ix *Index) takeFault(path string) *faultState {
	list := ix.faults[path]
	for len(list) > 0 {
		f := list[0]
		if f.Times == 0 {
			return f
		}
		if f.left > 0 {
			f.left--
			if f.left == 0 {
				ix.faults[path] = list[1:]
			}
			return f
		}
		list = list[1:]
		ix.faults[path] = list
	}
	return nil
}

// serveFault answers r with the fault f applied to what the index would
// have answered.
func (ix *Index) serveFault(w http.ResponseWriter, r *http.Request, f *faultState, opts IndexOptions) {
	maxStall := f.MaxStall
	if maxStall <= 0 {
		maxStall = time.Minute
	}
	wait := func(d time.Duration) bool { // false when the client went away
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-r.Context().Done():
			return false
		case <-t.C:
			return true
		}
	}
	switch {
	case f.Status != 0:
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		http.Error(w, "injected "+strconv.Itoa(f.Status), f.Status)
		return
	case f.StallHeaders:
		wait(maxStall)
		return
	case f.RedirectLoop:
		next := r.URL.Path + "?loop=1"
		if r.URL.Query().Get("loop") != "" {
			next = r.URL.Path
		}
		http.Redirect(w, r, next, http.StatusFound)
		return
	case f.GzipBomb > 0:
		w.Header().Set("Content-Type", "application/vnd.pypi.simple.v1+json")
		w.Header().Set("Content-Encoding", "gzip")
		member := gzipMiB()
		for left := f.GzipBomb; left > 0; left -= 1 << 20 {
			if _, err := w.Write(member); err != nil {
				return
			}
		}
		return
	}

	// The other faults change the body of the normal answer.
	rec := httptest.NewRecorder()
	ix.serveNormal(rec, r, opts)
	body := rec.Body.Bytes()
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	flush := func() {
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
	}
	switch {
	case f.Pad > 0:
		if !f.PadNoLength {
			w.Header().Set("Content-Length", strconv.FormatInt(f.Pad+int64(len(body)), 10))
		} else {
			w.Header().Del("Content-Length")
		}
		w.WriteHeader(rec.Code)
		chunk := bytes.Repeat([]byte{' '}, 64<<10)
		for left := f.Pad; left > 0; left -= int64(len(chunk)) {
			if _, err := w.Write(chunk[:min(left, int64(len(chunk)))]); err != nil {
				return
			}
		}
		_, _ = w.Write(body)
	case f.Truncate, f.StallBody:
		if f.At >= int64(len(body)) {
			panic(fmt.Sprintf("testutil: fault at byte %d of %s, but its body has only %d bytes", f.At, r.URL.Path, len(body)))
		}
		at := f.At
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(rec.Code)
		_, _ = w.Write(body[:at])
		flush()
		if f.StallBody {
			wait(maxStall)
		}
		// Returning short of Content-Length makes the server close the
		// connection.
	case f.Trickle > 0:
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(rec.Code)
		deadline := time.Now().Add(maxStall)
		for i := range body {
			if _, err := w.Write(body[i : i+1]); err != nil {
				return
			}
			flush()
			if time.Now().After(deadline) || !wait(f.Trickle) {
				return
			}
		}
	default:
		panic(fmt.Sprintf("testutil: fault %+v sets nothing to do", f.Fault))
	}
}

var gzipMiBOnce = sync.OnceValue(func() []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = zw.Write([]byte(strings.Repeat(" ", 1<<20)))
	_ = zw.Close()
	return buf.Bytes()
})

// gzipMiB is one gzip member that inflates to 1 MiB of spaces; a bomb is
// many of them back to back (gzip readers read concatenated members).
func gzipMiB() []byte { return gzipMiBOnce() }

// NetLimits are network limits for tests against a faulty Index: a stall
// is caught within a second, a request gives up within a few, a page may
// be 1 MiB. Tests stay quick and still tell a limit that works from one
// that is missing.
func NetLimits() netlimit.Limits {
	return netlimit.Limits{
		ReadTimeout:     300 * time.Millisecond,
		MinRate:         1 << 10,
		AttemptTimeout:  3 * time.Second,
		TotalTimeout:    6 * time.Second,
		DownloadTimeout: 3 * time.Second,
		MaxPageSize:     1 << 20,
		MaxRetryAfter:   3 * time.Second,
	}
}
