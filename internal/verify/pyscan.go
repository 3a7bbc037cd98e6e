package verify

import (
	"strings"
)

// pyScan is what a Python module does when it is imported, read from its
// source without running it: the imports its import-time code makes, and
// whether its code loads native libraries through ctypes (or cffi).
//
// Import-time code is the module's top level (class bodies included, since
// they run when the class statement does) plus the bodies of the module's
// own top-level functions that import-time code calls by name,
// transitively. Function bodies that are never called at import, and
// blocks under `if TYPE_CHECKING:` or `if __name__ == "__main__":`, are
// not import-time code: an import there happens later, if ever (an
// optional backend, a lazy load, a script's main).
type pyScan struct {
	imports []pyImport
	// ctypes: a loader call (ctypes.CDLL, cdll.LoadLibrary, PyDLL,
	// ctypeslib.load_library, ffi.dlopen) anywhere in the module.
	ctypes bool
	// called are the module's own functions import-time code calls.
	called []string
}

// pyImport is one module an import statement names: level is the number of
// leading dots (0 for absolute), module the dotted name after them (may be
// ""), and names what a from-import takes from it (nil for `import x`).
type pyImport struct {
	level  int
	module string
	names  []string
	// guarded: made inside a try that swallows its ImportError.
	guarded bool
}

// pyToken is a token of a logical line: an identifier or keyword, a
// string literal (str set), a number, or an operator.
type pyToken struct {
	text  string
	isStr bool
}

// pyLine is one logical line: its indentation and tokens.
type pyLine struct {
	indent int
	toks   []pyToken
}

// pyLines splits Python source into logical lines, joining bracketed and
// backslash-continued physical lines, dropping comments and reading string
// literals (prefixed, triple-quoted) as single tokens.
func pyLines(src string) []pyLine {
	var out []pyLine
	var cur pyLine
	depth := 0
	atStart := true // at the start of a logical line (indentation counts)
	col := 0
	flush := func() {
		if len(cur.toks) > 0 {
			out = append(out, cur)
		}
		cur = pyLine{}
		atStart, col = true, 0
	}
	i := 0
	for i < len(src) {
		c := src[i]
		if atStart {
			switch c {
			case ' ':
				col++
				i++
				continue
			case '\t':
				col = (col/8 + 1) * 8
				i++
				continue
			case '\f':
				col = 0
				i++
				continue
			}
			cur.indent = col
			atStart = false
		}
		switch {
		case c == '#':
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == '\n':
			i++
			if depth == 0 {
				flush()
			}
		case c == '\\' && i+1 < len(src) && (src[i+1] == '\n' || src[i+1] == '\r'):
			i += 2
			if i < len(src) && src[i-1] == '\r' && src[i] == '\n' {
				i++
			}
		case c == ' ' || c == '\t' || c == '\r' || c == '\f':
			i++
		case isPyStringStart(src, i):
			lit, n := pyString(src, i)
			cur.toks = append(cur.toks, pyToken{text: lit, isStr: true})
			i += n
		case isIdentStart(c):
			j := i + 1
			for j < len(src) && isIdentChar(src[j]) {
				j++
			}
			cur.toks = append(cur.toks, pyToken{text: src[i:j]})
			i = j
		case c >= '0' && c <= '9':
			j := i + 1
			for j < len(src) && (isIdentChar(src[j]) || src[j] == '.') {
				j++
			}
			cur.toks = append(cur.toks, pyToken{text: src[i:j]})
			i = j
		default:
			switch c {
			case '(', '[', '{':
				depth++
			case ')', ']', '}':
				if depth > 0 {
					depth--
				}
			}
			cur.toks = append(cur.toks, pyToken{text: src[i : i+1]})
			i++
		}
	}
	flush()
	return out
}

func isIdentStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

func isIdentChar(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }

// isPyStringStart reports whether a string literal (with an optional
// r/b/u/f prefix of up to two letters) starts at i.
func isPyStringStart(src string, i int) bool {
	j := i
	for j < len(src) && j-i < 2 && strings.IndexByte("rRbBuUfF", src[j]) >= 0 {
		j++
	}
	if j >= len(src) || src[j] != '"' && src[j] != '\'' {
		return false
	}
	// A prefix must not be the tail of an identifier.
	return i == 0 || !isIdentChar(src[i-1]) || j == i
}

