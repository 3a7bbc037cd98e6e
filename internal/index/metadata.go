package index

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/lambdapack/lambdapack/internal/names"
	"github.com/lambdapack/lambdapack/internal/netlimit"
)

// maxMetadata bounds a METADATA file (real ones are well under 1 MiB).
const maxMetadata = 16 << 20

// tailSize is the first suffix range fetched from a wheel: the end of
// central directory record and, for most wheels, the whole directory.
const tailSize = 64 << 10

// maxCentralDir bounds a wheel's central directory read with a range
// request (a wheel of 100,000 files has about 10 MiB of it).
const maxCentralDir = 64 << 20

// maxRangeBytes bounds all the range requests made to read one wheel's
// METADATA: the tail, the central directory and the member.
const maxRangeBytes = tailSize + maxCentralDir + maxMetadata + 1<<20

// spillAt is how much of a whole wheel (from a server that ignores
// ranges) is held in memory before it goes to a temporary file.
const spillAt = 32 << 20

// maxWheelSize bounds a wheel whose size the index does not give.
const maxWheelSize = 8 << 30

// Metadata returns a distribution's core metadata (the wheel's METADATA):
// the PEP 658 file when the index has one (its hash checked when given),
// else read from the wheel with HTTP range requests on its central
// directory, falling back to a full download when the server ignores
// ranges. Results are cached on disk when a cache folder is set.
func (c *Client) Metadata(ctx context.Context, f File) ([]byte, error) {
	wrap := func(err error) error {
		return &Error{Op: "reading the metadata of " + f.Filename, Index: f.Index, URL: Redact(f.URL), Err: err}
	}
	if path, ok := localPath(f.URL); ok {
		if err := c.localAllowed(f); err != nil {
			return nil, wrap(err)
		}
		b, err := localWheelMetadata(path, f.Filename)
		if err != nil {
			return nil, wrap(err)
		}
		return b, nil
	}
	if !f.IsWheel() && f.MetadataURL == "" {
		return nil, wrap(fmt.Errorf("%s is not a wheel and the index offers no metadata file for it (building sdists is not supported)", f.Filename))
	}
	// Metadata files are stored by their own sha256: the index's, when it
	// gives one, else the one a pointer keyed by the wheel records.
	ev := Event{Kind: EventMetadata, File: f.Filename, URL: Redact(f.URL)}
	metaSum := ""
	if f.MetadataURL != "" {
		metaSum = f.MetadataHashes["sha256"]
	}
	ptr := key("meta", f.URL, f.Hashes["sha256"])
	b := c.cache.loadMeta(metaSum)
	if b == nil {
		b = c.cache.loadMeta(c.cache.loadMetaPointer(ptr))
	}
	if b != nil && (f.MetadataURL == "" || checkHashes(b, f.MetadataHashes) == nil) {
		ev.Cached = true
		c.report(ev)
		return b, nil
	}
	if c.offline {
		return nil, wrap(fmt.Errorf("%w (run once without --offline to fill the cache)", ErrOffline))
	}
	var data []byte
	if f.MetadataURL != "" {
		resp, err := c.fetchAll(ctx, f.MetadataURL, nil, getOpts{what: "the metadata file", limit: maxMetadata})
		if err != nil {
			return nil, wrap(err)
		}
		switch {
		case resp.Status == http.StatusOK:
			if err := checkHashes(resp.Body, f.MetadataHashes); err != nil {
				return nil, wrap(fmt.Errorf("metadata file %s: %w", Redact(f.MetadataURL), err))
			}
			data = resp.Body
			ev.Bytes = int64(len(data))
		case (resp.Status == http.StatusNotFound || resp.Status == http.StatusGone) && f.IsWheel():
			c.log.Debug("index announced a metadata file it does not serve; reading the wheel", "file", f.Filename)
		default:
			return nil, wrap(fmt.Errorf("metadata file %s: %w", Redact(f.MetadataURL), &statusError{Status: resp.Status}))
		}
	}
	if data == nil {
		var err error
		var n int64
		data, n, err = c.wheelMetadata(ctx, f)
		if err != nil {
			return nil, wrap(err)
		}
		ev.Bytes = n
	}
	c.report(ev)
	if got := sha256.Sum256(data); hex.EncodeToString(got[:]) == metaSum {
		ptr = "" // found by the index's hash next time
	}
	if err := c.cache.storeMeta(ptr, data); err != nil {
		c.log.Warn("not caching metadata", "err", err)
	}
	return data, nil
}

