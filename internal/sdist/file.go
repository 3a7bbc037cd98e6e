package sdist

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/lambdapack/lambdapack/internal/cache"
	"github.com/lambdapack/lambdapack/internal/index"
	"github.com/lambdapack/lambdapack/internal/metadata"
	"github.com/lambdapack/lambdapack/internal/target"
)

// Fetch makes an index file (an sdist the resolver chose) an Sdist in the
// cache, checked against the index's sha256.
func (b *Builder) Fetch(ctx context.Context, f index.File) (Sdist, error) {
	req := cache.Request{Name: f.Filename, URL: f.URL, SHA256: f.Hashes["sha256"], Size: f.Size}
	if b.Index != nil && (strings.HasPrefix(f.URL, "http://") || strings.HasPrefix(f.URL, "https://")) {
		req.Open = func(ctx context.Context) (io.ReadCloser, error) { return b.Index.Open(ctx, f) }
	}
	blobs, err := b.Cache.Fetch(ctx, []cache.Request{req})
	if err != nil {
		return Sdist{}, fmt.Errorf("fetching sdist %s: %w", f.Filename, err)
	}
	return Sdist{Path: blobs[0].Path, Filename: f.Filename, SHA256: blobs[0].SHA256}, nil
}

// FileMetadata is Metadata for an index file: what the resolver asks of an
// sdist candidate.
func (b *Builder) FileMetadata(ctx context.Context, f index.File, t target.Target) (*metadata.Metadata, error) {
	s, err := b.Fetch(ctx, f)
	if err != nil {
		return nil, err
	}
	md, _, _, err := b.Metadata(ctx, s, t)
	return md, err
}

// BuildFile fetches an sdist the resolver chose and builds it for t.
func (b *Builder) BuildFile(ctx context.Context, f index.File, t target.Target) (*Wheel, error) {
	s, err := b.Fetch(ctx, f)
	if err != nil {
		return nil, err
	}
	return b.Build(ctx, s, t)
}
