package project

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	toml "github.com/pelletier/go-toml/v2"

	"github.com/lambdapack/lambdapack/internal/pep508"
)

// depRules says how a folder's dependency declarations are read.
type depRules struct {
	// fileName is the requirements file's name (serverless-python-
	// requirements' fileName; "requirements.txt" by default). explicit
	// says the config named it, so its absence is an error.
	fileName string
	explicit bool
	fileKey  string // the config's name for it, for messages
	// sls: serverless-python-requirements' order: a Poetry project
	// (usePoetry), then a Pipfile (usePipenv), then the requirements file.
	// Otherwise (SAM) the requirements file comes first.
	sls                  bool
	usePoetry, usePipenv bool
	pos                  Pos
}

// discoverDeps reads what the folder dir (slash, relative to c.Dir)
// declares. A lockfile beside a pyproject.toml or Pipfile wins over the
// declarations it locks; declarations without a lock are read, never
// dropped: [project] dependencies, [tool.poetry.dependencies] (caret and
// tilde converted to PEP 440) and a Pipfile's [packages].
func (c *Config) discoverDeps(dir string, r depRules) (Deps, error) {
	abs := func(name string) string { return filepath.Join(c.Dir, filepath.FromSlash(dir), name) }
	rel := func(name string) string { return slashJoin(dir, name) }
	exists := func(name string) bool {
		st, err := os.Stat(abs(name))
		return err == nil && st.Mode().IsRegular()
	}
	if r.fileName == "" {
		r.fileName = "requirements.txt"
	}
	reqFile := func() (Deps, bool) {
		if exists(r.fileName) {
			return Deps{Requirements: rel(r.fileName), From: rel(r.fileName), Pos: r.pos}, true
		}
		return Deps{}, false
	}
	var py *pyproject
	if exists("pyproject.toml") {
		var err error
		if py, err = readPyproject(abs("pyproject.toml"), rel("pyproject.toml")); err != nil {
			return Deps{}, err
		}
	}
	poetry := func() (Deps, bool, error) {
		if py == nil || !py.isPoetry() {
			return Deps{}, false, nil
		}
		if exists("poetry.lock") {
			return Deps{Lock: rel("poetry.lock"), From: rel("poetry.lock"), Pos: r.pos}, true, nil
		}
		d, err := py.deps(true)
		return d, err == nil && !d.Empty(), err
	}
	pipenv := func() (Deps, bool, error) {
		if !exists("Pipfile") {
			return Deps{}, false, nil
		}
		if exists("Pipfile.lock") {
			return Deps{Lock: rel("Pipfile.lock"), From: rel("Pipfile.lock"), Pos: r.pos}, true, nil
		}
		d, err := readPipfile(abs("Pipfile"), rel("Pipfile"))
		return d, err == nil, err
	}
	pep621 := func() (Deps, bool, error) {
		if py == nil || len(py.Project.Dependencies) == 0 {
			return Deps{}, false, nil
		}
		for _, l := range []string{"pylock.toml", "uv.lock"} {
			if exists(l) {
				return Deps{Lock: rel(l), From: rel(l), Pos: r.pos}, true, nil
			}
		}
		d, err := py.deps(false)
		return d, err == nil, err
	}
	var order []func() (Deps, bool, error)
	req := func() (Deps, bool, error) { d, ok := reqFile(); return d, ok, nil }
	if r.sls {
		if r.usePoetry {
			order = append(order, poetry)
		}
		if r.usePipenv {
			order = append(order, pipenv)
		}
		order = append(order, req, pep621)
	} else {
		order = append(order, req, poetry, pep621, pipenv)
	}
	for _, step := range order {
		d, ok, err := step()
		if err != nil {
			return Deps{}, err
		}
		if ok {
			if !r.sls && d.Requirements == "" {
				c.note(r.pos, LevelNote, "%s declares the dependencies of %s (sam build reads only requirements.txt and would build without them): lambdapack builds them", d.From, dirLabel(dir))
			}
			return d, nil
		}
	}
	if r.explicit {
		return Deps{}, errorf(r.pos, "create it, or remove "+r.fileKey+" to build without dependencies",
			"%s names %s, which does not exist in %s", r.fileKey, r.fileName, dirLabel(dir))
	}
	return Deps{}, nil
}

func dirLabel(dir string) string {
	if dir == "" || dir == "." {
		return "the project folder"
	}
	return dir + "/"
}

func slashJoin(dir, name string) string {
	if dir == "" || dir == "." {
		return name
	}
	return strings.TrimSuffix(dir, "/") + "/" + name
}

