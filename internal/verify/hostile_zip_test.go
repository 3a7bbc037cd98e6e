package verify_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/lambdapack/lambdapack/internal/verify"
)

// rawMember is a zip member written as given: its compressed bytes, CRC-32
// and sizes, true or not.
type rawMember struct {
	name         string
	method       uint16
	data         []byte // compressed (or stored) bytes
	crc          uint32
	size         uint64 // declared uncompressed size
	compressSize uint64 // 0: len(data)
}

func writeRawZip(t testing.TB, ms []rawMember) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, m := range ms {
		cs := m.compressSize
		if cs == 0 {
			cs = uint64(len(m.data))
		}
		w, err := zw.CreateRaw(&zip.FileHeader{Name: m.name, Method: m.method, CRC32: m.crc, CompressedSize64: cs, UncompressedSize64: m.size})
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
	p := filepath.Join(t.TempDir(), "artifact.zip")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// deflated is a true member: content compressed, with its real CRC-32.
func deflated(name string, content []byte) rawMember {
	var b bytes.Buffer
	fw, _ := flate.NewWriter(&b, flate.DefaultCompression)
	fw.Write(content)
	fw.Close()
	return rawMember{name: name, method: zip.Deflate, data: b.Bytes(), crc: crc32.ChecksumIEEE(content), size: uint64(len(content))}
}

// zeroBomb returns a deflate stream of prefix then zeros, n bytes in all,
// made in milliseconds: a 1 MiB block of zeros, compressed once after a
// window of zeros and ended with a sync flush, decodes the same wherever
// it is repeated after zeros. About 1,000:1.
func zeroBomb(t testing.TB, prefix []byte, n int64) ([]byte, uint32) {
	t.Helper()
	const chunk = 1 << 20
	if n < int64(len(prefix))+2*chunk {
		t.Fatalf("zeroBomb: %d bytes is too small", n)
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

// childResult is what the child process reports.
type childResult struct {
	Err      string   `json:"err"`
	Rules    []string `json:"rules"`
	Files    []string `json:"files"`
	Messages []string `json:"messages"`
}

// TestVerifyChild is the child process of checkInChild: it verifies the
// zip named by LAMBDAPACK_VERIFY_CHILD and prints the outcome. Run alone,
// it does nothing.
func TestVerifyChild(t *testing.T) {
	p := os.Getenv("LAMBDAPACK_VERIFY_CHILD")
	if p == "" {
		return
	}
	var res childResult
	rep, err := verify.Check(context.Background(), verify.PathSource(p), mustTarget(t, "python3.12", "x86_64"), verify.Options{Kind: verify.KindLayer})
	if err != nil {
		res.Err = err.Error()
	} else {
		for _, f := range rep.Problems() {
			res.Rules = append(res.Rules, f.Rule)
			res.Files = append(res.Files, f.File)
			res.Messages = append(res.Messages, f.Message)
		}
	}
	json.NewEncoder(os.Stdout).Encode(res)
}

// checkInChild verifies a zip in a fresh process and returns the outcome
// and the process's peak resident memory (getrusage's ru_maxrss) in bytes.
func checkInChild(t *testing.T, zipPath string) (childResult, int64) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestVerifyChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "LAMBDAPACK_VERIFY_CHILD="+zipPath)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v\n%s%s", err, out, stderr.String())
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		t.Fatal("no rusage for the child")
	}
	var res childResult
	line, _, _ := bytes.Cut(out, []byte("\n"))
	if err := json.Unmarshal(line, &res); err != nil {
		t.Fatalf("child said %q: %v", out, err)
	}
	return res, ru.Maxrss * 1024 // kilobytes on Linux
}

// maxChildRSS bounds the verifying process's peak memory in every hostile
// case: the test binary itself needs about 20 MB; each case below would
// need 250 MB to terabytes if members were inflated into memory.
const maxChildRSS = 150 << 20

