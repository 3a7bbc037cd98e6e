package cache

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// A --no-cache run's cache is a folder in os.TempDir() named
// TempCachePrefix plus random characters, holding a lock file the run
// keeps locked (flock) while it lives. Close removes the folder; a run
// killed with SIGKILL cannot, so later runs do (SweepTempCaches): a folder
// of that name, owned by this user, whose lock file no process holds and
// which is older than TempCacheStaleAge. A live run holds its lock however
// long it runs; the age guards the moment between a folder's creation and
// its lock being taken.

// TempCachePrefix starts the name of a --no-cache run's cache folder.
const TempCachePrefix = "lambdapack-nocache-"

// TempCacheStaleAge is how old a temporary cache's lock file must be before
// a later run may remove the folder (when no process holds the lock).
const TempCacheStaleAge = time.Hour

// tempCacheLock is the lock file inside a temporary cache.
const tempCacheLock = "nocache.lock"

// makeTempCache creates a temporary cache folder and locks it for the
// process's life: unlock releases the lock (Close, before removing it).
func makeTempCache() (dir string, unlock func(), err error) {
	dir, err = os.MkdirTemp("", TempCachePrefix+"*")
	if err != nil {
		return "", nil, fmt.Errorf("creating a temporary cache: %w", err)
	}
	unlock, err = lockFile(context.Background(), filepath.Join(dir, tempCacheLock))
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("locking the temporary cache %s: %w", dir, err)
	}
	return dir, unlock, nil
}

// SweepTempCaches removes from tmp (os.TempDir() when "") the temporary
// caches that runs killed before their Close left: folders (not links)
// named TempCachePrefix..., owned by this user, holding a lock file older
// than age that no process holds. It returns the folders removed. Nothing
// else is touched, and where locks cannot be tested (no flock) nothing is
// removed.
func SweepTempCaches(tmp string, age time.Duration) []string {
	if tmp == "" {
		tmp = os.TempDir()
	}
	ents, err := os.ReadDir(tmp)
	if err != nil {
		return nil
	}
	cutoff := time.Now().Add(-age)
	var removed []string
	for _, e := range ents {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), TempCachePrefix) {
			continue
		}
		dir := filepath.Join(tmp, e.Name())
		if removeTempCache(dir, cutoff) {
			removed = append(removed, dir)
		}
	}
	return removed
}

// removeTempCache removes dir when it is a stale temporary cache: the lock
// file goes last, so a removal cut short is tried again by the next sweep.
func removeTempCache(dir string, cutoff time.Time) bool {
	fi, err := os.Lstat(dir)
	if err != nil || !fi.IsDir() || !ownedByMe(fi) {
		return false
	}
	lock := filepath.Join(dir, tempCacheLock)
	li, err := os.Lstat(lock)
	if err != nil || !li.Mode().IsRegular() || !ownedByMe(li) || !li.ModTime().Before(cutoff) {
		return false
	}
	unlock, ok := tryLock(lock)
	if !ok {
		return false // a live run holds it
	}
	defer unlock()
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range ents {
		if e.Name() != tempCacheLock {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				return false
			}
		}
	}
	return os.Remove(lock) == nil && os.Remove(dir) == nil
}

var (
	sweepOnce sync.Once
	swept     []string
)

// sweepTempCachesOnce sweeps os.TempDir() once per process; the first call
// returns what went, later ones nothing.
func sweepTempCachesOnce() []string {
	var out []string
	sweepOnce.Do(func() {
		swept = SweepTempCaches("", TempCacheStaleAge)
		out = swept
	})
	return out
}
