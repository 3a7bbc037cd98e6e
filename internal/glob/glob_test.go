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
