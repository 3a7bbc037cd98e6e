package resolve

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/lambdapack/lambdapack/internal/index"
	"github.com/lambdapack/lambdapack/internal/metadata"
	"github.com/lambdapack/lambdapack/internal/names"
	"github.com/lambdapack/lambdapack/internal/pep440"
	"github.com/lambdapack/lambdapack/internal/pep508"
	"github.com/lambdapack/lambdapack/internal/tags"
	"github.com/lambdapack/lambdapack/internal/target"
)

// node is a solver package: a project, or a project with one extra (a
// "virtual" package that depends on the project at the same version and on
// the extra's requirements).
type node struct {
	proj  *project
	extra string
}

type depEdge struct {
	names []string // canonical names of the packages it depends on
}

type resolver struct {
	tgt  target.Target
	opts Options
	pol  *policy
	env  pep508.Environment
	s    *solver
	f    *fetcher

	nodes    []*node // by pkgID; nodes[0] is the root (nil)
	nodeIDs  map[string]pkgID
	rootReqs []pep508.Requirement
	direct   map[string]bool
	dyn      map[*release]string // unusable after reading metadata: why
	setCache map[string]bitset
	depMerge map[string]*incompat
	edges    map[[2]int]depEdge // (pkgID, version) -> dependencies
	chosen   map[pkgID]int      // how often each package was decided
	depCache map[[2]int][]*incompat
	notes    []string
	noteSeen map[string]bool
	// forceStable holds the packages that must take stable versions first
	// whatever their requirements (see prerelease.go).
	forceStable map[string]bool
	// buildErrs are the failures to read sdists' metadata, by package
	// (sdist.go).
	buildErrs map[string]error
}

