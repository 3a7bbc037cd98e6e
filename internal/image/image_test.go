package image_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/google/go-containerregistry/pkg/v1/validate"

	"github.com/lambdapack/lambdapack/internal/image"
	"github.com/lambdapack/lambdapack/internal/image/imagetest"
	"github.com/lambdapack/lambdapack/internal/record"
	"github.com/lambdapack/lambdapack/internal/target"
	"github.com/lambdapack/lambdapack/internal/tree"
)

func TestInspect(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name                      string
		fake                      imagetest.Fake
		python, glibc, interp     string
		arch                      target.Arch
		lambda                    bool
		wantTarget, wantRuntimeOK string
	}{
		{"debian amd64", imagetest.Fake{Arch: "amd64", Python: "3.11.2", Glibc: "2.36"}, "3.11.2", "2.36", "/usr/bin/python3.11", target.X86_64, false, "python3.11+glibc2.36/x86_64", ""},
		{"distroless arm64 oci", imagetest.Fake{Arch: "arm64", Python: "3.13.5", Glibc: "2.41", OCI: true}, "3.13.5", "2.41", "/usr/bin/python3.13", target.ARM64, false, "python3.13+glibc2.41/arm64", ""},
		{"lambda", imagetest.Fake{Arch: "arm64", Python: "3.12.11", Glibc: "2.34", Lambda: true}, "3.12.11", "2.34", "/var/lang/bin/python3.12", target.ARM64, true, "python3.12/arm64", ""},
		// A Lambda-like base with an older glibc than the runtime's row.
		{"lambda old glibc", imagetest.Fake{Arch: "amd64", Python: "3.12.1", Glibc: "2.26", Lambda: true}, "3.12.1", "2.26", "/var/lang/bin/python3.12", target.X86_64, true, "python3.12+glibc2.26/x86_64", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			info, err := image.Inspect(ctx, imagetest.FakeBase(t, tc.fake))
			if err != nil {
				t.Fatal(err)
			}
			if info.Python != tc.python || !info.PythonPatchKnown || info.Glibc != tc.glibc || info.Interpreter != tc.interp || info.Architecture != tc.arch || info.Lambda != tc.lambda {
				t.Fatalf("Inspect = %+v", info)
			}
			tg, err := info.Target("")
			if err != nil || tg.String() != tc.wantTarget {
				t.Fatalf("Target = %v, %v; want %s", tg, err, tc.wantTarget)
			}
			if _, err := info.Target("python3.9"); err == nil || !strings.Contains(err.Error(), "runs Python "+tc.python) {
				t.Errorf("a --runtime that is not the base's Python: %v", err)
			}
		})
	}
}

func TestInspectRefuses(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		img  v1.Image
		want string
	}{
		{"no python", imagetest.FakeBase(t, imagetest.Fake{Arch: "amd64", Glibc: "2.36"}), "has no Python"},
		{"no libc", imagetest.FakeBase(t, imagetest.Fake{Arch: "amd64", Python: "3.11.2"}), "has no glibc"},
		{"musl", imagetest.FakeBase(t, imagetest.Fake{Arch: "amd64", Python: "3.11.2", Extra: map[string]imagetest.Entry{"/lib/ld-musl-x86_64.so.1": {Data: []byte("x")}}}), "uses musl"},
		{"wrong machine", imagetest.Image(t, "arm64", v1.Config{}, false, imagetest.Layer(t, map[string]imagetest.Entry{
			"/usr/bin/python3.11": {Data: imagetest.ELF("amd64", []byte("\x003.11.2\x00"))}, "/usr/lib/python3.11/os.py": {}})), "mislabelled"},
		{"not an ELF", imagetest.Image(t, "amd64", v1.Config{}, false, imagetest.Layer(t, map[string]imagetest.Entry{
			"/usr/bin/python3.11": {Data: []byte("#!/bin/sh\n")}, "/usr/lib/python3.11/os.py": {}})), "not an ELF"},
		{"no stdlib", imagetest.Image(t, "amd64", v1.Config{}, false, imagetest.Layer(t, map[string]imagetest.Entry{
			"/usr/bin/python3.11": {Data: imagetest.ELF("amd64", nil)}})), "no standard library"},
		{"pypy", imagetest.FakeBase(t, imagetest.Fake{Arch: "amd64", Python: "3.10.1", Glibc: "2.36", Extra: map[string]imagetest.Entry{
			"/usr/lib/python3.10/_sysconfigdata__linux_x86_64-linux-gnu.py": {Data: []byte("{'SOABI': 'pypy310-pp73-x86_64-linux-gnu'}")}}}), "not CPython"},
		{"windows", imagetest.Image(t, "amd64", v1.Config{}, false), ""},
		{"s390x", imagetest.Image(t, "s390x", v1.Config{}, false), "Lambda runs amd64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img := tc.img
			if tc.name == "windows" {
				cf, _ := img.ConfigFile()
				cf = cf.DeepCopy()
				cf.OS = "windows"
				img, _ = mutate.ConfigFile(img, cf)
				tc.want = "not linux"
			}
			_, err := image.Inspect(ctx, img)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Inspect error %v, want %q", err, tc.want)
			}
		})
	}
}

