package project

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/lambdapack/lambdapack/internal/glob"
)

// Syntax is how a rule's pattern is read.
type Syntax uint8

// Pattern syntaxes.
const (
	// SyntaxName: lambdapack's excludes and SAM's built-in excludes, read as
	// .gitignore does: a pattern without "/" matches a file or folder name at
	// any depth, and a pattern that matches a folder matches what is in it
	// (internal/glob).
	SyntaxName Syntax = iota + 1
	// SyntaxServerless: the Serverless Framework's package.patterns (and the
	// legacy include/exclude), read as micromatch does with dot: true: the
	// pattern matches the whole path from the service folder; "*" stays in
	// one segment, "**" spans segments, {a,b} alternates, [..] is a class.
	// "node_modules" matches a file of that name at the top only, and never
	// what is in a folder of that name ("node_modules/**" does).
	SyntaxServerless
)

// Rule is one pattern of a Matcher.
type Rule struct {
	Pattern string // as written, without the leading "!"
	Exclude bool
	Syntax  Syntax
	// From says where the rule comes from ("package.patterns",
	// "lambdapack's defaults", ...), for explanations.
	From string

	match func(string) bool
	// prefix is the literal start of the pattern (up to its first wildcard),
	// used to tell whether a rule could match below a folder.
	prefix string
	// anyDepth: the rule can match at any depth (a name pattern, or one
	// that starts with "**").
	anyDepth bool
}

// Matcher decides which files of a folder go into an artifact: rules apply
// in order and the last one that matches a path decides, so a later include
// re-includes what an earlier "!" pattern excluded, as the Serverless
// Framework does (["!**/*", "handler.py"] keeps handler.py). A path that no
// rule matches is included.
type Matcher struct {
	// Base is prepended to a path before matching: the Serverless Framework
	// matches paths from the service folder, while a function packaged from
	// module "api" asks about "handler.py" for "api/handler.py".
	Base  string
	Rules []Rule
}

// NewMatcher returns a matcher with the given base.
func NewMatcher(base string) *Matcher {
	base = strings.Trim(base, "/")
	if base == "." {
		base = ""
	}
	if base != "" {
		base += "/"
	}
	return &Matcher{Base: base}
}

// Add appends a rule; a pattern starting with "!" excludes (for
// SyntaxServerless) and the rest include. exclude forces an exclude
// (lambdapack's and SAM's exclude lists, Serverless' legacy exclude key,
// where a leading "!" instead re-includes).
func (m *Matcher) Add(pattern string, syntax Syntax, exclude bool, from string) error {
	p := strings.TrimSpace(pattern)
	neg := strings.HasPrefix(p, "!")
	if neg {
		p = strings.TrimSpace(p[1:])
	}
	if exclude {
		neg = !neg
	}
	r := Rule{Pattern: p, Exclude: neg, Syntax: syntax, From: from}
	switch syntax {
	case SyntaxName:
		g, err := glob.Compile(p)
		if err != nil {
			return err
		}
		r.match = g.Match
		r.anyDepth = !strings.Contains(strings.Trim(p, "/"), "/")
	case SyntaxServerless:
		re, err := compileServerlessPattern(p)
		if err != nil {
			return err
		}
		r.match = re.MatchString
		q := strings.TrimPrefix(p, "./")
		r.anyDepth = strings.HasPrefix(q, "**")
	default:
		return fmt.Errorf("unknown pattern syntax %d", syntax)
	}
	r.prefix = literalPrefix(strings.TrimPrefix(p, "./"))
	m.Rules = append(m.Rules, r)
	return nil
}

// MustAdd is Add for patterns known to compile.
func (m *Matcher) MustAdd(pattern string, syntax Syntax, exclude bool, from string) {
	if err := m.Add(pattern, syntax, exclude, from); err != nil {
		panic(err)
	}
}

// Match reports whether the file at rel (slash-separated, relative to the
// packaged folder) goes into the artifact.
func (m *Matcher) Match(rel string) bool {
	ok, _ := m.Explain(rel)
	return ok
}

// Explain is Match, with the rule that decided (nil when none matched).
func (m *Matcher) Explain(rel string) (bool, *Rule) {
	if m == nil {
		return true, nil
	}
	p := m.Base + strings.Trim(rel, "/")
	in := true
	var by *Rule
	for i := range m.Rules {
		r := &m.Rules[i]
		if r.match(p) {
			in = !r.Exclude
			by = r
		}
	}
	return in, by
}

