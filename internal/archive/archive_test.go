package archive

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// sourceZip writes a zip (like a wheel) with deflated and stored members
// and returns it open.
func sourceZip(t testing.TB, dir string, members map[string][]byte, stored map[string]bool) *zip.ReadCloser {
	t.Helper()
	p := filepath.Join(dir, "src.whl")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	var names []string
	for n := range members {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		m := zip.Deflate
		if stored[n] {
			m = zip.Store
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: n, Method: m})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(members[n])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	zr, err := zip.OpenReader(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { zr.Close() })
	return zr
}

func member(zr *zip.ReadCloser, name string) *zip.File {
	for _, f := range zr.File {
		if f.Name == name {
			return f
		}
	}
	return nil
}

func text(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	words := []string{"def ", "return ", "self", ".value", " = ", "(", ")", ":\n    ", "import ", "numpy", "class ", "\n", "if ", "else", "x", "y", "0", "1", ", ", "None"}
	var b bytes.Buffer
	for b.Len() < n {
		b.WriteString(words[r.IntN(len(words))])
	}
	return b.Bytes()[:n]
}

func random(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

type fixture struct {
	entries []Entry
	want    map[string][]byte
	modes   map[string]fs.FileMode
	src     *zip.ReadCloser
}

func newFixture(t testing.TB) fixture {
	dir := t.TempDir()
	src := sourceZip(t, dir, map[string][]byte{
		"pkg/__init__.py": text(5000, 1),
		"pkg/core.py":     text(200_000, 2),
		"pkg/stored.py":   text(3000, 3),
		"pkg/blob.bin":    random(50_000, 4),
		"pkg/empty.py":    {},
	}, map[string]bool{"pkg/stored.py": true})
	disk := filepath.Join(dir, "handler.py")
	os.WriteFile(disk, []byte("def handler(event, context):\n    return 1\n"), 0o600)
	f := fixture{src: src, want: map[string][]byte{}, modes: map[string]fs.FileMode{}}
	add := func(e Entry, content []byte) {
		f.entries = append(f.entries, e)
		f.want[e.Path] = content
		m := fs.FileMode(0o644)
		if e.Mode&0o111 != 0 {
			m = 0o755
		}
		f.modes[e.Path] = m
	}
	for _, n := range []string{"pkg/__init__.py", "pkg/core.py", "pkg/stored.py", "pkg/blob.bin", "pkg/empty.py"} {
		m := member(src, n)
		r, _ := m.Open()
		b, _ := io.ReadAll(r)
		add(Entry{Path: "python/" + n, Zip: m}, b)
	}
	add(Entry{Path: "python/pkg-1.0.dist-info/RECORD", Data: []byte("pkg/__init__.py,,\n")}, []byte("pkg/__init__.py,,\n"))
	add(Entry{Path: "bin/tool", Data: []byte("#!/usr/bin/env python3\n"), Mode: 0o700}, []byte("#!/usr/bin/env python3\n"))
	add(Entry{Path: "python/handler.py", File: disk}, []byte("def handler(event, context):\n    return 1\n"))
	add(Entry{Path: "python/incompressible.bin", Data: random(4000, 5)}, random(4000, 5))
	add(Entry{Path: "python/ünïcode.py", Data: []byte("# hi\n")}, []byte("# hi\n"))
	return f
}

func sha(t testing.TB, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// checkZip reads the zip with archive/zip and checks order, directories,
// modes, timestamps, extra fields and content.
func checkZip(t *testing.T, p string, f fixture, when time.Time) {
	t.Helper()
	zr, err := zip.OpenReader(p)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var names []string
	seen := map[string]bool{}
	for _, zf := range zr.File {
		names = append(names, zf.Name)
		seen[zf.Name] = true
		if len(zf.Extra) != 0 {
			t.Errorf("%s has extra fields %x", zf.Name, zf.Extra)
		}
		if !zf.Modified.Equal(when) {
			t.Errorf("%s modified %v, want %v", zf.Name, zf.Modified, when)
		}
		if strings.HasSuffix(zf.Name, "/") {
			if zf.Mode() != fs.ModeDir|0o755 {
				t.Errorf("%s mode %v", zf.Name, zf.Mode())
			}
			continue
		}
		if zf.Mode() != f.modes[zf.Name] {
			t.Errorf("%s mode %v, want %v", zf.Name, zf.Mode(), f.modes[zf.Name])
		}
		r, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatalf("%s: %v", zf.Name, err)
		}
		if !bytes.Equal(b, f.want[zf.Name]) {
			t.Errorf("%s content differs", zf.Name)
		}
	}
	if !sort.StringsAreSorted(names) {
		t.Errorf("entries not sorted: %v", names)
	}
	for n := range f.want {
		if !seen[n] {
			t.Errorf("%s missing", n)
		}
		for d := filepath.ToSlash(filepath.Dir(n)); d != "."; d = filepath.ToSlash(filepath.Dir(d)) {
			if !seen[d+"/"] {
				t.Errorf("no directory entry %s/", d)
			}
		}
	}
}

func external(t *testing.T, p string) {
	t.Helper()
	if out, err := exec.Command("unzip", "-t", p).CombinedOutput(); err != nil || !strings.Contains(string(out), "No errors detected") {
		t.Errorf("unzip -t: %v\n%s", err, out)
	}
	if out, err := exec.Command("python3", "-m", "zipfile", "-t", p).CombinedOutput(); err != nil || !strings.Contains(string(out), "Done testing") {
		t.Errorf("python3 -m zipfile -t: %v\n%s", err, out)
	}
}

func TestWriteIsDeterministicAndReadable(t *testing.T) {
	f := newFixture(t)
	a := filepath.Join(t.TempDir(), "a.zip")
	b := filepath.Join(t.TempDir(), "b.zip")
	var calls int
	var last, total int64
	ra, err := Write(context.Background(), a, f.entries, Options{Root: "python/", Progress: func(w, t int64) { calls, last, total = calls+1, w, t }})
	if err != nil {
		t.Fatal(err)
	}
	// Different concurrency and memory limits: same bytes.
	rb, err := Write(context.Background(), b, f.entries, Options{Root: "python/", Concurrency: 1, MemoryBudget: 1})
	if err != nil {
		t.Fatal(err)
	}
	if ra.SHA256 != rb.SHA256 || sha(t, a) != ra.SHA256 || sha(t, b) != rb.SHA256 {
		t.Fatalf("two writes differ: %s %s (files %s %s)", ra.SHA256, rb.SHA256, sha(t, a), sha(t, b))
	}
	fi, _ := os.Stat(a)
	if ra.Size != fi.Size() || fi.Mode().Perm() != 0o644 {
		t.Errorf("result size %d, file %d, mode %v", ra.Size, fi.Size(), fi.Mode())
	}
	checkZip(t, a, f, DefaultEpoch)
	external(t, a)
	if calls != len(f.want) || last != total || total != ra.UnzippedSize {
		t.Errorf("progress: %d calls, last %d of %d; want %d calls ending at %d", calls, last, total, len(f.want), ra.UnzippedSize)
	}
	var unzipped int64
	for _, b := range f.want {
		unzipped += int64(len(b))
	}
	if ra.UnzippedSize != unzipped || ra.Files != len(f.want) || ra.Dirs != 4 {
		t.Errorf("result %+v, want unzipped %d, %d files, 4 dirs (bin, python, python/pkg, python/pkg-1.0.dist-info)", ra, unzipped, len(f.want))
	}
	// Raw copies: the four members deflated in the source zip (stored.py
	// was stored there, so it is compressed here).
	if ra.RawCopied != 4 || ra.Deflated != 1 || ra.Stored != 5 {
		t.Errorf("raw %d, deflated %d, stored %d; want 4, 1, 5 (tiny and random members are stored)", ra.RawCopied, ra.Deflated, ra.Stored)
	}
	var pkg int64
	for n, b := range f.want {
		if strings.HasPrefix(n, "python/pkg/") {
			pkg += int64(len(b))
		}
	}
	if ra.TopLevel["pkg"] != pkg || ra.TopLevel["handler.py"] != 42 || ra.TopLevel["pkg-1.0.dist-info"] != 18 {
		t.Errorf("top level sizes %v", ra.TopLevel)
	}
	if _, ok := ra.TopLevel["tool"]; ok {
		t.Error("bin/ counted under the python/ root")
	}
}

func TestRawCopyKeepsCompressedBytes(t *testing.T) {
	f := newFixture(t)
	out := filepath.Join(t.TempDir(), "out.zip")
	if _, err := Write(context.Background(), out, f.entries, Options{}); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.OpenReader(out)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	raw := func(zf *zip.File) []byte {
		r, err := zf.OpenRaw()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r)
		return b
	}
	core := member(zr, "python/pkg/core.py")
	srcCore := member(f.src, "pkg/core.py")
	if core.Method != zip.Deflate || !bytes.Equal(raw(core), raw(srcCore)) || core.CRC32 != srcCore.CRC32 {
		t.Error("pkg/core.py was not copied raw")
	}
	// Recompress: no raw copies, same contents.
	out2 := filepath.Join(t.TempDir(), "out2.zip")
	res, err := Write(context.Background(), out2, f.entries, Options{Recompress: true, Level: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.RawCopied != 0 {
		t.Errorf("recompress mode raw-copied %d", res.RawCopied)
	}
	checkZip(t, out2, f, DefaultEpoch)
	external(t, out2)
}

func TestSourceDateEpoch(t *testing.T) {
	f := newFixture(t)
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	when, err := Epoch()
	if err != nil || !when.Equal(time.Unix(1700000000, 0)) {
		t.Fatalf("Epoch = %v, %v", when, err)
	}
	out := filepath.Join(t.TempDir(), "out.zip")
	if _, err := Write(context.Background(), out, f.entries, Options{}); err != nil {
		t.Fatal(err)
	}
	checkZip(t, out, f, time.Date(2023, 11, 14, 22, 13, 20, 0, time.UTC))
	t.Setenv("SOURCE_DATE_EPOCH", "yesterday")
	if _, err := Write(context.Background(), out, f.entries, Options{}); err == nil || !strings.Contains(err.Error(), "SOURCE_DATE_EPOCH") {
		t.Errorf("bad SOURCE_DATE_EPOCH: %v", err)
	}
	t.Setenv("SOURCE_DATE_EPOCH", "0") // before 1980: clamped
	when, _ = Epoch()
	if d, tm := msDosTime(when); d != 1<<5|1 || tm != 0 {
		t.Errorf("1970 encodes as %x %x", d, tm)
	}
}

func TestSpillFilesAndStore(t *testing.T) {
	dir := t.TempDir()
	big := text(3<<20, 9)
	noise := random(2<<20, 10)
	entries := []Entry{
		{Path: "big.py", Data: big},
		{Path: "noise.bin", Data: noise},
		{Path: "small.py", Data: text(2000, 11)},
	}
	out := filepath.Join(dir, "out.zip")
	res, err := Write(context.Background(), out, entries, Options{SpillThreshold: 64 << 10, MemoryBudget: 256 << 10})
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.OpenReader(out)
	if err != nil {
		t.Fatal(err)
	}
	methods := map[string]uint16{}
	for _, zf := range zr.File {
		methods[zf.Name] = zf.Method
	}
	zr.Close()
	if diff := cmp.Diff(map[string]uint16{"big.py": zip.Deflate, "noise.bin": zip.Store, "small.py": zip.Deflate}, methods); diff != "" {
		t.Errorf("methods (-want +got):\n%s", diff)
	}
	f := fixture{entries: entries, want: map[string][]byte{"big.py": big, "noise.bin": noise, "small.py": entries[2].Data},
		modes: map[string]fs.FileMode{"big.py": 0o644, "noise.bin": 0o644, "small.py": 0o644}}
	checkZip(t, out, f, DefaultEpoch)
	external(t, out)
	left, _ := os.ReadDir(dir)
	if len(left) != 1 {
		t.Errorf("temporary files left: %v", left)
	}
	// Same bytes whether big members spill or not.
	res2, err := Write(context.Background(), filepath.Join(dir, "b.zip"), entries, Options{})
	if err != nil || res2.SHA256 != res.SHA256 {
		t.Errorf("spilling changed the output: %v", err)
	}
}

func TestErrorsLeaveNothing(t *testing.T) {
	good := []Entry{{Path: "a/b.py", Data: []byte("x")}}
	corruptSrc := func() *zip.File {
		// A stored member whose bytes no longer match its CRC.
		d := t.TempDir()
		src := sourceZip(t, d, map[string][]byte{"m.bin": []byte("0123456789")}, map[string]bool{"m.bin": true})
		m := member(src, "m.bin")
		off, _ := m.DataOffset()
		p := filepath.Join(d, "src.whl")
		b, _ := os.ReadFile(p)
		b[off] ^= 0xff
		os.WriteFile(p, b, 0o644)
		return m
	}()
	cases := map[string][]Entry{
		"dotdot":       append(good, Entry{Path: "../x", Data: []byte{}}),
		"absolute":     append(good, Entry{Path: "/x", Data: []byte{}}),
		"backslash":    append(good, Entry{Path: "a\\x", Data: []byte{}}),
		"duplicate":    append(good, Entry{Path: "a/b.py", Data: []byte("y")}),
		"file-dir":     append(good, Entry{Path: "a", Data: []byte("y")}),
		"missing-file": append(good, Entry{Path: "c.py", File: "/nonexistent/c.py"}),
		"two-sources":  append(good, Entry{Path: "c.py", File: "/etc/hostname", Data: []byte("x")}),
		"corrupt-src":  append(good, Entry{Path: "c.bin", Zip: corruptSrc}),
	}
	for name, entries := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "out.zip")
			_, err := Write(context.Background(), out, entries, Options{})
			if err == nil {
				t.Fatal("accepted")
			}
			t.Log(err)
			if !strings.Contains(err.Error(), out) {
				t.Errorf("error does not name the destination: %v", err)
			}
			if left, _ := os.ReadDir(dir); len(left) != 0 {
				t.Errorf("left behind: %v", left)
			}
		})
	}
	// A cancelled context.
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Write(ctx, filepath.Join(dir, "out.zip"), []Entry{{Path: "big", Data: text(1<<20, 1)}}, Options{}); err == nil {
		t.Error("cancelled write succeeded")
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}

