package testutil

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// ConformanceFile is one of ../shared/conformance/packaging/*.json: the
// test vectors of one pypa/packaging test module (see the README there).
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

// LoadConformance reads ../shared/conformance/packaging/<name> where it
// lies (no copies), failing the test when it cannot.
func LoadConformance(t testing.TB, name string) ConformanceFile {
	t.Helper()
	path := filepath.Join(SharedDir(t), "conformance", "packaging", name)
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
