package invoke_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lambdapack/lambdapack/internal/app"
	"github.com/lambdapack/lambdapack/internal/invoke"
	"github.com/lambdapack/lambdapack/internal/testutil"
	"github.com/lambdapack/lambdapack/internal/tree"
)

// appFunctionOptions builds a code-only function zip for python3.12.
func appFunctionOptions(t *testing.T) app.ArtifactOptions {
	src := t.TempDir()
	testutil.WriteFiles(t, src, map[string]string{"app.py": "def handler(e, c):\n    return 1\n", "lib/helper.py": ""})
	return app.ArtifactOptions{Kind: app.KindFunction, Src: src, Runtime: "python3.12", Arch: "x86_64"}
}

// TestARM64UnderQemu runs a python3.11 arm64 function with a compiled
// dependency (orjson), built by lambdapack, under qemu-user with Debian's
// arm64 CPython 3.11 (scripts/setup-arm64.sh's root).
func TestARM64UnderQemu(t *testing.T) {
	root := testutil.ARM64Python(t)[2]
	src := t.TempDir()
	testutil.WriteFiles(t, src, map[string]string{
		"app.py": `
import platform, orjson

def handler(event, context):
    return {"machine": platform.machine(), "dumped": orjson.dumps(event).decode(), "orjson": orjson.__file__}
`,
		"requirements.txt": "orjson\n",
	})
	zipPath := buildZip(t, app.ArtifactOptions{
		Kind: app.KindFunction, Src: src, Deps: app.Inputs{RequirementFiles: []string{filepath.Join(src, "requirements.txt")}},
		Runtime: "python3.11", Arch: "arm64",
	})
	code, err := invoke.ZipTree(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	defer code.Close()
	r, _ := testRunner(t, invoke.Options{Find: invoke.FindOptions{RootFS: root}, InitTimeout: 3 * time.Minute})
	fn := open(t, r, invoke.Spec{Name: "arm", Handler: "app.handler", Runtime: "python3.11", Arch: "arm64", Code: code, Layers: []*tree.Tree{}, Timeout: 60 * time.Second})
	if fn.Interpreter().Emulator == "" || fn.Interpreter().Machine != "aarch64" {
		t.Fatalf("interpreter %+v", fn.Interpreter())
	}
	res := call(t, fn, `{"a":[1,2]}`)
	if res.Failed() {
		t.Fatalf("%s: %s", res.ErrorType, res.Payload)
	}
	var got struct{ Machine, Dumped, Orjson string }
	if err := json.Unmarshal(res.Payload, &got); err != nil {
		t.Fatalf("%s: %v", res.Payload, err)
	}
	if got.Machine != "aarch64" || got.Dumped != `{"a":[1,2]}` || !strings.HasPrefix(got.Orjson, fn.TaskRoot()) {
		t.Errorf("%+v", got)
	}
}