// Resolve finds, for the target, one version of every package the
// requirements need, each with the wheel to install, or returns a
// *NoSolutionError explaining why there is none. Errors reading the index
// are returned as they are.
func Resolve(ctx context.Context, src Source, tgt target.Target, reqs []pep508.Requirement, opts Options) (*Result, error) {
	start := time.Now()
	py, err := pep440.Parse(tgt.PythonFull)
	if err != nil {
		py, err = pep440.Parse(tgt.Python())
		if err != nil {
			return nil, fmt.Errorf("resolving for %s: the target's Python version %q: %w", tgt, tgt.PythonFull, err)
		}
	}
	env := tgt.Environment()
	pol := &policy{
		tgtName:     tgt.String(),
		machine:     tgt.Arch.Machine(),
		glibc:       [2]int{tgt.GlibcMajor, tgt.GlibcMinor},
		python:      py,
		wheelRank:   tgt.WheelRank,
		tagRank:     tgt.TagRank,
		mode:        opts.Prerelease,
		explicitPre: map[string]bool{},
		yankPins:    map[string][]pep440.SpecifierSet{},
		refused:     opts.Refused,
	}
	if pol.build, err = newBuildPolicy(opts); err != nil {
		return nil, fmt.Errorf("resolving for %s: %w", tgt, err)
	}
	r := &resolver{
		tgt: tgt, opts: opts, pol: pol, env: env,
		direct:      map[string]bool{},
		dyn:         map[*release]string{},
		setCache:    map[string]bitset{},
		noteSeen:    map[string]bool{},
		forceStable: map[string]bool{},
		buildErrs:   map[string]error{},
	}
	r.reset()
	direct := map[string]index.File{}
	for _, q := range reqs {
		if !q.Marker.Evaluate(env) {
			continue
		}
		if q.URL != "" {
			f, err := directWheel(q)
			if err != nil {
				return nil, fmt.Errorf("resolving for %s: %w", tgt, err)
			}
			name := names.Canonical(q.Name)
			if prev, ok := direct[name]; ok && prev.URL != f.URL {
				return nil, fmt.Errorf("resolving for %s: %s is required from two places: %s and %s", tgt, name, index.Redact(prev.URL), index.Redact(f.URL))
			}
			direct[name] = f
			q.URL = ""
		}
		r.rootReqs = append(r.rootReqs, q)
		r.direct[names.Canonical(q.Name)] = true
	}
	var cons []pep508.Requirement
	for _, c := range opts.Constraints {
		if c.Marker.Evaluate(env) && c.URL == "" {
			cons = append(cons, c)
		}
	}
	opts.Constraints = cons
	r.opts = opts
	for _, q := range append(append([]pep508.Requirement(nil), r.rootReqs...), cons...) {
		name := names.Canonical(q.Name)
		if q.Specifier.Prereleases() {
			pol.explicitPre[name] = true
		}
		for _, sp := range q.Specifier.Specifiers() {
			if (sp.Operator == "==" && !strings.HasSuffix(sp.Version, ".*")) || sp.Operator == "===" {
				set, err := pep440.ParseSpecifierSet(sp.String())
				if err == nil {
					pol.yankPins[name] = append(pol.yankPins[name], set)
				}
			}
		}
	}
	conc := opts.Concurrency
	if conc <= 0 {
		conc = 16
	}
	fctx, cancel := context.WithCancel(ctx)
	r.f = &fetcher{
		ctx: fctx, src: src, pol: pol, env: env, tgt: tgt,
		sem:       make(chan struct{}, conc),
		speculate: !opts.NoPrefetch,
		projects:  map[string]*projEntry{},
		metas:     map[string]*metaEntry{},
	}
	defer func() {
		cancel()
		r.f.wg.Wait()
	}()
	// A direct reference is the only version of its package.
	for name, f := range direct {
		e := &projEntry{done: make(chan struct{}), p: pol.analyze(name, []index.File{f})}
		close(e.done)
		r.f.projects[name] = e
	}
	for _, q := range r.rootReqs {
		r.f.project(names.Canonical(q.Name))
	}
	var sol map[pkgID]int
	steps, conflicts := 0, 0
	for {
		sol, err = r.s.solve(ctx, r)
		steps += r.s.steps
		conflicts += r.s.nConf
		if err != nil {
			var ns *noSolution
			if errors.As(err, &ns) {
				tree := simplify(r, r.s.listed, ns.inc)
				return nil, &NoSolutionError{
					Target:      tgt,
					Explanation: explain(r, r.s.listed, tree),
					Hints:       r.hints(tree),
					Builds:      r.buildCauses(tree),
				}
			}
			return nil, err
		}
		// A pre-release taken before a requirement that names none was
		// known: solve again with the package held to stable first. Each
		// round holds at least one more package, so this ends.
		again := r.misorderedPre(sol)
		if len(again) == 0 {
			break
		}
		for _, name := range again {
			r.forceStable[name] = true
		}
		r.reset()
	}
	r.preNotes(sol)
	res := r.result(sol)
	res.Stats = Stats{
		Projects:  int(r.f.nProjects.Load()),
		Metadata:  int(r.f.nMetadata.Load()),
		Decisions: steps,
		Conflicts: conflicts,
		Duration:  time.Since(start),
	}
	return res, nil
}

// reset starts the solver afresh; what the fetcher and the policy learnt is
// kept.
func (r *resolver) reset() {
	r.s = newSolver()
	r.nodes = []*node{nil}
	r.nodeIDs = map[string]pkgID{}
	r.depMerge = map[string]*incompat{}
	r.edges = map[[2]int]depEdge{}
	r.chosen = map[pkgID]int{}
	r.depCache = map[[2]int][]*incompat{}
}

func (r *resolver) note(s string) {
	if !r.noteSeen[s] {
		r.noteSeen[s] = true
		r.notes = append(r.notes, s)
	}
}

