package image

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/lambdapack/lambdapack/internal/atomicfile"
	"github.com/lambdapack/lambdapack/internal/cache"

	"github.com/lambdapack/lambdapack/internal/tree"
)

// LayerCache keeps layers lambdapack wrote, by a key of their content
// (LayerKey), in a folder laid out as an OCI layout's blobs:
//
//	<Dir>/blobs/sha256/<hex>       a layer's gzipped bytes
//	<Dir>/layers/<key>.json        the LayerInfo of the layer with that key
//
// A layer served from the cache is marked used (cache.MarkUsed), so that
// lambdapack cache prune keeps what recent builds used (internal/cache
// prunes a layer's entry and blob together).
//
// The bases image/base caches share the same blobs folder. Every write goes
// through internal/atomicfile (synced: later runs trust blobs and entries),
// so a killed build leaves no partial blob or entry.
//
// A layer written ahead (Prepare: an image build writes its dependency
// layer while its base is still being inspected) is remembered in memory
// by its key, and the next Layer call for the same files gets it back as
// written now, not reused: this run checked its files as it wrote them.
type LayerCache struct {
	Dir string

	mu       sync.Mutex
	prepared map[string]preparedLayer
}

// preparedLayer is a layer Prepare wrote, until Layer takes it.
type preparedLayer struct {
	layer v1.Layer
	info  LayerInfo
}

// Prepare writes the layer of files with o into the cache, unless it is
// there already, for the next Layer call with the same files and options
// to take as written now.
func (c *LayerCache) Prepare(ctx context.Context, files []*tree.File, o LayerOptions) error {
	key, err := LayerKey(files, o)
	if err != nil {
		return err
	}
	l, info, reused, err := c.layer(ctx, key, files, o)
	if err != nil || reused {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.prepared == nil {
		c.prepared = map[string]preparedLayer{}
	}
	c.prepared[key] = preparedLayer{layer: l, info: info}
	return nil
}

// BlobPath is where the blob with digest h is kept.
func (c *LayerCache) BlobPath(h v1.Hash) string {
	return filepath.Join(c.Dir, "blobs", h.Algorithm, h.Hex)
}

func (c *LayerCache) entryPath(key string) string {
	return filepath.Join(c.Dir, "layers", key+".json")
}

// Get returns the cached layer with key, if its entry and blob are there
// (the blob of the size recorded).
func (c *LayerCache) Get(key string) (v1.Layer, LayerInfo, bool) {
	var info LayerInfo
	b, err := os.ReadFile(c.entryPath(key))
	if err != nil || json.Unmarshal(b, &info) != nil || info.Digest.Hex == "" {
		return nil, info, false
	}
	p := c.BlobPath(info.Digest)
	if st, err := os.Stat(p); err != nil || st.Size() != info.Size {
		return nil, info, false
	}
	// Used now: lambdapack cache prune keeps it.
	cache.MarkUsed(c.entryPath(key))
	cache.MarkUsed(p)
	return NewLayer(info, func() (io.ReadCloser, error) { return os.Open(p) }), info, true
}

// Layer returns the layer of files with o: the cached one when its key is
// known, else one written now and kept. reused says which.
func (c *LayerCache) Layer(ctx context.Context, files []*tree.File, o LayerOptions) (l v1.Layer, info LayerInfo, reused bool, err error) {
	key, err := LayerKey(files, o)
	if err != nil {
		return nil, info, false, err
	}
	c.mu.Lock()
	p, ok := c.prepared[key]
	delete(c.prepared, key)
	c.mu.Unlock()
	if ok {
		return p.layer, p.info, false, nil
	}
	return c.layer(ctx, key, files, o)
}

// layer is Layer for files whose key is known.
func (c *LayerCache) layer(ctx context.Context, key string, files []*tree.File, o LayerOptions) (l v1.Layer, info LayerInfo, reused bool, err error) {
	if l, info, ok := c.Get(key); ok {
		return l, info, true, nil
	}
	dir := filepath.Join(c.Dir, "blobs", "sha256")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, info, false, fmt.Errorf("creating the image cache: %w", err)
	}
	// The blob's name is its digest, known once written; it and its entry
	// are trusted by later runs, so both are synced.
	tmp, err := atomicfile.Create(filepath.Join(dir, "layer"), atomicfile.Sync())
	if err != nil {
		return nil, info, false, fmt.Errorf("creating the image cache: %w", err)
	}
	defer tmp.Abort()
	info, err = WriteLayer(ctx, tmp, files, o)
	if err != nil {
		return nil, info, false, err
	}
	p := c.BlobPath(info.Digest)
	if err := tmp.CommitAs(p, 0o644); err != nil {
		return nil, info, false, fmt.Errorf("writing a layer into the cache: %w", err)
	}
	b, err := json.Marshal(info)
	if err != nil {
		return nil, info, false, err
	}
	if err := os.MkdirAll(filepath.Dir(c.entryPath(key)), 0o755); err != nil {
		return nil, info, false, fmt.Errorf("creating the image cache: %w", err)
	}
	if err := atomicfile.WriteFile(c.entryPath(key), b, 0o644, atomicfile.Sync()); err != nil {
		return nil, info, false, fmt.Errorf("writing a layer into the cache: %w", err)
	}
	return NewLayer(info, func() (io.ReadCloser, error) { return os.Open(p) }), info, false, nil
}
