//go:build !unix

package layout

import "context"

// lock is a no-op where flock is not available.
func lock(context.Context, string) (func(), error) { return func() {}, nil }