// loadProject waits for a project's page (fetching it if needed).
func (r *resolver) loadProject(ctx context.Context, name string) (*project, error) {
	e := r.f.project(name)
	if err := wait(ctx, e.done); err != nil {
		return nil, err
	}
	if e.err != nil {
		return nil, fmt.Errorf("resolving for %s: %w", r.tgt, e.err)
	}
	if n := len(e.p.skipped); n > 0 {
		list := e.p.skipped
		if n > 3 {
			list = append(list[:3:3], "...")
		}
		r.note(fmt.Sprintf("%s: ignored %d wheel(s) whose file names do not parse (%s)", name, n, strings.Join(list, ", ")))
	}
	return e.p, nil
}

// nodeFor returns the solver package of name (canonical) with an optional
// extra, registering it on first use.
func (r *resolver) nodeFor(ctx context.Context, name, extra string) (pkgID, error) {
	key := name
	if extra != "" {
		key = name + "[" + extra + "]"
	}
	if id, ok := r.nodeIDs[key]; ok {
		return id, nil
	}
	p, err := r.loadProject(ctx, name)
	if err != nil {
		return 0, err
	}
	n := len(p.rels) + 1
	id := r.s.addPackage(key, n, true)
	r.nodeIDs[key] = id
	r.nodes = append(r.nodes, &node{proj: p, extra: extra})
	inc := newIncompat(kindNoVersion, term{id, true, singleBit(n, n-1)})
	inc.to = id
	inc.notFound = p.notFound
	r.s.addIncompat(inc)
	return id, nil
}

// specSet returns the listed versions of p a specifier admits, or the
// phantom alone when it admits none of them (unlisted versions do not
// exist, so the phantom matters only to say "there is no version of").
func (r *resolver) specSet(id pkgID, spec pep440.SpecifierSet) bitset {
	p := r.nodes[id].proj
	key := p.name + "\x00" + spec.String()
	if b, ok := r.setCache[key]; ok {
		return b
	}
	n := len(p.rels) + 1
	b := newBitset(n)
	for i, rel := range p.rels {
		if spec.Contains(rel.version, pep440.PrereleaseAllow) {
			b.set(i)
		}
	}
	if b.empty() {
		b.set(n - 1)
	}
	r.setCache[key] = b
	return b
}

func (r *resolver) statusOf(p *project, i int) (reason, string) {
	rel := p.rels[i].ensure()
	if rel.status != usable {
		return rel.status, rel.detail
	}
	if why, ok := r.dyn[rel]; ok {
		return reasonMetadata, why
	}
	if st, why, bad := r.buildStatus(p, rel); bad {
		return st, why
	}
	return usable, ""
}

func (r *resolver) choose(ctx context.Context, id pkgID, allowed bitset) (int, *incompat, error) {
	if id == rootPkg {
		return 0, nil, nil
	}
	nd := r.nodes[id]
	p := nd.proj
	ok := func(i int) bool {
		if i >= len(p.rels) || !allowed.has(i) {
			return false
		}
		st, _ := r.statusOf(p, i)
		return st == usable
	}
	// An extra follows its base package once that is decided.
	if nd.extra != "" {
		if base, found := r.nodeIDs[p.name]; found {
			if v := r.s.pkgs[base].decided; v >= 0 && ok(v) {
				return v, nil, nil
			}
		}
	}
	if pref, found := r.opts.Preferences[p.name]; found {
		for i, rel := range p.rels {
			if rel.version.Equal(pref) && ok(i) {
				return i, nil, nil
			}
		}
	}
	// Stable versions first unless the policy says otherwise
	// (prerelease.go), a pre-release when no stable one is left; wheels
	// before builds (sdist.go).
	stableFirst := r.stableFirst(id)
	firsts := [4]int{-1, -1, -1, -1}
	allowed.eachDesc(func(i int) bool {
		if !ok(i) {
			return true
		}
		k := candidateRank(p.rels[i], stableFirst)
		if firsts[k] < 0 {
			firsts[k] = i
		}
		return k != 0
	})
	best := -1
	for _, i := range firsts {
		if best < 0 {
			best = i
		}
	}
	if best >= 0 {
		r.prefetchBelow(id, best, allowed, ok)
		return best, nil, nil
	}
	set := allowed.and(r.s.listed(id))
	inc := newIncompat(kindUnusable, term{id, true, set})
	inc.to = id
	inc.text = r.unusableText(id, set)
	return 0, inc, nil
}

