package cli_test

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"debug/elf"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lambdapack/lambdapack/internal/testutil"
)

// Building from source through the command line, on the real index with
// the shared test cache: --no-build, --no-binary, --only-binary and
// --build-timeout; a lock that records only an sdist; the config keys.

// zipHas returns the names of a zip's entries that have the prefix.
func zipHas(t *testing.T, p, prefix string) []string {
	t.Helper()
	zr, err := zip.OpenReader(p)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var out []string
	for _, f := range zr.File {
		if strings.HasPrefix(f.Name, prefix) {
			out = append(out, f.Name)
		}
	}
	return out
}

// TestSdistLockThenLayer: `lambdapack lock imutils` records its sdist (it
// has no wheel), and `lambdapack layer --lock` builds it through the
// pipeline; --no-build and --only-binary refuse, saying why.
func TestSdistLockThenLayer(t *testing.T) {
	dir := t.TempDir()
	cache := testutil.SharedCache(t)
	lockPath := filepath.Join(dir, "pylock.toml")
	common := []string{"--runtime", "python3.11", "--arch", "x86_64", "--cache-dir", cache}
	code, _, stderr := lambdapack(t, append([]string{"lock", "imutils==0.5.4", "-o", lockPath}, common...)...)
	if code != 0 {
		t.Fatalf("lock: exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "Note: imutils 0.5.4 is built from source for python3.11/x86_64 (imutils-0.5.4.tar.gz): it has only a source distribution") {
		t.Errorf("lock: no note of the build:\n%s", stderr)
	}
	data, err := os.ReadFile(lockPath)
	if err != nil || !strings.Contains(string(data), "[packages.sdist]\nname = \"imutils-0.5.4.tar.gz\"") || strings.Contains(string(data), "[[packages.wheels]]") {
		t.Fatalf("the lock does not record the sdist alone: %v\n%s", err, data)
	}

	out := filepath.Join(dir, "layer.zip")
	code, _, stderr = lambdapack(t, append([]string{"layer", "--lock", lockPath, "-o", out}, common...)...)
	if code != 0 {
		t.Fatalf("layer --lock: exit %d\n%s", code, stderr)
	}
	if got := zipHas(t, out, "python/imutils/__init__.py"); len(got) != 1 {
		t.Errorf("the layer lacks imutils: %v", zipHas(t, out, "python/"))
	}
	if got := zipHas(t, out, "python/imutils-0.5.4.dist-info/WHEEL"); len(got) != 1 {
		t.Errorf("the layer lacks imutils' dist-info")
	}

	code, _, stderr = lambdapack(t, append([]string{"layer", "--lock", lockPath, "--no-build", "-o", filepath.Join(dir, "x.zip")}, common...)...)
	if code == 0 || !strings.Contains(stderr, "imutils 0.5.4 has only a source distribution in the lock (imutils-0.5.4.tar.gz), and --no-build rules out building it") {
		t.Errorf("--no-build with a lock: exit %d\n%s", code, stderr)
	}
	code, _, stderr = lambdapack(t, append([]string{"layer", "imutils", "--only-binary", ":all:", "-o", filepath.Join(dir, "x.zip")}, common...)...)
	if code == 0 || !strings.Contains(stderr, "--only-binary :all: rules out building it") {
		t.Errorf("--only-binary :all:: exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "x.zip")); !os.IsNotExist(err) {
		t.Errorf("a refused build wrote its zip: %v", err)
	}
}

// TestSdistBuildTimeout: a build that runs longer than --build-timeout is
// stopped, and the error says so.
func TestSdistBuildTimeout(t *testing.T) {
	dir := t.TempDir()
	links := filepath.Join(dir, "links")
	os.Mkdir(links, 0o755)
	files := map[string]string{
		"PKG-INFO":                  "Metadata-Version: 2.2\nName: lp-slow-build\nVersion: 1.0\n",
		"pyproject.toml":            "[build-system]\nrequires = [\"setuptools>=61\"]\nbuild-backend = \"setuptools.build_meta\"\n",
		"lp_slow_build/__init__.py": "",
		"setup.py":                  "import time\nfrom setuptools import setup\ntime.sleep(120)\nsetup(name='lp-slow-build', version='1.0', packages=['lp_slow_build'])\n",
	}
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, name := range []string{"PKG-INFO", "lp_slow_build/__init__.py", "pyproject.toml", "setup.py"} {
		body := files[name]
		tw.WriteHeader(&tar.Header{Name: "lp_slow_build-1.0/" + name, Mode: 0o644, Size: int64(len(body)), ModTime: time.Unix(0, 0), Typeflag: tar.TypeReg})
		io.WriteString(tw, body)
	}
	tw.Close()
	gz.Close()
	if err := os.WriteFile(filepath.Join(links, "lp_slow_build-1.0.tar.gz"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	code, _, stderr := lambdapack(t, "layer", "lp-slow-build", "--runtime", "python3.12", "-f", links, "--build-timeout", "3s",
		"--cache-dir", testutil.SharedCache(t), "-o", filepath.Join(dir, "layer.zip"))
	took := time.Since(start)
	if code == 0 || !strings.Contains(stderr, "(stopped after --build-timeout 3s)") {
		t.Fatalf("exit %d after %s\n%s", code, took, stderr)
	}
	if took > 90*time.Second {
		t.Errorf("took %s: the timeout did not stop the builds", took)
	}
}

// TestSdistConfigKeys: [tool.lambdapack]'s no-binary builds MarkupSafe's
// C extension for the layer's target (arm64), as --no-binary would.
func TestSdistConfigKeys(t *testing.T) {
	dir := t.TempDir()
	testutil.WriteFiles(t, dir, map[string]string{"pyproject.toml": `[project]
name = "web"
version = "0.1.0"

[tool.lambdapack]
runtime = "python3.11"
architecture = "arm64"
no-binary = ["markupsafe"]
build-timeout = "10m"

[tool.lambdapack.layers.deps]
dependencies = ["markupsafe"]
`})
	code, _, stderr := lambdapack(t, "build", dir, "--cache-dir", testutil.SharedCache(t))
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "is built from source for python3.11/arm64") {
		t.Errorf("no note of the build:\n%s", stderr)
	}
	zipPath := filepath.Join(dir, "dist", "deps-arm64.zip")
	sos := zipHas(t, zipPath, "python/markupsafe/_speedups.cpython-311-aarch64-linux-gnu.so")
	if len(sos) != 1 {
		t.Fatalf("no aarch64 extension in the layer: %v", zipHas(t, zipPath, "python/markupsafe/"))
	}
	unz := testutil.Unzip(t, zipPath)
	f, err := elf.Open(filepath.Join(unz, sos[0]))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Machine != elf.EM_AARCH64 {
		t.Errorf("the extension is for %v", f.Machine)
	}

	// A bad value names the file and line.
	testutil.WriteFiles(t, dir, map[string]string{"pyproject.toml": "[tool.lambdapack]\nruntime = \"python3.11\"\nbuild-timeout = \"soon\"\n\n[tool.lambdapack.layers.deps]\ndependencies = [\"markupsafe\"]\n"})
	code, _, stderr = lambdapack(t, "build", dir, "--cache-dir", testutil.SharedCache(t))
	if code == 0 || !strings.Contains(stderr, "pyproject.toml:3: build-timeout \"soon\" is not a duration") {
		t.Errorf("exit %d\n%s", code, stderr)
	}
}
