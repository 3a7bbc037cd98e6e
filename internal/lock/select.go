package lock

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/lambdapack/lambdapack/internal/names"
	"github.com/lambdapack/lambdapack/internal/pep440"
	"github.com/lambdapack/lambdapack/internal/pep508"
	"github.com/lambdapack/lambdapack/internal/tags"
	"github.com/lambdapack/lambdapack/internal/target"
)

// Selected is one distribution a lock says to install on a target, with the
// wheel chosen for it.
type Selected struct {
	Name    string // canonical
	Version string
	// Wheel is the chosen file. Its URL (or Path, relative to Dir) says
	// where it is; a lock that records only file names (poetry.lock) leaves
	// both empty for the caller to find the file on an index by name.
	Wheel File
	// ByHash, when Wheel is zero, lists the sha256 hashes of acceptable
	// files (Pipfile.lock, hashed requirements): the caller finds the
	// project's files on an index and keeps the best wheel among them.
	ByHash []string
	// Dir is the folder of the lock file (for relative Paths).
	Dir string
	// Sdist says Wheel is the package's sdist: the lock has no wheel the
	// target accepts, and the caller builds it (pylock.toml only).
	Sdist bool
}

// NoWheelError is a locked package with no file the target can install.
type NoWheelError struct {
	Lock    string
	Name    string
	Version string
	Target  target.Target
	Have    []string // tags (or file names) the lock records
}

func (e *NoWheelError) Error() string {
	have := "no wheels and no source distribution"
	if len(e.Have) > 0 {
		have = "wheels for " + strings.Join(e.Have, ", ")
	}
	return fmt.Sprintf("%s: %s %s has no wheel for %s: the lock records %s; re-lock for this target (lambdapack lock --runtime %s --arch %s) or pick a version that ships a wheel for it",
		e.Lock, e.Name, e.Version, e.Target, have, orDefault(e.Target.Runtime, "python"+e.Target.Python()), e.Target.Arch)
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// BestWheel returns the wheel among files that ranks best for t.
func BestWheel(files []File, t target.Target) (File, bool) {
	best, bestRank, found := File{}, 0, false
	for _, f := range files {
		name := distName(f)
		if !strings.HasSuffix(name, ".whl") {
			continue
		}
		wf, err := tags.ParseWheelFilename(name)
		if err != nil {
			continue
		}
		if r, ok := t.WheelRank(wf); ok && (!found || r < bestRank) {
			best, bestRank, found = f, r, true
		}
	}
	if found && best.Name == "" {
		best.Name = distName(best)
	}
	return best, found
}

// wheelTags summarises the platforms of a package's wheels for an error.
func wheelTags(files []File) []string {
	seen := map[string]bool{}
	var out []string
	for _, f := range files {
		wf, err := tags.ParseWheelFilename(distName(f))
		if err != nil {
			continue
		}
		for _, tg := range wf.Tags {
			s := tg.Interpreter + "-" + tg.Platform
			if !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	sort.Strings(out)
	if len(out) > 8 {
		out = append(out[:8], fmt.Sprintf("and %d more", len(out)-8))
	}
	return out
}

// Select returns what a pylock.toml says to install on t: packages whose
// marker holds and whose requires-python admits the target's Python, each
// with its best wheel. file names the lock in errors.
func (l *Lock) Select(t target.Target, file string) ([]Selected, error) {
	env := t.Environment()
	py, err := pep440.Parse(t.PythonFull)
	if err != nil {
		return nil, err
	}
	if l.RequiresPython != "" {
		ss, err := pep440.ParseSpecifierSet(l.RequiresPython)
		if err == nil && !ss.Contains(py, pep440.PrereleaseAllow) {
			return nil, fmt.Errorf("%s: the lock requires Python %s, but %s has Python %s: re-lock for this runtime", file, l.RequiresPython, t, t.PythonFull)
		}
	}
	if len(l.Environments) > 0 {
		ok := false
		for _, e := range l.Environments {
			m, err := pep508.ParseMarker(e)
			if err != nil {
				return nil, fmt.Errorf("%s: environments: %w", file, err)
			}
			if m.Evaluate(env) {
				ok = true
				break
			}
		}
		if !ok {
			return nil, fmt.Errorf("%s: none of the lock's environments (%s) holds for %s: re-lock for this target", file, strings.Join(l.Environments, " | "), t)
		}
	}
	var out []Selected
	seen := map[string]string{}
	for _, p := range l.Packages {
		if p.Marker != "" {
			m, err := pep508.ParseMarker(p.Marker)
			if err != nil {
				return nil, fmt.Errorf("%s: package %s: marker: %w", file, p.Name, err)
			}
			if !m.Evaluate(env) {
				continue
			}
		}
		if p.RequiresPython != "" {
			ss, err := pep440.ParseSpecifierSet(p.RequiresPython)
			if err == nil && !ss.Contains(py, pep440.PrereleaseAllow) {
				return nil, fmt.Errorf("%s: package %s %s requires Python %s, but %s has %s", file, p.Name, p.Version, p.RequiresPython, t, t.PythonFull)
			}
		}
		name := names.Canonical(p.Name)
		if v, dup := seen[name]; dup {
			return nil, fmt.Errorf("%s: package %s is selected twice (%s and %s): give the entries markers that exclude each other", file, name, v, p.Version)
		}
		seen[name] = p.Version
		if p.Directory != nil || p.VCS != nil || p.Archive != nil {
			return nil, fmt.Errorf("%s: package %s comes from a directory, VCS or archive, which lambdapack does not build: lock a wheel for it instead", file, name)
		}
		w, ok := BestWheel(p.Wheels, t)
		if !ok && p.Sdist != nil {
			sd := *p.Sdist
			if sd.Name == "" {
				sd.Name = distName(sd)
			}
			out = append(out, Selected{Name: name, Version: p.Version, Wheel: sd, Dir: filepath.Dir(file), Sdist: true})
			continue
		}
		if !ok {
			return nil, &NoWheelError{Lock: file, Name: name, Version: p.Version, Target: t, Have: wheelTags(p.Wheels)}
		}
		out = append(out, Selected{Name: name, Version: p.Version, Wheel: w, Dir: filepath.Dir(file)})
	}
	return out, nil
}

// holds evaluates a marker for env, with the "extra" variable set to extra
// when it is not empty. An empty marker always holds.
func holds(env pep508.Environment, marker, extra string) (bool, error) {
	if marker == "" {
		return true, nil
	}
	m, err := pep508.ParseMarker(marker)
	if err != nil {
		return false, err
	}
	if extra != "" {
		e := make(pep508.Environment, len(env)+1)
		for k, v := range env {
			e[k] = v
		}
		e["extra"] = extra
		env = e
	}
	return m.Evaluate(env), nil
}
