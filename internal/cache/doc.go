// Package cache is lambdapack's content-addressed download cache.
//
// Files (wheels, sdists) live as blobs named by their sha256 under a
// versioned layout:
//
//	<root>/v1/blobs/sha256/ab/abcdef...   the file's bytes
//	<root>/v1/locks/sha256/abcdef....lock  a cross-process lock (flock)
//	<root>/v1/<name>/...                   keyed stores (Dir, Memo)
//
// The root is --cache-dir, else LAMBDAPACK_CACHE_DIR, else lambdapack under
// the user's cache folder (os.UserCacheDir).
//
// Fetch downloads in parallel with a bound. Every download is checked
// against the expected size and sha256 (the index's or the lock's) while it
// streams into a temporary file in the blob's own folder; only a complete,
// matching file is synced and renamed into place, so a truncated download,
// a hash mismatch or a killed run leaves nothing in the cache. A per-blob
// file lock lets several goroutines and several processes share one cache:
// the second waits and then finds the blob. A request's own Open (the
// index client's, as the pipeline wires it) brings the bytes; without one,
// the cache's HTTP opener does, within netlimit.Limits (a watched,
// deadline-bound attempt, three tries from zero for failures that may
// pass). Offline mode uses the cache
// alone and lists what is missing; NoCache mode uses a temporary folder
// that Close removes. That folder is os.TempDir()/lambdapack-nocache-*
// with a lock file its run holds (flock) while it lives; a run killed with
// SIGKILL leaves it, and the first Open of a later process removes every
// such folder of this user whose lock is free and over an hour old
// (SweepTempCaches; Swept lists them). Without flock nothing is swept.
//
// admin.go administers a cache folder as it lies on disk (lambdapack cache
// info | clean | prune): Inspect sums it by kind (wheels, index pages,
// metadata, ...) and by package, Clean removes all of it
// or one package's entries, Prune removes what no run used since a cutoff.
// Last use is the later of a file's modification and access times; Lookup
// and MarkUsed move the modification time forward at most once a day.
package cache
