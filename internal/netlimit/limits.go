package netlimit

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// The defaults. Each bounds something a dead, slow or hostile server could
// otherwise make unbounded.
const (
	// DefaultReadTimeout is the longest wait for response headers, and the
	// window over which a body must deliver MinRate: 30 s, as uv's
	// UV_HTTP_TIMEOUT. Change it with LAMBDAPACK_HTTP_TIMEOUT.
	DefaultReadTimeout = 30 * time.Second
	// DefaultMinRate (bytes per second of waiting) tells a trickle from a
	// slow link: a body that delivers less than 1 KiB/s over a whole read
	// window has, for practical purposes, stalled.
	DefaultMinRate = 1 << 10
	// DefaultAttemptTimeout bounds one attempt at an index page, a metadata
	// file or a range request, body included.
	DefaultAttemptTimeout = 2 * time.Minute
	// DefaultTotalTimeout bounds one such request, all attempts and waits
	// included: a dead index fails within it, whatever the retry count.
	DefaultTotalTimeout = 2 * time.Minute
	// DefaultDownloadTimeout bounds one attempt at downloading a file. An
	// attempt cut short resumes with a range request where the server
	// allows it (and restarts from zero where it does not), so this only
	// needs raising (LAMBDAPACK_DOWNLOAD_TIMEOUT) for very large files on
	// slow links from servers without range support.
	DefaultDownloadTimeout = 30 * time.Minute
	// DefaultMaxPageSize bounds an index page once decompressed. The
	// largest public project pages are a few MiB; a page past this is
	// refused (and never cached). Change it with LAMBDAPACK_MAX_PAGE_SIZE.
	DefaultMaxPageSize = 64 << 20
	// DefaultMaxRetryAfter is the longest Retry-After that is waited for; a
	// server asking for longer gets an error at once that says so.
	DefaultMaxRetryAfter = time.Minute
)

// The environment variables FromEnv reads.
const (
	// EnvHTTPTimeout sets ReadTimeout (seconds, or a Go duration like
	// "90s"); attempt and total timeouts grow with it.
	EnvHTTPTimeout = "LAMBDAPACK_HTTP_TIMEOUT"
	// EnvDownloadTimeout sets DownloadTimeout (seconds or a duration).
	EnvDownloadTimeout = "LAMBDAPACK_DOWNLOAD_TIMEOUT"
	// EnvMaxPageSize sets MaxPageSize (bytes, or with a KiB/MiB/GiB or
	// KB/MB/GB suffix).
	EnvMaxPageSize = "LAMBDAPACK_MAX_PAGE_SIZE"
)

// Limits bounds network reads. The zero value of a field means its default
// (see Default).
type Limits struct {
	// ReadTimeout: headers must arrive, and every window of this much time
	// spent waiting for the body must bring MinRate bytes per second.
	ReadTimeout time.Duration
	// MinRate in bytes per second; negative means no minimum (only a
	// complete stall is caught).
	MinRate int64
	// AttemptTimeout bounds one attempt at a page, metadata file or range.
	AttemptTimeout time.Duration
	// TotalTimeout bounds one such request, retries included.
	TotalTimeout time.Duration
	// DownloadTimeout bounds one attempt at a file download.
	DownloadTimeout time.Duration
	// MaxPageSize bounds an index page, decompressed, in bytes.
	MaxPageSize int64
	// MaxRetryAfter is the longest Retry-After waited for.
	MaxRetryAfter time.Duration
}

// Default returns the default limits.
func Default() Limits {
	return Limits{
		ReadTimeout:     DefaultReadTimeout,
		MinRate:         DefaultMinRate,
		AttemptTimeout:  DefaultAttemptTimeout,
		TotalTimeout:    DefaultTotalTimeout,
		DownloadTimeout: DefaultDownloadTimeout,
		MaxPageSize:     DefaultMaxPageSize,
		MaxRetryAfter:   DefaultMaxRetryAfter,
	}
}

// WithDefaults fills zero fields with their defaults.
func (l Limits) WithDefaults() Limits {
	d := Default()
	if l.ReadTimeout <= 0 {
		l.ReadTimeout = d.ReadTimeout
	}
	if l.MinRate == 0 {
		l.MinRate = d.MinRate
	}
	if l.AttemptTimeout <= 0 {
		l.AttemptTimeout = d.AttemptTimeout
	}
	if l.TotalTimeout <= 0 {
		l.TotalTimeout = d.TotalTimeout
	}
	if l.DownloadTimeout <= 0 {
		l.DownloadTimeout = d.DownloadTimeout
	}
	if l.MaxPageSize <= 0 {
		l.MaxPageSize = d.MaxPageSize
	}
	if l.MaxRetryAfter <= 0 {
		l.MaxRetryAfter = d.MaxRetryAfter
	}
	return l
}

// FromEnv returns the default limits changed by the environment (getenv is
// os.Getenv in production). A value that does not parse is an error naming
// the variable.
func FromEnv(getenv func(string) string) (Limits, error) {
	l := Default()
	if v := strings.TrimSpace(getenv(EnvHTTPTimeout)); v != "" {
		d, err := ParseDuration(v)
		if err != nil {
			return l, fmt.Errorf("%s=%q: %v (give seconds, e.g. 60, or a duration like 90s)", EnvHTTPTimeout, v, err)
		}
		l.ReadTimeout = d
		// A longer read timeout must leave room for at least a few reads
		// per attempt and a few attempts per request.
		l.AttemptTimeout = max(l.AttemptTimeout, 4*d)
		l.TotalTimeout = max(l.TotalTimeout, 6*d)
	}
	if v := strings.TrimSpace(getenv(EnvDownloadTimeout)); v != "" {
		d, err := ParseDuration(v)
		if err != nil {
			return l, fmt.Errorf("%s=%q: %v (give seconds, e.g. 3600, or a duration like 2h)", EnvDownloadTimeout, v, err)
		}
		l.DownloadTimeout = d
	}
	if v := strings.TrimSpace(getenv(EnvMaxPageSize)); v != "" {
		n, err := ParseSize(v)
		if err != nil {
			return l, fmt.Errorf("%s=%q: %v (give bytes, or a size like 256MiB)", EnvMaxPageSize, v, err)
		}
		l.MaxPageSize = n
	}
	return l, nil
}

// ParseDuration reads whole or fractional seconds ("45", "0.5") or a Go
// duration ("90s", "2h"); it must be positive.
func ParseDuration(s string) (time.Duration, error) {
	var d time.Duration
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if f > math.MaxInt64/float64(time.Second) {
			return 0, fmt.Errorf("too long")
		}
		d = time.Duration(f * float64(time.Second))
	} else if d, err = time.ParseDuration(s); err != nil {
		return 0, fmt.Errorf("not a number of seconds or a duration")
	}
	if d <= 0 {
		return 0, fmt.Errorf("must be positive")
	}
	return d, nil
}

// ParseSize reads a positive byte count, optionally with a suffix: KiB,
// MiB, GiB (powers of 1024), KB, MB, GB (powers of 1000), or B.
func ParseSize(s string) (int64, error) {
	num, mult := strings.TrimSpace(s), int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}} {
		if len(num) > len(u.suffix) && strings.EqualFold(num[len(num)-len(u.suffix):], u.suffix) {
			num, mult = strings.TrimSpace(num[:len(num)-len(u.suffix)]), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("not a positive size")
	}
	if n > math.MaxInt64/mult {
		return 0, fmt.Errorf("too large")
	}
	return n * mult, nil
}

// HumanSize formats a byte count for messages ("64 MiB").
func HumanSize(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