func TestValidPath(t *testing.T) {
	for p, ok := range map[string]bool{
		"a/b.py": true, "a": true, "ünï/x": true, "a/": true,
		"": false, "/a": false, "a/../b": false, "..": false, "./a": false, "a//b": false,
		"a\\b": false, "C:/x": false, "c:x": false, "a\x00b": false, "\xff": false,
	} {
		if got := ValidPath(p) == nil; got != ok {
			t.Errorf("ValidPath(%q) ok = %v, want %v", p, got, ok)
		}
	}
	// Each component at most 255 bytes (NAME_MAX), the whole at most
	// MaxPath; the message does not repeat a 60,000-byte name whole.
	long := strings.Repeat("n", 60000)
	deep := strings.Repeat(strings.Repeat("d", 199)+"/", 20) // 4,000 bytes
	for p, ok := range map[string]bool{
		strings.Repeat("a", 255) + "/b.py":      true,
		strings.Repeat("\u00e9", 127) + "/b.py": true, // 254 bytes
		strings.Repeat("a", 256) + "/b.py":      false,
		"a/" + strings.Repeat("\u00e9", 128):    false, // 256 bytes
		strings.TrimSuffix(deep, "/"):           true,
		deep + "x":                              false,
		long:                                    false,
		"python/" + long + ".py":                false,
	} {
		err := ValidPath(p)
		if (err == nil) != ok {
			t.Errorf("ValidPath(%d bytes) = %v, want ok %v", len(p), err, ok)
		}
		if err != nil && len(err.Error()) > 400 {
			t.Errorf("ValidPath's error is %d bytes long", len(err.Error()))
		}
	}
	if _, err := Write(context.Background(), filepath.Join(t.TempDir(), "out.zip"), []Entry{{Path: "python/" + long + ".py", Data: []byte("x")}}, Options{}); err == nil || !strings.Contains(err.Error(), "255") {
		t.Errorf("Write of a 60,000-byte name: %v", err)
	}
}

