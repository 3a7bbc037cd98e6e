package resolve

import (
	"fmt"
	"slices"

	"github.com/lambdapack/lambdapack/internal/pep440"
)

// Pre-release policy (see PrereleaseMode). Which versions are candidates at
// all is fixed per package before solving (project.allowPre: every mode but
// disallow, and explicit for the packages your requirements name a
// pre-release of), so PubGrub's learned clauses stay valid. What the policy
// adds is an order: choose takes stable versions first and a pre-release only
// when no stable candidate is left, unless every requirement on the package
// in force names a pre-release (or --pre), in which case versions go in
// plain order. The requirements in force depend on what is decided first;
// Resolve checks the answer once solved and, where a pre-release was taken in
// plain order although a requirement decided later names none and a stable
// version satisfies them all, solves again with that package held to the
// stable-first order.

// reqKind classifies the specifier behind a dependency or constraint.
type reqKind uint8

const (
	reqNone  reqKind = iota // not a requirement (an extra's tie to its base)
	reqPlain                // names no pre-release (b>=2)
	reqPre                  // names a pre-release (b>=2.0b1)
)

func reqKindOf(spec pep440.SpecifierSet) reqKind {
	if spec.Prereleases() {
		return reqPre
	}
	return reqPlain
}

// activeReqs returns the requirements on id's project in force: yours,
// constraints, and those of decided packages whose decided version carries
// them.
func (r *resolver) activeReqs(id pkgID) []*incompat {
	base := id
	if nd := r.nodes[id]; nd.extra != "" {
		if b, ok := r.nodeIDs[nd.proj.name]; ok {
			base = b
		}
	}
	var out []*incompat
	for _, inc := range r.s.pkgs[base].incs {
		if inc.to != base || inc.req == reqNone {
			continue
		}
		switch inc.kind {
		case kindConstraint:
			out = append(out, inc)
		case kindDependency:
			if inc.from == rootPkg {
				out = append(out, inc)
				continue
			}
			t, _ := inc.get(inc.from)
			if v := r.s.pkgs[inc.from].decided; v >= 0 && t.set.has(v) {
				out = append(out, inc)
			}
		}
	}
	return out
}

// stableFirst reports whether choose should take id's stable versions before
// its pre-releases.
func (r *resolver) stableFirst(id pkgID) bool {
	switch r.pol.mode {
	case PrereleaseAllow:
		return false
	case PrereleaseIfNecessary:
		return true
	}
	if r.forceStable[r.nodes[id].proj.name] {
		return true
	}
	reqs := r.activeReqs(id)
	if len(reqs) == 0 {
		return true
	}
	for _, inc := range reqs {
		if inc.req != reqPre {
			return true
		}
	}
	return false
}

// misorderedPre returns the packages of sol whose pre-release was taken in
// plain order although, with every requirement of the solution known, one of
// them names no pre-release and a stable version that can be used satisfies
// them all.
func (r *resolver) misorderedPre(sol map[pkgID]int) []string {
	if r.pol.mode != PrereleaseIfNecessaryOrExplicit && r.pol.mode != PrereleaseExplicit {
		return nil
	}
	var out []string
	for id, v := range sol {
		nd := r.nodes[id]
		if nd.extra != "" || !nd.proj.rels[v].version.IsPrerelease() || r.forceStable[nd.proj.name] {
			continue
		}
		if !r.stableFirst(id) {
			continue
		}
		if r.newestStable(id, r.required(id, sol), true) >= 0 {
			out = append(out, nd.proj.name)
		}
	}
	return out
}

// newestStable returns the newest stable version of id in set (only usable
// ones when usableOnly), or -1.
func (r *resolver) newestStable(id pkgID, set bitset, usableOnly bool) int {
	p := r.nodes[id].proj
	found := -1
	set.eachDesc(func(i int) bool {
		if i >= len(p.rels) || p.rels[i].version.IsPrerelease() {
			return true
		}
		if usableOnly {
			if st, _ := r.statusOf(p, i); st != usable {
				return true
			}
		}
		found = i
		return false
	})
	return found
}

// reqText describes a requirement in force: "you require b>=2" or
// "a==1.0 requires b>=2".
func (r *resolver) reqText(inc *incompat, sol map[pkgID]int) string {
	switch {
	case inc.kind == kindConstraint:
		return "your constraint " + inc.toLabel
	case inc.from == rootPkg:
		return "you require " + inc.toLabel
	}
	from := r.pkgName(inc.from)
	if v, ok := sol[inc.from]; ok {
		from += "==" + r.versionString(inc.from, v)
	}
	return from + " requires " + inc.toLabel
}

