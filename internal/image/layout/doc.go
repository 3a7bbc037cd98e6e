// Package layout reads and writes OCI image layouts: the --oci-layout sink,
// the oci-layout:DIR source of bases, and lambdapack's cache of bases
// (image/base keeps every base it fetched in one layout).
//
// Writes never leave a layout half-written: every blob is written to a
// temporary file in its folder, checked against its digest and renamed into
// place; index.json is replaced the same way, last, under a lock, so a
// killed run leaves at most unreferenced blobs and a reader always sees a
// complete index.
package layout
