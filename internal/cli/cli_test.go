package cli_test

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lambdapack/lambdapack/internal/cli"
	"github.com/lambdapack/lambdapack/internal/testutil"
)

// `lambdapack layer` and `lambdapack function` through cli.Main, the way a
// user runs them: flags parsed by cobra, human output on stderr, the JSON
// report on stdout, exit codes.

func cliMain(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = cli.Main(args, strings.NewReader(""), &out, &errb)
	t.Logf("lambdapack %s -> %d\n%s", strings.Join(args, " "), code, errb.String())
	return code, out.String(), errb.String()
}

// cliSharedCache is the cache the end-to-end tests share between runs (the
// same folder internal/app's end-to-end tests use).
func cliSharedCache(t *testing.T) string {
	t.Helper()
	dir, err := os.UserCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "lambdapack-test", "e2e-cache")
}

// cliReport is the --json report's shape, as the issue states it.
type cliReport struct {
	Artifacts []struct {
		Kind          string   `json:"kind"`
		Path          string   `json:"path"`
		SHA256        string   `json:"sha256"`
		Size          int64    `json:"size"`
		UnzippedSize  int64    `json:"unzipped_size"`
		Runtime       string   `json:"runtime"`
		Architecture  string   `json:"architecture"`
		Architectures []string `json:"architectures"`
		Python        string   `json:"python"`
		Pure          *bool    `json:"pure"`
		Notes         []string `json:"notes"`
		Packages      []struct {
			Name     string `json:"name"`
			Version  string `json:"version"`
			Filename string `json:"filename"`
			Size     int64  `json:"size"`
		} `json:"packages"`
	} `json:"artifacts"`
}

func cliParseReport(t *testing.T, stdout string) cliReport {
	t.Helper()
	var r cliReport
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(stdout), &raw); err != nil {
		t.Fatalf("stdout is not one JSON document: %v\n%s", err, stdout)
	}
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("report: %v", err)
	}
	if len(r.Artifacts) != 1 {
		t.Fatalf("want one artifact in the report, got %d:\n%s", len(r.Artifacts), stdout)
	}
	a := r.Artifacts[0]
	if a.Pure == nil {
		t.Errorf("report lacks \"pure\"")
	}
	data, err := os.ReadFile(a.Path)
	if err != nil {
		t.Fatalf("the report's path: %v", err)
	}
	sum := sha256.Sum256(data)
	if hex.EncodeToString(sum[:]) != a.SHA256 || int64(len(data)) != a.Size {
		t.Errorf("report sha256 %s size %d, file sha256 %x size %d", a.SHA256, a.Size, sum, len(data))
	}
	return r
}

// cliUnzip extracts a zip with Info-ZIP's unzip: a third-party reader of
// what lambdapack writes.
func cliUnzip(t *testing.T, p string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("unzip", "-q", p, "-d", dir).CombinedOutput(); err != nil {
		t.Fatalf("unzip %s: %v\n%s", p, err, out)
	}
	return dir
}

// A pure-Python layer from the real index (index flags left out, so the
// product finds it as it does for a user): the JSON report says pure and
// both architectures, the human output says so too, and it imports.
// (requests alone is not pure: its charset-normalizer has binary wheels,
// which the resolver rightly prefers.)
func TestCLILayerPureJSON(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "pure.zip")
	code, stdout, stderr := cliMain(t, "layer", "python-dateutil", "jmespath", "idna", "--runtime", "python3.12", "--arch", "arm64",
		"-o", out, "--cache-dir", cliSharedCache(t), "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	a := cliParseReport(t, stdout).Artifacts[0]
	if a.Kind != "layer" || a.Runtime != "python3.12" || a.Python != "3.12" || a.Architecture != "arm64" || a.Path != out {
		t.Errorf("report: %+v", a)
	}
	if a.Pure == nil || !*a.Pure || !slices.Equal(a.Architectures, []string{"x86_64", "arm64"}) {
		t.Errorf("a layer of pure wheels should report pure=true and both architectures; got pure=%v architectures=%v", a.Pure != nil && *a.Pure, a.Architectures)
	}
	var names []string
	for _, p := range a.Packages {
		names = append(names, p.Name)
		if !strings.HasSuffix(p.Filename, "-none-any.whl") {
			t.Errorf("%s is not a pure wheel", p.Filename)
		}
	}
	for _, want := range []string{"python-dateutil", "jmespath", "idna"} {
		if !slices.Contains(names, want) {
			t.Errorf("packages %v lack %s", names, want)
		}
	}
	if !strings.Contains(stderr, "x86_64 and arm64") {
		t.Errorf("the human output should say the layer fits both architectures:\n%s", stderr)
	}
	dir := cliUnzip(t, out)
	got := testutil.RunPython(t, []string{testutil.Python(t, "3.12")}, filepath.Join(dir, "python"), `
import dateutil.parser, jmespath, idna
d = dateutil.parser.parse("2024-02-29T12:30:00Z")
print(d.year, d.month, d.day, jmespath.search("a[1].b", {"a": [{}, {"b": 7}]}), idna.encode("b\u00fccher.example").decode())
`)
	if strings.TrimSpace(got) != "2024 2 29 7 xn--bcher-kva.example" {
		t.Errorf("got %q", got)
	}
}

