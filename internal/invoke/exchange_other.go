//go:build !linux

package invoke

// exchange swaps the folders at a and b.
func exchange(a, b string) error { return exchangeByRenames(a, b) }
