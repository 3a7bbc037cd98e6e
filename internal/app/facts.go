package app

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sync"

	"github.com/lambdapack/lambdapack/internal/atomicfile"
	"github.com/lambdapack/lambdapack/internal/cache"
)

// factsStore remembers what verify learnt about each binary, by content
// digest, in one file of the cache: a warm build then reads no shared object
// again to check it (inflating them was 80% of a warm data-layer build).
// It satisfies verify.Facts. Concurrent runs merge their entries on save.
type factsStore struct {
	path  string
	mu    sync.Mutex
	m     map[string]json.RawMessage
	dirty bool
}

func openFacts(c *cache.Cache) *factsStore {
	dir, err := c.Dir("verify")
	if err != nil {
		return nil
	}
	f := &factsStore{path: filepath.Join(dir, "facts-v1.json")}
	f.m = readFacts(f.path)
	return f
}

func readFacts(p string) map[string]json.RawMessage {
	m := map[string]json.RawMessage{}
	if data, err := os.ReadFile(p); err == nil {
		if json.Unmarshal(data, &m) != nil {
			m = map[string]json.RawMessage{}
		}
	}
	return m
}

func (f *factsStore) Get(k string) ([]byte, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.m[k]
	return v, ok
}

func (f *factsStore) Put(k string, v []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.m[k] = append(json.RawMessage(nil), v...)
	f.dirty = true
}

// save writes the facts back, merged with what other runs saved meanwhile.
func (f *factsStore) save() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.dirty {
		return nil
	}
	merged := readFacts(f.path)
	for k, v := range f.m {
		merged[k] = v
	}
	data, err := json.Marshal(merged)
	if err != nil {
		return err
	}
	f.dirty = false
	return atomicfile.WriteFile(f.path, data, 0o644)
}
