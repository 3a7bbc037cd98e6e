package verify_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/lambdapack/lambdapack/internal/index"
	"github.com/lambdapack/lambdapack/internal/target"
	"github.com/lambdapack/lambdapack/internal/verify"
)

// Real wheels the tests take binaries from, by project and file name.
const (
	msX86_311   = "MarkupSafe-2.1.5-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
	msARM_311   = "MarkupSafe-2.1.5-cp311-cp311-manylinux_2_17_aarch64.manylinux2014_aarch64.whl"
	msX86_312   = "MarkupSafe-2.1.5-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
	msI686_311  = "MarkupSafe-2.1.5-cp311-cp311-manylinux_2_5_i686.manylinux1_i686.manylinux_2_17_i686.manylinux2014_i686.whl"
	yamlX86_311 = "PyYAML-6.0.1-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
	yamlARM_311 = "PyYAML-6.0.1-cp311-cp311-manylinux_2_17_aarch64.manylinux2014_aarch64.whl"
	zmqX86_311  = "pyzmq-25.1.2-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
	zmqARM_311  = "pyzmq-25.1.2-cp311-cp311-manylinux_2_17_aarch64.manylinux2014_aarch64.whl"
	// A manylinux_2_28 wheel whose extension really needs GLIBC_2.28.
	crypto228 = "cryptography-50.0.2-cp39-abi3-manylinux_2_28_x86_64.whl"
)

var projectOf = map[string]string{
	msX86_311: "markupsafe", msARM_311: "markupsafe", msX86_312: "markupsafe", msI686_311: "markupsafe",
	yamlX86_311: "pyyaml", yamlARM_311: "pyyaml", zmqX86_311: "pyzmq", zmqARM_311: "pyzmq",
	crypto228: "cryptography",
}

var (
	clientOnce sync.Once
	client     *index.Client
	clientErr  error
	wheelMu    sync.Mutex
)

// realWheel downloads a wheel from the configured index (found the way the
// product finds it), keeping a hash-checked copy in the user cache folder.
func realWheel(t testing.TB, filename string) []byte {
	t.Helper()
	wheelMu.Lock()
	defer wheelMu.Unlock()
	cacheRoot, err := os.UserCacheDir()
	if err != nil {
		cacheRoot = os.TempDir()
	}
	dir := filepath.Join(cacheRoot, "lambdapack-test", "verify-wheels")
	cached := filepath.Join(dir, filename)
	if b, err := os.ReadFile(cached); err == nil {
		return b
	}
	clientOnce.Do(func() {
		cfg, err := index.DiscoverConfig(index.Overrides{})
		if err != nil {
			clientErr = err
			return
		}
		client, clientErr = index.NewClient(cfg)
	})
	if clientErr != nil {
		t.Fatalf("index client: %v", clientErr)
	}
	ctx := context.Background()
	proj, err := client.Project(ctx, projectOf[filename])
	if err != nil {
		t.Fatalf("looking up %s: %v", projectOf[filename], err)
	}
	for _, f := range proj.Files {
		if f.Filename != filename {
			continue
		}
		rc, err := client.Open(ctx, f)
		if err != nil {
			t.Fatalf("downloading %s: %v", filename, err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("downloading %s: %v", filename, err)
		}
		if want := f.Hashes["sha256"]; want != "" {
			sum := sha256.Sum256(b)
			if got := hex.EncodeToString(sum[:]); got != want {
				t.Fatalf("%s: sha256 %s, index says %s", filename, got, want)
			}
		}
		if err := os.MkdirAll(dir, 0o755); err == nil {
			tmp := cached + ".tmp"
			if os.WriteFile(tmp, b, 0o644) == nil {
				os.Rename(tmp, cached)
			}
		}
		return b
	}
	t.Fatalf("%s is not on the index's %s page", filename, projectOf[filename])
	return nil
}

// wheelFiles returns a wheel's members.
func wheelFiles(t testing.TB, whl []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(whl), int64(len(whl)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/") {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name] = b
	}
	return out
}

// member returns the one wheel member whose path ends with suffix.
func member(t testing.TB, whl []byte, suffix string) (string, []byte) {
	t.Helper()
	for name, b := range wheelFiles(t, whl) {
		if strings.HasSuffix(name, suffix) {
			return name, b
		}
	}
	t.Fatalf("no member ending %s", suffix)
	return "", nil
}

// artifact is a layer or function being put together by a test.
type artifact map[string][]byte

// install unpacks a whole wheel under prefix ("python/" or "").
func (a artifact) install(t testing.TB, prefix string, whl []byte) {
	for name, b := range wheelFiles(t, whl) {
		a[prefix+name] = b
	}
}

func (a artifact) paths() []string {
	var ps []string
	for p := range a {
		ps = append(ps, p)
	}
	sort.Strings(ps)
	return ps
}

func (a artifact) entries() []verify.Entry {
	var es []verify.Entry
	for _, p := range a.paths() {
		b := a[p]
		es = append(es, verify.Entry{Path: p, Size: int64(len(b)), Open: func() (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(b)), nil
		}})
	}
	return es
}

func (a artifact) zip(t testing.TB) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "artifact.zip")
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range a.paths() {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(a[name])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func (a artifact) dir(t testing.TB) string {
	t.Helper()
	d := t.TempDir()
	for name, b := range a {
		p := filepath.Join(d, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

func mustTarget(t testing.TB, runtime, arch string) target.Target {
	t.Helper()
	tg, err := target.New(runtime, arch)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

func check(t testing.TB, a artifact, tg target.Target, opts verify.Options) *verify.Report {
	t.Helper()
	rep, err := verify.Check(context.Background(), verify.EntriesSource("test", a.entries()), tg, opts)
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	return rep
}

func describe(fs []verify.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "\n  %s %s %s [%s]: %s", f.Severity, f.Rule, f.File, f.Package, f.Message)
	}
	return b.String()
}

// gcc compiles C (or C++ with lang "c++") into a shared object and returns
// its bytes. extra are more compiler arguments (libraries, rpath).
func gcc(t testing.TB, lang, src string, extra ...string) []byte {
	t.Helper()
	dir := t.TempDir()
	ext, cc := ".c", "gcc"
	if lang == "c++" {
		ext, cc = ".cc", "g++"
	}
	in := filepath.Join(dir, "src"+ext)
	out := filepath.Join(dir, "out.so")
	if err := os.WriteFile(in, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"-shared", "-fPIC", "-O2", "-o", out, in}, extra...)
	cmd := exec.Command(cc, args...)
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", cc, args, err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// arm64Root is the Debian arm64 root folder (qemu's -L argument).
func arm64Root(t testing.TB, cmd []string) string {
	t.Helper()
	for i, a := range cmd {
		if a == "-L" && i+1 < len(cmd) {
			return cmd[i+1]
		}
	}
	t.Fatalf("no -L in %v", cmd)
	return ""
}

func base(p string) string { return path.Base(p) }
