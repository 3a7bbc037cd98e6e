package pep508

import (
	"slices"
	"sort"
	"strings"

	"github.com/lambdapack/lambdapack/internal/names"
	"github.com/lambdapack/lambdapack/internal/pep440"
)

// Requirement is a parsed PEP 508 dependency specifier.
type Requirement struct {
	Name      string              // as written; compare with names.Canonical
	Extras    []string            // as written, sorted, without exact duplicates
	Specifier pep440.SpecifierSet // empty when none (or when URL is set)
	URL       string              // "name @ url"; "" when none
	Marker    *Marker             // nil when none
}

// ParseRequirement parses a dependency specifier such as
// `requests[socks]>=2.8,<3; python_version >= "3.8"` or
// `pkg @ https://host/pkg.whl ; sys_platform == "linux"`, with packaging's
// grammar: the specifier may be wrapped in parentheses, whitespace may
// surround every token, and nothing (not even a line break) may follow.
func ParseRequirement(s string) (Requirement, error) {
	if err := validUTF8(s); err != nil {
		return Requirement{}, err
	}
	t := newTokenizer(s)
	var r Requirement

	t.consume(tokWS)
	name, err := t.expect(tokIdentifier, "package name at the start of dependency specifier")
	if err != nil {
		return Requirement{}, err
	}
	r.Name = name
	t.consume(tokWS)

	if r.Extras, err = parseExtras(t); err != nil {
		return Requirement{}, err
	}
	t.consume(tokWS)

	specStart, specEnd := 0, 0
	var spec string
	var markerList []node
	if t.check(tokAt) {
		t.read(tokAt)
		t.consume(tokWS)
		urlStart := t.pos
		if r.URL, err = t.expect(tokURL, "URL after @"); err != nil {
			return Requirement{}, err
		}
		if !t.check(tokEnd) {
			if _, err := t.expect(tokWS, "whitespace after URL"); err != nil {
				return Requirement{}, err
			}
			if !t.check(tokEnd) {
				if markerList, err = parseRequirementMarker(t, urlStart, "semicolon (after URL and whitespace)"); err != nil {
					return Requirement{}, err
				}
			}
		}
	} else {
		specStart = t.pos
		err := t.enclosed(tokLeftParen, tokRightParen, "version specifier", func() error {
			t.consume(tokWS)
			var err error
			spec, err = parseVersionMany(t)
			specEnd = t.pos
			t.consume(tokWS)
			return err
		})
		if err != nil {
			return Requirement{}, err
		}
		t.consume(tokWS)
		if !t.check(tokEnd) {
			expected := "semicolon (after name with no version specifier)"
			if spec != "" {
				expected = "comma (within version specifier), semicolon (after version specifier)"
			}
			if markerList, err = parseRequirementMarker(t, specStart, expected); err != nil {
				return Requirement{}, err
			}
		}
	}
	if _, err := t.expect(tokEnd, "end of dependency specifier"); err != nil {
		return Requirement{}, err
	}

	if spec != "" {
		set, err := pep440.ParseSpecifierSet(spec)
		if err != nil {
			return Requirement{}, &ParseError{Input: s, Start: specStart, Pos: specEnd, Msg: err.Error()}
		}
		r.Specifier = set
	}
	if markerList != nil {
		r.Marker = &Marker{list: normalizeExtras(markerList)}
	}
	return r, nil
}

// MustParseRequirement is ParseRequirement for literals known to be valid.
func MustParseRequirement(s string) Requirement {
	r, err := ParseRequirement(s)
	if err != nil {
		panic(err)
	}
	return r
}

// requirement_marker = SEMICOLON marker WS?
func parseRequirementMarker(t *tokenizer, spanStart int, expected string) ([]node, error) {
	if !t.check(tokSemicolon) {
		return nil, t.errorf("Expected "+expected+" or end", spanStart, t.pos)
	}
	t.read(tokSemicolon)
	list, err := parseMarkerList(t)
	if err != nil {
		return nil, err
	}
	t.consume(tokWS)
	return list, nil
}