// prefetchBelow starts, when a package is being decided again (its previous
// choices were rejected), the metadata of the next candidates below best in
// parallel: walking back through hundreds of versions (boto3 to match an
// old botocore pin) then costs a batch of parallel requests, not one round
// trip per version. Batches grow as the package keeps coming back.
func (r *resolver) prefetchBelow(id pkgID, best int, allowed bitset, ok func(int) bool) {
	if r.opts.NoPrefetch {
		return
	}
	r.chosen[id]++
	n := r.chosen[id]
	if n < 2 {
		return
	}
	batch := 8
	if n > 4 {
		batch = 50
	}
	p := r.nodes[id].proj
	allowed.eachDesc(func(i int) bool {
		if i >= best || !ok(i) || p.rels[i].build {
			return true
		}
		r.f.metadata(p.rels[i])
		batch--
		return batch > 0
	})
}

// dependencies returns the incompatibilities of id@v: its dependencies, or
// the reason its metadata rules it out.
func (r *resolver) dependencies(ctx context.Context, id pkgID, v int) ([]*incompat, error) {
	// A version decided again after backtracking brings the same
	// incompatibilities (already in the solver's store).
	key := [2]int{int(id), v}
	if incs, ok := r.depCache[key]; ok {
		return incs, nil
	}
	incs, err := r.computeDependencies(ctx, id, v)
	if err == nil {
		r.depCache[key] = incs
	}
	return incs, err
}

func (r *resolver) computeDependencies(ctx context.Context, id pkgID, v int) ([]*incompat, error) {
	if id == rootPkg {
		return r.rootDependencies(ctx)
	}
	nd := r.nodes[id]
	p := nd.proj
	rel := p.rels[v]
	me := r.f.metadata(rel)
	if err := wait(ctx, me.done); err != nil {
		return nil, err
	}
	self := term{id, true, singleBit(r.s.pkgs[id].n, v)}
	unusable := func(why string) []*incompat {
		r.dyn[rel] = why
		inc := newIncompat(kindUnusable, self)
		inc.to = id
		inc.text = r.unusableText(id, self.set)
		return []*incompat{inc}
	}
	if me.err != nil {
		if why, ok := r.sdistFailed(p, rel, me.err); ok {
			return unusable(why), nil
		}
		var bad *badMetadataError
		if errors.As(me.err, &bad) {
			msg, _, _ := strings.Cut(bad.err.Error(), "\n")
			return unusable(fmt.Sprintf("has unreadable metadata (%s)", strings.TrimSpace(msg))), nil
		}
		return nil, fmt.Errorf("resolving for %s: reading the metadata of %s: %w", r.tgt, rel.file().Filename, me.err)
	}
	md := me.md
	if names.Canonical(md.Name) != p.name || !md.Version.Equal(rel.version) {
		return unusable(fmt.Sprintf("has metadata for %s %s, not for itself (%s)", md.Name, md.Version, rel.file().Filename)), nil
	}
	if !md.RequiresPython.IsEmpty() && !md.RequiresPython.Contains(r.pol.python, pep440.PrereleaseAllow) {
		return unusable("requires Python " + md.RequiresPython.String()), nil
	}
	var reqs []pep508.Requirement
	var out []*incompat
	fromLabel := r.pkgName(id) + "==" + rel.version.String()
	if nd.extra != "" {
		if !providesExtra(md, nd.extra) {
			r.note(fmt.Sprintf("%s %s does not provide the extra %q", p.name, rel.version, nd.extra))
		}
		base, err := r.nodeFor(ctx, p.name, "")
		if err != nil {
			return nil, err
		}
		inc := newIncompat(kindDependency, self, term{base, false, singleBit(r.s.pkgs[base].n, v)})
		inc.from, inc.to, inc.fromLabel, inc.toLabel = id, base, fromLabel, p.name+"=="+rel.version.String()
		out = append(out, inc)
		withExtra := pep508.Environment{}
		for k, val := range r.env {
			withExtra[k] = val
		}
		withExtra["extra"] = nd.extra
		for _, q := range md.RequiresDist {
			if q.Marker.Evaluate(withExtra) && !q.Marker.Evaluate(r.env) {
				reqs = append(reqs, q)
			}
		}
	} else {
		for _, q := range md.RequiresDist {
			if q.Marker.Evaluate(r.env) {
				reqs = append(reqs, q)
			}
		}
	}
	// Start every dependency's page before waiting for any.
	for _, q := range reqs {
		r.f.project(names.Canonical(q.Name))
	}
	var depNames []string
	for _, q := range reqs {
		name := names.Canonical(q.Name)
		if q.URL != "" {
			return unusable(fmt.Sprintf("depends on a direct reference (%s), which lambdapack does not resolve", q.String())), nil
		}
		if name == p.name && len(q.Extras) == 0 {
			continue // a package that depends on itself
		}
		incs, err := r.requirementIncompats(ctx, id, v, fromLabel, q)
		if err != nil {
			return nil, err
		}
		out = append(out, incs...)
		if name != p.name {
			depNames = append(depNames, name)
		}
	}
	r.edges[[2]int{int(id), v}] = depEdge{names: depNames}
	return out, nil
}

