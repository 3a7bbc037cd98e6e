package pep508

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The tokenizer mirrors packaging's _tokenizer.py: each rule is tried at the
// current position on demand (the grammar is context sensitive), matching the
// Python regular expressions of packaging's DEFAULT_RULES, including Python's
// Unicode-aware \b and \s.

type tokenKind int

const (
	tokLeftParen tokenKind = iota
	tokRightParen
	tokLeftBracket
	tokRightBracket
	tokSemicolon
	tokComma
	tokQuotedString
	tokOp
	tokBoolOp
	tokIn
	tokNot
	tokVariable
	tokSpecifier
	tokAt
	tokURL
	tokIdentifier
	tokVersionPrefixTrail
	tokVersionLocalLabelTrail
	tokWS
	tokEnd
)

// tokenNames are packaging's rule names, used in its error messages.
var tokenNames = map[tokenKind]string{
	tokLeftParen:    "LEFT_PARENTHESIS",
	tokRightParen:   "RIGHT_PARENTHESIS",
	tokLeftBracket:  "LEFT_BRACKET",
	tokRightBracket: "RIGHT_BRACKET",
}

// pySpace is Python's \s for str patterns (str.isspace characters).
const pySpace = `\t-\r\x1c-\x20\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}`

// specifierRe is packaging's Specifier._specifier_regex_str (VERBOSE,
// IGNORECASE), anchored at the current position.
var specifierRe = regexp.MustCompile(strings.NewReplacer(`\s`, `[`+pySpace+`]`, `NOTSPACE`, `[^`+pySpace+`;)]`).Replace(
	`^(?i:` +
		`(?:===\s*NOTSPACE*)` +
		`|(?:(?:==|!=)\s*v?(?:[0-9]+!)?[0-9]+(?:\.[0-9]+)*` +
		`(?:\.\*|(?:[-_\.]?(?:alpha|beta|preview|pre|a|b|c|rc)[-_\.]?[0-9]*)?` +
		`(?:(?:-[0-9]+)|(?:[-_\.]?(?:post|rev|r)[-_\.]?[0-9]*))?` +
		`(?:[-_\.]?dev[-_\.]?[0-9]*)?` +
		`(?:\+[a-z0-9]+(?:[-_\.][a-z0-9]+)*)?)?)` +
		`|(?:~=\s*v?(?:[0-9]+!)?[0-9]+(?:\.[0-9]+)+` +
		`(?:[-_\.]?(?:alpha|beta|preview|pre|a|b|c|rc)[-_\.]?[0-9]*)?` +
		`(?:(?:-[0-9]+)|(?:[-_\.]?(?:post|rev|r)[-_\.]?[0-9]*))?` +
		`(?:[-_\.]?dev[-_\.]?[0-9]*)?)` +
		`|(?:(?:<=|>=|<|>)\s*v?(?:[0-9]+!)?[0-9]+(?:\.[0-9]+)*` +
		`(?:[-_\.]?(?:alpha|beta|preview|pre|a|b|c|rc)[-_\.]?[0-9]*)?` +
		`(?:(?:-[0-9]+)|(?:[-_\.]?(?:post|rev|r)[-_\.]?[0-9]*))?` +
		`(?:[-_\.]?dev[-_\.]?[0-9]*)?)` +
		`)`))

var localLabelRe = regexp.MustCompile(`^\+[a-z0-9]+(?:[-_\.][a-z0-9]+)*`)

// markerVariables are the names packaging's VARIABLE rule accepts.
var markerVariables = []string{
	"python_version", "python_full_version",
	"os.name", "os_name", "sys.platform", "sys_platform",
	"platform_release", "platform_system",
	"platform.version", "platform_version",
	"platform.machine", "platform_machine",
	"platform.python_implementation", "platform_python_implementation",
	"python_implementation",
	"implementation_name", "implementation_version",
	"extras", "extra", "dependency_groups",
}

var markerOps = []string{"===", "==", "~=", "!=", "<=", ">=", "<", ">"}

// isWord is Python's \w for str patterns.
func isWord(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r)
}

type tokenizer struct {
	input string
	src   []rune
	off   []int // byte offset in input of each rune, and of the end
	pos   int   // in runes
}

func newTokenizer(s string) *tokenizer {
	t := &tokenizer{input: s, src: []rune(s)}
	t.off = make([]int, 0, len(t.src)+1)
	for i := range s {
		t.off = append(t.off, i)
	}
	t.off = append(t.off, len(s))
	return t
}

func (t *tokenizer) at(i int) rune {
	if i < 0 || i >= len(t.src) {
		return -1
	}
	return t.src[i]
}

// boundary is Python's \b at position i.
func (t *tokenizer) boundary(i int) bool {
	a, b := t.at(i-1), t.at(i)
	return (a >= 0 && isWord(a)) != (b >= 0 && isWord(b))
}

// hasPrefix reports whether the literal word w (ASCII) is at position p.
func (t *tokenizer) hasPrefix(p int, w string) bool {
	if p+len(w) > len(t.src) {
		return false
	}
	for i := 0; i < len(w); i++ {
		if t.src[p+i] != rune(w[i]) {
			return false
		}
	}
	return true
}