// TestInspectLayers: a file deleted by a whiteout in a later layer is gone;
// links across folders (a symlinked /lib64) resolve.
func TestInspectLayers(t *testing.T) {
	glibc := imagetest.ELF("amd64", []byte("\x00GLIBC_2.17\x00GLIBC_2.26\x00GLIBC_PRIVATE\x00"))
	lower := imagetest.Layer(t, map[string]imagetest.Entry{
		"/usr/lib64/libc-2.26.so":      {Data: glibc},
		"/lib64":                       {Link: "usr/lib64"},
		"/usr/lib64/libc.so.6":         {Link: "libc-2.26.so"},
		"/opt/py/bin/python3.9":        {Data: imagetest.ELF("amd64", []byte("\x003.9.18\x00"))},
		"/opt/py/lib/python3.9/os.py":  {},
		"/usr/bin/python3.8":           {Data: imagetest.ELF("amd64", []byte("\x003.8.1\x00"))},
		"/usr/lib/python3.8/os.py":     {},
		"/usr/local/bin/python3.10":    {Data: imagetest.ELF("amd64", nil)},
		"/usr/local/lib/python3.10/os": {Dir: true},
		"/etc/shadow":                  {Data: []byte("root:*:"), Mode: 0o640},
	})
	upper := imagetest.Layer(t, map[string]imagetest.Entry{"/usr/bin/.wh.python3.8": {}})
	img := imagetest.Image(t, "amd64", v1.Config{Env: []string{"PATH=/usr/local/bin:/opt/py/bin"}}, false, lower, upper)
	// python3.10 is first on PATH but has no standard library (os is a
	// folder, not os.py): the image's python is broken, and that is said.
	if _, err := image.Inspect(context.Background(), img); err == nil || !strings.Contains(err.Error(), "python3.10 has no standard library") {
		t.Fatalf("broken python first on PATH: %v", err)
	}
	img2 := imagetest.Image(t, "amd64", v1.Config{Env: []string{"PATH=/opt/py/bin:/usr/local/bin"}}, false, lower, upper)
	info, err := image.Inspect(context.Background(), img2)
	if err != nil {
		t.Fatal(err)
	}
	if info.Interpreter != "/opt/py/bin/python3.9" || info.Python != "3.9.18" || info.Glibc != "2.26" || info.Libc != "/usr/lib64/libc-2.26.so" {
		t.Fatalf("Inspect = %+v", info)
	}
	if info.Unreadable != 1 || info.UnreadableExamples[0] != "/etc/shadow" {
		t.Errorf("unreadable: %d %v", info.Unreadable, info.UnreadableExamples)
	}
}

func TestInspectPathOrder(t *testing.T) {
	lower := imagetest.Layer(t, map[string]imagetest.Entry{
		"/usr/bin/python3.11":             {Data: imagetest.ELF("amd64", []byte("\x003.11.2\x00"))},
		"/usr/lib/python3.11/os.py":       {},
		"/opt/bin/python3.12":             {Data: imagetest.ELF("amd64", nil)},
		"/opt/lib/python3.12/os.py":       {},
		"/lib/x86_64-linux-gnu/libc.so.6": {Data: imagetest.ELF("amd64", []byte("release version 2.36."))},
	})
	_, err := image.Inspect(context.Background(), imagetest.Image(t, "amd64", v1.Config{}, false, lower))
	if err == nil || !strings.Contains(err.Error(), "several Pythons") {
		t.Fatalf("two Pythons and no PATH: %v", err)
	}
	info, err := image.Inspect(context.Background(), imagetest.Image(t, "amd64", v1.Config{Entrypoint: []string{"/opt/bin/python3.12"}}, false, lower))
	if err != nil || info.Python != "3.12.0" || info.PythonPatchKnown {
		t.Fatalf("entrypoint's Python: %+v %v", info, err)
	}
}

