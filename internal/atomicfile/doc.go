// Package atomicfile writes files so that readers see the old content or
// the new, never a part of either: the bytes go to a temporary file in the
// destination's folder, which is renamed over the destination only when
// complete. On any error, or Abort, the temporary file is removed and the
// destination is untouched.
//
// Every temporary file lambdapack makes beside what it writes (these, and
// the zip writer's spill files: Scratch) is named
// ".tmp-lambdapack-<name>-<16 hex digits>". A run killed with SIGKILL
// cannot remove its own, so a later run does: RemoveStale removes, in one
// folder, the regular files of exactly that form unmodified for StaleAge
// (an hour), and nothing else. Create runs it (Sweep) on each folder the
// first time a process writes there, so the folder of -o, the cache's
// folders and a build's state lose a killed run's leftovers the next time
// anything is written beside them; the zip sink reports what went. Every writer of a file lambdapack keeps (zips,
// locks, cache entries, index pages, build state) goes through it.
//
// One rule for syncing: Sync (fsync the file before the rename and its
// folder after) is for files later runs trust without checking them again:
// the cache's content-addressed blobs and its memo entries. Everything else
// is written without it: a killed process still leaves the old file or the
// new one (the rename is atomic), and only a power failure right after a
// write could leave an empty file, which its readers survive (a zip is
// built again; build state, verification facts and index pages that do not
// parse are ignored). A zip can ask for Sync too (archive.Options.Sync).
//
//	f, err := atomicfile.Create(path)
//	if err != nil { ... }
//	defer f.Abort()                 // a no-op after Commit
//	... write to f ...
//	return f.Commit(0o644)
package atomicfile
