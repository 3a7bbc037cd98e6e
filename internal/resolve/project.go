package resolve

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/lambdapack/lambdapack/internal/index"
	"github.com/lambdapack/lambdapack/internal/names"
	"github.com/lambdapack/lambdapack/internal/pep440"
	"github.com/lambdapack/lambdapack/internal/tags"
)

// reason says why a version cannot be used.
type reason uint8

const (
	usable reason = iota
	reasonNoBinary
	reasonRequiresPython
	reasonSdistOnly
	reasonNoWheel
	reasonYanked
	reasonPrerelease
	reasonMetadata // found after reading the version's metadata
	reasonRefused  // its files were refused (Options.Refused)
	reasonNeedsBuild
)

// release is one version of a project with its files, judged for the target
// on first use (ensure): a project page lists thousands of files, and the
// resolver looks at a few versions of most projects.
type release struct {
	once    sync.Once
	pol     *policy
	proj    *project
	raw     []index.File // wheel files, names not parsed yet
	version pep440.Version
	wheels  []index.File
	names   []tags.WheelFilename
	other   []tags.Tag // tags of wheels the index left out (elsewhere.go)
	best    int        // index into wheels of the chosen wheel, -1 if none
	tag     tags.Tag
	status  reason
	detail  string // for reasonNoWheel / reasonRequiresPython / reasonYanked

	sdistBuild // sdist.go: the sdists, and whether this version is built
}

// project is what the resolver knows of one project. It is built once,
// possibly on a fetching goroutine, and read-only afterwards.
type project struct {
	name     string
	notFound bool
	rels     []*release // ascending versions
	allowPre bool       // pre-releases are candidates at all (see analyze)
	skipped  []string   // files that could not be read
}

// policy is the part of the resolver that judges files: read-only, shared
// with fetching goroutines.
type policy struct {
	tgtName     string
	machine     string
	glibc       [2]int
	python      pep440.Version
	wheelRank   func(tags.WheelFilename) (int, bool)
	tagRank     func(tags.Tag) (int, bool)
	mode        PrereleaseMode
	explicitPre map[string]bool
	yankPins    map[string][]pep440.SpecifierSet
	build       buildPolicy
	refused     map[string]string
}

func (pol *policy) allowYanked(name string, v pep440.Version) bool {
	for _, s := range pol.yankPins[name] {
		if s.Contains(v, pep440.PrereleaseAllow) {
			return true
		}
	}
	return false
}

func (pol *policy) pythonOK(spec string) (bool, string) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return true, ""
	}
	s, err := pep440.ParseSpecifierSet(spec)
	if err != nil {
		// An unreadable Requires-Python is ignored, as pip does.
		return true, ""
	}
	return s.Contains(pol.python, pep440.PrereleaseAllow), s.String()
}

// analyze groups a project's files by version and judges each version.
func (pol *policy) analyze(name string, files []index.File) *project {
	p := &project{name: name}
	// Releases by the version as written (a big project lists thousands of
	// files; spellings of one version, "1.0" and "1.0.0", are merged
	// below).
	byVersion := map[string]*release{}
	get := func(k string, v pep440.Version) *release {
		r := byVersion[k]
		if r == nil {
			r = &release{version: v, best: -1}
			byVersion[k] = r
		}
		return r
	}
	canon := map[string]bool{} // project names as wheels spell them
	for _, f := range files {
		if f.IsWheel() {
			// Only the name and version are read now; the tags when
			// the version is judged. Old installers (.exe, .egg) are
			// not noted; a wheel whose name does not parse is.
			stem := f.Filename[:len(f.Filename)-4]
			wname, rest, _ := strings.Cut(stem, "-")
			ver, _, _ := strings.Cut(rest, "-")
			if n := strings.Count(stem, "-"); n != 4 && n != 5 || !sameName(canon, wname, name) {
				p.skipped = append(p.skipped, f.Filename)
				continue
			}
			r := byVersion[ver]
			if r == nil {
				v, err := pep440.Parse(ver)
				if err != nil {
					p.skipped = append(p.skipped, f.Filename)
					continue
				}
				r = get(ver, v)
			}
			r.raw = append(r.raw, f)
			continue
		}
		s, err := tags.ParseSdistFilename(f.Filename)
		if err != nil {
			continue
		}
		r := get(s.Version.String(), s.Version)
		r.sdists = append(r.sdists, f)
	}
	for _, r := range byVersion {
		p.rels = append(p.rels, r)
	}
	sort.Slice(p.rels, func(i, j int) bool {
		if c := p.rels[i].version.Compare(p.rels[j].version); c != 0 {
			return c < 0
		}
		return p.rels[i].version.String() < p.rels[j].version.String()
	})
	// "1.0" and "1.0.0" are the same version: merge them.
	merged := p.rels[:0]
	for _, r := range p.rels {
		if n := len(merged); n > 0 && merged[n-1].version.Compare(r.version) == 0 {
			m := merged[n-1]
			m.raw = append(m.raw, r.raw...)
			m.sdists = append(m.sdists, r.sdists...)
			continue
		}
		merged = append(merged, r)
	}
	p.rels = merged
	// Pre-releases are candidates (behind stable versions, see
	// resolver.choose) in every mode but disallow, and in explicit mode
	// only for the packages your requirements name a pre-release of.
	switch pol.mode {
	case PrereleaseDisallow:
	case PrereleaseExplicit:
		p.allowPre = pol.explicitPre[name]
	default:
		p.allowPre = true
	}
	for _, r := range p.rels {
		r.pol, r.proj = pol, p
	}
	return p
}

