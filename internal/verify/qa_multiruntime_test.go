package verify_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/lambdapack/lambdapack/internal/target"
	"github.com/lambdapack/lambdapack/internal/verify"
)

// TestQAMultiRuntimeLayer: `lambdapack build` writes a layer for runtimes
// python3.12 and python3.13 with one python/lib/python3.X/site-packages
// folder per runtime (each runtime reads only its own). `lambdapack verify
// dist/DepsLayer-x86_64.zip --runtime python3.13` then FAILS with 3 errors:
// "packages under python/lib/python3.12/site-packages are not importable",
// and the cp312 wheel-tag and python-abi errors of the python3.12 folder,
// which python3.13 never reads. The tool's own artifact should verify clean
// for each runtime it was built for (the other runtime's folder is at most
// an info), and "largest packages" should not list each package twice.
func TestQAMultiRuntimeLayer(t *testing.T) {
	dir := t.TempDir()
	put := func(p, s string) {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, v := range []string{"12", "13"} {
		sp := "python/lib/python3." + v + "/site-packages/"
		put(sp+"core/__init__.py", "X = 1\n")
		put(sp+"core-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: core\nVersion: 1.0\n")
		put(sp+"core-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: cp3"+v+"-cp3"+v+"-manylinux_2_17_x86_64\n")
		put(sp+"core-1.0.dist-info/RECORD", "")
	}
	for _, rt := range []string{"python3.12", "python3.13"} {
		tg, err := target.New(rt, "x86_64")
		if err != nil {
			t.Fatal(err)
		}
		rep, err := verify.Check(context.Background(), verify.PathSource(dir), tg, verify.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range rep.Findings {
			if f.Severity == verify.Error {
				t.Errorf("%s: %s %s: %s", rt, f.Rule, f.File, f.Message)
			}
		}
	}
}
