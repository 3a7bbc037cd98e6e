package verify

import (
	"fmt"
	"path"
	"sort"
	"strings"
)

// Which binaries load when the artifact's packages are imported.
//
// A library a binary needs is missing on Lambda only matters when the
// binary is loaded. An extension module loads when Python code imports it;
// numba's optional threading backends (numba.np.ufunc.omppool, tbbpool)
// are imported only inside the function that starts a parallel backend,
// so numba imports fine without libgomp, while lightgbm loads
// lib_lightgbm.so through ctypes as it is imported. The import graph
// settles which is which:
//
//   - roots: every top-level module or package, every public package
//     (no "_"-prefixed component) and every public .py module outside
//     test folders: what a user's code may import by name; an extension
//     module inside a regular package (one with __init__.py) is not a root,
//     since that package's code decides whether it is imported;
//   - edges: the imports each Python module makes at import time (its top
//     level, class bodies, and the module-level functions those call;
//     not other function bodies, not `if TYPE_CHECKING:` blocks), with
//     every parent package of an imported module;
//   - an extension module is loaded when the graph reaches it;
//   - a shared library that is no extension module loads when a loaded
//     binary needs it (DT_NEEDED); one that nothing in the artifact needs
//     is presumed loaded as the package is imported (through ctypes or
//     dlopen), as lightgbm's is;
//   - executables and anything else are presumed loaded.
//
// A missing library of a binary that is not loaded is a warning naming
// the optional modules that need it, not an error.

type reach struct {
	from string
	hard bool
}

// pyModule is one importable module of the artifact.
type pyModule struct {
	name string
	path string // the entry's path
	kind byte   // 'p' a .py module, 'i' a package's __init__.py, 'x' an extension module
}

type importGraph struct {
	c       *checker
	modules map[string]*pyModule
	// byPath maps an extension module's path to its module.
	byPath map[string]*pyModule
	// reached maps each module the graph reaches to how: the module whose
	// import reached it ("" for a root), and whether every import on that
	// path is unguarded (hard: a failure fails the package's import).
	reached map[string]reach
	scans   map[string]*pyScan
	ctypes  map[string]bool // distributions (by owner label, else top package) whose import-time modules load libraries through ctypes
}

// siteRoots are the folders modules are imported from, longest first.
func (c *checker) siteRoots() []string {
	if c.kind == KindFunction {
		return []string{""}
	}
	return []string{fmt.Sprintf("python/lib/python%d.%d/site-packages/", c.t.PythonMajor, c.t.PythonMinor), "python/"}
}

func isIdentifier(s string) bool {
	if s == "" || !isIdentStart(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isIdentChar(s[i]) {
			return false
		}
	}
	return true
}

// moduleName returns the dotted module an entry is, or "".
func moduleName(rel string) (string, byte) {
	dir, base := path.Split(rel)
	var parts []string
	if dir != "" {
		parts = strings.Split(strings.TrimSuffix(dir, "/"), "/")
	}
	var kind byte
	switch {
	case base == "__init__.py":
		kind = 'i'
	case strings.HasSuffix(base, ".py"):
		parts = append(parts, strings.TrimSuffix(base, ".py"))
		kind = 'p'
	default:
		suf, ok := parseExtSuffix(base)
		stem, _, _ := strings.Cut(base, ".")
		if !ok || suf.kind == "bare" && strings.HasPrefix(stem, "lib") {
			return "", 0 // not importable, or a shared library (lib*.so)
		}
		parts = append(parts, stem)
		kind = 'x'
	}
	if len(parts) == 0 {
		return "", 0
	}
	for _, p := range parts {
		if !isIdentifier(p) {
			return "", 0
		}
	}
	return strings.Join(parts, "."), kind
}

func (c *checker) buildImportGraph() *importGraph {
	g := &importGraph{c: c, modules: map[string]*pyModule{}, byPath: map[string]*pyModule{}, reached: map[string]reach{}, scans: map[string]*pyScan{}, ctypes: map[string]bool{}}
	roots := c.siteRoots()
	for _, e := range c.entries {
		if e.Link != "" || c.otherSite(e.Path) != "" {
			continue
		}
		for _, r := range roots {
			rel, ok := strings.CutPrefix(e.Path, r)
			if !ok {
				continue
			}
			name, kind := moduleName(rel)
			if name != "" {
				if _, dup := g.modules[name]; !dup {
					m := &pyModule{name: name, path: e.Path, kind: kind}
					g.modules[name] = m
					if kind == 'x' {
						g.byPath[e.Path] = m
					}
				}
			}
			break
		}
	}
	var queue []string
	names := make([]string, 0, len(g.modules))
	for n := range g.modules {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if g.isRoot(g.modules[n]) {
			g.reached[n] = reach{hard: true}
			queue = append(queue, n)
		}
	}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		m := g.modules[n]
		if m.kind == 'x' {
			continue
		}
		hard := g.reached[n].hard
		for _, imp := range g.scan(m).imports {
			for _, t := range g.resolve(m, imp) {
				r, ok := g.reached[t]
				h := hard && !imp.guarded
				if ok && (r.hard || !h) {
					continue
				}
				g.reached[t] = reach{from: n, hard: h}
				queue = append(queue, t)
			}
		}
	}
	return g
}

