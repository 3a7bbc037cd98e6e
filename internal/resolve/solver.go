package resolve

import (
	"context"
	"fmt"
	"sort"
)

// This file is the PubGrub core (Natalie Weizenbaum's algorithm, as in
// dart-lang/pub's solver.md and pubgrub-rs): unit propagation, conflict-driven
// clause learning, backjumping. It knows nothing of Python: a package is an
// index (pkgID), a version is an index into the package's domain, and a set
// of versions is a bitset over that domain. The provider (provider.go) turns
// Python packages into domains and incompatibilities.
//
// Domains are finite: every version the index lists, in ascending order, and
// for every package but the root one more "phantom" index standing for every
// version the index does not list. A specifier that matches no listed version
// is the phantom alone, and the provider forbids the phantom from the start,
// so a requirement nothing satisfies (a==9, or a package the index does not
// know) is an ordinary, explainable incompatibility rather than an empty set.

type pkgID int32

const rootPkg pkgID = 0

// term is a statement about one package: positive, "a version in set is
// selected"; negative, "no version in set is selected" (which includes the
// package not being selected at all).
type term struct {
	pkg pkgID
	pos bool
	set bitset
}

func (t term) negate() term { return term{t.pkg, !t.pos, t.set} }

// isAny reports whether t is always true (not any version of the empty set).
func (t term) isAny() bool { return !t.pos && t.set.empty() }

// isEmpty reports whether t can never be true.
func (t term) isEmpty() bool { return t.pos && t.set.empty() }

func (t term) equal(o term) bool { return t.pos == o.pos && t.set.equal(o.set) }

func intersect(a, b term) term {
	switch {
	case a.pos && b.pos:
		return term{a.pkg, true, a.set.and(b.set)}
	case a.pos:
		return term{a.pkg, true, a.set.andNot(b.set)}
	case b.pos:
		return term{a.pkg, true, b.set.andNot(a.set)}
	default:
		return term{a.pkg, false, a.set.or(b.set)}
	}
}

func union(a, b term) term { return intersect(a.negate(), b.negate()).negate() }

// subset reports whether every state satisfying a satisfies b, that is
// intersect(a, b) == a, computed without allocating.
func subset(a, b term) bool {
	switch {
	case a.pos && b.pos:
		return a.set.within(b.set)
	case a.pos:
		return a.set.disjointWith(b.set)
	case b.pos:
		return false
	default:
		return b.set.within(a.set)
	}
}

// disjoint reports whether no state satisfies both a and b.
func disjoint(a, b term) bool {
	switch {
	case a.pos && b.pos:
		return a.set.disjointWith(b.set)
	case a.pos:
		return a.set.within(b.set)
	case b.pos:
		return b.set.within(a.set)
	default:
		return false
	}
}

type incKind uint8

const (
	kindNotRoot    incKind = iota // the root must be selected
	kindDependency                // from depends on to
	kindNoVersion                 // versions the index does not list (the phantom)
	kindUnusable                  // listed versions that cannot be used
	kindConstraint                // a -c constraint: root forbids to outside the constraint
	kindDerived                   // learned from cause1 and cause2
)

// incompat is a set of terms that must never all be true together.
type incompat struct {
	id     int
	terms  []term // one per package, sorted by package
	kind   incKind
	cause1 *incompat
	cause2 *incompat

	// Details of external incompatibilities, for explanations.
	from, to  pkgID
	fromLabel string // "a==1.0.0" (dependency) or "" for root
	toLabel   string // "b>=2" (dependency or constraint)
	text      string // unusable: why, already phrased
	notFound  bool   // noVersion: the index does not know the package at all
	added     bool   // in the solver's store
	// req says, for a dependency or constraint that comes from a
	// requirement, whether its specifier names a pre-release.
	req reqKind
}

func (inc *incompat) get(p pkgID) (term, bool) {
	for _, t := range inc.terms {
		if t.pkg == p {
			return t, true
		}
	}
	return term{}, false
}