// TestZipBombsAreRefusedInBoundedMemory: a member declaring more than
// Lambda's whole limit, members declaring together far more, and members
// sharing compressed data are refused before anything is inflated; a
// member that inflates past what it declares is stopped there; and a
// 240 MiB shared object within the limits is read as a stream. The peak
// resident memory of the verifying process stays bounded in each case.
func TestZipBombsAreRefusedInBoundedMemory(t *testing.T) {
	so := gcc(t, "c", "int f(void) { return 1; }\n")
	initPy := deflated("python/pkg/__init__.py", []byte("from . import _ext\n"))

	cases := map[string]struct {
		zip  func(t *testing.T) string
		err  string // the refusal, or "" when a report comes back
		rule string // the finding expected when a report comes back
	}{
		// 4 GiB of zeros in about 4 MB: refused by its declared size.
		"one-member-bomb": {zip: func(t *testing.T) string {
			data, crc := zeroBomb(t, so, 4<<30)
			return writeRawZip(t, []rawMember{initPy, {name: "python/pkg/_ext.so", method: zip.Deflate, data: data, crc: crc, size: 4 << 30}})
		}, err: "declares 4,294,967,296 bytes unzipped, more than Lambda's limit"},
		// Twenty members of 200 MB each, every one within the limit.
		"many-members-bomb": {zip: func(t *testing.T) string {
			data, crc := zeroBomb(t, nil, 200<<20)
			ms := []rawMember{initPy}
			for i := range 20 {
				ms = append(ms, rawMember{name: "python/pkg/blob" + string(rune('a'+i)) + ".bin", method: zip.Deflate, data: data, crc: crc, size: 200 << 20})
			}
			return writeRawZip(t, ms)
		}, err: "members declare 4,194,304,019 bytes unzipped, far over Lambda's limit"},
		// Central directory entries pointing into one member's data.
		"overlapping-entries": {zip: func(t *testing.T) string {
			data, crc := zeroBomb(t, so, 100<<20)
			p := writeRawZip(t, []rawMember{initPy, {name: "python/pkg/_ext.so", method: zip.Deflate, data: data, crc: crc, size: 100 << 20}})
			return overlapCopies(t, p, "python/pkg/_ext.so", 1000)
		}, err: "share compressed data (overlapping entries"},
		// Declares 1 MiB, inflates to 1 GiB: stopped at 1 MiB and one.
		"lying-size": {zip: func(t *testing.T) string {
			data, crc := zeroBomb(t, so, 1<<30)
			return writeRawZip(t, []rawMember{initPy, {name: "python/pkg/_ext.so", method: zip.Deflate, data: data, crc: crc, size: 1 << 20}})
		}, rule: verify.RuleCorrupt},
		// A real shared object padded to 240 MiB: within every limit, read
		// as a stream, parsed from its first bytes, its CRC-32 checked.
		"big-shared-object": {zip: func(t *testing.T) string {
			data, crc := zeroBomb(t, so, 240<<20)
			return writeRawZip(t, []rawMember{initPy, {name: "python/pkg/_ext.so", method: zip.Deflate, data: data, crc: crc, size: 240 << 20}})
		}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			p := c.zip(t)
			st, _ := os.Stat(p)
			res, rss := checkInChild(t, p)
			t.Logf("zip %d bytes: peak RSS %d MiB, outcome %+v", st.Size(), rss>>20, res)
			if rss > maxChildRSS {
				t.Errorf("verifying used %d MiB at its peak, over %d MiB", rss>>20, maxChildRSS>>20)
			}
			switch {
			case c.err != "":
				if !strings.Contains(res.Err, c.err) {
					t.Errorf("err = %q, want it to say %q", res.Err, c.err)
				}
			case res.Err != "":
				t.Errorf("err = %q, want a report", res.Err)
			case c.rule == "":
				if len(res.Rules) != 0 {
					t.Errorf("findings %v %v, want none", res.Rules, res.Messages)
				}
			default:
				if len(res.Rules) != 1 || res.Rules[0] != c.rule || res.Files[0] != "python/pkg/_ext.so" {
					t.Errorf("findings %v %v %v, want one %s for python/pkg/_ext.so", res.Rules, res.Files, res.Messages, c.rule)
				}
			}
		})
	}
}