// pyString reads the string literal at i: its content (escapes left as
// written) and its length in the source. An unterminated literal runs to
// the end of its line (or of the file, for a triple-quoted one).
func pyString(src string, i int) (string, int) {
	j := i
	raw := false
	for src[j] != '"' && src[j] != '\'' {
		if src[j] == 'r' || src[j] == 'R' {
			raw = true
		}
		j++
	}
	q := src[j]
	triple := j+2 < len(src) && src[j+1] == q && src[j+2] == q
	start := j + 1
	if triple {
		start = j + 3
	}
	k := start
	for k < len(src) {
		switch {
		case src[k] == '\\' && !raw && k+1 < len(src):
			k += 2
			continue
		case src[k] == '\\' && raw && k+1 < len(src):
			k += 2 // a raw string still cannot end on an escaped quote
			continue
		case triple && k+2 < len(src) && src[k] == q && src[k+1] == q && src[k+2] == q:
			return src[start:k], k + 3 - i
		case !triple && src[k] == q:
			return src[start:k], k + 1 - i
		case !triple && src[k] == '\n':
			return src[start:k], k - i
		}
		k++
	}
	return src[start:], len(src) - i
}

// scanPython reads a module's source.
func scanPython(src string) pyScan {
	var s pyScan
	lines := pyLines(src)
	guards := tryGuards(lines)

	// Blocks: function bodies, class bodies, try bodies and skipped
	// blocks. A class body runs at import; a function body only when
	// called.
	type block struct {
		indent  int
		kind    byte   // 'd' def, 'c' class, 's' TYPE_CHECKING or __main__, 't' try
		fn      string // a module-level function's name; "" for a method or nested def
		guarded bool   // a try whose handler swallows ImportError
	}
	var stack []block
	top := map[string]bool{} // module-level functions
	var topLevel []int       // indexes of import-time lines
	body := map[string][]int{}
	lineGuarded := make([]bool, len(lines))
	for idx, ln := range lines {
		for len(stack) > 0 && ln.indent <= stack[len(stack)-1].indent {
			stack = stack[:len(stack)-1]
		}
		skipped, inDef, inClass, fn := false, false, false, ""
		for _, b := range stack {
			switch b.kind {
			case 's':
				skipped = true
			case 'c':
				inClass = true
			case 't':
				if b.guarded {
					lineGuarded[idx] = true
				}
			case 'd':
				if !inDef {
					fn = b.fn
				}
				inDef = true
			}
		}
		t := ln.toks
		if !s.ctypes && loadsLibrary(t) {
			s.ctypes = true
		}
		first := 0
		if len(t) > 0 && t[0].text == "async" {
			first = 1
		}
		isDef := len(t) > first+1 && t[first].text == "def" && !t[first].isStr
		endsColon := len(t) > 0 && t[len(t)-1].text == ":" && !t[len(t)-1].isStr
		switch {
		case skipped:
		case inDef:
			body[fn] = append(body[fn], idx)
		default:
			topLevel = append(topLevel, idx)
		}
		moduleLevel := !inDef && !inClass
		switch {
		case isDef && endsColon:
			name := ""
			if moduleLevel {
				name = t[first+1].text
				top[name] = true
			}
			stack = append(stack, block{indent: ln.indent, kind: 'd', fn: name})
		case isDef:
			if moduleLevel {
				top[t[first+1].text] = true // a one-line def
			}
		case endsColon && len(t) > 1 && t[0].text == "class":
			stack = append(stack, block{indent: ln.indent, kind: 'c'})
		case endsColon && (isTypeCheckingIf(t) || isMainIf(t)):
			stack = append(stack, block{indent: ln.indent, kind: 's'})
		case endsColon && len(t) == 2 && t[0].text == "try":
			stack = append(stack, block{indent: ln.indent, kind: 't', guarded: guards[idx]})
		}
	}

	// Import-time code: the top level, then the bodies of top-level
	// functions it calls, transitively. A body reached from guarded code
	// is guarded all through (its failure reaches the same handler); one
	// reached both ways counts as unguarded.
	type item struct {
		idx     int
		guarded bool
	}
	seen := map[string]byte{} // 'g' queued guarded, 'u' queued unguarded
	var queue []item
	for _, idx := range topLevel {
		queue = append(queue, item{idx, false})
	}
	for len(queue) > 0 {
		it := queue[0]
		queue = queue[1:]
		t := lines[it.idx].toks
		guarded := it.guarded || lineGuarded[it.idx]
		if len(t) > 0 && (t[0].text == "def" || len(t) > 1 && t[0].text == "async" && t[1].text == "def") {
			continue // the def statement itself runs no body
		}
		for _, stmt := range splitStatements(t) {
			imps, _ := parseImport(stmt)
			if imp, ok := dynamicImport(stmt); ok {
				imps = append(imps, imp)
			}
			for _, imp := range imps {
				imp.guarded = guarded
				s.imports = append(s.imports, imp)
			}
		}
		for k := 0; k+1 < len(t); k++ {
			name := t[k].text
			if t[k].isStr || t[k+1].text != "(" || !top[name] || k > 0 && t[k-1].text == "." {
				continue
			}
			state := byte('u')
			if guarded {
				state = 'g'
			}
			if seen[name] == 'u' || seen[name] == state {
				continue
			}
			if seen[name] == 0 {
				s.called = append(s.called, name)
			}
			seen[name] = state
			for _, j := range body[name] {
				queue = append(queue, item{j, guarded})
			}
		}
	}
	return s
}

