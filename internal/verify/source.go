package verify

import (
	"archive/zip"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/lambdapack/lambdapack/internal/tree"
)

// Entry is one file of an artifact: a zip member, a file under a folder, or
// a file a builder plans to write.
type Entry struct {
	// Path is slash-separated and relative to the artifact's root
	// ("python/numpy/__init__.py"). Directories are not entries.
	Path string
	// Size is the file's uncompressed size in bytes. It is also the
	// budget its content is read within: more bytes, or fewer at the end,
	// fail the read.
	Size int64
	// Link, when set, makes the entry a symbolic link to Link (relative to
	// the entry's folder); it has no content of its own.
	Link string
	// Open returns the file's content. When the returned reader is also an
	// io.ReaderAt (an *os.File), binaries are parsed in place.
	Open func() (io.ReadCloser, error)
	// Digest, when set, identifies the content (a RECORD-style sha256):
	// with Options.Facts, what was learnt about a binary is remembered by
	// it and not read again.
	Digest string

	// zip marks a member of a zip file: read to its end once, its bytes
	// must match crc and Size, and a read error is damage to the artifact.
	zip bool
	crc uint32
}

// Source is the artifact Check inspects: a zip file or a folder (Path), or
// files a builder has planned but not written (Entries).
type Source struct {
	// Path is a .zip file or a folder; used when Entries is nil.
	Path string
	// Name labels an in-memory source in reports (default "artifact").
	Name string
	// Entries, when not nil, are the artifact's files.
	Entries []Entry
	// ZipSize is the compressed size of an in-memory source when the
	// builder knows it; 0 means unknown. For a zip Path it is read from
	// the file.
	ZipSize int64
}

// PathSource returns the Source for a zip file or a folder.
func PathSource(p string) Source { return Source{Path: p} }

// EntriesSource returns the Source for files a builder has planned.
func EntriesSource(name string, entries []Entry) Source {
	if entries == nil {
		entries = []Entry{}
	}
	return Source{Name: name, Entries: entries}
}

func (s Source) label() string {
	if s.Entries != nil {
		if s.Name != "" {
			return s.Name
		}
		return "artifact"
	}
	return s.Path
}

// ZipEntries lists the members of a zip of size bytes the way Check reads
// a zip file, refusing before anything is inflated what Check refuses:
// names that escape the artifact's root or that no file system takes,
// members whose compressed data overlap, and declared sizes past Lambda's
// limit (one member) or MaxDeclared (all). A builder that takes a zip made
// elsewhere as its files calls it first, and gives Check its members with
// MemberEntry.
func ZipEntries(zr *zip.Reader, size int64) ([]Entry, error) {
	es, err := zipEntries(zr, size)
	if err != nil {
		return nil, err
	}
	if err := declaredWithin(es); err != nil {
		return nil, err
	}
	return es, nil
}

// MemberEntry is the Entry of a zip member planned as the file at p, whose
// bytes nothing has checked yet (no RECORD vouches for them): Check reads
// it to its end once, within its declared size, and a CRC-32 or size that
// does not match its header is a finding (RuleCorrupt); the declared sizes
// of such entries are bounded before anything is inflated, as a zip's are.
func MemberEntry(p string, f *zip.File) Entry {
	return Entry{Path: p, Size: int64(f.UncompressedSize64), Open: f.Open, zip: true, crc: f.CRC32}
}

// listing is an opened source.
type listing struct {
	entries []Entry
	zipSize int64 // -1 when not known
	isZip   bool
	close   func() error
}

func (s Source) open(ctx context.Context) (*listing, error) {
	if s.Entries != nil {
		es := make([]Entry, len(s.Entries))
		copy(es, s.Entries)
		for i := range es {
			es[i].Path = strings.TrimPrefix(path.Clean("/"+filepath.ToSlash(es[i].Path)), "/")
		}
		zs := s.ZipSize
		if zs == 0 {
			zs = -1
		}
		// Members of a zip no one has vouched for (MemberEntry) are read
		// as a zip's are: declared sizes bounded before anything is
		// inflated, each read whole and its CRC-32 and size checked.
		hasZip := slices.ContainsFunc(es, func(e Entry) bool { return e.zip })
		return &listing{entries: es, zipSize: zs, isZip: hasZip, close: func() error { return nil }}, nil
	}
	if s.Path == "" {
		return nil, fmt.Errorf("verifying: no artifact given (a zip file, a folder or planned entries)")
	}
	st, err := os.Stat(s.Path)
	if err != nil {
		return nil, fmt.Errorf("verifying %s: %w", s.Path, err)
	}
	if st.IsDir() {
		es, err := walkDir(ctx, s.Path)
		if err != nil {
			return nil, err
		}
		return &listing{entries: es, zipSize: -1, close: func() error { return nil }}, nil
	}
	zr, err := zip.OpenReader(s.Path)
	if err != nil {
		return nil, fmt.Errorf("verifying %s: opening it as a zip: %w (give a .zip file or a folder)", s.Path, err)
	}
	es, err := zipEntries(&zr.Reader, st.Size())
	if err != nil {
		zr.Close()
		return nil, fmt.Errorf("verifying %s: %w", s.Path, err)
	}
	return &listing{entries: es, zipSize: st.Size(), isZip: true, close: zr.Close}, nil
}

