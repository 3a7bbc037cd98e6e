package project

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

var tree1 = []string{
	"handler.py", "lib/util.py", "lib/data/table.csv", "tests/test_handler.py", "README.md",
	".env", ".env.prod", "node_modules/x/index.js", "api/handler.py", "api/tests/t.py", "serverless.yml",
	"docs/a.md", "src/pkg/__init__.py", "src/pkg/mod.py", ".hidden/x.py",
}

func keep(m *Matcher, files []string) []string {
	var out []string
	for _, f := range files {
		if m.Match(f) {
			out = append(out, f)
		}
	}
	return out
}

// Serverless applies patterns in order, a later one winning; "!" excludes
// and a later include re-includes.
func TestServerlessPatternsInOrder(t *testing.T) {
	cases := []struct {
		name     string
		patterns []string
		want     []string
	}{
		{"exclude all then re-include", []string{"!**/*", "handler.py"}, []string{"handler.py"}},
		{"exclude all, re-include a folder", []string{"!**", "lib/**", "!lib/data/**"}, []string{"lib/util.py"}},
		{"later exclude wins", []string{"lib/**", "!lib/**"}, []string{"handler.py", "tests/test_handler.py", "README.md", ".env", ".env.prod", "node_modules/x/index.js", "api/handler.py", "api/tests/t.py", "serverless.yml", "docs/a.md", "src/pkg/__init__.py", "src/pkg/mod.py", ".hidden/x.py"}},
		{"braces", []string{"!**/*.{md,csv}"}, []string{"handler.py", "lib/util.py", "tests/test_handler.py", ".env", ".env.prod", "node_modules/x/index.js", "api/handler.py", "api/tests/t.py", "serverless.yml", "src/pkg/__init__.py", "src/pkg/mod.py", ".hidden/x.py"}},
		// A bare name matches that path only, not a folder's contents and
		// not the name deeper down (micromatch, not .gitignore).
		{"bare name is a full path", []string{"!tests", "!handler.py"}, []string{"lib/util.py", "lib/data/table.csv", "tests/test_handler.py", "README.md", ".env", ".env.prod", "node_modules/x/index.js", "api/handler.py", "api/tests/t.py", "serverless.yml", "docs/a.md", "src/pkg/__init__.py", "src/pkg/mod.py", ".hidden/x.py"}},
		{"dot files match stars", []string{"!*", "!.*/**"}, []string{"lib/util.py", "lib/data/table.csv", "tests/test_handler.py", "node_modules/x/index.js", "api/handler.py", "api/tests/t.py", "docs/a.md", "src/pkg/__init__.py", "src/pkg/mod.py"}},
		{"leading ./", []string{"!**", "./src/**"}, []string{"src/pkg/__init__.py", "src/pkg/mod.py"}},
		{"question mark and class", []string{"!**", "src/pkg/mo?.py", "lib/[tu]*.py"}, []string{"lib/util.py", "src/pkg/mod.py"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := NewMatcher("")
			for _, p := range c.patterns {
				if err := m.Add(p, SyntaxServerless, false, "package.patterns"); err != nil {
					t.Fatal(err)
				}
			}
			if diff := cmp.Diff(c.want, keep(m, tree1)); diff != "" {
				t.Errorf("%v (-want +got):\n%s", c.patterns, diff)
			}
		})
	}
}

// The legacy exclude key negates: "x" excludes, "!x" re-includes; include
// entries then re-include, after every exclude.
func TestServerlessLegacyIncludeExclude(t *testing.T) {
	m := NewMatcher("")
	for _, p := range []string{"**", "!lib/**"} {
		m.MustAdd(p, SyntaxServerless, true, "package.exclude")
	}
	m.MustAdd("handler.py", SyntaxServerless, false, "package.include")
	if diff := cmp.Diff([]string{"handler.py", "lib/util.py", "lib/data/table.csv"}, keep(m, tree1)); diff != "" {
		t.Error(diff)
	}
}

// A function packaged from a module is matched from the service folder.
func TestMatcherBase(t *testing.T) {
	m := NewMatcher("api")
	m.MustAdd("!api/tests/**", SyntaxServerless, false, "package.patterns")
	if !m.Match("handler.py") || m.Match("tests/t.py") {
		t.Errorf("base api: handler.py %v, tests/t.py %v", m.Match("handler.py"), m.Match("tests/t.py"))
	}
}

func TestMatcherNameSyntaxAndSkipDir(t *testing.T) {
	m := NewMatcher("")
	for _, x := range DefaultExcludes {
		m.MustAdd(x, SyntaxName, true, "lambdapack's defaults")
	}
	if m.Match("a/__pycache__/x.pyc") || m.Match("node_modules/x/y.js") || !m.Match("app.py") {
		t.Error("defaults")
	}
	if !m.SkipDir("node_modules") || !m.SkipDir("src/.venv") || m.SkipDir("src") {
		t.Error("SkipDir with defaults")
	}
	// A later include that could match below a folder keeps the walk in it.
	m.MustAdd("node_modules/keep/**", SyntaxServerless, false, "package.patterns")
	if m.SkipDir("node_modules") || !m.Match("node_modules/keep/a.js") || m.Match("node_modules/x/y.js") {
		t.Error("re-include beneath an excluded folder")
	}
	s := NewMatcher("")
	s.MustAdd("!**", SyntaxServerless, false, "p")
	s.MustAdd("handler.py", SyntaxServerless, false, "p")
	if !s.SkipDir("lib") {
		t.Error("!** then handler.py: lib/ holds nothing that can be included")
	}
	s.MustAdd("lib/*.py", SyntaxServerless, false, "p")
	if s.SkipDir("lib") {
		t.Error("lib/*.py re-includes beneath lib/")
	}
	d := NewMatcher("")
	d.MustAdd("!lib/*", SyntaxServerless, false, "p")
	if d.SkipDir("lib") {
		t.Error("!lib/* excludes lib's files, not lib/data's")
	}
}