// scan reads a Python module once.
func (g *importGraph) scan(m *pyModule) *pyScan {
	if s, ok := g.scans[m.name]; ok {
		return s
	}
	s := &pyScan{}
	g.scans[m.name] = s
	i, ok := g.c.files[m.path]
	if !ok {
		return s
	}
	src, err := readSmall(g.c.entries[i], maxTextFile)
	if err != nil {
		return s // unreadable: its imports are unknown
	}
	*s = scanPython(string(src))
	if s.ctypes {
		g.ctypes[g.distOf(m.path)] = true
	}
	return s
}

// isRoot reports a module a user's code may import by name: an extension
// module only when no regular package's code stands in front of it (it is
// top-level, or in a namespace package, one without __init__.py).
func (g *importGraph) isRoot(m *pyModule) bool {
	parts := strings.Split(m.name, ".")
	if len(parts) == 1 {
		return true
	}
	if m.kind == 'x' {
		pkg := g.modules[parentModule(m.name)]
		return pkg == nil || pkg.kind != 'i'
	}
	for _, p := range parts {
		if strings.HasPrefix(p, "_") || p == "tests" || p == "test" || p == "testing" {
			return false
		}
	}
	return true
}

// resolve returns the artifact's modules an import in m loads.
func (g *importGraph) resolve(m *pyModule, imp pyImport) []string {
	base := imp.module
	if imp.level > 0 {
		pkg := m.name
		if m.kind != 'i' {
			pkg = parentModule(pkg)
		}
		for i := 1; i < imp.level; i++ {
			pkg = parentModule(pkg)
		}
		base = strings.Trim(pkg+"."+imp.module, ".")
	}
	var out []string
	if base != "" {
		parts := strings.Split(base, ".")
		for i := range parts {
			if p := strings.Join(parts[:i+1], "."); g.modules[p] != nil {
				out = append(out, p)
			}
		}
	}
	for _, n := range imp.names {
		if n == "*" {
			continue
		}
		full := strings.Trim(base+"."+n, ".")
		if g.modules[full] != nil {
			out = append(out, full)
		}
	}
	return out
}

func parentModule(n string) string {
	if i := strings.LastIndexByte(n, '.'); i >= 0 {
		return n[:i]
	}
	return ""
}

// distOf names what a file belongs to: its distribution, else its top
// folder.
func (g *importGraph) distOf(p string) string {
	if d := g.c.owner[p]; d != nil {
		return d.label()
	}
	top, _, _ := strings.Cut(p, "/")
	return top
}

// chain describes how the graph reached module n: "numba imports
// numba.core, which imports ...", short.
func (g *importGraph) chain(n string) string {
	var path []string
	for cur := n; ; {
		path = append(path, cur)
		r, ok := g.reached[cur]
		if !ok || r.from == "" || len(path) > 4 {
			break
		}
		cur = r.from
	}
	if len(path) == 1 {
		return n + " is imported by name"
	}
	root := path[len(path)-1]
	return fmt.Sprintf("importing %s loads it (%s imports %s)", root, path[1], n)
}

// missingLib is a library a binary needs that nothing provides.
type missingLib struct {
	e    Entry
	info *ELFInfo
	lib  string
}

