package image

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"os"
	"path"
	"runtime"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"

	"github.com/lambdapack/lambdapack/internal/tree"
)

// GzipLevel is the compression level of what lambdapack compresses itself
// in a layer: tar headers, files under 4 KiB compressed, generated files,
// code. Deflated wheel members are copied as they are (splice.go), so on the
// data workload (numpy, pandas, pyarrow: a 249 MB tar) 95% of the bytes are
// never compressed again and the level costs little: level 6 writes the
// layer in the same CPU time as level 1 (1.3 s, most of it inflating for
// the diffID) and 0.6 MB smaller (72.0 MB against 72.5 MB); level 9 takes
// 0.8 s more for 0.1 MB. It is part of the layer's identity: the same files
// at the same level give the same digest on every machine (the compressor
// is pinned in go.mod).
const GzipLevel = 6

// layerFormat versions how WriteLayer lays out a tar: a change to it must
// change every cache key.
const layerFormat = "lambdapack-layer-v2"

// LayerOptions say where a layer's files go and how it is stamped.
type LayerOptions struct {
	// Root is the folder the files go under, slash-separated without a
	// leading slash ("var/task/"); "" puts them at the image's root.
	Root string
	// Epoch is every entry's modification time.
	Epoch time.Time
	// MediaType is the layer's media type: types.DockerLayer under a
	// Docker manifest, types.OCILayer under an OCI one.
	MediaType types.MediaType
}

// LayerInfo describes a written layer.
type LayerInfo struct {
	Digest  v1.Hash `json:"digest"`  // of the gzipped bytes
	DiffID  v1.Hash `json:"diff_id"` // of the tar
	Size    int64   `json:"size"`    // gzipped bytes
	TarSize int64   `json:"tar_size"`
	Files   int     `json:"files"`
	Bytes   int64   `json:"bytes"` // the files' total size
	// Spliced counts the files whose deflated bytes were copied from their
	// wheel instead of compressed again.
	Spliced   int             `json:"spliced"`
	MediaType types.MediaType `json:"media_type"`
}

// Epoch is the modification time of every entry lambdapack writes into an
// image: SOURCE_DATE_EPOCH (seconds) when set, else the Unix epoch.
func Epoch() (time.Time, error) {
	s := strings.TrimSpace(os.Getenv("SOURCE_DATE_EPOCH"))
	if s == "" {
		return time.Unix(0, 0).UTC(), nil
	}
	var n int64
	if _, err := fmt.Sscan(s, &n); err != nil || n < 0 || fmt.Sprint(n) != s {
		return time.Time{}, fmt.Errorf("reading SOURCE_DATE_EPOCH=%q: not a whole number of seconds; unset it or set it to e.g. 315532800", s)
	}
	return time.Unix(n, 0).UTC(), nil
}

type layerEntry struct {
	name string // slash-separated; folders end in "/"
	file *tree.File
}

