// Package testutil holds what lambdapack's tests share: the real
// interpreters of this machine (pyenv's CPythons, Debian's arm64 CPython under
// qemu), a writer of wheels, and servers the tests start on loopback: among
// them a PEP 691/503 index (Index) that can also be made to fail the ways a
// network and a hostile server do (Index.Inject: stalls before headers and
// mid-body, trickles, cut bodies with and without ranges, 429/503 with
// Retry-After, redirect loops, gzip bombs, huge pages, file:// links,
// credentials required and echoed).
//
// Nothing here stubs the product: helpers find or start the real thing, and
// fail the test (never skip it) when it cannot be had.
package testutil
