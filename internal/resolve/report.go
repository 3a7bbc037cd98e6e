package resolve

import (
	"fmt"
	"strings"
)

// describer names packages and version sets for explanations.
type describer interface {
	// pkgName returns the package's display name ("a", "a[extra]").
	pkgName(p pkgID) string
	// setString returns a specifier-like text for a set of p's versions
	// ("==1.0.0", ">=1.0,<=1.4 | ==2.0"), "" when the set holds every
	// listed version.
	setString(p pkgID, set bitset) string
	// listedSummary says which versions of p exist, for "there is no
	// other version" explanations.
	listedSummary(p pkgID) string
	// versionString names version index i of p.
	versionString(p pkgID, i int) string
}

// simplify prepares a derivation tree for explanation: steps that only
// exclude unlisted versions go (collapse), and chains of one package's
// dependencies on another become one statement (summarize).
func simplify(d describer, listed func(pkgID) bitset, terminal *incompat) *incompat {
	terminal = collapse(terminal, listed, map[*incompat]*incompat{})
	return summarize(d, listed, terminal, map[*incompat]*incompat{})
}

// explain turns the (simplified) derivation tree under the terminal incompatibility into
// numbered sentences, the way pubgrub-rs's DefaultStringReporter does, with
// uv's phrasing ("Because ... and ..., we can conclude that ...").
func explain(d describer, listed func(pkgID) bitset, terminal *incompat) string {
	r := &reporter{d: d, listed: listed, refs: map[*incompat]int{}, lineOf: map[*incompat]int{}}
	r.count(terminal)
	if terminal.kind != kindDerived {
		return "Because " + r.external(terminal, nil) + ", " + r.conclude(terminal) + "."
	}
	r.build(terminal)
	return strings.Join(r.lines, "\n")
}

// collapse removes from the tree the steps that only exclude the phantom
// version (the index lists no other versions): "because only a 1.0 and 2.0
// exist" adds nothing when the other cause already names real versions. A
// step is kept when the other cause's set holds the phantom alone, because
// then "there is no version of b>=3" is the reason.
func collapse(inc *incompat, listed func(pkgID) bitset, memo map[*incompat]*incompat) *incompat {
	if inc.kind != kindDerived {
		return inc
	}
	if out, ok := memo[inc]; ok {
		return out
	}
	c1 := collapse(inc.cause1, listed, memo)
	c2 := collapse(inc.cause2, listed, memo)
	var out *incompat
	switch {
	case c1.kind == kindNoVersion && !c1.notFound && namesListed(c2, c1.terms[0].pkg, listed):
		out = c2
	case c2.kind == kindNoVersion && !c2.notFound && namesListed(c1, c2.terms[0].pkg, listed):
		out = c1
	default:
		cp := *inc
		cp.cause1, cp.cause2 = c1, c2
		out = &cp
	}
	memo[inc] = out
	return out
}

// summarize replaces a derivation built only from dependencies of one
// package on another ("boto3==1.0 depends on botocore==1.0", "boto3==1.1
// depends on botocore==1.1", ...) by the one statement it proves, with the
// depended-on versions given by their hull: "boto3<=1.19.63 depends on
// botocore>=0.68.0,<=1.22.107". The hull is implied by the exact set, so the
// sentence stays true, and a walk back through hundreds of versions reads as
// one line, as uv prints it.
func summarize(d describer, listed func(pkgID) bitset, inc *incompat, memo map[*incompat]*incompat) *incompat {
	if inc.kind != kindDerived {
		return inc
	}
	if out, ok := memo[inc]; ok {
		return out
	}
	var out *incompat
	if from, to, ok := depChain(inc); ok && len(inc.terms) == 2 {
		ft, _ := inc.get(from)
		tt, _ := inc.get(to)
		if ft.pos && !tt.pos {
			ext := &incompat{terms: inc.terms, kind: kindDependency, from: from, to: to}
			ext.fromLabel = d.pkgName(from) + d.setString(from, ft.set)
			ext.toLabel = d.pkgName(to) + shortSet(d, listed, to, tt.set)
			out = ext
		}
	}
	if out == nil {
		cp := *inc
		cp.cause1 = summarize(d, listed, inc.cause1, memo)
		cp.cause2 = summarize(d, listed, inc.cause2, memo)
		out = &cp
	}
	memo[inc] = out
	return out
}

