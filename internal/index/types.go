package index

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// File is one distribution file listed for a project.
type File struct {
	Filename string
	// URL is absolute, without userinfo (credentials are applied by host).
	// Local find-links files have file:// URLs; Open and Metadata also
	// take an absolute path here.
	URL            string
	Hashes         map[string]string // algorithm -> lower-case hex
	RequiresPython string
	Yanked         bool
	YankedReason   string
	Size           int64 // -1 unknown
	UploadTime     time.Time
	// MetadataURL is the PEP 658 core metadata file, "" when the index has none.
	MetadataURL    string
	MetadataHashes map[string]string
	// Index is the (redacted) index URL or find-links location it came from.
	Index string
}

// IsWheel reports whether the file is a wheel.
func (f File) IsWheel() bool { return strings.HasSuffix(strings.ToLower(f.Filename), ".whl") }

// Project is what the indexes list for one project.
type Project struct {
	Name  string // canonical
	Index string // the (redacted) index that had it; "" when only find-links did
	Files []File
	// Versions is the PEP 700 "versions" list when the index gave one.
	Versions []string
	// Elsewhere summarises, per version, the wheels left out of Files
	// because no Lambda target can install them (see lambda.go).
	Elsewhere []Elsewhere
}

// Elsewhere is what a project publishes for one version besides the files
// kept: one tag per platform family (macOS, Windows, musllinux, another
// architecture) and per interpreter of a platform Lambda accepts (a Python 2
// wheel), as "interpreter-abi-platform", sorted.
type Elsewhere struct {
	Version string // as the file names write it
	Tags    []string
}

// Config says which indexes to use.
type Config struct {
	IndexURL       string
	ExtraIndexURLs []string
	FindLinks      []string
	NoIndex        bool
	// Source says where IndexURL came from, for -v output.
	Source string
}

// Indexes returns the index URLs in the order they are consulted (none when
// NoIndex is set).
func (c Config) Indexes() []string {
	if c.NoIndex {
		return nil
	}
	var out []string
	if c.IndexURL != "" {
		out = append(out, c.IndexURL)
	}
	return append(out, c.ExtraIndexURLs...)
}

// Sentinel errors; the errors the client returns wrap them (errors.Is).
var (
	ErrNotFound    = errors.New("no such project")
	ErrMalformed   = errors.New("malformed index page")
	ErrTruncated   = errors.New("truncated response body")
	ErrContentType = errors.New("unexpected content type")
	ErrOffline     = errors.New("not in the cache and running offline")
	ErrHash        = errors.New("hash mismatch")
	ErrNoIndex     = errors.New("no package index configured")
	// ErrTooLarge: a page or file is past its bound (netlimit.Limits);
	// it is refused, never cached, and not retried.
	ErrTooLarge = errors.New("response too large")
	// ErrLocalLink: a remote index listed a file:// URL or a path on this
	// machine.
	ErrLocalLink = errors.New("a remote index may not point at local files")
)

// NotFoundError says that no configured index or find-links location has a
// project. It matches ErrNotFound with errors.Is.
type NotFoundError struct {
	Name      string
	Indexes   []string // redacted
	FindLinks []string
}

func (e *NotFoundError) Error() string {
	var where []string
	if len(e.Indexes) > 0 {
		where = append(where, "index "+strings.Join(e.Indexes, ", "))
	}
	if len(e.FindLinks) > 0 {
		where = append(where, "find-links "+strings.Join(e.FindLinks, ", "))
	}
	if len(where) == 0 {
		return fmt.Sprintf("no project named %q: no index or find-links location is configured", e.Name)
	}
	return fmt.Sprintf("no project named %q on %s (check the name's spelling, or add the index that has it)", e.Name, strings.Join(where, " or "))
}

func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// Error is a failure talking to an index about a project or file; Index and
// URL are redacted.
type Error struct {
	Op      string // "fetching the project page", "reading metadata", ...
	Index   string
	Package string
	URL     string
	Err     error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	if e.Package != "" {
		fmt.Fprintf(&b, " for %q", e.Package)
	}
	if e.Index != "" {
		fmt.Fprintf(&b, " from index %s", e.Index)
	}
	if e.URL != "" && e.URL != e.Index {
		fmt.Fprintf(&b, " (%s)", e.URL)
	}
	fmt.Fprintf(&b, ": %v", e.Err)
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }
