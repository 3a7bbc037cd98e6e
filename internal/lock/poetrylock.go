package lock

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	toml "github.com/pelletier/go-toml/v2"

	"github.com/lambdapack/lambdapack/internal/names"
	"github.com/lambdapack/lambdapack/internal/pep508"
	"github.com/lambdapack/lambdapack/internal/target"
)

// poetry.lock (lock-version 1.x and 2.x). Files are recorded by name and
// hash only: Selected.Wheel carries the name and hash, and the caller finds
// the URL on the index.

type poetryLock struct {
	Packages []poetryPackage `toml:"package"`
	Metadata map[string]any  `toml:"metadata"`
}

type poetryPackage struct {
	Name         string              `toml:"name"`
	Version      string              `toml:"version"`
	Optional     bool                `toml:"optional"`
	Category     string              `toml:"category"`
	Groups       []string            `toml:"groups"`
	Markers      any                 `toml:"markers"`
	Files        []poetryFile        `toml:"files"`
	Dependencies map[string]any      `toml:"dependencies"`
	Extras       map[string][]string `toml:"extras"`
	Source       map[string]any      `toml:"source"`
}

type poetryFile struct {
	File string `toml:"file"`
	Hash string `toml:"hash"`
}

// poetryEdge is one dependency constraint: a marker and extras.
type poetryEdge struct {
	Name   string
	Marker string
	Extras []string
	Opt    bool
}

func poetryEdges(name string, v any) []poetryEdge {
	switch v := v.(type) {
	case string:
		return []poetryEdge{{Name: name}}
	case map[string]any:
		e := poetryEdge{Name: name}
		if m, ok := v["markers"].(string); ok {
			e.Marker = m
		}
		if o, ok := v["optional"].(bool); ok {
			e.Opt = o
		}
		if xs, ok := v["extras"].([]any); ok {
			for _, x := range xs {
				if s, ok := x.(string); ok {
					e.Extras = append(e.Extras, s)
				}
			}
		}
		return []poetryEdge{e}
	case []any:
		var out []poetryEdge
		for _, x := range v {
			out = append(out, poetryEdges(name, x)...)
		}
		return out
	}
	return []poetryEdge{{Name: name}}
}

