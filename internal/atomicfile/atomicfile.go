package atomicfile

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// File is a temporary file that becomes its destination on Commit.
type File struct {
	*os.File
	path string
	sync bool
	done bool
}

// Option configures a File.
type Option func(*File)

// Sync makes Commit fsync the file before renaming it and the folder after
// (see the package documentation for when).
func Sync() Option { return func(f *File) { f.sync = true } }

// WithSync is Sync when on is true.
func WithSync(on bool) Option { return func(f *File) { f.sync = on } }

// Create opens a temporary file beside path for writing. The first Create
// of a process in a folder first removes the stale temporary files a killed
// run left there (Sweep).
func Create(path string, opts ...Option) (*File, error) {
	Sweep(filepath.Dir(path))
	tmp, err := Scratch(filepath.Dir(path), filepath.Base(path))
	if err != nil {
		return nil, fmt.Errorf("writing %s: %w", path, err)
	}
	f := &File{File: tmp, path: path}
	for _, o := range opts {
		o(f)
	}
	return f, nil
}

// Commit gives the file perm, syncs it when asked, closes it and renames it
// over the destination. On error the temporary file is removed.
func (f *File) Commit(perm fs.FileMode) error { return f.CommitAs(f.path, perm) }

// CommitAs is Commit to another path on the same file system (a
// content-addressed name known only once the bytes are written).
func (f *File) CommitAs(path string, perm fs.FileMode) error {
	if f.done {
		return fmt.Errorf("writing %s: already committed or aborted", path)
	}
	err := f.Chmod(perm)
	if err == nil && f.sync {
		err = f.File.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	f.done = true
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if f.sync {
		syncDir(filepath.Dir(path))
	}
	return nil
}

// Abort closes and removes the temporary file, leaving the destination as
// it was. It does nothing after Commit, so it can be deferred.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.Close()
	os.Remove(f.Name())
}

// WriteFile writes data to path atomically with permissions perm.
func WriteFile(path string, data []byte, perm fs.FileMode, opts ...Option) error {
	f, err := Create(path, opts...)
	if err != nil {
		return err
	}
	defer f.Abort()
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Commit(perm)
}

// syncDir makes a rename in dir durable, as far as the file system can:
// one that cannot sync a folder still has the file's own bytes synced.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
