package slim_test

import (
	"strings"
	"testing"

	"github.com/lambdapack/lambdapack/internal/slim"
)

// TestQASlimTestsImportedOnlyByTests: a tests folder imported only by another
// tests folder that --slim removes must go too (numpy: matrixlib/tests imports
// numpy.linalg.tests.test_linalg, and `layer pandas --slim` kept
// numpy/linalg/tests "imported by python/numpy/matrixlib/tests/test_matrix_linalg.py",
// a file it had just removed).
func TestQASlimTestsImportedOnlyByTests(t *testing.T) {
	tr := tree{
		"python/np/__init__.py":                        []byte("from . import linalg, matrixlib\n"),
		"python/np/linalg/__init__.py":                 []byte("X = 1\n"),
		"python/np/linalg/tests/__init__.py":           []byte("\n"),
		"python/np/linalg/tests/test_linalg.py":        []byte("def test(): pass\n"),
		"python/np/matrixlib/__init__.py":              []byte("Y = 2\n"),
		"python/np/matrixlib/tests/__init__.py":        []byte("\n"),
		"python/np/matrixlib/tests/test_matrix_lin.py": []byte("from np.linalg.tests.test_linalg import test\n"),
	}
	res, err := slim.Slim(tr.files())
	if err != nil {
		t.Fatal(err)
	}
	got := paths(res.Files)
	for p := range tr {
		if strings.Contains(p, "/tests/") && got[p] {
			t.Errorf("%s kept, though only removed tests import it", p)
		}
	}
	for _, k := range res.Kept {
		t.Logf("kept %s: %s", k.Path, k.Reason)
	}
}