func TestLayerDeterministic(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app.py"), []byte("def handler(e, c):\n    return 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	files := []*tree.File{
		{Path: "pkg/mod.py", Origin: tree.FromBytes, Data: []byte("x = 1\n"), Size: 6},
		{Path: "pkg/sub/native.so", Origin: tree.FromBytes, Data: []byte("\x7fELF"), Size: 4, Mode: 0o755},
		{Path: "app.py", Origin: tree.FromDisk, Disk: filepath.Join(dir, "app.py"), Size: 32},
	}
	o := image.LayerOptions{Root: "var/task/", MediaType: types.OCILayer}
	var a, b bytes.Buffer
	ia, err := image.WriteLayer(context.Background(), &a, files, o)
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(files)
	ib, err := image.WriteLayer(context.Background(), &b, files, o)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) || ia != ib {
		t.Fatal("the same files in another order gave another layer")
	}
	l := image.BytesLayer(ia, a.Bytes())
	if err := validate.Layer(l); err != nil {
		t.Fatalf("validate.Layer: %v", err)
	}
	rc, _ := l.Uncompressed()
	defer rc.Close()
	tr := tar.NewReader(rc)
	var got []string
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Uid != 0 || h.Gid != 0 || h.ModTime.Unix() != 0 || h.Uname != "" {
			t.Errorf("%s: uid %d gid %d mtime %v", h.Name, h.Uid, h.Gid, h.ModTime)
		}
		got = append(got, h.Name+" "+modeString(h.Mode))
	}
	want := []string{"var/ 755", "var/task/ 755", "var/task/app.py 644", "var/task/pkg/ 755", "var/task/pkg/mod.py 644", "var/task/pkg/sub/ 755", "var/task/pkg/sub/native.so 755"}
	if !slices.Equal(got, want) {
		t.Fatalf("entries:\n%q\nwant\n%q", got, want)
	}

	t.Setenv("SOURCE_DATE_EPOCH", "315532800")
	ep, err := image.Epoch()
	if err != nil || ep.Unix() != 315532800 {
		t.Fatalf("Epoch = %v %v", ep, err)
	}
	o.Epoch = ep
	var c bytes.Buffer
	ic, _ := image.WriteLayer(context.Background(), &c, files, o)
	if ic.Digest == ia.Digest {
		t.Error("SOURCE_DATE_EPOCH did not change the layer")
	}
	t.Setenv("SOURCE_DATE_EPOCH", "yesterday")
	if _, err := image.Epoch(); err == nil {
		t.Error("a bad SOURCE_DATE_EPOCH was accepted")
	}

	// A file that changed size since it was planned is an error.
	files[0].Size = 3
	if _, err := image.WriteLayer(context.Background(), io.Discard, files, o); err == nil || !strings.Contains(err.Error(), "changed while building") {
		t.Errorf("changed file: %v", err)
	}
	bad := []*tree.File{{Path: "../etc/passwd", Origin: tree.FromBytes}}
	if _, err := image.WriteLayer(context.Background(), io.Discard, bad, o); err == nil {
		t.Error("a path out of the root was written")
	}
}

func modeString(m int64) string { return strconv.FormatInt(m, 8) }

func testTree(code string) *tree.Tree {
	tr := &tree.Tree{
		Record: record.Record{Runtime: "python3.11", RequirementsSHA256: "abc", Version: "test"},
		Files: []tree.File{
			{Path: "app.py", Origin: tree.FromBytes, Data: []byte(code), Size: int64(len(code)), Role: tree.RoleCode},
			{Path: "six.py", Origin: tree.FromBytes, Data: []byte("# six\n"), Size: 6, Dist: "six", Digest: "s1"},
			{Path: "six-1.0.dist-info/RECORD", Origin: tree.FromBytes, Data: []byte("six.py,,\n"), Size: 9, Dist: "six", Digest: "r1"},
		},
	}
	_ = tr.Sort()
	return tr
}

