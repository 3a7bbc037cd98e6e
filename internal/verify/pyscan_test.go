package verify

import (
	"slices"
	"strings"
	"testing"
)

// importsOf lists what scanPython finds, as "module" (absolute), ".mod"
// (relative), with ":name,name" for a from-import and "?" when guarded.
func importsOf(src string) []string {
	var out []string
	for _, imp := range scanPython(src).imports {
		s := strings.Repeat(".", imp.level) + imp.module
		if imp.names != nil {
			s += ":" + strings.Join(imp.names, ",")
		}
		if imp.guarded {
			s += "?"
		}
		out = append(out, s)
	}
	return out
}

func TestScanPythonImportTime(t *testing.T) {
	for _, c := range []struct {
		name string
		src  string
		want []string
	}{
		{"top level", "import os, a.b as c\nfrom . import x, y as z\nfrom ..p.q import (r,\n    s)\n", []string{"os", "a.b", ".:x,y", "..p.q:r,s"}},
		{"function body not run", "def f():\n    import lazy\n    from .opt import backend\nx = 1\n", nil},
		{"function called at import", "def _load():\n    from . import _core\n    return _core\n\n_lib = _load()\n", []string{".:_core"}},
		{"called transitively", "def a():\n    b()\ndef b():\n    import deep\na()\n", []string{"deep"}},
		{"method not run", "class C:\n    import in_class\n    def m(self):\n        import in_method\n", []string{"in_class"}},
		{"nested def in a called function", "def f():\n    def g():\n        import inner\n    return g\nf()\n", []string{"inner"}},
		{"TYPE_CHECKING skipped", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import only_types\nelse:\n    import at_runtime\n", []string{"typing:TYPE_CHECKING", "at_runtime"}},
		{"__main__ skipped", "import a\nif __name__ == '__main__':\n    import script_only\n", []string{"a"}},
		{"guarded", "try:\n    from . import _speedups\nexcept ImportError:\n    _speedups = None\n", []string{".:_speedups?"}},
		{"guarded by bare except", "try:\n    import fast\nexcept:\n    pass\n", []string{"fast?"}},
		{"re-raised is not guarded", "try:\n    from . import multiarray\nexcept ImportError as exc:\n    msg = 'broken'\n    raise ImportError(msg) from exc\n", []string{".:multiarray"}},
		{"other exception is not guarded", "try:\n    import x\nexcept KeyError:\n    pass\n", []string{"x"}},
		{"guard reaches called bodies", "def launch():\n    import backend\ntry:\n    launch()\nexcept ImportError:\n    pass\n", []string{"backend?"}},
		{"strings and comments are not code", "'''\nimport in_doc\n'''\nx = \"import in_str\"  # import in_comment\ny = r'\\'' ; import real\n", []string{"real"}},
		{"one-line compound", "if x: import a\ntry: import b\nexcept ImportError: pass\n", []string{"a", "b"}},
		{"backslash continuation", "from a import b, \\\n    c\n", []string{"a:b,c"}},
		{"dynamic import", "import importlib\nmod = importlib.import_module(\"pkg.plugin\")\n", []string{"importlib", "pkg.plugin"}},
	} {
		if got := importsOf(c.src); !slices.Equal(got, c.want) {
			t.Errorf("%s: imports %q, want %q", c.name, got, c.want)
		}
	}
}

func TestScanPythonCtypes(t *testing.T) {
	for src, want := range map[string]bool{
		"import ctypes\n_LIB = ctypes.cdll.LoadLibrary(path)\n": true,
		"def load():\n    return ctypes.CDLL(p)\n":              true,
		"lib = np.ctypeslib.load_library('x', d)\n":             true,
		"import ctypes\nx = ctypes.c_int(3)\n":                  false,
		"# ctypes.CDLL(p)\ns = 'CDLL(x)'\n":                     false,
	} {
		if got := scanPython(src).ctypes; got != want {
			t.Errorf("%q: ctypes = %v, want %v", src, got, want)
		}
	}
}

// FuzzScanPython: no source makes the scanner fail or run long.
func FuzzScanPython(f *testing.F) {
	f.Add("import a\nfrom . import b\ndef f():\n    import c\ntry:\n    import d\nexcept ImportError:\n    pass\n")
	f.Add("'''\n\"\"\"\\\n(\n")
	f.Fuzz(func(t *testing.T, src string) {
		scanPython(src)
	})
}
