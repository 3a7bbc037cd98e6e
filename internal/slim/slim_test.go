package slim_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/lambdapack/lambdapack/internal/index"
	"github.com/lambdapack/lambdapack/internal/slim"
	"github.com/lambdapack/lambdapack/internal/testutil"
)

// tree is a file tree a test builds: path -> content.
type tree map[string][]byte

func (tr tree) files() []slim.File {
	var ps []string
	for p := range tr {
		ps = append(ps, p)
	}
	sort.Strings(ps)
	var out []slim.File
	for _, p := range ps {
		b := tr[p]
		out = append(out, slim.File{Path: p, Size: int64(len(b)), Open: func() (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(b)), nil
		}})
	}
	return out
}

// install unpacks a wheel's members under prefix.
func (tr tree) install(t *testing.T, prefix string, whl []byte) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(whl), int64(len(whl)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/") {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		tr[prefix+f.Name] = b
	}
}

// write puts files in a new folder.
func write(t *testing.T, fs []slim.File, extra ...slim.Compiled) string {
	t.Helper()
	d := t.TempDir()
	put := func(p string, b []byte) {
		dst := filepath.Join(d, filepath.FromSlash(p))
		os.MkdirAll(filepath.Dir(dst), 0o755)
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range fs {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		put(f.Path, b)
	}
	for _, c := range extra {
		put(c.Path, c.Data)
	}
	return d
}

func paths(fs []slim.File) map[string]bool {
	m := map[string]bool{}
	for _, f := range fs {
		m[f.Path] = true
	}
	return m
}

func wheel(name, version string, files map[string]string) []byte {
	fm := map[string][]byte{}
	for k, v := range files {
		fm[k] = []byte(v)
	}
	return testutil.Wheel{Name: name, Version: version, Files: fm}.Bytes()
}

func TestExcludePackages(t *testing.T) {
	tr := tree{}
	tr.install(t, "python/", wheel("boto3", "1.35.0", map[string]string{"boto3/__init__.py": "import botocore\n", "boto3/session.py": "\n"}))
	tr.install(t, "python/", wheel("botocore", "1.35.0", map[string]string{"botocore/__init__.py": "\n", "botocore/data/s3.json": "{}"}))
	tr.install(t, "python/", wheel("s3transfer", "0.10.0", map[string]string{"s3transfer/__init__.py": "\n"}))
	tr.install(t, "python/", wheel("requests", "2.32.0", map[string]string{"requests/__init__.py": "\n"}))
	tr["python/boto3/__pycache__/session.cpython-312.pyc"] = []byte("stale")

	res, err := slim.ExcludePackages(tr.files(), []string{"Boto3", "botocore", "not-there"})
	if err != nil {
		t.Fatal(err)
	}
	kept := paths(res.Files)
	for p := range tr {
		gone := strings.HasPrefix(p, "python/boto3") || strings.HasPrefix(p, "python/botocore")
		if kept[p] == gone {
			t.Errorf("%s: kept %v", p, kept[p])
		}
	}
	if len(res.Removed) == 0 || res.Saved() <= 0 || !strings.Contains(res.Removed[0].Reason, "excluded package") {
		t.Errorf("removed %+v", res.Removed)
	}
	notes := strings.Join(res.Notes, "\n")
	for _, want := range []string{"runtime provides boto3, botocore and s3transfer", "s3transfer stays bundled", "nothing to exclude for not-there"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}

	all, err := slim.ExcludePackages(tr.files(), slim.RuntimeProvided)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(all.Files); n != 4 { // requests: __init__, METADATA, WHEEL, RECORD
		t.Errorf("%d files left: %v", n, paths(all.Files))
	}
	if strings.Contains(strings.Join(all.Notes, ""), "stays bundled") {
		t.Errorf("notes: %v", all.Notes)
	}

	delete(tr, "python/requests-2.32.0.dist-info/RECORD")
	if _, err := slim.ExcludePackages(tr.files(), []string{"requests"}); err == nil || !strings.Contains(err.Error(), "no RECORD") {
		t.Errorf("err = %v", err)
	}
	if _, err := slim.ExcludePackages(tr.files(), []string{"bad name!"}); err == nil {
		t.Error("invalid name accepted")
	}
}

func TestStripPatterns(t *testing.T) {
	tr := tree{
		"python/pkg/__init__.py":          []byte("\n"),
		"python/pkg/__init__.pyi":         []byte("\n"),
		"python/pkg/mod.py":               []byte("\n"),
		"python/pkg/_ext.abi3.so":         []byte("\x7fELF"),
		"python/pkg/docs/index.html":      []byte("<html>"),
		"python/pkg/docs/api/a.html":      []byte("<html>"),
		"python/pkg/data/x/examples.json": []byte("{}"),
		"python/pkg/data/x/service.json":  []byte("{}"),
		"python/pkg-1.0.dist-info/RECORD": []byte(""),
		"python/docs.pth":                 []byte("\n"),
	}
	res, err := slim.StripPatterns(tr.files(), []string{"*.pyi", "docs", "pkg/data/**/examples.json", "__init__.py", "*.so", "RECORD", "*.pth"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{
		"python/pkg/__init__.py": true, "python/pkg/mod.py": true, "python/pkg/_ext.abi3.so": true,
		"python/pkg/data/x/service.json": true, "python/pkg-1.0.dist-info/RECORD": true, "python/docs.pth": true,
	}
	got := paths(res.Files)
	for p := range tr {
		if got[p] != want[p] {
			t.Errorf("%s: kept %v, want %v", p, got[p], want[p])
		}
	}
	if len(res.Kept) != 4 {
		t.Errorf("kept %+v", res.Kept)
	}
	for _, bad := range []string{"", "a/../b", "[", "/"} {
		if _, err := slim.StripPatterns(nil, []string{bad}); err == nil {
			t.Errorf("pattern %q accepted", bad)
		}
	}
}

func TestSlimKeepsWhatImportsNeed(t *testing.T) {
	tr := tree{
		"python/pkg/__init__.py":                   []byte("from . import sub\n"),
		"python/pkg/__init__.pyi":                  []byte("X: int\n"),
		"python/pkg/__pycache__/x.cpython-311.pyc": []byte("stale"),
		"python/pkg/tests/__init__.py":             []byte("\n"),
		"python/pkg/tests/test_a.py":               []byte("def test(): pass\n"),
		"python/pkg/sub/__init__.py":               []byte("from .helpers import VALUE\n"),
		"python/pkg/sub/helpers.py":                []byte("from .tests.fixtures import VALUE\n"),
		"python/pkg/sub/tests/__init__.py":         []byte("\n"),
		"python/pkg/sub/tests/fixtures.py":         []byte("VALUE = 42\n"),
		"python/pkg/other/__init__.py":             []byte("import importlib\nM = importlib.import_module('pkg.other.tests.data')\n"),
		"python/pkg/other/tests/__init__.py":       []byte("\n"),
		"python/pkg/other/tests/data.py":           []byte("D = 1\n"),
		"python/pkg/third/__init__.py":             []byte("from pkg.third import tests as T\n"),
		"python/pkg/third/tests/__init__.py":       []byte("OK = True\n"),
		"python/tests/__init__.py":                 []byte("\n"),
		"python/pkg/tests.py":                      []byte("# a module, not a folder\n"),
	}
	res, err := slim.Slim(tr.files())
	if err != nil {
		t.Fatal(err)
	}
	got := paths(res.Files)
	gone := []string{"python/pkg/__init__.pyi", "python/pkg/__pycache__/x.cpython-311.pyc", "python/pkg/tests/__init__.py", "python/pkg/tests/test_a.py"}
	for _, p := range gone {
		if got[p] {
			t.Errorf("%s kept", p)
		}
	}
	if len(res.Files) != len(tr)-len(gone) {
		t.Errorf("kept %d of %d: removed %+v", len(res.Files), len(tr), res.Removed)
	}
	var reasons []string
	for _, k := range res.Kept {
		reasons = append(reasons, k.Path+": "+k.Reason)
	}
	joined := strings.Join(reasons, "\n")
	for _, want := range []string{"python/pkg/sub/tests/: tests folder kept: imported by python/pkg/sub/helpers.py", "python/pkg/other/tests/", "python/pkg/third/tests/", "python/tests/: tests folder kept: a top-level package"} {
		if !strings.Contains(joined, want) {
			t.Errorf("kept reasons lack %q:\n%s", want, joined)
		}
	}
	// And the slimmed tree imports.
	d := write(t, res.Files)
	py := testutil.Python(t, "3.11")
	cmd := exec.Command(py, "-S", "-B", "-c", "import pkg, pkg.other, pkg.third; assert pkg.sub.VALUE == 42 and pkg.other.M.D == 1 and pkg.third.T.OK")
	cmd.Env = append(os.Environ(), "PYTHONPATH="+filepath.Join(d, "python"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("import after --slim: %v\n%s", err, out)
	}
}

// TestSlimRealWheel: --slim on a real wheel (pyzmq ships zmq/tests and .pyi
// stubs) removes them and the package still imports.
func TestSlimRealWheel(t *testing.T) {
	tr := tree{}
	tr.install(t, "python/", realWheel(t, "pyzmq", "pyzmq-25.1.2-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"))
	res, err := slim.Slim(tr.files())
	if err != nil {
		t.Fatal(err)
	}
	var tests, stubs int
	for _, r := range res.Removed {
		switch {
		case strings.HasPrefix(r.Path, "python/zmq/tests/"):
			tests++
		case strings.HasSuffix(r.Path, ".pyi"):
			stubs++
		default:
			t.Errorf("removed %s (%s)", r.Path, r.Reason)
		}
	}
	if tests < 20 || stubs < 3 {
		t.Errorf("removed %d tests files, %d stubs", tests, stubs)
	}
	d := write(t, res.Files)
	cmd := exec.Command(testutil.Python(t, "3.11"), "-S", "-B", "-c", "import zmq; ctx = zmq.Context(); s = ctx.socket(zmq.PAIR); s.close(); ctx.term()")
	cmd.Env = append(os.Environ(), "PYTHONPATH="+filepath.Join(d, "python"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("import after --slim: %v\n%s", err, out)
	}
}

func TestCompile(t *testing.T) {
	tr := tree{
		"python/pkg/__init__.py":        []byte("from .mod import f\n"),
		"python/pkg/mod.py":             []byte("def f(x):\n    return x in {'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'}\n"),
		"python/pkg/broken.py":          []byte("def (:\n"),
		"python/pkg-1.0.dist-info/x.py": []byte("ignored\n"),
		"python/pkg/data.txt":           []byte("text"),
	}
	ctx := context.Background()
	res, err := slim.Compile(ctx, tr.files(), slim.CompileOptions{Python: "3.12", Mount: "/opt"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range res.Files {
		got = append(got, c.Path)
	}
	want := "python/pkg/__pycache__/__init__.cpython-312.pyc,python/pkg/__pycache__/mod.cpython-312.pyc"
	if strings.Join(got, ",") != want {
		t.Fatalf("compiled %v", got)
	}
	if len(res.Failed) != 1 || res.Failed[0].Path != "python/pkg/broken.py" || res.Failed[0].Reason == "" {
		t.Errorf("failed %+v", res.Failed)
	}
	for _, c := range res.Files {
		// PEP 552 flags word: 0b01 = hash-based, 0b10 = check_source; unchecked = 1.
		if len(c.Data) < 16 || c.Data[4] != 1 {
			t.Errorf("%s: flags % x, want unchecked-hash", c.Path, c.Data[4:8])
		}
		if !bytes.Contains(c.Data, []byte("/opt/python/pkg/")) {
			t.Errorf("%s: source path not under /opt", c.Path)
		}
	}
	// Deterministic, also before 3.11 (where frozenset constants marshal in
	// hash order), whatever the caller's environment says.
	t.Setenv("PYTHONHASHSEED", "random")
	for _, v := range []string{"3.10", "3.12"} {
		var first []slim.Compiled
		for run := 0; run < 3; run++ {
			r, err := slim.Compile(ctx, tr.files(), slim.CompileOptions{Python: v, Mount: "/opt"})
			if err != nil {
				t.Fatal(err)
			}
			if run == 0 {
				first = r.Files
				continue
			}
			for i := range first {
				if !bytes.Equal(first[i].Data, r.Files[i].Data) {
					t.Errorf("%s: %s differs between runs", v, first[i].Path)
				}
			}
		}
	}
	// The interpreter uses them: with the sources' timestamps moved, an
	// unchecked pyc is still loaded (a stale checked one would be rebuilt).
	d := write(t, tr.files(), res.Files...)
	py := testutil.Python(t, "3.12")
	os.WriteFile(filepath.Join(d, "python/pkg/mod.py"), []byte("def f(x):\n    return 'changed'\n"), 0o644)
	cmd := exec.Command(py, "-S", "-B", "-c", "import pkg; print(pkg.f('a'))")
	cmd.Env = append(os.Environ(), "PYTHONPATH="+filepath.Join(d, "python"))
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "True" {
		t.Fatalf("import with compiled bytecode: %v: %s", err, out)
	}

	// No interpreter of that version: a clear error.
	py311 := testutil.Python(t, "3.11")
	t.Setenv("PATH", t.TempDir())
	t.Setenv("PYENV_ROOT", t.TempDir())
	_, err = slim.Compile(ctx, tr.files(), slim.CompileOptions{Python: "3.12"})
	if err == nil || !strings.Contains(err.Error(), "no CPython 3.12 found") || !strings.Contains(err.Error(), "--compile") {
		t.Errorf("err = %v", err)
	}
	// An interpreter of the wrong version is refused.
	_, err = slim.Compile(ctx, tr.files(), slim.CompileOptions{Python: "3.12", Interpreter: py311})
	if err == nil || !strings.Contains(err.Error(), "not CPython 3.12") {
		t.Errorf("err = %v", err)
	}
}

// realWheel downloads a wheel from the configured index (discovered as the
// product does), keeping a hash-checked copy in the user cache folder.
func realWheel(t *testing.T, project, filename string) []byte {
	t.Helper()
	root, err := os.UserCacheDir()
	if err != nil {
		root = os.TempDir()
	}
	cached := filepath.Join(root, "lambdapack-test", "verify-wheels", filename)
	if b, err := os.ReadFile(cached); err == nil {
		return b
	}
	cfg, err := index.DiscoverConfig(index.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := index.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	p, err := c.Project(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range p.Files {
		if f.Filename != filename {
			continue
		}
		rc, err := c.Open(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		if want := f.Hashes["sha256"]; want != "" && hex.EncodeToString(sum[:]) != want {
			t.Fatalf("%s: hash mismatch", filename)
		}
		if os.MkdirAll(filepath.Dir(cached), 0o755) == nil && os.WriteFile(cached+".tmp", b, 0o644) == nil {
			os.Rename(cached+".tmp", cached)
		}
		return b
	}
	t.Fatalf("%s not on the index", filename)
	return nil
}
