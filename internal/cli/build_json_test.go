package cli_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/lambdapack/lambdapack/internal/testutil"
)

// --json prints exactly one JSON document on stdout, also when the build
// stops on the config: the error object carries the message, file and line.
func TestBuildJSONOnFailure(t *testing.T) {
	dir := t.TempDir()
	testutil.WriteFiles(t, dir, map[string]string{
		"template.yaml": "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: app.handler\n      Runtime: python3.8\n",
		"app.py":        "",
	})
	code, stdout, stderr := cliMain(t, "build", dir, "--json", "--index-url", "http://127.0.0.1:1/simple")
	if code != 2 {
		t.Errorf("exit %d, stderr %s", code, stderr)
	}
	dec := json.NewDecoder(strings.NewReader(stdout))
	var rep struct {
		Artifacts []any `json:"artifacts"`
		Skipped   []any `json:"skipped"`
		Error     *struct {
			Message string `json:"message"`
			File    string `json:"file"`
			Line    int    `json:"line"`
		} `json:"error"`
	}
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, stdout)
	}
	if dec.More() {
		t.Errorf("more than one document on stdout:\n%s", stdout)
	}
	if rep.Error == nil || !strings.HasSuffix(rep.Error.File, "template.yaml") || rep.Error.Line != 2 ||
		!strings.Contains(rep.Error.Message, "python3.8 is deprecated and Lambda no longer accepts") {
		t.Errorf("error %+v", rep.Error)
	}
	if rep.Artifacts == nil || rep.Skipped == nil {
		t.Errorf("artifacts and skipped must be lists:\n%s", stdout)
	}
	if !bytes.Contains([]byte(stderr), []byte("python3.8")) {
		t.Errorf("stderr says nothing of the cause: %s", stderr)
	}
}
