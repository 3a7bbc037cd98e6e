package app_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/lambdapack/lambdapack/internal/app"
	"github.com/lambdapack/lambdapack/internal/cli"
	"github.com/lambdapack/lambdapack/internal/testutil"
)

func writeZip(t *testing.T, files map[string][]byte) string {
	t.Helper()
	return testutil.WriteZip(t, filepath.Join(t.TempDir(), "art.zip"), files, "")
}

func machO() []byte {
	b := make([]byte, 1024)
	binary.LittleEndian.PutUint32(b, 0xfeedfacf)
	binary.LittleEndian.PutUint32(b[4:], 0x01000007)
	return b
}

// pureLayer is a layer holding one pure-Python wheel under python/.
func pureLayer(t *testing.T) map[string][]byte {
	w := testutil.Wheel{Name: "tiny", Version: "1.0", Files: map[string][]byte{"tiny/__init__.py": []byte("X = 1\n")}}
	zr, err := zip.NewReader(bytes.NewReader(w.Bytes()), int64(len(w.Bytes())))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, _ := f.Open()
		var b bytes.Buffer
		b.ReadFrom(rc)
		rc.Close()
		out["python/"+f.Name] = b.Bytes()
	}
	return out
}

func run(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := cli.Main(args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestVerifyExitCodes(t *testing.T) {
	good := writeZip(t, pureLayer(t))
	badFiles := pureLayer(t)
	badFiles["python/tiny/_fast.abi3.so"] = machO()
	bad := writeZip(t, badFiles)
	warnOnly := writeZip(t, map[string][]byte{"bin/tool": []byte("#!/bin/sh\necho hi\n")})

	for _, c := range []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"clean", []string{"verify", good, "--runtime", "python3.12", "--arch", "arm64"}, 0, "ok: 0 errors"},
		{"error", []string{"verify", bad, "--runtime", "python3.12"}, 1, "foreign-binary: python/tiny/_fast.abi3.so [tiny==1.0]"},
		{"warning", []string{"verify", warnOnly, "--runtime", "python3.12"}, 0, "warning layout"},
		{"warning strict", []string{"verify", warnOnly, "--runtime", "python3.12", "--strict"}, 1, "1 warning"},
		{"over the size limit with --with", []string{"verify", good, "--runtime", "python3.12", "--with", "262144000"}, 1, "error   size"},
		{"with a zip", []string{"verify", good, "--runtime", "python3.12", "--with", good}, 0, "from --with"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := run(c.args...)
			if code != c.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, c.code, out, errOut)
			}
			if !strings.Contains(out, c.out) {
				t.Errorf("output lacks %q:\n%s", c.out, out)
			}
		})
	}
	if code, _, errOut := run("verify", filepath.Join(t.TempDir(), "nope.zip"), "--runtime", "python3.12"); code != 2 || !strings.Contains(errOut, "nope.zip") {
		t.Errorf("missing file: exit %d: %s", code, errOut)
	}
	if code, _, errOut := run("verify", good, "--runtime", "python2.7"); code != 2 || !strings.Contains(errOut, "runtime") {
		t.Errorf("bad runtime: exit %d: %s", code, errOut)
	}
	if code, _, errOut := run("verify", good, "--runtime", "python3.12", "--with", "lots"); code != 2 || !strings.Contains(errOut, "--with") {
		t.Errorf("bad --with: exit %d: %s", code, errOut)
	}
}

func TestVerifyJSON(t *testing.T) {
	files := pureLayer(t)
	files["python/tiny/_fast.abi3.so"] = machO()
	p := writeZip(t, files)
	code, out, errOut := run("verify", p, "--runtime", "python3.11", "--arch", "aarch64", "--json")
	if code != 1 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var doc struct {
		Findings []map[string]any `json:"findings"`
		Target   string           `json:"target"`
		Errors   int              `json:"errors"`
		Total    int64            `json:"total_bytes"`
		Packages []map[string]any `json:"largest_packages"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if doc.Target != "python3.11/arm64" || doc.Errors != 1 || doc.Total <= 0 || len(doc.Packages) != 1 {
		t.Errorf("summary: %+v", doc)
	}
	want := []string{"file", "fix", "message", "package", "rule", "severity"}
	for _, f := range doc.Findings {
		var keys []string
		for k := range f {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if strings.Join(keys, ",") != strings.Join(want, ",") {
			t.Errorf("finding keys %v", keys)
		}
	}
	if len(doc.Findings) != 2 || doc.Findings[0]["severity"] != "error" || doc.Findings[0]["rule"] != "foreign-binary" || doc.Findings[0]["package"] != "tiny==1.0" {
		t.Errorf("findings %v", doc.Findings)
	}
}

func TestParseWithAndSize(t *testing.T) {
	for s, want := range map[string]int64{"12345": 12345, "40MB": 40_000_000, "12.5MiB": 13_107_200, "1g": 1_000_000_000, "2 KiB": 2048} {
		got, ok := app.ParseSize(s)
		if !ok || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", s, got, ok, want)
		}
	}
	for _, s := range []string{"", "MB", "-1", "1TB"} {
		if _, ok := app.ParseSize(s); ok {
			t.Errorf("ParseSize(%q) accepted", s)
		}
	}
	p := writeZip(t, map[string][]byte{"a": make([]byte, 1000), "b/c": make([]byte, 24)})
	e, err := app.ParseWith(context.Background(), p)
	if err != nil || e.Size != 1024 {
		t.Errorf("ParseWith(zip) = %+v, %v", e, err)
	}
}
