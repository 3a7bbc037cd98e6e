package testutil

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// ConformanceFile is one testdata/packaging/*.json: the test vectors of one
// pypa/packaging test module (see the README beside it).
type ConformanceFile struct {
	File  string            `json:"file"`
	Tests []ConformanceTest `json:"tests"`
}

// ConformanceTest is one upstream test function with its parameters and the
// literal data of its body.
type ConformanceTest struct {
	Test        string             `json:"test"`
	Line        int                `json:"line"`
	Parametrize []ConformanceBlock `json:"parametrize"`
	BodyVectors []map[string]any   `json:"body_vectors"`
}

// ConformanceBlock is one @pytest.mark.parametrize decorator.
type ConformanceBlock struct {
	Argnames   []string         `json:"argnames"`
	Cases      []map[string]any `json:"cases"`
	Unresolved []map[string]any `json:"unresolved"`
}

// Rows is pytest's cartesian product of the parametrize blocks; a test
// without parameters has one row.
func (c ConformanceTest) Rows() []map[string]any {
	rows := []map[string]any{{}}
	for _, b := range c.Parametrize {
		var next []map[string]any
		for _, r := range rows {
			for _, cs := range b.Cases {
				m := make(map[string]any, len(r)+len(cs))
				for k, v := range r {
					m[k] = v
				}
				for k, v := range cs {
					m[k] = v
				}
				next = append(next, m)
			}
		}
		rows = next
	}
	return rows
}

// LoadConformance reads testdata/packaging/<name> in the calling test's
// package folder (the pypa/packaging vectors that package's tests use, copied
// there with their origin and licence), failing the test when it cannot.
func LoadConformance(t testing.TB, name string) ConformanceFile {
	t.Helper()
	path := filepath.Join("testdata", "packaging", name)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading conformance data: %v", err)
	}
	var f ConformanceFile
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("decoding %s: %v", path, err)
	}
	return f
}

var (
	packagingOnce sync.Once
	packagingPy   string
	packagingErr  error
)

// PackagingPython returns a Python interpreter that has pypa/packaging at the
// version scripts/setup-packaging.sh pins (the differential tests' oracle):
// LAMBDAPACK_TEST_PACKAGING_PYTHON when set (scripts/test.sh sets it), else
// what that script installs on first use. The machine's own packaging is
// never used: a newer one changes the answers.
func PackagingPython(t testing.TB) string {
	t.Helper()
	packagingOnce.Do(func() {
		if p := os.Getenv("LAMBDAPACK_TEST_PACKAGING_PYTHON"); p != "" {
			packagingPy = p
			return
		}
		cmd := exec.Command("bash", filepath.Join(RepoRoot(t), "scripts", "setup-packaging.sh"))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			packagingErr = fmt.Errorf("scripts/setup-packaging.sh: %v\n%s", err, stderr.String())
			return
		}
		packagingPy = strings.TrimSpace(string(out))
	})
	if packagingErr != nil {
		t.Fatalf("setting up the packaging oracle: %v", packagingErr)
	}
	return packagingPy
}