// tryGuards finds, for each `try:` line, whether the try swallows an
// ImportError: one of its handlers catches ImportError (or
// ModuleNotFoundError, Exception, BaseException, or everything) and does
// not raise. Importing a module there cannot fail the import of the
// module that does it: numba imports its optional threading backends so.
func tryGuards(lines []pyLine) map[int]bool {
	out := map[int]bool{}
	for i, ln := range lines {
		t := ln.toks
		if len(t) != 2 || t[0].text != "try" || t[1].text != ":" {
			continue
		}
		guarded := false
		handler, catches, raises := false, false, false
		end := func() {
			if handler && catches && !raises {
				guarded = true
			}
			handler, catches, raises = false, false, false
		}
		for j := i + 1; j < len(lines); j++ {
			l := lines[j]
			if l.indent > ln.indent {
				if handler && len(l.toks) > 0 && l.toks[0].text == "raise" {
					raises = true
				}
				continue
			}
			if l.indent < ln.indent || len(l.toks) == 0 {
				break
			}
			switch l.toks[0].text {
			case "except":
				end()
				handler, catches = true, catchesImportError(l.toks)
				// A one-line handler: `except ImportError: raise`.
				for k, tok := range l.toks {
					if tok.text == ":" && k+1 < len(l.toks) && l.toks[k+1].text == "raise" {
						raises = true
					}
				}
				continue
			case "else", "finally":
				end()
				continue
			}
			break
		}
		end()
		out[i] = guarded
	}
	return out
}

// catchesImportError reads an except clause's exception names.
func catchesImportError(t []pyToken) bool {
	if len(t) == 2 || len(t) > 1 && t[1].text == ":" {
		return true // a bare except
	}
	for _, tok := range t[1:] {
		if tok.text == ":" || tok.text == "as" {
			break
		}
		switch tok.text {
		case "ImportError", "ModuleNotFoundError", "Exception", "BaseException":
			return true
		}
	}
	return false
}

// isTypeCheckingIf reports `if TYPE_CHECKING:` and `if typing.TYPE_CHECKING:`.
func isTypeCheckingIf(t []pyToken) bool {
	if len(t) < 3 || t[0].text != "if" {
		return false
	}
	rest := t[1 : len(t)-1]
	if len(rest) == 3 && rest[1].text == "." {
		rest = rest[2:]
	}
	return len(rest) == 1 && rest[0].text == "TYPE_CHECKING"
}

// isMainIf reports `if __name__ == "__main__":`, a block that runs when
// the module is a script, never when it is imported.
func isMainIf(t []pyToken) bool {
	// The tokenizer reads "==" as two "=" tokens.
	if len(t) != 6 || t[0].text != "if" || t[2].text != "=" || t[3].text != "=" || t[2].isStr || t[3].isStr {
		return false
	}
	a, b := t[1], t[4]
	return a.text == "__name__" && !a.isStr && b.isStr && b.text == "__main__" ||
		b.text == "__name__" && !b.isStr && a.isStr && a.text == "__main__"
}