// word matches \bw\b.
func (t *tokenizer) word(w string) int {
	p := t.pos
	if t.boundary(p) && t.hasPrefix(p, w) && t.boundary(p+len(w)) {
		return len(w)
	}
	return -1
}

// match returns the length in characters of the token of kind k at the
// current position, or -1.
func (t *tokenizer) match(k tokenKind) int {
	p := t.pos
	c := t.at(p)
	single := func(r rune) int {
		if c == r {
			return 1
		}
		return -1
	}
	switch k {
	case tokLeftParen:
		return single('(')
	case tokRightParen:
		return single(')')
	case tokLeftBracket:
		return single('[')
	case tokRightBracket:
		return single(']')
	case tokSemicolon:
		return single(';')
	case tokComma:
		return single(',')
	case tokAt:
		return single('@')
	case tokQuotedString:
		if c != '\'' && c != '"' {
			return -1
		}
		for i := p + 1; i < len(t.src); i++ {
			if t.src[i] == c {
				return i - p + 1
			}
		}
		return -1
	case tokOp:
		for _, op := range markerOps {
			if t.hasPrefix(p, op) {
				return len(op)
			}
		}
		return -1
	case tokBoolOp:
		if n := t.word("or"); n > 0 {
			return n
		}
		return t.word("and")
	case tokIn:
		return t.word("in")
	case tokNot:
		return t.word("not")
	case tokVariable:
		for _, v := range markerVariables {
			if n := t.word(v); n > 0 {
				return n
			}
		}
		return -1
	case tokSpecifier:
		return t.regexpMatch(specifierRe)
	case tokVersionLocalLabelTrail:
		return t.regexpMatch(localLabelRe)
	case tokVersionPrefixTrail:
		if t.hasPrefix(p, ".*") {
			return 2
		}
		return -1
	case tokURL:
		n := 0
		for i := p; i < len(t.src) && t.src[i] != ' ' && t.src[i] != '\t'; i++ {
			n++
		}
		if n == 0 {
			return -1
		}
		return n
	case tokIdentifier:
		// \b[a-zA-Z0-9][a-zA-Z0-9._-]*\b, backtracking to the longest
		// prefix that ends on a word boundary.
		if !isASCIIAlnum(c) || !t.boundary(p) {
			return -1
		}
		end := p + 1
		for end < len(t.src) && (isASCIIAlnum(t.src[end]) || t.src[end] == '.' || t.src[end] == '_' || t.src[end] == '-') {
			end++
		}
		for ; end > p; end-- {
			if t.boundary(end) {
				return end - p
			}
		}
		return -1
	case tokWS:
		n := 0
		for i := p; i < len(t.src) && (t.src[i] == ' ' || t.src[i] == '\t'); i++ {
			n++
		}
		if n == 0 {
			return -1
		}
		return n
	case tokEnd:
		if p == len(t.src) {
			return 0
		}
		return -1
	}
	return -1
}

func isASCIIAlnum(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

func (t *tokenizer) regexpMatch(re *regexp.Regexp) int {
	rest := t.input[t.off[t.pos]:]
	loc := re.FindStringIndex(rest)
	if loc == nil {
		return -1
	}
	return utf8.RuneCountInString(rest[:loc[1]])
}

// check reports whether a token of kind k is next.
func (t *tokenizer) check(k tokenKind) bool { return t.match(k) >= 0 }

// read consumes a token of kind k, which must be next, and returns its text.
func (t *tokenizer) read(k tokenKind) string {
	n := t.match(k)
	if n < 0 {
		panic("pep508: read without a matching check")
	}
	s := string(t.src[t.pos : t.pos+n])
	t.pos += n
	return s
}

// consume reads a token of kind k if it is next.
func (t *tokenizer) consume(k tokenKind) {
	if n := t.match(k); n > 0 {
		t.pos += n
	}
}

// expect reads a token of kind k or fails with "Expected <what>".
func (t *tokenizer) expect(k tokenKind, what string) (string, error) {
	if !t.check(k) {
		return "", t.errorf("Expected "+what, t.pos, t.pos)
	}
	return t.read(k), nil
}

func (t *tokenizer) errorf(msg string, start, end int) *ParseError {
	return &ParseError{Input: t.input, Start: start, Pos: end, Msg: msg}
}

// enclosed runs body between an optional open token and its matching close
// token, like packaging's Tokenizer.enclosing_tokens.
func (t *tokenizer) enclosed(open, close tokenKind, around string, body func() error) error {
	openPos := -1
	if t.check(open) {
		openPos = t.pos
		t.read(open)
	}
	if err := body(); err != nil {
		return err
	}
	if openPos < 0 {
		return nil
	}
	if !t.check(close) {
		return t.errorf("Expected matching "+tokenNames[close]+" for "+tokenNames[open]+", after "+around, openPos, t.pos)
	}
	t.read(close)
	return nil
}
