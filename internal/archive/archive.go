package archive

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/flate"
	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"

	"github.com/lambdapack/lambdapack/internal/atomicfile"
	"github.com/lambdapack/lambdapack/internal/tree"
)

// Entry is one file of the output zip. Exactly one of Data, Zip or File is
// the source of its bytes. Directories are not listed: Write adds one for
// every parent of every file.
type Entry struct {
	// Path is the slash-separated path inside the zip, relative, clean.
	Path string
	// Mode holds permission bits; any execute bit makes the entry 0755,
	// otherwise it is 0644.
	Mode fs.FileMode
	// Data is the content, held in memory.
	Data []byte
	// Zip is a member of an open zip (a wheel) whose uncompressed bytes are
	// the content. A deflated member is copied raw.
	Zip *zip.File
	// File is a path on disk whose bytes are the content.
	File string
}

func (e *Entry) size() (int64, error) {
	switch {
	case e.Zip != nil:
		return int64(e.Zip.UncompressedSize64), nil
	case e.File != "":
		fi, err := os.Stat(e.File)
		if err != nil {
			return 0, err
		}
		if !fi.Mode().IsRegular() {
			return 0, fmt.Errorf("%s is not a regular file", e.File)
		}
		return fi.Size(), nil
	default:
		return int64(len(e.Data)), nil
	}
}

// describe says where an entry's bytes come from, for messages.
func (e *Entry) describe() string {
	switch {
	case e.Zip != nil:
		return "zip member " + e.Zip.Name
	case e.File != "":
		return "file " + e.File
	default:
		return "generated content"
	}
}

func (e *Entry) open() (io.ReadCloser, error) {
	switch {
	case e.Zip != nil:
		return e.Zip.Open()
	case e.File != "":
		return os.Open(e.File)
	default:
		return io.NopCloser(bytes.NewReader(e.Data)), nil
	}
}

// Options tunes Write. The zero value is ready to use.
type Options struct {
	// Modified is the timestamp of every entry; zero means Epoch().
	Modified time.Time
	// Level is the deflate level (1-9); 0 means 6, zip's default.
	Level int
	// Concurrency is the number of compressing workers; 0 means GOMAXPROCS.
	Concurrency int
	// MemoryBudget bounds the bytes of compressed output held in memory
	// while waiting to be written; 0 means 64 MiB.
	MemoryBudget int64
	// SpillThreshold is the uncompressed size above which a member is
	// compressed into a temporary file instead of memory; 0 means 4 MiB.
	SpillThreshold int64
	// Recompress disables the raw copy of deflated zip members (for
	// benchmarks and comparisons).
	Recompress bool
	// Root is the folder whose children are counted in Result.TopLevel
	// ("python/" for a layer, "" for a function zip).
	Root string
	// Comment is the zip's archive comment (lambdapack records what the
	// artifact was built for there; see internal/record). At most 65535
	// bytes.
	Comment string
	// TempDir holds spill files; "" means the destination's folder.
	TempDir string
	// Progress, when set, is called from one goroutine after each file is
	// written with the uncompressed bytes written so far and the total.
	Progress func(written, total int64)
	// Sync flushes the zip to stable storage before the rename. Without
	// it a killed process still leaves no partial file at the destination
	// (the rename is atomic); only a power loss right after could. It costs
	// about as much as writing the zip again on slow disks.
	Sync bool
}

// Result describes a written zip.
type Result struct {
	Path   string
	SHA256 string // hex of the whole zip file
	Size   int64  // bytes of the zip file
	// UnzippedSize is the sum of the uncompressed sizes of all files (what
	// Lambda counts against its unzipped limit).
	UnzippedSize int64
	Files, Dirs  int
	RawCopied    int // members copied from a source zip without recompressing
	Deflated     int // members compressed here
	Stored       int // members stored (deflate did not help)
	// TopLevel maps each name directly under Root (a package folder or a
	// module file) to the uncompressed bytes beneath it.
	TopLevel map[string]int64
}

// DefaultEpoch is the timestamp used when SOURCE_DATE_EPOCH is not set: the
// earliest the MS-DOS date fields of a zip can hold.
var DefaultEpoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// Epoch returns the timestamp for archive entries: SOURCE_DATE_EPOCH (seconds
// since 1970) when set, else DefaultEpoch. Times outside what a zip can
// hold (1980 to 2107) are clamped.
func Epoch() (time.Time, error) {
	s := strings.TrimSpace(os.Getenv("SOURCE_DATE_EPOCH"))
	if s == "" {
		return DefaultEpoch, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("reading SOURCE_DATE_EPOCH=%q: not a whole number of seconds; unset it or set it to e.g. 315532800", s)
	}
	return time.Unix(n, 0).UTC(), nil
}

