package app

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lambdapack/lambdapack/internal/index"
	"github.com/lambdapack/lambdapack/internal/project"
	"github.com/lambdapack/lambdapack/internal/testutil"
	"github.com/lambdapack/lambdapack/internal/verify"
)

// buildHermetic builds a project against a test index.
func buildHermetic(t *testing.T, dir, indexURL string, mod func(*BuildOptions)) (*BuildReport, error) {
	t.Helper()
	o := BuildOptions{Dir: dir, Env: EnvOptions{CacheDir: t.TempDir(), Index: index.Settings{IndexURL: indexURL}}}
	if mod != nil {
		mod(&o)
	}
	rep, _, err := Build(context.Background(), o)
	if rep == nil {
		t.Fatal("Build returned no report")
	}
	return rep, err
}

var sixWheel = testutil.Wheel{Name: "six", Version: "1.16.0", Files: map[string][]byte{"six.py": []byte("__version__ = '1.16.0'\n")}}

// A function whose handler is in neither its zip nor its layers is never
// reported built: the handler rule fails it, and its zip is removed.
func TestBuildHandlerRule(t *testing.T) {
	dir := t.TempDir()
	testutil.WriteFiles(t, dir, map[string]string{
		"lambdapack.toml": "runtime = \"python3.12\"\n[layers.deps]\ndependencies = [\"six==1.16.0\"]\n[functions.api]\nhandler = \"service.handler\"\nsource = \"src\"\nlayers = [\"deps\"]\n",
		"src/other.py":    "",
	})
	rep, err := buildHermetic(t, dir, testutil.NewIndex(t, sixWheel), nil)
	var ve *VerifyError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v, want a VerifyError", err)
	}
	if !strings.Contains(err.Error(), "handler service.handler: no service.py or service/ in the function or its layers") {
		t.Errorf("error: %v", err)
	}
	if _, serr := os.Stat(filepath.Join(dir, "dist", "api.zip")); !errors.Is(serr, os.ErrNotExist) {
		t.Errorf("the handler-less zip is still there: %v", serr)
	}
	if rep.Error == nil || !strings.Contains(rep.Error.Message, "handler service.handler") {
		t.Errorf("report error %+v", rep.Error)
	}
	for _, a := range rep.Artifacts {
		if a.Name == "api" {
			t.Error("api reported built")
		}
	}
	// The handler in the layer passes.
	testutil.WriteFiles(t, dir, map[string]string{
		"lambdapack.toml": "runtime = \"python3.12\"\n[layers.deps]\ndependencies = [\"six==1.16.0\"]\n[functions.api]\nhandler = \"six.handler\"\nsource = \"src\"\nlayers = [\"deps\"]\n",
	})
	if _, err := buildHermetic(t, dir, testutil.NewIndex(t, sixWheel), nil); err != nil {
		t.Fatalf("handler in the layer: %v", err)
	}
}