// zipEntries lists a zip's files, refusing before anything is inflated
// names that would escape the artifact's root or that no file system takes
// (a component over 255 bytes), and members whose data overlap: no real
// zip has them, and they make a few megabytes inflate into terabytes.
func zipEntries(zr *zip.Reader, size int64) ([]Entry, error) {
	type span struct {
		start, end int64
		name       string
	}
	var spans []span
	var es []Entry
	for _, f := range zr.File {
		name := f.Name
		if err := tree.ValidLength(name); err != nil {
			return nil, fmt.Errorf("zip member %s: %w", clipName(name), err)
		}
		if f.CompressedSize64 > 0 {
			off, err := f.DataOffset()
			if err != nil {
				return nil, fmt.Errorf("zip member %s: %w", clipName(name), err)
			}
			if f.CompressedSize64 > uint64(size) || off < 0 || off+int64(f.CompressedSize64) > size {
				return nil, fmt.Errorf("zip member %s: its %d compressed bytes run past the end of the file: the zip is truncated or damaged", clipName(name), f.CompressedSize64)
			}
			spans = append(spans, span{off, off + int64(f.CompressedSize64), name})
		}
		if f.UncompressedSize64 > 1<<62 {
			return nil, fmt.Errorf("zip member %s: declares %d bytes: the zip is damaged or crafted", clipName(name), f.UncompressedSize64)
		}
		if strings.HasSuffix(name, "/") || f.Mode().IsDir() {
			continue
		}
		clean := path.Clean(strings.ReplaceAll(name, "\\", "/"))
		if path.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../") {
			return nil, fmt.Errorf("zip member %q points outside the artifact", clipName(name))
		}
		e := Entry{Path: clean, Size: int64(f.UncompressedSize64), zip: true, crc: f.CRC32}
		f := f
		e.Open = func() (io.ReadCloser, error) { return f.Open() }
		if f.Mode()&fs.ModeSymlink != 0 {
			if f.UncompressedSize64 > 4096 {
				return nil, fmt.Errorf("zip member %s: a symbolic link of %d bytes", clipName(name), f.UncompressedSize64)
			}
			target, err := readSmall(e, 4096)
			if err != nil {
				return nil, err
			}
			e.Link = string(target)
			e.Size = 0
		}
		es = append(es, e)
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].start < spans[j].start })
	for i := 1; i < len(spans); i++ {
		if spans[i].start < spans[i-1].end {
			return nil, fmt.Errorf("zip members %s and %s share compressed data (overlapping entries, the mark of a zip bomb): refusing to read the zip", clipName(spans[i-1].name), clipName(spans[i].name))
		}
	}
	return es, nil
}

// clipName shortens a member name for a message.
func clipName(s string) string {
	if len(s) <= 200 {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%q... (%d bytes)", s[:200], len(s))
}

// walkDir lists a folder's files; symbolic links are listed as links.
func walkDir(ctx context.Context, root string) ([]Entry, error) {
	var es []Entry
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("walking %s: %w", p, err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		e := Entry{Path: filepath.ToSlash(rel)}
		if d.Type()&fs.ModeSymlink != 0 {
			t, err := os.Readlink(p)
			if err != nil {
				return fmt.Errorf("reading symlink %s: %w", p, err)
			}
			e.Link = filepath.ToSlash(t)
			es = append(es, e)
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return fmt.Errorf("reading %s: %w", p, err)
		}
		e.Size = info.Size()
		e.Open = func() (io.ReadCloser, error) { return os.Open(p) }
		es = append(es, e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(es, func(i, j int) bool { return es[i].Path < es[j].Path })
	return es, nil
}

// UnzippedSize returns the total uncompressed size of a zip file's or a
// folder's files: what it adds to Lambda's unzipped budget.
func UnzippedSize(ctx context.Context, p string) (int64, error) {
	l, err := PathSource(p).open(ctx)
	if err != nil {
		return 0, err
	}
	defer l.close()
	var n int64
	for _, e := range l.entries {
		n += e.Size
	}
	return n, nil
}