func TestBuild(t *testing.T) {
	ctx := context.Background()
	for _, lambda := range []bool{true, false} {
		for _, oci := range []bool{false, true} {
			base := imagetest.FakeBase(t, imagetest.Fake{Arch: "arm64", Python: "3.11.9", Glibc: "2.36", Lambda: lambda, OCI: oci})
			info, err := image.Inspect(ctx, base)
			if err != nil {
				t.Fatal(err)
			}
			digest, _ := base.Digest()
			b := &image.Base{Image: base, Info: info, Ref: "registry.example/base:1", Digest: digest, Remote: true}
			cache := &image.LayerCache{Dir: t.TempDir()}
			r1, err := image.Build(ctx, b, testTree("v1"), image.BuildOptions{Handler: "app.handler", Env: []string{"STAGE=dev", "LANG=en_US.UTF-8"}, Cache: cache})
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range []image.LayerInfo{r1.Deps, r1.Code} {
				layer, err := r1.Image.LayerByDigest(l.Digest)
				if err != nil {
					t.Fatal(err)
				}
				if err := validate.Layer(layer); err != nil {
					t.Fatalf("validate.Layer: %v", err)
				}
			}
			if raw, _ := r1.Image.RawManifest(); v1.Hash(must(v1.SHA256(bytes.NewReader(raw)))) != r1.Digest {
				t.Error("the digest is not the manifest's")
			}
			if r1.DepsReused {
				t.Error("first build reused a dependency layer")
			}
			// A code change: the dependency layer is the cached one, same
			// digest; the code layer and the image change.
			r2, err := image.Build(ctx, b, testTree("v2"), image.BuildOptions{Handler: "app.handler", Env: []string{"STAGE=dev", "LANG=en_US.UTF-8"}, Cache: cache})
			if err != nil {
				t.Fatal(err)
			}
			if !r2.DepsReused || r2.Deps.Digest != r1.Deps.Digest || r2.Code.Digest == r1.Code.Digest || r2.Digest == r1.Digest {
				t.Fatalf("code change: deps %v/%v reused %v, code %v/%v", r1.Deps.Digest, r2.Deps.Digest, r2.DepsReused, r1.Code.Digest, r2.Code.Digest)
			}
			// Without a cache, the same inputs give the same image.
			r3, err := image.Build(ctx, b, testTree("v1"), image.BuildOptions{Handler: "app.handler", Env: []string{"STAGE=dev", "LANG=en_US.UTF-8"}})
			if err != nil || r3.Digest != r1.Digest {
				t.Fatalf("rebuild without cache: %v %v, want %v", r3.Digest, err, r1.Digest)
			}

			cf, _ := r1.Image.ConfigFile()
			c := cf.Config
			if c.WorkingDir != "/var/task" || !slices.Equal(c.Cmd, []string{"app.handler"}) {
				t.Errorf("config %+v", c)
			}
			if !slices.Contains(c.Env, "STAGE=dev") || !slices.Contains(c.Env, "LANG=en_US.UTF-8") || slices.Contains(c.Env, "LANG=C.UTF-8") {
				t.Errorf("env %v", c.Env)
			}
			if lambda {
				if !slices.Equal(c.Entrypoint, []string{"/lambda-entrypoint.sh"}) || slices.ContainsFunc(c.Env, func(s string) bool { return strings.HasPrefix(s, "PYTHONPATH=") }) {
					t.Errorf("lambda base config %+v", c)
				}
			} else if !slices.Equal(c.Entrypoint, []string{"/usr/bin/python3.11", "-m", "awslambdaric"}) || !slices.Contains(c.Env, "PYTHONPATH=/var/task") {
				t.Errorf("custom base config %+v", c)
			}
			rec, err := record.Parse(c.Labels[record.Label])
			if err != nil || rec.Kind != record.KindImage || rec.Architecture != "arm64" || rec.Handler != "app.handler" || rec.Python != "3.11" {
				t.Errorf("record label %q: %+v %v", c.Labels[record.Label], rec, err)
			}
			if n := len(cf.History); n != 4 || !strings.Contains(cf.History[2].CreatedBy, "dependencies (1 package") || !strings.Contains(cf.History[3].CreatedBy, "function code") {
				t.Errorf("history %+v", cf.History)
			}
			m, _ := r1.Image.Manifest()
			// Always OCI, whatever the base's media types.
			if m.MediaType != types.OCIManifestSchema1 || m.Config.MediaType != types.OCIConfigJSON || m.Annotations["org.opencontainers.image.base.digest"] != digest.String() {
				t.Errorf("manifest %+v", m)
			}
			if len(m.Layers) != 4 || slices.ContainsFunc(m.Layers, func(d v1.Descriptor) bool { return d.MediaType != types.OCILayer }) {
				t.Errorf("layers %+v", m.Layers)
			}
			bl, _ := base.Layers()
			if d0, _ := bl[0].Digest(); d0 != m.Layers[0].Digest {
				t.Error("the base's layers changed")
			}
			if fs := image.CheckLambda(r1, b); len(fs) != 0 {
				t.Errorf("CheckLambda: %+v", fs)
			}
		}
	}
}

