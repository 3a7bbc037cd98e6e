package slim

import (
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/lambdapack/lambdapack/internal/glob"
)

// compile compiles strip patterns: internal/glob's dialect, matching a
// run of whole path components anywhere in a path ("numpy/tests" matches
// python/numpy/tests and python/lib/python3.12/site-packages/numpy/tests).
func compile(patterns []string) ([]*glob.Pattern, error) {
	var out []*glob.Pattern
	for _, s := range patterns {
		p, err := glob.CompileAnywhere(s)
		if err != nil {
			return nil, fmt.Errorf("strip pattern: %w", err)
		}
		out = append(out, p)
	}
	return out, nil
}

// protected reports why a file must stay when a pattern matches it (not
// the folder around it): what imports and importlib.metadata need.
func protected(p string) string {
	base := path.Base(p)
	switch {
	case strings.Contains(p, ".dist-info/"):
		return "package metadata (importlib.metadata reads it)"
	case base == "__init__.py" || base == "__init__.pyc":
		return "a package's __init__ (imports need it)"
	case strings.HasSuffix(base, ".so") || strings.Contains(base, ".so.") || strings.HasSuffix(base, ".pyd"):
		return "a compiled extension or library (imports load it)"
	case strings.HasSuffix(base, ".pth"):
		return "a .pth file (site setup reads it)"
	}
	return ""
}

// StripPatterns removes the files the patterns match. A pattern matching a
// file itself never removes a package's __init__.py, a compiled extension
// or shared library, a .pth file or dist-info metadata (they are listed in
// Kept); a pattern matching a folder removes the whole folder.
func StripPatterns(files []File, patterns []string) (*Result, error) {
	pats, err := compile(patterns)
	if err != nil {
		return nil, err
	}
	res := &Result{}
	kept := map[string]string{}
	for _, f := range files {
		reason := ""
		for _, pt := range pats {
			m, ok := pt.MatchPrefix(f.Path)
			if !ok {
				continue
			}
			if m == f.Path {
				if why := protected(f.Path); why != "" {
					kept[f.Path] = fmt.Sprintf("matches %s but is %s", pt, why)
					continue
				}
				reason = "matches " + pt.String()
			} else {
				if strings.Contains(m, ".dist-info") {
					kept[f.Path] = fmt.Sprintf("matches %s but is %s", pt, protected(f.Path))
					continue
				}
				reason = fmt.Sprintf("in %s/ (matches %s)", m, pt)
			}
			break
		}
		if reason != "" {
			delete(kept, f.Path)
			res.Removed = append(res.Removed, Removed{Path: f.Path, Size: f.Size, Reason: reason})
			continue
		}
		res.Files = append(res.Files, f)
	}
	for _, p := range sortedKeys(kept) {
		res.Kept = append(res.Kept, Kept{Path: p, Reason: kept[p]})
	}
	return res, nil
}

// SlimPreset lists what --slim strips.
var SlimPreset = []string{"__pycache__", "*.pyi", "tests"}

// Slim applies the conservative --slim preset: __pycache__ folders (stale
// bytecode; --compile makes fresh bytecode after slimming), *.pyi stubs
// (type checkers only) and "tests" folders inside a package. A tests
// folder stays when it is a top-level package of its own (it could be
// imported as "tests") or when code of its top-level package outside it
// imports it (import pkg.tests..., from pkg.tests import ..., from .tests
// import ..., from . import tests, or names it in a string such as
// importlib.import_module("pkg.tests.util")) from a file that stays: an
// import in another tests folder that goes keeps nothing. Kept folders are
// listed with the reason. Protected files (see StripPatterns) always stay.
func Slim(files []File) (*Result, error) {
	roots := siteRoots(files)
	// Candidate tests folders.
	cands := map[string]bool{}
	for _, f := range files {
		comps := strings.Split(f.Path, "/")
		for i := 0; i < len(comps)-1; i++ {
			if comps[i] == "tests" {
				cands[strings.Join(comps[:i+1], "/")] = true
			}
		}
	}
	keepDirs := map[string]string{}
	// imported are the tests folders some code imports, with the files
	// that do.
	type importedDir struct {
		dir string
		by  []string
	}
	var imported []importedDir
	for _, dir := range sortedKeys(cands) {
		if strings.Contains(dir, ".dist-info") {
			continue
		}
		root, ok := rootOf(roots, dir)
		if !ok {
			keepDirs[dir] = "not under a site-packages folder"
			continue
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(dir, root), "/")
		if !strings.Contains(rel, "/") {
			keepDirs[dir] = "a top-level package (importable as \"tests\")"
			continue
		}
		by, err := referencers(files, root, rel)
		if err != nil {
			return nil, err
		}
		if len(by) > 0 {
			imported = append(imported, importedDir{dir, by})
		}
	}
	// An import keeps a tests folder only when the importing file stays:
	// numpy/matrixlib/tests imports numpy.linalg.tests, and both go. A
	// file stays unless the outermost tests folder holding it goes (that
	// is the folder the preset matches). Kept folders can keep others, so
	// repeat until nothing changes; folders that only import each other go.
	stays := func(p string) bool {
		comps := strings.Split(p, "/")
		for i := 0; i < len(comps)-1; i++ {
			if comps[i] != "tests" {
				continue
			}
			dir := strings.Join(comps[:i+1], "/")
			if strings.Contains(dir, ".dist-info") {
				return true
			}
			_, kept := keepDirs[dir]
			return kept
		}
		return true
	}
	for changed := true; changed; {
		changed = false
		for _, d := range imported {
			if _, ok := keepDirs[d.dir]; ok {
				continue
			}
			for _, p := range d.by {
				if stays(p) {
					keepDirs[d.dir] = "imported by " + p
					changed = true
					break
				}
			}
		}
	}
	pats, err := compile(SlimPreset)
	if err != nil {
		return nil, err
	}
	res := &Result{}
	kept := map[string]string{}
	for _, f := range files {
		reason := ""
		for _, pt := range pats {
			m, ok := pt.MatchPrefix(f.Path)
			if !ok {
				continue
			}
			if strings.Contains(m, ".dist-info") {
				continue
			}
			if pt.String() == "tests" {
				if m == f.Path {
					continue // a file named tests, not a folder
				}
				if why, ok := keepDirs[m]; ok {
					kept[m+"/"] = "tests folder kept: " + why
					continue
				}
				if _, inside := rootOf(roots, m); !inside {
					continue
				}
			}
			if m == f.Path {
				if why := protected(f.Path); why != "" {
					kept[f.Path] = fmt.Sprintf("matches %s but is %s", pt, why)
					continue
				}
				reason = "matches " + pt.String()
			} else {
				reason = fmt.Sprintf("in %s/ (--slim: %s)", m, pt)
			}
			break
		}
		if reason != "" {
			res.Removed = append(res.Removed, Removed{Path: f.Path, Size: f.Size, Reason: reason})
			continue
		}
		res.Files = append(res.Files, f)
	}
	for _, p := range sortedKeys(kept) {
		res.Kept = append(res.Kept, Kept{Path: p, Reason: kept[p]})
	}
	return res, nil
}