// newIncompat builds an incompatibility from terms, merging terms of the same
// package (by intersection) and dropping terms that are always true.
func newIncompat(kind incKind, terms ...term) *incompat {
	sort.SliceStable(terms, func(i, j int) bool { return terms[i].pkg < terms[j].pkg })
	out := terms[:0:0]
	for _, t := range terms {
		if n := len(out); n > 0 && out[n-1].pkg == t.pkg {
			out[n-1] = intersect(out[n-1], t)
			continue
		}
		out = append(out, t)
	}
	kept := out[:0]
	for _, t := range out {
		if !t.isAny() {
			kept = append(kept, t)
		}
	}
	return &incompat{terms: kept, kind: kind}
}

type assignment struct {
	t        term
	acc      term // the package's accumulated term after this assignment
	level    int
	cause    *incompat // nil for decisions
	decision bool
	version  int
}

type solvPkg struct {
	n       int  // domain size, phantom included
	phantom bool // the last index is the phantom
	name    string
	order   int
	assigns []int // indices into history
	decided int   // version index, or -1
	incs    []*incompat
	// conflicts counts how often the package was the satisfier of a
	// conflict; it lowers the package's priority (see pick).
	conflicts int
}

// provider feeds the solver.
type provider interface {
	// choose returns the version of p to try next within allowed (listed
	// versions only), or an incompatibility saying why none can be used.
	choose(ctx context.Context, p pkgID, allowed bitset) (v int, why *incompat, err error)
	// dependencies returns the incompatibilities p@v brings (its
	// dependencies, or why it turned out unusable).
	dependencies(ctx context.Context, p pkgID, v int) ([]*incompat, error)
}

type solver struct {
	prov    provider
	pkgs    []*solvPkg
	store   []*incompat
	history []assignment
	level   int
	steps   int // decisions made (statistics)
	nConf   int // conflicts (statistics)
}

func newSolver() *solver {
	s := &solver{}
	s.addPackage("root", 1, false)
	return s
}

// addPackage registers a package with a domain of n indices (the phantom
// included when phantom is set) and returns its id.
func (s *solver) addPackage(name string, n int, phantom bool) pkgID {
	id := pkgID(len(s.pkgs))
	s.pkgs = append(s.pkgs, &solvPkg{n: n, phantom: phantom, name: name, order: len(s.pkgs), decided: -1})
	return id
}

// full returns the set of every index of p's domain.
func (s *solver) full(p pkgID) bitset { return fullBitset(s.pkgs[p].n) }

// listed returns the set of p's listed versions (the phantom excluded).
func (s *solver) listed(p pkgID) bitset {
	b := fullBitset(s.pkgs[p].n)
	if s.pkgs[p].phantom {
		b = b.andNot(singleBit(s.pkgs[p].n, s.pkgs[p].n-1))
	}
	return b
}

func (s *solver) addIncompat(inc *incompat) {
	if inc.added {
		return
	}
	inc.added = true
	inc.id = len(s.store)
	s.store = append(s.store, inc)
	for _, t := range inc.terms {
		s.pkgs[t.pkg].incs = append(s.pkgs[t.pkg].incs, inc)
	}
}

// current returns p's accumulated term, and false when p has no assignment.
func (s *solver) current(p pkgID) (term, bool) {
	sp := s.pkgs[p]
	if len(sp.assigns) == 0 {
		return term{}, false
	}
	return s.history[sp.assigns[len(sp.assigns)-1]].acc, true
}

func (s *solver) assign(t term, cause *incompat, decision bool, version int) {
	sp := s.pkgs[t.pkg]
	acc := t
	if prev, ok := s.current(t.pkg); ok {
		acc = intersect(prev, t)
	}
	if decision {
		s.level++
		sp.decided = version
	}
	sp.assigns = append(sp.assigns, len(s.history))
	s.history = append(s.history, assignment{t: t, acc: acc, level: s.level, cause: cause, decision: decision, version: version})
}

func (s *solver) backtrack(level int) {
	for len(s.history) > 0 && s.history[len(s.history)-1].level > level {
		a := s.history[len(s.history)-1]
		s.history = s.history[:len(s.history)-1]
		sp := s.pkgs[a.t.pkg]
		sp.assigns = sp.assigns[:len(sp.assigns)-1]
		if a.decision {
			sp.decided = -1
		}
	}
	s.level = level
}

type relation int

const (
	relSatisfied relation = iota
	relContradicted
	relAlmost
	relInconclusive
)

