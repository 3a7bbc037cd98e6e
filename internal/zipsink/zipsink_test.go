package zipsink_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lambdapack/lambdapack/internal/record"
	"github.com/lambdapack/lambdapack/internal/testutil"
	"github.com/lambdapack/lambdapack/internal/tree"
	"github.com/lambdapack/lambdapack/internal/zipsink"
)

// wheelMember writes a wheel and returns its deflated member at name.
func wheelMember(t *testing.T, name string) *zip.File {
	t.Helper()
	w := testutil.Wheel{Name: "pkg", Version: "1.0", Files: map[string][]byte{name: []byte(strings.Repeat("x = 1\n", 500))}}
	p := filepath.Join(t.TempDir(), w.Filename())
	if err := os.WriteFile(p, w.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.OpenReader(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { zr.Close() })
	for _, f := range zr.File {
		if f.Name == name {
			if f.Method != zip.Deflate {
				t.Fatalf("%s is not deflated in the test wheel", name)
			}
			return f
		}
	}
	t.Fatalf("no %s in the test wheel", name)
	return nil
}

func testTree(t *testing.T) *tree.Tree {
	m := wheelMember(t, "pkg/mod.py")
	disk := filepath.Join(t.TempDir(), "app.py")
	if err := os.WriteFile(disk, []byte("def handler(e, c): return 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tr := &tree.Tree{
		Record: record.Record{Kind: record.KindFunction, Runtime: "python3.12", Architecture: "x86_64", Handler: "app.handler"},
		Files: []tree.File{
			{Path: "pkg/mod.py", Mode: 0o644, Size: int64(m.UncompressedSize64), Origin: tree.FromWheel, Member: m, Dist: "pkg"},
			{Path: "pkg-1.0.dist-info/INSTALLER", Mode: 0o644, Size: 11, Origin: tree.FromBytes, Data: []byte("lambdapack\n"), Dist: "pkg"},
			{Path: "pkg-1.0.dist-info/REQUESTED", Mode: 0o644, Origin: tree.FromBytes}, // empty, nil Data
			{Path: "app.py", Mode: 0o755, Size: 28, Origin: tree.FromDisk, Disk: disk, Role: tree.RoleCode},
		},
		Parts: []tree.Part{{Root: ""}},
	}
	if err := tr.Sort(); err != nil {
		t.Fatal(err)
	}
	return tr
}

// progress records what the sink reports.
type progress struct {
	started, done bool
	total, sum    int64
	err           error
}

func (p *progress) Start(_ string, size int64) { p.started, p.total = true, size }
func (p *progress) Advance(_ string, n int64)  { p.sum += n }
func (p *progress) Done(_ string, err error)   { p.done, p.err = true, err }

func TestWriteTree(t *testing.T) {
	tr := testTree(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "dist", "sub", "function.zip")
	pr := &progress{}
	s, err := zipsink.New(out, zipsink.WithProgress(pr))
	if err != nil {
		t.Fatal(err)
	}
	w, err := s.Write(context.Background(), tr)
	if err != nil {
		t.Fatal(err)
	}
	if w.Path != out || len(w.SHA256) != 64 || w.UnzippedSize != tr.Size() || !strings.Contains(w.Summary, "1 copied compressed from the wheels") {
		t.Errorf("written %+v", w)
	}
	if st, err := os.Stat(out); err != nil || st.Size() != w.Size {
		t.Fatalf("zip on disk: %v (size %d, reported %d)", err, st.Size(), w.Size)
	}
	if !pr.started || !pr.done || pr.err != nil || pr.sum != tr.Size() || pr.total != tr.Size() {
		t.Errorf("progress %+v, want %d bytes", pr, tr.Size())
	}
	rec, err := record.ReadZip(out)
	if err != nil || rec.Kind != record.KindFunction || rec.Handler != "app.handler" {
		t.Errorf("record %+v %v", rec, err)
	}
	zr, err := zip.OpenReader(out)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	got := map[string]*zip.File{}
	for _, f := range zr.File {
		got[f.Name] = f
	}
	for _, f := range tr.Files {
		zf := got[f.Path]
		if zf == nil {
			t.Errorf("%s missing from the zip", f.Path)
			continue
		}
		want, _ := f.Open()
		wb, _ := io.ReadAll(want)
		want.Close()
		rc, _ := zf.Open()
		gb, _ := io.ReadAll(rc)
		rc.Close()
		if !bytes.Equal(wb, gb) {
			t.Errorf("%s: content differs", f.Path)
		}
		if (zf.Mode()&0o111 != 0) != f.Executable() {
			t.Errorf("%s: mode %v", f.Path, zf.Mode())
		}
	}
	// The wheel member went in raw: the same compressed bytes.
	src := tr.Files[len(tr.Files)-1]
	for _, f := range tr.Files {
		if f.Origin == tree.FromWheel {
			src = f
		}
	}
	if a, b := rawBytes(t, src.Member), rawBytes(t, got[src.Path]); !bytes.Equal(a, b) {
		t.Error("the deflated wheel member was not copied raw")
	}
	// The same tree gives the same bytes.
	again := filepath.Join(dir, "again.zip")
	s2, _ := zipsink.New(again)
	w2, err := s2.Write(context.Background(), tr)
	if err != nil || w2.SHA256 != w.SHA256 {
		t.Errorf("second write: %v, sha256 %s vs %s", err, w2.SHA256, w.SHA256)
	}
}

func rawBytes(t *testing.T, f *zip.File) []byte {
	r, err := f.OpenRaw()
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A failed write leaves nothing: no zip, no temporary file, no folder it
// made; an existing zip at the destination is untouched.
func TestFailureLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	tr := testTree(t)
	tr.Files = append(tr.Files, tree.File{Path: "zz/gone.py", Origin: tree.FromDisk, Disk: filepath.Join(dir, "no-such-file")})
	out := filepath.Join(dir, "new", "deeper", "layer.zip")
	s, err := zipsink.New(out)
	if err != nil {
		t.Fatal(err)
	}
	pr := &progress{}
	s2, _ := zipsink.New(out, zipsink.WithProgress(pr))
	for _, s := range []*zipsink.Sink{s, s2} {
		if _, err := s.Write(context.Background(), tr); err == nil || !strings.Contains(err.Error(), "zz/gone.py") {
			t.Fatalf("a missing source file: err = %v", err)
		}
	}
	if pr.err == nil {
		t.Error("progress was not told of the failure")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("left behind in %s: %v", dir, ents)
	}

	existing := filepath.Join(dir, "layer.zip")
	os.WriteFile(existing, []byte("old"), 0o644)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s3, _ := zipsink.New(existing)
	if _, err := s3.Write(ctx, testTree(t)); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: err = %v", err)
	}
	if b, _ := os.ReadFile(existing); string(b) != "old" {
		t.Errorf("the existing zip changed: %q", b)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("left behind: %v", ents)
	}
}

func TestRefusesNonFileDestination(t *testing.T) {
	dir := t.TempDir()
	if _, err := zipsink.New(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("a folder as destination: %v", err)
	}
	if _, err := zipsink.New(""); err == nil {
		t.Error("an empty path was accepted")
	}
	if _, err := zipsink.New(os.DevNull); err == nil {
		t.Error("a device was accepted")
	}
}

// A zip is written only from files checked against their wheel's RECORD:
// an Unchecked file (install.Options.DeferCheck, which only an image asks
// for) is refused before anything is written.
func TestRefusesUncheckedFiles(t *testing.T) {
	dir := t.TempDir()
	tr := testTree(t)
	tr.Files[0].Unchecked = true
	out := filepath.Join(dir, "layer.zip")
	s, err := zipsink.New(out)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Write(context.Background(), tr); err == nil || !strings.Contains(err.Error(), tr.Files[0].Path+" was not checked against its wheel's RECORD") {
		t.Fatalf("an unchecked file: %v", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("left behind: %v", ents)
	}
}
