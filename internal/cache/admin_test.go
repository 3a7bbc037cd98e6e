package cache_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lambdapack/lambdapack/internal/cache"
	"github.com/lambdapack/lambdapack/internal/index"
	"github.com/lambdapack/lambdapack/internal/testutil"
)

// fillCache fills a cache the way a run does: the index client's pages,
// parsed pages and metadata under Dir("index"), and the wheels and an sdist
// as blobs through Fetch, all from a local index.
func fillCache(t *testing.T) (root string, c *cache.Cache) {
	t.Helper()
	ix := testutil.StartIndex(t, testutil.IndexOptions{})
	files := []string{}
	for _, w := range []testutil.Wheel{
		{Name: "six", Version: "1.16.0"},
		{Name: "Typing_Extensions", Version: "4.12.0"},
		{Name: "numpy", Version: "2.0.0", Tags: []string{"cp312-cp312-manylinux_2_17_x86_64"}},
	} {
		ix.AddWheel(w)
		files = append(files, w.Filename())
	}
	sd := testutil.Sdist{Name: "typing-extensions", Version: "4.11.0"}
	ix.AddSdist(sd)
	files = append(files, sd.Filename())

	root = filepath.Join(t.TempDir(), "cache")
	c, err := cache.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := c.Dir("index")
	if err != nil {
		t.Fatal(err)
	}
	cl, err := index.NewClient(index.Config{IndexURL: ix.URL}, index.WithCacheDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var reqs []cache.Request
	for _, name := range []string{"six", "typing-extensions", "numpy"} {
		p, err := cl.Project(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range p.Files {
			if f.IsWheel() {
				if _, err := cl.Metadata(ctx, f); err != nil {
					t.Fatal(err)
				}
			}
			reqs = append(reqs, cache.Request{Name: f.Filename, URL: f.URL, SHA256: f.Hashes["sha256"], Size: f.Size})
		}
	}
	if len(reqs) != len(files) {
		t.Fatalf("the index lists %d files, want %d", len(reqs), len(files))
	}
	if _, err := c.Fetch(ctx, reqs); err != nil {
		t.Fatal(err)
	}
	return root, c
}

func kinds(u []cache.KindUsage) map[cache.Kind]int {
	out := map[cache.Kind]int{}
	for _, k := range u {
		out[k.Kind] = k.Files
	}
	return out
}

func TestInspect(t *testing.T) {
	root, _ := fillCache(t)
	u, err := cache.Inspect(root, true)
	if err != nil {
		t.Fatal(err)
	}
	got := kinds(u.Kinds)
	for k, n := range map[cache.Kind]int{cache.KindWheels: 4, cache.KindPages: 3, cache.KindMetadata: 3} {
		if got[k] != n {
			t.Errorf("%s: %d files, want %d (all: %v)", k, got[k], n, got)
		}
	}
	var sum int64
	files := 0
	for _, k := range u.Kinds {
		sum += k.Bytes
		files += k.Files
	}
	if sum != u.Bytes || files != u.Files || u.Bytes == 0 {
		t.Errorf("totals %d files %d bytes; kinds add up to %d files %d bytes", u.Files, u.Bytes, files, sum)
	}
	// Every entry of a package is attributed to it: wheels and sdists by
	// their content, pages by URL, parsed pages by file names, metadata by
	// its Name.
	byName := map[string]int{}
	for _, p := range u.Packages {
		byName[p.Name] = p.Files
	}
	want := map[string]int{
		"six":               1 + 1 + 1, // wheel, page, metadata
		"typing-extensions": 2 + 1 + 1, // wheel and sdist, page, metadata
		"numpy":             1 + 1 + 1,
	}
	if parsed := got[cache.KindParsed]; parsed > 0 {
		for n := range want {
			want[n]++ // and its parsed page
		}
	}
	for n, files := range want {
		if byName[n] != files {
			t.Errorf("%s: %d entries, want %d (all: %v)", n, byName[n], files, byName)
		}
	}
	// An empty or missing folder is an empty cache.
	u, err = cache.Inspect(filepath.Join(t.TempDir(), "none"), true)
	if err != nil || u.Files != 0 || len(u.Kinds) != 0 {
		t.Errorf("missing cache: %+v, %v", u, err)
	}
}

func TestCleanPackages(t *testing.T) {
	root, c := fillCache(t)
	before, _ := cache.Inspect(root, true)
	rm, err := cache.Clean(root, "Typing.Extensions", "six")
	if err != nil {
		t.Fatal(err)
	}
	after, err := cache.Inspect(root, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range after.Packages {
		if p.Name == "six" || p.Name == "typing-extensions" {
			t.Errorf("%s still has %d entries", p.Name, p.Files)
		}
	}
	if len(after.Packages) != 1 || after.Packages[0].Name != "numpy" {
		t.Errorf("left %+v, want numpy's entries alone", after.Packages)
	}
	if rm.Files != before.Files-after.Files || rm.Bytes != before.Bytes-after.Bytes {
		t.Errorf("removal says %d files %d bytes; the cache went from %d/%d to %d/%d", rm.Files, rm.Bytes, before.Files, before.Bytes, after.Files, after.Bytes)
	}
	// The cache still works: numpy's blob is there, six's is fetched again.
	if _, ok := c.Lookup(blobSHA(t, root, "numpy")); !ok {
		t.Error("numpy's wheel was removed")
	}
}

// blobSHA finds the blob of a package by reading the blobs.
func blobSHA(t *testing.T, root, pkg string) string {
	t.Helper()
	var sha string
	filepath.WalkDir(filepath.Join(root, cache.Layout, "blobs"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			data, _ := os.ReadFile(p)
			if strings.Contains(string(data), pkg+"-") {
				sha = d.Name()
			}
		}
		return nil
	})
	if sha == "" {
		t.Fatalf("no blob of %s", pkg)
	}
	return sha
}

func TestCleanAll(t *testing.T) {
	root, _ := fillCache(t)
	// Things lambdapack did not write stay: a mistaken --cache-dir must
	// not cost the user their files.
	os.WriteFile(filepath.Join(root, "notes.txt"), []byte("mine"), 0o644)
	os.MkdirAll(filepath.Join(root, "v0", "old"), 0o755)
	os.WriteFile(filepath.Join(root, "v0", "old", "x"), []byte("old layout"), 0o644)
	before, _ := cache.Inspect(root, false)
	rm, err := cache.Clean(root)
	if err != nil {
		t.Fatal(err)
	}
	if rm.Files != before.Files || rm.Bytes != before.Bytes {
		t.Errorf("removed %d files %d bytes, the cache had %d %d", rm.Files, rm.Bytes, before.Files, before.Bytes)
	}
	ents, _ := os.ReadDir(root)
	if len(ents) != 1 || ents[0].Name() != "notes.txt" {
		t.Errorf("left %v, want notes.txt alone", ents)
	}
	os.Remove(filepath.Join(root, "notes.txt"))
	os.MkdirAll(filepath.Join(root, cache.Layout), 0o755)
	if _, err := cache.Clean(root); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(root); !os.IsNotExist(err) {
		t.Errorf("an emptied cache folder stays: %v", err)
	}
	if rm, err := cache.Clean(root); err != nil || rm.Files != 0 {
		t.Errorf("cleaning a missing cache: %+v %v", rm, err)
	}
}

func age(t *testing.T, p string, d time.Duration) {
	t.Helper()
	old := time.Now().Add(-d)
	if err := os.Chtimes(p, old, old); err != nil {
		t.Fatal(err)
	}
}

func TestPrune(t *testing.T) {
	root, c := fillCache(t)
	numpy := blobSHA(t, root, "numpy")
	var sixMeta string
	filepath.WalkDir(filepath.Join(root, cache.Layout, "index", "metadata-v2"), func(p string, d os.DirEntry, err error) error {
		if data, _ := os.ReadFile(p); err == nil && !d.IsDir() && strings.Contains(string(data), "Name: six") {
			sixMeta = p
		}
		return nil
	})
	if sixMeta == "" {
		t.Fatal("no metadata of six")
	}
	// Everything was used 40 days ago...
	filepath.WalkDir(filepath.Join(root, cache.Layout), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			age(t, p, 40*24*time.Hour)
		}
		return nil
	})
	// ... and looking at the cache is no use of it ...
	if _, err := cache.Inspect(root, true); err != nil {
		t.Fatal(err)
	}
	// ... but numpy's wheel is looked up today, and six's metadata is
	// marked by its reader.
	if _, ok := c.Lookup(numpy); !ok {
		t.Fatal("numpy's blob is missing")
	}
	cache.MarkUsed(sixMeta)
	// A download in flight and one a killed run left behind.
	shard := filepath.Join(root, cache.Layout, "blobs", "sha256", "ab")
	os.MkdirAll(shard, 0o755)
	fresh, stale := filepath.Join(shard, ".tmp-1"), filepath.Join(shard, ".tmp-2")
	os.WriteFile(fresh, []byte("partial"), 0o644)
	os.WriteFile(stale, []byte("partial"), 0o644)
	age(t, stale, 2*time.Hour)

	if _, err := cache.Prune(root, time.Now().Add(-30*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	u, err := cache.Inspect(root, true)
	if err != nil {
		t.Fatal(err)
	}
	left := map[string]int{}
	for _, p := range u.Packages {
		left[p.Name] = p.Files
	}
	if len(left) != 2 || left["numpy"] != 1 || left["six"] != 1 {
		t.Errorf("left %v, want numpy's wheel and six's metadata", left)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("a download in flight was removed: %v", err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("a stale temporary file stays: %v", err)
	}
	got := kinds(u.Kinds)
	if got[cache.KindLocks] != 1 {
		t.Errorf("%d lock files left, want numpy's alone (%v)", got[cache.KindLocks], got)
	}
	// Emptied shards go; the folders Open makes stay.
	ents, _ := os.ReadDir(filepath.Join(root, cache.Layout, "blobs", "sha256"))
	if len(ents) != 2 { // numpy's shard and "ab", which holds the fresh download
		t.Errorf("blob shards left: %v", ents)
	}
	if _, err := cache.Open(root); err != nil {
		t.Errorf("the pruned cache does not open: %v", err)
	}
}

func TestMarkUsedIsCheap(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	os.WriteFile(p, nil, 0o644)
	age(t, p, time.Hour)
	cache.MarkUsed(p)
	fi, _ := os.Stat(p)
	if time.Since(fi.ModTime()) < 30*time.Minute {
		t.Errorf("a use an hour after the last is recorded again (one write a day is enough)")
	}
	age(t, p, 25*time.Hour)
	cache.MarkUsed(p)
	fi, _ = os.Stat(p)
	if time.Since(fi.ModTime()) > time.Minute {
		t.Errorf("a use a day after the last is not recorded")
	}
	cache.MarkUsed(filepath.Join(t.TempDir(), "missing")) // no panic, no error
}

// TestInspectCountsHardLinksOnce: folders that hard-link one stored file
// into several trees (invoke's content store and task folders) hold its
// bytes once, so info and clean count them once, as du does. info said
// 383.8 MiB for an invoke folder du put at 255 MiB.
func TestInspectCountsHardLinksOnce(t *testing.T) {
	root := filepath.Join(t.TempDir(), "cache")
	c, err := cache.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := c.Dir("invoke")
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	store := filepath.Join(dir, "files", "ab")
	if err := os.MkdirAll(store, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(store, "abc"), make([]byte, 1000), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, task := range []string{"one", "two"} {
		if err := os.MkdirAll(filepath.Join(dir, "work", task), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Link(filepath.Join(store, "abc"), filepath.Join(dir, "work", task, "mod.py")); err != nil {
			t.Fatal(err)
		}
	}
	u, err := cache.Inspect(root, false)
	if err != nil {
		t.Fatal(err)
	}
	if u.Bytes != 1000 || u.Files != 3 {
		t.Errorf("info: %d files, %d bytes; want 3 files (links) and 1000 bytes (the data, once)", u.Files, u.Bytes)
	}
	rm, err := cache.Clean(root)
	if err != nil {
		t.Fatal(err)
	}
	if rm.Bytes != 1000 {
		t.Errorf("clean removed %d bytes, want 1000", rm.Bytes)
	}
}

// TestInspectKindNames: the folders other packages keep in the cache are
// reported under names a user reads as the built-in kinds are, not as raw
// folder names (index/pip-v1, memo-wheels-checked); a folder lambdapack does
// not know keeps its name.
func TestInspectKindNames(t *testing.T) {
	root := filepath.Join(t.TempDir(), "cache")
	c, err := cache.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	memo, err := c.Memo("wheels-checked")
	if err != nil {
		t.Fatal(err)
	}
	if err := memo.Put("wheel-checked-v1-" + strings.Repeat("a", 64)); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{"index/pip-v1/pip-x.json": "{}", "mystery/x": "x"}
	for _, d := range []string{"verify", "invoke", "sdist-wheels", "sdist-metadata", "build-envs", "build-hooks", "build-tmp", "cargo-home", "cross", "zig", "zig-cache", "no-compilers"} {
		files[d+"/f"] = "x"
	}
	testutil.WriteFiles(t, filepath.Join(root, cache.Layout), files)
	u, err := cache.Inspect(root, false)
	if err != nil {
		t.Fatal(err)
	}
	got := kinds(u.Kinds)
	if got[cache.KindPipConfig] != 1 || got[cache.KindWheelChecks] != 1 || got["mystery"] != 1 {
		t.Errorf("kinds %v: want one file each of %q, %q and mystery", got, cache.KindPipConfig, cache.KindWheelChecks)
	}
	if len(got) != 15 {
		t.Errorf("%d kinds, want 15: %v", len(got), got)
	}
	raw := []cache.Kind{"index/pip-v1", "memo-wheels-checked"}
	for p := range files {
		raw = append(raw, cache.Kind(strings.Split(p, "/")[0]))
	}
	for k := range got {
		if k != "mystery" && slices.Contains(raw, k) {
			t.Errorf("kind %q is a folder's name, not a name for people", k)
		}
	}
}

// TestCleanPackagesLocksAndMemo: cleaning a package also removes the lock
// file and the memo entries (wheels checked) of its blobs, which left 0-byte
// files behind; another package's stay.
func TestCleanPackagesLocksAndMemo(t *testing.T) {
	root, c := fillCache(t)
	memo, err := c.Memo("wheels-checked")
	if err != nil {
		t.Fatal(err)
	}
	var shas []string
	filepath.WalkDir(filepath.Join(root, cache.Layout, "blobs"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			shas = append(shas, d.Name())
		}
		return nil
	})
	for _, sha := range shas {
		if err := memo.Put("wheel-checked-v1-" + sha); err != nil {
			t.Fatal(err)
		}
	}
	numpy := blobSHA(t, root, "numpy")
	before, _ := cache.Inspect(root, false)
	if got := kinds(before.Kinds); got[cache.KindLocks] != 4 || got[cache.KindWheelChecks] != 4 {
		t.Fatalf("before: %v, want 4 locks and 4 wheel checks", got)
	}
	rm, err := cache.Clean(root, "six", "typing-extensions")
	if err != nil {
		t.Fatal(err)
	}
	after, _ := cache.Inspect(root, false)
	if got := kinds(after.Kinds); got[cache.KindLocks] != 1 || got[cache.KindWheelChecks] != 1 {
		t.Errorf("after: %v, want numpy's lock and wheel check alone", got)
	}
	if !memo.Has("wheel-checked-v1-" + numpy) {
		t.Error("numpy's wheel check was removed")
	}
	if _, err := os.Stat(filepath.Join(root, cache.Layout, "locks", "sha256", numpy+".lock")); err != nil {
		t.Errorf("numpy's lock: %v", err)
	}
	if got := kinds(rm.Kinds); got[cache.KindLocks] != 3 || got[cache.KindWheelChecks] != 3 {
		t.Errorf("removal says %v, want 3 locks and 3 wheel checks", got)
	}
}