func providesExtra(md *metadata.Metadata, extra string) bool {
	for _, e := range md.ProvidesExtra {
		if names.Canonical(e) == extra {
			return true
		}
	}
	return false
}

// requirementIncompats turns "from depends on q" into incompatibilities: one
// for the project and one for each of its extras. Dependencies of adjacent
// versions with the same target set are merged ({a 1.0..1.3, not b>=2}),
// as pubgrub-rs does, which keeps learned clauses general.
func (r *resolver) requirementIncompats(ctx context.Context, from pkgID, v int, fromLabel string, q pep508.Requirement) ([]*incompat, error) {
	name := names.Canonical(q.Name)
	targets := []string{""}
	for _, e := range q.Extras {
		targets = append(targets, names.Canonical(e))
	}
	var out []*incompat
	for _, extra := range targets {
		to, err := r.nodeFor(ctx, name, extra)
		if err != nil {
			return nil, err
		}
		set := r.specSet(to, q.Specifier)
		label := name
		if extra != "" {
			label += "[" + extra + "]"
		}
		label += q.Specifier.String()
		fromSet := singleBit(r.s.pkgs[from].n, v)
		key := ""
		if from != rootPkg {
			key = fmt.Sprintf("%d>%d:%d:%x", from, to, reqKindOf(q.Specifier), []uint64(set))
			if prev, ok := r.depMerge[key]; ok {
				if t, found := prev.get(from); found {
					fromSet = fromSet.or(t.set)
				}
				label = prev.toLabel
			}
		}
		inc := newIncompat(kindDependency, term{from, true, fromSet}, term{to, false, set})
		inc.from, inc.to, inc.toLabel = from, to, label
		inc.fromLabel = fromLabel
		inc.req = reqKindOf(q.Specifier)
		if from != rootPkg && fromSet.count() > 1 {
			inc.fromLabel = r.pkgName(from) + r.setString(from, fromSet)
		}
		if key != "" {
			r.depMerge[key] = inc
		}
		out = append(out, inc)
	}
	return out, nil
}

func (r *resolver) rootDependencies(ctx context.Context) ([]*incompat, error) {
	var out []*incompat
	for _, q := range r.rootReqs {
		incs, err := r.requirementIncompats(ctx, rootPkg, 0, "", q)
		if err != nil {
			return nil, err
		}
		out = append(out, incs...)
	}
	for _, c := range r.opts.Constraints {
		to, err := r.nodeFor(ctx, names.Canonical(c.Name), "")
		if err != nil {
			return nil, err
		}
		outside := r.s.listed(to).andNot(r.specSet(to, c.Specifier))
		if outside.empty() {
			continue
		}
		inc := newIncompat(kindConstraint, term{rootPkg, true, singleBit(1, 0)}, term{to, true, outside})
		inc.from, inc.to, inc.toLabel = rootPkg, to, names.Canonical(c.Name)+c.Specifier.String()
		inc.req = reqKindOf(c.Specifier)
		out = append(out, inc)
	}
	return out, nil
}

