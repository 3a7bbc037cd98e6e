package lock

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	toml "github.com/pelletier/go-toml/v2"

	"github.com/lambdapack/lambdapack/internal/names"
	"github.com/lambdapack/lambdapack/internal/target"
)

// uv.lock, as uv writes it (version 1): a universal lock whose packages are
// selected for one target by walking the dependency graph from the project's
// own entries, with every edge's marker evaluated for the target.

type uvLock struct {
	Version        int         `toml:"version"`
	RequiresPython string      `toml:"requires-python"`
	Packages       []uvPackage `toml:"package"`
}

type uvPackage struct {
	Name                 string             `toml:"name"`
	Version              string             `toml:"version"`
	Source               map[string]any     `toml:"source"`
	ResolutionMarkers    []string           `toml:"resolution-markers"`
	Dependencies         []uvDep            `toml:"dependencies"`
	OptionalDependencies map[string][]uvDep `toml:"optional-dependencies"`
	DevDependencies      map[string][]uvDep `toml:"dev-dependencies"`
	Sdist                *uvFile            `toml:"sdist"`
	Wheels               []uvFile           `toml:"wheels"`
	Metadata             map[string]any     `toml:"metadata"`
}

type uvDep struct {
	Name    string         `toml:"name"`
	Version string         `toml:"version"`
	Source  map[string]any `toml:"source"`
	Extra   []string       `toml:"extra"`
	Marker  string         `toml:"marker"`
}

type uvFile struct {
	URL        string `toml:"url"`
	Path       string `toml:"path"`
	Filename   string `toml:"filename"`
	Hash       string `toml:"hash"`
	Size       int64  `toml:"size"`
	UploadTime string `toml:"upload-time"`
}

func (f uvFile) file() File {
	out := File{URL: f.URL, Path: f.Path, Name: f.Filename, Size: f.Size}
	if alg, hex, ok := strings.Cut(f.Hash, ":"); ok {
		out.Hashes = map[string]string{strings.ToLower(alg): strings.ToLower(hex)}
	}
	if f.UploadTime != "" {
		if t, err := time.Parse(time.RFC3339, f.UploadTime); err == nil {
			out.UploadTime = t
		}
	}
	if out.Name == "" {
		out.Name = distName(out)
	}
	return out
}

// isMember reports whether a uv package is a project of the workspace (its
// source is the project itself, not a registry or a URL).
func (p uvPackage) isMember() bool {
	for _, k := range []string{"virtual", "editable"} {
		if _, ok := p.Source[k]; ok {
			return true
		}
	}
	return false
}

// SelectUVLock reads a uv.lock and returns what the project needs on t: the
// dependencies (and the given extras) of the workspace member at the lock's
// folder, or of every member when none is there, transitively.
func SelectUVLock(file string, t target.Target, extras []string) ([]Selected, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", file, err)
	}
	var l uvLock
	if err := toml.Unmarshal(data, &l); err != nil {
		return nil, fmt.Errorf("%s: not a uv.lock: %w", file, err)
	}
	if l.Version != 1 {
		return nil, fmt.Errorf("%s: uv.lock version %d is not supported (lambdapack reads version 1)", file, l.Version)
	}
	env := t.Environment()
	byName := map[string][]int{}
	for i, p := range l.Packages {
		n := names.Canonical(p.Name)
		byName[n] = append(byName[n], i)
	}
	var roots []int
	for i, p := range l.Packages {
		if p.isMember() {
			if p.Source["virtual"] == "." || p.Source["editable"] == "." {
				roots = []int{i}
				break
			}
			roots = append(roots, i)
		}
	}
	if len(roots) == 0 {
		return nil, fmt.Errorf("%s: no workspace project (a package with source virtual or editable) to start from", file)
	}
	// pick finds the package entry a dependency edge points at.
	pick := func(d uvDep) (int, error) {
		cands := byName[names.Canonical(d.Name)]
		if len(cands) == 1 {
			return cands[0], nil
		}
		var fit []int
		for _, c := range cands {
			p := l.Packages[c]
			if d.Version != "" && p.Version != d.Version {
				continue
			}
			if len(p.ResolutionMarkers) > 0 {
				ok := false
				for _, m := range p.ResolutionMarkers {
					if v, err := holds(env, m, ""); err == nil && v {
						ok = true
					}
				}
				if !ok {
					continue
				}
			}
			fit = append(fit, c)
		}
		if len(fit) == 1 {
			return fit[0], nil
		}
		if len(fit) == 0 {
			return -1, fmt.Errorf("%s: dependency %s (version %q) matches no package entry for %s", file, d.Name, d.Version, t)
		}
		return fit[0], nil
	}
	type node struct {
		i     int
		extra string
	}
	seen := map[node]bool{}
	installed := map[int]bool{}
	var queue []node
	for _, r := range roots {
		queue = append(queue, node{r, ""})
		for _, e := range extras {
			queue = append(queue, node{r, e})
		}
	}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		if seen[n] {
			continue
		}
		seen[n] = true
		p := l.Packages[n.i]
		deps := p.Dependencies
		if n.extra != "" {
			deps = p.OptionalDependencies[n.extra]
		}
		for _, d := range deps {
			ok, err := holds(env, d.Marker, n.extra)
			if err != nil {
				return nil, fmt.Errorf("%s: %s -> %s: marker: %w", file, p.Name, d.Name, err)
			}
			if !ok {
				continue
			}
			j, err := pick(d)
			if err != nil {
				return nil, err
			}
			if !l.Packages[j].isMember() {
				installed[j] = true
			}
			queue = append(queue, node{j, ""})
			for _, e := range d.Extra {
				queue = append(queue, node{j, e})
			}
		}
	}
	var out []Selected
	seenName := map[string]string{}
	idx := make([]int, 0, len(installed))
	for i := range installed {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	for _, i := range idx {
		p := l.Packages[i]
		name := names.Canonical(p.Name)
		if v, dup := seenName[name]; dup {
			return nil, fmt.Errorf("%s: two versions of %s (%s and %s) are both needed on %s", file, name, v, p.Version, t)
		}
		seenName[name] = p.Version
		var files []File
		for _, w := range p.Wheels {
			files = append(files, w.file())
		}
		w, ok := BestWheel(files, t)
		if !ok {
			return nil, &NoWheelError{Lock: file, Name: name, Version: p.Version, Target: t, Have: wheelTags(files)}
		}
		out = append(out, Selected{Name: name, Version: p.Version, Wheel: w, Dir: filepath.Dir(file)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

var errNotLock = errors.New("not a lock file lambdapack reads")