// layerEntries lists files and every parent folder, sorted by name (a
// folder before what it holds).
func layerEntries(files []*tree.File, root string) ([]layerEntry, error) {
	root = strings.Trim(root, "/")
	if root != "" {
		root += "/"
	}
	dirs := map[string]bool{}
	var out []layerEntry
	seen := map[string]bool{}
	for _, f := range files {
		p := f.Path
		if p == "" || strings.HasPrefix(p, "/") || path.Clean(p) != p || p == ".." || strings.HasPrefix(p, "../") {
			return nil, fmt.Errorf("%q is not a clean relative path: refusing to put it in a layer", f.Path)
		}
		name := root + p
		if seen[name] {
			return nil, fmt.Errorf("%s is planned twice", name)
		}
		seen[name] = true
		out = append(out, layerEntry{name: name, file: f})
		for d := path.Dir(name); d != "." && d != "/" && !dirs[d]; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	for d := range dirs {
		if seen[d] {
			return nil, fmt.Errorf("%s is both a file and a folder", d)
		}
		out = append(out, layerEntry{name: d + "/"})
	}
	slices.SortFunc(out, func(a, b layerEntry) int { return strings.Compare(a.name, b.name) })
	return out, nil
}

// WriteLayer writes files as one gzipped tar to w: sorted by path, every
// parent folder included (0755), files 0644 or 0755, uid and gid 0, every
// mtime o.Epoch. A wheel member already deflated is copied into the gzip
// stream as it is (see splice.go); the rest is compressed at GzipLevel.
// The same files and options give the same bytes.
func WriteLayer(ctx context.Context, w io.Writer, files []*tree.File, o LayerOptions) (LayerInfo, error) {
	info := LayerInfo{MediaType: o.MediaType}
	if info.MediaType == "" {
		info.MediaType = types.OCILayer
	}
	entries, err := layerEntries(files, o.Root)
	if err != nil {
		return info, err
	}
	zh := sha256.New()
	zc := &counter{w: io.MultiWriter(w, zh)}
	bw := bufio.NewWriterSize(zc, 256<<10)
	sp, err := newSplicer(bw, GzipLevel)
	if err != nil {
		return info, err
	}
	th := &hashWriter{sha: sha256.New(), crc: crc32.NewIEEE(), to: sp}
	tw := tar.NewWriter(th)
	var members []*tree.File
	for _, e := range entries {
		if e.file != nil {
			members = append(members, e.file)
		}
	}
	pf := prefetch(ctx, members, runtime.GOMAXPROCS(0))
	defer pf.stop()
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return info, err
		}
		hdr := &tar.Header{Name: e.name, ModTime: o.Epoch, Format: tar.FormatPAX}
		if e.file == nil {
			hdr.Typeflag, hdr.Mode = tar.TypeDir, 0o755
			if err := tw.WriteHeader(hdr); err != nil {
				return info, fmt.Errorf("writing %s into a layer: %w", e.name, err)
			}
			continue
		}
		hdr.Typeflag, hdr.Mode, hdr.Size = tar.TypeReg, 0o644, e.file.Size
		if e.file.Executable() {
			hdr.Mode = 0o755
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return info, fmt.Errorf("writing %s into a layer: %w", e.name, err)
		}
		if splices(e.file) {
			if err := spliceFile(ctx, pf, sp, th, tw, e.file); err != nil {
				return info, err
			}
			info.Spliced++
		} else if err := copyAhead(ctx, pf, tw, e.file); err != nil {
			return info, err
		}
		info.Files++
		info.Bytes += e.file.Size
	}
	if err := tw.Close(); err != nil {
		return info, fmt.Errorf("finishing a layer's tar: %w", err)
	}
	if err := sp.close(th.crc.Sum32(), th.n); err != nil {
		return info, fmt.Errorf("finishing a layer's gzip: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return info, fmt.Errorf("writing a layer: %w", err)
	}
	info.Digest = v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(zh.Sum(nil))}
	info.DiffID = v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(th.sha.Sum(nil))}
	info.Size, info.TarSize = zc.n, th.n
	return info, nil
}

// splices reports whether f's content is spliced into the gzip stream.
func splices(f *tree.File) bool {
	return f.Origin == tree.FromWheel && spliceable(f.Member) && uint64(f.Size) == f.Member.UncompressedSize64
}

// spliceFile puts a deflated wheel member's content into the layer: its
// inflated bytes (from the prefetcher, or inflated now) go through the tar
// writer to the hashes only, its raw deflate data into the gzip stream.
func spliceFile(ctx context.Context, pf *prefetcher, sp *splicer, th *hashWriter, tw *tar.Writer, f *tree.File) error {
	// The header (and the last file's padding), which the tar writer wrote
	// unbuffered, is compressed and ends on a byte boundary.
	if err := sp.align(); err != nil {
		return fmt.Errorf("writing %s into a layer: %w", f.Path, err)
	}
	th.to = nil
	defer func() { th.to = sp }()
	in, err := pf.get(ctx, f)
	if err != nil {
		return fmt.Errorf("reading %s from its wheel: %w", f.Path, err)
	}
	var be blockEnds
	var rawCRC uint32
	var sum []byte
	if in != nil {
		be, rawCRC, sum = in.be, in.rawCRC, in.sum
		_, err = tw.Write(in.data)
		pf.release(f)
	} else {
		var w io.Writer = tw
		var h hash.Hash
		if f.Unchecked {
			h = sha256.New()
			w = io.MultiWriter(tw, h)
		}
		be, rawCRC, err = inflateMember(f.Member, w)
		if h != nil {
			sum = h.Sum(nil)
		}
	}
	if err != nil {
		return fmt.Errorf("reading %s from its wheel: %w", f.Path, err)
	}
	if err := checkDigest(f, sum); err != nil {
		return err
	}
	th.to = sp
	if err := sp.splice(f.Member, be, rawCRC); err != nil {
		return fmt.Errorf("copying %s from its wheel: %w", f.Path, err)
	}
	return nil
}

// checkDigest holds an Unchecked file's bytes, whose sha256 is sum, to
// the digest its wheel's RECORD gives.
func checkDigest(f *tree.File, sum []byte) error {
	if !f.Unchecked {
		return nil
	}
	if got := base64.RawURLEncoding.EncodeToString(sum); sum == nil || got != f.Digest {
		return fmt.Errorf("refusing %s (from the wheel of %s): its bytes have sha256 %s, but the wheel's RECORD says %s (the wheel is broken or was tampered with: nothing was written; fetch it again, or pin another version)", f.Path, f.Dist, got, f.Digest)
	}
	return nil
}

