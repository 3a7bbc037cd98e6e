package pep440

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Prerelease says how Contains and Filter treat pre-releases (and dev
// releases).
type Prerelease int

const (
	// PrereleaseDefault is packaging's prereleases=None: Contains accepts a
	// pre-release that matches; Filter keeps pre-releases only when no final
	// release matches, unless a specifier names a pre-release (then it keeps
	// them all).
	PrereleaseDefault Prerelease = iota
	// PrereleaseAllow accepts matching pre-releases.
	PrereleaseAllow
	// PrereleaseDeny rejects every pre-release.
	PrereleaseDeny
)

// String returns "default", "allow" or "deny".
func (p Prerelease) String() string {
	switch p {
	case PrereleaseAllow:
		return "allow"
	case PrereleaseDeny:
		return "deny"
	}
	return "default"
}

// ErrInvalidSpecifier is wrapped by every error ParseSpecifier and
// ParseSpecifierSet return.
var ErrInvalidSpecifier = errors.New("invalid PEP 440 version specifier")

// Specifier is one clause such as ">=1.0" or "==2.*". Operator is one of
// "~=", "==", "!=", "<=", ">=", "<", ">", "===". Version is the version text
// as written (white space removed), e.g. "1.0.*" or "v1.0"; it is not
// normalised, matching packaging.
type Specifier struct {
	Operator, Version string
}

type opKind uint8

const (
	opCompatible opKind = iota + 1
	opEqual
	opNotEqual
	opLessEqual
	opGreaterEqual
	opLess
	opGreater
	opArbitrary
	opEqualWild
	opNotEqualWild
)

// compiled is a Specifier with its versions parsed and bounds precomputed, so
// matching neither parses nor allocates.
type compiled struct {
	v Version // the specifier's version; for wildcards the lower bound X.dev0
	// hi is a second precomputed bound: the exclusive upper bound of ~= and
	// wildcards, the exclusive bound of < (V or V.dev0), and the inclusive
	// lower bound of > when V is a dev or post release.
	hi       Version
	raw      string // === operand
	op       opKind
	hasLocal bool // == / != with a local label: exact match
	gtFamily bool // > V with V final or pre-release: exclude V's post family
}

// ParseSpecifier parses one specifier clause, e.g. ">= 1.0" or "==1.2.*".
func ParseSpecifier(s string) (Specifier, error) {
	sp, _, err := compileSpecifier(s)
	return sp, err
}

// String returns the specifier as packaging prints it: operator and version
// text with no space.
func (s Specifier) String() string { return s.Operator + s.Version }

// Prereleases reports packaging's Specifier.prereleases for a specifier
// without an explicit override: whether it names a pre-release ("!=" and
// "==X.*" never do; an unparsable "===" operand does not).
func (s Specifier) Prereleases() bool {
	switch {
	case s.Operator == "!=":
		return false
	case s.Operator == "==" && strings.HasSuffix(s.Version, ".*"):
		return false
	}
	v, ok, _ := parse(s.Version)
	return ok && v.IsPrerelease()
}

// Contains reports whether v satisfies the specifier. pre decides about
// pre-releases: only PrereleaseDeny rejects a matching pre-release (a single
// candidate is never held back for a final release to appear). It compiles
// the clause on every call; for repeated checks use a SpecifierSet.
func (s Specifier) Contains(v Version, pre Prerelease) bool {
	_, c, err := compileSpecifier(s.String())
	if err != nil {
		return false
	}
	if pre == PrereleaseDeny && v.IsPrerelease() {
		return false
	}
	return c.match(&candidate{v: v, ok: true})
}

// ContainsString is Contains for a version given as text; "===" compares the
// text itself, other operators never match text that is not a PEP 440
// version.
func (s Specifier) ContainsString(text string, pre Prerelease) bool {
	_, c, err := compileSpecifier(s.String())
	if err != nil {
		return false
	}
	cand := newCandidate(text)
	if pre == PrereleaseDeny && cand.ok && cand.v.IsPrerelease() {
		return false
	}
	return c.match(&cand)
}

func invalidSpec(s, why string) error {
	return fmt.Errorf("parsing version specifier %q: %s: %w", clip(s), why, ErrInvalidSpecifier)
}

func trimUnicodeSpace(s string) string { return strings.TrimFunc(s, isPySpace) }

// compileSpecifier validates s with packaging's specifier grammar and
// precomputes what matching needs.
func compileSpecifier(s string) (Specifier, compiled, error) {
	t := trimUnicodeSpace(s)
	var op string
	switch {
	case strings.HasPrefix(t, "==="):
		op = "==="
	case strings.HasPrefix(t, "~="), strings.HasPrefix(t, "=="), strings.HasPrefix(t, "!="),
		strings.HasPrefix(t, "<="), strings.HasPrefix(t, ">="):
		op = t[:2]
	case strings.HasPrefix(t, "<"), strings.HasPrefix(t, ">"):
		op = t[:1]
	default:
		return Specifier{}, compiled{}, invalidSpec(s, "expected an operator (~=, ==, !=, <=, >=, <, >, ===) followed by a version")
	}
	ver := trimUnicodeSpace(t[len(op):])
	sp := Specifier{Operator: op, Version: ver}
	var c compiled
	if op == "===" {
		if ver == "" {
			return Specifier{}, compiled{}, invalidSpec(s, "an arbitrary (===) clause needs a version after it")
		}
		if strings.IndexFunc(ver, func(r rune) bool { return r == ';' || r == ')' || isPySpace(r) }) >= 0 {
			return Specifier{}, compiled{}, invalidSpec(s, "an arbitrary (===) version cannot contain white space, ';' or ')'")
		}
		c.op = opArbitrary
		c.raw = ver
		return sp, c, nil
	}
	if strings.HasSuffix(ver, ".*") {
		if op != "==" && op != "!=" {
			return Specifier{}, compiled{}, invalidSpec(s, "a .* wildcard is allowed only with == and !=")
		}
		base := ver[:len(ver)-2]
		if !isReleaseOnly(base) {
			return Specifier{}, compiled{}, invalidSpec(s, "a .* wildcard must follow a plain release such as 1.2 (no pre, post, dev or local part)")
		}
		bv, ok, tooBig := parse(base)
		if !ok {
			if tooBig {
				return Specifier{}, compiled{}, invalidSpec(s, "a version number is too large")
			}
			return Specifier{}, compiled{}, invalidSpec(s, "not a valid version")
		}
		c.op = opEqualWild
		if op == "!=" {
			c.op = opNotEqualWild
		}
		c.v = Version{epoch: bv.epoch, release: bv.release}.withDev(0)
		c.hi = nextPrefixDev0(bv.epoch, bv.release)
		return sp, c, nil
	}
	if ver == "" || strings.IndexFunc(ver, isPySpace) >= 0 {
		return Specifier{}, compiled{}, invalidSpec(s, "missing or malformed version")
	}
	v, ok, tooBig := parse(ver)
	if !ok {
		if tooBig {
			return Specifier{}, compiled{}, invalidSpec(s, "a version number is too large")
		}
		return Specifier{}, compiled{}, invalidSpec(s, fmt.Sprintf("%q is not a PEP 440 version", clip(ver)))
	}
	c.v = v
	if v.local != "" && op != "==" && op != "!=" {
		return Specifier{}, compiled{}, invalidSpec(s, "a local version label (+...) is allowed only with == and !=")
	}
	switch op {
	case "~=":
		if len(v.release) < 2 {
			return Specifier{}, compiled{}, invalidSpec(s, "~= needs at least two release numbers, e.g. ~=1.4")
		}
		c.op = opCompatible
		c.hi = nextPrefixDev0(v.epoch, v.release[:len(v.release)-1])
	case "==":
		c.op = opEqual
		c.hasLocal = v.local != ""
	case "!=":
		c.op = opNotEqual
		c.hasLocal = v.local != ""
	case "<=":
		c.op = opLessEqual
	case ">=":
		c.op = opGreaterEqual
	case "<":
		c.op = opLess
		// <V excludes V's pre-releases unless V is one: the bound is V.dev0.
		if v.IsPrerelease() {
			c.hi = v
		} else {
			c.hi = v.withDev(0)
		}
	case ">":
		c.op = opGreater
		switch {
		case v.IsDevrelease():
			c.hi = v.withDev(v.dev + 1) // inclusive lower bound
		case v.IsPostrelease():
			w := v
			w.post = v.post + 1
			c.hi = w.withDev(0) // inclusive lower bound
		default:
			c.gtFamily = true
		}
	}
	return sp, c, nil
}

// isReleaseOnly reports whether s is v?(N!)?N(.N)* (case-insensitive v).
func isReleaseOnly(s string) bool {
	i := 0
	if i < len(s) && lower(s[i]) == 'v' {
		i++
	}
	_, j, got, _ := number(s, i)
	if !got {
		return false
	}
	if j < len(s) && s[j] == '!' {
		_, j, got, _ = number(s, j+1)
		if !got {
			return false
		}
	}
	for j < len(s) {
		if s[j] != '.' {
			return false
		}
		_, j, got, _ = number(s, j+1)
		if !got {
			return false
		}
	}
	return true
}

// nextPrefixDev0 is the smallest version of the next prefix: 1.2 -> 1.3.dev0.
func nextPrefixDev0(epoch int, release []int) Version {
	r := make([]int, len(release))
	copy(r, release)
	r[len(r)-1]++
	return Version{epoch: epoch, release: r}.withDev(0)
}

// candidate is a version to test: parsed when ok, and its text for "===".
type candidate struct {
	v    Version
	text string // raw text; "" means use v.String() when needed
	ok   bool
}

func newCandidate(text string) candidate {
	v, ok, _ := parse(text)
	return candidate{v: v, ok: ok, text: text}
}

func (c candidate) str() string {
	if c.text != "" || !c.ok {
		return c.text
	}
	return c.v.String()
}

// match applies the operator, ignoring pre-release policy. It does not
// allocate except for "===" against a parsed Version (which prints it).
func (c *compiled) match(cand *candidate) bool {
	if c.op == opArbitrary {
		return equalLower(cand.str(), c.raw)
	}
	if !cand.ok {
		return false
	}
	v := &cand.v
	switch c.op {
	case opGreaterEqual:
		return compareVersions(v, &c.v) >= 0
	case opLessEqual:
		return comparePublic(v, &c.v) <= 0
	case opEqual:
		if c.hasLocal {
			return compareVersions(v, &c.v) == 0
		}
		return comparePublic(v, &c.v) == 0
	case opNotEqual:
		if c.hasLocal {
			return compareVersions(v, &c.v) != 0
		}
		return comparePublic(v, &c.v) != 0
	case opLess:
		return compareVersions(v, &c.hi) < 0
	case opGreater:
		if !c.gtFamily {
			return compareVersions(v, &c.hi) >= 0
		}
		if compareVersions(v, &c.v) <= 0 {
			return false
		}
		// Above V: excluded when in V's post family (V+local, V.postN...).
		return !(v.epoch == c.v.epoch && sameTrimmedRelease(v.release, c.v.release) &&
			v.preKind == c.v.preKind && (v.preKind == preNone || v.pre == c.v.pre) &&
			(v.flags&flagDev == 0 || v.flags&flagPost != 0))
	case opCompatible, opEqualWild:
		return compareVersions(v, &c.v) >= 0 && compareVersions(v, &c.hi) < 0
	case opNotEqualWild:
		return compareVersions(v, &c.v) < 0 || compareVersions(v, &c.hi) >= 0
	}
	return false
}

// canonical returns the specifier's identity for equality and
// de-duplication: "===" and wildcards as written, other versions
// canonicalised (trailing zeros stripped except for ~=).
func (s Specifier) canonical() string {
	if s.Operator == "===" || strings.HasSuffix(s.Version, ".*") {
		return s.Operator + s.Version
	}
	v, ok, _ := parse(s.Version)
	if !ok {
		return s.Operator + s.Version
	}
	return s.Operator + canonicalVersion(v, s.Operator != "~=")
}

// canonicalVersion is packaging.utils.canonicalize_version.
func canonicalVersion(v Version, stripTrailingZero bool) string {
	if stripTrailingZero {
		n := len(v.release)
		for n > 1 && v.release[n-1] == 0 {
			n--
		}
		v.release = v.release[:n]
	}
	return v.String()
}

// Equal reports whether two specifiers are the same clause after
// canonicalisation ("==1.0" equals "== 1.0.0").
func (s Specifier) Equal(o Specifier) bool { return s.canonical() == o.canonical() }

// SpecifierSet is a comma-separated list of specifiers that must all match.
// The zero value is the empty set, which matches every version.
type SpecifierSet struct {
	specs        []Specifier
	comp         []compiled
	hasArbitrary bool
	pre          Prerelease // explicit override (packaging's prereleases= argument)
}

// ErrPrereleaseConflict is returned by Intersect when one set allows and the
// other denies pre-releases explicitly.
var ErrPrereleaseConflict = errors.New("cannot combine specifier sets with allow and deny pre-release overrides")

// ParseSpecifierSet parses e.g. ">=1.0, !=1.3.*, <2". Empty clauses are
// ignored, so "" is the empty set.
func ParseSpecifierSet(s string) (SpecifierSet, error) {
	var set SpecifierSet
	for part := range strings.SplitSeq(s, ",") {
		if trimUnicodeSpace(part) == "" {
			continue
		}
		sp, c, err := compileSpecifier(part)
		if err != nil {
			if strings.Contains(s, ",") {
				return SpecifierSet{}, fmt.Errorf("parsing version specifiers %q: %w", clip(s), err)
			}
			return SpecifierSet{}, err
		}
		set.specs = append(set.specs, sp)
		set.comp = append(set.comp, c)
		if c.op == opArbitrary {
			set.hasArbitrary = true
		}
	}
	return set, nil
}

// MustParseSpecifierSet is ParseSpecifierSet that panics on error.
func MustParseSpecifierSet(s string) SpecifierSet {
	set, err := ParseSpecifierSet(s)
	if err != nil {
		panic(err)
	}
	return set
}

// NewSpecifierSet builds a set from specifiers (validating each).
func NewSpecifierSet(specs ...Specifier) (SpecifierSet, error) {
	var set SpecifierSet
	for _, sp := range specs {
		sp2, c, err := compileSpecifier(sp.String())
		if err != nil {
			return SpecifierSet{}, err
		}
		set.specs = append(set.specs, sp2)
		set.comp = append(set.comp, c)
		if c.op == opArbitrary {
			set.hasArbitrary = true
		}
	}
	return set, nil
}

// WithPrereleases returns a copy of s whose pre-release policy defaults to p:
// Contains and Filter use p when called with PrereleaseDefault (packaging's
// SpecifierSet(..., prereleases=p)). PrereleaseDefault removes the override.
func (s SpecifierSet) WithPrereleases(p Prerelease) SpecifierSet {
	s.pre = p
	return s
}

// PrereleaseOverride returns the policy set by WithPrereleases.
func (s SpecifierSet) PrereleaseOverride() Prerelease { return s.pre }

// Specifiers returns the clauses in the order they were written.
func (s SpecifierSet) Specifiers() []Specifier { return append([]Specifier(nil), s.specs...) }

// Len is the number of clauses as written (duplicates included).
func (s SpecifierSet) Len() int { return len(s.specs) }

// IsEmpty reports whether the set has no clause (it then matches everything).
func (s SpecifierSet) IsEmpty() bool { return len(s.specs) == 0 }

// canonicalSpecs sorts the clauses by text and drops duplicates (by canonical
// form, keeping the first in sorted order), as packaging does.
func (s SpecifierSet) canonicalSpecs() []Specifier {
	specs := append([]Specifier(nil), s.specs...)
	sort.SliceStable(specs, func(i, j int) bool { return specs[i].String() < specs[j].String() })
	out := specs[:0]
	seen := make(map[string]bool, len(specs))
	for _, sp := range specs {
		k := sp.canonical()
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, sp)
	}
	return out
}