// SkipDir reports whether nothing beneath the folder rel can be included,
// so a walk need not enter it: a rule excludes the folder as a whole and no
// later include could match beneath it.
func (m *Matcher) SkipDir(rel string) bool {
	if m == nil {
		return false
	}
	dir := m.Base + strings.Trim(rel, "/")
	last := -1
	for i, r := range m.Rules {
		if !r.Exclude {
			continue
		}
		// A name rule matching the folder, or a rule matching everything
		// beneath it ("dir/**").
		if r.Syntax == SyntaxName && r.match(dir) || r.Syntax == SyntaxServerless && r.match(dir+"/\x00") && r.match(dir+"/\x00/\x00") {
			last = i
		}
	}
	if last < 0 {
		return false
	}
	for _, r := range m.Rules[last+1:] {
		if r.Exclude {
			continue
		}
		if r.anyDepth || strings.HasPrefix(r.prefix, dir+"/") || strings.HasPrefix(dir+"/", r.prefix) {
			return false
		}
	}
	return true
}

// String lists the rules as written, in order.
func (m *Matcher) String() string {
	if m == nil {
		return "(everything)"
	}
	var parts []string
	for _, r := range m.Rules {
		s := r.Pattern
		if r.Exclude {
			s = "!" + s
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

// literalPrefix is the part of a pattern before its first wildcard.
func literalPrefix(p string) string {
	if i := strings.IndexAny(p, "*?[{\\"); i >= 0 {
		return p[:i]
	}
	return p
}

// compileServerlessPattern turns a micromatch-style glob into an anchored
// regular expression.
func compileServerlessPattern(p string) (*regexp.Regexp, error) {
	src := p
	p = strings.TrimPrefix(p, "./")
	if p == "" {
		return nil, fmt.Errorf("empty pattern %q", src)
	}
	var b strings.Builder
	b.WriteString("^")
	if err := globToRegexp(&b, p, 0); err != nil {
		return nil, fmt.Errorf("pattern %q: %w", src, err)
	}
	b.WriteString("$")
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, fmt.Errorf("pattern %q: %w", src, err)
	}
	return re, nil
}

func globToRegexp(b *strings.Builder, p string, depth int) error {
	if depth > 10 {
		return fmt.Errorf("braces nest too deeply")
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch c {
		case '\\':
			if i+1 < len(p) {
				i++
				b.WriteString(regexp.QuoteMeta(string(p[i])))
			}
		case '*':
			if i+1 < len(p) && p[i+1] == '*' {
				atStart := i == 0 || p[i-1] == '/'
				j := i + 2
				for j < len(p) && p[j] == '*' {
					j++
				}
				switch {
				case atStart && j < len(p) && p[j] == '/':
					// "**/": zero or more whole segments.
					b.WriteString(`(?:[^/]*/)*`)
					i = j
				case atStart && j == len(p):
					// trailing "**": anything, at least one character.
					b.WriteString(`.+`)
					i = j - 1
				default:
					// "a**b" is "a*b" in micromatch.
					b.WriteString(`[^/]*`)
					i = j - 1
				}
			} else {
				b.WriteString(`[^/]*`)
			}
		case '?':
			b.WriteString(`[^/]`)
		case '[':
			j := strings.IndexByte(p[i+1:], ']')
			if j < 0 {
				b.WriteString(`\[`)
				continue
			}
			class := p[i+1 : i+1+j]
			if strings.HasPrefix(class, "!") || strings.HasPrefix(class, "^") {
				class = "^" + class[1:]
			}
			b.WriteString("[" + strings.ReplaceAll(class, `\`, `\\`) + "]")
			i += j + 1
		case '{':
			end, alts := splitBraces(p[i:])
			if end < 0 {
				b.WriteString(`\{`)
				continue
			}
			b.WriteString("(?:")
			for k, a := range alts {
				if k > 0 {
					b.WriteString("|")
				}
				if err := globToRegexp(b, a, depth+1); err != nil {
					return err
				}
			}
			b.WriteString(")")
			i += end
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	return nil
}

// splitBraces reads "{a,b{c,d}}..." and returns the index of the closing
// brace and the top-level alternatives; -1 when unbalanced or without a
// comma (micromatch then reads the braces literally).
func splitBraces(s string) (int, []string) {
	depth := 0
	start := 1
	var alts []string
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				alts = append(alts, s[start:i])
				if len(alts) < 2 {
					return -1, nil
				}
				return i, alts
			}
		case ',':
			if depth == 1 {
				alts = append(alts, s[start:i])
				start = i + 1
			}
		}
	}
	return -1, nil
}
