package image

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"

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
// The bases image/base caches share the same blobs folder. Every write is a
// temporary file in the destination's folder renamed into place, so a killed
// build leaves no partial blob or entry.
type LayerCache struct {
	Dir string
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
	if l, info, ok := c.Get(key); ok {
		return l, info, true, nil
	}
	dir := filepath.Join(c.Dir, "blobs", "sha256")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, info, false, fmt.Errorf("creating the image cache: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".layer-*")
	if err != nil {
		return nil, info, false, fmt.Errorf("creating the image cache: %w", err)
	}
	defer func() {
		if tmp != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	info, err = WriteLayer(ctx, tmp, files, o)
	if err != nil {
		return nil, info, false, err
	}
	if err := tmp.Sync(); err != nil {
		return nil, info, false, fmt.Errorf("writing a layer into the cache: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, info, false, fmt.Errorf("writing a layer into the cache: %w", err)
	}
	p := c.BlobPath(info.Digest)
	if err := os.Rename(tmp.Name(), p); err != nil {
		return nil, info, false, fmt.Errorf("writing a layer into the cache: %w", err)
	}
	tmp = nil
	b, err := json.Marshal(info)
	if err != nil {
		return nil, info, false, err
	}
	if err := writeFileAtomic(c.entryPath(key), b); err != nil {
		return nil, info, false, fmt.Errorf("writing a layer into the cache: %w", err)
	}
	return NewLayer(info, func() (io.ReadCloser, error) { return os.Open(p) }), info, false, nil
}

// writeFileAtomic writes b to p through a temporary file in p's folder.
func writeFileAtomic(p string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), "."+filepath.Base(p)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), p)
}
