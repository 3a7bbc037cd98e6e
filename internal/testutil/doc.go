// Package testutil holds what lambdapack's tests share: the real
// interpreters of this machine (pyenv's CPythons, Debian's arm64 CPython under
// qemu), a writer of wheels, and servers the tests start on loopback.
//
// Nothing here stubs the product: helpers find or start the real thing, and
// fail the test (never skip it) when it cannot be had.
package testutil
