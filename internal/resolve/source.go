package resolve

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/lambdapack/lambdapack/internal/index"
	"github.com/lambdapack/lambdapack/internal/metadata"
)

// Source is where the resolver finds distributions.
type Source interface {
	// Files lists every file the index has for a project (canonical
	// name). An unknown project is an error matching index.ErrNotFound.
	Files(ctx context.Context, name string) ([]index.File, error)
	// Metadata returns the core metadata of one wheel.
	Metadata(ctx context.Context, f index.File) (*metadata.Metadata, error)
}

// IndexSource adapts an index client (PEP 691/503 pages, PEP 658 metadata
// files or range requests on wheels, find-links) to Source.
type IndexSource struct{ Client *index.Client }

// Files implements Source.
func (s IndexSource) Files(ctx context.Context, name string) ([]index.File, error) {
	p, err := s.Client.Project(ctx, name)
	if err != nil {
		return nil, err
	}
	return p.Files, nil
}

// Metadata implements Source.
func (s IndexSource) Metadata(ctx context.Context, f index.File) (*metadata.Metadata, error) {
	b, err := s.Client.Metadata(ctx, f)
	if err != nil {
		return nil, err
	}
	md, err := metadata.Parse(b)
	if err != nil {
		return nil, &badMetadataError{file: f.Filename, err: err}
	}
	return md, nil
}

// badMetadataError marks metadata that was fetched but cannot be read: the
// version is unusable, but resolution goes on.
type badMetadataError struct {
	file string
	err  error
}

func (e *badMetadataError) Error() string {
	return fmt.Sprintf("reading the metadata of %s: %v", e.file, e.err)
}
func (e *badMetadataError) Unwrap() error { return e.err }

// NewCachedSource wraps a Source with an in-memory cache shared by every
// resolution that uses it (for example one lock per target): project pages
// and metadata are fetched once.
func NewCachedSource(s Source) Source { return &cachedSource{src: s} }

type cachedSource struct {
	src   Source
	files sync.Map // name -> *once[[]index.File]
	metas sync.Map // URL -> *once[*metadata.Metadata]
}

type once[T any] struct {
	o   sync.Once
	v   T
	err error
}

func (c *cachedSource) Files(ctx context.Context, name string) ([]index.File, error) {
	e, _ := c.files.LoadOrStore(name, &once[[]index.File]{})
	o := e.(*once[[]index.File])
	o.o.Do(func() { o.v, o.err = c.src.Files(ctx, name) })
	if o.err != nil && (errors.Is(o.err, context.Canceled) || errors.Is(o.err, context.DeadlineExceeded)) {
		c.files.Delete(name)
	}
	return o.v, o.err
}

func (c *cachedSource) Metadata(ctx context.Context, f index.File) (*metadata.Metadata, error) {
	e, _ := c.metas.LoadOrStore(f.URL, &once[*metadata.Metadata]{})
	o := e.(*once[*metadata.Metadata])
	o.o.Do(func() { o.v, o.err = c.src.Metadata(ctx, f) })
	if o.err != nil && (errors.Is(o.err, context.Canceled) || errors.Is(o.err, context.DeadlineExceeded)) {
		c.metas.Delete(f.URL)
	}
	return o.v, o.err
}