// sameName reports whether a wheel's name part is project name, remembering
// the spellings seen (a project's wheels spell it one or two ways).
func sameName(seen map[string]bool, spelled, name string) bool {
	if ok, known := seen[spelled]; known {
		return ok
	}
	ok := names.Canonical(spelled) == name
	seen[spelled] = ok
	return ok
}

// ensure judges the release once (safe for concurrent use).
func (r *release) ensure() *release {
	r.once.Do(func() { r.pol.judge(r.proj, r) })
	return r
}

func (pol *policy) judge(p *project, r *release) {
	for _, f := range r.raw {
		w, err := tags.ParseWheelFilename(f.Filename)
		if err != nil || w.Name != p.name {
			continue
		}
		if why, refused := pol.refused[f.Filename]; refused {
			r.refused = append(r.refused, refusal{f.Filename, why})
			continue
		}
		r.wheels = append(r.wheels, f)
		r.names = append(r.names, w)
	}
	r.raw = nil
	// When no wheel can be used, the sdist may be (sdist.go).
	defer pol.considerSdist(p, r)
	if len(r.wheels) == 0 {
		switch {
		case len(r.refused) > 0:
			r.status, r.detail = reasonRefused, r.refused[0].String()
		case len(r.other) > 0 && pol.build.wheelsRefused(p.name):
			r.status = reasonNoBinary
		case len(r.other) > 0:
			// Only wheels for other platforms (the index left them out).
			r.status, r.detail = reasonNoWheel, pol.wheelDetail(nil, r.other)
		default:
			r.status = reasonSdistOnly
		}
		return
	}
	if pol.build.wheelsRefused(p.name) {
		r.status = reasonNoBinary
		return
	}
	var compat []int
	for i, w := range r.names {
		if _, ok := pol.wheelRank(w); ok {
			compat = append(compat, i)
		}
	}
	// Requires-Python first: a wheel built for a newer Python is better
	// explained by its Requires-Python than by its tags.
	pyOK := func(i int) (bool, string) { return pol.pythonOK(r.wheels[i].RequiresPython) }
	if len(compat) == 0 {
		allBad, spec := true, ""
		for i := range r.wheels {
			ok, s := pyOK(i)
			if ok {
				allBad = false
				break
			}
			spec = s
		}
		if allBad {
			r.status, r.detail = reasonRequiresPython, spec
			return
		}
		r.status, r.detail = reasonNoWheel, pol.wheelDetail(r.names, r.other)
		return
	}
	var okPy []int
	spec := ""
	for _, i := range compat {
		if ok, s := pyOK(i); ok {
			okPy = append(okPy, i)
		} else {
			spec = s
		}
	}
	if len(okPy) == 0 {
		r.status, r.detail = reasonRequiresPython, spec
		return
	}
	var live []int
	yankReason := ""
	for _, i := range okPy {
		if !r.wheels[i].Yanked || pol.allowYanked(p.name, r.version) {
			live = append(live, i)
		} else if r.wheels[i].YankedReason != "" {
			yankReason = r.wheels[i].YankedReason
		}
	}
	best, bestRank := -1, 0
	cands := live
	if len(cands) == 0 {
		cands = okPy // keep a wheel to describe in hints
	}
	for _, i := range cands {
		rank, _ := pol.wheelRank(r.names[i])
		if best < 0 || rank < bestRank || (rank == bestRank && betterBuild(r.names[i], r.names[best])) {
			best, bestRank = i, rank
		}
	}
	r.best = best
	for _, t := range r.names[best].Tags {
		if rk, ok := pol.tagRank(t); ok && rk == bestRank {
			r.tag = t
			break
		}
	}
	if len(live) == 0 {
		r.status, r.detail = reasonYanked, yankReason
		return
	}
	if r.version.IsPrerelease() && !p.allowPre {
		r.status = reasonPrerelease
	}
}

