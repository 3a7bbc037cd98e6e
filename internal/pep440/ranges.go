package pep440

// Version ranges: each specifier is a union of intervals on the version line
// and a set is their intersection. IsUnsatisfiable asks whether any real
// version lies in the result. Interval ends may sit between versions, so a
// point is a version plus markers that place it just after a family of
// versions.

// point is a position on the version line.
type point struct {
	v        Version
	postInf  bool // after v and every post, dev and local release of v (v has no post/dev)
	localInf bool // after v and every v+local, before anything else above v
	eps      bool // just above v, below every v+local that is above v
}

func (p point) preRank() int8 {
	if p.postInf && p.v.preKind == preNone {
		return 4
	}
	return p.v.preRank()
}

// comparePoint orders points; on plain versions it is Version.Compare.
func comparePoint(a, b point) int {
	if a.v.epoch != b.v.epoch {
		return cmpInt(a.v.epoch, b.v.epoch)
	}
	if c := compareRelease(a.v.release, b.v.release); c != 0 {
		return c
	}
	pa, pb := a.preRank(), b.preRank()
	if pa != pb {
		if pa < pb {
			return -1
		}
		return 1
	}
	if a.v.preKind != preNone && a.v.pre != b.v.pre {
		return cmpInt(a.v.pre, b.v.pre)
	}
	if a.postInf || b.postInf {
		switch {
		case a.postInf && b.postInf:
			return 0
		case a.postInf:
			return 1
		}
		return -1
	}
	ha, hb := a.v.flags&flagPost != 0, b.v.flags&flagPost != 0
	if ha != hb {
		if ha {
			return 1
		}
		return -1
	}
	if ha && a.v.post != b.v.post {
		return cmpInt(a.v.post, b.v.post)
	}
	da, db := a.v.flags&flagDev != 0, b.v.flags&flagDev != 0
	if da != db {
		if da {
			return -1
		}
		return 1
	}
	if da && a.v.dev != b.v.dev {
		return cmpInt(a.v.dev, b.v.dev)
	}
	if a.localInf || b.localInf {
		switch {
		case a.localInf && b.localInf:
			return 0
		case a.localInf:
			return 1
		}
		return -1
	}
	if c := compareLocal(a.v.local, b.v.local); c != 0 {
		return c
	}
	if a.eps != b.eps {
		if a.eps {
			return 1
		}
		return -1
	}
	return 0
}

type bound struct {
	p         point
	inclusive bool
	unbounded bool
}

type interval struct{ lo, hi bound }

var fullRange = []interval{{lo: bound{unbounded: true}, hi: bound{unbounded: true}}}

// minVersion is 0.dev0: no version sorts below it.
var minVersion = Version{release: []int{0}, flags: flagDev}

func cmpLower(a, b bound) int {
	switch {
	case a.unbounded && b.unbounded:
		return 0
	case a.unbounded:
		return -1
	case b.unbounded:
		return 1
	}
	if c := comparePoint(a.p, b.p); c != 0 {
		return c
	}
	switch {
	case a.inclusive && !b.inclusive:
		return -1
	case !a.inclusive && b.inclusive:
		return 1
	}
	return 0
}

func cmpUpper(a, b bound) int {
	switch {
	case a.unbounded && b.unbounded:
		return 0
	case a.unbounded:
		return 1
	case b.unbounded:
		return -1
	}
	if c := comparePoint(a.p, b.p); c != 0 {
		return c
	}
	switch {
	case !a.inclusive && b.inclusive:
		return -1
	case a.inclusive && !b.inclusive:
		return 1
	}
	return 0
}

// stripPre returns the smallest final release above the pre-release v:
// 1.0a1.post2 -> 1.0, 1.0.post1.dev3 -> 1.0.post1.
func stripPre(v Version) Version {
	if v.preKind != preNone {
		return Version{epoch: v.epoch, release: v.release}
	}
	v.local = ""
	v.dev = 0
	v.flags &^= flagDev
	return v
}

// nextPublic is the smallest version above every v+local.
func nextPublic(v Version) Version {
	v.local = ""
	switch {
	case v.flags&flagDev != 0:
		v.dev++
	case v.flags&flagPost != 0:
		v.post++
		v.dev = 0
		v.flags |= flagDev
	default:
		v.post, v.dev = 0, 0
		v.flags |= flagPost | flagDev
	}
	return v
}

// leastAbove returns the smallest version (or v+ε) the lower bound admits;
// dense reports that there is none (versions accumulate just above it).
func leastAbove(lo bound) (p point, dense bool) {
	switch {
	case lo.p.postInf:
		v := lo.p.v
		if v.preKind == preNone {
			return point{}, true // 1.0.0.0...1 get arbitrarily close
		}
		return point{v: Version{epoch: v.epoch, release: v.release, preKind: v.preKind, pre: v.pre + 1, flags: flagDev}}, false
	case lo.p.localInf:
		return point{v: nextPublic(lo.p.v)}, false
	case lo.inclusive || lo.p.eps:
		return lo.p, false
	}
	return point{v: lo.p.v, eps: true}, false
}

