package index

import (
	"fmt"
	"time"
)

// Event is something the client did, for progress displays and -v output.
// URLs are redacted.
type Event struct {
	Kind    EventKind
	Project string // canonical name, for pages
	File    string // file name, for metadata and downloads
	URL     string
	// Cached is true when the answer came from the cache without a
	// request, Revalidated when a conditional request got 304.
	Cached, Revalidated bool
	// Bytes received over the network for this event.
	Bytes int64
	// For EventRetry: the attempt about to be made (2 for the first
	// retry) of at most Attempts, after waiting Wait; Err says why the
	// last attempt failed (scrubbed of secrets). Offset is where a
	// download carries on: the byte it resumes at, or 0 when it restarts.
	Attempt, Attempts int
	Wait              time.Duration
	Err               string
	Offset            int64
}

// Message describes the event in a line for people: for a retry, what is
// retried, when, and why.
func (e Event) Message() string {
	what := e.URL
	if e.File != "" {
		what = e.File + " from " + e.URL
	}
	switch e.Kind {
	case EventRetry:
		s := "retrying " + what
		if e.File != "" && e.Offset > 0 {
			s = fmt.Sprintf("resuming %s at byte %d", what, e.Offset)
		}
		if e.Wait > 0 {
			s += fmt.Sprintf(" in %v", e.Wait.Round(time.Millisecond))
		}
		return s + fmt.Sprintf(" (attempt %d of %d): %s", e.Attempt, e.Attempts, e.Err)
	case EventPage:
		return "read the index page " + what
	case EventMetadata:
		return "read the metadata of " + what
	case EventDownloadStart:
		return "downloading " + what
	}
	return what
}

// EventKind says what an Event is about.
type EventKind int

const (
	// EventPage: a project page was read (one per index asked).
	EventPage EventKind = iota
	// EventMetadata: a file's core metadata was read.
	EventMetadata
	// EventDownloadStart: a download began (Bytes = expected size or -1).
	EventDownloadStart
	// EventRetry: a request failed and will be retried.
	EventRetry
)

// Reporter receives events. It must be safe for concurrent use and quick.
type Reporter interface {
	Report(Event)
}

// ReporterFunc adapts a function to Reporter.
type ReporterFunc func(Event)

// Report calls f(e).
func (f ReporterFunc) Report(e Event) { f(e) }

// WithReporter sends the client's events to r.
func WithReporter(r Reporter) Option {
	return func(c *Client) error { c.reporter = r; return nil }
}

// RetryPrinter is a Reporter that prints retries (and nothing else) with
// printf, one line each, so a progress log says why a run is waiting.
func RetryPrinter(printf func(format string, args ...any)) Reporter {
	return ReporterFunc(func(e Event) {
		if e.Kind == EventRetry {
			printf("%s", e.Message())
		}
	})
}

func (c *Client) report(e Event) {
	if c.reporter != nil {
		c.reporter.Report(e)
	}
}
