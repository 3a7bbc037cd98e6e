package tags

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// CPythonTags is the full best-first tag list of a (non-debug, GIL-enabled)
// CPython major.minor on the given platforms, as packaging's sys_tags yields
// it for CPython: cpython_tags (cpXY-cpXY-plat, cpXY-abi3-plat, cpXY-none-plat,
// then cp(XY-1)..cp32-abi3-plat; each group across all platforms in order)
// followed by compatible_tags (pyXY, py3, older py3x with -none-plat, then
// cpXY-none-any, pyXY-none-any, py3-none-any, older py3x-none-any).
func CPythonTags(major, minor int, platforms []string) []Tag {
	v := []int{major, minor}
	out := CPythonTagsFor(v, nil, platforms)
	return append(out, CompatibleTags(v, "cp"+versionNodot(v), platforms)...)
}

// versionNodot joins a version's parts without dots: (3, 11) -> "311".
func versionNodot(v []int) string {
	var b strings.Builder
	for _, n := range v {
		b.WriteString(strconv.Itoa(n))
	}
	return b.String()
}

// DefaultCPythonABIs is the ABI list of a release (non-debug, GIL-enabled)
// CPython build: "cpXY", or "cpXYm" before 3.8 (pymalloc). A major-only
// version has none.
func DefaultCPythonABIs(version []int) []string {
	if len(version) < 2 {
		return nil
	}
	abi := "cp" + versionNodot(version[:2])
	if less(version, []int{3, 8}) {
		abi += "m"
	}
	return []string{abi}
}

func less(a, b []int) bool { return slices.Compare(a, b) < 0 }

var threadedABI = regexp.MustCompile(`^cp[0-9]+(.*)`)

// CPythonTagsFor is packaging's cpython_tags with explicit arguments: abis nil
// means DefaultCPythonABIs(version); platforms are used as given (an empty
// list yields no tags). A free-threaded first ABI ("cp313t") switches abi3 to
// abi3t.
func CPythonTagsFor(version []int, abis []string, platforms []string) []Tag {
	if len(version) == 0 {
		return nil
	}
	interp := "cp" + versionNodot(version[:min(2, len(version))])
	if abis == nil {
		abis = DefaultCPythonABIs(version)
	}
	threading := false
	if len(abis) > 0 {
		if m := threadedABI.FindStringSubmatch(abis[0]); m != nil {
			threading = strings.Contains(m[1], "t")
		}
	}
	explicit := []string{"abi3", "none"}
	if threading {
		explicit = append(explicit, "abi3t")
	}
	var rest []string
	removed := map[string]bool{}
	for _, a := range abis {
		// Python's list.remove drops only the first occurrence of each.
		if slices.Contains(explicit, a) && !removed[a] {
			removed[a] = true
			continue
		}
		rest = append(rest, a)
	}
	var out []Tag
	for _, a := range rest {
		for _, p := range platforms {
			out = append(out, NewTag(interp, a, p))
		}
	}
	stable := len(version) > 1 && !less(version, []int{3, 2})
	useABI3, useABI3t := stable && !threading, stable && threading
	if useABI3 {
		for _, p := range platforms {
			out = append(out, NewTag(interp, "abi3", p))
		}
	}
	if useABI3t {
		for _, p := range platforms {
			out = append(out, NewTag(interp, "abi3t", p))
		}
	}
	for _, p := range platforms {
		out = append(out, NewTag(interp, "none", p))
	}
	if useABI3 || useABI3t {
		for m := version[1] - 1; m > 1; m-- {
			older := "cp" + versionNodot([]int{version[0], m})
			for _, p := range platforms {
				if useABI3 {
					out = append(out, NewTag(older, "abi3", p))
				}
				if useABI3t {
					out = append(out, NewTag(older, "abi3t", p))
				}
			}
		}
	}
	return out
}

// pyInterpreters yields pyXY, pyX, then pyX(Y-1) .. pyX0.
func pyInterpreters(version []int) []string {
	var out []string
	if len(version) > 1 {
		out = append(out, "py"+versionNodot(version[:2]))
	}
	out = append(out, "py"+strconv.Itoa(version[0]))
	if len(version) > 1 {
		for m := version[1] - 1; m >= 0; m-- {
			out = append(out, "py"+versionNodot([]int{version[0], m}))
		}
	}
	return out
}

// PurePythonTags is packaging's pure_python_tags: pyXY-none-any, py3-none-any,
// then older py3x-none-any. An empty version yields nothing.
func PurePythonTags(version []int) []Tag {
	if len(version) == 0 {
		return nil
	}
	var out []Tag
	for _, i := range pyInterpreters(version) {
		out = append(out, Tag{i, "none", "any"})
	}
	return out
}

// CompatibleTags is packaging's compatible_tags: py*-none-plat for every
// platform, then interpreter-none-any (when interpreter is not ""), then
// PurePythonTags.
func CompatibleTags(version []int, interpreter string, platforms []string) []Tag {
	if len(version) == 0 {
		return nil
	}
	var out []Tag
	for _, i := range pyInterpreters(version) {
		for _, p := range platforms {
			out = append(out, NewTag(i, "none", p))
		}
	}
	if interpreter != "" {
		out = append(out, NewTag(interpreter, "none", "any"))
	}
	return append(out, PurePythonTags(version)...)
}

// GenericTags is packaging's generic_tags with explicit arguments: every
// interpreter-abi-platform, with the "none" ABI added last when missing.
func GenericTags(interpreter string, abis, platforms []string) []Tag {
	if !slices.Contains(abis, "none") {
		abis = append(slices.Clip(abis), "none")
	}
	var out []Tag
	for _, a := range abis {
		for _, p := range platforms {
			out = append(out, NewTag(interpreter, a, p))
		}
	}
	return out
}