// preNotes says, for every pre-release of the solution, why it was chosen,
// and for your requirements, when a newer version was passed over because a
// dependency of it is satisfied only by pre-releases that the mode rules out.
func (r *resolver) preNotes(sol map[pkgID]int) {
	ids := sortedIDs(sol)
	for _, id := range ids {
		nd := r.nodes[id]
		if nd.extra != "" {
			continue
		}
		v := sol[id]
		rel := nd.proj.rels[v]
		if !rel.version.IsPrerelease() {
			continue
		}
		head := fmt.Sprintf("chose the pre-release %s %s", nd.proj.name, rel.version)
		if r.pol.mode == PrereleaseAllow {
			r.note(head + " (--pre: pre-releases are allowed for every package)")
			continue
		}
		var texts []string
		for _, inc := range r.activeReqs(id) {
			texts = append(texts, r.reqText(inc, sol))
		}
		if len(texts) > 3 {
			texts = append(texts[:3:3], fmt.Sprintf("%d more", len(texts)-3))
		}
		who := joinAnd(texts)
		if !r.stableFirst(id) {
			r.note(fmt.Sprintf("%s: every requirement on it names a pre-release (%s)", head, who))
			continue
		}
		why := fmt.Sprintf("%s: no stable version of %s that can be used on %s satisfies the requirements on it", head, nd.proj.name, r.tgt)
		if who != "" {
			why += " (" + who + ")"
		}
		if s := r.newestStable(id, r.required(id, sol), false); s >= 0 {
			st, detail := r.statusOf(nd.proj, s)
			why += fmt.Sprintf("; the newest stable one, %s, %s", nd.proj.rels[s].version, r.phrase(st, detail, false))
		}
		r.note(why)
	}
	for _, id := range ids {
		nd := r.nodes[id]
		if nd.extra != "" || !r.direct[nd.proj.name] {
			continue
		}
		r.passedOverForPre(id, sol)
	}
}

// passedOverForPre notes when the newest version of a package you require
// that the requirements allow and the target can use was not chosen because a
// dependency of it is satisfied only by pre-releases the mode rules out.
func (r *resolver) passedOverForPre(id pkgID, sol map[pkgID]int) {
	p := r.nodes[id].proj
	chosen := sol[id]
	u := r.newestStable(id, r.required(id, sol), true)
	if u <= chosen {
		return
	}
	for _, inc := range r.depCache[[2]int{int(id), u}] {
		if inc.kind != kindDependency || inc.from != id || inc.to == id {
			continue
		}
		t, ok := inc.get(inc.to)
		if !ok {
			continue
		}
		q := r.nodes[inc.to].proj
		pre, other := false, false
		t.set.eachDesc(func(i int) bool {
			if i >= len(q.rels) {
				return true
			}
			switch st, _ := r.statusOf(q, i); st {
			case reasonPrerelease:
				pre = true
			case usable:
				other = true
				return false
			}
			return true
		})
		if pre && !other {
			r.note(fmt.Sprintf("%s %s was passed over for %s: it requires %s, which only pre-releases satisfy, and --prerelease %s rules them out (the default, if-necessary-or-explicit, would allow them)",
				p.name, p.rels[u].version, p.rels[chosen].version, inc.toLabel, r.pol.mode))
			return
		}
	}
}

// prereleaseHint is the advice when only pre-releases of name match.
func (r *resolver) prereleaseHint(name string, v pep440.Version) string {
	switch r.pol.mode {
	case PrereleaseExplicit:
		return fmt.Sprintf("only pre-releases of %s match (%s); --prerelease explicit allows them only where your requirements name one: require one (e.g. %s==%s), or drop --prerelease explicit", name, v, name, v)
	default:
		return fmt.Sprintf("only pre-releases of %s match (%s); --prerelease %s rules them out: drop it, or pass --pre", name, v, r.pol.mode)
	}
}

// prereleasePhrase is unusableText's clause for pre-releases the mode rules
// out.
func (r *resolver) prereleasePhrase(plural bool) string {
	s := "is a pre-release"
	if plural {
		s = "are pre-releases"
	}
	if r.pol.mode == PrereleaseExplicit {
		return s + " and --prerelease explicit allows them only where your requirements name one"
	}
	return s + " and --prerelease " + r.pol.mode.String() + " rules them out"
}

func sortedIDs(sol map[pkgID]int) []pkgID {
	ids := make([]pkgID, 0, len(sol))
	for id := range sol {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}
