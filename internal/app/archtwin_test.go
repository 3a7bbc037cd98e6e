package app_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lambdapack/lambdapack/internal/app"
	"github.com/lambdapack/lambdapack/internal/index"
	"github.com/lambdapack/lambdapack/internal/testutil"
	"github.com/lambdapack/lambdapack/internal/verify"
)

// A function that bundles a package shipping one executable per
// architecture (as aws-sam-cli's wheel ships samcli/local/rapid/
// aws-lambda-rie-x86_64 and aws-lambda-rie-arm64) builds for x86_64 with a
// warning about the arm64 one, which ships as sam build ships it; a
// package shipping only the foreign executable is still refused.
func TestFunctionWithPerArchExecutables(t *testing.T) {
	t.Parallel()
	x86, arm := testutil.GoExecutable(t, "amd64"), testutil.GoExecutable(t, "arm64")
	url := testutil.NewIndex(t,
		testutil.Wheel{Name: "samrie", Version: "1.0", Files: map[string][]byte{
			"samrie/__init__.py":                 []byte("\n"),
			"samrie/rapid/aws-lambda-rie-x86_64": x86,
			"samrie/rapid/aws-lambda-rie-arm64":  arm,
		}},
		testutil.Wheel{Name: "lonerie", Version: "1.0", Files: map[string][]byte{
			"lonerie/__init__.py":          []byte("\n"),
			"lonerie/aws-lambda-rie-arm64": arm,
		}},
	)
	base := t.TempDir()
	src := filepath.Join(base, "src")
	testutil.WriteFiles(t, src, map[string]string{"app.py": "def handler(event, context):\n    return 1\n"})
	env := e2eEnv(t, app.EnvOptions{CacheDir: filepath.Join(base, "cache"), Index: index.Settings{IndexURL: url}})

	out := filepath.Join(base, "out", "function.zip")
	o := app.ArtifactOptions{Kind: app.KindFunction, Src: src, Deps: app.Inputs{Requirements: []string{"samrie"}},
		Runtime: "python3.12", Arch: "x86_64", Output: out}
	rep := e2eBuild(t, env, o)
	var warned bool
	for _, f := range rep.Findings {
		if f.Severity == verify.Error {
			t.Errorf("error finding: %+v", f)
		}
		warned = warned || f.Severity == verify.Warning && f.Rule == verify.RuleArch && f.File == "samrie/rapid/aws-lambda-rie-arm64"
	}
	if !warned {
		t.Errorf("no arch warning for samrie/rapid/aws-lambda-rie-arm64: %+v", rep.Findings)
	}
	names := testutil.ZipNames(t, out)
	for _, want := range []string{"samrie/rapid/aws-lambda-rie-x86_64", "samrie/rapid/aws-lambda-rie-arm64"} {
		if !slices.Contains(names, want) {
			t.Errorf("the function zip lacks %s: %v", want, names)
		}
	}

	lone := filepath.Join(base, "out", "lone.zip")
	o.Deps.Requirements, o.Output = []string{"lonerie"}, lone
	_, err := app.BuildArtifact(context.Background(), env, o)
	var ve *app.VerifyError
	if !errors.As(err, &ve) || !strings.Contains(err.Error(), "lonerie/aws-lambda-rie-arm64") {
		t.Fatalf("want a *app.VerifyError naming lonerie/aws-lambda-rie-arm64, got %v", err)
	}
	if _, err := os.Stat(lone); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused build left %s (%v)", lone, err)
	}
}