// reportMissing turns the missing libraries into findings: errors for
// binaries that load when the packages are imported, warnings for the
// others.
func (c *checker) reportMissing(bins []*binaryFile) {
	if len(c.missing) == 0 {
		return
	}
	g := c.buildImportGraph()

	// Which ELF binaries are loaded, and what each needs in the artifact.
	elfs := map[string]*ELFInfo{}
	for i, b := range bins {
		if b != nil && b.format == ELF && b.err == nil && b.elf != nil && c.otherSite(c.entries[i].Path) == "" {
			elfs[c.entries[i].Path] = b.elf
		}
	}
	needs := map[string][]string{}    // binary -> the artifact's libraries it needs
	neededBy := map[string][]string{} // library -> binaries that need it
	for p, info := range elfs {
		e := c.entries[c.files[p]]
		for _, lib := range info.Needed {
			abs := c.findLibrary(e, info, lib)
			if rel, ok := strings.CutPrefix(abs, c.mount+"/"); ok && elfs[rel] != nil {
				needs[p] = append(needs[p], rel)
				neededBy[rel] = append(neededBy[rel], p)
			}
		}
	}
	loaded := map[string]bool{}
	var queue []string
	for p := range elfs {
		if m := g.byPath[p]; m != nil {
			if !g.reached[m.name].hard {
				continue // an extension module no unguarded import reaches
			}
		} else if len(neededBy[p]) > 0 {
			continue // a library: loaded if what needs it is
		}
		loaded[p] = true
		queue = append(queue, p)
	}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, q := range needs[p] {
			if !loaded[q] {
				loaded[q] = true
				queue = append(queue, q)
			}
		}
	}

	where := "the layer's lib/ (/opt/lib)"
	if c.kind == KindFunction {
		where = "the function's lib/ (/var/task/lib)"
	}
	for _, m := range c.missing {
		p := m.e.Path
		base := fmt.Sprintf("needs %s, which the runtime does not provide (it is not among %s's allowed libraries) and the artifact does not ship where the loader looks (its RPATH/RUNPATH, /var/task, /var/task/lib, /opt/lib)", m.lib, c.policy.Name)
		if !loaded[p] {
			optional := c.optionalModules(g, p, neededBy, loaded)
			mods := strings.Join(optional, ", ")
			how := "nothing imports it as the packages are imported (it loads on demand: an optional part)"
			if len(optional) > 1 {
				how = "nothing imports them as the packages are imported (they load on demand: optional parts)"
			}
			var guardedBy []string
			for _, o := range optional {
				if r, ok := g.reached[o]; ok && r.from != "" {
					guardedBy = append(guardedBy, r.from)
				}
			}
			if len(guardedBy) > 0 {
				how = fmt.Sprintf("the packages import it only where they catch its ImportError (%s)", strings.Join(guardedBy, ", "))
			}
			c.add(Warning, RuleMissingLibrary, p,
				fmt.Sprintf("needs %s, which neither the runtime nor the artifact provides; only %s needs it, and %s, so they import and run without it: only code that uses %s fails", m.lib, mods, how, strings.Join(optional, " or ")),
				fmt.Sprintf("nothing to do unless your code uses %s; then ship %s in %s, or pass the layer that ships it with --with", strings.Join(optional, " or "), m.lib, where))
			continue
		}
		why := ""
		if mod := g.byPath[p]; mod != nil {
			why = "; " + g.chain(mod.name)
		} else if len(neededBy[p]) == 0 && strings.Contains(path.Base(p), ".so") {
			why = "; nothing in the artifact links to it, so it is loaded directly"
			if g.ctypes[g.distOf(p)] {
				why += fmt.Sprintf(" (%s's import-time modules load libraries through ctypes)", g.distOf(p))
			}
		}
		c.add(Error, RuleMissingLibrary, p, base+why, c.missingFix(p, m.lib, where))
	}
}

// optionalModules names the extension modules that are not loaded at
// import and through which p is needed (p itself when it is one).
func (c *checker) optionalModules(g *importGraph, p string, neededBy map[string][]string, loaded map[string]bool) []string {
	var out []string
	seen := map[string]bool{}
	var walk func(string)
	walk = func(q string) {
		if seen[q] || len(seen) > 64 {
			return
		}
		seen[q] = true
		if m := g.byPath[q]; m != nil {
			out = append(out, m.name)
			return
		}
		for _, r := range neededBy[q] {
			if !loaded[r] {
				walk(r)
			}
		}
	}
	walk(p)
	sort.Strings(out)
	if len(out) == 0 {
		out = []string{p}
	}
	return out
}

// missingFix says what to do about a library a loaded binary needs: a
// manylinux wheel that leaves the library to the system cannot be fixed by
// installing that same wheel again.
func (c *checker) missingFix(p, lib, where string) string {
	ship := fmt.Sprintf("ship %s (built for %s, glibc %d.%d or older) in %s, or pass the layer that ships it with --with", lib, c.machine, c.t.GlibcMajor, c.t.GlibcMinor, where)
	d := c.owner[p]
	if d == nil {
		return ship
	}
	tags := c.wheelTags(d)
	for _, t := range tags {
		if strings.Contains(t, "manylinux") || strings.Contains(t, "musllinux") {
			return fmt.Sprintf("%s's wheel (tagged %s) leaves %s to the system and Lambda's runtime has none: %s", d.label(), t, lib, ship)
		}
	}
	if len(tags) > 0 {
		return fmt.Sprintf("%s was installed from a wheel tagged %s, not a manylinux wheel (which bundles its libraries): install the manylinux wheel (lambdapack layer/function choose it), or %s", d.label(), tags[0], ship)
	}
	return ship
}

// wheelTags returns the Tag lines of a distribution's WHEEL file.
func (c *checker) wheelTags(d *dist) []string {
	i, ok := c.files[d.dir+"/WHEEL"]
	if !ok {
		return nil
	}
	data, err := readSmall(c.entries[i], maxTextFile)
	if err != nil {
		return nil
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "Tag:"); ok {
			out = append(out, strings.TrimSpace(v))
		}
	}
	return out
}