// A layer whose best wheels include a binary one is not pure, even when the
// packages named are pure Python.
func TestCLILayerNotPureJSON(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "req.zip")
	code, stdout, stderr := cliMain(t, "layer", "requests", "--runtime", "python3.12", "--arch", "arm64",
		"-o", out, "--cache-dir", cliSharedCache(t), "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	a := cliParseReport(t, stdout).Artifacts[0]
	binary := false
	for _, p := range a.Packages {
		binary = binary || !strings.HasSuffix(p.Filename, "-none-any.whl")
	}
	if pure := a.Pure != nil && *a.Pure; pure == binary {
		t.Errorf("pure=%v but binary wheels present=%v: %+v", pure, binary, a.Packages)
	}
	if binary && !slices.Equal(a.Architectures, []string{"arm64"}) {
		t.Errorf("architectures %v, want [arm64]", a.Architectures)
	}
}

// --exclude-package takes a comma-separated list.
func TestCLILayerExcludePackageFlag(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "boto.zip")
	code, stdout, stderr := cliMain(t, "layer", "boto3", "--runtime", "python3.12", "-o", out,
		"--cache-dir", cliSharedCache(t), "--exclude-package", "boto3,botocore,s3transfer", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	a := cliParseReport(t, stdout).Artifacts[0]
	for _, p := range a.Packages {
		if p.Name == "boto3" || p.Name == "botocore" || p.Name == "s3transfer" {
			t.Errorf("%s is in the layer", p.Name)
		}
	}
	for _, n := range testutil.ZipNames(t, out) {
		if strings.HasPrefix(n, "python/boto") || strings.HasPrefix(n, "python/s3transfer") {
			t.Errorf("layer entry %s", n)
		}
	}
	if !strings.Contains(stderr, "runtime provides boto3, botocore and s3transfer") {
		t.Errorf("no note that the runtime provides them:\n%s", stderr)
	}
}

