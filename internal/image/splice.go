package image

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"sync"

	"github.com/klauspost/compress/flate"
	"golang.org/x/sync/semaphore"

	"github.com/lambdapack/lambdapack/internal/tree"
)

// A layer's gzip stream is written without recompressing what is already
// deflated: a wheel member's raw deflate data goes into the stream as it
// is, between blocks lambdapack compresses itself (tar headers, padding,
// small and generated files, code), the technique of zlib's gzjoin:
//
//   - the member's last block has its BFINAL bit cleared, so the stream
//     goes on after it;
//   - where the member ends inside a byte, an empty stored block (three
//     zero header bits, zero padding to the byte, LEN 0000 NLEN ffff)
//     brings the stream back to a byte boundary;
//   - lambdapack's own blocks start from a reset compressor and end with a
//     sync flush (an empty stored block), so none refers back across a
//     member and each member starts on a byte boundary;
//   - the stream's CRC-32 and size are those of the tar, computed as it is
//     hashed for the diffID.
//
// Inflating a member (for the diffID's sha256 and to find its last block)
// costs a fraction of deflating it again, so a cold layer costs about what
// a zip of the same files does. On a cold build the same pass checks each
// member against its wheel's RECORD (a tree.File that is Unchecked: its
// sha256 is taken as it is inflated, and a mismatch fails the write), so
// that install need not inflate it first (install.Options.DeferCheck).

// spliceMin is the smallest compressed member spliced: below it, the
// reader's setup costs more than compressing the bytes again, and the
// small files compress better together.
const spliceMin = 4 << 10

// spliceable reports whether f's bytes can be copied raw into a layer.
func spliceable(m *zip.File) bool {
	return m != nil && m.Method == zip.Deflate && m.CompressedSize64 >= spliceMin
}

// gzipHeader starts every layer: no name, no mtime, unknown OS, so that it
// depends on nothing but the content.
var gzipHeader = []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}

// splicer writes one gzip member whose deflate stream mixes blocks of its
// own compressor and raw deflate data spliced in.
type splicer struct {
	out  io.Writer // the compressed stream
	comp *flate.Writer
	// pending: bytes went to comp since it was last flushed.
	pending bool
}

func newSplicer(out io.Writer, level int) (*splicer, error) {
	if _, err := out.Write(gzipHeader); err != nil {
		return nil, err
	}
	comp, err := flate.NewWriter(out, level)
	if err != nil {
		return nil, err
	}
	return &splicer{out: out, comp: comp}, nil
}

// Write compresses p.
func (s *splicer) Write(p []byte) (int, error) {
	if len(p) > 0 {
		s.pending = true
	}
	return s.comp.Write(p)
}

// align ends what was compressed so far on a byte boundary, with no block
// marked final, and makes the compressor forget it: raw data may follow.
func (s *splicer) align() error {
	if s.pending {
		if err := s.comp.Flush(); err != nil {
			return err
		}
		s.pending = false
	}
	s.comp.Reset(s.out)
	return nil
}

// close ends the deflate stream with a final block and writes the gzip
// trailer: the CRC-32 and size (mod 2^32) of everything the stream holds.
func (s *splicer) close(crc uint32, size int64) error {
	if err := s.comp.Close(); err != nil {
		return err
	}
	var tr [8]byte
	binary.LittleEndian.PutUint32(tr[:4], crc)
	binary.LittleEndian.PutUint32(tr[4:], uint32(size))
	_, err := s.out.Write(tr[:])
	return err
}

// blockEnds is what inflating a deflate stream taught about its blocks: the
// bit where its final block starts, and the bit where the stream ends.
type blockEnds struct {
	final, end int64
	done       bool
}

