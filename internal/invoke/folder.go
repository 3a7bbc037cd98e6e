package invoke

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/lambdapack/lambdapack/internal/archive"
	"github.com/lambdapack/lambdapack/internal/tree"
)

// FolderSink writes a tree as a folder to run: the task root of a function,
// the /opt of its layers. Files are hard-linked from a content-addressed
// store when Store is set and on the same file system (else copied), with
// fixed modes (0644, 0755 for executables, folders 0755) and one fixed
// modification time. The folder is built beside Dir and swapped in at once,
// so a rebuild never shows half a folder; when Dir already holds a tree with
// the same Key, nothing is written.
type FolderSink struct {
	Dir string
	// Store is a folder of files named by their sha256 ("" copies every
	// file).
	Store string
	// Key identifies the tree's content (TreeKey); "" always writes.
	Key string
}

// keyFile is where the key of the tree in dir is kept: beside it, so the
// function never sees it.
func keyFile(dir string) string { return dir + ".key" }

// intact reports whether dir holds the tree key names, whole: its key file
// says key and as many files as dir holds (a cache prune, or a user, may have
// removed some; the folder is then written again).
func intact(dir, key string) bool {
	return intactIf(dir, func(k string) bool { return k == key })
}

// intactIf is intact for a key that ok accepts.
func intactIf(dir string, ok func(key string) bool) bool {
	b, err := os.ReadFile(keyFile(dir))
	if err != nil {
		return false
	}
	f := strings.Fields(string(b))
	if len(f) != 2 || !ok(f[0]) {
		return false
	}
	want, err := strconv.Atoi(f[1])
	if err != nil {
		return false
	}
	n := 0
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == "__pycache__" {
				return filepath.SkipDir // Python's own, not the tree's
			}
			return nil
		}
		n++
		return nil
	})
	return err == nil && n == want
}

// Write writes t to s.Dir.
func (s *FolderSink) Write(ctx context.Context, t *tree.Tree) (*tree.Written, error) {
	w := &tree.Written{Path: s.Dir, UnzippedSize: t.Size(), SHA256: s.Key}
	if s.Key != "" && intact(s.Dir, s.Key) {
		w.Summary = fmt.Sprintf("%s unchanged (%d files)", s.Dir, len(t.Files))
		return w, nil
	}
	parent := filepath.Dir(s.Dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("creating %s: %w", parent, err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(s.Dir)+".new-")
	if err != nil {
		return nil, fmt.Errorf("creating a folder beside %s: %w", s.Dir, err)
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(tmp)
		}
	}()
	if err := os.Chmod(tmp, 0o755); err != nil {
		return nil, err
	}
	epoch, err := archive.Epoch()
	if err != nil {
		return nil, err
	}
	if s.Store != "" {
		if err := os.MkdirAll(s.Store, 0o755); err != nil {
			return nil, fmt.Errorf("creating the file store %s: %w", s.Store, err)
		}
	}
	linked := 0
	dirs := map[string]bool{}
	for i := range t.Files {
		if i%256 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		f := &t.Files[i]
		if err := tree.ValidPath(f.Path); err != nil {
			return nil, fmt.Errorf("writing %s: %w", s.Dir, err)
		}
		dst := filepath.Join(tmp, filepath.FromSlash(f.Path))
		if d := filepath.Dir(dst); !dirs[d] {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return nil, fmt.Errorf("writing %s: %w", f.Path, err)
			}
			dirs[d] = true
		}
		l, err := s.place(f, dst, epoch)
		if err != nil {
			return nil, fmt.Errorf("writing %s into %s: %w", f.Path, s.Dir, err)
		}
		if l {
			linked++
		}
	}
	if err := swapIn(tmp, s.Dir); err != nil {
		return nil, err
	}
	ok = true
	if s.Key != "" {
		if err := writeFileAtomic(keyFile(s.Dir), []byte(fmt.Sprintf("%s %d\n", s.Key, len(t.Files)))); err != nil {
			return nil, err
		}
	}
	w.Summary = fmt.Sprintf("%s: %d files (%d linked from the store)", s.Dir, len(t.Files), linked)
	return w, nil
}

