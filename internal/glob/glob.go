package glob

import (
	"fmt"
	"path"
	"slices"
	"strings"
)

// Pattern is a compiled glob.
type Pattern struct {
	src      string   // as compiled, "!" included
	parts    []string // path.Match patterns, or "**"
	anywhere bool     // match at any component boundary, not only the root
	negated  bool
}

// Compile compiles a glob: one without "/" matches a name anywhere, one
// with "/" is anchored at the root. A leading "!" negates it (used by Set).
func Compile(p string) (*Pattern, error) { return compile(p, false) }

// CompileAnywhere compiles a glob whose components may match anywhere in a
// path, not only from its root (strip patterns); a leading "/" anchors it
// at the root.
func CompileAnywhere(p string) (*Pattern, error) { return compile(p, true) }

func compile(p string, anywhere bool) (*Pattern, error) {
	src := strings.TrimSpace(p)
	pat := &Pattern{}
	s := src
	if rest, ok := strings.CutPrefix(s, "!"); ok {
		pat.negated, s = true, rest
	}
	anchored := strings.HasPrefix(s, "/")
	s = strings.TrimPrefix(strings.Trim(s, "/"), "./")
	if s == "" {
		return nil, fmt.Errorf("glob %q is empty", p)
	}
	for _, c := range strings.Split(s, "/") {
		switch c {
		case "", ".", "..":
			return nil, fmt.Errorf("glob %q: empty, . or .. components are not allowed", p)
		case "**":
			pat.parts = append(pat.parts, c)
			continue
		}
		for strings.Contains(c, "**") {
			c = strings.ReplaceAll(c, "**", "*")
		}
		c = strings.ReplaceAll(c, "[!", "[^")
		if _, err := path.Match(c, ""); err != nil {
			return nil, fmt.Errorf("glob %q: %w", p, err)
		}
		pat.parts = append(pat.parts, c)
	}
	pat.anywhere = len(pat.parts) == 1 && pat.parts[0] != "**" && !anchored || anywhere && !anchored
	pat.src = strings.TrimSuffix(src, "/")
	return pat, nil
}

// String returns the glob as compiled.
func (p *Pattern) String() string { return p.src }

// Match reports whether path (slash-separated, relative) or one of its
// parent folders matches.
func (p *Pattern) Match(path string) bool {
	_, ok := p.MatchPrefix(path)
	return ok
}

// MatchPrefix returns the part of path the pattern matched: a parent
// folder of path, or path itself.
func (p *Pattern) MatchPrefix(path string) (string, bool) {
	path = strings.Trim(path, "/")
	if !slices.ContainsFunc(p.parts, func(c string) bool { return c != "**" }) {
		return path, path != "" // "**" alone matches everything
	}
	comps := strings.Split(path, "/")
	starts := 1
	if p.anywhere {
		starts = len(comps)
	}
	for start := 0; start < starts; start++ {
		if n := matchParts(p.parts, comps[start:]); n > 0 {
			return strings.Join(comps[:start+n], "/"), true
		}
	}
	return "", false
}

// matchParts returns how many components of comps, from the first, the
// pattern consumes (-1 when it does not match); "**" takes as few as it
// can.
func matchParts(pat, comps []string) int {
	if len(pat) == 0 {
		return 0
	}
	if pat[0] == "**" {
		for k := 0; k <= len(comps); k++ {
			if n := matchParts(pat[1:], comps[k:]); n >= 0 {
				return k + n
			}
		}
		return -1
	}
	if len(comps) == 0 {
		return -1
	}
	if ok, _ := path.Match(pat[0], comps[0]); !ok {
		return -1
	}
	n := matchParts(pat[1:], comps[1:])
	if n < 0 {
		return -1
	}
	return 1 + n
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
