package pep508

import (
	"fmt"
	"sort"
	"testing"

	"github.com/lambdapack/lambdapack/internal/testutil"
)

// The conformance tests read pypa/packaging's test vectors
// (testdata/packaging/*.json, see its README) and run every
// row that tests the standard. Rows that test packaging's Python API are
// skipped by test name, each with its reason.

type (
	confFile = testutil.ConformanceFile
	confTest = testutil.ConformanceTest
)

func loadConformance(t *testing.T, name string) confFile { return testutil.LoadConformance(t, name) }

// rowFunc checks one row and returns an error describing a mismatch.
type rowFunc func(row map[string]any, tc confTest) error

// runConformance runs every test of f through handlers, skipping the ones
// named in skips, and fails on a test that is in neither.
func runConformance(t *testing.T, f confFile, handlers map[string]rowFunc, skips map[string]string) {
	t.Helper()
	ran, passed, skipped := 0, 0, 0
	seen := map[string]bool{}
	for _, tc := range f.Tests {
		seen[tc.Test] = true
		rows := tc.Rows()
		if reason, ok := skips[tc.Test]; ok {
			if _, dup := handlers[tc.Test]; dup {
				t.Errorf("%s is both handled and skipped", tc.Test)
			}
			if reason == "" {
				t.Errorf("%s skipped without a reason", tc.Test)
			}
			skipped += max(len(rows), 1)
			continue
		}
		h, ok := handlers[tc.Test]
		if !ok {
			t.Errorf("%s (line %d): no handler and not skipped", tc.Test, tc.Line)
			continue
		}
		if len(rows) == 0 {
			t.Errorf("%s: no rows to run (parameters unresolved); skip it with a reason instead", tc.Test)
			continue
		}
		for i, row := range rows {
			ran++
			if err := safeRun(h, row, tc); err != nil {
				t.Errorf("%s row %d %v: %v", tc.Test, i, rowString(row), err)
				continue
			}
			passed++
		}
	}
	for _, m := range []map[string]rowFunc{handlers} {
		for name := range m {
			if !seen[name] {
				t.Errorf("handler for %s, which the data does not have", name)
			}
		}
	}
	for name := range skips {
		if !seen[name] {
			t.Errorf("skip for %s, which the data does not have", name)
		}
	}
	t.Logf("%s: ran %d, passed %d, skipped %d", f.File, ran, passed, skipped)
}

func safeRun(h rowFunc, row map[string]any, tc confTest) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return h(row, tc)
}

func rowString(row map[string]any) string {
	keys := make([]string, 0, len(row))
	for k := range row {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	s := "{"
	for i, k := range keys {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%s: %q", k, fmt.Sprint(row[k]))
	}
	return s + "}"
}

// str reads a string argument (JSON null reads as "" and ok=false).
func str(row map[string]any, key string) (string, bool) {
	s, ok := row[key].(string)
	return s, ok
}

// env converts a JSON environment (null for packaging's default) to an
// Environment on top of hostEnv, as packaging overlays the given mapping on
// default_environment().
func env(v any) Environment {
	e := Environment{}
	for k, x := range hostEnv {
		e[k] = x
	}
	if m, ok := v.(map[string]any); ok {
		for k, x := range m {
			s, _ := x.(string)
			e[k] = s
		}
	}
	return e
}

// hostEnv stands in for packaging's default_environment() on a Linux
// CPython 3.11 host, which is what the rows evaluated without an
// environment assume (os.name == "posix").
var hostEnv = Environment{
	"implementation_name":            "cpython",
	"implementation_version":         "3.11.7",
	"os_name":                        "posix",
	"platform_machine":               "x86_64",
	"platform_release":               "6.1.0",
	"platform_system":                "Linux",
	"platform_version":               "#1 SMP PREEMPT_DYNAMIC",
	"python_full_version":            "3.11.7",
	"platform_python_implementation": "CPython",
	"python_version":                 "3.11",
	"sys_platform":                   "linux",
}

// bodyCalls returns the first argument of each body-vector call of func f.
func bodyCalls(tc confTest, f string) []string {
	var out []string
	for _, bv := range tc.BodyVectors {
		if bv["kind"] == "call" && bv["func"] == f {
			if args, ok := bv["args"].([]any); ok && len(args) > 0 {
				if s, ok := args[0].(string); ok {
					out = append(out, s)
				}
			}
		}
	}
	return out
}

// bodyCompare returns the expected value of the body-vector comparison whose
// left side is left.
func bodyCompare(tc confTest, left string) (any, bool) {
	for _, bv := range tc.BodyVectors {
		if bv["kind"] == "compare" && bv["left"] == left {
			return bv["value"], true
		}
	}
	return nil, false
}
