package layout

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	ggcr "github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sync/errgroup"

	"github.com/lambdapack/lambdapack/internal/atomicfile"
)

// blobJobs bounds the layers of one image written at once.
const blobJobs = 4

// RefName is the annotation OCI layouts name their images by.
const RefName = "org.opencontainers.image.ref.name"

// Item is one image or index to add to a layout.
type Item struct {
	Image v1.Image
	Index v1.ImageIndex
	// Annotations go on its descriptor in index.json (RefName: "latest").
	Annotations map[string]string
	// Platform goes on its descriptor, when set.
	Platform *v1.Platform
}

// Options tune Write.
type Options struct {
	// ReplaceBy is the annotation whose value identifies an entry of
	// index.json: an existing entry with the same value is replaced. ""
	// means RefName.
	ReplaceBy string
}

// Write adds items to the OCI layout at dir, creating it when it does not
// exist, and returns their descriptors. Blobs already there are kept.
func Write(ctx context.Context, dir string, items []Item, o Options) ([]v1.Descriptor, error) {
	if o.ReplaceBy == "" {
		o.ReplaceBy = RefName
	}
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		return nil, fmt.Errorf("%s exists and is not a folder: give a folder for the OCI layout", dir)
	}
	if err := os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o755); err != nil {
		return nil, fmt.Errorf("creating the OCI layout %s: %w", dir, err)
	}
	w := &writer{dir: dir}
	var descs []v1.Descriptor
	for _, it := range items {
		var d v1.Descriptor
		var err error
		switch {
		case it.Image != nil:
			d, err = w.image(ctx, it.Image)
		case it.Index != nil:
			d, err = w.index(ctx, it.Index)
		default:
			err = errors.New("an item with neither image nor index")
		}
		if err != nil {
			return nil, fmt.Errorf("writing the OCI layout %s: %w", dir, err)
		}
		d.Annotations = it.Annotations
		d.Platform = it.Platform
		descs = append(descs, d)
	}
	unlock, err := lock(ctx, filepath.Join(dir, ".lambdapack.lock"))
	if err != nil {
		return nil, fmt.Errorf("locking the OCI layout %s: %w", dir, err)
	}
	defer unlock()
	idx := v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex}
	if b, err := os.ReadFile(filepath.Join(dir, "index.json")); err == nil {
		if err := json.Unmarshal(b, &idx); err != nil {
			return nil, fmt.Errorf("%s/index.json is not an OCI index (%v): give an empty folder or an OCI layout", dir, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	for _, d := range descs {
		if key := d.Annotations[o.ReplaceBy]; key != "" {
			idx.Manifests = slices.DeleteFunc(idx.Manifests, func(e v1.Descriptor) bool { return e.Annotations[o.ReplaceBy] == key })
		}
		idx.Manifests = append(idx.Manifests, d)
	}
	b, err := json.MarshalIndent(idx, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644); err != nil {
		return nil, err
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, "index.json"), b, 0o644); err != nil {
		return nil, fmt.Errorf("writing %s/index.json: %w", dir, err)
	}
	return descs, nil
}

type writer struct{ dir string }

func (w *writer) blobPath(h v1.Hash) string { return filepath.Join(w.dir, "blobs", h.Algorithm, h.Hex) }

// has reports whether the blob is there with its size.
func (w *writer) has(h v1.Hash, size int64) bool {
	st, err := os.Stat(w.blobPath(h))
	return err == nil && st.Mode().IsRegular() && (size < 0 || st.Size() == size)
}

// blob writes what open returns as the blob h, checking its digest.
func (w *writer) blob(ctx context.Context, h v1.Hash, size int64, open func() (io.ReadCloser, error)) error {
	if w.has(h, size) {
		return nil
	}
	if h.Algorithm != "sha256" {
		return fmt.Errorf("blob %s: only sha256 digests are supported", h)
	}
	rc, err := open()
	if err != nil {
		return fmt.Errorf("reading blob %s: %w", h, err)
	}
	defer rc.Close()
	dst := w.blobPath(h)
	tmp, err := atomicfile.Create(dst)
	if err != nil {
		return err
	}
	defer tmp.Abort()
	sum := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, sum), ctxReader{ctx, rc})
	if err != nil {
		return fmt.Errorf("writing blob %s: %w", h, err)
	}
	if got := hex.EncodeToString(sum.Sum(nil)); got != h.Hex || (size >= 0 && n != size) {
		return fmt.Errorf("blob %s: read %d bytes with digest sha256:%s; the source is damaged", h, n, got)
	}
	return tmp.Commit(0o644)
}