// copyAhead copies f, which does not splice, into the tar: what the
// prefetcher read of it ahead (with copyFile, its error included), else
// read now.
func copyAhead(ctx context.Context, pf *prefetcher, w io.Writer, f *tree.File) error {
	in, err := pf.get(ctx, f)
	if in == nil && err == nil {
		return copyFile(w, f)
	}
	if err != nil {
		return err
	}
	_, err = w.Write(in.data)
	pf.release(f)
	return err
}

// copyFile copies exactly f.Size bytes of f: a file that changed size since
// it was planned is an error, not a layer that disagrees with its header.
// An Unchecked file is held to its Digest.
func copyFile(w io.Writer, f *tree.File) error {
	rc, err := f.Open()
	if err != nil {
		return fmt.Errorf("opening %s: %w", f.Path, err)
	}
	defer rc.Close()
	var h hash.Hash
	if f.Unchecked {
		h = sha256.New()
		w = io.MultiWriter(w, h)
	}
	n, err := io.CopyN(w, rc, f.Size)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%s: %d bytes, planned as %d: it changed while building; build again", f.Path, n, f.Size)
		}
		return fmt.Errorf("reading %s: %w", f.Path, err)
	}
	var one [1]byte
	if m, _ := rc.Read(one[:]); m > 0 {
		return fmt.Errorf("%s is larger than the %d bytes planned: it changed while building; build again", f.Path, f.Size)
	}
	if h != nil {
		return checkDigest(f, h.Sum(nil))
	}
	return nil
}

type counter struct {
	w io.Writer
	n int64
}

func (c *counter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// LayerKey names a layer by what it will hold: the format, options, and
// each file's path, mode, size and sha256, and for a file whose deflated
// bytes are copied from its wheel, their size (the same content deflated
// otherwise gives another layer, and almost always another size; the
// wheels themselves are pinned by their sha256). Files whose Digest is
// unknown are read to learn it.
func LayerKey(files []*tree.File, o LayerOptions) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s\nroot=%s\nepoch=%d\nlevel=%d\nsplice=%d\nmedia=%s\n", layerFormat, strings.Trim(o.Root, "/"), o.Epoch.Unix(), GzipLevel, spliceMin, o.MediaType)
	for _, f := range files {
		d := f.Digest
		if d == "" {
			var err error
			if d, err = digestOf(f); err != nil {
				return "", err
			}
		}
		fmt.Fprintf(h, "%s\x00%v\x00%d\x00%s", f.Path, f.Executable(), f.Size, d)
		if splices(f) {
			fmt.Fprintf(h, "\x00deflated %d", f.Member.CompressedSize64)
		}
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func digestOf(f *tree.File) (string, error) {
	rc, err := f.Open()
	if err != nil {
		return "", fmt.Errorf("opening %s: %w", f.Path, err)
	}
	defer rc.Close()
	h := sha256.New()
	if _, err := io.Copy(h, rc); err != nil {
		return "", fmt.Errorf("reading %s: %w", f.Path, err)
	}
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)), nil
}

// blobLayer is a v1.Layer over gzipped bytes lambdapack wrote.
type blobLayer struct {
	info LayerInfo
	open func() (io.ReadCloser, error)
}

// NewLayer returns the v1.Layer for a layer WriteLayer wrote, reading its
// gzipped bytes from open.
func NewLayer(info LayerInfo, open func() (io.ReadCloser, error)) v1.Layer {
	return &blobLayer{info: info, open: open}
}

// BytesLayer returns the v1.Layer for a layer held in memory.
func BytesLayer(info LayerInfo, b []byte) v1.Layer {
	return NewLayer(info, func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
}

func (l *blobLayer) Digest() (v1.Hash, error)             { return l.info.Digest, nil }
func (l *blobLayer) DiffID() (v1.Hash, error)             { return l.info.DiffID, nil }
func (l *blobLayer) Size() (int64, error)                 { return l.info.Size, nil }
func (l *blobLayer) MediaType() (types.MediaType, error)  { return l.info.MediaType, nil }
func (l *blobLayer) Compressed() (io.ReadCloser, error)   { return l.open() }
func (l *blobLayer) Uncompressed() (io.ReadCloser, error) { return gunzip(l.open) }

// gunzip returns the inflated stream of a gzipped blob.
func gunzip(open func() (io.ReadCloser, error)) (io.ReadCloser, error) {
	rc, err := open()
	if err != nil {
		return nil, err
	}
	zr, err := gzip.NewReader(rc)
	if err != nil {
		rc.Close()
		return nil, err
	}
	return &readCloser{Reader: zr, close: func() error { zr.Close(); return rc.Close() }}, nil
}

type readCloser struct {
	io.Reader
	close func() error
}

func (r *readCloser) Close() error { return r.close() }
