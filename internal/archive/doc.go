// Package archive writes deterministic zip files for Lambda artifacts.
//
// Given a list of entries (a path, a mode and a source: bytes in memory, a
// file on disk, or a member of another zip), Write produces the same bytes
// every time:
//
//   - entries sorted by path, with a directory entry (0755) for every parent;
//   - files 0644, executables 0755, owner and group not recorded;
//   - one timestamp for every entry: SOURCE_DATE_EPOCH when set, else
//     1980-01-01T00:00:00Z (the earliest the zip format can hold), written in
//     the MS-DOS fields only: no extended-timestamp or other extra fields;
//   - members already deflated inside a source zip (a wheel) are copied raw:
//     their compressed bytes, CRC-32 and sizes go into the output unchanged,
//     with no inflate and no deflate;
//   - every other file is deflated (klauspost/compress) by a pool of workers,
//     in parallel, into memory or, for big members, into a temporary spill
//     file, and written in order; a member that deflate does not shrink is
//     stored, as Info-ZIP does.
//
// Memory stays bounded: in-flight compressed data is limited by a budget and
// big members stream through spill files. The zip is written to a temporary
// file beside the destination and renamed into place; on any error nothing
// is left at the destination and the temporary files are removed.
package archive