// String returns the canonical form: clauses sorted by their text, duplicates
// removed, joined by "," ("" for the empty set). The pre-release override is
// not part of it.
func (s SpecifierSet) String() string {
	if len(s.specs) == 1 {
		return s.specs[0].String()
	}
	var b strings.Builder
	for i, sp := range s.canonicalSpecs() {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(sp.String())
	}
	return b.String()
}

// Equal reports whether two sets have the same canonical clauses (the
// pre-release override is ignored, as in packaging).
func (s SpecifierSet) Equal(o SpecifierSet) bool {
	a, b := s.canonicalSpecs(), o.canonicalSpecs()
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].canonical() != b[i].canonical() {
			return false
		}
	}
	return true
}

// Intersect returns the set of every clause of s and of o. Pre-release
// overrides combine: an explicit one wins over none; allow with deny is
// ErrPrereleaseConflict.
func (s SpecifierSet) Intersect(o SpecifierSet) (SpecifierSet, error) {
	var pre Prerelease
	switch {
	case s.pre == PrereleaseDefault || s.pre == o.pre:
		pre = o.pre
	case o.pre == PrereleaseDefault:
		pre = s.pre
	default:
		return SpecifierSet{}, fmt.Errorf("intersecting %q and %q: %w", s.String(), o.String(), ErrPrereleaseConflict)
	}
	r := SpecifierSet{
		specs:        append(append(make([]Specifier, 0, len(s.specs)+len(o.specs)), s.specs...), o.specs...),
		comp:         append(append(make([]compiled, 0, len(s.comp)+len(o.comp)), s.comp...), o.comp...),
		hasArbitrary: s.hasArbitrary || o.hasArbitrary,
		pre:          pre,
	}
	return r, nil
}

