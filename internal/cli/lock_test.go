package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/lambdapack/lambdapack/internal/cli"
	"github.com/lambdapack/lambdapack/internal/testutil"
)

func TestLockVerb(t *testing.T) {
	ix := testutil.StartIndex(t, testutil.IndexOptions{})
	ix.AddWheel(testutil.Wheel{Name: "app", Version: "1.0", RequiresDist: []string{"lib"}})
	ix.AddWheel(testutil.Wheel{Name: "lib", Version: "1.0"})
	dir := t.TempDir()
	out := filepath.Join(dir, "pylock.toml")
	common := []string{"--runtime", "python3.12", "--arch", "arm64", "-i", ix.URL, "--cache-dir", filepath.Join(dir, "cache")}

	code, stdout, stderr := lambdapack(t, append([]string{"lock", "app", "-o", out, "--json"}, common...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rep map[string]any
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, stdout)
	}
	var keys []string
	for k := range rep {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if !slices.Equal(keys, []string{"packages", "target"}) {
		t.Errorf("keys %v", keys)
	}
	tg, _ := rep["target"].(map[string]any)
	if tg["runtime"] != "python3.12" || tg["architecture"] != "arm64" || tg["python"] != "3.12" || tg["glibc"] != "2.34" {
		t.Errorf("target %v", tg)
	}
	pkgs, _ := rep["packages"].([]any)
	if len(pkgs) != 2 {
		t.Fatalf("packages %v", pkgs)
	}
	first, _ := pkgs[0].(map[string]any)
	for _, k := range []string{"name", "version", "filename", "url", "sha256", "size"} {
		if _, ok := first[k]; !ok {
			t.Errorf("package lacks %q: %v", k, first)
		}
	}
	data, err := os.ReadFile(out)
	if err != nil || !strings.Contains(string(data), `name = "lib-1.0-py3-none-any.whl"`) {
		t.Fatalf("pylock.toml: %v\n%s", err, data)
	}

	// Human output: the table.
	code, stdout, stderr = lambdapack(t, append([]string{"lock", "app", "-o", out}, common...)...)
	if code != 0 || !strings.Contains(stdout, "PACKAGE") || !strings.Contains(stdout, "Locked 2 packages for python3.12/arm64") {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}

	// -r - reads stdin, -o - prints the lock.
	code, stdout, stderr = lambdapackIn(t, "app\n", append([]string{"lock", "-r", "-", "-o", "-"}, common...)...)
	if code != 0 || !strings.HasPrefix(stdout, `lock-version = "1.0"`) {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}

	// No solution: exit 1 with the explanation.
	code, _, stderr = lambdapack(t, append([]string{"lock", "lib>=2", "-o", out}, common...)...)
	if code != 1 || !strings.Contains(stderr, "Because there is no version of lib>=2 and you require lib>=2") {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
}

func lambdapackIn(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb strings.Builder
	code := cli.Main(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// --prerelease sits beside --pre on lock, layer and function; the two
// disagreeing is an error naming both.
func TestPrereleaseFlag(t *testing.T) {
	ix := testutil.StartIndex(t, testutil.IndexOptions{})
	ix.AddWheel(testutil.Wheel{Name: "lib", Version: "1.0"})
	ix.AddWheel(testutil.Wheel{Name: "lib", Version: "2.0b1"})
	dir := t.TempDir()
	common := []string{"--runtime", "python3.12", "-i", ix.URL, "--cache-dir", filepath.Join(dir, "cache")}
	code, stdout, stderr := lambdapack(t, append([]string{"lock", "lib", "-o", "-", "--prerelease", "allow"}, common...)...)
	if code != 0 || !strings.Contains(stdout, `version = "2.0b1"`) {
		t.Fatalf("lock --prerelease allow: exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, verb := range []string{"lock", "layer", "function"} {
		args := []string{verb, "lib", "--pre", "--prerelease", "disallow", "-o", filepath.Join(dir, verb+".out")}
		if verb == "function" {
			args = append(args, "--src", dir)
		}
		code, _, stderr = lambdapack(t, append(args, common...)...)
		if code != 2 || !strings.Contains(stderr, "--pre and --prerelease disallow disagree") {
			t.Errorf("%s --pre --prerelease disallow: exit %d, %s", verb, code, stderr)
		}
	}
}
