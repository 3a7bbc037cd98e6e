package imagetest

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	ggcrlayout "github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/lambdapack/lambdapack/internal/testutil"
)

var (
	rootsMu sync.Mutex
	roots   = map[string]string{}
)

// DebianRoot returns the folder holding Debian 12's CPython 3.11 for arch
// ("amd64" or "arm64"), unpacked from Debian's packages by
// scripts/setup-image.sh (amd64) or scripts/setup-arm64.sh (arm64), or the
// folder LAMBDAPACK_TEST_AMD64_ROOT / LAMBDAPACK_TEST_ARM64_ROOT names.
func DebianRoot(t testing.TB, arch string) string {
	t.Helper()
	rootsMu.Lock()
	defer rootsMu.Unlock()
	if r, ok := roots[arch]; ok {
		return r
	}
	env, script := "LAMBDAPACK_TEST_AMD64_ROOT", "setup-image.sh"
	if arch == "arm64" {
		env, script = "LAMBDAPACK_TEST_ARM64_ROOT", "setup-arm64.sh"
	}
	r := os.Getenv(env)
	if r == "" {
		cmd := exec.Command("bash", filepath.Join(testutil.RepoRoot(t), "scripts", script))
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("setting up Debian's %s CPython (scripts/%s): %v", arch, script, err)
		}
		r = strings.TrimSpace(string(out))
	}
	roots[arch] = r
	return r
}

// Skopeo returns the path of Debian's skopeo, installing it through
// scripts/setup-image.sh when it is missing.
func Skopeo(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("skopeo"); err == nil {
		return p
	}
	DebianRoot(t, "amd64")
	p, err := exec.LookPath("skopeo")
	if err != nil {
		t.Fatalf("skopeo is not installed and scripts/setup-image.sh did not install it: %v", err)
	}
	return p
}

// skipped are the folders of a Debian root no test needs.
var skipped = []string{"usr/share/doc", "usr/share/man", "usr/share/locale", "usr/share/lintian", "usr/share/info", "usr/lib/python3.11/test"}

func dirEntries(t testing.TB, root, prefix string) []tarEntry {
	t.Helper()
	out, err := DirEntries(root, prefix)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// DirEntries lists a folder as tar entries under prefix (Debian's
// documentation and test suite left out).
func DirEntries(root, prefix string) ([]TarEntry, error) {
	var out []tarEntry
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if rel == "." || rel == ".complete" {
			return nil
		}
		for _, s := range skipped {
			if rel == s && d.IsDir() {
				return filepath.SkipDir
			}
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		e := tarEntry{name: strings.TrimPrefix(prefix+"/"+rel, "/"), mode: int64(info.Mode().Perm())}
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			e.link, _ = os.Readlink(p)
		case info.IsDir():
			e.dir = true
		case info.Mode().IsRegular():
			e.disk = p
			e.size = info.Size()
		default:
			return nil
		}
		out = append(out, e)
		return nil
	})
	return out, err
}

// TarEntry is one entry of a layer TarLayer packs.
type TarEntry = tarEntry

type tarEntry struct {
	name, link, disk string
	data             []byte
	dir              bool
	mode, size       int64
}

