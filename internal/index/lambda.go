package index

import (
	"slices"
	"strings"

	"github.com/lambdapack/lambdapack/internal/tags"
)

// Which files a page keeps. lambdapack builds only for Lambda's Linux
// targets (and custom targets like them): CPython 3 on manylinux x86_64 or
// aarch64. Most of a big project's files are wheels for Windows, macOS,
// musllinux, other architectures or Python 2, which no target can ever
// install; a page keeps only the wheels some target may install, every
// sdist (the sdist builder needs them), and, per version, a short summary
// of the wheels it left out so that the resolver can still say what exists
// ("wheels exist for macOS, Windows"). The same filter applies to pages
// fetched, pages read from the cache and find-links locations, so a warm
// run sees exactly what a cold one saw.

// maxElsewhere bounds the tags kept per version in a summary.
const maxElsewhere = 16

// lambdaWheel classifies a wheel by its file name. ok is false when the name
// does not look like a wheel's (such a file is kept, so that the resolver
// can report it). Otherwise usable says whether some Lambda target may
// install it: an interpreter tag of Python 3 (py3*, cp3*) and a platform tag
// of any, or manylinux on x86_64 or aarch64. version is the name's version
// part as written.
func lambdaWheel(filename string) (version string, usable, ok bool) {
	stem := filename[:len(filename)-len(".whl")]
	parts := strings.Split(stem, "-")
	if len(parts) != 5 && len(parts) != 6 {
		return "", false, false
	}
	n := len(parts)
	py, plat := strings.ToLower(parts[n-3]), strings.ToLower(parts[n-1])
	return parts[1], python3(py) && lambdaPlatform(plat), true
}

// python3 reports whether a compressed interpreter tag set names Python 3.
func python3(set string) bool {
	for p := range strings.SplitSeq(set, ".") {
		if strings.HasPrefix(p, "py3") || strings.HasPrefix(p, "cp3") {
			return true
		}
	}
	return false
}

// lambdaPlatform reports whether a compressed platform tag set holds one a
// Lambda target (or a custom one) may accept.
func lambdaPlatform(set string) bool {
	for p := range strings.SplitSeq(set, ".") {
		if p == "any" {
			return true
		}
		if m, ok := tags.ParseManylinux(p); ok && (m.Arch == "x86_64" || m.Arch == "aarch64") {
			return true
		}
	}
	return false
}

// elsewhereKey groups the tags of left-out wheels: by platform family
// (macOS, Windows, musllinux, manylinux of an architecture, ...), and for a
// platform a target accepts, by interpreter and ABI (a Python 2 wheel).
func elsewhereKey(t tags.Tag) string {
	p := t.Platform
	if p == "any" || lambdaPlatform(p) {
		arch := "any"
		if m, ok := tags.ParseManylinux(p); ok {
			arch = m.Arch
		}
		return "py:" + t.Interpreter + "-" + t.ABI + "-" + arch
	}
	if m, ok := tags.ParseManylinux(p); ok {
		return "manylinux:" + m.Arch
	}
	for _, fam := range []string{"macosx_", "win", "musllinux_", "ios_", "android_"} {
		if strings.HasPrefix(p, fam) {
			return fam
		}
	}
	return p
}

// pageFilter applies the filter to one page's files, building the summary.
type pageFilter struct {
	byVersion map[string]*Elsewhere
	order     []string // versions in first-seen order
	seen      map[string]bool
}

// keep reports whether the page keeps a file, noting the tags of a wheel
// it leaves out. Files that are neither wheels nor sdists (eggs,
// installers) are left out without a note.
func (pf *pageFilter) keep(filename string) bool {
	lower := strings.ToLower(filename)
	if !strings.HasSuffix(lower, ".whl") {
		return isDistFile(lower)
	}
	version, usable, ok := lambdaWheel(filename)
	if !ok || usable {
		return true
	}
	pf.note(filename, version)
	return false
}

func (pf *pageFilter) note(filename, version string) {
	w := filename[:len(filename)-len(".whl")]
	parts := strings.Split(w, "-")
	n := len(parts)
	ts, err := tags.ParseTag(parts[n-3] + "-" + parts[n-2] + "-" + parts[n-1])
	if err != nil {
		return
	}
	if pf.byVersion == nil {
		pf.byVersion, pf.seen = map[string]*Elsewhere{}, map[string]bool{}
	}
	e := pf.byVersion[version]
	if e == nil {
		e = &Elsewhere{Version: version}
		pf.byVersion[version] = e
		pf.order = append(pf.order, version)
	}
	for _, t := range ts {
		if len(e.Tags) >= maxElsewhere {
			return
		}
		k := version + "\x00" + elsewhereKey(t)
		if pf.seen[k] {
			continue
		}
		pf.seen[k] = true
		e.Tags = append(e.Tags, t.String())
	}
}

// summary returns the versions' summaries in the order the page listed
// them.
func (pf *pageFilter) summary() []Elsewhere {
	if len(pf.order) == 0 {
		return nil
	}
	out := make([]Elsewhere, 0, len(pf.order))
	for _, v := range pf.order {
		e := pf.byVersion[v]
		slices.Sort(e.Tags)
		out = append(out, *e)
	}
	return out
}

// filterFiles applies the filter to a list (an HTML page, a find-links
// location).
func filterFiles(files []File) ([]File, []Elsewhere) {
	var pf pageFilter
	out := files[:0]
	for _, f := range files {
		if pf.keep(f.Filename) {
			out = append(out, f)
		}
	}
	return out, pf.summary()
}