// And returns the intersection: every clause of s and of o. It is Intersect
// except that conflicting pre-release overrides resolve to PrereleaseDeny
// (the conservative choice) instead of failing.
func (s SpecifierSet) And(o SpecifierSet) SpecifierSet {
	r, err := s.Intersect(o)
	if err != nil {
		o.pre = PrereleaseDeny
		s.pre = PrereleaseDeny
		r, _ = s.Intersect(o)
	}
	return r
}

// Prereleases reports packaging's SpecifierSet.prereleases as a bool: the
// explicit override if there is one, else whether some clause names a
// pre-release, e.g. ">=1.0b1". Filter then keeps pre-releases by default.
func (s SpecifierSet) Prereleases() bool {
	switch s.pre {
	case PrereleaseAllow:
		return true
	case PrereleaseDeny:
		return false
	}
	for _, sp := range s.specs {
		if sp.Prereleases() {
			return true
		}
	}
	return false
}

// Contains reports whether v satisfies every clause (packaging 26
// semantics). Only PrereleaseDeny (passed, or set with WithPrereleases when
// pre is PrereleaseDefault) rejects a matching pre-release; a single
// candidate is never held back waiting for a final release. It does not
// allocate unless the set has a "===" clause.
func (s SpecifierSet) Contains(v Version, pre Prerelease) bool {
	return s.contains(candidate{v: v, ok: true}, pre)
}