// checkHashes verifies data against every hash it knows how to compute;
// unknown algorithms are ignored.
func checkHashes(data []byte, hashes map[string]string) error {
	for alg, want := range hashes {
		var h hash.Hash
		switch alg {
		case "sha256":
			h = sha256.New()
		case "sha384":
			h = sha512.New384()
		case "sha512":
			h = sha512.New()
		case "sha224":
			h = sha256.New224()
		case "sha1":
			h = sha1.New()
		case "md5":
			h = md5.New()
		default:
			continue
		}
		h.Write(data)
		if got := hex.EncodeToString(h.Sum(nil)); got != strings.ToLower(want) {
			return fmt.Errorf("%w: %s is %s, the index says %s", ErrHash, alg, got, want)
		}
	}
	return nil
}

// wheelMetadata reads METADATA out of a remote wheel with range requests.
// It returns the bytes received too. A server that ignores ranges sends
// the whole wheel, which is read as a stream into memory or, past
// spillAt, a temporary file, and bounded by the wheel's size.
func (c *Client) wheelMetadata(ctx context.Context, f File) ([]byte, int64, error) {
	var whole int64
	readWhole := func(body io.Reader, resp *http.Response) ([]byte, error) {
		limit := int64(maxWheelSize)
		if f.Size > 0 {
			limit = f.Size
		}
		if resp.ContentLength > limit {
			return nil, &tooLargeError{what: "the wheel", limit: limit, declared: resp.ContentLength}
		}
		sp, err := spool(body, limit)
		whole = sp.size
		if err != nil {
			return nil, err
		}
		defer sp.Close()
		c.log.Debug("server ignores range requests; downloaded the whole wheel", "file", f.Filename, "bytes", sp.size)
		md, err := metadataFromZip(sp, sp.size, f.Filename)
		if err != nil {
			return nil, &permanentError{err}
		}
		return md, nil
	}
	hdr := http.Header{"Range": {"bytes=-" + strconv.Itoa(tailSize)}, "Accept-Encoding": {"identity"}}
	resp, err := c.fetchAll(ctx, f.URL, hdr, getOpts{what: "the end of the wheel", limit: tailSize, ranged: true, whole: readWhole, attempt: c.lim.DownloadTimeout})
	if err != nil {
		return nil, whole, err
	}
	got := int64(len(resp.Body))
	switch resp.Status {
	case http.StatusOK:
		// The server ignored the range: readWhole had the whole wheel.
		return resp.Body, whole, nil
	case http.StatusPartialContent:
	case http.StatusRequestedRangeNotSatisfiable:
		full, err := c.fetchAll(ctx, f.URL, http.Header{"Accept-Encoding": {"identity"}}, getOpts{what: "the wheel", whole: readWhole, attempt: c.lim.DownloadTimeout})
		if err != nil {
			return nil, got + whole, err
		}
		if full.Status != http.StatusOK {
			return nil, got, &statusError{Status: full.Status}
		}
		return full.Body, got + whole, nil
	default:
		return nil, got, &statusError{Status: resp.Status}
	}
	start, total, err := parseContentRange(resp.Header.Get("Content-Range"))
	if err != nil {
		return nil, got, err
	}
	if start+int64(len(resp.Body)) != total {
		return nil, got, fmt.Errorf("%w: range response of %d bytes at %d does not reach the end (%d)", ErrTruncated, len(resp.Body), start, total)
	}
	ra := &rangeReaderAt{c: c, ctx: ctx, url: f.URL, size: total, fetched: got}
	ra.add(start, resp.Body)
	// Prefetch the whole central directory in one request when the tail
	// does not hold it, instead of letting archive/zip read it piecemeal.
	if cdStart, ok := centralDirStart(resp.Body, start); ok && cdStart < start {
		if start-cdStart > maxCentralDir {
			return nil, got, fmt.Errorf("%s: the zip directory is %d bytes, more than the %s a wheel's can be", f.Filename, start-cdStart, netlimit.HumanSize(maxCentralDir))
		}
		if _, err := ra.fetch(cdStart, start-cdStart); err != nil {
			return nil, ra.fetched, err
		}
	}
	md, err := metadataFromZip(ra, total, f.Filename)
	c.log.Debug("read metadata with range requests", "file", f.Filename, "requests", ra.requests+1, "bytes", ra.fetched, "of", total)
	return md, ra.fetched, err
}

// spooled is a stream read to its end: in memory, or in a temporary file
// already unlinked where the system allows it (so a killed run leaves
// nothing behind).
type spooled struct {
	io.ReaderAt
	size int64
	file *os.File
}

func (s *spooled) Close() error {
	if s.file == nil {
		return nil
	}
	err := s.file.Close()
	os.Remove(s.file.Name())
	return err
}

