package index

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

func (c *Client) report(e Event) {
	if c.reporter != nil {
		c.reporter.Report(e)
	}
}