// A function zip from a code folder and a local index: code and packages at
// the root, the default excludes and --exclude applied, the handler runs.
func TestCLIFunctionLocal(t *testing.T) {
	t.Parallel()
	url := testutil.NewIndex(t, testutil.Wheel{Name: "greet", Version: "1.2", Files: map[string][]byte{
		"greet/__init__.py": []byte("def hello(n):\n    return 'hello, ' + n\n"),
	}})
	src := t.TempDir()
	for p, body := range map[string]string{
		"app.py":              "import greet\n\ndef handler(event, context):\n    return {'statusCode': 200, 'body': greet.hello(event['name'])}\n",
		"lib/util.py":         "X = 1\n",
		"notes/draft.md":      "not shipped\n",
		".git/config":         "[core]\n",
		"__pycache__/app.pyc": "junk",
		"requirements.txt":    "greet==1.2\n",
	} {
		full := filepath.Join(src, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(t.TempDir(), "fn.zip")
	code, stdout, stderr := cliMain(t, "function", "--src", src, "-r", filepath.Join(src, "requirements.txt"),
		"--runtime", "python3.13", "--arch", "x86_64", "--index-url", url, "--cache-dir", t.TempDir(),
		"--exclude", "notes", "-o", out, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	a := cliParseReport(t, stdout).Artifacts[0]
	if a.Kind != "function" || a.Runtime != "python3.13" || len(a.Packages) != 1 || a.Packages[0].Name != "greet" {
		t.Errorf("report %+v", a)
	}
	names := testutil.ZipNames(t, out)
	for _, want := range []string{"app.py", "lib/util.py", "requirements.txt", "greet/__init__.py", "greet-1.2.dist-info/RECORD"} {
		if !slices.Contains(names, want) {
			t.Errorf("function zip lacks %s: %v", want, names)
		}
	}
	for _, n := range names {
		if strings.HasPrefix(n, ".git") || strings.Contains(n, "__pycache__") || strings.HasPrefix(n, "notes") {
			t.Errorf("function zip holds %s, which should be excluded", n)
		}
	}
	dir := cliUnzip(t, out)
	got := testutil.RunPython(t, []string{testutil.Python(t, "3.13")}, dir, `import app; print(app.handler({"name": "x"}, None))`)
	if strings.TrimSpace(got) != "{'statusCode': 200, 'body': 'hello, x'}" {
		t.Errorf("handler returned %q", got)
	}

	// -o inside --src: the zip never packs itself (nor an earlier build of
	// itself), so building twice gives the same bytes.
	inner := filepath.Join(src, "dist", "fn.zip")
	var sums []string
	for range 2 {
		code, stdout, stderr := cliMain(t, "function", "--src", src, "-r", filepath.Join(src, "requirements.txt"),
			"--runtime", "python3.13", "--index-url", url, "--cache-dir", t.TempDir(), "--exclude", "notes", "-o", inner, "--json")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		sums = append(sums, cliParseReport(t, stdout).Artifacts[0].SHA256)
	}
	if sums[0] != sums[1] || sums[0] != a.SHA256 {
		t.Errorf("builds of the same code and packages differ: -o outside --src %s, inside %v", a.SHA256, sums)
	}
	for _, n := range testutil.ZipNames(t, inner) {
		if strings.HasPrefix(n, "dist/") {
			t.Errorf("the function zip holds %s: its own output", n)
		}
	}
}

// A hostile wheel through the command line: refused, exit code 2, the
// wheel named, nothing in the output folder.
func TestCLIRefusesHostileWheel(t *testing.T) {
	t.Parallel()
	w := testutil.Wheel{Name: "evil", Version: "1.0", Files: map[string][]byte{
		"evil/__init__.py":         []byte(""),
		"../../escape_cli_test.py": []byte("print('escaped')\n"),
	}}
	base := t.TempDir()
	outDir := filepath.Join(base, "out")
	code, stdout, stderr := cliMain(t, "layer", "evil", "--runtime", "python3.12", "--index-url", testutil.NewIndex(t, w),
		"--cache-dir", filepath.Join(base, "cache"), "-o", filepath.Join(outDir, "layer.zip"), "--json")
	if code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	if stdout != "" {
		t.Errorf("stdout should be empty on failure: %q", stdout)
	}
	if !strings.Contains(stderr, w.Filename()) {
		t.Errorf("stderr does not name %s:\n%s", w.Filename(), stderr)
	}
	if _, err := os.Stat(outDir); err == nil {
		if left := testutil.DirNames(t, outDir); len(left) > 0 {
			t.Errorf("output folder holds %v", left)
		}
	}
	_ = filepath.WalkDir(filepath.Dir(base), func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Name() == "escape_cli_test.py" {
			t.Errorf("%s was written", p)
		}
		return nil
	})
}

// A wheel whose tag claims aarch64 but whose extension is x86_64: the
// arm64 layer is refused (nothing written, exit 2); --force writes it and
// still prints the finding.
func TestCLIVerifyFailureAndForce(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	soBytes := testutil.CompileC(t, "int lp_answer(void) { return 42; }\n", "-shared", "-fPIC")
	const member = "fastthing/_native.cpython-311-aarch64-linux-gnu.so"
	url := testutil.NewIndex(t, testutil.Wheel{
		Name: "fastthing", Version: "1.0", Tags: []string{"cp311-cp311-manylinux2014_aarch64"},
		Files: map[string][]byte{"fastthing/__init__.py": []byte("from ._native import *\n"), member: soBytes},
	})
	outDir := filepath.Join(dir, "out")
	out := filepath.Join(outDir, "layer.zip")
	args := []string{"layer", "fastthing", "--runtime", "python3.11", "--arch", "arm64", "--index-url", url,
		"--cache-dir", filepath.Join(dir, "cache"), "-o", out}
	code, _, stderr := cliMain(t, args...)
	if code == 0 {
		t.Fatalf("an arm64 layer with an x86_64 extension was written")
	}
	if !strings.Contains(stderr, member) || !strings.Contains(stderr, "--force") {
		t.Errorf("stderr should name %s and offer --force:\n%s", member, stderr)
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("%s exists after verification failed", out)
	}
	if _, err := os.Stat(outDir); err == nil {
		if left := testutil.DirNames(t, outDir); len(left) > 0 {
			t.Errorf("output folder holds %v", left)
		}
	}

	code, _, stderr = cliMain(t, append(args, "--force")...)
	if code != 0 {
		t.Fatalf("--force: exit %d", code)
	}
	if !slices.Contains(testutil.ZipNames(t, out), "python/"+member) {
		t.Errorf("the forced layer lacks python/%s", member)
	}
	if !strings.Contains(stderr, "error") || !strings.Contains(stderr, member) {
		t.Errorf("--force should still print the finding:\n%s", stderr)
	}
}

// --offline with the real index: an empty cache fails naming what it lacks;
// after one online build into that cache, the offline build succeeds and
// gives the same zip.
func TestCLIOfflineRealIndex(t *testing.T) {
	t.Parallel()
	cache := t.TempDir()
	dir := t.TempDir()
	args := func(name string, extra ...string) []string {
		return append([]string{"layer", "requests", "--runtime", "python3.12", "--cache-dir", cache,
			"-o", filepath.Join(dir, name), "--json"}, extra...)
	}
	code, _, stderr := cliMain(t, args("cold.zip", "--offline")...)
	if code == 0 {
		t.Fatal("--offline on an empty cache succeeded")
	}
	if !strings.Contains(stderr, "requests") || !strings.Contains(stderr, "offline") {
		t.Errorf("the error should say what is missing offline:\n%s", stderr)
	}
	if left := testutil.DirNames(t, dir); len(left) > 0 {
		t.Errorf("failed build left %v", left)
	}
	code, stdout, stderr := cliMain(t, args("online.zip")...)
	if code != 0 {
		t.Fatalf("online: exit %d: %s", code, stderr)
	}
	online := cliParseReport(t, stdout).Artifacts[0]
	code, stdout, stderr = cliMain(t, args("offline.zip", "--offline")...)
	if code != 0 {
		t.Fatalf("offline after an online build: exit %d: %s", code, stderr)
	}
	offline := cliParseReport(t, stdout).Artifacts[0]
	if offline.SHA256 != online.SHA256 {
		t.Errorf("offline build %s differs from the online one %s", offline.SHA256, online.SHA256)
	}
}

// Symlinks in a function's code: one to a file inside --src is packed as
// that file's bytes; one leading outside is refused, naming it.
func TestCLIFunctionSymlinks(t *testing.T) {
	t.Parallel()
	url := testutil.NewIndex(t, testutil.Wheel{Name: "greet", Version: "1.2", Files: map[string][]byte{"greet/__init__.py": nil}})
	build := func(t *testing.T, src string) (int, string, string) {
		return cliMain(t, "function", "--src", src, "greet", "--runtime", "python3.12", "--index-url", url,
			"--cache-dir", t.TempDir(), "-o", filepath.Join(t.TempDir(), "fn.zip"), "--json")
	}
	mk := func(t *testing.T, links map[string]string) string {
		src := t.TempDir()
		for p, body := range map[string]string{"app.py": "X = 1\n", "data/config.json": "{}\n", "..root.json": "{\"h\": 1}\n"} {
			full := filepath.Join(src, filepath.FromSlash(p))
			if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(full, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		for name, target := range links {
			if err := os.Symlink(target, filepath.Join(src, name)); err != nil {
				t.Fatal(err)
			}
		}
		return src
	}
	t.Run("inside", func(t *testing.T) {
		code, stdout, stderr := build(t, mk(t, map[string]string{"config.json": "data/config.json"}))
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		a := cliParseReport(t, stdout).Artifacts[0]
		zr, err := zip.OpenReader(a.Path)
		if err != nil {
			t.Fatal(err)
		}
		defer zr.Close()
		for _, f := range zr.File {
			if f.Name == "config.json" {
				if f.Mode()&fs.ModeSymlink != 0 || f.UncompressedSize64 != 3 {
					t.Errorf("config.json: mode %v, %d bytes; want the target's 3 bytes as a regular file", f.Mode(), f.UncompressedSize64)
				}
				return
			}
		}
		t.Errorf("config.json (a symlink to data/config.json) is missing")
	})
	t.Run("outside", func(t *testing.T) {
		outside := filepath.Join(t.TempDir(), "secret.txt")
		if err := os.WriteFile(outside, []byte("secret"), 0o644); err != nil {
			t.Fatal(err)
		}
		code, _, stderr := build(t, mk(t, map[string]string{"leak.txt": outside}))
		if code == 0 || !strings.Contains(stderr, "leak.txt") || !strings.Contains(stderr, "outside") {
			t.Errorf("a symlink leading outside --src: exit %d, stderr:\n%s", code, stderr)
		}
	})
	// A target inside --src whose name merely starts with "..".
	t.Run("inside, name starting with two dots", func(t *testing.T) {
		code, _, stderr := build(t, mk(t, map[string]string{"root.json": "..root.json"}))
		if code != 0 {
			t.Errorf("exit %d: a symlink to a file inside --src was refused:\n%s", code, stderr)
		}
	})
}
