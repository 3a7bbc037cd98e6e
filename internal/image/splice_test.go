package image

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	stdgzip "compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"

	stdflate "compress/flate"

	kflate "github.com/klauspost/compress/flate"
	kgzip "github.com/klauspost/compress/gzip"

	"github.com/lambdapack/lambdapack/internal/tree"
)

// member is one wheel member to write: its content and how to deflate it.
type member struct {
	name  string
	data  []byte
	level int  // flate level (stdflate.NoCompression gives stored blocks)
	kp    bool // klauspost's compressor instead of the standard library's
}

// zipMembers writes members as a zip and returns its files by name.
func zipMembers(t testing.TB, ms []member) map[string]*zip.File {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, m := range ms {
		level, kp := m.level, m.kp
		zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
			if kp {
				return kflate.NewWriter(w, level)
			}
			return stdflate.NewWriter(w, level)
		})
		w, err := zw.CreateHeader(&zip.FileHeader{Name: m.name, Method: zip.Deflate})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(m.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*zip.File{}
	for _, f := range zr.File {
		out[f.Name] = f
	}
	return out
}

// endBit finds where a member's deflate stream ends, as splice sees it.
func endBit(t testing.TB, m *zip.File) blockEnds {
	be, _, err := inflateMember(m, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return be
}

// randomData mixes text-like runs, zeros and noise, so the compressors
// choose stored, fixed and dynamic blocks.
func randomData(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	words := []string{"import ", "numpy", " def ", "return", "\n    ", "self.", "__init__", "(x, y)"}
	for i := 0; i < n; {
		switch r.IntN(4) {
		case 0:
			for j := r.IntN(2000); j > 0 && i < n; j-- {
				b[i] = byte(r.Uint32())
				i++
			}
		case 1:
			i += r.IntN(3000)
		default:
			for j := r.IntN(100); j > 0 && i < n; j-- {
				i += copy(b[i:], words[r.IntN(len(words))])
			}
		}
	}
	return b
}

// readLayer reads a gzipped tar with a reader, returning the tar's sha256
// and each file's content.
func readLayer(t *testing.T, name string, gz []byte, open func(io.Reader) (io.Reader, error)) (string, map[string][]byte) {
	t.Helper()
	zr, err := open(bytes.NewReader(gz))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	h := sha256.New()
	tr := tar.NewReader(io.TeeReader(zr, h))
	files := map[string][]byte{}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatalf("%s: %s: %v", name, hdr.Name, err)
		}
		if hdr.Typeflag == tar.TypeReg {
			files[hdr.Name] = b
		}
	}
	if _, err := io.Copy(io.Discard, zr); err != nil {
		t.Fatalf("%s: after the tar: %v", name, err)
	}
	return hex.EncodeToString(h.Sum(nil)), files
}