// pkgName implements describer.
func (r *resolver) pkgName(id pkgID) string {
	if id == rootPkg {
		return "your requirements"
	}
	nd := r.nodes[id]
	if nd.extra != "" {
		return nd.proj.name + "[" + nd.extra + "]"
	}
	return nd.proj.name
}

// setString implements describer: runs of consecutive listed versions.
func (r *resolver) setString(id pkgID, set bitset) string {
	if id == rootPkg {
		return ""
	}
	rels := r.nodes[id].proj.rels
	n := len(rels)
	var runs []string
	all := true
	for i := 0; i < n; {
		if !set.has(i) {
			all = false
			i++
			continue
		}
		j := i
		for j+1 < n && set.has(j+1) {
			j++
		}
		lo, hi := rels[i].version.String(), rels[j].version.String()
		switch {
		case i == j:
			runs = append(runs, "=="+lo)
		case i == 0 && j == n-1:
		case i == 0:
			runs = append(runs, "<="+hi)
		case j == n-1:
			runs = append(runs, ">="+lo)
		default:
			runs = append(runs, ">="+lo+",<="+hi)
		}
		i = j + 1
	}
	if all && n > 0 {
		return ""
	}
	if len(runs) == 0 {
		return " (a version the index does not list)"
	}
	if len(runs) > 6 {
		// Long, holey sets (pre-releases and yanked versions excluded)
		// would swamp the sentence: keep both ends.
		return fmt.Sprintf("%s | ... (%d versions in %d ranges) ... | %s",
			strings.Join(runs[:2], " | "), set.and(r.s.listed(id)).count(), len(runs), strings.Join(runs[len(runs)-2:], " | "))
	}
	return strings.Join(runs, " | ")
}

// versionString implements describer.
func (r *resolver) versionString(id pkgID, i int) string {
	return r.nodes[id].proj.rels[i].version.String()
}

// listedSummary implements describer.
func (r *resolver) listedSummary(id pkgID) string {
	rels := r.nodes[id].proj.rels
	name := r.pkgName(id)
	switch {
	case len(rels) == 0:
		return "there is no version of " + name
	case len(rels) == 1:
		return "only " + name + "==" + rels[0].version.String() + " is available"
	case len(rels) <= 3:
		var vs []string
		for _, rel := range rels {
			vs = append(vs, name+"=="+rel.version.String())
		}
		return "only " + joinAnd(vs) + " are available"
	}
	return fmt.Sprintf("only %s>=%s,<=%s are available", name, rels[0].version, rels[len(rels)-1].version)
}

// phrase returns the clause for a reason, singular or plural.
func (r *resolver) phrase(st reason, detail string, plural bool) string {
	pick := func(one, many string) string {
		if plural {
			return many
		}
		return one
	}
	tgt := r.tgt.String()
	switch st {
	case reasonNoBinary, reasonSdistOnly, reasonRefused, reasonNeedsBuild:
		return buildPhrase(st, detail, plural)
	case reasonRequiresPython:
		if detail == "" {
			return pick("does not support", "do not support") + " Python " + r.pol.python.String() + " (Requires-Python)"
		}
		return pick("requires", "require") + " Python " + detail + " (the target has " + r.pol.python.String() + ")"
	case reasonNoWheel:
		s := pick("has no wheel", "have no wheel") + " for " + tgt
		if detail != "" {
			s += " (" + detail + ")"
		}
		return s
	case reasonYanked:
		s := pick("was yanked", "were yanked")
		if detail != "" && !plural {
			s += fmt.Sprintf(" (reason: %q)", detail)
		}
		return s
	case reasonPrerelease:
		return r.prereleasePhrase(plural)
	case reasonMetadata:
		return detail
	}
	return pick("cannot be used", "cannot be used")
}

