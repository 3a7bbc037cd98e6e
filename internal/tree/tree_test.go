package tree

import (
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestOpenAndSort(t *testing.T) {
	disk := filepath.Join(t.TempDir(), "app.py")
	if err := os.WriteFile(disk, []byte("print(1)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tr := &Tree{Files: []File{
		{Path: "b.txt", Origin: FromBytes, Data: []byte("bee"), Size: 3},
		{Path: "app.py", Origin: FromDisk, Disk: disk, Size: 9, Role: RoleCode, Mode: 0o755},
	}}
	if err := tr.Sort(); err != nil {
		t.Fatal(err)
	}
	if tr.Files[0].Path != "app.py" || tr.Size() != 12 || !tr.Files[0].Executable() {
		t.Fatalf("sorted %+v size %d", tr.Files, tr.Size())
	}
	for _, f := range tr.Files {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if int64(len(b)) != f.Size {
			t.Errorf("%s: read %d bytes, want %d", f.Path, len(b), f.Size)
		}
	}
	if code := tr.Select(func(f *File) bool { return f.Role == RoleCode }); len(code) != 1 || code[0].Path != "app.py" {
		t.Errorf("Select code: %v", code)
	}
	tr.Files = append(tr.Files, File{Path: "app.py", Origin: FromBytes})
	if err := tr.Sort(); err == nil {
		t.Error("a path planned twice was accepted")
	}
	if _, err := (&File{Path: "x"}).Open(); err == nil {
		t.Error("a file with no origin opened")
	}
}

// A part sees its own files and those outside every other part's folder
// (a script in bin/ both installations share), not another Python's.
func TestPartFiles(t *testing.T) {
	tr := &Tree{
		Parts: []Part{{Root: "python/lib/python3.12/site-packages/"}, {Root: "python/lib/python3.13/site-packages/"}},
		Files: []File{
			{Path: "bin/tool", Part: 0},
			{Path: "python/lib/python3.12/site-packages/a.py", Part: 0},
			{Path: "python/lib/python3.13/site-packages/a.py", Part: 1},
		},
	}
	paths := func(fs []*File) []string {
		var out []string
		for _, f := range fs {
			out = append(out, f.Path)
		}
		return out
	}
	if got := paths(tr.PartFiles(1)); len(got) != 2 || got[0] != "bin/tool" || got[1] != "python/lib/python3.13/site-packages/a.py" {
		t.Errorf("part 1 sees %v", got)
	}
	if got := paths(tr.PartFiles(0)); len(got) != 2 || got[1] != "python/lib/python3.12/site-packages/a.py" {
		t.Errorf("part 0 sees %v", got)
	}
}

func TestValidPath(t *testing.T) {
	for p, ok := range map[string]bool{
		"python/a.py": true, "bin/": true, "": false, "/abs": false, "a/../b": false, "a\\b": false,
		"C:/x": false, "a//b": false, "./a": false, "a/\x00": false, "\xff": false,
	} {
		if got := ValidPath(p) == nil; got != ok {
			t.Errorf("ValidPath(%q) ok = %v, want %v", p, got, ok)
		}
	}
}
