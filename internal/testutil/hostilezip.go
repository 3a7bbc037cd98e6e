package testutil

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"hash/crc32"
	"os"
	"strings"
	"testing"
)

// ZipMember is a zip member written as given: its compressed bytes, CRC-32
// and sizes, true or not, for tests of hostile and damaged zips.
type ZipMember struct {
	Name   string
	Method uint16
	Data   []byte // compressed (or stored) bytes
	CRC32  uint32
	Size   uint64 // declared uncompressed size
	// CompressedSize is the declared compressed size; 0 means len(Data).
	CompressedSize uint64
}

// WriteRawZip writes the members, as given, into a zip at p (creating its
// folder) and returns p.
func WriteRawZip(t testing.TB, p string, ms []ZipMember) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, m := range ms {
		cs := m.CompressedSize
		if cs == 0 {
			cs = uint64(len(m.Data))
		}
		w, err := zw.CreateRaw(&zip.FileHeader{Name: m.Name, Method: m.Method, CRC32: m.CRC32, CompressedSize64: cs, UncompressedSize64: m.Size})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(m.Data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return writeFileAt(t, p, buf.Bytes())
}

// Deflated is a true member: content compressed, with its real CRC-32.
func Deflated(name string, content []byte) ZipMember {
	var b bytes.Buffer
	fw, _ := flate.NewWriter(&b, flate.DefaultCompression)
	fw.Write(content)
	fw.Close()
	return ZipMember{Name: name, Method: zip.Deflate, Data: b.Bytes(), CRC32: crc32.ChecksumIEEE(content), Size: uint64(len(content))}
}

// ZeroBomb returns a deflate stream of prefix then zeros, n bytes in all,
// and its CRC-32, made in milliseconds: a 1 MiB block of zeros, compressed
// once after a window of zeros and ended with a sync flush, decodes the
// same wherever it is repeated after zeros. About 1,000:1.
func ZeroBomb(t testing.TB, prefix []byte, n int64) ([]byte, uint32) {
	t.Helper()
	const chunk = 1 << 20
	if n < int64(len(prefix))+2*chunk {
		t.Fatalf("ZeroBomb: %d bytes is too small", n)
	}
	zeros := make([]byte, chunk)
	var out bytes.Buffer
	fw, _ := flate.NewWriter(&out, flate.BestCompression)
	fw.Write(prefix)
	fw.Write(zeros)
	fw.Flush()
	first := out.Len()
	fw.Write(zeros)
	fw.Flush()
	block := append([]byte(nil), out.Bytes()[first:]...)
	out.Truncate(first)
	rest := n - int64(len(prefix)) - chunk
	for ; rest >= chunk; rest -= chunk {
		out.Write(block)
	}
	// The tail, then a final empty stored block.
	var tail bytes.Buffer
	fw2, _ := flate.NewWriter(&tail, flate.NoCompression)
	fw2.Write(make([]byte, rest))
	fw2.Flush()
	out.Write(tail.Bytes())
	out.Write([]byte{0x01, 0x00, 0x00, 0xff, 0xff})

	crc := crc32.Update(0, crc32.IEEETable, prefix)
	for left := n - int64(len(prefix)); left > 0; left -= chunk {
		crc = crc32.Update(crc, crc32.IEEETable, zeros[:min(int64(chunk), left)])
	}
	return out.Bytes(), crc
}

// OverlapCopies writes, beside the zip p, a copy with n more central
// directory entries that all point at member's local header (Fifield's
// overlapping zip bomb), the end record rewritten to count them, and
// returns its path. The copies are named python/cNNNNNN... (as long as
// member's name).
func OverlapCopies(t testing.TB, p, member string, n int) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	eocd := bytes.LastIndex(b, []byte("PK\x05\x06"))
	cdSize := binary.LittleEndian.Uint32(b[eocd+12:])
	cdOff := binary.LittleEndian.Uint32(b[eocd+16:])
	cd := b[cdOff : cdOff+cdSize]
	// Find member's central directory record.
	var rec []byte
	for off := 0; off < len(cd); {
		nameLen := int(binary.LittleEndian.Uint16(cd[off+28:]))
		extra := int(binary.LittleEndian.Uint16(cd[off+30:]))
		comment := int(binary.LittleEndian.Uint16(cd[off+32:]))
		end := off + 46 + nameLen + extra + comment
		if string(cd[off+46:off+46+nameLen]) == member {
			rec = cd[off:end]
		}
		off = end
	}
	if rec == nil {
		t.Fatalf("%s not in the central directory", member)
	}
	nameLen := int(binary.LittleEndian.Uint16(rec[28:]))
	if nameLen < 14 {
		t.Fatalf("OverlapCopies: %s is too short a name to number copies after", member)
	}
	var out bytes.Buffer
	out.Write(b[:cdOff+cdSize])
	for i := range n {
		r := append([]byte(nil), rec...)
		name := []byte(strings.Repeat("x", nameLen))
		copy(name, "python/c"+padInt(i, 6))
		copy(r[46:], name)
		out.Write(r)
	}
	e := append([]byte(nil), b[eocd:eocd+22]...)
	total := binary.LittleEndian.Uint16(e[10:]) + uint16(n)
	binary.LittleEndian.PutUint16(e[8:], total)
	binary.LittleEndian.PutUint16(e[10:], total)
	binary.LittleEndian.PutUint32(e[12:], cdSize+uint32(n*len(rec)))
	out.Write(e)
	q := strings.TrimSuffix(p, ".zip") + "-overlap.zip"
	if err := os.WriteFile(q, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return q
}

func padInt(i, width int) string {
	s := []byte(strings.Repeat("0", width))
	for k := width - 1; k >= 0 && i > 0; k-- {
		s[k] = byte('0' + i%10)
		i /= 10
	}
	return string(s)
}
