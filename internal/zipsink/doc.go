// Package zipsink writes a tree.Tree as a deterministic zip: a Lambda layer
// or function zip. It is the first of the tree's sinks (internal/image and
// internal/invoke write the same tree as image layers and as a folder to
// run), shaped like go-containerregistry's one package per destination.
//
//	sink, err := zipsink.New("layer.zip", zipsink.WithProgress(bars))
//	w, err := sink.Write(ctx, tr) // tr planned and verified by internal/app
//
// The zip is internal/archive's: entries sorted, one timestamp
// (SOURCE_DATE_EPOCH, else 1980-01-01), 0644/0755 modes, deflated wheel
// members copied raw, the rest compressed in parallel. The tree's Record is
// the zip's archive comment (internal/record), so build, verify and publish
// know what the zip is for. The first part's Root counts the top-level
// packages.
//
// Nothing is left behind on failure: the zip is written to a temporary file
// beside the destination and renamed over it only when complete, and the
// folders Write created for it are removed again. The destination must be
// a regular file or not exist (never a folder, a device or a pipe). What a
// killed run could not remove (its temporary zip and spill files) the next
// Write to the same folder removes once it is an hour stale
// (atomicfile.RemoveStale: lambdapack's own temporary names only), and its
// summary says so.
package zipsink
