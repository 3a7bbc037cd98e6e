package cli_test

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lambdapack/lambdapack/internal/record"
	"github.com/lambdapack/lambdapack/internal/testutil"
)

// verifyZip writes a layer of one wheel under python/, plus extra files,
// with lambdapack's record rec in its archive comment (none when nil).
func verifyZip(t *testing.T, w testutil.Wheel, extra map[string][]byte, rec *record.Record) string {
	t.Helper()
	data := w.Bytes()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name string, b []byte) {
		fw, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(b)
	}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		b.ReadFrom(rc)
		rc.Close()
		add("python/"+f.Name, b.Bytes())
	}
	for name, b := range extra {
		add(name, b)
	}
	if rec != nil {
		c, err := rec.Format()
		if err != nil {
			t.Fatal(err)
		}
		zw.SetComment(c)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "layer.zip")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// machO is a Mach-O header padded like a file: a foreign binary for verify.
func machO() []byte {
	b := make([]byte, 1024)
	binary.LittleEndian.PutUint32(b, 0xfeedfacf)
	binary.LittleEndian.PutUint32(b[4:], 0x01000007)
	return b
}

// TestVerifyCLITargetAndGrouping: `lambdapack verify ZIP` without flags
// checks the target the zip's record names and says so; without a record it
// exits 2 asking for --runtime; findings of one rule and package are one
// entry unless -v; --arch still overrides the record.
func TestVerifyCLITargetAndGrouping(t *testing.T) {
	w := testutil.Wheel{Name: "tiny", Version: "1.0", Files: map[string][]byte{"tiny/__init__.py": []byte("X = 1\n")}}
	for _, m := range []string{"a", "b", "c"} {
		w.Files["tiny/_"+m+".abi3.so"] = machO()
	}
	rec := &record.Record{Runtime: "python3.13", Architecture: "arm64", Architectures: []string{"arm64", "x86_64"}, Python: "3.13"}
	recorded := verifyZip(t, w, nil, rec)
	bare := verifyZip(t, w, nil, nil)

	code, out, errOut := cliMain(t, "verify", recorded)
	if code != 1 || !strings.HasPrefix(out, "target from the zip's record: python3.13/arm64\n") {
		t.Errorf("recorded zip, no flags: exit %d\n%s%s", code, out, errOut)
	}
	if n := strings.Count(out, "error   foreign-binary:"); n != 1 || !strings.Contains(out, "error   foreign-binary: 3 files of tiny==1.0, first python/tiny/_a.abi3.so\n") || !strings.Contains(out, "FAILED: 3 errors") {
		t.Errorf("want one grouped foreign-binary entry counting 3 files, got %d:\n%s", n, out)
	}
	code, out, _ = cliMain(t, "verify", recorded, "-v")
	if code != 1 || strings.Count(out, "error   foreign-binary: python/tiny/_") != 3 {
		t.Errorf("-v: exit %d, want 3 foreign-binary lines:\n%s", code, out)
	}
	code, out, _ = cliMain(t, "verify", recorded, "--runtime", "python3.12", "--arch", "x86_64")
	if code != 1 || !strings.Contains(out, " for python3.12/x86_64 (layer") || strings.Contains(out, "from the zip's record") || !strings.Contains(out, "note: the zip's record says it was built for python3.13; checking python3.12 as asked") {
		t.Errorf("flags over the record: exit %d:\n%s", code, out)
	}

	code, out, errOut = cliMain(t, "verify", bare)
	if code != 2 || out != "" || !strings.Contains(errOut, "--runtime is required") || !strings.Contains(errOut, "for example --runtime python3.12") {
		t.Errorf("no record, no --runtime: exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = cliMain(t, "verify", bare, "--runtime", "python3.12")
	if code != 1 || !strings.Contains(out, " for python3.12/x86_64 (layer") || strings.Contains(out, "record") {
		t.Errorf("no record, --runtime: exit %d:\n%s", code, out)
	}

	// A clean recorded layer exits 0.
	clean := verifyZip(t, testutil.Wheel{Name: "tiny", Version: "1.0", Files: map[string][]byte{"tiny/__init__.py": []byte("X = 1\n")}}, nil, rec)
	if code, out, _ := cliMain(t, "verify", clean); code != 0 || !strings.Contains(out, "ok: 0 errors") {
		t.Errorf("clean recorded layer: exit %d:\n%s", code, out)
	}
}
