package verify

import (
	"archive/zip"
	"compress/flate"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
)

// Reading budget. An entry is always read as a stream, never inflated
// whole into memory: at most its declared size is read, a binary keeps only
// its first headKeep bytes and the few ranges its ELF dynamic segment points
// at, and a text file the checks parse (RECORD, METADATA, WHEEL) is refused
// past maxTextFile.
const (
	headKeep     = 1 << 20  // leading bytes of a binary kept while it streams
	fetchWindow  = 64 << 10 // read-ahead of a forward fetch
	maxPasses    = 4        // times one binary may be read from its start
	maxTextFile  = 16 << 20 // RECORD, METADATA, WHEEL
	maxScanners  = 16       // entries read at once
	nativeHeadLn = 4096     // bytes that settle what a file's first bytes announce
)

// corruptError is an entry whose bytes do not match what its zip header
// declares (CRC-32 or size), or whose compressed data is damaged: a
// finding about the artifact, not a failure to read it.
type corruptError struct {
	path string
	err  error
}

func (e *corruptError) Error() string { return fmt.Sprintf("reading %s: %v", e.path, e.err) }
func (e *corruptError) Unwrap() error { return e.err }

func isCorrupt(err error) bool {
	var c *corruptError
	return errors.As(err, &c)
}

// checkedReader reads an entry within its budget: never more than its
// declared size; at the end, exactly that size and (for a zip member) the
// CRC-32 its header records.
type checkedReader struct {
	e   Entry
	rc  io.ReadCloser
	n   int64
	crc hash.Hash32
	err error
}

// openEntry opens an entry for reading through its budget.
func openEntry(e Entry) (*checkedReader, error) {
	if e.Open == nil {
		return nil, fmt.Errorf("reading %s: no content", e.Path)
	}
	rc, err := e.Open()
	if err != nil {
		if e.zip {
			return nil, &corruptError{e.Path, err}
		}
		return nil, fmt.Errorf("reading %s: %w", e.Path, err)
	}
	r := &checkedReader{e: e, rc: rc}
	if e.zip {
		r.crc = crc32.NewIEEE()
	}
	return r, nil
}

func (r *checkedReader) fail(err error) error {
	switch {
	case errors.Is(err, zip.ErrFormat):
		err = fmt.Errorf("holds more than the %d bytes its header declares, or is not stored as its header says", r.e.Size)
	case errors.Is(err, zip.ErrChecksum):
		err = errors.New("its CRC-32 does not match the one its header records: the data is damaged")
	case errors.Is(err, io.ErrUnexpectedEOF):
		err = fmt.Errorf("ends before the %d bytes its header declares", r.e.Size)
	case errors.As(err, new(flate.CorruptInputError)):
		err = fmt.Errorf("its compressed data is damaged (%v)", err)
	}
	if r.e.zip {
		r.err = &corruptError{r.e.Path, err}
	} else {
		r.err = fmt.Errorf("reading %s: %w", r.e.Path, err)
	}
	return r.err
}

func (r *checkedReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	// One byte past the budget is asked for, to see an overrun.
	if left := r.e.Size - r.n + 1; int64(len(p)) > left {
		p = p[:left]
	}
	k, err := r.rc.Read(p)
	r.n += int64(k)
	if r.crc != nil {
		r.crc.Write(p[:k])
	}
	if r.n > r.e.Size {
		return 0, r.fail(fmt.Errorf("holds more than the %d bytes its header declares", r.e.Size))
	}
	switch {
	case err == io.EOF:
		if r.n != r.e.Size {
			return k, r.fail(fmt.Errorf("ends after %d of the %d bytes its header declares", r.n, r.e.Size))
		}
		if r.crc != nil && r.crc.Sum32() != r.e.crc {
			return k, r.fail(fmt.Errorf("its CRC-32 is %08x but its header records %08x: the data is damaged", r.crc.Sum32(), r.e.crc))
		}
		r.err = io.EOF
	case err != nil:
		return k, r.fail(err)
	}
	return k, err
}

func (r *checkedReader) Close() error { return r.rc.Close() }

// drain reads the rest, so the size and CRC-32 are checked.
func (r *checkedReader) drain() error {
	_, err := io.Copy(io.Discard, r)
	return err
}

