// Package imagetest makes base images for image tests: small fake ones
// whose files say which Python and glibc they carry, and real ones packed
// from Debian's CPython (see scripts/setup-image.sh). It also unpacks
// a built image into a folder and runs its entrypoint there, against
// lambdapack's own Runtime API (internal/runtimeapi, as lambdapack invoke
// serves it).
package imagetest

import (
	"archive/tar"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	ggcrremote "github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Entry is one file, folder or link of a test layer.
type Entry struct {
	Data []byte
	Mode int64  // 0 means 0644 (0755 for folders)
	Link string // a symbolic link to Link
	Dir  bool
}

// Layer packs entries (by absolute or relative path) as a gzipped layer.
func Layer(t testing.TB, entries map[string]Entry) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	names := make([]string, 0, len(entries))
	for n := range entries {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		e := entries[n]
		h := &tar.Header{Name: trimSlash(n), Mode: e.Mode}
		switch {
		case e.Link != "":
			h.Typeflag, h.Linkname = tar.TypeSymlink, e.Link
			if h.Mode == 0 {
				h.Mode = 0o777
			}
		case e.Dir:
			h.Typeflag = tar.TypeDir
			if h.Mode == 0 {
				h.Mode = 0o755
			}
		default:
			h.Typeflag, h.Size = tar.TypeReg, int64(len(e.Data))
			if h.Mode == 0 {
				h.Mode = 0o644
			}
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(e.Data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func trimSlash(s string) string {
	for len(s) > 0 && s[0] == '/' {
		s = s[1:]
	}
	return s
}

// Image makes an image of layers with the config c (OS linux and the
// architecture arch, "amd64" or "arm64"). oci picks OCI media types over
// Docker's.
func Image(t testing.TB, arch string, c v1.Config, oci bool, layers ...v1.Layer) v1.Image {
	t.Helper()
	img, err := configured(arch, c, oci, layers...)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func configured(arch string, c v1.Config, oci bool, layers ...v1.Layer) (v1.Image, error) {
	base := empty.Image
	if oci {
		base = mutate.MediaType(base, types.OCIManifestSchema1)
		base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	}
	img, err := mutate.AppendLayers(base, layers...)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Config = "linux", arch, c
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return nil, err
	}
	return img, nil
}

// ELF returns a minimal 64-bit little-endian ELF executable header for
// arch ("amd64" or "arm64") followed by tail (strings a reader may look
// for, such as "\x003.11.4\x00").
func ELF(arch string, tail []byte) []byte {
	h := make([]byte, 64)
	copy(h, "\x7fELF")
	h[4], h[5], h[6] = 2, 1, 1 // 64-bit, little-endian, version 1
	binary.LittleEndian.PutUint16(h[16:], 2)
	machine := uint16(62)
	if arch == "arm64" {
		machine = 183
	}
	binary.LittleEndian.PutUint16(h[18:], machine)
	binary.LittleEndian.PutUint32(h[20:], 1)
	binary.LittleEndian.PutUint16(h[52:], 64) // e_ehsize
	return append(h, tail...)
}

// Fake describes a fake base: which Python, where, and which glibc.
type Fake struct {
	Arch   string // amd64 or arm64
	Python string // "3.11.4"; "" for no Python at all
	Prefix string // "/usr" (default) or "/var/lang" (a Lambda base)
	Glibc  string // "2.36"; "" for no libc
	Lambda bool   // entrypoint /lambda-entrypoint.sh, LAMBDA_TASK_ROOT
	OCI    bool
	Extra  map[string]Entry
}

// FakeBase makes a small base whose files say what Fake says, laid out as
// Debian lays out CPython, in two layers (a later one whiting nothing out).
func FakeBase(t testing.TB, f Fake) v1.Image {
	t.Helper()
	if f.Prefix == "" {
		f.Prefix = "/usr"
		if f.Lambda {
			f.Prefix = "/var/lang"
		}
	}
	machine := "x86_64"
	if f.Arch == "arm64" {
		machine = "aarch64"
	}
	sys := map[string]Entry{"/etc/passwd": {Data: []byte("root:x:0:0::/root:/bin/sh\n")}}
	if f.Glibc != "" {
		libdir := "/lib/" + machine + "-linux-gnu"
		sys[libdir+"/libc.so.6"] = Entry{Data: ELF(f.Arch, []byte(fmt.Sprintf("\x00GLIBC_2.2.5\x00GNU C Library (Debian GLIBC %s-9) stable release version %s.\x00", f.Glibc, f.Glibc)))}
	}
	py := map[string]Entry{}
	if f.Python != "" {
		var maj, min, patch int
		fmt.Sscanf(f.Python, "%d.%d.%d", &maj, &min, &patch)
		minor := fmt.Sprintf("%d.%d", maj, min)
		py[f.Prefix+"/bin/python"+minor] = Entry{Data: ELF(f.Arch, []byte("\x00"+f.Python+"\x00")), Mode: 0o755}
		py[f.Prefix+"/bin/python3"] = Entry{Link: "python" + minor}
		lib := f.Prefix + "/lib/python" + minor
		py[lib+"/os.py"] = Entry{Data: []byte("# os\n")}
		py[lib+"/_sysconfigdata__linux_"+machine+"-linux-gnu.py"] = Entry{Data: []byte(fmt.Sprintf(
			"build_time_vars = {'MULTIARCH': '%s-linux-gnu', 'SOABI': 'cpython-%d%d-%s-linux-gnu', 'VERSION': '%s'}\n", machine, maj, min, machine, minor))}
	}
	for k, v := range f.Extra {
		py[k] = v
	}
	c := v1.Config{Env: []string{"PATH=" + f.Prefix + "/bin:/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8"}}
	if f.Python != "" && !f.Lambda {
		c.Cmd = []string{f.Prefix + "/bin/python3"}
	}
	if f.Lambda {
		py["/lambda-entrypoint.sh"] = Entry{Data: []byte("#!/bin/sh\nexec /var/runtime/bootstrap \"$@\"\n"), Mode: 0o755}
		c.Entrypoint = []string{"/lambda-entrypoint.sh"}
		c.WorkingDir = "/var/task"
		c.Env = append(c.Env, "LAMBDA_TASK_ROOT=/var/task", "LAMBDA_RUNTIME_DIR=/var/runtime")
	}
	return Image(t, f.Arch, c, f.OCI, Layer(t, sys), Layer(t, py))
}

// LambdaMirror serves, from a registry on loopback, a fake Lambda base for
// each Python version ("3.12.3") at lambda/python:3.X, an index over amd64
// and arm64 like AWS's, and returns the registry's host: with
// LAMBDAPACK_REGISTRY_MIRROR=public.ecr.aws/lambda=HOST/lambda, --base
// lambda and FROM public.ecr.aws/lambda/python:3.X come from it.
func LambdaMirror(t testing.TB, pythons ...string) string {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	for _, py := range pythons {
		var adds []mutate.IndexAddendum
		for _, arch := range []string{"amd64", "arm64"} {
			p := v1.Platform{OS: "linux", Architecture: arch}
			adds = append(adds, mutate.IndexAddendum{Add: FakeBase(t, Fake{Arch: arch, Python: py, Glibc: "2.34", Lambda: true, OCI: true}), Descriptor: v1.Descriptor{Platform: &p}})
		}
		idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), adds...)
		minor := py[:strings.LastIndex(py, ".")]
		ref, err := name.NewTag(host + "/lambda/python:" + minor)
		if err != nil {
			t.Fatal(err)
		}
		if err := ggcrremote.WriteIndex(ref, idx); err != nil {
			t.Fatal(err)
		}
	}
	return host
}