// unusableText explains why no version of set can be used, grouping the
// versions by reason.
func (r *resolver) unusableText(id pkgID, set bitset) string {
	p := r.nodes[id].proj
	type group struct {
		st     reason
		detail string
		set    bitset
	}
	var groups []*group
	set.eachDesc(func(i int) bool {
		if i >= len(p.rels) {
			return true
		}
		st, detail := r.statusOf(p, i)
		if st == reasonNoWheel || st == reasonYanked || st == reasonRequiresPython {
			// Group by kind: the detail of the newest is shown, or for
			// Requires-Python none when the versions differ.
			for _, g := range groups {
				if g.st == st {
					g.set.set(i)
					if st == reasonRequiresPython && g.detail != detail {
						g.detail = ""
					}
					return true
				}
			}
		}
		for _, g := range groups {
			if g.st == st && g.detail == detail {
				g.set.set(i)
				return true
			}
		}
		g := &group{st: st, detail: detail, set: newBitset(r.s.pkgs[id].n)}
		g.set.set(i)
		groups = append(groups, g)
		return true
	})
	name := r.pkgName(id)
	subject := func(s bitset) string {
		if s.count() == 1 {
			return name + "==" + p.rels[s.highest()].version.String()
		}
		if str := r.setString(id, s); str != "" {
			return name + str
		}
		return "all versions of " + name
	}
	if len(groups) == 1 {
		g := groups[0]
		return subject(set) + " " + r.phrase(g.st, g.detail, set.count() > 1)
	}
	var parts []string
	for _, g := range groups {
		parts = append(parts, subject(g.set)+" "+r.phrase(g.st, g.detail, g.set.count() > 1))
	}
	return subject(set) + " cannot be used (" + strings.Join(parts, "; ") + ")"
}

// result builds the Result from the solver's choice.
func (r *resolver) result(sol map[pkgID]int) *Result {
	res := &Result{Target: r.tgt}
	byName := map[string]*Package{}
	ids := sortedIDs(sol)
	deps := map[string]map[string]bool{}
	for _, id := range ids {
		nd := r.nodes[id]
		if nd.extra != "" {
			continue
		}
		v := sol[id]
		rel := nd.proj.rels[v]
		pkg := &Package{Name: nd.proj.name, Version: rel.version, Direct: r.direct[nd.proj.name]}
		r.fileOf(pkg, rel) // the wheel, or the sdist to build (sdist.go)
		if me := r.f.metadata(rel); me.md != nil {
			pkg.RequiresPython = me.md.RequiresPython.String()
			pkg.Metadata = me.md
		}
		byName[pkg.Name] = pkg
		deps[pkg.Name] = map[string]bool{}
		res.Skipped = append(res.Skipped, r.skipped(nd.proj, v, r.required(id, sol))...)
	}
	for _, id := range ids {
		nd := r.nodes[id]
		pkg := byName[nd.proj.name]
		if pkg == nil {
			continue
		}
		if nd.extra != "" {
			pkg.Extras = append(pkg.Extras, nd.extra)
		}
		for _, d := range r.edges[[2]int{int(id), sol[id]}].names {
			if _, ok := byName[d]; ok && d != pkg.Name {
				deps[pkg.Name][d] = true
			}
		}
	}
	for name, pkg := range byName {
		for d := range deps[name] {
			pkg.Dependencies = append(pkg.Dependencies, d)
		}
		sort.Strings(pkg.Dependencies)
		sort.Strings(pkg.Extras)
		res.Packages = append(res.Packages, *pkg)
	}
	sort.Slice(res.Packages, func(i, j int) bool { return res.Packages[i].Name < res.Packages[j].Name })
	sort.SliceStable(res.Skipped, func(i, j int) bool { return res.Skipped[i].Name < res.Skipped[j].Name })
	res.Notes = append(res.Notes, r.notes...)
	return res
}