// siteRoots are the folders packages are imported from: the parents of
// dist-info folders, plus python/ and python/lib/python3.X/site-packages
// when files are there, plus the top level when .py files are there.
func siteRoots(files []File) []string {
	set := map[string]bool{}
	for _, f := range files {
		comps := strings.Split(f.Path, "/")
		for i, c := range comps[:len(comps)-1] {
			if strings.HasSuffix(c, ".dist-info") {
				set[strings.Join(comps[:i], "/")] = true
			}
		}
		if comps[0] == "python" && len(comps) > 1 {
			set["python"] = true
			if len(comps) > 4 && comps[1] == "lib" && strings.HasPrefix(comps[2], "python") && comps[3] == "site-packages" {
				set[strings.Join(comps[:4], "/")] = true
			}
		}
		if len(comps) == 1 && strings.HasSuffix(f.Path, ".py") {
			set[""] = true
		}
	}
	out := sortedKeys(set)
	// Longest first, so python/lib/.../site-packages wins over python.
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

func rootOf(roots []string, dir string) (string, bool) {
	for _, r := range roots {
		if r == "" || strings.HasPrefix(dir, r+"/") {
			return r, true
		}
	}
	return "", false
}

var importLine = regexp.MustCompile(`(?m)^[ \t]*(?:from[ \t]+([.\w]+)[ \t]+import[ \t]+\(?([^#\n]*)|import[ \t]+([^#\n]+))`)

// referencers returns the files (outside the tests folder rel, within the
// same top-level package) whose code imports the folder as a module.
func referencers(files []File, root, rel string) ([]string, error) {
	var out []string
	mod := strings.ReplaceAll(rel, "/", ".")
	parentMod := mod[:strings.LastIndex(mod, ".")]
	leaf := mod[len(parentMod)+1:]
	top, _, _ := strings.Cut(rel, "/")
	prefix := path.Join(root, top) + "/"
	inside := path.Join(root, rel) + "/"
	for _, f := range files {
		if !strings.HasPrefix(f.Path, prefix) || strings.HasPrefix(f.Path, inside) || !strings.HasSuffix(f.Path, ".py") {
			continue
		}
		data, err := readFile(f)
		if err != nil {
			return nil, fmt.Errorf("checking whether %s is imported: %w", rel, err)
		}
		text := string(data)
		if !strings.Contains(text, leaf) {
			continue
		}
		if strings.Contains(text, `"`+mod) || strings.Contains(text, `'`+mod) || importsModule(text, root, f.Path, mod, parentMod, leaf) {
			out = append(out, f.Path)
		}
	}
	return out, nil
}

// importsModule reports whether Python source text (of the file at p, under
// root) imports mod (parentMod.leaf) or something inside it.
func importsModule(text, root, p, mod, parentMod, leaf string) bool {
	fileRel := strings.TrimPrefix(strings.TrimPrefix(p, root), "/")
	pkg := strings.ReplaceAll(path.Dir(fileRel), "/", ".")
	for _, m := range importLine.FindAllStringSubmatch(text, -1) {
		if m[3] != "" {
			for _, item := range strings.Split(m[3], ",") {
				name := strings.Fields(item)
				if len(name) > 0 && under(name[0], mod) {
					return true
				}
			}
			continue
		}
		from := resolveRelative(m[1], pkg)
		if under(from, mod) {
			return true
		}
		if from == parentMod {
			for _, item := range strings.Split(strings.TrimRight(m[2], ")\\ \t"), ",") {
				name := strings.Fields(strings.Trim(item, "() \t"))
				if len(name) > 0 && name[0] == leaf {
					return true
				}
			}
		}
	}
	return false
}

func under(m, mod string) bool { return m == mod || strings.HasPrefix(m, mod+".") }

// resolveRelative turns "..sub" seen in package "a.b.c" into "a.b.sub".
func resolveRelative(from, pkg string) string {
	if !strings.HasPrefix(from, ".") {
		return from
	}
	dots := len(from) - len(strings.TrimLeft(from, "."))
	parts := strings.Split(pkg, ".")
	if dots-1 > len(parts) {
		return ""
	}
	base := strings.Join(parts[:len(parts)-(dots-1)], ".")
	rest := from[dots:]
	if rest == "" {
		return base
	}
	if base == "" {
		return rest
	}
	return base + "." + rest
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