// readSmall reads a whole entry the checks parse as text, within limit.
func readSmall(e Entry, limit int64) ([]byte, error) {
	if e.Size > limit {
		return nil, fmt.Errorf("reading %s: it is %d bytes, more than the %d read here", e.Path, e.Size, limit)
	}
	r, err := openEntry(e)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// stream is a fetcher over an entry read from its start: the first
// headKeep bytes are kept, a forward fetch skips ahead (reading a window),
// and a fetch behind what was read starts a new pass from the beginning.
type stream struct {
	e        Entry
	r        *checkedReader
	pos      int64  // bytes read by the current pass
	head     []byte // bytes [0, len(head)) of the entry
	win      []byte // the last window read, at winOff
	winOff   int64
	passes   int
	verified bool // one pass has been read to the end (size, CRC-32)
}

// read reads n more bytes of the current pass (fewer at the end); in the
// first pass, what falls within headKeep is kept in the head.
func (s *stream) read(n int64) ([]byte, error) {
	start := s.pos
	var b []byte
	direct := start == int64(len(s.head)) && n <= headKeep-start
	if direct {
		// Within the head: read into it, not into a copy of it. The head
		// grows by doubling, never past headKeep.
		if int64(cap(s.head)) < start+n {
			nh := make([]byte, start, max(start+n, min(2*int64(cap(s.head)), headKeep)))
			copy(nh, s.head)
			s.head = nh
		}
		b = s.head[start : start+n]
	} else {
		b = make([]byte, n)
	}
	k, err := io.ReadFull(s.r, b)
	s.pos += int64(k)
	switch {
	case direct:
		s.head = s.head[:start+int64(k)]
	case start == int64(len(s.head)) && start < headKeep:
		s.head = append(s.head, b[:min(int64(k), headKeep-start)]...)
	}
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return nil, err
	}
	return b[:k], nil
}

// skip reads the current pass up to off, keeping the head.
func (s *stream) skip(off int64) error {
	for s.pos < off && s.pos == int64(len(s.head)) && s.pos < headKeep {
		b, err := s.read(min(off, headKeep) - s.pos)
		if err != nil {
			return err
		}
		if len(b) == 0 {
			return nil
		}
	}
	if s.pos < off {
		k, err := io.CopyN(io.Discard, s.r, off-s.pos)
		s.pos += k
		if err != nil && err != io.EOF {
			return err
		}
	}
	return nil
}

func (s *stream) restart() error {
	if s.passes >= maxPasses {
		return fmt.Errorf("reading %s: its dynamic section points backwards too often", s.e.Path)
	}
	if !s.verified {
		if err := s.r.drain(); err != nil {
			return err
		}
		s.verified = true
	}
	s.r.Close()
	r, err := openEntry(s.e)
	if err != nil {
		return err
	}
	s.r, s.pos, s.passes = r, 0, s.passes+1
	return nil
}

func (s *stream) fetch(off, n int64) ([]byte, error) {
	if off < 0 || n < 0 {
		return nil, fmt.Errorf("offset %d out of range", off)
	}
	if off >= s.e.Size {
		return nil, nil
	}
	n = min(n, s.e.Size-off)
	if off+n <= int64(len(s.head)) {
		return s.head[off : off+n], nil
	}
	if off >= s.winOff && off+n <= s.winOff+int64(len(s.win)) {
		return s.win[off-s.winOff : off-s.winOff+n], nil
	}
	if off < s.pos {
		if off < int64(len(s.head)) && s.pos == int64(len(s.head)) {
			// The range starts in the head and goes on from here.
			out := append([]byte(nil), s.head[off:]...)
			more, err := s.read(n - int64(len(out)))
			if err != nil {
				return nil, err
			}
			return append(out, more...), nil
		}
		if err := s.restart(); err != nil {
			return nil, err
		}
	}
	if err := s.skip(off); err != nil {
		return nil, err
	}
	if s.pos < off {
		return nil, nil // the entry ended first
	}
	b, err := s.read(max(n, min(fetchWindow, s.e.Size-off)))
	if err != nil {
		return nil, err
	}
	s.win, s.winOff = b, off
	return b[:min(n, int64(len(b)))], nil
}

// finish reads the entry to its end once (checking its size and CRC-32)
// unless a pass already has, when verify is set; it closes the stream.
func (s *stream) finish(verify bool) error {
	defer s.r.Close()
	if verify && !s.verified {
		return s.r.drain()
	}
	return nil
}