func tarLayer(t testing.TB, entries []tarEntry) v1.Layer {
	t.Helper()
	l, err := TarLayer(entries)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TarLayer packs entries (sorted, mtime 0, root-owned) as a layer.
func TarLayer(entries []TarEntry) (v1.Layer, error) {
	sort.Slice(entries, func(i, j int) bool { return entries[i].name < entries[j].name })
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: e.mode, ModTime: time.Unix(0, 0), Format: tar.FormatPAX}
		switch {
		case e.link != "":
			h.Typeflag, h.Linkname = tar.TypeSymlink, e.link
		case e.dir:
			h.Typeflag, h.Name = tar.TypeDir, e.name+"/"
		default:
			h.Typeflag = tar.TypeReg
			if e.disk != "" {
				b, err := os.ReadFile(e.disk)
				if err != nil {
					return nil, err
				}
				e.data = b
			}
			h.Size = int64(len(e.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
}

// lambdaEntrypoint behaves like AWS's /lambda-entrypoint.sh: one argument,
// the handler, run by the runtime client (awslambdaric, in /var/runtime)
// against $AWS_LAMBDA_RUNTIME_API, with the managed runtime's sys.path. It
// is Python rather than sh so that it runs under qemu-user too, where a
// script cannot exec an arm64 interpreter.
const lambdaEntrypoint = `#!/var/lang/bin/python3.11
import os, sys
if len(sys.argv) != 2:
    sys.stderr.write("entrypoint requires the handler name to be the first argument\n")
    sys.exit(142)
os.environ["_HANDLER"] = sys.argv[1]
task = os.environ.get("LAMBDA_TASK_ROOT", "/var/task")
sys.path[:0] = [task, "/opt/python", os.environ.get("LAMBDA_RUNTIME_DIR", "/var/runtime")]
from awslambdaric import __main__ as ric
ric.main(["awslambdaric", sys.argv[1]])
`

// LambdaBase packs Debian's CPython 3.11 for arch as a base that behaves
// like AWS's Lambda base: the interpreter at /var/lang/bin, the runtime
// client from runtimeDir (a folder holding awslambdaric and its
// dependencies) at /var/runtime, /lambda-entrypoint.sh and AWS's
// environment. The image is cached under cacheDir by key.
func LambdaBase(t testing.TB, arch, runtimeDir, cacheDir, key string) v1.Image {
	t.Helper()
	return cachedBase(t, cacheDir, "lambda-"+arch+"-"+key, func() v1.Image {
		img, err := LambdaLike(DebianRoot(t, arch), runtimeDir, arch)
		if err != nil {
			t.Fatal(err)
		}
		return img
	})
}

// LambdaLike is LambdaBase without the test plumbing: root is a Debian
// CPython 3.11 folder, runtimeDir the runtime client's folder ("" for none:
// a base to build on, not to run).
func LambdaLike(root, runtimeDir, arch string) (v1.Image, error) {
	system, err := DirEntries(root, "")
	if err != nil {
		return nil, err
	}
	lang := []tarEntry{
		{name: "var/lang", dir: true, mode: 0o755},
		{name: "var/lang/bin", dir: true, mode: 0o755},
		{name: "var/lang/bin/python3.11", link: "../../../usr/bin/python3.11", mode: 0o777},
		{name: "var/lang/bin/python3", link: "python3.11", mode: 0o777},
		{name: "var/lang/lib", dir: true, mode: 0o755},
		{name: "var/lang/lib/python3.11", link: "../../../usr/lib/python3.11", mode: 0o777},
		{name: "var/task", dir: true, mode: 0o755},
		{name: "lambda-entrypoint.sh", data: []byte(lambdaEntrypoint), mode: 0o755},
	}
	if runtimeDir != "" {
		rt, err := DirEntries(runtimeDir, "var/runtime")
		if err != nil {
			return nil, err
		}
		lang = append(lang, rt...)
	}
	c := v1.Config{
		Entrypoint: []string{"/lambda-entrypoint.sh"},
		WorkingDir: "/var/task",
		Env: []string{"LANG=en_US.UTF-8", "TZ=:/etc/localtime", "PATH=/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin",
			"LD_LIBRARY_PATH=/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib",
			"LAMBDA_TASK_ROOT=/var/task", "LAMBDA_RUNTIME_DIR=/var/runtime"},
	}
	l1, err := TarLayer(system)
	if err != nil {
		return nil, err
	}
	l2, err := TarLayer(lang)
	if err != nil {
		return nil, err
	}
	return configured(arch, c, false, l1, l2)
}

// DistrolessBase packs Debian's CPython 3.11 for arch as distroless's
// python3 image is made: the interpreter and its libraries, no shell, the
// interpreter as the entrypoint.
func DistrolessBase(t testing.TB, arch, cacheDir string) v1.Image {
	t.Helper()
	return cachedBase(t, cacheDir, "distroless-"+arch, func() v1.Image {
		root := DebianRoot(t, arch)
		c := v1.Config{
			Entrypoint: []string{"/usr/bin/python3.11"},
			Env:        []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"},
		}
		return Image(t, arch, c, true, tarLayer(t, dirEntries(t, root, "")))
	})
}

// cachedBase keeps a made base in an OCI layout under cacheDir, named by
// key and the Debian root it came from.
func cachedBase(t testing.TB, cacheDir, key string, make func() v1.Image) v1.Image {
	t.Helper()
	arch := "amd64"
	if strings.Contains(key, "arm64") {
		arch = "arm64"
	}
	sum := sha256.Sum256([]byte(key + "|" + DebianRoot(t, arch) + "|v1"))
	dir := filepath.Join(cacheDir, "bases", hex.EncodeToString(sum[:8]))
	if p, err := ggcrlayout.FromPath(dir); err == nil {
		if idx, err := p.ImageIndex(); err == nil {
			if m, err := idx.IndexManifest(); err == nil && len(m.Manifests) == 1 {
				if img, err := idx.Image(m.Manifests[0].Digest); err == nil {
					return img
				}
			}
		}
	}
	img := make()
	tmp := dir + fmt.Sprintf(".tmp%d", os.Getpid())
	os.RemoveAll(tmp)
	p, err := ggcrlayout.Write(tmp, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(dir)
	if err := os.Rename(tmp, dir); err != nil {
		t.Fatal(err)
	}
	p, err = ggcrlayout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := img.Digest()
	out, err := p.Image(h)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