// required returns the versions of id that the solution's requirements
// allow: every dependency on it from a selected package (the root
// included), less what constraints exclude.
func (r *resolver) required(id pkgID, sol map[pkgID]int) bitset {
	allowed := r.s.listed(id)
	sel := map[pkgID]int{rootPkg: 0}
	for p, v := range sol {
		sel[p] = v
	}
	for p, v := range sel {
		for _, inc := range r.depCache[[2]int{int(p), v}] {
			t, ok := inc.get(id)
			if !ok || inc.to != id {
				continue
			}
			switch inc.kind {
			case kindDependency:
				allowed = allowed.and(t.set)
			case kindConstraint:
				allowed = allowed.andNot(t.set)
			}
		}
	}
	return allowed
}

// skipped lists the versions newer than the chosen one that the
// requirements allowed but the target could not use, grouped by reason
// (pre-releases left out unless the chosen version is one or --pre is
// given: stable versions come first, so they would not have been chosen
// anyway; versions a pin rules out were never candidates).
func (r *resolver) skipped(p *project, chosen int, allowed bitset) []Skipped {
	var out []Skipped
	withPre := r.pol.mode == PrereleaseAllow || p.rels[chosen].version.IsPrerelease()
	for i := len(p.rels) - 1; i > chosen; i-- {
		if !allowed.has(i) || (p.rels[i].version.IsPrerelease() && !withPre) {
			continue
		}
		st, detail := r.skipStatus(p, i, chosen)
		if st == usable || st == reasonPrerelease {
			continue
		}
		why := r.phrase(st, detail, true)
		if n := len(out); n > 0 && out[n-1].Reason == why {
			out[n-1].Versions = append(out[n-1].Versions, p.rels[i].version.String())
			continue
		}
		out = append(out, Skipped{Name: p.name, Versions: []string{p.rels[i].version.String()}, Reason: why})
	}
	return out
}

// directWheel turns "name @ url" into the wheel file it names: a local
// file:// wheel (hashed here) or a remote one (its #sha256= fragment, when
// given, becomes its hash). Sdists and VCS references are not supported.
func directWheel(q pep508.Requirement) (index.File, error) {
	u, err := url.Parse(q.URL)
	if err != nil {
		return index.File{}, fmt.Errorf("%s: invalid URL: %w", q.Name, err)
	}
	hashes := map[string]string{}
	if alg, val, ok := strings.Cut(u.Fragment, "="); ok && (alg == "sha256" || alg == "sha384" || alg == "sha512") {
		hashes[alg] = strings.ToLower(val)
	}
	u.Fragment = ""
	base := path.Base(u.Path)
	if !strings.HasSuffix(strings.ToLower(base), ".whl") || strings.Contains(u.Scheme, "+") {
		return index.File{}, fmt.Errorf("%s @ %s: only wheels can be direct references (lambdapack builds sdists found on an index or a --find-links folder, and does not check out VCS URLs)", q.Name, index.Redact(q.URL))
	}
	w, err := tags.ParseWheelFilename(base)
	if err != nil {
		return index.File{}, fmt.Errorf("%s @ %s: %w", q.Name, index.Redact(q.URL), err)
	}
	if w.Name != names.Canonical(q.Name) {
		return index.File{}, fmt.Errorf("%s @ %s: the wheel is for %s, not %s", q.Name, index.Redact(q.URL), w.Name, q.Name)
	}
	f := index.File{Filename: base, URL: u.String(), Hashes: hashes, Size: -1}
	if u.Scheme == "file" {
		data, err := os.ReadFile(u.Path)
		if err != nil {
			return index.File{}, fmt.Errorf("%s: reading the wheel: %w", q.Name, err)
		}
		sum := sha256.Sum256(data)
		f.Hashes = map[string]string{"sha256": hex.EncodeToString(sum[:])}
		f.Size = int64(len(data))
	}
	return f, nil
}