// TestLayerSplice: members deflated by different compressors and levels,
// ending at every bit position of a byte, copied raw into a layer between
// lambdapack's own blocks, give a gzip stream that Go's two gzip readers
// and GNU gzip (zlib's inflate algorithm, in C) read back to the same tar,
// whose sha256 is the diffID; the same files give the same bytes.
func TestLayerSplice(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var ms []member
	levels := []int{stdflate.NoCompression, stdflate.HuffmanOnly, 1, 6, 9}
	for i := 0; i < 100; i++ {
		n := spliceMin + r.IntN(200<<10)
		if i%10 == 0 {
			n = 1 + r.IntN(2000) // small: compressed by lambdapack
		}
		ms = append(ms, member{name: fmt.Sprintf("pkg/m%02d.so", i), data: randomData(r, n), level: levels[i%len(levels)], kp: i%3 == 0})
	}
	// One member whose deflated form is all stored blocks, and one large
	// run of zeros (long matches).
	ms = append(ms, member{name: "pkg/noise.bin", data: randomData(rand.New(rand.NewPCG(3, 4)), 300<<10), level: stdflate.NoCompression},
		member{name: "pkg/zeros.bin", data: make([]byte, 1<<20), level: 9})
	zf := zipMembers(t, ms)

	var files []*tree.File
	ends := map[int64]bool{}
	spliced := 0
	for _, m := range ms {
		f := zf[m.name]
		files = append(files, &tree.File{Path: m.name, Origin: tree.FromWheel, Member: f, Size: int64(len(m.data))})
		if spliceable(f) {
			spliced++
			ends[endBit(t, f).end%8] = true
		}
	}
	if len(ends) != 8 {
		t.Fatalf("the members end at bit offsets %v: want all eight", ends)
	}
	files = append(files,
		&tree.File{Path: "pkg/__init__.py", Origin: tree.FromBytes, Data: []byte("from .m00 import *\n"), Size: 19},
		&tree.File{Path: "pkg-1.0.dist-info/RECORD", Origin: tree.FromBytes, Data: bytes.Repeat([]byte("pkg/m.so,sha256=x,1\n"), 300), Size: 6000},
	)
	want := map[string][]byte{"var/task/pkg/__init__.py": []byte("from .m00 import *\n"), "var/task/pkg-1.0.dist-info/RECORD": bytes.Repeat([]byte("pkg/m.so,sha256=x,1\n"), 300)}
	for _, m := range ms {
		want["var/task/"+m.name] = m.data
	}

	o := LayerOptions{Root: "var/task"}
	var a bytes.Buffer
	info, err := WriteLayer(context.Background(), &a, files, o)
	if err != nil {
		t.Fatal(err)
	}
	if info.Spliced != spliced || spliced < 80 {
		t.Fatalf("spliced %d files, want %d", info.Spliced, spliced)
	}
	sum := sha256.Sum256(a.Bytes())
	if info.Digest.Hex != hex.EncodeToString(sum[:]) || info.Size != int64(a.Len()) {
		t.Fatalf("digest %s size %d, the bytes' %x %d", info.Digest, info.Size, sum, a.Len())
	}

	readers := map[string]func(io.Reader) (io.Reader, error){
		"compress/gzip":  func(r io.Reader) (io.Reader, error) { return stdgzip.NewReader(r) },
		"klauspost/gzip": func(r io.Reader) (io.Reader, error) { return kgzip.NewReader(r) },
		"gzip -dc (GNU)": gnuGunzip(t),
	}
	for name, open := range readers {
		diffID, got := readLayer(t, name, a.Bytes(), open)
		if diffID != info.DiffID.Hex {
			t.Errorf("%s: the tar's sha256 is %s, the diffID %s", name, diffID, info.DiffID.Hex)
		}
		if len(got) != len(want) {
			t.Errorf("%s: %d files, want %d", name, len(got), len(want))
		}
		for p, b := range want {
			if !bytes.Equal(got[p], b) {
				t.Errorf("%s: %s differs (%d bytes, want %d)", name, p, len(got[p]), len(b))
			}
		}
	}
	// The standard library's reader holds the stream to one gzip member:
	// nothing after the trailer.
	zr, _ := stdgzip.NewReader(bytes.NewReader(a.Bytes()))
	zr.Multistream(false)
	if _, err := io.Copy(io.Discard, zr); err != nil {
		t.Fatal(err)
	}
	if rest, _ := io.ReadAll(zr); len(rest) != 0 {
		t.Errorf("%d bytes after the gzip member", len(rest))
	}

	// Reproducible.
	var b bytes.Buffer
	if _, err := WriteLayer(context.Background(), &b, files, o); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("the same files gave other bytes")
	}

	// A member whose bytes are not what its central directory says is an
	// error, not a layer.
	bad := *zf["pkg/m01.so"]
	bad.CRC32++
	files[1] = &tree.File{Path: "pkg/m01.so", Origin: tree.FromWheel, Member: &bad, Size: files[1].Size}
	if _, err := WriteLayer(context.Background(), io.Discard, files, o); err == nil || !strings.Contains(err.Error(), "CRC-32") {
		t.Errorf("a member with a wrong CRC-32: %v", err)
	}
}

// gnuGunzip decompresses with the gzip program.
func gnuGunzip(t *testing.T) func(io.Reader) (io.Reader, error) {
	gz, err := exec.LookPath("gzip")
	if err != nil {
		t.Fatalf("gzip is not installed (Debian's essential gzip package): %v", err)
	}
	return func(r io.Reader) (io.Reader, error) {
		cmd := exec.Command(gz, "-dc")
		cmd.Stdin = r
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("gzip -dc: %v: %s", err, errb.String())
		}
		return &out, nil
	}
}

// FuzzSplice: any content, deflated at any level, spliced between two
// compressed files, reads back as it was.
func FuzzSplice(f *testing.F) {
	f.Add([]byte("hello"), 6, uint16(100))
	f.Add(bytes.Repeat([]byte{0}, 9000), 0, uint16(0))
	f.Add(bytes.Repeat([]byte("abcdefgh"), 2000), -2, uint16(7))
	f.Fuzz(runFuzzSplice)
}