// msDosTime encodes t (UTC) as MS-DOS date and time, clamped to the range
// the format holds, with two-second resolution.
func msDosTime(t time.Time) (date, tm uint16) {
	t = t.UTC()
	if t.Before(DefaultEpoch) {
		t = DefaultEpoch
	}
	if max := time.Date(2107, 12, 31, 23, 59, 58, 0, time.UTC); t.After(max) {
		t = max
	}
	date = uint16(t.Day() + int(t.Month())<<5 + (t.Year()-1980)<<9)
	tm = uint16(t.Second()/2 + t.Minute()<<5 + t.Hour()<<11)
	return
}

// Limits on a path inside an artifact (tree's).
const (
	MaxComponent = tree.MaxComponent
	MaxPath      = tree.MaxPath
)

// ValidPath reports why p cannot be a path inside an artifact, or nil: it
// must be relative, slash-separated and clean, without "..", backslashes,
// drive letters or NUL bytes, and within ValidLength's limits. It is
// tree.ValidPath, the one rule every sink and planner applies.
func ValidPath(p string) error { return tree.ValidPath(p) }

// ValidLength reports a path with a component longer than MaxComponent
// bytes or a total over MaxPath (tree.ValidLength).
func ValidLength(p string) error { return tree.ValidLength(p) }

type kind int

const (
	kindDir kind = iota
	kindRaw
	kindCompress
)

type item struct {
	name  string
	entry *Entry
	kind  kind
	mode  fs.FileMode
	size  int64
	// set by a worker
	weight int64
	ready  chan struct{}
	crc    uint32
	method uint16
	buf    []byte // compressed (or stored) bytes held in memory
	spill  string // compressed bytes in this temporary file
	csize  int64
	stored bool // store: write the source again (large, incompressible)
}

