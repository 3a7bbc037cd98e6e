package app

import (
	"bytes"
	"context"
	"debug/elf"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lambdapack/lambdapack/internal/image/imagetest"
	"github.com/lambdapack/lambdapack/internal/image/layout"
	"github.com/lambdapack/lambdapack/internal/index"
	"github.com/lambdapack/lambdapack/internal/testutil"
)

// x86SharedObject compiles a tiny x86_64 shared object with the machine's
// gcc.
func x86SharedObject(t *testing.T) []byte {
	t.Helper()
	data := testutil.CompileC(t, "int lp_answer(void) { return 42; }\n", "-shared", "-fPIC", "-O2")
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if f.Machine != elf.EM_X86_64 {
		t.Fatalf("gcc made a %v object, want x86_64", f.Machine)
	}
	return data
}

// An image's packages and a project function's are planned through the
// refusal loop (PlanVerified), as a zip's are: a resolved wheel that claims
// aarch64 but holds x86_64 code is refused for the image's arm64 target and
// the version's pure wheel is installed instead, with a note saying so;
// before, the image build failed on it.
func TestImageAndProjectFallBackFromRefusedWheel(t *testing.T) {
	so := x86SharedObject(t)
	idx := testutil.NewIndex(t,
		testutil.Wheel{Name: "fastthing", Version: "1.0", Tags: []string{"cp312-cp312-manylinux2014_aarch64"},
			Files: map[string][]byte{"fastthing/__init__.py": []byte("from ._native import *\n"), "fastthing/_native.cpython-312-aarch64-linux-gnu.so": so}},
		testutil.Wheel{Name: "fastthing", Version: "1.0", Tags: []string{"py3-none-any"},
			Files: map[string][]byte{"fastthing/__init__.py": []byte("PURE = True\n")}},
	)
	// fellBack: the pure wheel installed, the note naming the refused one.
	fellBack := func(t *testing.T, pkgs []PackageReport, notes []string) {
		t.Helper()
		if len(pkgs) != 1 || pkgs[0].Filename != "fastthing-1.0-py3-none-any.whl" {
			t.Errorf("packages %+v", pkgs)
		}
		const refused = "fastthing-1.0-cp312-cp312-manylinux2014_aarch64.whl was refused (arch: "
		if n := strings.Join(notes, "\n"); !strings.Contains(n, refused) {
			t.Errorf("notes lack %q:\n%s", refused, n)
		}
	}

	t.Run("image", func(t *testing.T) {
		baseDir := t.TempDir()
		img := imagetest.FakeBase(t, imagetest.Fake{Arch: "arm64", Python: "3.12.3", Glibc: "2.34", Lambda: true, OCI: true})
		if _, err := layout.Write(context.Background(), baseDir, []layout.Item{{Image: img}}, layout.Options{}); err != nil {
			t.Fatal(err)
		}
		src := t.TempDir()
		testutil.WriteFiles(t, src, map[string]string{"app.py": "import fastthing\ndef handler(e, c): return 1\n"})
		env, err := OpenEnv(EnvOptions{CacheDir: t.TempDir(), Index: index.Settings{IndexURL: idx}})
		if err != nil {
			t.Fatal(err)
		}
		defer env.Close()
		rep, err := BuildImage(context.Background(), env, ImageOptions{
			Deps: Inputs{Requirements: []string{"fastthing"}}, Runtime: "python3.12", Archs: []string{"arm64"},
			Base: "oci-layout:" + baseDir, Src: src, Handler: "app.handler", OCILayout: filepath.Join(t.TempDir(), "out"),
		})
		if err != nil {
			t.Fatal(err)
		}
		fellBack(t, rep.Images[0].Packages, rep.Images[0].Notes)
	})

	t.Run("project", func(t *testing.T) {
		dir := t.TempDir()
		testutil.WriteFiles(t, dir, map[string]string{
			"lambdapack.toml": "runtime = \"python3.12\"\narchitecture = \"arm64\"\n[functions.api]\nhandler = \"app.handler\"\nsource = \"src\"\ndependencies = [\"fastthing\"]\n",
			"src/app.py":      "import fastthing\ndef handler(e, c): return 1\n",
		})
		rep, err := buildHermetic(t, dir, idx, nil)
		if err != nil {
			t.Fatal(err)
		}
		fellBack(t, rep.Artifacts[0].Packages, rep.Artifacts[0].Notes)
	})
}