// overlapCopies appends n central directory entries that all point at
// member's local header (Fifield's overlapping zip bomb) and rewrites the
// end record to count them.
func overlapCopies(t *testing.T, p, member string, n int) string {
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
	var out bytes.Buffer
	out.Write(b[:cdOff+cdSize])
	nameLen := int(binary.LittleEndian.Uint16(rec[28:]))
	for i := range n {
		r := append([]byte(nil), rec...)
		name := []byte(strings.Repeat("x", nameLen))
		copy(name, []byte("python/c"+strings.Repeat("0", 6)))
		copy(name[8:], []byte(padInt(i, 6)))
		copy(r[46:], name)
		out.Write(r)
	}
	e := append([]byte(nil), b[eocd:eocd+22]...)
	total := binary.LittleEndian.Uint16(e[10:]) + uint16(n)
	binary.LittleEndian.PutUint16(e[8:], total)
	binary.LittleEndian.PutUint16(e[10:], total)
	binary.LittleEndian.PutUint32(e[12:], cdSize+uint32(n*len(rec)))
	out.Write(e)
	q := filepath.Join(t.TempDir(), "overlap.zip")
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

// TestCorruptMembers: a member whose bytes fail its CRC-32 or its declared
// size is an error finding naming it, whether or not any check would have
// read it otherwise (a .py file is never parsed); the same zip intact
// passes.
func TestCorruptMembers(t *testing.T) {
	content := []byte("def handler(event, context):\n    return 42\n" + strings.Repeat("# padding\n", 50))
	good := deflated("python/pkg/mod.py", content)
	flip := func(m rawMember) rawMember {
		m.data = append([]byte(nil), m.data...)
		m.data[len(m.data)/2] ^= 0x20
		return m
	}
	stored := rawMember{name: "python/pkg/mod.py", method: zip.Store, data: content, crc: crc32.ChecksumIEEE(content), size: uint64(len(content))}
	for name, m := range map[string]rawMember{
		"deflated-bit-flip": flip(good),
		"stored-bit-flip":   flip(stored),
		"crc-recorded-zero": func() rawMember { m := good; m.crc = 0; return m }(),
		"crc-wrong":         func() rawMember { m := good; m.crc ^= 1; return m }(),
		"size-short":        func() rawMember { m := good; m.size--; return m }(),
		"size-long":         func() rawMember { m := good; m.size++; return m }(),
	} {
		t.Run(name, func(t *testing.T) {
			p := writeRawZip(t, []rawMember{deflated("python/pkg/__init__.py", []byte("\n")), m})
			rep, err := verify.Check(context.Background(), verify.PathSource(p), mustTarget(t, "python3.12", "x86_64"), verify.Options{})
			if err != nil {
				t.Fatal(err)
			}
			got := problems(rep)
			if len(got) != 1 || got[0].Rule != verify.RuleCorrupt || got[0].File != "python/pkg/mod.py" || got[0].Severity != verify.Error {
				t.Fatalf("want one corrupt error for python/pkg/mod.py:%s", describe(got))
			}
			t.Log(got[0].Message)
		})
	}
	// The same member intact passes.
	p := writeRawZip(t, []rawMember{deflated("python/pkg/__init__.py", []byte("\n")), good})
	rep, err := verify.Check(context.Background(), verify.PathSource(p), mustTarget(t, "python3.12", "x86_64"), verify.Options{})
	if err != nil || len(problems(rep)) != 0 {
		t.Fatalf("intact zip: %v%s", err, describe(problems(rep)))
	}
}

// TestLongMemberNames: a zip member with a component over 255 bytes (no
// Linux file system takes it) is refused, and the message does not repeat
// the name whole.
func TestLongMemberNames(t *testing.T) {
	long := "python/" + strings.Repeat("n", 60000) + ".py"
	p := writeRawZip(t, []rawMember{deflated(long, []byte("x = 1\n"))})
	_, err := verify.Check(context.Background(), verify.PathSource(p), mustTarget(t, "python3.12", "x86_64"), verify.Options{})
	if err == nil || !strings.Contains(err.Error(), "at most 255 bytes") {
		t.Fatalf("err = %.300v", err)
	}
	if len(err.Error()) > 1000 {
		t.Errorf("the error is %d bytes: the name is repeated whole", len(err.Error()))
	}
	ok := "python/" + strings.Repeat("n", 252) + ".py"
	p = writeRawZip(t, []rawMember{deflated(ok, []byte("x = 1\n"))})
	if _, err := verify.Check(context.Background(), verify.PathSource(p), mustTarget(t, "python3.12", "x86_64"), verify.Options{}); err != nil {
		t.Fatalf("a 255-byte name: %v", err)
	}
}
