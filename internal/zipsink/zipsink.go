package zipsink

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lambdapack/lambdapack/internal/archive"
	"github.com/lambdapack/lambdapack/internal/atomicfile"
	"github.com/lambdapack/lambdapack/internal/human"
	"github.com/lambdapack/lambdapack/internal/tree"
)

// Progress hears how far the zip is written, in uncompressed bytes: the
// shape of cache.Reporter, so one progress display serves downloads and
// writes.
type Progress interface {
	Start(name string, size int64)
	Advance(name string, n int64)
	Done(name string, err error)
}

// Sink writes trees to one zip path. It implements tree.Sink.
type Sink struct {
	path     string
	opts     archive.Options
	progress Progress
}

var _ tree.Sink = (*Sink)(nil)

// Option configures a Sink.
type Option func(*Sink)

// WithProgress reports the bytes written to p.
func WithProgress(p Progress) Option { return func(s *Sink) { s.progress = p } }

// WithArchiveOptions tunes the zip writer (level, concurrency, memory,
// Sync). Root, Comment and Progress are set from the tree and the sink.
func WithArchiveOptions(o archive.Options) Option { return func(s *Sink) { s.opts = o } }

// New returns a sink writing to path, after checking that path can take a
// zip: it must be given and be a regular file or not exist.
func New(path string, opts ...Option) (*Sink, error) {
	if path == "" {
		return nil, errors.New("no output path: pass -o FILE.zip")
	}
	if err := checkDest(path); err != nil {
		return nil, err
	}
	s := &Sink{path: path}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// Path is where the zip goes.
func (s *Sink) Path() string { return s.path }

func checkDest(path string) error {
	if st, err := os.Stat(path); err == nil && !st.Mode().IsRegular() {
		// The zip is written beside the destination and renamed over it:
		// never over a device, a folder or a pipe.
		return fmt.Errorf("-o %s: exists and is not a regular file; give a path for the zip", path)
	}
	return nil
}

// Write writes t's files as a zip with t's record as its comment.
func (s *Sink) Write(ctx context.Context, t *tree.Tree) (w *tree.Written, err error) {
	start := time.Now()
	if err := checkDest(s.path); err != nil {
		return nil, err
	}
	// A zip holds only files checked against their wheel's RECORD before
	// anything is written (install checks every member unless told to
	// leave that to an image layer).
	for i := range t.Files {
		if t.Files[i].Unchecked {
			return nil, fmt.Errorf("writing %s: %s was not checked against its wheel's RECORD; plan the zip without install.Options.DeferCheck", s.path, t.Files[i].Path)
		}
	}
	comment, err := t.Record.Format()
	if err != nil {
		return nil, err
	}
	created, err := mkdirs(filepath.Dir(s.path))
	if err != nil {
		return nil, fmt.Errorf("creating the output folder: %w", err)
	}
	defer func() {
		if err != nil {
			// Folders made for this zip go again, deepest first; one that
			// something else wrote into meanwhile is not empty and stays.
			for _, d := range created {
				os.Remove(d)
			}
		}
	}()
	// A run killed while writing (SIGKILL, a power cut) left its temporary
	// zip or spill files here: once stale, they go.
	stale := atomicfile.Sweep(filepath.Dir(s.path))
	opts := s.opts
	opts.Comment = comment
	if len(t.Parts) > 0 {
		opts.Root = t.Parts[0].Root
	}
	if p := s.progress; p != nil {
		name := "writing " + filepath.Base(s.path)
		p.Start(name, t.Size())
		var last int64
		opts.Progress = func(written, _ int64) {
			p.Advance(name, written-last)
			last = written
		}
		defer func() { p.Done(name, err) }()
	}
	res, err := archive.Write(ctx, s.path, Entries(t.Files), opts)
	if err != nil {
		return nil, err
	}
	summary := fmt.Sprintf("Wrote %s: %s, %d copied compressed from the wheels, %d compressed here, in %s",
		s.path, human.Count(res.Files, "file"), res.RawCopied, res.Deflated+res.Stored, human.Duration(time.Since(start)))
	if len(stale) > 0 {
		summary += fmt.Sprintf(" (and removed %s a killed run left beside it: %s)",
			human.Count(len(stale), "temporary file"), strings.Join(stale, ", "))
	}
	return &tree.Written{
		Path: s.path, SHA256: res.SHA256, Size: res.Size, UnzippedSize: res.UnzippedSize, Summary: summary,
	}, nil
}

// Entries turns tree files into the zip writer's entries: a wheel member
// (copied raw when deflated), bytes, or a file on disk.
func Entries(files []tree.File) []archive.Entry {
	out := make([]archive.Entry, len(files))
	for i := range files {
		f := &files[i]
		out[i] = archive.Entry{Path: f.Path, Mode: f.Mode}
		switch f.Origin {
		case tree.FromWheel:
			out[i].Zip = f.Member
		case tree.FromDisk:
			out[i].File = f.Disk
		default:
			out[i].Data = f.Data
			if out[i].Data == nil {
				out[i].Data = []byte{} // an empty file, not a missing source
			}
		}
	}
	return out
}

// mkdirs makes dir and its missing parents and returns the folders it
// created, deepest first.
func mkdirs(dir string) ([]string, error) {
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); !errors.Is(err, fs.ErrNotExist) {
			break
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	if len(missing) == 0 {
		return nil, nil
	}
	return missing, os.MkdirAll(dir, 0o755)
}
