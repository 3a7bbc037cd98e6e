package netlimit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
	"time"
)

// ErrStalled matches every *StallError (errors.Is).
var ErrStalled = errors.New("the server stopped sending")

// StallError says that a response did not come, stalled or trickled.
type StallError struct {
	// Headers is true when the response headers never came.
	Headers bool
	// Window is the read window that passed; Got the body bytes received
	// in it and Total in all; Min the bytes the window needed. Idle is how
	// long the last read had waited for data.
	Window          time.Duration
	Got, Total, Min int64
	Idle            time.Duration
}

func (e *StallError) Error() string {
	hint := fmt.Sprintf("set %s to wait longer on a slow network", EnvHTTPTimeout)
	switch {
	case e.Headers:
		return fmt.Sprintf("no response within %v (%s)", e.Window, hint)
	case e.Got == 0:
		return fmt.Sprintf("the response stalled: no data for %v after %d bytes (%s)", e.Window, e.Total, hint)
	case e.Idle >= e.Window/2:
		return fmt.Sprintf("the response stalled: no data for %v after %d bytes (%s)", e.Idle.Round(time.Millisecond), e.Total, hint)
	}
	return fmt.Sprintf("the response trickled: %d bytes in %v, below the %d needed (%s)", e.Got, e.Window, e.Min, hint)
}

// Is makes errors.Is(err, ErrStalled) true.
func (e *StallError) Is(target error) bool { return target == ErrStalled }

// Timeout reports true: a stall is a timeout (and worth another attempt).
func (e *StallError) Timeout() bool { return true }

// Watchdog guards one HTTP attempt: it cancels the attempt's context when
// the headers do not arrive within ReadTimeout, or when a body read window
// (ReadTimeout of time spent blocked in Read) brings fewer than MinRate
// bytes per second. Only time spent waiting inside Read counts, so a slow
// consumer is never mistaken for a slow server.
type Watchdog struct {
	cancel context.CancelCauseFunc
	window time.Duration
	min    int64

	mu       sync.Mutex
	t        *time.Timer
	waiting  bool      // blocked in the header wait or in a Read
	since    time.Time // when the current wait began
	deadline time.Time // when the current window ends, while waiting
	left     time.Duration
	got      int64 // body bytes in the current window
	total    int64
	headers  bool // headers arrived
	fired    *StallError
	stopped  bool
}

// Watch starts a watchdog on a new context derived from ctx; the request
// must use that context. The header wait starts now. Call Stop when the
// attempt ends.
func (l Limits) Watch(ctx context.Context) (context.Context, *Watchdog) {
	l = l.WithDefaults()
	wctx, cancel := context.WithCancelCause(ctx)
	min := int64(1)
	if l.MinRate > 0 {
		min = max(1, int64(math.Ceil(float64(l.MinRate)*l.ReadTimeout.Seconds())))
	}
	w := &Watchdog{cancel: cancel, window: l.ReadTimeout, min: min, left: l.ReadTimeout}
	now := time.Now()
	w.waiting, w.since, w.deadline = true, now, now.Add(w.left)
	w.t = time.AfterFunc(w.left, w.expire)
	return wctx, w
}

// expire runs when the timer fires: if a wait has really used up its
// window, the attempt is cancelled unless the window brought enough bytes,
// in which case a new window starts.
func (w *Watchdog) expire() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped || w.fired != nil || !w.waiting {
		return
	}
	now := time.Now()
	if now.Before(w.deadline) { // a stale firing after a Reset
		w.t.Reset(w.deadline.Sub(now))
		return
	}
	if !w.headers {
		w.fire(&StallError{Headers: true, Window: w.window})
		return
	}
	if w.got < w.min {
		w.fire(&StallError{Window: w.window, Got: w.got, Total: w.total, Min: w.min, Idle: now.Sub(w.since)})
		return
	}
	w.got, w.left, w.since, w.deadline = 0, w.window, now, now.Add(w.window)
	w.t.Reset(w.window)
}

func (w *Watchdog) fire(e *StallError) {
	w.fired = e
	w.cancel(e)
}

// Headers says the response headers arrived: the header wait ends and
// body windows begin with the first Read.
func (w *Watchdog) Headers() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.t.Stop()
	w.headers, w.waiting, w.left, w.got = true, false, w.window, 0
}

// Err returns the stall that cancelled the attempt, if any, else err. Use
// it on errors from the request and from reading the body.
func (w *Watchdog) Err(err error) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fired != nil && err != nil {
		return w.fired
	}
	return err
}

// Cause names why an attempt failed with err: the stall the watchdog
// caught, else the *DeadlineError that ended actx (the attempt's context,
// or a parent's), else err itself.
func (w *Watchdog) Cause(actx context.Context, err error) error {
	if werr := w.Err(err); werr != err {
		return werr
	}
	if err != nil && actx.Err() != nil {
		if cause := context.Cause(actx); errors.Is(cause, ErrDeadline) {
			return cause
		}
	}
	return err
}

// Stop ends the watch and releases its timer and context.
func (w *Watchdog) Stop() {
	w.mu.Lock()
	w.stopped = true
	w.t.Stop()
	w.mu.Unlock()
	w.cancel(context.Canceled)
}

// Body wraps a response body so that its reads are watched.
func (w *Watchdog) Body(r io.ReadCloser) io.ReadCloser { return &watchedBody{w: w, r: r} }

type watchedBody struct {
	w *Watchdog
	r io.ReadCloser
}

func (b *watchedBody) Read(p []byte) (int, error) {
	w := b.w
	w.mu.Lock()
	if w.fired != nil {
		err := w.fired
		w.mu.Unlock()
		return 0, err
	}
	now := time.Now()
	w.waiting, w.since, w.deadline = true, now, now.Add(w.left)
	w.t.Reset(w.left)
	w.mu.Unlock()

	n, err := b.r.Read(p)

	w.mu.Lock()
	defer w.mu.Unlock()
	w.waiting = false
	if w.fired != nil {
		if err == nil || !errors.Is(err, io.EOF) {
			return n, w.fired
		}
		return n, err
	}
	now = time.Now()
	w.left -= now.Sub(w.since)
	w.got += int64(n)
	w.total += int64(n)
	if w.left <= 0 {
		if w.got < w.min && err == nil {
			w.fire(&StallError{Window: w.window, Got: w.got, Total: w.total, Min: w.min})
			return n, w.fired
		}
		w.got, w.left = 0, w.window
	}
	return n, err
}

func (b *watchedBody) Close() error { return b.r.Close() }

// ErrDeadline matches every *DeadlineError (errors.Is).
var ErrDeadline = errors.New("deadline exceeded")

// DeadlineError says that an attempt or a whole request ran out of time.
type DeadlineError struct {
	What  string        // "one attempt", "the request", "one download attempt"
	After time.Duration // the limit
	Hint  string        // what the user can change, if anything
}

func (e *DeadlineError) Error() string {
	s := fmt.Sprintf("%s took longer than %v", e.What, e.After)
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

// Is makes errors.Is(err, ErrDeadline) true.
func (e *DeadlineError) Is(target error) bool { return target == ErrDeadline }

// Timeout reports true.
func (e *DeadlineError) Timeout() bool { return true }
