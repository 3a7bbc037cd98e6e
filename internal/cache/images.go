package cache

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lambdapack/lambdapack/internal/atomicfile"
)

// The image cache (Dir("images"), written by internal/image and
// internal/image/base) is an OCI layout:
//
//	images/index.json, oci-layout     the bases pulled from registries
//	images/blobs/sha256/<hex>         their manifests, configs and layers, and
//	                                  the dependency layers lambdapack wrote
//	images/layers/<key>.json          a written layer's description, by content key
//	images/inspect/<digest>.json      what was learnt of a base
//	images/.lambdapack.lock           taken while index.json changes
//
// Its entries hang together (a base is its index entry and the blobs its
// manifest names), so Prune removes a base or a layer whole, never a blob
// something kept still needs.

// Kinds of the image cache's entries.
const (
	KindImageBases  Kind = "image bases"  // bases pulled from registries, and what was learnt of them
	KindImageLayers Kind = "image layers" // dependency layers written for images
)

// imagesDir is the image cache's folder under the layout folder.
const imagesDir = "images"

// imageLayerBlobs returns the digests (hex) of the blobs layers/*.json
// describe under the layout folder layout.
func imageLayerBlobs(layout string) map[string]bool {
	out := map[string]bool{}
	for _, e := range readImageLayers(filepath.Join(layout, imagesDir)) {
		out[e.hex] = true
	}
	return out
}

// imageKind classifies a file under images/ (rel is relative to it).
func imageKind(rel, base string, layerBlobs map[string]bool) Kind {
	switch {
	case base == ".lambdapack.lock":
		return KindLocks
	case strings.HasPrefix(base, "."):
		return KindTemp
	case strings.HasPrefix(rel, "layers/"):
		return KindImageLayers
	case strings.HasPrefix(rel, "blobs/") && layerBlobs[base]:
		return KindImageLayers
	}
	return KindImageBases
}

type imageLayerEntry struct {
	path string // layers/<key>.json
	hex  string // its blob
}

func readImageLayers(dir string) []imageLayerEntry {
	ents, _ := os.ReadDir(filepath.Join(dir, "layers"))
	var out []imageLayerEntry
	for _, d := range ents {
		if !d.Type().IsRegular() || strings.HasPrefix(d.Name(), ".") || !strings.HasSuffix(d.Name(), ".json") {
			continue
		}
		p := filepath.Join(dir, "layers", d.Name())
		var info struct {
			Digest string `json:"digest"`
		}
		b, err := readSmall(p)
		if err != nil || json.Unmarshal(b, &info) != nil {
			continue
		}
		if hex, ok := strings.CutPrefix(info.Digest, "sha256:"); ok && hexRE.MatchString(hex) {
			out = append(out, imageLayerEntry{path: p, hex: hex})
		}
	}
	return out
}