// ContainsString is Contains for a version given as text. "===" clauses
// compare the text as written; other clauses never match text that is not a
// PEP 440 version. The empty set contains any text.
func (s SpecifierSet) ContainsString(text string, pre Prerelease) bool {
	return s.contains(newCandidate(text), pre)
}

func (s SpecifierSet) contains(c candidate, pre Prerelease) bool {
	if pre == PrereleaseDefault {
		pre = s.pre
	}
	if pre == PrereleaseDeny && c.ok && c.v.IsPrerelease() {
		return false
	}
	return s.matchAll(c)
}

func (s *SpecifierSet) matchAll(c candidate) bool {
	for i := range s.comp {
		if !s.comp[i].match(&c) {
			return false
		}
	}
	return true
}

// effective resolves the policy Filter applies, as packaging does: the
// argument, else the override, else allow when a clause names a pre-release.
func (s SpecifierSet) effective(pre Prerelease) Prerelease {
	if pre == PrereleaseDefault {
		pre = s.pre
	}
	if pre == PrereleaseDefault && s.Prereleases() {
		return PrereleaseAllow
	}
	return pre
}

// filterIdx returns the indexes of the candidates Filter keeps, in order.
func (s SpecifierSet) filterIdx(cands []candidate, pre Prerelease) []int {
	pre = s.effective(pre)
	var all, noPre []int
	final := false
	for i, c := range cands {
		if !s.matchAll(c) {
			continue
		}
		all = append(all, i)
		if c.ok && c.v.IsPrerelease() {
			continue
		}
		noPre = append(noPre, i)
		if c.ok {
			final = true
		}
	}
	switch pre {
	case PrereleaseAllow:
		return all
	case PrereleaseDeny:
		return noPre
	}
	// PEP 440 default: pre-releases only when no final release matched.
	if final {
		return noPre
	}
	return all
}