// relation compares an incompatibility with the partial solution. For
// relAlmost it also returns the one term left unsatisfied.
func (s *solver) relation(inc *incompat) (relation, term) {
	rel := relSatisfied
	var unsat term
	for _, t := range inc.terms {
		cur, ok := s.current(t.pkg)
		switch {
		case ok && subset(cur, t):
			continue
		case ok && disjoint(cur, t):
			return relContradicted, t
		case !ok && t.isEmpty():
			return relContradicted, t
		}
		if rel == relSatisfied {
			rel, unsat = relAlmost, t
		} else {
			return relInconclusive, term{}
		}
	}
	return rel, unsat
}

// NoSolution is returned by solve when the root cannot be satisfied.
type noSolution struct{ inc *incompat }

func (e *noSolution) Error() string { return "no solution" }

func (s *solver) isTerminal(inc *incompat) bool {
	if len(inc.terms) == 0 {
		return true
	}
	return len(inc.terms) == 1 && inc.terms[0].pkg == rootPkg && inc.terms[0].pos
}

func (s *solver) propagate(start pkgID) error {
	changed := []pkgID{start}
	queued := map[pkgID]bool{start: true}
	for len(changed) > 0 {
		p := changed[len(changed)-1]
		changed = changed[:len(changed)-1]
		delete(queued, p)
		incs := s.pkgs[p].incs
		for i := len(incs) - 1; i >= 0; i-- {
			inc := incs[i]
			rel, t := s.relation(inc)
			switch rel {
			case relSatisfied:
				root, err := s.resolveConflict(inc)
				if err != nil {
					return err
				}
				rel2, t2 := s.relation(root)
				if rel2 != relAlmost {
					return fmt.Errorf("internal error: learned incompatibility is not almost satisfied (%d)", rel2)
				}
				s.assign(t2.negate(), root, false, -1)
				changed = changed[:0]
				clear(queued)
				changed = append(changed, t2.pkg)
				queued[t2.pkg] = true
				i = -1 // restart with the new package
			case relAlmost:
				s.assign(t.negate(), inc, false, -1)
				if !queued[t.pkg] {
					changed = append(changed, t.pkg)
					queued[t.pkg] = true
				}
			}
		}
	}
	return nil
}

// earliest returns the history index of the earliest assignment of t's
// package after which the package's accumulated term satisfies t.
func (s *solver) earliest(t term) int {
	for _, idx := range s.pkgs[t.pkg].assigns {
		if subset(s.history[idx].acc, t) {
			return idx
		}
	}
	return -1
}

func (s *solver) resolveConflict(inc *incompat) (*incompat, error) {
	s.nConf++
	learned := false
	for {
		if s.isTerminal(inc) {
			return nil, &noSolution{inc}
		}
		// The satisfier: the assignment after which the partial solution
		// first satisfies inc.
		satIdx, satTerm := -1, term{}
		idxs := make([]int, len(inc.terms))
		for i, t := range inc.terms {
			idxs[i] = s.earliest(t)
			if idxs[i] > satIdx {
				satIdx, satTerm = idxs[i], t
			}
		}
		if satIdx < 0 {
			return nil, fmt.Errorf("internal error: conflict without satisfier")
		}
		sat := s.history[satIdx]
		// The previous satisfier: the earliest assignment before sat that,
		// with sat, satisfies inc.
		prev := -1
		for i, t := range inc.terms {
			if t.pkg != satTerm.pkg && idxs[i] > prev {
				prev = idxs[i]
			}
		}
		acc := sat.t
		if !subset(acc, satTerm) {
			for _, idx := range s.pkgs[satTerm.pkg].assigns {
				if idx >= satIdx {
					break
				}
				acc = intersect(acc, s.history[idx].t)
				if subset(acc, satTerm) {
					if idx > prev {
						prev = idx
					}
					break
				}
			}
		}
		prevLevel := 1
		if prev >= 0 && s.history[prev].level > 1 {
			prevLevel = s.history[prev].level
		}
		if sat.decision || prevLevel != sat.level {
			if learned {
				s.addIncompat(inc)
			}
			s.backtrack(prevLevel)
			return inc, nil
		}
		// Resolve inc with the satisfier's cause.
		var terms []term
		for _, t := range inc.terms {
			if t.pkg != satTerm.pkg {
				terms = append(terms, t)
			}
		}
		for _, t := range sat.cause.terms {
			if t.pkg != satTerm.pkg {
				terms = append(terms, t)
			}
		}
		if pt := union(satTerm, sat.t.negate()); !pt.isAny() {
			terms = append(terms, pt)
		}
		next := newIncompat(kindDerived, terms...)
		next.cause1, next.cause2 = inc, sat.cause
		inc = next
		learned = true
	}
}

