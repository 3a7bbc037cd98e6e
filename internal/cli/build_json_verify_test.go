package cli_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lambdapack/lambdapack/internal/testutil"
)

// --json prints exactly one JSON document on stdout when the build stops
// on a verification failure (exit 1): the report with the error object
// (message, file, line), the layer that was built, and nothing else; the
// failing function is neither written nor listed as built.
func TestBuildJSONOnVerifyFailure(t *testing.T) {
	elf := make([]byte, 64)
	copy(elf, "\x7fELF\x02\x01\x01")
	elf[16] = 3    // ET_DYN
	elf[18] = 0x3e // EM_X86_64
	const so = "fastthing/_speed.cpython-312-x86_64-linux-gnu.so"
	idx := testutil.NewIndex(t, testutil.Wheel{Name: "fastthing", Version: "1.0", Tags: []string{"cp312-cp312-manylinux_2_17_x86_64"},
		Files: map[string][]byte{"fastthing/__init__.py": []byte(""), so: elf}})
	dir := t.TempDir()
	testutil.WriteFiles(t, dir, map[string]string{
		"template.yaml": "AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::Serverless-2016-10-31\nResources:\n" +
			"  Deps:\n    Type: AWS::Serverless::LayerVersion\n    Properties:\n      ContentUri: layer/\n      CompatibleRuntimes: [python3.12]\n    Metadata:\n      BuildMethod: python3.12\n" +
			"  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: src/\n      Handler: app.handler\n      Runtime: python3.12\n      Architectures: [arm64]\n      Layers: [!Ref Deps]\n",
		"layer/requirements.txt": "fastthing==1.0\n",
		"src/app.py":             "def handler(e, c):\n    return 1\n",
	})
	code, stdout, stderr := cliMain(t, "build", dir, "--json", "--index-url", idx, "--cache-dir", filepath.Join(t.TempDir(), "cache"))
	if code != 1 {
		t.Errorf("exit %d, want 1 (verification failed); stderr:\n%s", code, stderr)
	}
	dec := json.NewDecoder(strings.NewReader(stdout))
	var rep struct {
		Artifacts []struct {
			Name string `json:"name"`
			Path string `json:"path"`
		} `json:"artifacts"`
		Skipped []any `json:"skipped"`
		Notes   []any `json:"notes"`
		Error   *struct {
			Message string `json:"message"`
			File    string `json:"file"`
			Line    int    `json:"line"`
		} `json:"error"`
	}
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("stdout is not one JSON document: %v\n%s", err, stdout)
	}
	if rest := strings.TrimSpace(stdout[dec.InputOffset():]); rest != "" {
		t.Errorf("stdout holds more than the JSON document: %.200q", rest)
	}
	if rep.Error == nil {
		t.Fatalf("no error object:\n%s", stdout)
	}
	for _, want := range []string{"function Fn:", "Fn.zip was not written", so, "layer Deps (built for python3.12/x86_64) used by this function on python3.12/arm64"} {
		if !strings.Contains(rep.Error.Message, want) {
			t.Errorf("error message lacks %q:\n%s", want, rep.Error.Message)
		}
	}
	if !strings.HasSuffix(rep.Error.File, "template.yaml") || rep.Error.Line != 11 {
		t.Errorf("error at %s:%d, want template.yaml:11 (where Fn is defined)", rep.Error.File, rep.Error.Line)
	}
	if rep.Skipped == nil || rep.Notes == nil {
		t.Errorf("skipped and notes must be lists:\n%s", stdout)
	}
	var built []string
	for _, a := range rep.Artifacts {
		built = append(built, a.Name)
		if _, err := os.Stat(a.Path); err != nil {
			t.Errorf("artifact %s listed but not there: %v", a.Name, err)
		}
	}
	if strings.Join(built, ",") != "Deps-x86_64" {
		t.Errorf("artifacts %v, want only the layer Deps-x86_64", built)
	}
	if _, err := os.Stat(filepath.Join(dir, "dist", "Fn.zip")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Fn.zip was written: %v", err)
	}
	// The human account goes to stderr, never into the JSON.
	if !strings.Contains(stderr, so) {
		t.Errorf("stderr does not name %s:\n%s", so, stderr)
	}
}
