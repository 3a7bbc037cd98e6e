package app

import (
	"archive/zip"
	"bytes"
	"testing"

	"github.com/lambdapack/lambdapack/internal/index"
	"github.com/lambdapack/lambdapack/internal/testutil"
)

// TestQAMultiRuntimeLayerWithScripts: a layer for python3.12 and python3.13
// whose package has per-Python wheels and a console script (numpy: f2py) gets
// one site-packages folder per runtime, but both installations put the script
// at bin/. `lambdapack build` of the README's [tool.lambdapack] example with
// dependencies = ["numpy==2.2.6"] fails with
//
//	deps-arm64: writing dist/deps-arm64.zip: two entries for "bin/f2py"
//	(generated content and generated content); exclude one
//
// The layer should build (the scripts are identical; keep one), and the zip
// should hold bin/tool once.
func TestQAMultiRuntimeLayerWithScripts(t *testing.T) {
	ix := testutil.StartIndex(t, testutil.IndexOptions{})
	script := []byte("#!python\nimport tool\ntool.main()\n")
	for _, tag := range []string{"cp312-cp312-manylinux_2_17_x86_64", "cp313-cp313-manylinux_2_17_x86_64"} {
		ix.AddWheel(testutil.Wheel{
			Name: "tool", Version: "1.0", Tags: []string{tag},
			Files: map[string][]byte{
				"tool/__init__.py":           []byte("def main(): pass\n"),
				"tool-1.0.data/scripts/tool": script,
			},
		})
	}
	dir := t.TempDir()
	testutil.WriteFiles(t, dir, map[string]string{"lambdapack.toml": `
architecture = "x86_64"
[layers.deps]
dependencies = ["tool==1.0"]
runtimes = ["python3.12", "python3.13"]
`})
	rep, _, err := Build(t.Context(), BuildOptions{Dir: dir, Env: EnvOptions{CacheDir: t.TempDir(), Index: index.Settings{IndexURL: ix.URL}}})
	if err != nil {
		t.Fatalf("multi-runtime layer with a console script: %v", err)
	}
	a := byArtifact(rep)["deps-x86_64"]
	if a == nil {
		t.Fatalf("no deps-x86_64 artifact in %+v", rep.Artifacts)
	}
	zr, err := zip.OpenReader(a.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	n := 0
	for _, f := range zr.File {
		if f.Name == "bin/tool" {
			n++
		}
	}
	if n != 1 {
		var names bytes.Buffer
		for _, f := range zr.File {
			names.WriteString(f.Name + "\n")
		}
		t.Errorf("bin/tool appears %d times in:\n%s", n, names.String())
	}
}