// place puts f at dst: a hard link to its stored copy when possible, else a
// copy. It reports whether it linked.
func (s *FolderSink) place(f *tree.File, dst string, epoch time.Time) (bool, error) {
	mode := os.FileMode(0o644)
	if f.Executable() {
		mode = 0o755
	}
	if s.Store == "" {
		return false, writeFile(f, dst, mode, epoch, nil)
	}
	if f.Digest != "" {
		// A stored file is linked only while it is as it was written: a
		// function that wrote into its task root (Lambda's is read-only)
		// changed the stored bytes too, and its modification time says so.
		stored := filepath.Join(s.Store, storeName(f.Digest, mode))
		if st, err := os.Stat(stored); err == nil && st.Size() == f.Size && st.ModTime().Equal(epoch) {
			if err := os.Link(stored, dst); err == nil {
				return true, nil
			}
		}
	}
	// Not stored yet: write it into the store (learning its digest), then
	// link.
	tmp, err := os.CreateTemp(s.Store, ".tmp-")
	if err != nil {
		return false, writeFile(f, dst, mode, epoch, nil)
	}
	tmpName := tmp.Name()
	tmp.Close()
	h := sha256.New()
	if err := writeFile(f, tmpName, mode, epoch, h); err != nil {
		os.Remove(tmpName)
		return false, err
	}
	digest := base64.RawURLEncoding.EncodeToString(h.Sum(nil))
	if f.Digest != "" && digest != f.Digest {
		os.Remove(tmpName)
		return false, fmt.Errorf("its bytes have sha256 %s, the plan says %s", digest, f.Digest)
	}
	stored := filepath.Join(s.Store, storeName(digest, mode))
	if err := os.MkdirAll(filepath.Dir(stored), 0o755); err != nil {
		os.Remove(tmpName)
		return false, err
	}
	if err := os.Rename(tmpName, stored); err != nil {
		os.Remove(tmpName)
		return false, err
	}
	if err := os.Link(stored, dst); err != nil {
		// Another file system: copy.
		return false, copyFile(stored, dst, mode, epoch)
	}
	return true, nil
}

// storeName names a stored file by digest and mode (a hard link shares its
// mode, so an executable is stored apart).
func storeName(digest string, mode os.FileMode) string {
	n := digest[:2] + "/" + digest
	if mode&0o111 != 0 {
		n += ".x"
	}
	return filepath.FromSlash(n)
}

// writeFile writes f's bytes to path with mode and mtime, hashing them into h
// when it is not nil.
func writeFile(f *tree.File, path string, mode os.FileMode, mtime time.Time, h io.Writer) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	rc, err := f.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	out, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	var w io.Writer = out
	if h != nil {
		w = io.MultiWriter(out, h)
	}
	n, err := io.Copy(w, rc)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if f.Size > 0 && n != f.Size {
		return fmt.Errorf("%d bytes, the plan says %d", n, f.Size)
	}
	if err := os.Chmod(path, mode); err != nil {
		return err
	}
	// The modification time is the zip's (as Lambda's task root has it,
	// and the store's sign of an intact file); the access time is now, the
	// last use the cache's prune goes by, so a fresh layout is not pruned
	// as decades old.
	return os.Chtimes(path, time.Now(), mtime)
}

func copyFile(src, dst string, mode os.FileMode, mtime time.Time) error {
	return writeFile(&tree.File{Path: filepath.Base(dst), Origin: tree.FromDisk, Disk: src}, dst, mode, mtime, nil)
}

// writeFileAtomic writes data to path through a temporary file beside it.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}

// swapIn makes the complete folder tmp appear at dir in one step, and removes
// what was there.
func swapIn(tmp, dir string) error {
	if _, err := os.Lstat(dir); errors.Is(err, os.ErrNotExist) {
		if err := os.Rename(tmp, dir); err != nil {
			return fmt.Errorf("moving the new folder to %s: %w", dir, err)
		}
		return nil
	}
	// An old folder is there: os.Remove any key first, so that a crash
	// between the swap and the new key leaves a folder that is rewritten.
	_ = os.Remove(keyFile(dir))
	if err := exchange(tmp, dir); err != nil {
		return fmt.Errorf("swapping the new folder in at %s: %w", dir, err)
	}
	// tmp now holds the old folder.
	return os.RemoveAll(tmp)
}

// TreeKey identifies a tree's content without reading its bytes: each
// file's path, mode, size and digest (or, for a zip member, its CRC-32; for
// a file on disk, its size and modification time).
func TreeKey(t *tree.Tree) string {
	h := sha256.New()
	for i := range t.Files {
		f := &t.Files[i]
		id := f.Digest
		if id == "" {
			switch f.Origin {
			case tree.FromWheel:
				if f.Member != nil {
					id = "crc32:" + strconv.FormatUint(uint64(f.Member.CRC32), 16)
				}
			case tree.FromBytes:
				s := sha256.Sum256(f.Data)
				id = hex.EncodeToString(s[:])
			case tree.FromDisk:
				if st, err := os.Stat(f.Disk); err == nil {
					id = fmt.Sprintf("disk:%d:%d", st.Size(), st.ModTime().UnixNano())
				}
			}
		}
		fmt.Fprintf(h, "%s\x00%v\x00%d\x00%s\n", f.Path, f.Executable(), f.Size, id)
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// exchangeByRenames swaps the folders at a and b in two renames: for a
// moment b does not exist (but it is never half written).
func exchangeByRenames(a, b string) error {
	old := a + ".old"
	if err := os.Rename(b, old); err != nil {
		return err
	}
	if err := os.Rename(a, b); err != nil {
		_ = os.Rename(old, b)
		return err
	}
	return os.Rename(old, a)
}