func runFuzzSplice(t *testing.T, data []byte, level int, pad uint16) {
	{
		if level < -2 || level > 9 {
			level = 6
		}
		// Pad to a spliceable size with content derived from data.
		body := append(bytes.Repeat([]byte{byte(pad)}, int(pad)%5000), data...)
		for len(body) < 2*spliceMin {
			body = append(body, body...)
			body = append(body, byte(len(body)))
		}
		zf := zipMembers(t, []member{{name: "x", data: body, level: level}})
		m := zf["x"]
		files := []*tree.File{
			{Path: "a", Origin: tree.FromBytes, Data: data, Size: int64(len(data))},
			{Path: "x", Origin: tree.FromWheel, Member: m, Size: int64(len(body))},
			{Path: "z", Origin: tree.FromBytes, Data: []byte("end"), Size: 3},
		}
		var buf bytes.Buffer
		info, err := WriteLayer(context.Background(), &buf, files, LayerOptions{})
		if err != nil {
			t.Fatal(err)
		}
		diffID, got := readLayer(t, "compress/gzip", buf.Bytes(), func(r io.Reader) (io.Reader, error) { return stdgzip.NewReader(r) })
		if diffID != info.DiffID.Hex || !bytes.Equal(got["x"], body) || !bytes.Equal(got["a"], data) || string(got["z"]) != "end" {
			t.Fatalf("read back wrong (spliced %d)", info.Spliced)
		}
		if spliceable(m) && info.Spliced != 1 {
			t.Fatalf("spliced %d", info.Spliced)
		}
	}
}

// An Unchecked file (its Digest is only its wheel's RECORD's claim) is
// hashed as the layer is written, whichever way its bytes go in: spliced
// and inflated ahead, spliced and inflated as the tar reaches it (a member
// larger than prefetchMax), or copied (small, stored, FromBytes; a small
// wheel member read ahead). The layer is the same bytes as when the files
// were checked before; a file whose bytes are not what RECORD says, or
// whose size is not the one planned, fails the write, naming it.
func TestLayerChecksUncheckedFiles(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	ms := []member{
		{name: "pkg/ahead.so", data: randomData(r, 300<<10), level: 6},
		{name: "pkg/big.so", data: randomData(r, prefetchMax+(1<<20)), level: 1},
		{name: "pkg/small.py", data: []byte("x = 1\n"), level: 6},
	}
	zf := zipMembers(t, ms)
	files := func(lie string) []*tree.File {
		var out []*tree.File
		for _, m := range ms {
			data := m.data
			if m.name == lie {
				data = append([]byte("#"), data[1:]...)
			}
			sum := sha256.Sum256(data)
			out = append(out, &tree.File{Path: m.name, Origin: tree.FromWheel, Member: zf[m.name], Size: int64(len(m.data)),
				Digest: base64.RawURLEncoding.EncodeToString(sum[:]), Dist: "pkg", Unchecked: true})
		}
		return out
	}
	if !splices(files("")[0]) || !splices(files("")[1]) || splices(files("")[2]) {
		t.Fatal("the members do not take the three paths")
	}
	o := LayerOptions{Root: "var/task"}
	var checked, plain bytes.Buffer
	if _, err := WriteLayer(context.Background(), &checked, files(""), o); err != nil {
		t.Fatal(err)
	}
	trusted := files("")
	for _, f := range trusted {
		f.Unchecked = false
	}
	if _, err := WriteLayer(context.Background(), &plain, trusted, o); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(checked.Bytes(), plain.Bytes()) {
		t.Error("checking the files changed the layer")
	}
	for _, m := range ms {
		_, err := WriteLayer(context.Background(), io.Discard, files(m.name), o)
		if err == nil || !strings.Contains(err.Error(), "refusing "+m.name+" (from the wheel of pkg)") || !strings.Contains(err.Error(), "RECORD says") {
			t.Errorf("%s, whose RECORD lies: %v", m.name, err)
		}
	}
	// A small member read ahead is held to its planned size as one read
	// by the writer is.
	for _, d := range []int64{-1, 1} {
		fs := files("")
		fs[2].Size += d
		if _, err := WriteLayer(context.Background(), io.Discard, fs, o); err == nil || !strings.Contains(err.Error(), "pkg/small.py") || !strings.Contains(err.Error(), "changed while building") {
			t.Errorf("small.py planned %+d bytes off: %v", d, err)
		}
	}
}