// extras = (LEFT_BRACKET wsp* extras_list? wsp* RIGHT_BRACKET)?
func parseExtras(t *tokenizer) ([]string, error) {
	if !t.check(tokLeftBracket) {
		return nil, nil
	}
	var extras []string
	err := t.enclosed(tokLeftBracket, tokRightBracket, "extras", func() error {
		t.consume(tokWS)
		if t.check(tokIdentifier) {
			extras = append(extras, t.read(tokIdentifier))
			for {
				t.consume(tokWS)
				if t.check(tokIdentifier) {
					return t.errorf("Expected comma between extra names", t.pos, t.pos)
				}
				if !t.check(tokComma) {
					break
				}
				t.read(tokComma)
				t.consume(tokWS)
				e, err := t.expect(tokIdentifier, "extra name after comma")
				if err != nil {
					return err
				}
				extras = append(extras, e)
			}
		}
		t.consume(tokWS)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(extras)
	return slices.Compact(extras), nil
}

// version_many = (SPECIFIER (WS? COMMA WS? SPECIFIER)*)?
func parseVersionMany(t *tokenizer) (string, error) {
	var b strings.Builder
	for t.check(tokSpecifier) {
		start := t.pos
		spec := t.read(tokSpecifier)
		b.WriteString(spec)
		if t.check(tokVersionPrefixTrail) {
			msg := ".* suffix can only be used with `==` or `!=` operators"
			if strings.HasPrefix(spec, "!=") || (strings.HasPrefix(spec, "==") && !strings.HasPrefix(spec, "===")) {
				msg = ".* suffix cannot be used with pre-release, post-release, dev or local versions"
			}
			return "", t.errorf(msg, start, t.pos+1)
		}
		if t.check(tokVersionLocalLabelTrail) {
			return "", t.errorf("Local version label can only be used with `==` or `!=` operators", start, t.pos)
		}
		t.consume(tokWS)
		if !t.check(tokComma) {
			break
		}
		b.WriteString(t.read(tokComma))
		t.consume(tokWS)
	}
	return b.String(), nil
}

// String prints the requirement as packaging does: the name as written,
// sorted extras, the specifier set in its canonical order, " @ url", and
// "; marker" (after a space when a URL precedes it).
func (r Requirement) String() string {
	var b strings.Builder
	b.WriteString(r.Name)
	if len(r.Extras) > 0 {
		extras := slices.Clone(r.Extras)
		sort.Strings(extras)
		b.WriteString("[" + strings.Join(slices.Compact(extras), ",") + "]")
	}
	if !r.Specifier.IsEmpty() {
		b.WriteString(r.Specifier.String())
	}
	if r.URL != "" {
		b.WriteString(" @ " + r.URL)
		if r.Marker != nil {
			b.WriteString(" ")
		}
	}
	if r.Marker != nil {
		b.WriteString("; " + r.Marker.String())
	}
	return b.String()
}

// Equal reports whether two requirements mean the same, as packaging's
// Requirement.__eq__: names and extras compared PEP 503/685-normalised,
// specifiers compared as sets of canonical specifiers (so "==1.0" equals
// "==1.0.0"), URLs and markers compared exactly.
func (r Requirement) Equal(o Requirement) bool {
	return names.Canonical(r.Name) == names.Canonical(o.Name) &&
		slices.Equal(canonicalExtras(r.Extras), canonicalExtras(o.Extras)) &&
		r.Specifier.Equal(o.Specifier) &&
		r.URL == o.URL &&
		r.Marker.String() == o.Marker.String() && (r.Marker == nil) == (o.Marker == nil)
}

func canonicalExtras(extras []string) []string {
	out := make([]string, len(extras))
	for i, e := range extras {
		out[i] = names.Canonical(e)
	}
	sort.Strings(out)
	return slices.Compact(out)
}
