package netlimit

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestFromEnv(t *testing.T) {
	env := map[string]string{}
	get := func(k string) string { return env[k] }
	l, err := FromEnv(get)
	if err != nil || l != Default() {
		t.Fatalf("no variables: %+v %v", l, err)
	}
	env[EnvHTTPTimeout] = "90"
	env[EnvDownloadTimeout] = "2h"
	env[EnvMaxPageSize] = "256MiB"
	l, err = FromEnv(get)
	if err != nil {
		t.Fatal(err)
	}
	if l.ReadTimeout != 90*time.Second || l.DownloadTimeout != 2*time.Hour || l.MaxPageSize != 256<<20 {
		t.Fatalf("%+v", l)
	}
	if l.AttemptTimeout < 4*l.ReadTimeout || l.TotalTimeout < 6*l.ReadTimeout {
		t.Fatalf("attempt and total timeouts must grow with the read timeout: %+v", l)
	}
	for k, v := range map[string]string{EnvHTTPTimeout: "soon", EnvDownloadTimeout: "-3", EnvMaxPageSize: "lots"} {
		env = map[string]string{k: v}
		if _, err := FromEnv(get); err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s=%s: %v", k, v, err)
		}
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"1024": 1024, "64MiB": 64 << 20, "2 GiB": 2 << 30, "10kb": 10_000, "5MB": 5_000_000, "7B": 7} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "-1", "MiB", "1.5MiB", "99999999999GiB"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) accepted", in)
		}
	}
	if HumanSize(64<<20) != "64 MiB" || HumanSize(1000) != "1000 bytes" {
		t.Error(HumanSize(64<<20), HumanSize(1000))
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"0":                             0,
		"120":                           2 * time.Minute,
		"Thu, 02 Jan 2025 03:05:05 GMT": time.Minute,
		"Thu, 02 Jan 2025 03:00:00 GMT": 0, // in the past
	} {
		d, ok := RetryAfter(http.Header{"Retry-After": {v}}, now)
		if !ok || d != want {
			t.Errorf("Retry-After %q: %v %v, want %v", v, d, ok, want)
		}
	}
	for _, v := range []string{"", "soon", "-5"} {
		if _, ok := RetryAfter(http.Header{"Retry-After": {v}}, now); ok {
			t.Errorf("Retry-After %q accepted", v)
		}
	}
}

func TestCheckRedirect(t *testing.T) {
	req := func(u string) *http.Request {
		pu, _ := url.Parse(u)
		return &http.Request{URL: pu}
	}
	via := []*http.Request{req("https://u:pw@a/x"), req("https://a/y")}
	if err := CheckRedirect(req("https://a/z"), via); err != nil {
		t.Fatal(err)
	}
	err := CheckRedirect(req("https://u:pw@a/x"), via)
	if !errors.Is(err, ErrRedirectLoop) || strings.Contains(err.Error(), "pw") ||
		!strings.Contains(err.Error(), "redirect loop: https://a/x -> https://a/y -> https://a/x") {
		t.Fatalf("loop: %v", err)
	}
	var long []*http.Request
	for i := range MaxRedirects {
		long = append(long, req("https://a/"+strings.Repeat("n", i+1)))
	}
	if err := CheckRedirect(req("https://a/next"), long); !errors.Is(err, ErrTooManyRedirects) {
		t.Fatalf("chain: %v", err)
	}
}

// slowReader delivers data in pieces, waiting before each.
type slowReader struct {
	ctx    context.Context
	pieces []int
	wait   time.Duration
}

func (r *slowReader) Read(p []byte) (int, error) {
	if len(r.pieces) == 0 {
		return 0, io.EOF
	}
	select {
	case <-time.After(r.wait):
	case <-r.ctx.Done():
		return 0, r.ctx.Err()
	}
	n := min(r.pieces[0], len(p))
	r.pieces = r.pieces[1:]
	return n, nil
}

func (r *slowReader) Close() error { return nil }

func watch(lim Limits, body func(ctx context.Context) io.ReadCloser) (int64, error) {
	ctx, wd := lim.Watch(context.Background())
	defer wd.Stop()
	wd.Headers()
	n, err := io.Copy(io.Discard, wd.Body(body(ctx)))
	return n, wd.Err(err)
}

func TestWatchdog(t *testing.T) {
	lim := Limits{ReadTimeout: 200 * time.Millisecond, MinRate: 1000}
	// 200 bytes per 200ms window needed.
	t.Run("steady", func(t *testing.T) {
		n, err := watch(lim, func(ctx context.Context) io.ReadCloser {
			return &slowReader{ctx: ctx, pieces: []int{100, 100, 100, 100, 100, 100, 100, 100}, wait: 40 * time.Millisecond}
		})
		if err != nil || n != 800 {
			t.Fatalf("%d %v", n, err)
		}
	})
	t.Run("stall", func(t *testing.T) {
		_, err := watch(lim, func(ctx context.Context) io.ReadCloser {
			return &slowReader{ctx: ctx, pieces: []int{100}, wait: time.Hour}
		})
		var se *StallError
		if !errors.As(err, &se) || se.Headers || se.Got != 0 || !strings.Contains(err.Error(), "no data for 200ms") {
			t.Fatalf("%v", err)
		}
	})
	t.Run("trickle", func(t *testing.T) {
		_, err := watch(lim, func(ctx context.Context) io.ReadCloser {
			return &slowReader{ctx: ctx, pieces: []int{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, wait: 30 * time.Millisecond}
		})
		if !errors.Is(err, ErrStalled) || !strings.Contains(err.Error(), "trickled") {
			t.Fatalf("%v", err)
		}
	})
	t.Run("slow-consumer", func(t *testing.T) {
		// Data is always ready; the consumer dawdles. Only time spent
		// waiting in Read counts, so this is no stall.
		ctx, wd := lim.Watch(context.Background())
		defer wd.Stop()
		wd.Headers()
		b := wd.Body(io.NopCloser(strings.NewReader("abcdef")))
		buf := make([]byte, 1)
		for {
			_, err := b.Read(buf)
			if err == io.EOF {
				break
			}
			if err != nil || ctx.Err() != nil {
				t.Fatalf("%v %v", err, ctx.Err())
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	t.Run("headers", func(t *testing.T) {
		ctx, wd := lim.Watch(context.Background())
		defer wd.Stop()
		<-ctx.Done()
		var se *StallError
		if err := wd.Err(context.Cause(ctx)); !errors.As(err, &se) || !se.Headers || !strings.Contains(err.Error(), "no response within 200ms") {
			t.Fatalf("%v", err)
		}
	})
}
