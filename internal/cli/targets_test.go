package cli_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/lambdapack/lambdapack/internal/cli"
)

func lambdapack(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Main(args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// The definition of done: `lambdapack targets --json` gives
// python3.11 glibc 2.26, python3.12 glibc 2.34, and every runtime both
// architectures, with exactly the agreed fields.
func TestTargetsJSON(t *testing.T) {
	code, out, errOut := lambdapack(t, "targets", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var raw []map[string]any
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if len(raw) < 6 {
		t.Fatalf("%d runtimes", len(raw))
	}
	glibc := map[string]string{}
	for _, row := range raw {
		var keys []string
		for k := range row {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if want := []string{"architectures", "deprecated", "glibc", "os", "python", "runtime"}; !slices.Equal(keys, want) {
			t.Errorf("fields %v, want exactly %v", keys, want)
		}
		name, _ := row["runtime"].(string)
		glibc[name], _ = row["glibc"].(string)
		if !reflect.DeepEqual(row["architectures"], []any{"x86_64", "arm64"}) {
			t.Errorf("%s: architectures %v", name, row["architectures"])
		}
		if d, ok := row["deprecated"].(string); !ok || len(d) != len("2006-01-02") {
			t.Errorf("%s: deprecated %v", name, row["deprecated"])
		}
	}
	if glibc["python3.11"] != "2.26" || glibc["python3.12"] != "2.34" {
		t.Errorf("glibc python3.11 %q python3.12 %q", glibc["python3.11"], glibc["python3.12"])
	}
}

// The tag list for (python3.11, arm64) through the CLI.
func TestTargetsTags(t *testing.T) {
	code, out, errOut := lambdapack(t, "targets", "--tags", "--runtime", "python3.11", "--arch", "arm64")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for _, want := range []string{"cp311-cp311-manylinux_2_17_aarch64", "cp311-abi3-manylinux2014_aarch64"} {
		if !slices.Contains(lines, want) {
			t.Errorf("missing %s", want)
		}
	}
	for _, l := range lines {
		if strings.Contains(l, "manylinux_2_28") {
			t.Errorf("python3.11 (glibc 2.26) lists %s", l)
		}
	}
	if lines[0] != "cp311-cp311-manylinux_2_26_aarch64" {
		t.Errorf("best tag %s", lines[0])
	}
}

func TestTargetsUnknownRuntime(t *testing.T) {
	code, _, errOut := lambdapack(t, "targets", "--tags", "--runtime", "3.12")
	if code != 2 || !strings.Contains(errOut, "did you mean python3.12?") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}