// readSmall reads a file of the cache that is at most a few megabytes
// (JSON entries, manifests; a larger one is not lambdapack's), without
// counting as a use.
func readSmall(p string) ([]byte, error) {
	f, err := openQuiet(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	const limit = 4 << 20
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if len(b) > limit {
		return nil, fmt.Errorf("%s is larger than any entry lambdapack writes", p)
	}
	return b, nil
}

type ociDescriptor struct {
	Digest string `json:"digest"`
}

// pruneImages prunes the image cache under the layout folder layout: a
// dependency layer whose entry no run used since cutoff, a base whose
// manifest no run read since cutoff (its index.json entry, and what was
// learnt of it), and then every blob neither a kept layer nor a kept base
// needs, once it is older than the cutoff and than an hour (a write in
// flight has not named its blob yet).
func pruneImages(ctx context.Context, layout string, cutoff time.Time, rm *removal) error {
	dir := filepath.Join(layout, imagesDir)
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	blobPath := func(hex string) string { return filepath.Join(dir, "blobs", "sha256", hex) }
	layerBlobs := imageLayerBlobs(layout) // for the report, before entries go
	keep := map[string]bool{}
	for _, e := range readImageLayers(dir) {
		fi, err := os.Stat(e.path)
		if err != nil {
			continue
		}
		if lastUse(fi).Before(cutoff) {
			if err := rm.remove(Entry{Path: e.path, Kind: KindImageLayers, Size: fi.Size()}); err != nil {
				return err
			}
			continue
		}
		keep[e.hex] = true
	}

	// The bases: index.json changes under the layout's lock, as the base
	// cache writes it.
	unlock, err := lockFile(ctx, filepath.Join(dir, ".lambdapack.lock"))
	if err != nil {
		return fmt.Errorf("locking the image cache: %w", err)
	}
	defer unlock()
	indexPath := filepath.Join(dir, "index.json")
	raw, err := readSmall(indexPath)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("pruning the image cache: %w", err)
	}
	var index map[string]json.RawMessage
	var manifests []json.RawMessage
	if err == nil {
		if json.Unmarshal(raw, &index) != nil || json.Unmarshal(index["manifests"], &manifests) != nil && index["manifests"] != nil {
			return fmt.Errorf("pruning the image cache: %s is not an OCI index: remove the folder %s (lambdapack cache clean)", indexPath, dir)
		}
	}
	var kept []json.RawMessage
	bases := map[string]bool{}
	for _, m := range manifests {
		var d ociDescriptor
		_ = json.Unmarshal(m, &d)
		hex, ok := strings.CutPrefix(d.Digest, "sha256:")
		if !ok || !hexRE.MatchString(hex) {
			continue // not lambdapack's: dropped, and nothing of it kept
		}
		fi, err := os.Stat(blobPath(hex))
		if err != nil || lastUse(fi).Before(cutoff) {
			continue
		}
		kept = append(kept, m)
		bases[hex] = true
		keep[hex] = true
		var man struct {
			Config ociDescriptor   `json:"config"`
			Layers []ociDescriptor `json:"layers"`
		}
		if b, err := readSmall(blobPath(hex)); err == nil && json.Unmarshal(b, &man) == nil {
			for _, l := range append(man.Layers, man.Config) {
				keep[strings.TrimPrefix(l.Digest, "sha256:")] = true
			}
		}
	}
	if len(kept) != len(manifests) {
		list, _ := json.Marshal(kept)
		index["manifests"] = list
		b, err := json.MarshalIndent(index, "", "  ")
		if err != nil {
			return err
		}
		if err := atomicfile.WriteFile(indexPath, b, 0o644); err != nil {
			return fmt.Errorf("pruning the image cache: %w", err)
		}
	}

	// What was learnt of bases no longer kept.
	ents, _ := os.ReadDir(filepath.Join(dir, "inspect"))
	for _, d := range ents {
		hex := strings.TrimSuffix(d.Name(), ".json")
		if !d.Type().IsRegular() || bases[hex] || strings.HasPrefix(d.Name(), ".") {
			continue
		}
		if fi, err := d.Info(); err == nil {
			if err := rm.remove(Entry{Path: filepath.Join(dir, "inspect", d.Name()), Kind: KindImageBases, Size: fi.Size()}); err != nil {
				return err
			}
		}
	}
	// Blobs nothing kept needs.
	blobCutoff := time.Now().Add(-time.Hour)
	if cutoff.Before(blobCutoff) {
		blobCutoff = cutoff
	}
	ents, _ = os.ReadDir(filepath.Join(dir, "blobs", "sha256"))
	for _, d := range ents {
		if !d.Type().IsRegular() || !hexRE.MatchString(d.Name()) || keep[d.Name()] {
			continue
		}
		fi, err := d.Info()
		if err != nil || !lastUse(fi).Before(blobCutoff) {
			continue
		}
		kind := KindImageBases
		if layerBlobs[d.Name()] {
			kind = KindImageLayers
		}
		if err := rm.remove(Entry{Path: blobPath(d.Name()), Kind: kind, Size: fi.Size()}); err != nil {
			return err
		}
	}
	return nil
}
