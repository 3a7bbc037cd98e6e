package glob

import "testing"

func TestMatch(t *testing.T) {
	cases := []struct {
		glob, path string
		want       bool
	}{
		{"*.pyc", "pkg/mod.pyc", true},
		{"*.pyc", "pkg/mod.py", false},
		{"__pycache__", "pkg/__pycache__/x.cpython-312.pyc", true},
		{".git", ".git/config", true},
		{".git", "src/.github/x", false},
		{"tests/**", "tests/test_a.py", true},
		{"tests/**", "pkg/tests/test_a.py", false},
		{"**/tests/**", "pkg/tests/test_a.py", true},
		{"**/tests", "a/b/tests/x.py", true},
		{"docs/*.md", "docs/a.md", true},
		{"docs/*.md", "docs/sub/a.md", false},
		{"data/file?.txt", "data/file1.txt", true},
		{"data/[ab].txt", "data/c.txt", false},
		{"./build", "build/x", true},
		{"numpy/*/tests", "numpy/core/tests/test_x.py", true},
	}
	for _, c := range cases {
		p, err := Compile(c.glob)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Match(c.path); got != c.want {
			t.Errorf("%q matches %q = %v, want %v", c.glob, c.path, got, c.want)
		}
	}
}

func TestSetNegation(t *testing.T) {
	s, err := CompileSet([]string{"*.txt", "!keep.txt"})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Match("a/b.txt") || s.Match("a/keep.txt") || s.Match("x.py") {
		t.Error("negation not honoured")
	}
	if _, err := Compile("[abc"); err == nil {
		t.Error("unclosed class accepted")
	}
}

// The strip-pattern side of the dialect: components anywhere, the matched
// folder, and the syntax both sides share.
func TestAnywhereAndPrefix(t *testing.T) {
	cases := []struct {
		glob, path, prefix string
		anywhere           bool
	}{
		{"numpy/tests", "python/numpy/tests/test_a.py", "python/numpy/tests", true},
		{"numpy/tests", "python/numpy/tests/test_a.py", "", false},
		{"numpy/tests", "numpy/tests/test_a.py", "numpy/tests", false},
		{"pkg/data/**/examples.json", "python/pkg/data/x/examples.json", "python/pkg/data/x/examples.json", true},
		{"docs/**", "python/pkg/docs/a/b.html", "python/pkg/docs", true},
		{"*.pyi", "python/pkg/a.pyi", "python/pkg/a.pyi", false},
		{"__pycache__", "a/__pycache__/m.pyc", "a/__pycache__", false},
		{"/numpy/tests", "python/numpy/tests/x.py", "", true},
		{"/python/numpy", "python/numpy/tests/x.py", "python/numpy", true},
		{"data/[!ab].txt", "data/c.txt", "data/c.txt", false},
		{"data/[^ab].txt", "data/a.txt", "", false},
		{"lib**.so", "pkg/libfoo.so", "pkg/libfoo.so", false},
		{"**", "a/b", "a/b", false},
		{" docs/ ", "docs/x", "docs", false},
	}
	for _, c := range cases {
		compile := Compile
		if c.anywhere {
			compile = CompileAnywhere
		}
		p, err := compile(c.glob)
		if err != nil {
			t.Fatalf("%q: %v", c.glob, err)
		}
		got, ok := p.MatchPrefix(c.path)
		if got != c.prefix || ok != (c.prefix != "") {
			t.Errorf("%q (anywhere %v) on %q: prefix %q %v, want %q", c.glob, c.anywhere, c.path, got, ok, c.prefix)
		}
	}
	for _, bad := range []string{"", "/", "a/../b", "a//b", "./", "[", "x/[a-"} {
		if _, err := Compile(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if p, _ := Compile(" !docs/ "); p.String() != "!docs" {
		t.Errorf("String() = %q", p.String())
	}
}