// Filter returns the versions of vs that the set contains, in their order.
// With PrereleaseDefault (no override, no clause naming a pre-release)
// pre-releases are kept only when no final release matches (PEP 440).
func (s SpecifierSet) Filter(vs []Version, pre Prerelease) []Version {
	pre = s.effective(pre)
	var out, pres []Version
	for _, v := range vs {
		if !s.matchAll(candidate{v: v, ok: true}) {
			continue
		}
		if v.IsPrerelease() {
			switch pre {
			case PrereleaseDeny:
				continue
			case PrereleaseDefault:
				if out == nil {
					pres = append(pres, v)
				}
				continue
			}
		}
		out = append(out, v)
	}
	if pre == PrereleaseDefault && out == nil {
		return pres
	}
	return out
}

// FilterStrings is Filter for versions given as text (see ContainsString).
// Text that is not a PEP 440 version can only pass a "===" clause or the
// empty set, and is never treated as a pre-release.
func (s SpecifierSet) FilterStrings(texts []string, pre Prerelease) []string {
	cands := make([]candidate, len(texts))
	for i, t := range texts {
		cands[i] = newCandidate(t)
	}
	idx := s.filterIdx(cands, pre)
	out := make([]string, 0, len(idx))
	for _, i := range idx {
		out = append(out, texts[i])
	}
	return out
}

// equalLower is Python's a.lower() == b.lower().
func equalLower(a, b string) bool {
	ascii := true
	for i := 0; i < len(a); i++ {
		if a[i] >= 0x80 {
			ascii = false
			break
		}
	}
	for i := 0; ascii && i < len(b); i++ {
		if b[i] >= 0x80 {
			ascii = false
		}
	}
	if ascii {
		return strings.EqualFold(a, b)
	}
	//lint:ignore SA6005 Python's str.lower() equality, which strings.EqualFold is not outside ASCII (it folds 'ſ' to 's')
	return strings.ToLower(a) == strings.ToLower(b)
}

// MarshalText implements encoding.TextMarshaler (the canonical String form;
// a pre-release override is not kept).
func (s SpecifierSet) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *SpecifierSet) UnmarshalText(b []byte) error {
	p, err := ParseSpecifierSet(string(b))
	if err != nil {
		return err
	}
	*s = p
	return nil
}
