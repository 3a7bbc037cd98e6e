package cache

import (
	"io/fs"
	"os"
	"syscall"
	"time"
)

// accessTime is fi's access time, where the file system keeps one.
func accessTime(fi fs.FileInfo) (time.Time, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(st.Atim.Sec, st.Atim.Nsec), true
}

// openQuiet opens a cache file to read without counting as a use: the
// access time stays (O_NOATIME, allowed to the file's owner and root).
func openQuiet(p string) (*os.File, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NOATIME, 0)
	if err == nil {
		return f, nil
	}
	return os.Open(p)
}

// linkID identifies fi's data when other hard links share it (ok false
// for a file with one link, or where the system does not say).
func linkID(fi fs.FileInfo) (id [2]uint64, ok bool) {
	st, isStat := fi.Sys().(*syscall.Stat_t)
	if !isStat || st.Nlink < 2 {
		return id, false
	}
	return [2]uint64{uint64(st.Dev), st.Ino}, true
}
