package slim_test

import (
	"testing"

	"github.com/lambdapack/lambdapack/internal/slim"
)

// TestSlimTestsImportChains: an import keeps a tests folder only when the
// importing file stays. A tests folder kept because package code imports it
// keeps the tests folders it imports in turn (pkg/a/tests -> pkg/b/tests),
// while tests folders that only import each other (pkg/c/tests <->
// pkg/d/tests) both go, whatever order they are checked in.
func TestSlimTestsImportChains(t *testing.T) {
	tr := tree{
		"python/pkg/__init__.py":             []byte("\n"),
		"python/pkg/testing.py":              []byte("from pkg.a.tests import helpers\n"),
		"python/pkg/a/__init__.py":           []byte("\n"),
		"python/pkg/a/tests/__init__.py":     []byte("\n"),
		"python/pkg/a/tests/helpers.py":      []byte("from pkg.b.tests.util import fixture\n"),
		"python/pkg/b/__init__.py":           []byte("\n"),
		"python/pkg/b/tests/__init__.py":     []byte("\n"),
		"python/pkg/b/tests/util.py":         []byte("def fixture(): pass\n"),
		"python/pkg/c/__init__.py":           []byte("\n"),
		"python/pkg/c/tests/__init__.py":     []byte("\n"),
		"python/pkg/c/tests/test_c.py":       []byte("import pkg.d.tests.test_d\n"),
		"python/pkg/d/__init__.py":           []byte("\n"),
		"python/pkg/d/tests/__init__.py":     []byte("\n"),
		"python/pkg/d/tests/test_d.py":       []byte("from ...c.tests import test_c\n"),
		"python/pkg/d/tests/deep/tests/x.py": []byte("\n"),
	}
	res, err := slim.Slim(tr.files())
	if err != nil {
		t.Fatal(err)
	}
	got := paths(res.Files)
	for _, p := range []string{"python/pkg/a/tests/helpers.py", "python/pkg/b/tests/util.py"} {
		if !got[p] {
			t.Errorf("%s removed, though code that stays imports it", p)
		}
	}
	for _, p := range []string{"python/pkg/c/tests/test_c.py", "python/pkg/d/tests/test_d.py", "python/pkg/d/tests/deep/tests/x.py"} {
		if got[p] {
			t.Errorf("%s kept, though only removed tests import it", p)
		}
	}
	want := map[string]string{
		"python/pkg/a/tests/": "tests folder kept: imported by python/pkg/testing.py",
		"python/pkg/b/tests/": "tests folder kept: imported by python/pkg/a/tests/helpers.py",
	}
	if len(res.Kept) != len(want) {
		t.Errorf("kept %+v, want %v", res.Kept, want)
	}
	for _, k := range res.Kept {
		if want[k.Path] != k.Reason {
			t.Errorf("kept %s: %q, want %q", k.Path, k.Reason, want[k.Path])
		}
	}
}
