package resolve

import (
	"fmt"
	"strings"
)

// hints looks at the external causes of a failure and adds advice for the
// common Lambda cases: wheels that need a newer glibc than the runtime has,
// no wheel for the architecture or the Python version, Requires-Python,
// yanked or pre-release only, and pins that contradict each other.
func (r *resolver) hints(terminal *incompat) []string {
	var exts []*incompat
	seen := map[*incompat]bool{}
	var walk func(*incompat)
	walk = func(inc *incompat) {
		if seen[inc] {
			return
		}
		seen[inc] = true
		if inc.kind == kindDerived {
			walk(inc.cause1)
			walk(inc.cause2)
			return
		}
		exts = append(exts, inc)
	}
	walk(terminal)

	var out []string
	have := map[string]bool{}
	add := func(s string) {
		if !have[s] {
			have[s] = true
			out = append(out, s)
		}
	}
	for _, inc := range exts {
		switch inc.kind {
		case kindUnusable:
			for _, h := range r.unusableHints(inc.to, inc.terms[0].set) {
				add(h)
			}
		case kindNoVersion:
			if inc.notFound {
				add(fmt.Sprintf("%s is not on the configured indexes: check the spelling, or add the index that has it (--index-url, --extra-index-url, --find-links)", r.pkgName(inc.to)))
			}
		}
	}
	// Pins that contradict each other.
	pins := map[pkgID][]*incompat{}
	for _, inc := range exts {
		if (inc.kind == kindDependency || inc.kind == kindConstraint) && strings.Contains(inc.toLabel, "==") {
			pins[inc.to] = append(pins[inc.to], inc)
		}
	}
	for _, inc := range exts {
		ps := pins[inc.to]
		if len(ps) < 2 || ps[0] != inc {
			continue
		}
		// Pins from different versions of one package do not conflict.
		froms := map[pkgID]bool{}
		for _, p := range ps {
			froms[p.from] = true
		}
		if len(froms) < 2 {
			continue
		}
		var who []string
		for _, p := range ps {
			if p.from == rootPkg {
				who = append(who, "you require "+p.toLabel)
			} else {
				who = append(who, p.fromLabel+" requires "+p.toLabel)
			}
		}
		add(fmt.Sprintf("the pins on %s conflict (%s): relax one of them", r.pkgName(inc.to), strings.Join(who, "; ")))
	}
	return out
}

// unusableHints explains, for an unusable set of versions, what exists
// instead: for each reason, the newest version it rules out, and then the
// newest version that works on the target.
func (r *resolver) unusableHints(id pkgID, set bitset) []string {
	p := r.nodes[id].proj
	name := p.name
	tgt := r.tgt.String()
	var out []string
	seen := map[reason]bool{}
	any := false
	set.eachDesc(func(i int) bool {
		if i >= len(p.rels) {
			return true
		}
		any = true
		st, detail := r.statusOf(p, i)
		if seen[st] {
			return true
		}
		seen[st] = true
		rel := p.rels[i]
		switch st {
		case reasonNoWheel:
			switch {
			case strings.Contains(detail, "need glibc"):
				need, tag := r.pol.glibcNeed(rel.names)
				h := fmt.Sprintf("%s %s has %s wheels only for glibc %d.%d and later (%s), but %s has glibc %d.%d",
					name, rel.version, r.pol.machine, need[0], need[1], tag, tgt, r.pol.glibc[0], r.pol.glibc[1])
				if r.tgt.Runtime != "" && (r.pol.glibc[0] < 2 || (r.pol.glibc[0] == 2 && r.pol.glibc[1] < 34)) {
					h += "; runtimes on Amazon Linux 2023 (python3.12 and later) have glibc 2.34"
				}
				out = append(out, h)
			case detail != "":
				out = append(out, fmt.Sprintf("%s %s has no wheel for %s: %s", name, rel.version, tgt, detail))
			}
		case reasonSdistOnly:
			out = append(out, r.sdistOnlyHint(name, rel, detail))
		case reasonRequiresPython:
			out = append(out, fmt.Sprintf("%s %s requires Python %s, and %s runs Python %s", name, rel.version, detail, tgt, r.pol.python))
		case reasonYanked:
			out = append(out, fmt.Sprintf("the matching versions of %s were yanked; pin one with == to use it anyway", name))
		case reasonPrerelease:
			out = append(out, r.prereleaseHint(name, rel.version))
		case reasonNoBinary:
			out = append(out, fmt.Sprintf("%s is in --no-binary, so its wheels are not used, and it is not built (%s)", name, detail))
		}
		return len(seen) < 3
	})
	if !any {
		return nil
	}
	works := -1
	for i := len(p.rels) - 1; i >= 0; i-- {
		if s, _ := r.statusOf(p, i); s == usable {
			works = i
			break
		}
	}
	switch {
	case len(out) == 0:
		// Nothing specific to say about these versions.
	case works >= 0 && !set.has(works):
		out = append(out, fmt.Sprintf("%s %s is the newest version usable on %s", name, p.rels[works].version, tgt))
	case works < 0 && len(p.rels) > 0 && !seen[reasonPrerelease] && !seen[reasonYanked]:
		h := fmt.Sprintf("no version of %s is usable on %s", name, tgt)
		if alt, ok := binaryAlternatives[name]; ok {
			h += "; " + alt
		}
		out = append(out, h)
	}
	return out
}

// binaryAlternatives are well-known projects that publish no Linux wheels,
// with the drop-in that does.
var binaryAlternatives = map[string]string{
	"psycopg2":           "psycopg2-binary (or psycopg[binary]) ships manylinux wheels",
	"backports-zoneinfo": "on Python 3.9 and later the standard library's zoneinfo replaces it",
}