func TestManyEntriesSmallBudget(t *testing.T) {
	var entries []Entry
	want := map[string][]byte{}
	modes := map[string]fs.FileMode{}
	for i := range 500 {
		p := filepath.ToSlash(filepath.Join("pkg", string(rune('a'+i%26)), "m"+string(rune('a'+i/26))+".py"))
		d := text(1000+i*37, uint64(i))
		entries = append(entries, Entry{Path: p, Data: d})
		want[p], modes[p] = d, 0o644
	}
	out := filepath.Join(t.TempDir(), "out.zip")
	if _, err := Write(context.Background(), out, entries, Options{MemoryBudget: 4096, Concurrency: 4}); err != nil {
		t.Fatal(err)
	}
	checkZip(t, out, fixture{entries: entries, want: want, modes: modes}, DefaultEpoch)
	var names []string
	zr, _ := zip.OpenReader(out)
	for _, f := range zr.File[:3] {
		names = append(names, f.Name)
	}
	zr.Close()
	if diff := cmp.Diff([]string{"pkg/", "pkg/a/", "pkg/a/ma.py"}, names); diff != "" {
		t.Errorf("first entries (-want +got):\n%s", diff)
	}
}

func TestComment(t *testing.T) {
	out := filepath.Join(t.TempDir(), "c.zip")
	if _, err := Write(context.Background(), out, []Entry{{Path: "a.py", Data: []byte("x")}}, Options{Comment: "runtime=python3.12 arch=arm64"}); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.OpenReader(out)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	if zr.Comment != "runtime=python3.12 arch=arm64" {
		t.Errorf("comment %q", zr.Comment)
	}
	external(t, out)
}