func betterBuild(a, b tags.WheelFilename) bool {
	if a.HasBuild != b.HasBuild {
		return a.HasBuild
	}
	if a.BuildNum != b.BuildNum {
		return a.BuildNum > b.BuildNum
	}
	if a.BuildTag != b.BuildTag {
		return a.BuildTag > b.BuildTag
	}
	return a.Filename < b.Filename
}

// wheelDetail says why none of a version's wheels fits the target, naming
// what does exist: a glibc above the runtime's, other architectures, other
// Pythons. other holds the tags of the wheels the index left out.
func (pol *policy) wheelDetail(names []tags.WheelFilename, other []tags.Tag) string {
	needGlibc, glibcTag := pol.glibcNeed(names)
	plats := map[string]bool{}
	pys := map[string]bool{}
	machineSeen := false
	for _, w := range append(names, tags.WheelFilename{Tags: other}) {
		for _, t := range w.Tags {
			if m, ok := tags.ParseManylinux(t.Platform); ok && m.Arch == pol.machine {
				machineSeen = true
				pys[t.Interpreter+"-"+t.ABI] = true
				continue
			}
			if t.Platform == "any" {
				machineSeen = true
				pys[t.Interpreter+"-"+t.ABI] = true
				continue
			}
			plats[platformFamily(t.Platform)] = true
		}
	}
	switch {
	case needGlibc != [2]int{}:
		return fmt.Sprintf("its %s wheels need glibc %d.%d (%s), above the target's %d.%d", pol.machine, needGlibc[0], needGlibc[1], glibcTag, pol.glibc[0], pol.glibc[1])
	case machineSeen:
		return "its wheels are for other Pythons: " + strings.Join(sortedKeys(pys), ", ")
	case len(plats) > 0:
		return "no " + pol.machine + " manylinux wheel; wheels exist for " + strings.Join(sortedKeys(plats), ", ")
	}
	return ""
}

// glibcNeed returns the lowest glibc among the wheels that would install on
// the target but for a manylinux tag above its glibc, and that tag; zero
// when there is none.
func (pol *policy) glibcNeed(names []tags.WheelFilename) ([2]int, string) {
	need, tag := [2]int{}, ""
	for _, w := range names {
		for _, t := range w.Tags {
			m, ok := tags.ParseManylinux(t.Platform)
			if !ok || m.Arch != pol.machine || m.Compatible(pol.glibc[0], pol.glibc[1]) {
				continue
			}
			probe := tags.Tag{Interpreter: t.Interpreter, ABI: t.ABI, Platform: "manylinux2014_" + pol.machine}
			if _, ok := pol.tagRank(probe); !ok {
				continue
			}
			if need == [2]int{} || m.GlibcMajor < need[0] || (m.GlibcMajor == need[0] && m.GlibcMinor < need[1]) {
				need, tag = [2]int{m.GlibcMajor, m.GlibcMinor}, t.Platform
			}
		}
	}
	return need, tag
}

func platformFamily(p string) string {
	if m, ok := tags.ParseManylinux(p); ok {
		return "manylinux " + m.Arch
	}
	switch {
	case strings.HasPrefix(p, "musllinux_"):
		return "musllinux (never loads on Lambda)"
	case strings.HasPrefix(p, "macosx_"):
		return "macOS"
	case strings.HasPrefix(p, "win"):
		return "Windows"
	case strings.HasPrefix(p, "linux_"):
		return p + " (not manylinux)"
	}
	return p
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	if len(out) > 8 {
		out = append(out[:8], "...")
	}
	return out
}

// likely returns the release the resolver will most probably pick when
// nothing constrains the project: the newest usable stable one (any usable
// one with --pre, or when there is no stable one).
func (p *project) likely() *release {
	var pre *release
	for i := len(p.rels) - 1; i >= 0; i-- {
		r := p.rels[i]
		if r.ensure().status != usable || r.build {
			continue // a build's metadata is read only when chosen
		}
		if !r.version.IsPrerelease() || r.pol.mode == PrereleaseAllow {
			return r
		}
		if pre == nil {
			pre = r
		}
	}
	return pre
}