// SelectPoetryLock reads a poetry.lock and returns what the project needs on
// t. The roots are the main dependencies in the pyproject.toml beside the lock
// ([tool.poetry.dependencies] or [project] dependencies, with extras); the
// graph is walked with each edge's markers evaluated for t. Without a
// pyproject.toml, every package of the main group whose markers hold is
// taken.
func SelectPoetryLock(file string, t target.Target, extras []string) ([]Selected, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", file, err)
	}
	var l poetryLock
	if err := toml.Unmarshal(data, &l); err != nil {
		return nil, fmt.Errorf("%s: not a poetry.lock: %w", file, err)
	}
	env := t.Environment()
	byName := map[string]int{}
	for i, p := range l.Packages {
		byName[names.Canonical(p.Name)] = i
	}
	roots, err := poetryRoots(filepath.Join(filepath.Dir(file), "pyproject.toml"), extras)
	if err != nil {
		return nil, err
	}
	chosen := map[int]bool{}
	if roots == nil {
		for i, p := range l.Packages {
			main := p.Category == "main" || slices.Contains(p.Groups, "main") || (p.Category == "" && len(p.Groups) == 0)
			if !main || p.Optional {
				continue
			}
			m, _ := p.Markers.(string)
			if mm, ok := p.Markers.(map[string]any); ok {
				m, _ = mm["main"].(string)
			}
			ok, err := holds(env, m, "")
			if err != nil {
				return nil, fmt.Errorf("%s: package %s: markers: %w", file, p.Name, err)
			}
			if ok {
				chosen[i] = true
			}
		}
	} else {
		type node struct {
			name   string
			extras []string
		}
		queue := []node{}
		for _, r := range roots {
			ok, err := holds(env, r.Marker, "")
			if err != nil {
				return nil, fmt.Errorf("pyproject.toml: dependency %s: markers: %w", r.Name, err)
			}
			if ok {
				queue = append(queue, node{r.Name, r.Extras})
			}
		}
		seen := map[string]bool{}
		for len(queue) > 0 {
			n := queue[0]
			queue = queue[1:]
			key := names.Canonical(n.name) + "[" + strings.Join(n.extras, ",") + "]"
			if seen[key] {
				continue
			}
			seen[key] = true
			i, ok := byName[names.Canonical(n.name)]
			if !ok {
				return nil, fmt.Errorf("%s: %s is required but not locked: run poetry lock again", file, n.name)
			}
			chosen[i] = true
			p := l.Packages[i]
			for _, dn := range sortedStrKeys(p.Dependencies) {
				for _, e := range poetryEdges(dn, p.Dependencies[dn]) {
					if e.Opt {
						// Optional dependencies come in through extras below.
						continue
					}
					ok, err := holds(env, e.Marker, "")
					if err != nil {
						return nil, fmt.Errorf("%s: %s -> %s: markers: %w", file, p.Name, dn, err)
					}
					if ok {
						queue = append(queue, node{e.Name, e.Extras})
					}
				}
			}
			for _, x := range n.extras {
				for _, req := range p.Extras[x] {
					name := strings.TrimSpace(strings.FieldsFunc(req, func(r rune) bool {
						return r == ' ' || r == '(' || r == '[' || r == ';' || r == '<' || r == '>' || r == '=' || r == '!' || r == '~'
					})[0])
					queue = append(queue, node{name, nil})
				}
			}
		}
	}
	var out []Selected
	idx := make([]int, 0, len(chosen))
	for i := range chosen {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	// A package from a source lambdapack does not build is the cause to
	// name, whatever else the lock lacks.
	for _, i := range idx {
		p := l.Packages[i]
		if typ, _ := p.Source["type"].(string); typ == "directory" || typ == "git" || typ == "file" || typ == "url" {
			return nil, fmt.Errorf("%s: package %s comes from a %s source, which lambdapack does not build: depend on a published wheel instead", file, names.Canonical(p.Name), typ)
		}
	}
	oldFiles, oldHashes := poetryMetadataFiles(l.Metadata)
	for _, i := range idx {
		p := l.Packages[i]
		name := names.Canonical(p.Name)
		pfiles := p.Files
		if len(pfiles) == 0 {
			// lock-version 1.x (Poetry 1.1 to 1.4) lists the files under
			// [metadata.files]; Poetry 1.0 and older only their hashes
			// under [metadata.hashes], which are found on the index like
			// a Pipfile.lock's.
			pfiles = oldFiles[name]
			if len(pfiles) == 0 && len(oldHashes[name]) > 0 {
				out = append(out, Selected{Name: name, Version: p.Version, ByHash: oldHashes[name], Dir: filepath.Dir(file)})
				continue
			}
		}
		var files []File
		for _, f := range pfiles {
			ff := File{Name: f.File}
			if alg, hex, ok := strings.Cut(f.Hash, ":"); ok {
				ff.Hashes = map[string]string{strings.ToLower(alg): strings.ToLower(hex)}
			}
			files = append(files, ff)
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

// poetryMetadataFiles reads the file lists of an older poetry.lock, by
// canonical package name: [metadata.files] (lock-version 1.x: file names and
// hashes) and [metadata.hashes] (Poetry 1.0 and older: sha256 hashes only).
func poetryMetadataFiles(meta map[string]any) (map[string][]poetryFile, map[string][]string) {
	files := map[string][]poetryFile{}
	hashes := map[string][]string{}
	if m, ok := meta["files"].(map[string]any); ok {
		for n, v := range m {
			list, _ := v.([]any)
			for _, x := range list {
				e, _ := x.(map[string]any)
				f, _ := e["file"].(string)
				h, _ := e["hash"].(string)
				if f != "" {
					files[names.Canonical(n)] = append(files[names.Canonical(n)], poetryFile{File: f, Hash: h})
				}
			}
		}
	}
	if m, ok := meta["hashes"].(map[string]any); ok {
		for n, v := range m {
			list, _ := v.([]any)
			for _, x := range list {
				h, _ := x.(string)
				if _, hex, ok := strings.Cut(h, ":"); ok {
					h = hex
				}
				if h != "" {
					hashes[names.Canonical(n)] = append(hashes[names.Canonical(n)], strings.ToLower(h))
				}
			}
		}
	}
	return files, hashes
}

// poetryRoots reads the main dependencies of a pyproject.toml; nil (no error)
// when the file does not exist.
func poetryRoots(pyproject string, extras []string) ([]poetryEdge, error) {
	data, err := os.ReadFile(pyproject)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var doc struct {
		Project struct {
			Dependencies         []string            `toml:"dependencies"`
			OptionalDependencies map[string][]string `toml:"optional-dependencies"`
		} `toml:"project"`
		Tool struct {
			Poetry struct {
				Dependencies map[string]any      `toml:"dependencies"`
				Extras       map[string][]string `toml:"extras"`
			} `toml:"poetry"`
		} `toml:"tool"`
	}
	if err := toml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", pyproject, err)
	}
	roots := []poetryEdge{}
	for _, s := range doc.Project.Dependencies {
		r, err := pep508.ParseRequirement(s)
		if err != nil {
			return nil, fmt.Errorf("%s: [project] dependencies: %w", pyproject, err)
		}
		e := poetryEdge{Name: r.Name, Extras: r.Extras}
		if r.Marker != nil {
			e.Marker = r.Marker.String()
		}
		roots = append(roots, e)
	}
	for _, x := range extras {
		for _, s := range doc.Project.OptionalDependencies[x] {
			if r, err := pep508.ParseRequirement(s); err == nil {
				roots = append(roots, poetryEdge{Name: r.Name, Extras: r.Extras})
			}
		}
		for _, n := range doc.Tool.Poetry.Extras[x] {
			roots = append(roots, poetryEdge{Name: n})
		}
	}
	for _, n := range sortedStrKeys(doc.Tool.Poetry.Dependencies) {
		if strings.EqualFold(n, "python") {
			continue
		}
		for _, e := range poetryEdges(n, doc.Tool.Poetry.Dependencies[n]) {
			if !e.Opt {
				roots = append(roots, e)
			}
		}
	}
	return roots, nil
}

// SelectPipfileLock reads a Pipfile.lock and returns its "default" packages
// whose markers hold on t. Pipfile.lock records only versions and hashes:
// each Selected has ByHash set for the caller to find the wheel on an index.
func SelectPipfileLock(file string, t target.Target) ([]Selected, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", file, err)
	}
	var doc struct {
		Default map[string]struct {
			Version string   `json:"version"`
			Hashes  []string `json:"hashes"`
			Markers string   `json:"markers"`
			Git     string   `json:"git"`
			Path    string   `json:"path"`
			File    string   `json:"file"`
		} `json:"default"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: not a Pipfile.lock: %w", file, err)
	}
	env := t.Environment()
	var out []Selected
	for _, n := range sortedStrKeys(doc.Default) {
		p := doc.Default[n]
		if p.Git != "" || p.Path != "" || p.File != "" {
			return nil, fmt.Errorf("%s: package %s comes from git, a path or a file, which lambdapack does not build", file, n)
		}
		if p.Markers != "" {
			m, err := pep508.ParseMarker(p.Markers)
			if err != nil {
				return nil, fmt.Errorf("%s: package %s: markers: %w", file, n, err)
			}
			if !m.Evaluate(env) {
				continue
			}
		}
		ver := strings.TrimPrefix(p.Version, "==")
		if ver == "" || strings.ContainsAny(ver, "<>=!~*") {
			return nil, fmt.Errorf("%s: package %s is not pinned to one version (%q)", file, n, p.Version)
		}
		if len(p.Hashes) == 0 {
			return nil, fmt.Errorf("%s: package %s has no hashes: run pipenv lock again", file, n)
		}
		var hs []string
		for _, h := range p.Hashes {
			if alg, hex, ok := strings.Cut(h, ":"); ok && strings.EqualFold(alg, "sha256") {
				hs = append(hs, strings.ToLower(hex))
			}
		}
		out = append(out, Selected{Name: names.Canonical(n), Version: ver, ByHash: hs, Dir: filepath.Dir(file)})
	}
	return out, nil
}

// SelectFile reads any lock lambdapack knows, by its file name: pylock.toml
// (and pylock.NAME.toml), uv.lock, poetry.lock, Pipfile.lock.
func SelectFile(file string, t target.Target, extras []string) ([]Selected, error) {
	base := filepath.Base(file)
	switch {
	case PylockFileName(base) || strings.HasSuffix(base, ".toml") && strings.HasPrefix(base, "pylock"):
		l, err := ReadPylockFile(file)
		if err != nil {
			return nil, err
		}
		return l.Select(t, file)
	case base == "uv.lock":
		return SelectUVLock(file, t, extras)
	case base == "poetry.lock":
		return SelectPoetryLock(file, t, extras)
	case base == "Pipfile.lock":
		return SelectPipfileLock(file, t)
	case strings.HasSuffix(base, ".toml") && isPylock(file):
		// A PEP 751 lock under another name (lambdapack lock -o x.toml).
		l, err := ReadPylockFile(file)
		if err != nil {
			return nil, err
		}
		return l.Select(t, file)
	}
	return nil, fmt.Errorf("%s: %w: use pylock.toml, uv.lock, poetry.lock or Pipfile.lock (or a hashed requirements file with -r)", file, errNotLock)
}

func sortedStrKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// isPylock reports whether a TOML file has PEP 751's top-level lock-version.
func isPylock(file string) bool {
	data, err := os.ReadFile(file)
	if err != nil {
		return false
	}
	var doc struct {
		LockVersion string `toml:"lock-version"`
	}
	return toml.Unmarshal(data, &doc) == nil && doc.LockVersion != ""
}
