package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/lambdapack/lambdapack/internal/app"
	"github.com/lambdapack/lambdapack/internal/testutil"
)

// The seed 001 workflow in one command: requirements to a published layer,
// against moto. Publishing the same requirements again publishes nothing.
func TestLayerPublishOneCommand(t *testing.T) {
	publishEnv(t)
	cacheDir, err := os.UserCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	cacheDir = filepath.Join(cacheDir, "lambdapack-test", "e2e-cache")
	idx := testutil.NewIndex(t, testutil.Wheel{Name: "tinypkg", Version: "1.0", Files: map[string][]byte{"tinypkg/__init__.py": []byte("X = 1\n")}})
	out := filepath.Join(t.TempDir(), "layer.zip")
	args := []string{"layer", "tinypkg==1.0", "--index-url", idx, "--runtime", "python3.12", "--arch", "arm64",
		"-o", out, "--cache-dir", cacheDir, "--publish", "--name", "seed001", "--json", "-q"}
	var reports [2]app.Report
	for i := range reports {
		code, stdout, stderr := run(t, args...)
		if code != 0 {
			t.Fatalf("run %d: exit %d\n%s", i, code, stderr)
		}
		if err := json.Unmarshal([]byte(stdout), &reports[i]); err != nil {
			t.Fatalf("run %d: %v\n%s", i, err, stdout)
		}
		if len(reports[i].Published) != 1 {
			t.Fatalf("run %d: published %+v", i, reports[i].Published)
		}
	}
	first, second := reports[0].Published[0], reports[1].Published[0]
	if !first.Changed || first.Version != 1 {
		t.Errorf("first publish: %+v", first)
	}
	if second.Changed || second.Version != 1 || second.LayerVersionARN != first.LayerVersionARN {
		t.Errorf("second publish of the same bytes: %+v", second)
	}
	// A pure-Python layer is published as fitting both architectures, for
	// the runtime it was built for.
	if got := first.Architectures; len(got) != 2 {
		t.Errorf("architectures %v, want both", got)
	}
	if got := first.Runtimes; len(got) != 1 || got[0] != "python3.12" {
		t.Errorf("runtimes %v", got)
	}
}
