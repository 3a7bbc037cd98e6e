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