// loadsLibrary reports a native-library loader call in a line.
func loadsLibrary(t []pyToken) bool {
	for k := 0; k+1 < len(t); k++ {
		if t[k].isStr || t[k+1].text != "(" {
			continue
		}
		switch t[k].text {
		case "CDLL", "PyDLL", "LoadLibrary", "load_library", "dlopen":
			return true
		}
	}
	return false
}

// splitStatements splits a logical line on top-level semicolons and drops
// a compound statement's header ("try:", "else:") so that `if x: import y`
// and `try: import y` still show the import.
func splitStatements(t []pyToken) [][]pyToken {
	var out [][]pyToken
	depth, start := 0, 0
	for k, tok := range t {
		if tok.isStr {
			continue
		}
		switch tok.text {
		case "(", "[", "{":
			depth++
		case ")", "]", "}":
			depth--
		case ";":
			if depth == 0 {
				out = append(out, t[start:k])
				start = k + 1
			}
		case ":":
			if depth == 0 && k+1 < len(t) && isCompoundKeyword(t[start].text) {
				out = append(out, t[start:k])
				start = k + 1
			}
		}
	}
	return append(out, t[start:])
}

func isCompoundKeyword(s string) bool {
	switch s {
	case "if", "elif", "else", "try", "except", "finally", "with", "for", "while":
		return true
	}
	return false
}

// parseImport reads `import a.b as c, d` and `from ..x import (y, z as w)`.
func parseImport(t []pyToken) ([]pyImport, bool) {
	if len(t) < 2 || t[0].isStr {
		return nil, false
	}
	switch t[0].text {
	case "import":
		var out []pyImport
		k := 1
		for k < len(t) {
			name, n := dottedName(t[k:])
			if name == "" {
				break
			}
			out = append(out, pyImport{module: name})
			k += n
			if k+1 < len(t) && t[k].text == "as" {
				k += 2
			}
			if k < len(t) && t[k].text == "," {
				k++
				continue
			}
			break
		}
		return out, len(out) > 0
	case "from":
		k, level := 1, 0
		for k < len(t) && (t[k].text == "." || t[k].text == "...") && !t[k].isStr {
			level += len(t[k].text)
			k++
		}
		name := ""
		if k < len(t) && t[k].text != "import" {
			var n int
			name, n = dottedName(t[k:])
			k += n
		}
		if k >= len(t) || t[k].text != "import" || name == "" && level == 0 {
			return nil, false
		}
		imp := pyImport{level: level, module: name}
		// The names, without their aliases (the name after "as").
		var names []string
		toks := t[k+1:]
		for j := 0; j < len(toks); j++ {
			if toks[j].text == "as" {
				j++
				continue
			}
			if !toks[j].isStr && (toks[j].text == "*" || isIdentStart(toks[j].text[0])) {
				names = append(names, toks[j].text)
			}
		}
		imp.names = names
		return []pyImport{imp}, true
	}
	return nil, false
}

// dottedName reads "a.b.c" from the start of t, returning it and the
// tokens used.
func dottedName(t []pyToken) (string, int) {
	var parts []string
	k := 0
	for k < len(t) && !t[k].isStr && isIdentStart(t[k].text[0]) {
		parts = append(parts, t[k].text)
		k++
		if k+1 < len(t) && t[k].text == "." && !t[k+1].isStr && isIdentStart(t[k+1].text[0]) {
			k++
			continue
		}
		break
	}
	return strings.Join(parts, "."), k
}

// dynamicImport reads importlib.import_module("a.b") and __import__("a.b")
// with a literal, absolute name.
func dynamicImport(t []pyToken) (pyImport, bool) {
	for k := 0; k+2 < len(t); k++ {
		if (t[k].text == "import_module" || t[k].text == "__import__") && !t[k].isStr && t[k+1].text == "(" && t[k+2].isStr {
			name := t[k+2].text
			if name != "" && !strings.HasPrefix(name, ".") && !strings.ContainsAny(name, "{} /\\") {
				return pyImport{module: name}, true
			}
		}
	}
	return pyImport{}, false
}
