package glob

import (
	"fmt"
	"regexp"
	"strings"
)

// Pattern is a compiled glob.
type Pattern struct {
	src     string
	anySeg  bool // no "/": match any one segment
	re      *regexp.Regexp
	negated bool
}

// Compile compiles a glob. A leading "!" negates it (used by Set).
func Compile(p string) (*Pattern, error) {
	pat := &Pattern{src: p}
	if strings.HasPrefix(p, "!") {
		pat.negated = true
		p = p[1:]
	}
	p = strings.TrimPrefix(p, "./")
	p = strings.TrimSuffix(p, "/")
	if p == "" {
		return nil, fmt.Errorf("empty glob %q", pat.src)
	}
	pat.anySeg = !strings.Contains(p, "/")
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch c {
		case '*':
			if i+1 < len(p) && p[i+1] == '*' {
				// "**/" matches zero or more segments; a trailing "**" anything.
				if i+2 < len(p) && p[i+2] == '/' {
					b.WriteString(`(?:[^/]*/)*`)
					i += 2
				} else {
					b.WriteString(`.*`)
					i++
				}
			} else {
				b.WriteString(`[^/]*`)
			}
		case '?':
			b.WriteString(`[^/]`)
		case '[':
			j := strings.IndexByte(p[i:], ']')
			if j < 0 {
				return nil, fmt.Errorf("glob %q: unclosed [", pat.src)
			}
			class := p[i+1 : i+j]
			if strings.HasPrefix(class, "!") {
				class = "^" + class[1:]
			}
			b.WriteString("[" + strings.ReplaceAll(class, `\`, `\\`) + "]")
			i += j
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, fmt.Errorf("glob %q: %w", pat.src, err)
	}
	pat.re = re
	return pat, nil
}

// String returns the glob as written.
func (p *Pattern) String() string { return p.src }

// Match reports whether path (slash-separated, relative) or one of its
// parent folders matches.
func (p *Pattern) Match(path string) bool {
	path = strings.Trim(path, "/")
	segs := strings.Split(path, "/")
	if p.anySeg {
		for _, s := range segs {
			if p.re.MatchString(s) {
				return true
			}
		}
		return false
	}
	for i := 1; i <= len(segs); i++ {
		if p.re.MatchString(strings.Join(segs[:i], "/")) {
			return true
		}
	}
	return false
}

// Set is an ordered list of patterns where a later "!pattern" re-includes
// what an earlier one excluded.
type Set []*Pattern

// CompileSet compiles globs into a Set.
func CompileSet(globs []string) (Set, error) {
	var s Set
	for _, g := range globs {
		p, err := Compile(g)
		if err != nil {
			return nil, err
		}
		s = append(s, p)
	}
	return s, nil
}

// Match reports whether path is matched by the set: the last pattern that
// matches decides.
func (s Set) Match(path string) bool {
	m := false
	for _, p := range s {
		if p.Match(path) {
			m = !p.negated
		}
	}
	return m
}
