//go:build unix

package cache

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// A --no-cache cache lives in TMPDIR under a recognisable name with a lock
// file its run holds; the sweep removes a folder only when its lock is
// free and older than the stale age, and leaves everything else.
func TestSweepTempCaches(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	old := time.Now().Add(-2 * TempCacheStaleAge)

	// A live run: its folder stays, however old, while its lock is held.
	live, err := Open("", NoCache(true))
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(live.Root()) != tmp || !strings.HasPrefix(filepath.Base(live.Root()), TempCachePrefix) {
		t.Fatalf("temporary cache at %s, want %s%s* in TMPDIR", live.Root(), tmp+"/", TempCachePrefix)
	}
	liveLock := filepath.Join(live.Root(), tempCacheLock)
	if err := os.Chtimes(liveLock, old, old); err != nil {
		t.Fatalf("no lock file in the temporary cache: %v", err)
	}

	// What killed runs leave, and look-alikes that must stay.
	leftover := func(name string, lockAge time.Time, withLock bool) string {
		dir := filepath.Join(tmp, name)
		if err := os.MkdirAll(filepath.Join(dir, Layout, "blobs", "sha256", "ab"), 0o755); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, Layout, "blobs", "sha256", "ab", "blob"), []byte("data"), 0o644)
		if withLock {
			lock := filepath.Join(dir, tempCacheLock)
			os.WriteFile(lock, nil, 0o644)
			os.Chtimes(lock, lockAge, lockAge)
		}
		return dir
	}
	stale := leftover(TempCachePrefix+"killed1", old, true)
	stale2 := leftover(TempCachePrefix+"killed2", old, true)
	fresh := leftover(TempCachePrefix+"fresh", time.Now(), true)
	noLock := leftover(TempCachePrefix+"nolock", old, false)
	otherName := leftover("lambdapack-cache-old", old, true)
	target := leftover("elsewhere", old, true)
	link := filepath.Join(tmp, TempCachePrefix+"link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(tmp, TempCachePrefix+"file")
	os.WriteFile(file, []byte("x"), 0o644)
	// A lock held by another open file (as another process would hold it).
	held := leftover(TempCachePrefix+"held", old, true)
	unlock, ok := tryLock(filepath.Join(held, tempCacheLock))
	if !ok {
		t.Fatal("could not lock a free lock file")
	}

	got := SweepTempCaches(tmp, TempCacheStaleAge)
	slices.Sort(got)
	if want := []string{stale, stale2}; !slices.Equal(got, want) {
		t.Errorf("swept %v, want %v", got, want)
	}
	for _, p := range []string{stale, stale2} {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			t.Errorf("%s is still there (%v)", p, err)
		}
	}
	for _, p := range []string{live.Root(), liveLock, fresh, noLock, otherName, target, link, file, held, filepath.Join(target, tempCacheLock)} {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("%s was removed: %v", p, err)
		}
	}

	// Once the run ends (or its holder lets go), nothing is left or it
	// goes at the next sweep.
	if err := live.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(live.Root()); !os.IsNotExist(err) {
		t.Errorf("Close left %s (%v)", live.Root(), err)
	}
	unlock()
	if got := SweepTempCaches(tmp, TempCacheStaleAge); !slices.Equal(got, []string{held}) {
		t.Errorf("after the holder let go, swept %v, want %v", got, []string{held})
	}
}
