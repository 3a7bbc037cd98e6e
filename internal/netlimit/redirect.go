package netlimit

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// MaxRedirects bounds a chain of redirects (as net/http's default does).
const MaxRedirects = 10

// ErrRedirectLoop matches a *RedirectError for a loop (errors.Is).
var ErrRedirectLoop = errors.New("redirect loop")

// ErrTooManyRedirects matches a *RedirectError for a chain longer than
// MaxRedirects.
var ErrTooManyRedirects = errors.New("too many redirects")

// RedirectError is a redirect chain that was not followed. Retrying it
// cannot help: the server answers the same way every time.
type RedirectError struct {
	// Chain lists the URLs, without credentials, ending with the one that
	// was not followed.
	Chain []string
	Loop  bool
}

func (e *RedirectError) Error() string {
	what := "more than " + strconv.Itoa(MaxRedirects) + " redirects"
	if e.Loop {
		what = "redirect loop"
	}
	return what + ": " + strings.Join(e.Chain, " -> ") + " (the server's redirects never end; check the URL or tell the index's operator)"
}

// Is matches ErrRedirectLoop or ErrTooManyRedirects.
func (e *RedirectError) Is(target error) bool {
	return (e.Loop && target == ErrRedirectLoop) || (!e.Loop && target == ErrTooManyRedirects)
}

// CheckRedirect is an http.Client.CheckRedirect that stops at once when a
// redirect leads back to a URL already visited, and after MaxRedirects.
func CheckRedirect(req *http.Request, via []*http.Request) error {
	next := req.URL.String()
	loop := false
	for _, v := range via {
		if v.URL.String() == next {
			loop = true
			break
		}
	}
	if !loop && len(via) < MaxRedirects {
		return nil
	}
	e := &RedirectError{Loop: loop}
	for _, v := range via {
		e.Chain = append(e.Chain, StripUserinfo(v.URL))
	}
	e.Chain = append(e.Chain, StripUserinfo(req.URL))
	return e
}

// StripUserinfo returns u as a string without user information.
func StripUserinfo(u *url.URL) string {
	if u.User == nil {
		return u.String()
	}
	c := *u
	c.User = nil
	return c.String()
}

// RetryAfter reads a response's Retry-After header, in delay-seconds or
// as an HTTP date; ok is false when there is none or it does not parse. A
// date in the past is a zero delay.
func RetryAfter(h http.Header, now time.Time) (d time.Duration, ok bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		if n > int64(365*24*time.Hour/time.Second) {
			n = int64(365 * 24 * time.Hour / time.Second)
		}
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(0, t.Sub(now)), true
}