// countingReader counts the bytes read from r.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// inflateMember inflates m's raw deflate data into w, and says where its
// last block starts and where it ends. It checks the member's size and
// CRC-32 against the central directory, and returns the CRC-32 of the raw
// bytes read, so the copy can be checked to be of the same bytes.
//
// The decompressor reports where each block ends. After a stored block its
// byte count runs ahead by the whole bytes it had buffered (klauspost/compress
// 1.20 counts them twice), so each block's type is read from its header and
// a stored block's end taken from the bytes the decompressor consumed, which
// is exact there (nothing is buffered after a stored block); the
// difference corrects the positions reported after it.
func inflateMember(m *zip.File, w io.Writer) (blockEnds, uint32, error) {
	var be blockEnds
	raw, err := m.OpenRaw()
	if err != nil {
		return be, 0, err
	}
	at, ok := raw.(io.ReaderAt)
	if !ok {
		return be, 0, errors.New("its raw bytes cannot be read at an offset")
	}
	rawCRC := crc32.NewIEEE()
	cr := &countingReader{r: io.TeeReader(raw, rawCRC)}
	br := bufReaders.Get().(*bufio.Reader)
	br.Reset(cr)
	defer bufReaders.Put(br)
	// The bytes the decompressor took (it reads a *bufio.Reader directly,
	// its fastest path).
	consumed := func() int64 { return cr.n - int64(br.Buffered()) }
	var start, drift int64 // the current block's first bit; bits the reports run ahead
	var cbErr error
	fr := flate.NewReaderOpts(br, flate.WithEobCallback(func(cp flate.InflateCheckpoint) {
		if cbErr != nil {
			return
		}
		reported := cp.CompressedOffset*8 + int64(cp.BitOffset)
		typ, err := blockType(at, start)
		if err != nil {
			cbErr = err
			return
		}
		end := reported - drift
		if typ == 0 {
			end = consumed() * 8
			drift = reported - end
		}
		if cp.Final {
			be.final, be.end, be.done = start, end, true
		}
		start = end
	}))
	defer fr.Close()
	crc := crc32.NewIEEE()
	n, err := io.Copy(io.MultiWriter(w, crc), fr)
	if err == nil {
		err = cbErr
	}
	if err != nil {
		return be, 0, err
	}
	switch {
	case uint64(n) != m.UncompressedSize64:
		return be, 0, fmt.Errorf("inflates to %d bytes, the zip says %d", n, m.UncompressedSize64)
	case crc.Sum32() != m.CRC32:
		return be, 0, errors.New("CRC-32 differs from the zip's")
	case !be.done || be.end > int64(m.CompressedSize64)*8 || (be.end+7)/8 != consumed():
		return be, 0, fmt.Errorf("its deflate stream's end (bit %d) is not where its bytes end (byte %d)", be.end, consumed())
	}
	// The rest of the raw bytes, if any, for the CRC of what was read.
	if _, err := io.Copy(io.Discard, br); err != nil {
		return be, 0, err
	}
	return be, rawCRC.Sum32(), nil
}

// blockType reads the type (BTYPE) of the deflate block whose header starts
// at bit pos.
func blockType(at io.ReaderAt, pos int64) (int, error) {
	var b [2]byte
	n, err := at.ReadAt(b[:], pos/8)
	if n == 0 {
		return 0, fmt.Errorf("reading a deflate block header: %w", err)
	}
	v := uint16(b[0]) | uint16(b[1])<<8
	return int(v>>(pos%8+1)) & 3, nil
}

var bufReaders = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 64<<10) }}
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