// A layer's CompatibleArchitectures is metadata: an arm64 function on an
// x86_64-only layer is a warning, and the layer's files are verified for the
// function's own architecture; native x86_64 code in it is an error that
// names the file.
func TestBuildLayerVerifiedForEachFunction(t *testing.T) {
	elf := make([]byte, 64)
	copy(elf, "\x7fELF\x02\x01\x01")
	elf[18] = 0x3e // EM_X86_64
	native := testutil.Wheel{Name: "fastthing", Version: "1.0", Tags: []string{"cp312-cp312-manylinux_2_17_x86_64"},
		Files: map[string][]byte{"fastthing/__init__.py": []byte(""), "fastthing/_speed.cpython-312-x86_64-linux-gnu.so": elf}}
	pure := testutil.Wheel{Name: "slowthing", Version: "1.0", Files: map[string][]byte{"slowthing/__init__.py": []byte("")}}
	tpl := func(dep string) string {
		return "AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::Serverless-2016-10-31\nResources:\n" +
			"  Deps:\n    Type: AWS::Serverless::LayerVersion\n    Properties:\n      ContentUri: layer/\n      CompatibleRuntimes: [python3.12]\n      CompatibleArchitectures: [x86_64]\n    Metadata:\n      BuildMethod: python3.12\n" +
			"  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: src/\n      Handler: app.handler\n      Runtime: python3.12\n      Architectures: [arm64]\n      Layers: [!Ref Deps]\n"
	}
	for _, c := range []struct {
		dep     string
		wantErr string
	}{
		{"slowthing==1.0", ""},
		{"fastthing==1.0", "fastthing==1.0 was installed from a wheel tagged cp312-cp312-manylinux_2_17_x86_64"},
	} {
		t.Run(c.dep, func(t *testing.T) {
			dir := t.TempDir()
			testutil.WriteFiles(t, dir, map[string]string{"template.yaml": tpl(c.dep), "layer/requirements.txt": c.dep + "\n", "src/app.py": ""})
			rep, err := buildHermetic(t, dir, testutil.NewIndex(t, native, pure), nil)
			warned := false
			for _, n := range rep.Notes {
				if n.Level == "warning" && strings.Contains(n.Message, "function Fn runs on arm64 but layer Deps's CompatibleArchitectures lists x86_64") {
					warned = true
				}
			}
			if !warned {
				t.Errorf("no warning in %+v", rep.Notes)
			}
			if c.wantErr == "" {
				if err != nil {
					t.Fatalf("pure layer: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.wantErr) || !strings.Contains(err.Error(), "function Fn:") || !strings.Contains(err.Error(), "layer Deps (built for python3.12/x86_64) used by this function on python3.12/arm64") {
				t.Fatalf("err = %v", err)
			}
			var ve *VerifyError
			if !errors.As(err, &ve) {
				t.Errorf("not a VerifyError: %T", err)
			}
		})
	}
}

// The report says everything: artifacts with the base64 SHA-256 that Lambda
// and Terraform compare, what was skipped and why, notes once, and for SAM
// the build template sam deploy reads, pointing at the zips.
func TestBuildReportAndSAMTemplate(t *testing.T) {
	dir := t.TempDir()
	testutil.WriteFiles(t, dir, map[string]string{
		"template.yaml": "AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::Serverless-2016-10-31\nGlobals:\n  Function:\n    Runtime: python3.9\n" +
			"Resources:\n  Inline:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: index.h\n      InlineCode: 'def h(e, c): pass'\n" +
			"  A:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: a/\n      Handler: app.handler\n" +
			"  B:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: b/\n      Handler: app.handler\n",
		"a/app.py": "import six\n", "a/requirements.txt": "six==1.16.0\n",
		"b/app.py": "import six\n", "b/requirements.txt": "six==1.16.0\n",
	})
	rep, err := buildHermetic(t, dir, testutil.NewIndex(t, sixWheel), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Artifacts) != 2 {
		t.Fatalf("artifacts %d", len(rep.Artifacts))
	}
	for _, a := range rep.Artifacts {
		data, err := os.ReadFile(a.Path)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		if a.SHA256Base64 != base64.StdEncoding.EncodeToString(sum[:]) || a.Handler != "app.handler" {
			t.Errorf("%s: sha256_base64 %q handler %q", a.Name, a.SHA256Base64, a.Handler)
		}
	}
	if len(rep.Skipped) != 1 || rep.Skipped[0].Name != "Inline" || !strings.HasPrefix(rep.Skipped[0].Reason, "InlineCode") {
		t.Errorf("skipped %+v", rep.Skipped)
	}
	dep := 0
	for _, n := range rep.Notes {
		if strings.Contains(n.Message, "python3.9 is deprecated") {
			dep++
		}
	}
	if dep != 1 {
		t.Errorf("%d deprecation notes: %+v", dep, rep.Notes)
	}
	tpl, err := os.ReadFile(filepath.Join(dir, project.SAMBuildDir, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"CodeUri: ../../dist/A.zip", "CodeUri: ../../dist/B.zip", "InlineCode: 'def h(e, c): pass'"} {
		if !strings.Contains(string(tpl), want) {
			t.Errorf("build template lacks %q:\n%s", want, tpl)
		}
	}
	if rep.SAMTemplate == "" {
		t.Error("report does not name the build template")
	}
}

// A config mistake fills the report's error with the file and line.
func TestBuildReportOnConfigError(t *testing.T) {
	dir := t.TempDir()
	testutil.WriteFiles(t, dir, map[string]string{
		"serverless.yml": "provider:\n  name: aws\n  runtime: python3.12\nfunctions:\n  f:\n    handler: app.h\n    handler: app.g\n",
		"app.py":         "",
	})
	rep, err := buildHermetic(t, dir, "http://127.0.0.1:1/simple", nil)
	if err == nil || rep.Error == nil {
		t.Fatalf("err %v report %+v", err, rep.Error)
	}
	if !strings.HasSuffix(rep.Error.File, "serverless.yml") || rep.Error.Line != 7 || !strings.Contains(rep.Error.Message, `key "handler" is written twice`) {
		t.Errorf("error %+v", rep.Error)
	}
	if rep.Artifacts == nil || rep.Skipped == nil || rep.Notes == nil {
		t.Error("lists must be [] in JSON, never null")
	}
}

// Output names stay inside --out, even for a config that no reader made.
func TestPlanJobsConfinesOutputs(t *testing.T) {
	dir := t.TempDir()
	m := project.NewMatcher("")
	cfg := &project.Config{Dir: dir, File: filepath.Join(dir, "lambdapack.toml"), Kind: project.KindLambdapack,
		Functions: []project.Function{{Name: "../escape", Handler: "app.h", Runtime: "python3.12", Arch: "x86_64", Package: project.Package{Kind: project.PackageFolder, Path: ".", Files: m}}}}
	_, err := planJobs(cfg, BuildOptions{}, filepath.Join(dir, "dist"))
	if err == nil || !strings.Contains(err.Error(), `"../escape" cannot name a file in`) {
		t.Errorf("err = %v", err)
	}
	_ = verify.Error
}

// A project copied or moved with its dist/ (a renamed folder, a second
// worktree, a CI cache restored elsewhere) reuses its unchanged artifacts
// where they are now: the report names the zips in this project's output,
// never the folder they were first built in, which invoke and serve would
// otherwise run (with that folder's code).
func TestBuildUnchangedAfterMove(t *testing.T) {
	first := t.TempDir()
	testutil.WriteFiles(t, first, map[string]string{
		"lambdapack.toml": "runtime = \"python3.12\"\n[layers.deps]\ndependencies = [\"six==1.16.0\"]\n[functions.api]\nhandler = \"app.handler\"\nsource = \"src\"\nlayers = [\"deps\"]\n",
		"src/app.py":      "def handler(event, context):\n    return 1\n",
	})
	idx := testutil.NewIndex(t, sixWheel)
	if _, err := buildHermetic(t, first, idx, nil); err != nil {
		t.Fatal(err)
	}
	moved := filepath.Join(t.TempDir(), "moved")
	if err := os.CopyFS(moved, os.DirFS(first)); err != nil {
		t.Fatal(err)
	}
	rep, err := buildHermetic(t, moved, idx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Artifacts) != 2 {
		t.Fatalf("want 2 artifacts, got %d", len(rep.Artifacts))
	}
	for _, a := range rep.Artifacts {
		if a.Unchanged == nil || !*a.Unchanged {
			t.Errorf("%s: not reused", a.Name)
		}
		if dir := filepath.Dir(a.Path); dir != filepath.Join(moved, "dist") {
			t.Errorf("%s: reported at %s, want it in %s", a.Name, a.Path, filepath.Join(moved, "dist"))
		}
	}
}

// A build that fails (or is interrupted) before it writes anything leaves
// no output folder it created, nested ones included; a folder that was
// there before stays.
func TestBuildFailedLeavesNoOutputFolder(t *testing.T) {
	dir := t.TempDir()
	testutil.WriteFiles(t, dir, map[string]string{
		"lambdapack.toml": "runtime = \"python3.12\"\n[layers.deps]\ndependencies = [\"not-in-the-index==1.0\"]\n",
	})
	url := testutil.NewIndex(t, sixWheel)
	if _, err := buildHermetic(t, dir, url, nil); err == nil || !strings.Contains(err.Error(), "not-in-the-index") {
		t.Fatalf("err = %v, want one naming not-in-the-index", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "dist")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed build left dist/: %v", err)
	}
	nested := filepath.Join(dir, "build", "out")
	if _, err := buildHermetic(t, dir, url, func(o *BuildOptions) { o.Out = nested }); err == nil {
		t.Fatal("the build did not fail")
	}
	if _, err := os.Stat(filepath.Join(dir, "build")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed build left build/: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	testutil.WriteFiles(t, dir, map[string]string{"lambdapack.toml": "runtime = \"python3.12\"\n[layers.deps]\ndependencies = [\"six==1.16.0\"]\n"})
	rep, _, err := Build(ctx, BuildOptions{Dir: dir, Env: EnvOptions{CacheDir: t.TempDir(), Index: index.Settings{IndexURL: url}}})
	if err == nil || rep == nil || rep.Error == nil {
		t.Fatalf("an interrupted build: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "dist")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("an interrupted build left dist/: %v", err)
	}
	if err := os.Mkdir(filepath.Join(dir, "dist"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Build(ctx, BuildOptions{Dir: dir, Env: EnvOptions{CacheDir: t.TempDir(), Index: index.Settings{IndexURL: url}}}); err == nil {
		t.Fatal("the interrupted build did not fail")
	}
	if _, err := os.Stat(filepath.Join(dir, "dist")); err != nil {
		t.Errorf("the output folder that was there before is gone: %v", err)
	}
}
