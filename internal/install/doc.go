// Package install turns wheels into an installation plan (PEP 427) for a
// Lambda artifact, without writing a tree to disk.
//
// Build reads wheel zips (usually from the cache), checks them and returns a
// Plan: the list of files the artifact will hold, each with its path inside
// the artifact, its mode and its source: a member of a wheel (so the archive
// writer can copy its compressed bytes raw) or new bytes (a rewritten RECORD,
// INSTALLER, a script whose "#!python" shebang was rewritten, a console
// script launcher).
//
// The rules follow PEP 427 and pypa/installer: Root-Is-Purelib and platlib
// land in the same folder (the artifact's package root); the
// {name}-{version}.data folder is spread (purelib and platlib to the package
// root, scripts to the scripts folder with a "#!/usr/bin/env python3"
// shebang; headers and data are reported in Plan.Dropped and left out);
// RECORD is rewritten for the installed paths with the sha256 and size of
// the installed bytes; INSTALLER says "lambdapack".
//
// Wheels are untrusted. Build refuses, naming the wheel, a member with an
// absolute path, a ".." segment, a backslash or a drive letter, a symlink
// entry, an encrypted member, a RECORD that lies about a member's hash or
// size, a member missing from RECORD, a corrupt or truncated zip, members
// that share compressed data (overlapping entries, refused before anything
// is inflated), and a wheel whose file name disagrees with its
// .dist-info/METADATA. A wheel given with
// the metadata resolution read for it (Wheel.Resolved: an index's PEP 658
// file) is refused when its own METADATA declares other Requires-Dist,
// Requires-Python or Provides-Extra (a *MetadataMismatchError): the
// resolver chose the other packages from that metadata, so the artifact
// would lack what the package needs. Two wheels that
// install the same path with different bytes are an error naming both; the
// same bytes are kept once. Checking a wheel inflates every member once;
// Options.Memo remembers wheels (by sha256) that passed, so a warm build
// reads only their RECORD. Options.DeferCheck leaves the members' hash
// check to a caller that inflates them anyway (an image layer, hashed for
// its diffID): Plan.CheckUnwritten checks the members no entry writes, the
// caller's sink the rest, and Plan.Checked then fills the memo.
package install