// splice copies m's raw deflate data into the stream as non-final blocks
// ending on a byte boundary, given where inflateMember found its blocks. The
// raw bytes must have the CRC-32 inflateMember saw.
func (s *splicer) splice(m *zip.File, be blockEnds, rawCRC uint32) error {
	raw, err := m.OpenRaw()
	if err != nil {
		return err
	}
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	buf := *bp
	crc := crc32.NewIEEE()
	n := (be.end + 7) / 8 // bytes holding the stream
	endBits := be.end % 8
	var off int64
	for {
		k, err := raw.Read(buf)
		if k > 0 {
			crc.Write(buf[:k])
			chunk := buf[:k]
			if off+int64(k) > n {
				chunk = buf[:max(0, n-off)]
			}
			// Clear BFINAL of the last block.
			if i := be.final/8 - off; i >= 0 && i < int64(len(chunk)) {
				chunk[i] &^= 1 << (be.final % 8)
			}
			// Zero the bits after the stream's end in its last byte:
			// the start of an empty stored block.
			if i := n - 1 - off; endBits != 0 && i >= 0 && i < int64(len(chunk)) {
				chunk[i] &= 1<<endBits - 1
			}
			if _, err := s.out.Write(chunk); err != nil {
				return err
			}
			off += int64(k)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	if crc.Sum32() != rawCRC {
		return errors.New("its compressed bytes changed while building")
	}
	if endBits == 0 {
		return nil // already on a byte boundary: the next block starts here
	}
	// The rest of the stored block's header: when the last byte had room
	// for its three bits the padding is done; else one more zero byte.
	tail := []byte{0, 0, 0xff, 0xff}
	if endBits > 5 {
		tail = []byte{0, 0, 0, 0xff, 0xff}
	}
	_, err = s.out.Write(tail)
	return err
}

// hashWriter feeds the tar's bytes to its hashes.
type hashWriter struct {
	sha hash.Hash
	crc hash.Hash32
	n   int64
	// to receives the bytes too, unless nil (while a spliced member's
	// content is hashed: its compressed form is copied, not compressed).
	to io.Writer
}

func (h *hashWriter) Write(p []byte) (int, error) {
	h.sha.Write(p)
	h.crc.Write(p)
	h.n += int64(len(p))
	if h.to != nil {
		return h.to.Write(p)
	}
	return len(p), nil
}

// Wheel members are inflated ahead of the tar, in parallel, into memory:
// at most prefetchBudget bytes at once, each member at most prefetchMax (a
// larger one is inflated as the tar reaches it, streaming, while the others
// are inflated ahead). The tar's hashes must see the bytes in order, so the
// parallel part is the inflating, and for an Unchecked file the sha256 its
// RECORD is held to: the members spliced (inflated for the diffID, their
// block ends found) and the small ones compressed again (inflated through
// tree.File.Open, as copyFile reads them), which on a workload of many
// small files (botocore's JSON) are most of the files.
const (
	prefetchBudget = 64 << 20
	prefetchMax    = 16 << 20
)

// inflated is a member inflated ahead.
type inflated struct {
	data   []byte
	be     blockEnds
	rawCRC uint32
	sum    []byte // sha256 of data, for an Unchecked file that splices
	// copied: the file does not splice; data is what copyFile read (and
	// checked), err what it returned.
	copied bool
	err    error
	done   chan struct{}
}

// prefetcher inflates the wheel members of a layer ahead of the writer.
type prefetcher struct {
	sem    *semaphore.Weighted
	ahead  map[*tree.File]*inflated
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// prefetchCost is what f inflated ahead holds of the budget.
func prefetchCost(f *tree.File) int64 {
	return max(1, int64(f.Member.UncompressedSize64), f.Size)
}

// prefetch starts inflating files' wheel members that fit, in order, with
// up to workers at once (hashing those of Unchecked files).
func prefetch(ctx context.Context, files []*tree.File, workers int) *prefetcher {
	ctx, cancel := context.WithCancel(ctx)
	p := &prefetcher{sem: semaphore.NewWeighted(prefetchBudget), ahead: map[*tree.File]*inflated{}, cancel: cancel}
	var todo []*tree.File
	for _, f := range files {
		if f.Origin == tree.FromWheel && f.Member != nil && f.Member.UncompressedSize64 <= prefetchMax && f.Size <= prefetchMax {
			p.ahead[f] = &inflated{done: make(chan struct{}), copied: !splices(f)}
			todo = append(todo, f)
		}
	}
	slots := make(chan struct{}, max(1, workers))
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for _, f := range todo {
			in := p.ahead[f]
			cost := prefetchCost(f)
			// In order: the writer releases what it used, so the member
			// it waits for always gets its turn.
			if err := p.sem.Acquire(ctx, cost); err != nil {
				in.err = err
				close(in.done)
				continue
			}
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				p.sem.Release(cost)
				in.err = ctx.Err()
				close(in.done)
				continue
			}
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				defer func() { <-slots }()
				buf := bytes.NewBuffer(make([]byte, 0, f.Size))
				if in.copied {
					in.err = copyFile(buf, f)
					in.data = buf.Bytes()
					close(in.done)
					return
				}
				var w io.Writer = buf
				var h hash.Hash
				if f.Unchecked {
					h = sha256.New()
					w = io.MultiWriter(buf, h)
				}
				in.be, in.rawCRC, in.err = inflateMember(f.Member, w)
				in.data = buf.Bytes()
				if h != nil {
					in.sum = h.Sum(nil)
				}
				close(in.done)
			}()
		}
	}()
	return p
}

// get returns f inflated ahead, waiting for it, or nil when f is read by
// the writer itself. Call release when done with it.
func (p *prefetcher) get(ctx context.Context, f *tree.File) (*inflated, error) {
	in := p.ahead[f]
	if in == nil {
		return nil, nil
	}
	select {
	case <-in.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return in, in.err
}

// release gives back what f inflated ahead held. A member whose
// inflating failed keeps its share: the write stops there.
func (p *prefetcher) release(f *tree.File) {
	if in := p.ahead[f]; in != nil && in.err == nil {
		in.data = nil
		p.sem.Release(prefetchCost(f))
	}
}

// stop cancels what is not done and waits for the workers.
func (p *prefetcher) stop() {
	p.cancel()
	p.wg.Wait()
}
