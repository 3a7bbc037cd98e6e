package cli_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/lambdapack/lambdapack/internal/cli"
	"github.com/lambdapack/lambdapack/internal/testutil"
)

// TestMain lets the scripts run lambdapack as a program (the test binary
// re-executed as "lambdapack").
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"lambdapack": func() { os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs testdata/script/*.txtar: each verb's happy path and its
// main errors, as a user types them, against a local index ($INDEX) the
// test serves and moto ($AWS_ENDPOINT_URL) for publish. Nothing reaches
// the network.
//
// Besides testscript's commands, "exits N cmd args..." runs cmd and checks
// its exit status is N (lambdapack: 1 for a failed verification or no
// solution, 2 for other errors).
func TestScripts(t *testing.T) {
	ix := scriptIndex(t)
	moto := testutil.Moto(t)
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Setup: func(e *testscript.Env) error {
			e.Setenv("INDEX", ix.URL)
			e.Setenv("LAMBDAPACK_CACHE_DIR", filepath.Join(e.WorkDir, ".cache"))
			e.Setenv("SOURCE_DATE_EPOCH", "")
			e.Setenv("CI", "true")
			// AWS through the environment only, as a user would set it.
			e.Setenv("AWS_ENDPOINT_URL", moto)
			e.Setenv("AWS_ACCESS_KEY_ID", "testing")
			e.Setenv("AWS_SECRET_ACCESS_KEY", testutil.MotoSecret)
			e.Setenv("AWS_REGION", "us-east-1")
			e.Setenv("AWS_CONFIG_FILE", filepath.Join(e.WorkDir, ".aws-config"))
			e.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(e.WorkDir, ".aws-credentials"))
			e.Setenv("AWS_EC2_METADATA_DISABLED", "true")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exits": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) < 2 {
					ts.Fatalf("usage: exits N command [args...]")
				}
				want, err := strconv.Atoi(args[0])
				if err != nil {
					ts.Fatalf("exits: %q is not a number", args[0])
				}
				got := 0
				if err := ts.Exec(args[1], args[2:]...); err != nil {
					var ee *exec.ExitError
					if !errors.As(err, &ee) {
						ts.Fatalf("exits: %v", err)
					}
					got = ee.ExitCode()
				}
				if got != want {
					ts.Fatalf("%s exited %d, want %d", args[1], got, want)
				}
			},
		},
	})
}

// scriptIndex serves the wheels the scripts install.
func scriptIndex(t *testing.T) *testutil.Index {
	x86 := testutil.CompileC(t, "int fast(void) { return 1; }\n", "-shared", "-fPIC")
	arm := append([]byte(nil), x86...)
	arm[18], arm[19] = 183, 0 // EM_AARCH64: verify reads the header, never runs it
	ix := testutil.StartIndex(t, testutil.IndexOptions{})
	ix.AddWheel(testutil.Wheel{Name: "tiny", Version: "1.0", Files: map[string][]byte{"tiny/__init__.py": []byte("T = 1\n")}})
	ix.AddWheel(testutil.Wheel{Name: "greet", Version: "2.0", RequiresDist: []string{"tiny>=1"},
		Files: map[string][]byte{"greet/__init__.py": []byte("import tiny\n")}})
	for _, w := range []struct {
		tag string
		so  []byte
	}{{"cp312-cp312-manylinux_2_17_x86_64", x86}, {"cp312-cp312-manylinux_2_17_aarch64", arm}} {
		machine := "x86_64"
		if w.so[18] == 183 {
			machine = "aarch64"
		}
		ix.AddWheel(testutil.Wheel{Name: "fast", Version: "1.0", Tags: []string{w.tag},
			Files: map[string][]byte{"fast/__init__.py": []byte("from ._fast import *\n"), "fast/_fast.cpython-312-" + machine + "-linux-gnu.so": w.so}})
	}
	// A wheel whose tag says x86_64 and whose extension is aarch64.
	ix.AddWheel(testutil.Wheel{Name: "liar", Version: "1.0", Tags: []string{"cp312-cp312-manylinux_2_17_x86_64"},
		Files: map[string][]byte{"liar/_m.cpython-312-x86_64-linux-gnu.so": arm}})
	// Only for a glibc newer than Amazon Linux 2's.
	ix.AddWheel(testutil.Wheel{Name: "newglibc", Version: "1.0", Tags: []string{"cp311-cp311-manylinux_2_28_x86_64"}})
	// Listed as 400 MB: too big for any function (never downloaded).
	ix.AddWheel(testutil.Wheel{Name: "huge", Version: "1.0", Files: map[string][]byte{"huge/__init__.py": []byte("\n")}}, testutil.ListedSize(400_000_000))
	return ix
}
