package cache_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/lambdapack/lambdapack/internal/cache"
)

// imageCache lays out an image cache as internal/image and image/base
// write it: two bases (one last used long ago) sharing a layer, two
// dependency layers (one old), blobs nothing names, a lock and a temporary
// file.
type imageCache struct {
	root, dir string
	blobs     map[string]string // name -> hex
}

func (c *imageCache) blob(t *testing.T, name string, data []byte, age time.Duration) string {
	t.Helper()
	sum := sha256.Sum256(data)
	h := hex.EncodeToString(sum[:])
	c.write(t, filepath.Join("blobs", "sha256", h), data, age)
	c.blobs[name] = h
	return h
}

func (c *imageCache) write(t *testing.T, rel string, data []byte, age time.Duration) {
	t.Helper()
	p := filepath.Join(c.dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	when := time.Now().Add(-age)
	if err := os.Chtimes(p, when, when); err != nil {
		t.Fatal(err)
	}
}

func (c *imageCache) exists(name string) bool {
	_, err := os.Stat(filepath.Join(c.dir, "blobs", "sha256", c.blobs[name]))
	return err == nil
}

func newImageCache(t *testing.T) *imageCache {
	root := filepath.Join(t.TempDir(), "cache")
	c := &imageCache{root: root, dir: filepath.Join(root, cache.Layout, "images"), blobs: map[string]string{}}
	old, fresh := 90*24*time.Hour, time.Minute
	shared := c.blob(t, "shared", []byte("shared base layer"), old)
	manifest := func(name, cfg, layer string, age time.Duration) string {
		m := map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
			"config": map[string]any{"digest": "sha256:" + c.blob(t, cfg, []byte(cfg), age)},
			"layers": []any{map[string]any{"digest": "sha256:" + shared}, map[string]any{"digest": "sha256:" + c.blob(t, layer, []byte(layer), age)}}}
		b, _ := json.Marshal(m)
		return c.blob(t, name, b, age)
	}
	a := manifest("base A", "config A", "layer A", old)
	b := manifest("base B", "config B", "layer B", fresh)
	idx, _ := json.Marshal(map[string]any{"schemaVersion": 2, "manifests": []any{
		map[string]any{"digest": "sha256:" + a, "annotations": map[string]string{"dev.lambdapack.base": "a"}},
		map[string]any{"digest": "sha256:" + b, "annotations": map[string]string{"dev.lambdapack.base": "b"}},
	}})
	c.write(t, "index.json", idx, fresh)
	c.write(t, "oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`), old)
	c.write(t, filepath.Join("inspect", a+".json"), []byte(`{"python":"3.11.2"}`), old)
	c.write(t, filepath.Join("inspect", b+".json"), []byte(`{"python":"3.12.1"}`), old)
	for _, l := range []struct {
		name string
		age  time.Duration
	}{{"deps X", old}, {"deps Y", fresh}} {
		h := c.blob(t, l.name, []byte(l.name+" gzipped"), l.age)
		c.write(t, filepath.Join("layers", l.name[5:]+".json"), []byte(`{"digest":"sha256:`+h+`","size":14}`), l.age)
	}
	c.blob(t, "orphan old", []byte("left by a base gone"), old)
	c.blob(t, "orphan fresh", []byte("written, not yet named"), fresh)
	c.write(t, ".lambdapack.lock", nil, old)
	c.write(t, filepath.Join("blobs", "sha256", ".tmp-lambdapack-layer-0123456789abcdef"), []byte("killed write"), 2*time.Hour)
	return c
}

// TestImageCacheAdmin: cache info reports image bases and layers apart;
// prune removes a base and a layer whole (a base's index entry, manifest,
// config, own layers and what was learnt of it), keeps every blob a kept
// base or layer needs, and the lock; clean of a package leaves images be.
func TestImageCacheAdmin(t *testing.T) {
	c := newImageCache(t)
	u, err := cache.Inspect(c.root, false)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[cache.Kind]int{}
	for _, k := range u.Kinds {
		kinds[k.Kind] = k.Files
	}
	// Bases: 2 manifests, 2 configs, 3 layers, 2 orphans, index.json,
	// oci-layout, 2 inspect files. Layers: 2 entries and their blobs.
	if kinds[cache.KindImageBases] != 13 || kinds[cache.KindImageLayers] != 4 || kinds[cache.KindTemp] != 1 || kinds[cache.KindLocks] != 1 {
		t.Fatalf("kinds %v", kinds)
	}

	if rm, err := cache.Clean(c.root, "six"); err != nil || rm.Files != 0 {
		t.Fatalf("clean six: %+v %v", rm, err)
	}

	rm, err := cache.Prune(c.root, time.Now().Add(-30*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	gone := map[string]bool{}
	for name := range c.blobs {
		gone[name] = !c.exists(name)
	}
	for name, want := range map[string]bool{
		"base A": true, "config A": true, "layer A": true, "deps X": true, "orphan old": true,
		"base B": false, "config B": false, "layer B": false, "shared": false, "deps Y": false, "orphan fresh": false,
	} {
		if gone[name] != want {
			t.Errorf("after prune, %s removed = %v, want %v", name, gone[name], want)
		}
	}
	var idx struct {
		Manifests []struct{ Digest string }
	}
	raw, _ := os.ReadFile(filepath.Join(c.dir, "index.json"))
	if err := json.Unmarshal(raw, &idx); err != nil || len(idx.Manifests) != 1 || idx.Manifests[0].Digest != "sha256:"+c.blobs["base B"] {
		t.Errorf("index.json after prune: %s", raw)
	}
	for rel, want := range map[string]bool{
		filepath.Join("inspect", c.blobs["base A"]+".json"): false, filepath.Join("inspect", c.blobs["base B"]+".json"): true,
		filepath.Join("layers", "X.json"): false, filepath.Join("layers", "Y.json"): true,
		".lambdapack.lock": true, "oci-layout": true, filepath.Join("blobs", "sha256", ".tmp-lambdapack-layer-0123456789abcdef"): false,
	} {
		if _, err := os.Stat(filepath.Join(c.dir, rel)); (err == nil) != want {
			t.Errorf("after prune, %s there = %v, want %v", rel, err == nil, want)
		}
	}
	var removed []cache.Kind
	for _, k := range rm.Kinds {
		removed = append(removed, k.Kind)
	}
	if !slices.Contains(removed, cache.KindImageBases) || !slices.Contains(removed, cache.KindImageLayers) {
		t.Errorf("removal report %+v", rm.Kinds)
	}
}