// pyproject is the part of a pyproject.toml that declares dependencies.
type pyproject struct {
	file, rel string
	lines     tomlLines
	Project   struct {
		Dependencies []string `toml:"dependencies"`
	} `toml:"project"`
	BuildSystem struct {
		Requires []string `toml:"requires"`
	} `toml:"build-system"`
	Tool struct {
		Poetry *struct {
			Dependencies map[string]any `toml:"dependencies"`
		} `toml:"poetry"`
	} `toml:"tool"`
}

func readPyproject(file, rel string) (*pyproject, error) {
	data, err := readConfigFile(file)
	if err != nil {
		return nil, err
	}
	p := &pyproject{file: file, rel: rel, lines: indexTOMLLines(data)}
	if err := decodeTOML(file, data, p); err != nil {
		return nil, err
	}
	return p, nil
}

func decodeTOML(file string, data []byte, v any) error {
	if err := toml.NewDecoder(bytes.NewReader(data)).Decode(v); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, col := de.Position()
			return &Error{Pos: Pos{File: file, Line: row}, Msg: fmt.Sprintf("TOML syntax error at column %d: %s", col, de.Error()), Hint: "fix the TOML syntax"}
		}
		return fmt.Errorf("reading %s: %w", file, err)
	}
	return nil
}

// isPoetry reports whether the project is built with Poetry, as
// serverless-python-requirements decides it (build-system requires
// poetry), or declares [tool.poetry.dependencies].
func (p *pyproject) isPoetry() bool {
	for _, r := range p.BuildSystem.Requires {
		if strings.HasPrefix(strings.TrimSpace(r), "poetry") {
			return true
		}
	}
	return p.Tool.Poetry != nil && len(p.Tool.Poetry.Dependencies) > 0
}

// deps returns the project's main dependencies: [project] dependencies
// when present (PEP 621, Poetry 2), else [tool.poetry.dependencies]
// converted (when poetry is true).
func (p *pyproject) deps(poetry bool) (Deps, error) {
	if len(p.Project.Dependencies) > 0 {
		d := Deps{From: p.rel + " [project] dependencies", Pos: Pos{File: p.file, Line: p.lines.line("project.dependencies")}}
		for _, s := range p.Project.Dependencies {
			if _, err := pep508.ParseRequirement(s); err != nil {
				return Deps{}, errorf(d.Pos, "write a PEP 508 requirement", "%s: %q: %v", d.From, s, err)
			}
			d.Inline = append(d.Inline, s)
		}
		return d, nil
	}
	if !poetry || p.Tool.Poetry == nil {
		return Deps{}, nil
	}
	d := Deps{From: p.rel + " [tool.poetry.dependencies]", Pos: Pos{File: p.file, Line: p.lines.line("tool.poetry.dependencies")}}
	for _, name := range sortedKeys(p.Tool.Poetry.Dependencies) {
		if strings.EqualFold(name, "python") {
			continue
		}
		pos := Pos{File: p.file, Line: p.lines.line("tool.poetry.dependencies." + name)}
		reqs, err := poetryRequirement(name, p.Tool.Poetry.Dependencies[name])
		if err != nil {
			return Deps{}, errorf(pos, "", "%s: %v", d.From, err)
		}
		d.Inline = append(d.Inline, reqs...)
	}
	return d, nil
}