// pick returns the undecided package with a positive assignment that should
// be decided next: first packages pinned to one version, then the others in
// the order they were discovered, with packages that keep causing conflicts
// pushed back.
func (s *solver) pick() (pkgID, bitset, bool) {
	best, bestKey := pkgID(-1), [3]int{}
	var bestSet bitset
	for i, sp := range s.pkgs {
		if sp.decided >= 0 {
			continue
		}
		cur, ok := s.current(pkgID(i))
		if !ok || !cur.pos {
			continue
		}
		allowed := cur.set
		if sp.phantom {
			allowed = allowed.andNot(singleBit(sp.n, sp.n-1))
		}
		pinned := 1
		if allowed.count() <= 1 {
			pinned = 0
		}
		demoted := 0
		if sp.conflicts >= demoteAfter {
			demoted = 1
		}
		key := [3]int{pinned, demoted, sp.order}
		if best < 0 || less3(key, bestKey) {
			best, bestKey, bestSet = pkgID(i), key, allowed
		}
	}
	return best, bestSet, best >= 0
}

// blame counts a conflict against the decided packages (other than p) whose
// assignments make inc satisfied. When one of them reaches the threshold it
// is demoted and the solver backtracks to before its decision; blame then
// reports true.
func (s *solver) blame(inc *incompat, p pkgID) bool {
	for _, t := range inc.terms {
		if t.pkg == p || t.pkg == rootPkg {
			continue
		}
		sp := s.pkgs[t.pkg]
		if sp.decided < 0 {
			continue
		}
		sp.conflicts++
		if sp.conflicts != demoteAfter {
			continue
		}
		for _, idx := range sp.assigns {
			if a := s.history[idx]; a.decision {
				s.backtrack(a.level - 1)
				return true
			}
		}
	}
	return false
}

const demoteAfter = 5

func less3(a, b [3]int) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

// solve runs PubGrub from the root package and returns the chosen version
// index of every selected package.
func (s *solver) solve(ctx context.Context, prov provider) (map[pkgID]int, error) {
	s.prov = prov
	nr := newIncompat(kindNotRoot, term{rootPkg, false, s.full(rootPkg)})
	s.addIncompat(nr)
	next := rootPkg
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := s.propagate(next); err != nil {
			return nil, err
		}
		p, allowed, ok := s.pick()
		if !ok {
			break
		}
		next = p
		v, why, err := prov.choose(ctx, p, allowed)
		if err != nil {
			return nil, err
		}
		if why != nil {
			s.addIncompat(why)
			continue
		}
		incs, err := prov.dependencies(ctx, p, v)
		if err != nil {
			return nil, err
		}
		for _, inc := range incs {
			s.addIncompat(inc)
		}
		s.steps++
		s.assign(term{p, true, singleBit(s.pkgs[p].n, v)}, nil, true, v)
		for _, inc := range incs {
			if rel, _ := s.relation(inc); rel == relSatisfied {
				// Deciding p@v would break one of its own dependencies:
				// take the decision back and let propagation exclude it.
				s.backtrack(s.level - 1)
				s.nConf++
				if s.blame(inc, p) {
					// A decided package keeps ruling out versions of
					// others: decide it later (uv's heuristic for
					// "wrong backtracking"), and recheck everything.
					for q := range s.pkgs {
						if err := s.propagate(pkgID(q)); err != nil {
							return nil, err
						}
					}
				}
				break
			}
		}
	}
	out := map[pkgID]int{}
	for i, sp := range s.pkgs {
		if sp.decided >= 0 && pkgID(i) != rootPkg {
			out[pkgID(i)] = sp.decided
		}
	}
	return out, nil
}
