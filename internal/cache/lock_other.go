//go:build !unix

package cache

import (
	"context"
	"errors"
	"os"
	"time"
)

// lockFile takes a lock by creating path exclusively (no flock here). A
// lock older than ten minutes is taken as left by a killed run.
func lockFile(ctx context.Context, path string) (unlock func(), err error) {
	for {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_RDWR, 0o644)
		if err == nil {
			f.Close()
			return func() { os.Remove(path) }, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, err
		}
		if fi, err := os.Stat(path); err == nil && time.Since(fi.ModTime()) > 10*time.Minute {
			os.Remove(path)
			continue
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// tryLock cannot tell a held lock from a free one without flock: it
// reports every lock as held, so no temporary cache is swept here.
func tryLock(path string) (unlock func(), ok bool) { return nil, false }

// ownedByMe cannot tell owners apart here; tryLock decides.
func ownedByMe(fi os.FileInfo) bool { return true }