// poetryRequirement converts one [tool.poetry.dependencies] entry to PEP 508
// requirement strings (one per constraint of a multiple-constraints list;
// none for an optional dependency, which only an extra brings in).
func poetryRequirement(name string, v any) ([]string, error) {
	switch v := v.(type) {
	case string:
		spec, err := PoetryConstraint(v)
		if err != nil {
			return nil, fmt.Errorf("%s = %q: %w", name, v, err)
		}
		return checkedReq(name+spec, name)
	case map[string]any:
		if b, _ := v["optional"].(bool); b {
			return nil, nil
		}
		return poetryTable(name, v)
	case []any:
		var out []string
		for _, e := range v {
			t, ok := e.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%s: each entry of a multiple-constraints list must be a table", name)
			}
			if b, _ := t["optional"].(bool); b {
				continue
			}
			r, err := poetryTable(name, t)
			if err != nil {
				return nil, err
			}
			out = append(out, r...)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%s: unsupported value %v", name, v)
}

func poetryTable(name string, t map[string]any) ([]string, error) {
	head := name
	if ex := stringList(t["extras"]); len(ex) > 0 {
		head += "[" + strings.Join(ex, ",") + "]"
	}
	var markers []string
	if s, ok := t["python"].(string); ok && s != "" {
		m, err := pythonMarker(s)
		if err != nil {
			return nil, fmt.Errorf("%s: python = %q: %w", name, s, err)
		}
		if m != "" {
			markers = append(markers, m)
		}
	}
	if s, ok := t["platform"].(string); ok && s != "" {
		markers = append(markers, fmt.Sprintf("sys_platform == %q", s))
	}
	if s, ok := t["markers"].(string); ok && s != "" {
		markers = append(markers, "("+s+")")
	}
	body := head
	switch {
	case t["git"] != nil:
		u, _ := t["git"].(string)
		ref := firstString(t["rev"], t["tag"], t["branch"])
		if ref != "" {
			u += "@" + ref
		}
		body = head + " @ git+" + strings.TrimPrefix(u, "git+")
	case t["url"] != nil:
		u, _ := t["url"].(string)
		body = head + " @ " + u
	case t["path"] != nil:
		return nil, fmt.Errorf("%s is a path dependency (%v): build it into a wheel and list it in a requirements file with --find-links, or publish it to your index", name, t["path"])
	default:
		v, _ := t["version"].(string)
		spec, err := PoetryConstraint(v)
		if err != nil {
			return nil, fmt.Errorf("%s: version = %q: %w", name, v, err)
		}
		body = head + spec
	}
	if len(markers) > 0 {
		body += " ; " + strings.Join(markers, " and ")
	}
	return checkedReq(body, name)
}

func checkedReq(s, name string) ([]string, error) {
	if _, err := pep508.ParseRequirement(s); err != nil {
		return nil, fmt.Errorf("%s converts to %q, which is not a valid requirement: %v", name, s, err)
	}
	return []string{s}, nil
}

func firstString(vs ...any) string {
	for _, v := range vs {
		if s, ok := v.(string); ok && s != "" {
			return s
		}
	}
	return ""
}

func stringList(v any) []string {
	var out []string
	switch v := v.(type) {
	case string:
		out = append(out, v)
	case []any:
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

// PoetryConstraint converts a Poetry version constraint to a PEP 440
// specifier set: "^1.2.3" is ">=1.2.3,<2.0.0", "~1.2" is ">=1.2,<1.3",
// "1.2.3" is "==1.2.3", "*" is no constraint; comma- or space-separated
// parts are all required. "||" (either of two ranges) has no PEP 440
// spelling and is an error.
func PoetryConstraint(s string) (string, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "||") || strings.Contains(s, "|") {
		return "", fmt.Errorf("%q allows either of several ranges, which a PEP 440 specifier cannot say: write one range", s)
	}
	var parts []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' }) {
		// ">=1.2 <2.0": spaces separate constraints, but not an operator
		// from its version (">= 1.2").
		fs := strings.Fields(f)
		for i := 0; i < len(fs); i++ {
			tok := fs[i]
			if isOperator(tok) && i+1 < len(fs) {
				tok += fs[i+1]
				i++
			}
			parts = append(parts, tok)
		}
	}
	var out []string
	for _, p := range parts {
		c, err := poetryAtom(p)
		if err != nil {
			return "", err
		}
		out = append(out, c...)
	}
	return strings.Join(out, ","), nil
}

func isOperator(s string) bool {
	switch s {
	case "^", "~", "~=", "==", "!=", ">=", "<=", ">", "<", "=", "===":
		return true
	}
	return false
}

var versionRe = regexp.MustCompile(`^v?(\d+(?:\.\d+)*)(.*)$`)

func poetryAtom(p string) ([]string, error) {
	switch {
	case p == "" || p == "*":
		return nil, nil
	case strings.HasPrefix(p, "^"):
		return caret(strings.TrimSpace(p[1:]))
	case strings.HasPrefix(p, "~="):
		return []string{p}, nil
	case strings.HasPrefix(p, "~"):
		return tilde(strings.TrimSpace(p[1:]))
	case strings.HasPrefix(p, "==="), strings.HasPrefix(p, "=="), strings.HasPrefix(p, "!="),
		strings.HasPrefix(p, ">="), strings.HasPrefix(p, "<="), strings.HasPrefix(p, ">"), strings.HasPrefix(p, "<"):
		return []string{p}, nil
	case strings.HasPrefix(p, "="):
		return []string{"=" + p}, nil
	}
	if strings.HasSuffix(p, ".*") || p[0] >= '0' && p[0] <= '9' {
		return []string{"==" + p}, nil
	}
	return nil, fmt.Errorf("cannot read the constraint %q", p)
}

// releaseParts splits "1.2.3b1" into [1 2 3] and "b1".
func releaseParts(v string) ([]int, string, error) {
	m := versionRe.FindStringSubmatch(v)
	if m == nil {
		return nil, "", fmt.Errorf("%q is not a version", v)
	}
	var nums []int
	for _, f := range strings.Split(m[1], ".") {
		n, err := strconv.Atoi(f)
		if err != nil {
			return nil, "", fmt.Errorf("%q is not a version", v)
		}
		nums = append(nums, n)
	}
	return nums, m[2], nil
}

func joinInts(n []int) string {
	s := make([]string, len(n))
	for i, x := range n {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ".")
}

// bump returns the upper bound that increments part i of n and zeroes the
// rest, keeping as many parts as were written.
func bump(n []int, i int) string {
	up := make([]int, len(n))
	copy(up, n[:i])
	up[i] = n[i] + 1
	return joinInts(up)
}

func caret(v string) ([]string, error) {
	n, _, err := releaseParts(v)
	if err != nil {
		return nil, err
	}
	i := len(n) - 1
	for k, x := range n {
		if x != 0 {
			i = k
			break
		}
	}
	return []string{">=" + strings.TrimPrefix(v, "v"), "<" + bump(n, i)}, nil
}

func tilde(v string) ([]string, error) {
	n, _, err := releaseParts(v)
	if err != nil {
		return nil, err
	}
	i := 0
	if len(n) >= 2 {
		i = 1
	}
	return []string{">=" + strings.TrimPrefix(v, "v"), "<" + bump(n, i)}, nil
}

// pythonMarker turns a Poetry python constraint ("^3.9", ">=3.8,<3.12")
// into a marker on python_version (python_full_version for three-part
// versions).
func pythonMarker(s string) (string, error) {
	spec, err := PoetryConstraint(s)
	if err != nil || spec == "" {
		return "", err
	}
	var ms []string
	for _, c := range strings.Split(spec, ",") {
		i := strings.IndexFunc(c, func(r rune) bool { return r >= '0' && r <= '9' })
		if i <= 0 {
			return "", fmt.Errorf("cannot read %q", c)
		}
		op, v := c[:i], c[i:]
		name := "python_version"
		if strings.Count(v, ".") >= 2 {
			name = "python_full_version"
		}
		ms = append(ms, fmt.Sprintf("%s %s %q", name, op, v))
	}
	return strings.Join(ms, " and "), nil
}

// readPipfile reads a Pipfile's [packages] (never [dev-packages]) as PEP 508
// requirement strings.
func readPipfile(file, rel string) (Deps, error) {
	data, err := readConfigFile(file)
	if err != nil {
		return Deps{}, err
	}
	var doc struct {
		Packages map[string]any `toml:"packages"`
	}
	if err := decodeTOML(file, data, &doc); err != nil {
		return Deps{}, err
	}
	lines := indexTOMLLines(data)
	d := Deps{From: rel + " [packages]", Pos: Pos{File: file, Line: lines.line("packages")}}
	for _, name := range sortedKeys(doc.Packages) {
		pos := Pos{File: file, Line: lines.line("packages." + name)}
		r, err := pipfileRequirement(name, doc.Packages[name])
		if err != nil {
			return Deps{}, errorf(pos, "", "%s: %v", d.From, err)
		}
		d.Inline = append(d.Inline, r)
	}
	return d, nil
}

// pipfileMarkerKeys are the marker variables Pipfile accepts as keys.
var pipfileMarkerKeys = []string{"os_name", "sys_platform", "platform_machine", "platform_python_implementation", "platform_release", "platform_system", "platform_version", "python_version", "python_full_version", "implementation_name", "implementation_version"}

func pipfileRequirement(name string, v any) (string, error) {
	spec := func(s string) string {
		s = strings.TrimSpace(s)
		if s == "*" || s == "" {
			return ""
		}
		if s[0] >= '0' && s[0] <= '9' {
			return "==" + s
		}
		return s
	}
	switch v := v.(type) {
	case string:
		r, err := checkedReq(name+spec(v), name)
		if err != nil {
			return "", err
		}
		return r[0], nil
	case map[string]any:
		head := name
		if ex := stringList(v["extras"]); len(ex) > 0 {
			head += "[" + strings.Join(ex, ",") + "]"
		}
		body := head
		switch {
		case v["git"] != nil:
			u, _ := v["git"].(string)
			if ref, _ := v["ref"].(string); ref != "" {
				u += "@" + ref
			}
			body = head + " @ git+" + strings.TrimPrefix(u, "git+")
		case v["file"] != nil:
			u, _ := v["file"].(string)
			body = head + " @ " + u
		case v["path"] != nil:
			return "", fmt.Errorf("%s is a path dependency (%v): build it into a wheel and list it in a requirements file with --find-links, or publish it to your index", name, v["path"])
		default:
			s, _ := v["version"].(string)
			body = head + spec(s)
		}
		var markers []string
		if m, _ := v["markers"].(string); m != "" {
			markers = append(markers, "("+m+")")
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			for _, mk := range pipfileMarkerKeys {
				if k == mk {
					if s, ok := v[k].(string); ok {
						markers = append(markers, k+" "+s)
					}
				}
			}
		}
		if len(markers) > 0 {
			body += " ; " + strings.Join(markers, " and ")
		}
		r, err := checkedReq(body, name)
		if err != nil {
			return "", err
		}
		return r[0], nil
	}
	return "", fmt.Errorf("%s: unsupported value %v", name, v)
}