// spool reads r to its end, at most limit bytes (past it: ErrTooLarge).
func spool(r io.Reader, limit int64) (*spooled, error) {
	lr := io.LimitReader(r, limit+1)
	var buf bytes.Buffer
	n, err := io.CopyN(&buf, lr, spillAt)
	if err == io.EOF {
		return &spooled{ReaderAt: bytes.NewReader(buf.Bytes()), size: n}, nil
	}
	if err != nil {
		return &spooled{size: n}, err
	}
	f, err := os.CreateTemp("", "lambdapack-wheel-*")
	if err != nil {
		return &spooled{size: n}, &permanentError{fmt.Errorf("spooling a wheel to a temporary file: %w", err)}
	}
	os.Remove(f.Name()) // fails harmlessly where an open file cannot be removed
	sp := &spooled{ReaderAt: f, file: f, size: n}
	if _, err := f.Write(buf.Bytes()); err != nil {
		sp.Close()
		return sp, &permanentError{fmt.Errorf("spooling a wheel to a temporary file: %w", err)}
	}
	buf = bytes.Buffer{}
	m, err := io.Copy(f, lr)
	sp.size += m
	if err != nil {
		sp.Close()
		return sp, err
	}
	if sp.size > limit {
		sp.Close()
		return sp, &tooLargeError{what: "the wheel", limit: limit, declared: -1}
	}
	return sp, nil
}

func parseContentRange(v string) (start, total int64, err error) {
	// "bytes 100-199/200"
	rest, ok := strings.CutPrefix(v, "bytes ")
	if !ok {
		return 0, 0, fmt.Errorf("bad Content-Range %q", v)
	}
	rng, tot, ok := strings.Cut(rest, "/")
	s, _, ok2 := strings.Cut(rng, "-")
	if !ok || !ok2 {
		return 0, 0, fmt.Errorf("bad Content-Range %q", v)
	}
	start, err1 := strconv.ParseInt(s, 10, 64)
	total, err2 := strconv.ParseInt(tot, 10, 64)
	if err1 != nil || err2 != nil || start < 0 || total <= start {
		return 0, 0, fmt.Errorf("bad Content-Range %q", v)
	}
	return start, total, nil
}

// centralDirStart finds where the central directory begins from the end
// of central directory record (or its zip64 version) in the tail of a zip
// that starts at offset base in the file.
func centralDirStart(tail []byte, base int64) (int64, bool) {
	i := bytes.LastIndex(tail, []byte{'P', 'K', 5, 6})
	if i < 0 || len(tail)-i < 22 {
		return 0, false
	}
	off := int64(binary.LittleEndian.Uint32(tail[i+16:]))
	if off != 0xFFFFFFFF {
		return off, true
	}
	// zip64: the locator sits just before the EOCD record.
	l := i - 20
	if l < 0 || !bytes.Equal(tail[l:l+4], []byte{'P', 'K', 6, 7}) {
		return 0, false
	}
	rec := int64(binary.LittleEndian.Uint64(tail[l+8:])) - base
	if rec < 0 || rec+56 > int64(len(tail)) || !bytes.Equal(tail[rec:rec+4], []byte{'P', 'K', 6, 6}) {
		return 0, false
	}
	return int64(binary.LittleEndian.Uint64(tail[rec+48:])), true
}

// metadataFromZip finds and reads the .dist-info/METADATA of a wheel.
func metadataFromZip(r io.ReaderAt, size int64, filename string) ([]byte, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("reading the wheel's zip directory: %w", err)
	}
	want := ""
	if parts := strings.SplitN(strings.TrimSuffix(filename, ".whl"), "-", 3); len(parts) >= 2 {
		want = names.Canonical(parts[0]) + "-" + parts[1]
	}
	var cands []*zip.File
	for _, zf := range zr.File {
		dir, base, ok := strings.Cut(zf.Name, "/")
		if ok && base == "METADATA" && strings.HasSuffix(dir, ".dist-info") {
			cands = append(cands, zf)
		}
	}
	if len(cands) == 0 {
		return nil, fmt.Errorf("%s has no .dist-info/METADATA (not a valid wheel)", filename)
	}
	pick := cands[0]
	for _, zf := range cands {
		dir := strings.TrimSuffix(strings.SplitN(zf.Name, "/", 2)[0], ".dist-info")
		if n, v, ok := strings.Cut(dir, "-"); ok && names.Canonical(n)+"-"+v == want {
			pick = zf
			break
		}
	}
	if h, ok := r.(interface{ hint(n int64) }); ok {
		// The local header plus the compressed member, in one request
		// (no more than a METADATA file can be).
		h.hint(30 + int64(len(pick.Name)) + int64(len(pick.Extra)) + 512 + int64(min(pick.CompressedSize64, maxMetadata)))
	}
	if pick.UncompressedSize64 > maxMetadata {
		return nil, fmt.Errorf("%s: %s is %d bytes, more than a METADATA file can reasonably be", filename, pick.Name, pick.UncompressedSize64)
	}
	rc, err := pick.Open()
	if err != nil {
		return nil, fmt.Errorf("opening %s in %s: %w", pick.Name, filename, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxMetadata+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s in %s: %w", pick.Name, filename, err)
	}
	return b, nil
}