var copyBufPool = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// Write writes entries to a zip at dest and reports on it. The zip appears
// at dest only when complete.
func Write(ctx context.Context, dest string, entries []Entry, opts Options) (*Result, error) {
	if opts.Modified.IsZero() {
		t, err := Epoch()
		if err != nil {
			return nil, err
		}
		opts.Modified = t
	}
	if opts.Level == 0 {
		opts.Level = 6
	}
	if opts.Level < 1 || opts.Level > 9 {
		return nil, fmt.Errorf("writing %s: deflate level %d is not between 1 and 9", dest, opts.Level)
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = runtime.GOMAXPROCS(0)
	}
	if opts.MemoryBudget <= 0 {
		opts.MemoryBudget = 64 << 20
	}
	if opts.SpillThreshold <= 0 {
		opts.SpillThreshold = 4 << 20
	}
	dir := filepath.Dir(dest)
	if opts.TempDir == "" {
		opts.TempDir = dir
	}
	root := strings.TrimSuffix(opts.Root, "/")
	if root != "" {
		root += "/"
	}

	items, res, err := prepare(entries, opts, root)
	if err != nil {
		return nil, fmt.Errorf("writing %s: %w", dest, err)
	}
	res.Path = dest

	tmp, err := atomicfile.Create(dest, atomicfile.WithSync(opts.Sync))
	if err != nil {
		return nil, err
	}
	defer tmp.Abort() // nothing at dest unless committed
	var spills []string
	var spillMu sync.Mutex
	defer func() {
		for _, s := range spills {
			os.Remove(s)
		}
	}()

	h := sha256.New()
	cw := &countWriter{w: io.MultiWriter(tmp, h)}
	bw := bufio.NewWriterSize(cw, 1<<20)
	zw := zip.NewWriter(bw)
	date, tm := msDosTime(opts.Modified)

	g, gctx := errgroup.WithContext(ctx)
	sem := semaphore.NewWeighted(opts.MemoryBudget)
	jobs := make(chan *item)
	// Feeder: hands out compression jobs in order, taking memory budget
	// first, so the earliest unwritten member always gets budget.
	g.Go(func() error {
		defer close(jobs)
		for _, it := range items {
			if it.kind != kindCompress {
				continue
			}
			it.weight = 2*it.size + 64<<10
			if it.size > opts.SpillThreshold {
				it.weight = 2 << 20
			}
			it.weight = min(it.weight, opts.MemoryBudget)
			if err := sem.Acquire(gctx, it.weight); err != nil {
				return err
			}
			select {
			case jobs <- it:
			case <-gctx.Done():
				sem.Release(it.weight)
				return gctx.Err()
			}
		}
		return nil
	})
	for range opts.Concurrency {
		g.Go(func() error {
			for it := range jobs {
				if err := compress(it, opts, func(s string) {
					spillMu.Lock()
					spills = append(spills, s)
					spillMu.Unlock()
				}); err != nil {
					return fmt.Errorf("compressing %s: %w", it.name, err)
				}
				close(it.ready)
			}
			return nil
		})
	}
	g.Go(func() error {
		var written int64
		for _, it := range items {
			if it.kind == kindCompress {
				select {
				case <-it.ready:
				case <-gctx.Done():
					return gctx.Err()
				}
			}
			if err := writeItem(zw, it, date, tm); err != nil {
				return fmt.Errorf("adding %s: %w", it.name, err)
			}
			if it.kind == kindCompress {
				it.buf = nil
				if it.spill != "" {
					os.Remove(it.spill)
				}
				sem.Release(it.weight)
			}
			if opts.Progress != nil && it.kind != kindDir {
				written += it.size
				opts.Progress(written, res.UnzippedSize)
			}
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("writing %s: %w", dest, err)
	}
	if opts.Comment != "" {
		if err := zw.SetComment(opts.Comment); err != nil {
			return nil, fmt.Errorf("writing %s: %w", dest, err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("writing %s: %w", dest, err)
	}
	if err := bw.Flush(); err != nil {
		return nil, fmt.Errorf("writing %s: %w", dest, err)
	}
	if err := tmp.Commit(0o644); err != nil {
		return nil, err
	}
	res.SHA256 = hex.EncodeToString(h.Sum(nil))
	res.Size = cw.n
	for _, it := range items {
		switch {
		case it.kind == kindRaw:
			res.RawCopied++
		case it.kind == kindCompress && it.method == zip.Store:
			res.Stored++
		case it.kind == kindCompress:
			res.Deflated++
		}
	}
	return res, nil
}

// prepare validates and sorts the entries and adds the directories.
func prepare(entries []Entry, opts Options, root string) ([]*item, *Result, error) {
	res := &Result{TopLevel: map[string]int64{}}
	files := make(map[string]int, len(entries))
	dirs := map[string]bool{}
	items := make([]*item, 0, len(entries)+len(entries)/4)
	for i := range entries {
		e := &entries[i]
		if err := ValidPath(e.Path); err != nil {
			return nil, nil, err
		}
		if strings.HasSuffix(e.Path, "/") {
			return nil, nil, fmt.Errorf("entry %q: directories are added by the writer, list files only", e.Path)
		}
		n := 0
		if e.Data != nil {
			n++
		}
		if e.Zip != nil {
			n++
		}
		if e.File != "" {
			n++
		}
		if n > 1 {
			return nil, nil, fmt.Errorf("entry %q has more than one source", e.Path)
		}
		if j, dup := files[e.Path]; dup {
			return nil, nil, fmt.Errorf("two entries for %q (%s and %s); exclude one", e.Path, entries[j].describe(), e.describe())
		}
		files[e.Path] = i
		size, err := e.size()
		if err != nil {
			return nil, nil, fmt.Errorf("entry %q: %w", e.Path, err)
		}
		mode := fs.FileMode(0o644)
		if e.Mode&0o111 != 0 {
			mode = 0o755
		}
		it := &item{name: e.Path, entry: e, kind: kindCompress, mode: mode, size: size, ready: make(chan struct{})}
		if e.Zip != nil && e.Zip.Method == zip.Deflate && e.Zip.Flags&0x1 == 0 && !opts.Recompress {
			it.kind = kindRaw
			it.crc = e.Zip.CRC32
			it.method = zip.Deflate
			it.csize = int64(e.Zip.CompressedSize64)
		}
		items = append(items, it)
		res.Files++
		res.UnzippedSize += size
		if rest, ok := strings.CutPrefix(e.Path, root); ok {
			top, _, _ := strings.Cut(rest, "/")
			res.TopLevel[top] += size
		}
		for d := e.Path; ; {
			i := strings.LastIndexByte(d, '/')
			if i < 0 {
				break
			}
			d = d[:i]
			if dirs[d] {
				break
			}
			dirs[d] = true
		}
	}
	for d := range dirs {
		if j, ok := files[d]; ok {
			return nil, nil, fmt.Errorf("%q is both a file (%s) and a directory", d, entries[j].describe())
		}
		items = append(items, &item{name: d + "/", kind: kindDir, mode: fs.ModeDir | 0o755})
		res.Dirs++
	}
	sort.Slice(items, func(i, j int) bool { return items[i].name < items[j].name })
	return items, res, nil
}

var flatePools [10]sync.Pool

func getFlate(level int, w io.Writer) *flate.Writer {
	if fw, ok := flatePools[level].Get().(*flate.Writer); ok {
		fw.Reset(w)
		return fw
	}
	fw, err := flate.NewWriter(w, level)
	if err != nil {
		panic(err) // level checked by Write
	}
	return fw
}

// compress deflates one member into memory or a spill file and decides
// between deflate and store.
func compress(it *item, opts Options, addSpill func(string)) error {
	e := it.entry
	if it.size <= opts.SpillThreshold {
		data := e.Data
		if data == nil {
			r, err := e.open()
			if err != nil {
				return err
			}
			data, err = io.ReadAll(io.LimitReader(r, it.size+1))
			cerr := r.Close()
			if err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			if int64(len(data)) != it.size {
				return fmt.Errorf("size changed while reading: want %d bytes, got %d", it.size, len(data))
			}
		}
		it.crc = crc32.ChecksumIEEE(data)
		var buf bytes.Buffer
		buf.Grow(len(data)/2 + 64)
		fw := getFlate(opts.Level, &buf)
		if _, err := fw.Write(data); err != nil {
			return err
		}
		if err := fw.Close(); err != nil {
			return err
		}
		flatePools[opts.Level].Put(fw)
		if int64(buf.Len()) >= it.size {
			it.method, it.buf, it.csize = zip.Store, data, it.size
		} else {
			it.method, it.buf, it.csize = zip.Deflate, buf.Bytes(), int64(buf.Len())
		}
		return nil
	}
	// Big member: stream into a spill file.
	f, err := atomicfile.Scratch(opts.TempDir, "spill")
	if err != nil {
		return err
	}
	addSpill(f.Name())
	it.spill = f.Name()
	defer f.Close()
	r, err := e.open()
	if err != nil {
		return err
	}
	defer r.Close()
	crc := crc32.NewIEEE()
	bw := bufio.NewWriterSize(f, 256<<10)
	cw := &countWriter{w: bw}
	fw := getFlate(opts.Level, cw)
	bp := copyBufPool.Get().(*[]byte)
	n, err := io.CopyBuffer(io.MultiWriter(fw, crc), io.LimitReader(r, it.size+1), *bp)
	copyBufPool.Put(bp)
	if err != nil {
		return err
	}
	if n != it.size {
		return fmt.Errorf("size changed while reading: want %d bytes, got %d", it.size, n)
	}
	if err := fw.Close(); err != nil {
		return err
	}
	flatePools[opts.Level].Put(fw)
	if err := bw.Flush(); err != nil {
		return err
	}
	it.crc = crc.Sum32()
	if cw.n >= it.size {
		it.method, it.stored, it.csize = zip.Store, true, it.size
		return nil
	}
	it.method, it.csize = zip.Deflate, cw.n
	return nil
}

func writeItem(zw *zip.Writer, it *item, date, tm uint16) error {
	// The MS-DOS fields alone: Modified would add an extended-timestamp
	// field, and the bytes would depend on the time zone.
	fh := &zip.FileHeader{
		Name: it.name,
		//lint:ignore SA1019 deliberate: see above
		ModifiedDate: date,
		//lint:ignore SA1019 deliberate: see above
		ModifiedTime: tm,
	}
	fh.SetMode(it.mode)
	fh.CreatorVersion = 3<<8 | 20 // Unix, zip 2.0
	fh.ReaderVersion = 20
	if !isASCII(it.name) {
		fh.Flags |= 0x800
	}
	if it.kind == kindDir {
		fh.Method = zip.Store
		_, err := zw.CreateRaw(fh)
		return err
	}
	fh.Method = it.method
	fh.CRC32 = it.crc
	fh.CompressedSize64 = uint64(it.csize)
	fh.UncompressedSize64 = uint64(it.size)
	w, err := zw.CreateRaw(fh)
	if err != nil {
		return err
	}
	var src io.Reader
	switch {
	case it.kind == kindRaw:
		r, err := it.entry.Zip.OpenRaw()
		if err != nil {
			return err
		}
		src = r
	case it.buf != nil || it.size == 0:
		_, err := w.Write(it.buf)
		return err
	case it.stored:
		r, err := it.entry.open()
		if err != nil {
			return err
		}
		defer r.Close()
		src = r
	default:
		f, err := os.Open(it.spill)
		if err != nil {
			return err
		}
		defer f.Close()
		src = f
	}
	bp := copyBufPool.Get().(*[]byte)
	defer copyBufPool.Put(bp)
	n, err := io.CopyBuffer(w, io.LimitReader(src, it.csize+1), *bp)
	if err != nil {
		return err
	}
	if n != it.csize {
		return fmt.Errorf("source changed: want %d bytes, got %d", it.csize, n)
	}
	return nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