func (w *writer) bytes(ctx context.Context, b []byte) (v1.Hash, error) {
	h, _, err := v1.SHA256(bytesReader(b))
	if err != nil {
		return h, err
	}
	return h, w.blob(ctx, h, int64(len(b)), func() (io.ReadCloser, error) { return io.NopCloser(bytesReader(b)), nil })
}

func (w *writer) image(ctx context.Context, img v1.Image) (v1.Descriptor, error) {
	layers, err := img.Layers()
	if err != nil {
		return v1.Descriptor{}, err
	}
	// The layers are written (pulled, for a registry image) at once, up
	// to blobJobs at a time: an image's layers are independent blobs, and
	// copying and hashing one need not wait for another (a built image's
	// base layers and its dependency layer; a Lambda base's five or so
	// layers from the registry). Each blob is named by its digest, so the
	// same digest is written once.
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(blobJobs)
	seen := map[v1.Hash]bool{}
	for _, l := range layers {
		d, err := l.Digest()
		if err != nil {
			return v1.Descriptor{}, err
		}
		size, err := l.Size()
		if err != nil {
			return v1.Descriptor{}, err
		}
		if seen[d] {
			continue
		}
		seen[d] = true
		g.Go(func() error { return w.blob(gctx, d, size, l.Compressed) })
	}
	if err := g.Wait(); err != nil {
		return v1.Descriptor{}, err
	}
	cfg, err := img.RawConfigFile()
	if err != nil {
		return v1.Descriptor{}, err
	}
	if _, err := w.bytes(ctx, cfg); err != nil {
		return v1.Descriptor{}, err
	}
	return w.manifest(ctx, img)
}

func (w *writer) manifest(ctx context.Context, m interface {
	RawManifest() ([]byte, error)
	MediaType() (types.MediaType, error)
}) (v1.Descriptor, error) {
	raw, err := m.RawManifest()
	if err != nil {
		return v1.Descriptor{}, err
	}
	mt, err := m.MediaType()
	if err != nil {
		return v1.Descriptor{}, err
	}
	h, err := w.bytes(ctx, raw)
	if err != nil {
		return v1.Descriptor{}, err
	}
	return v1.Descriptor{MediaType: mt, Size: int64(len(raw)), Digest: h}, nil
}

func (w *writer) index(ctx context.Context, idx v1.ImageIndex) (v1.Descriptor, error) {
	m, err := idx.IndexManifest()
	if err != nil {
		return v1.Descriptor{}, err
	}
	for _, d := range m.Manifests {
		switch {
		case d.MediaType.IsImage():
			img, err := idx.Image(d.Digest)
			if err != nil {
				return v1.Descriptor{}, err
			}
			if _, err := w.image(ctx, img); err != nil {
				return v1.Descriptor{}, err
			}
		case d.MediaType.IsIndex():
			child, err := idx.ImageIndex(d.Digest)
			if err != nil {
				return v1.Descriptor{}, err
			}
			if _, err := w.index(ctx, child); err != nil {
				return v1.Descriptor{}, err
			}
		}
	}
	return w.manifest(ctx, idx)
}

// Has reports whether the layout at dir holds the image with manifest
// digest h and every blob it needs.
func Has(dir string, h v1.Hash) bool {
	w := &writer{dir: dir}
	raw, err := os.ReadFile(w.blobPath(h))
	if err != nil {
		return false
	}
	m, err := v1.ParseManifest(bytesReader(raw))
	if err != nil || !w.has(m.Config.Digest, m.Config.Size) {
		return false
	}
	for _, l := range m.Layers {
		if !w.has(l.Digest, l.Size) {
			return false
		}
	}
	return true
}

// Read opens the layout at dir.
func Read(dir string) (v1.ImageIndex, error) {
	p, err := ggcr.FromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("reading the OCI layout %s: %w", dir, err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return nil, fmt.Errorf("reading the OCI layout %s: %w", dir, err)
	}
	return idx, nil
}

// Find returns the descriptor in the layout's index.json whose annotation
// key has value, if any.
func Find(dir, key, value string) (v1.Descriptor, bool) {
	b, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		return v1.Descriptor{}, false
	}
	var idx v1.IndexManifest
	if json.Unmarshal(b, &idx) != nil {
		return v1.Descriptor{}, false
	}
	for i := len(idx.Manifests) - 1; i >= 0; i-- {
		if idx.Manifests[i].Annotations[key] == value {
			return idx.Manifests[i], true
		}
	}
	return v1.Descriptor{}, false
}

// Image opens the image with manifest digest h in the layout at dir.
func Image(dir string, h v1.Hash) (v1.Image, error) {
	p, err := ggcr.FromPath(dir)
	if err != nil {
		return nil, err
	}
	return p.Image(h)
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
