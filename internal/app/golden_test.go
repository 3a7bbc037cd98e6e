package app_test

import (
	"archive/zip"
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/lambdapack/lambdapack/internal/app"
	"github.com/lambdapack/lambdapack/internal/index"
	"github.com/lambdapack/lambdapack/internal/testutil"
)

// -update-golden rewrites testdata/golden/SHA256SUMS from this build (and
// writes the wheels when they are missing). Do it only when a change to
// the zips' bytes is intended, and say why in the commit.
var updateGolden = flag.Bool("update-golden", false, "rewrite testdata/golden/SHA256SUMS (and missing wheels)")

const goldenDir = "testdata/golden"

// goldenCases are the artifacts whose bytes are pinned: a layer (a pure
// wheel with a console script and a #!python script, and a native one,
// members copied raw, RECORDs, INSTALLERs, launchers and scripts
// compressed here) and a function (code from disk, compressed here).
var goldenCases = []struct {
	name string
	opts func(src string) app.ArtifactOptions
}{
	{"layer-python3.12-x86_64.zip", func(string) app.ArtifactOptions {
		return app.ArtifactOptions{Kind: app.KindLayer, Deps: app.Inputs{Requirements: []string{"goldpure==1.0"}}, Runtime: "python3.12", Arch: "x86_64"}
	}},
	{"function-python3.13-arm64.zip", func(src string) app.ArtifactOptions {
		return app.ArtifactOptions{Kind: app.KindFunction, Src: src, Deps: app.Inputs{Requirements: []string{"goldleaf"}}, Runtime: "python3.13", Arch: "arm64", Handler: "app.handler"}
	}},
}

// TestGoldenDigests builds the golden artifacts from a local index serving
// the committed wheels, twice on fresh caches, and compares their sha256
// with testdata/golden/SHA256SUMS: a change in the zip writer, the
// installer or the compressor (a klauspost/compress upgrade) that moves a
// byte is caught here, not by users comparing digests.
func TestGoldenDigests(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "")
	saved := app.Version
	app.Version = "v0.0.0-golden"
	t.Cleanup(func() { app.Version = saved })
	if *updateGolden {
		writeGoldenWheels(t)
	}
	ix := testutil.StartIndex(t, testutil.IndexOptions{})
	wheels, _ := filepath.Glob(filepath.Join(goldenDir, "wheels", "*.whl"))
	if len(wheels) == 0 {
		t.Fatalf("no wheels in %s/wheels", goldenDir)
	}
	for _, w := range wheels {
		body, err := os.ReadFile(w)
		if err != nil {
			t.Fatal(err)
		}
		if err := ix.AddWheelFile(filepath.Base(w), body); err != nil {
			t.Fatal(err)
		}
	}
	src, err := filepath.Abs(filepath.Join(goldenDir, "function"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, c := range goldenCases {
		for run := range 2 {
			env, err := app.OpenEnv(app.EnvOptions{CacheDir: t.TempDir(), Index: index.Settings{IndexURL: ix.URL}})
			if err != nil {
				t.Fatal(err)
			}
			o := c.opts(src)
			o.Output = filepath.Join(t.TempDir(), c.name)
			rep, err := app.BuildArtifact(context.Background(), env, o)
			env.Close()
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if run == 0 {
				checkGoldenEntries(t, o.Output)
			}
			if run == 1 && rep.SHA256 != got[c.name] {
				t.Errorf("%s: two builds differ: %s, %s", c.name, got[c.name], rep.SHA256)
			}
			got[c.name] = rep.SHA256
		}
	}
	sums := filepath.Join(goldenDir, "SHA256SUMS")
	if *updateGolden {
		var b strings.Builder
		names := make([]string, 0, len(got))
		for n := range got {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintf(&b, "%s  %s\n", got[n], n)
		}
		if err := os.WriteFile(sums, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", sums)
		return
	}
	want := readSums(t, sums)
	for _, c := range goldenCases {
		if want[c.name] == "" {
			t.Errorf("%s: no digest in %s", c.name, sums)
		} else if got[c.name] != want[c.name] {
			t.Errorf("%s: sha256 %s, pinned %s\nthe artifact's bytes changed: if that is intended (a zip writer or compressor change), run go test ./internal/app -run TestGoldenDigests -update-golden and say why in the commit",
				c.name, got[c.name], want[c.name])
		}
	}
}

// checkGoldenEntries makes sure the golden zips hold what they are meant to
// exercise: members copied raw and files compressed here.
func checkGoldenEntries(t *testing.T, zipPath string) {
	t.Helper()
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	want := []string{"app.py", "lib/helper.py", "goldleaf/__init__.py", "goldleaf-3.1.dist-info/RECORD"}
	if strings.HasPrefix(filepath.Base(zipPath), "layer") {
		want = []string{"bin/gold", "bin/goldtool", "python/goldpure/data.json", "python/goldnative/_speed.cpython-312-x86_64-linux-gnu.so",
			"python/goldpure-1.0.dist-info/INSTALLER", "python/goldleaf-3.1.dist-info/RECORD"}
	}
	for _, w := range want {
		if !slices.Contains(names, w) {
			t.Errorf("%s lacks %s: %v", filepath.Base(zipPath), w, names)
		}
	}
}

func readSums(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if sum, name, ok := strings.Cut(sc.Text(), "  "); ok {
			out[name] = sum
		}
	}
	return out
}

// writeGoldenWheels writes the wheels the golden builds install, once:
// they are committed, so the bytes served never depend on the Go version.
func writeGoldenWheels(t *testing.T) {
	dir := filepath.Join(goldenDir, "wheels")
	if m, _ := filepath.Glob(filepath.Join(dir, "*.whl")); len(m) > 0 {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	soBytes := testutil.CompileC(t, "int speed(void) { return 42; }\n", "-shared", "-fPIC", "-O2", "-s")
	data := strings.Repeat(`{"key": "value", "numbers": [1, 2, 3, 4, 5], "nested": {"a": "b"}}`+"\n", 400)
	for _, w := range []testutil.Wheel{
		{Name: "goldpure", Version: "1.0", RequiresDist: []string{"goldnative>=2", "goldleaf"},
			Files: map[string][]byte{
				"goldpure/__init__.py":                    []byte("def main():\n    print('gold')\n"),
				"goldpure/data.json":                      []byte(data),
				"goldpure-1.0.dist-info/entry_points.txt": []byte("[console_scripts]\ngold = goldpure:main\n"),
				"goldpure-1.0.data/scripts/goldtool":      []byte("#!python\nimport goldpure\ngoldpure.main()\n"),
			}},
		{Name: "goldnative", Version: "2.0", Tags: []string{"cp312-cp312-manylinux_2_17_x86_64"},
			Files: map[string][]byte{
				"goldnative/__init__.py":                            []byte("from ._speed import speed\n"),
				"goldnative/_speed.cpython-312-x86_64-linux-gnu.so": soBytes,
			}},
		{Name: "goldleaf", Version: "3.1", Files: map[string][]byte{"goldleaf/__init__.py": []byte("LEAF = 'leaf'\n")}},
	} {
		if err := os.WriteFile(filepath.Join(dir, w.Filename()), w.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