// depChain reports whether every external cause under inc is a dependency
// of the same package on the same package (root excluded), or a statement
// that versions of the depending package cannot be used, and which.
func depChain(inc *incompat) (from, to pkgID, ok bool) {
	from, to = -1, -1
	var unusable []*incompat
	var walk func(*incompat) bool
	walk = func(i *incompat) bool {
		if i.kind == kindDerived {
			return walk(i.cause1) && walk(i.cause2)
		}
		if i.kind == kindUnusable || i.kind == kindNoVersion {
			// Versions of the depending package that cannot be used
			// only narrow it; checked once from is known.
			unusable = append(unusable, i)
			return true
		}
		if i.kind != kindDependency || i.from == rootPkg {
			return false
		}
		if from < 0 {
			from, to = i.from, i.to
		}
		return i.from == from && i.to == to
	}
	ok = walk(inc) && from >= 0
	for _, u := range unusable {
		if len(u.terms) != 1 || u.terms[0].pkg != from {
			ok = false
		}
	}
	return from, to, ok
}

// shortSet renders a set that something depends on: exactly when that is
// short, else by its hull (depending on a subset implies depending on its
// hull).
func shortSet(d describer, listed func(pkgID) bitset, p pkgID, set bitset) string {
	s := d.setString(p, set)
	if strings.Count(s, "|") >= 3 {
		return hull(d, listed, p, set)
	}
	return s
}

// hull renders the smallest range holding the listed versions of set.
func hull(d describer, listed func(pkgID) bitset, p pkgID, set bitset) string {
	l := set.and(listed(p))
	hi := l.highest()
	if hi < 0 {
		return d.setString(p, set)
	}
	lo := hi
	l.eachDesc(func(i int) bool { lo = i; return true })
	if lo == hi {
		return "==" + d.versionString(p, hi)
	}
	whole := listed(p)
	if lo == 0 && hi == whole.highest() {
		return ""
	}
	switch {
	case lo == 0:
		return "<=" + d.versionString(p, hi)
	case hi == whole.highest():
		return ">=" + d.versionString(p, lo)
	}
	return ">=" + d.versionString(p, lo) + ",<=" + d.versionString(p, hi)
}

// namesListed reports whether inc's term on p covers a listed version.
func namesListed(inc *incompat, p pkgID, listed func(pkgID) bitset) bool {
	t, ok := inc.get(p)
	return ok && !t.set.and(listed(p)).empty()
}

type reporter struct {
	d      describer
	listed func(pkgID) bitset
	refs   map[*incompat]int // how often an incompatibility is a cause
	lineOf map[*incompat]int
	lines  []string
	ref    int
}

func (r *reporter) count(inc *incompat) {
	if inc.kind != kindDerived {
		return
	}
	r.refs[inc]++
	if r.refs[inc] > 1 {
		return
	}
	r.count(inc.cause1)
	r.count(inc.cause2)
}

func (r *reporter) shared(inc *incompat) bool { return r.refs[inc] > 1 }

func (r *reporter) addLineRef() int {
	r.ref++
	if n := len(r.lines); n > 0 {
		r.lines[n-1] = fmt.Sprintf("%s (%d)", r.lines[n-1], r.ref)
	}
	return r.ref
}

func (r *reporter) build(inc *incompat) {
	r.helper(inc)
	if r.shared(inc) && r.lineOf[inc] == 0 {
		r.lineOf[inc] = r.addLineRef()
	}
}

func derived(inc *incompat) bool { return inc.kind == kindDerived }

func (r *reporter) helper(cur *incompat) {
	c1, c2 := cur.cause1, cur.cause2
	switch {
	case !derived(c1) && !derived(c2):
		r.lines = append(r.lines, fmt.Sprintf("Because %s and %s, %s.", r.external(c1, c2), r.external(c2, c1), r.conclude(cur)))
	case derived(c1) && !derived(c2):
		r.oneEach(c1, c2, cur)
	case !derived(c1) && derived(c2):
		r.oneEach(c2, c1, cur)
	default:
		l1, l2 := r.lineOf[c1], r.lineOf[c2]
		switch {
		case l1 != 0 && l2 != 0:
			r.lines = append(r.lines, fmt.Sprintf("Because %s (%d) and %s (%d), %s.", r.terms(c1), l1, r.terms(c2), l2, r.conclude(cur)))
		case l1 != 0:
			r.build(c2)
			r.lines = append(r.lines, fmt.Sprintf("And because %s (%d), %s.", r.terms(c1), l1, r.conclude(cur)))
		case l2 != 0:
			r.build(c1)
			r.lines = append(r.lines, fmt.Sprintf("And because %s (%d), %s.", r.terms(c2), l2, r.conclude(cur)))
		case r.shared(c1):
			r.build(c1)
			r.lines = append(r.lines, "")
			r.helper(cur)
		default:
			r.build(c1)
			ref1 := r.addLineRef()
			r.lines = append(r.lines, "")
			r.build(c2)
			r.lines = append(r.lines, fmt.Sprintf("And because %s (%d), %s.", r.terms(c1), ref1, r.conclude(cur)))
		}
	}
}