func localWheelMetadata(path, filename string) ([]byte, error) {
	if !strings.HasSuffix(strings.ToLower(path), ".whl") {
		return nil, fmt.Errorf("%s is not a wheel (building sdists is not supported)", path)
	}
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, err
	}
	return metadataFromZip(fh, st.Size(), filename)
}

// rangeReaderAt serves ReadAt from fetched chunks, fetching misses with
// range requests of at least minChunk bytes.
type rangeReaderAt struct {
	c    *Client
	ctx  context.Context
	url  string
	size int64

	mu       sync.Mutex
	chunks   []chunk // sorted by off, non-overlapping not required
	requests int
	fetched  int64
	next     int64 // size of the next miss's fetch, when known
}

func (r *rangeReaderAt) hint(n int64) {
	r.mu.Lock()
	r.next = n
	r.mu.Unlock()
}

type chunk struct {
	off  int64
	data []byte
}

const minChunk = 64 << 10

func (r *rangeReaderAt) add(off int64, data []byte) {
	r.chunks = append(r.chunks, chunk{off, data})
	sort.Slice(r.chunks, func(i, j int) bool { return r.chunks[i].off < r.chunks[j].off })
	// Coalesce touching or overlapping chunks so reads that straddle a
	// boundary are served without another request.
	out := r.chunks[:1]
	for _, ch := range r.chunks[1:] {
		last := &out[len(out)-1]
		end := last.off + int64(len(last.data))
		if ch.off > end {
			out = append(out, ch)
			continue
		}
		if chEnd := ch.off + int64(len(ch.data)); chEnd > end {
			merged := make([]byte, 0, chEnd-last.off)
			merged = append(merged, last.data...)
			merged = append(merged, ch.data[end-ch.off:]...)
			last.data = merged
		}
	}
	r.chunks = out
}

func (r *rangeReaderAt) find(off, n int64) []byte {
	for _, ch := range r.chunks {
		if off >= ch.off && off+n <= ch.off+int64(len(ch.data)) {
			return ch.data[off-ch.off : off-ch.off+n]
		}
	}
	return nil
}

func (r *rangeReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off >= r.size {
		return 0, io.EOF
	}
	n := int64(len(p))
	var err error
	if off+n > r.size {
		n = r.size - off
		err = io.EOF
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if b := r.find(off, n); b != nil {
		return copy(p, b), err
	}
	want := max(n, minChunk)
	if r.next > 0 {
		want, r.next = max(n, r.next), 0
	}
	if off+want > r.size {
		want = r.size - off
	}
	b, ferr := r.fetchLocked(off, want)
	if ferr != nil {
		return 0, ferr
	}
	return copy(p[:n], b), err
}

func (r *rangeReaderAt) fetch(off, n int64) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fetchLocked(off, n)
}

func (r *rangeReaderAt) fetchLocked(off, n int64) ([]byte, error) {
	if r.fetched+n > maxRangeBytes {
		return nil, fmt.Errorf("reading the wheel's METADATA would take more than %s of range requests; the wheel looks malformed", netlimit.HumanSize(maxRangeBytes))
	}
	hdr := http.Header{"Range": {fmt.Sprintf("bytes=%d-%d", off, off+n-1)}, "Accept-Encoding": {"identity"}}
	resp, err := r.c.fetchAll(r.ctx, r.url, hdr, getOpts{what: "a range of the wheel", limit: n, ranged: true})
	if err != nil {
		return nil, err
	}
	r.requests++
	r.fetched += int64(len(resp.Body))
	if resp.Status != http.StatusPartialContent {
		return nil, fmt.Errorf("range request answered %w", &statusError{Status: resp.Status})
	}
	start, _, err := parseContentRange(resp.Header.Get("Content-Range"))
	if err != nil {
		return nil, err
	}
	if start != off || int64(len(resp.Body)) < n {
		return nil, errors.New("range response does not cover the requested bytes")
	}
	r.add(off, resp.Body)
	return resp.Body[:n], nil // copied by add when merged; this slice stays valid
}
