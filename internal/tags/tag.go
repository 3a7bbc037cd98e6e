package tags

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode"
)

// Tag is one PEP 425 tag triple. Fields are lower-case when the Tag comes
// from NewTag or ParseTag.
type Tag struct {
	Interpreter string // "cp312", "py3"
	ABI         string // "cp312", "abi3", "none"
	Platform    string // "manylinux_2_17_x86_64", "any"
}

// NewTag returns the tag with every part lower-cased, as packaging's Tag does.
func NewTag(interpreter, abi, platform string) Tag {
	return Tag{strings.ToLower(interpreter), strings.ToLower(abi), strings.ToLower(platform)}
}

// String gives the tag's usual form, "cp312-cp312-manylinux_2_17_x86_64".
func (t Tag) String() string { return t.Interpreter + "-" + t.ABI + "-" + t.Platform }

// Errors ParseTagWith can return (wrapped; test with errors.Is).
var (
	// ErrInvalidTag: a component is empty, an interpreter is not an
	// identifier, or the tag does not have exactly three parts.
	ErrInvalidTag = errors.New("invalid tag")
	// ErrUnsortedTags: ParseOptions.ValidateOrder is set and a compressed
	// component is not sorted, as PEP 425 requires.
	ErrUnsortedTags = errors.New("compressed tag set components are not in sorted order")
	// ErrTooManyTags: the compressed set expands to more tags than the limit.
	ErrTooManyTags = errors.New("compressed tag set expands to too many tags")
)

// ParseOptions tunes ParseTagWith and ParseWheelFilenameWith.
type ParseOptions struct {
	// ValidateOrder rejects compressed components that are not sorted
	// (packaging's validate_order).
	ValidateOrder bool
	// Limit caps how many tags a compressed set may expand to. Zero means
	// DefaultTagLimit; a negative value is an error (packaging's limit).
	Limit int
	// NoLimit turns the cap off entirely (packaging's default limit=None).
	NoLimit bool
}

// DefaultTagLimit is the expansion cap ParseTag and ParseWheelFilename apply:
// real wheels carry a handful of tags, and an untrusted filename such as
// "a.b.c...-x.y.z...-p.q.r..." must not expand to millions of tags.
// packaging itself has no default cap; no published wheel comes near this.
const DefaultTagLimit = 4096

// ParseTag parses a tag such as "py2.py3-none-any", expanding a compressed tag
// set into every tag it stands for (interpreters x ABIs x platforms, in that
// order, without duplicates).
func ParseTag(s string) ([]Tag, error) { return ParseTagWith(s, ParseOptions{}) }

// ParseTagWith is ParseTag with options.
func ParseTagWith(s string, o ParseOptions) ([]Tag, error) {
	limit := o.Limit
	if o.Limit < 0 {
		return nil, fmt.Errorf("parsing tag %q: limit must be non-negative, got %d", s, o.Limit)
	}
	if limit == 0 {
		limit = DefaultTagLimit
	}
	components := strings.Split(s, "-")
	parts := make([][]string, len(components))
	count := 1
	for i, c := range components {
		p := strings.Split(c, ".")
		for _, x := range p {
			if x == "" {
				return nil, fmt.Errorf("parsing tag %q: %w: empty component in %q", s, ErrInvalidTag, c)
			}
		}
		if o.ValidateOrder && !sort.StringsAreSorted(p) {
			return nil, fmt.Errorf("parsing tag %q: %w: %q", s, ErrUnsortedTags, c)
		}
		parts[i] = p
		count *= len(p) // at most len(s)^3: no overflow

	}
	if !o.NoLimit && count > limit {
		return nil, fmt.Errorf("parsing tag %q: %w (more than %d)", s, ErrTooManyTags, limit)
	}
	if len(parts) != 3 {
		return nil, fmt.Errorf("parsing tag %q: %w: want interpreter-abi-platform, got %d parts", s, ErrInvalidTag, len(parts))
	}
	for _, interp := range parts[0] {
		if !isIdentifier(interp) {
			return nil, fmt.Errorf("parsing tag %q: %w: interpreter %q is not an identifier", s, ErrInvalidTag, interp)
		}
	}
	n := min(count, 64)
	out := make([]Tag, 0, n)
	seen := make(map[Tag]bool, n)
	for _, i := range parts[0] {
		for _, a := range parts[1] {
			for _, p := range parts[2] {
				t := NewTag(i, a, p)
				if !seen[t] {
					seen[t] = true
					out = append(out, t)
				}
			}
		}
	}
	return out, nil
}

// isIdentifier approximates Python's str.isidentifier: a letter or "_" (or a
// letter number) first, then letters, digits, marks, connector punctuation.
func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_' || unicode.IsLetter(r) || unicode.Is(unicode.Nl, r):
		case i > 0 && (unicode.Is(unicode.Nd, r) || unicode.Is(unicode.Mn, r) ||
			unicode.Is(unicode.Mc, r) || unicode.Is(unicode.Pc, r)):
		default:
			return false
		}
	}
	return true
}

// CompressTags writes a set of tags in compressed form, each component's
// distinct values sorted and joined with ".": the inverse of ParseTag for a
// set that is a full product (as every parsed set is).
func CompressTags(ts []Tag) string {
	comp := func(f func(Tag) string) string {
		set := map[string]bool{}
		for _, t := range ts {
			set[f(t)] = true
		}
		vals := make([]string, 0, len(set))
		for v := range set {
			vals = append(vals, v)
		}
		sort.Strings(vals)
		return strings.Join(vals, ".")
	}
	return comp(func(t Tag) string { return t.Interpreter }) + "-" +
		comp(func(t Tag) string { return t.ABI }) + "-" +
		comp(func(t Tag) string { return t.Platform })
}