func (r *reporter) oneEach(d, e, cur *incompat) {
	if l := r.lineOf[d]; l != 0 {
		r.lines = append(r.lines, fmt.Sprintf("Because %s (%d) and %s, %s.", r.terms(d), l, r.external(e, nil), r.conclude(cur)))
		return
	}
	switch {
	case derived(d.cause1) && !derived(d.cause2):
		r.build(d.cause1)
		r.lines = append(r.lines, fmt.Sprintf("And because %s and %s, %s.", r.external(d.cause2, e), r.external(e, d.cause2), r.conclude(cur)))
	case !derived(d.cause1) && derived(d.cause2):
		r.build(d.cause2)
		r.lines = append(r.lines, fmt.Sprintf("And because %s and %s, %s.", r.external(d.cause1, e), r.external(e, d.cause1), r.conclude(cur)))
	default:
		r.build(d)
		r.lines = append(r.lines, fmt.Sprintf("And because %s, %s.", r.external(e, nil), r.conclude(cur)))
	}
}

func (r *reporter) conclude(inc *incompat) string { return "we can conclude that " + r.terms(inc) }

// termText renders a term's package and set ("a>=1.0", "a"). A negative
// term (what something depends on) with a long, holey set is given by its
// hull: depending on a subset implies depending on its hull.
func (r *reporter) termText(t term) string {
	if !t.pos && t.pkg != rootPkg {
		return r.d.pkgName(t.pkg) + shortSet(r.d, r.listed, t.pkg, t.set)
	}
	return r.d.pkgName(t.pkg) + r.d.setString(t.pkg, t.set)
}

// usedText renders "a>=1.0 cannot be used" with "all versions of a" for a
// full set.
func (r *reporter) subject(t term) string {
	if t.pkg != rootPkg {
		if l := t.set.and(r.listed(t.pkg)); l.count() == 1 {
			return r.d.pkgName(t.pkg) + "==" + r.d.versionString(t.pkg, l.highest())
		}
	}
	if s := r.d.setString(t.pkg, t.set); s != "" {
		return r.d.pkgName(t.pkg) + s
	}
	return "all versions of " + r.d.pkgName(t.pkg)
}

// terms renders what an incompatibility forbids, as a clause.
func (r *reporter) terms(inc *incompat) string {
	hasRoot := false
	var pos, neg []term
	for _, t := range inc.terms {
		switch {
		case t.pkg == rootPkg && t.pos:
			hasRoot = true
		case t.pos:
			pos = append(pos, t)
		default:
			neg = append(neg, t)
		}
	}
	switch {
	case len(pos) == 0 && len(neg) == 0:
		if hasRoot {
			return "your requirements are unsatisfiable"
		}
		return "version solving failed"
	case len(pos) == 0:
		var parts []string
		for _, t := range neg {
			parts = append(parts, r.termText(t))
		}
		if hasRoot {
			return "you require " + strings.Join(parts, " or ")
		}
		return strings.Join(parts, " or ") + " is required"
	case len(neg) == 0 && len(pos) == 1:
		return r.subject(pos[0]) + " cannot be used"
	case len(neg) == 0:
		var parts []string
		for _, t := range pos {
			parts = append(parts, r.termText(t))
		}
		return joinAnd(parts) + " are incompatible"
	default:
		var ps, ns []string
		for _, t := range pos {
			ps = append(ps, r.termText(t))
		}
		for _, t := range neg {
			ns = append(ns, r.termText(t))
		}
		verb := " depends on "
		if len(ps) > 1 {
			verb = " depend on "
		}
		return joinAnd(ps) + verb + strings.Join(ns, " or ")
	}
}

func joinAnd(parts []string) string {
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// external renders an external incompatibility as a clause. partner is the
// incompatibility it is combined with, if that is external too (it lets "no
// version" read as "there is no version of b>=2").
func (r *reporter) external(inc, partner *incompat) string {
	switch inc.kind {
	case kindNotRoot:
		return "you are resolving your requirements"
	case kindDependency:
		if inc.from == rootPkg {
			return "you require " + inc.toLabel
		}
		return inc.fromLabel + " depends on " + inc.toLabel
	case kindConstraint:
		return "your constraints require " + inc.toLabel
	case kindUnusable:
		return inc.text
	case kindNoVersion:
		p := inc.terms[0].pkg
		if inc.notFound {
			return r.d.pkgName(p) + " was not found in the package index"
		}
		if partner != nil && (partner.kind == kindDependency || partner.kind == kindConstraint) && partner.to == p && !namesListed(partner, p, r.listed) {
			return "there is no version of " + partner.toLabel
		}
		return r.d.listedSummary(p)
	}
	return r.terms(inc)
}