// nearestFinal is leastAbove restricted to non-pre-releases.
func nearestFinal(lo bound) (p point, dense bool) {
	if lo.unbounded {
		return point{v: Version{release: []int{0}}}, false
	}
	v := lo.p.v
	switch {
	case lo.p.postInf:
		if v.preKind == preNone {
			return point{}, true
		}
		return point{v: stripPre(v)}, false
	case lo.p.localInf:
		if v.IsPrerelease() {
			return point{v: stripPre(v)}, false
		}
		v.local = ""
		if v.flags&flagPost != 0 {
			v.post++
		} else {
			v.post = 0
			v.flags |= flagPost
		}
		return point{v: v}, false
	case v.IsPrerelease():
		return point{v: stripPre(v)}, false
	case lo.inclusive || lo.p.eps:
		return lo.p, false
	}
	return point{v: v, eps: true}, false
}

// admits reports whether some real version lies in iv.
func (iv interval) admits() bool {
	if iv.hi.unbounded {
		return true
	}
	lo := iv.lo
	if lo.unbounded {
		lo = bound{p: point{v: minVersion}, inclusive: true}
	}
	w, dense := leastAbove(lo)
	if dense {
		return comparePoint(lo.p, iv.hi.p) < 0
	}
	c := comparePoint(w, iv.hi.p)
	return c < 0 || (c == 0 && iv.hi.inclusive)
}

// admitsFinal reports whether some non-pre-release lies in iv.
func (iv interval) admitsFinal() bool {
	if iv.hi.unbounded {
		return true
	}
	w, dense := nearestFinal(iv.lo)
	if dense {
		return comparePoint(iv.lo.p, iv.hi.p) < 0
	}
	c := comparePoint(w, iv.hi.p)
	return c < 0 || (c == 0 && iv.hi.inclusive)
}

func at(v Version, inclusive bool) bound { return bound{p: point{v: v}, inclusive: inclusive} }

func afterLocals(v Version, inclusive bool) bound {
	return bound{p: point{v: v, localInf: true}, inclusive: inclusive}
}

var unbounded = bound{unbounded: true}

// ranges returns the intervals a compiled specifier admits ("===" admits
// everything here; it is checked apart).
func (c *compiled) ranges() []interval {
	switch c.op {
	case opGreaterEqual:
		return []interval{{at(c.v, true), unbounded}}
	case opLessEqual:
		return []interval{{unbounded, afterLocals(c.v, true)}}
	case opGreater:
		if c.gtFamily {
			return []interval{{bound{p: point{v: c.v, postInf: true}}, unbounded}}
		}
		return []interval{{at(c.hi, true), unbounded}}
	case opLess:
		return []interval{{unbounded, at(c.hi, false)}}
	case opEqual:
		if c.hasLocal {
			return []interval{{at(c.v, true), at(c.v, true)}}
		}
		return []interval{{at(c.v, true), afterLocals(c.v, true)}}
	case opNotEqual:
		upper := afterLocals(c.v, false)
		if c.hasLocal {
			upper = at(c.v, false)
		}
		return []interval{{unbounded, at(c.v, false)}, {upper, unbounded}}
	case opCompatible, opEqualWild:
		return []interval{{at(c.v, true), at(c.hi, false)}}
	case opNotEqualWild:
		return []interval{{unbounded, at(c.v, false)}, {at(c.hi, true), unbounded}}
	}
	return fullRange
}

// intersectRanges intersects two sorted lists of disjoint intervals, keeping
// only intervals that admit a version.
func intersectRanges(a, b []interval) []interval {
	var out []interval
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		lo := a[i].lo
		if cmpLower(b[j].lo, lo) > 0 {
			lo = b[j].lo
		}
		hi := a[i].hi
		if cmpUpper(b[j].hi, hi) < 0 {
			hi = b[j].hi
		}
		if iv := (interval{lo, hi}); iv.admits() {
			out = append(out, iv)
		}
		if cmpUpper(a[i].hi, b[j].hi) < 0 {
			i++
		} else {
			j++
		}
	}
	return out
}

// IsUnsatisfiable reports whether no version can satisfy every clause (taking
// a PrereleaseDeny override into account: then a set that admits only
// pre-releases is unsatisfiable). The empty set is satisfiable. This is
// packaging's SpecifierSet.is_unsatisfiable, computed exactly on the version
// order.
func (s SpecifierSet) IsUnsatisfiable() bool {
	if len(s.comp) == 0 {
		return false
	}
	rs := fullRange
	for i := range s.comp {
		rs = intersectRanges(rs, s.comp[i].ranges())
		if len(rs) == 0 {
			return true
		}
	}
	if s.hasArbitrary && s.arbitraryUnsatisfiable() {
		return true
	}
	if s.pre == PrereleaseDeny {
		for _, iv := range rs {
			if iv.admitsFinal() {
				return false
			}
		}
		return true
	}
	return false
}

// arbitraryUnsatisfiable: "===" only matches its own text, so that text must
// agree across "===" clauses and satisfy every other clause.
func (s SpecifierSet) arbitraryUnsatisfiable() bool {
	var text string
	seen := false
	for i := range s.comp {
		if s.comp[i].op != opArbitrary {
			continue
		}
		if !seen {
			text, seen = s.comp[i].raw, true
		} else if !equalLower(text, s.comp[i].raw) {
			return true
		}
	}
	cand := newCandidate(text)
	if s.pre == PrereleaseDeny && cand.ok && cand.v.IsPrerelease() {
		return true
	}
	for i := range s.comp {
		if s.comp[i].op == opArbitrary {
			continue
		}
		if !cand.ok || !s.comp[i].match(&candidate{v: cand.v, ok: true}) {
			return true
		}
	}
	return false
}
