package app_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/lambdapack/lambdapack/internal/app"
	"github.com/lambdapack/lambdapack/internal/image/imagetest"
	"github.com/lambdapack/lambdapack/internal/image/layout"
	"github.com/lambdapack/lambdapack/internal/index"
	"github.com/lambdapack/lambdapack/internal/testutil"
	"github.com/lambdapack/lambdapack/internal/verify"
)

// TestImageVerifiedBeforeWritten: the image's tree is verified before the
// sink is called, so a failing check leaves nothing: no layout, no tarball,
// not even the dependency layer in the cache. --force writes it with the
// findings.
func TestImageVerifiedBeforeWritten(t *testing.T) {
	ctx := context.Background()
	baseDir := t.TempDir()
	base := imagetest.FakeBase(t, imagetest.Fake{Arch: "arm64", Python: "3.12.3", Glibc: "2.34", Lambda: true, OCI: true})
	if _, err := layout.Write(ctx, baseDir, []layout.Item{{Image: base}}, layout.Options{}); err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	testutil.WriteFiles(t, src, map[string]string{"app.py": "def handler(e, c):\n    return 1\n"})
	// An x86_64 shared object in an arm64 image.
	if err := os.WriteFile(filepath.Join(src, "_native.cpython-312-x86_64-linux-gnu.so"), imagetest.ELF("amd64", make([]byte, 64)), 0o755); err != nil {
		t.Fatal(err)
	}
	cacheDir := t.TempDir()
	env, err := app.OpenEnv(app.EnvOptions{CacheDir: cacheDir, Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	out := t.TempDir()
	o := app.ImageOptions{Runtime: "python3.12", Archs: []string{"arm64"}, Base: "oci-layout:" + baseDir, Src: src, Handler: "app.handler",
		OCILayout: filepath.Join(out, "layout"), Tarball: filepath.Join(out, "image.tar")}
	_, err = app.BuildImage(ctx, env, o)
	var ve *app.VerifyError
	if !errors.As(err, &ve) {
		t.Fatalf("an x86_64 library in an arm64 image: %v", err)
	}
	if !strings.Contains(ve.Report, "is an ELF binary for x86_64") || !strings.Contains(ve.Report, "of 10,737,418,240 bytes") {
		t.Errorf("the report names neither the library nor the image's 10 GB budget:\n%s", ve.Report)
	}
	if ents, _ := os.ReadDir(out); len(ents) != 0 {
		t.Errorf("a failed check left %v", ents)
	}
	if ents, _ := os.ReadDir(filepath.Join(cacheDir, "v1", "images", "layers")); len(ents) != 0 {
		t.Errorf("a failed check wrote layers into the cache: %v", ents)
	}

	o.Force = true
	rep, err := app.BuildImage(ctx, env, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Images) != 1 || len(rep.Images[0].Findings) == 0 {
		t.Fatalf("--force: %+v", rep.Images)
	}
	if !layout.Has(o.OCILayout, mustHash(t, rep.Images[0].Digest)) {
		t.Error("--force wrote no layout")
	}
}

func mustHash(t *testing.T, s string) v1.Hash {
	t.Helper()
	h, err := v1.NewHash(s)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestImageRuntimeGuess: with --runtime, the tree is planned for the
// runtime's target while the base is fetched; a Lambda base for that
// runtime takes that tree, and a base that needs other wheels (not a
// Lambda base: awslambdaric too; a Lambda base with an older glibc) gets
// its tree planned again for its own target.
func TestImageRuntimeGuess(t *testing.T) {
	ctx := context.Background()
	ix := testutil.StartIndex(t, testutil.IndexOptions{})
	ix.AddWheel(testutil.Wheel{Name: "six", Version: "1.0", Files: map[string][]byte{"six.py": []byte("x = 6\n")}})
	ix.AddWheel(testutil.Wheel{Name: "awslambdaric", Version: "3.0", Files: map[string][]byte{"awslambdaric/__init__.py": []byte("")}})
	src := t.TempDir()
	testutil.WriteFiles(t, src, map[string]string{"app.py": "import six\ndef handler(e, c):\n    return six.x\n"})
	for _, tc := range []struct {
		name    string
		fake    imagetest.Fake
		target  string
		again   bool
		withRIC bool
	}{
		{"lambda base", imagetest.Fake{Arch: "amd64", Python: "3.12.3", Glibc: "2.34", Lambda: true}, "python3.12/x86_64", false, false},
		{"other base", imagetest.Fake{Arch: "amd64", Python: "3.12.3", Glibc: "2.36"}, "python3.12+glibc2.36/x86_64", true, true},
		{"lambda base, older glibc", imagetest.Fake{Arch: "amd64", Python: "3.12.3", Glibc: "2.26", Lambda: true}, "python3.12+glibc2.26/x86_64", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			baseDir := t.TempDir()
			if _, err := layout.Write(ctx, baseDir, []layout.Item{{Image: imagetest.FakeBase(t, tc.fake)}}, layout.Options{}); err != nil {
				t.Fatal(err)
			}
			var log strings.Builder
			env, err := app.OpenEnv(app.EnvOptions{CacheDir: t.TempDir(), Index: index.Settings{IndexURL: ix.URL}, Log: &log})
			if err != nil {
				t.Fatal(err)
			}
			defer env.Close()
			rep, err := app.BuildImage(ctx, env, app.ImageOptions{Deps: app.Inputs{Requirements: []string{"six"}}, Runtime: "python3.12",
				Base: "oci-layout:" + baseDir, Src: src, Handler: "app.handler"})
			if err != nil {
				t.Fatalf("%v\n%s", err, log.String())
			}
			im := rep.Images[0]
			var pkgs []string
			for _, p := range im.Packages {
				pkgs = append(pkgs, p.Name)
			}
			again := strings.Contains(log.String(), "resolving again")
			if im.Target != tc.target || again != tc.again || slices.Contains(pkgs, "awslambdaric") != tc.withRIC || !slices.Contains(pkgs, "six") {
				t.Errorf("target %s, packages %v, planned again %v\n%s", im.Target, pkgs, again, log.String())
			}
		})
	}
}

// TestImageHandlerMissing: an image whose handler module is nowhere in its
// code or packages would build, push and then fail at Lambda's first
// import; it is refused before anything is written, as a zip function's is
// (the handler rule). On a base that is not Lambda's, the module may come
// with the base itself, so it is a warning there.
func TestImageHandlerMissing(t *testing.T) {
	ctx := context.Background()
	ix := testutil.StartIndex(t, testutil.IndexOptions{})
	ix.AddWheel(testutil.Wheel{Name: "awslambdaric", Version: "3.0", Files: map[string][]byte{"awslambdaric/__init__.py": []byte("")}})
	src := t.TempDir()
	testutil.WriteFiles(t, src, map[string]string{"app.py": "def handler(e, c):\n    return 1\n"})
	env, err := app.OpenEnv(app.EnvOptions{CacheDir: t.TempDir(), Index: index.Settings{IndexURL: ix.URL}})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	for _, lambda := range []bool{true, false} {
		baseDir := t.TempDir()
		base := imagetest.FakeBase(t, imagetest.Fake{Arch: "amd64", Python: "3.12.3", Glibc: "2.34", Lambda: lambda, OCI: true})
		if _, err := layout.Write(ctx, baseDir, []layout.Item{{Image: base}}, layout.Options{}); err != nil {
			t.Fatal(err)
		}
		out := t.TempDir()
		o := app.ImageOptions{Runtime: "python3.12", Archs: []string{"x86_64"}, Base: "oci-layout:" + baseDir, Src: src, Handler: "nope.handler",
			OCILayout: filepath.Join(out, "layout")}
		rep, err := app.BuildImage(ctx, env, o)
		if lambda {
			var ve *app.VerifyError
			if !errors.As(err, &ve) || !strings.Contains(ve.Report, "handler nope.handler: no nope.py or nope/ in the image's code or packages") ||
				!strings.Contains(ve.Report, "--src") {
				t.Fatalf("a handler with no module on a Lambda base: %v", err)
			}
			if ents, _ := os.ReadDir(out); len(ents) != 0 {
				t.Errorf("a refused image left %v", ents)
			}
			continue
		}
		if err != nil {
			t.Fatalf("a handler with no module on another base (it may be in the base): %v", err)
		}
		if fs := rep.Images[0].Findings; !slices.ContainsFunc(fs, func(f verify.Finding) bool {
			return f.Rule == app.RuleHandler && f.Severity == verify.Warning && strings.Contains(f.Message, "base oci-layout:")
		}) {
			t.Errorf("no warning naming the base: %+v", fs)
		}
	}
}