// A dependency layer written ahead with PrepareDeps (an image build does
// it while the base is being inspected) is the one Build then uses, as
// written in this run (so its Unchecked files count as checked), and the
// image is the one Build alone makes; a later build finds it cached. A tree
// whose file differs from its RECORD fails the write and leaves nothing for
// Build to take.
func TestPrepareDeps(t *testing.T) {
	ctx := context.Background()
	base := imagetest.FakeBase(t, imagetest.Fake{Arch: "arm64", Python: "3.11.9", Glibc: "2.36", Lambda: true, OCI: true})
	info, err := image.Inspect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	digest, _ := base.Digest()
	b := &image.Base{Image: base, Info: info, Ref: "registry.example/base:1", Digest: digest, Remote: true}
	plain, err := image.Build(ctx, b, testTree("v1"), image.BuildOptions{Handler: "app.handler"})
	if err != nil {
		t.Fatal(err)
	}
	unchecked := func(lie bool) *tree.Tree {
		tr := testTree("v1")
		for i := range tr.Files {
			f := &tr.Files[i]
			if f.Role != tree.RoleDeps {
				continue
			}
			data := f.Data
			if lie {
				data = []byte("tampered")
			}
			sum := sha256.Sum256(data)
			f.Digest, f.Unchecked = base64.RawURLEncoding.EncodeToString(sum[:]), true
		}
		return tr
	}

	cache := &image.LayerCache{Dir: t.TempDir()}
	o := image.BuildOptions{Handler: "app.handler", Cache: cache}
	if err := image.PrepareDeps(ctx, unchecked(false), o); err != nil {
		t.Fatal(err)
	}
	r1, err := image.Build(ctx, b, unchecked(false), o)
	if err != nil {
		t.Fatal(err)
	}
	if r1.DepsReused || !r1.Checked || r1.Digest != plain.Digest {
		t.Errorf("build after PrepareDeps: reused %v, checked %v, digest %v, want not reused, checked, %v", r1.DepsReused, r1.Checked, r1.Digest, plain.Digest)
	}
	r2, err := image.Build(ctx, b, unchecked(false), o)
	if err != nil || !r2.DepsReused || r2.Checked || r2.Digest != plain.Digest {
		t.Errorf("second build: reused %v, checked %v, digest %v, %v", r2.DepsReused, r2.Checked, r2.Digest, err)
	}

	cache = &image.LayerCache{Dir: t.TempDir()}
	o.Cache = cache
	if err := image.PrepareDeps(ctx, unchecked(true), o); err == nil || !strings.Contains(err.Error(), "RECORD says") {
		t.Errorf("PrepareDeps of a tampered file: %v", err)
	}
	if _, err := image.Build(ctx, b, unchecked(true), o); err == nil || !strings.Contains(err.Error(), "RECORD says") {
		t.Errorf("Build after a failed PrepareDeps: %v", err)
	}
	if blobs, _ := os.ReadDir(filepath.Join(cache.Dir, "blobs", "sha256")); len(blobs) != 0 {
		t.Errorf("a failed write left %d blobs in the cache", len(blobs))
	}
}

func TestCheckLambda(t *testing.T) {
	ctx := context.Background()
	base := imagetest.FakeBase(t, imagetest.Fake{Arch: "amd64", Python: "3.12.1", Glibc: "2.34", Lambda: true,
		Extra: map[string]imagetest.Entry{"/etc/secret": {Data: []byte("x"), Mode: 0o600}}})
	info, err := image.Inspect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	b := &image.Base{Image: base, Info: info}
	r, err := image.Build(ctx, b, testTree("v1"), image.BuildOptions{Cmd: []string{"app.handler", "extra"}})
	if err != nil {
		t.Fatal(err)
	}
	r.TarSize = image.MaxImageBytes + 1
	var rules []string
	for _, f := range image.CheckLambda(r, b) {
		rules = append(rules, string(f.Severity)+": "+f.Message)
	}
	got := strings.Join(rules, "\n")
	for _, want := range []string{"over Lambda's", "exactly the handler", "not readable by others"} {
		if !strings.Contains(got, want) {
			t.Errorf("CheckLambda missed %q:\n%s", want, got)
		}
	}
	if _, err := image.Build(ctx, b, testTree("v1"), image.BuildOptions{}); err == nil {
		t.Error("a build with no handler was accepted")
	}
}

func must(h v1.Hash, _ int64, err error) v1.Hash {
	if err != nil {
		panic(err)
	}
	return h
}
