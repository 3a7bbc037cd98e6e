package project

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/lambdapack/lambdapack/internal/target"
)

// Kinds of config files Load understands.
const (
	KindPyproject  = "pyproject.toml"
	KindLambdapack = "lambdapack.toml"
	KindServerless = "serverless"
	KindSAM        = "sam"
)

// Pos is where something was written: a file and a 1-based line (0 when
// unknown).
type Pos struct {
	File string
	Line int
}

func (p Pos) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	return p.File
}

// Error is a mistake in a config: where, what, and what to write instead.
type Error struct {
	Pos  Pos
	Msg  string
	Hint string
}

func (e *Error) Error() string {
	s := e.Pos.String() + ": " + e.Msg
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

func errorf(pos Pos, hint, format string, args ...any) *Error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...), Hint: hint}
}

// Deps says where a function's or layer's dependencies come from: a
// requirements file, a lockfile (pylock.toml, uv.lock, poetry.lock,
// Pipfile.lock), or inline requirement strings. At most one of the three is
// set; none means the artifact has no third-party dependencies.
type Deps struct {
	Requirements string   // path, relative to Config.Dir
	Lock         string   // path, relative to Config.Dir
	Inline       []string // PEP 508 requirement strings
}

// Empty reports whether no dependencies are declared.
func (d Deps) Empty() bool { return d.Requirements == "" && d.Lock == "" && len(d.Inline) == 0 }

// Options are the packaging options a function or layer can set.
type Options struct {
	ExcludePackages []string // distributions left out (e.g. boto3: the runtime has it)
	Slim            bool     // the conservative strip preset
	StripPatterns   []string // extra globs removed from the artifact
	Compile         bool     // byte-compile with unchecked-hash pycs
}

// Function is one Lambda function built as a zip.
type Function struct {
	Name    string
	Handler string // module.function, e.g. "app.handler"
	Source  string // folder with the function's code, relative to Config.Dir
	Runtime string // e.g. python3.12: the function's own, defaulted from Config.Defaults
	Arch    target.Arch
	Deps    Deps
	// Excludes are globs (relative to Source) left out of the zip.
	Excludes []string
	// Layers names the layers (by Layer.Name) this function uses. ARNs of
	// layers built elsewhere are kept in ExternalLayers.
	Layers         []string
	ExternalLayers []string
	Options        Options
	Pos            Pos
}

// Layer is one Lambda layer: one zip per architecture, each checked against
// every runtime listed.
type Layer struct {
	Name     string
	Deps     Deps
	Runtimes []string
	Archs    []target.Arch
	Layout   string // "python" (default) or "site-packages"
	Options  Options
	Pos      Pos
}

// Note is something the user should know that is not an error: a skipped
// function, an option that does not carry over.
type Note struct {
	Pos Pos
	Msg string
}

func (n Note) String() string { return n.Pos.String() + ": " + n.Msg }

// Index carries index settings a config may set.
type Index struct {
	URL       string
	Extra     []string
	FindLinks []string
	NoIndex   bool
}

// Config is a whole project.
type Config struct {
	Dir       string // the project's root folder (absolute)
	File      string // the config file read (absolute)
	Kind      string
	Index     Index
	Build     Build // buildkeys.go
	Functions []Function
	Layers    []Layer
	Notes     []Note
}

// Function returns the function named name.
func (c *Config) Function(name string) (*Function, bool) {
	for i := range c.Functions {
		if c.Functions[i].Name == name {
			return &c.Functions[i], true
		}
	}
	return nil, false
}

// Layer returns the layer named name.
func (c *Config) Layer(name string) (*Layer, bool) {
	for i := range c.Layers {
		if c.Layers[i].Name == name {
			return &c.Layers[i], true
		}
	}
	return nil, false
}

// Names lists every function's and layer's name, sorted.
func (c *Config) Names() []string {
	var out []string
	for _, f := range c.Functions {
		out = append(out, f.Name)
	}
	for _, l := range c.Layers {
		out = append(out, l.Name)
	}
	sort.Strings(out)
	return out
}

// LoadOptions tunes Load.
type LoadOptions struct {
	// Config is an explicit config file; empty means discover in Dir.
	Config string
	// Stage is serverless's --stage (${opt:stage}); default "dev".
	Stage string
	// Vars are other ${opt:NAME} values.
	Vars map[string]string
	// Env looks up ${env:NAME}; nil means os.LookupEnv.
	Env func(string) (string, bool)
}

// ErrNoConfig is returned (wrapped) when a folder has no config Load knows.
var ErrNoConfig = errors.New("no lambdapack project config found")

// Discover returns the config file Load would read in dir, and its kind.
func Discover(dir string) (string, string, error) {
	py := filepath.Join(dir, "pyproject.toml")
	if data, err := os.ReadFile(py); err == nil && hasToolLambdapack(data) {
		return py, KindPyproject, nil
	}
	for _, c := range []struct{ name, kind string }{
		{"lambdapack.toml", KindLambdapack},
		{"serverless.yml", KindServerless},
		{"serverless.yaml", KindServerless},
		{"template.yaml", KindSAM},
		{"template.yml", KindSAM},
	} {
		p := filepath.Join(dir, c.name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, c.kind, nil
		}
	}
	return "", "", fmt.Errorf("%w in %s: add [tool.lambdapack] to pyproject.toml or write lambdapack.toml (see the README), or run in a folder with serverless.yml or a SAM template.yaml", ErrNoConfig, dir)
}

// Load reads the project in dir.
func Load(dir string, o LoadOptions) (*Config, error) {
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	file, kind := o.Config, ""
	if file == "" {
		file, kind, err = Discover(absDir)
		if err != nil {
			return nil, err
		}
	} else {
		if !filepath.IsAbs(file) {
			file = filepath.Join(absDir, file)
		}
		kind, err = kindOf(file)
		if err != nil {
			return nil, err
		}
		absDir = filepath.Dir(file)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading project config: %w", err)
	}
	if o.Stage == "" {
		o.Stage = "dev"
	}
	if o.Env == nil {
		o.Env = os.LookupEnv
	}
	cfg := &Config{Dir: absDir, File: file, Kind: kind}
	switch kind {
	case KindPyproject, KindLambdapack:
		err = parseTOML(cfg, data)
	case KindServerless:
		err = parseServerless(cfg, data, o)
	case KindSAM:
		err = parseSAM(cfg, data)
	}
	if err != nil {
		return nil, err
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

func kindOf(file string) (string, error) {
	base := filepath.Base(file)
	switch {
	case base == "pyproject.toml":
		return KindPyproject, nil
	case strings.HasSuffix(base, ".toml"):
		return KindLambdapack, nil
	case strings.HasPrefix(base, "serverless."):
		return KindServerless, nil
	case strings.HasSuffix(base, ".yaml"), strings.HasSuffix(base, ".yml"), strings.HasSuffix(base, ".json"):
		data, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("reading project config: %w", err)
		}
		s := string(data)
		if strings.Contains(s, "AWSTemplateFormatVersion") || strings.Contains(s, "AWS::Serverless") {
			return KindSAM, nil
		}
		if strings.Contains(s, "provider:") || strings.Contains(s, "functions:") {
			return KindServerless, nil
		}
		return "", fmt.Errorf("%s: cannot tell whether this is a serverless.yml or a SAM template: name it serverless.yml or template.yaml", file)
	}
	return "", fmt.Errorf("%s: unknown config file: use pyproject.toml, lambdapack.toml, serverless.yml or a SAM template.yaml", file)
}

// validate checks what every importer must satisfy: known runtimes and
// architectures, handler files that exist, layers that are defined, and
// dependency files that exist.
func (c *Config) validate() error {
	var errs []error
	seen := map[string]Pos{}
	for _, f := range c.Functions {
		if p, dup := seen[f.Name]; dup {
			errs = append(errs, errorf(f.Pos, "give each function and layer its own name", "%q is defined twice (first at %s)", f.Name, p))
		}
		seen[f.Name] = f.Pos
		if err := checkRuntime(f.Pos, f.Runtime, "function "+f.Name); err != nil {
			errs = append(errs, err)
		}
		if f.Handler == "" {
			errs = append(errs, errorf(f.Pos, `write handler = "module.function", e.g. "app.handler"`, "function %s has no handler", f.Name))
		} else if err := c.checkHandler(f); err != nil {
			errs = append(errs, err)
		}
		for _, l := range f.Layers {
			layer, ok := c.Layer(l)
			if !ok {
				errs = append(errs, errorf(f.Pos, "define it under layers, or refer to a layer ARN", "function %s uses layer %q, which no layer in %s defines (defined: %s)", f.Name, l, filepath.Base(c.File), orNone(c.layerNames())))
				continue
			}
			if !slices.Contains(layer.Archs, f.Arch) {
				errs = append(errs, errorf(f.Pos, fmt.Sprintf("add %s to layer %s's architectures", f.Arch, l), "function %s runs on %s but its layer %s is built for %v", f.Name, f.Arch, l, layer.Archs))
			}
			if len(layer.Runtimes) > 0 && !slices.Contains(layer.Runtimes, f.Runtime) {
				errs = append(errs, errorf(f.Pos, fmt.Sprintf("add %s to layer %s's runtimes", f.Runtime, l), "function %s runs on %s but its layer %s is built for %s", f.Name, f.Runtime, l, strings.Join(layer.Runtimes, ", ")))
			}
		}
		if err := c.checkDeps(f.Pos, f.Deps, "function "+f.Name); err != nil {
			errs = append(errs, err)
		}
	}
	for _, l := range c.Layers {
		if p, dup := seen[l.Name]; dup {
			errs = append(errs, errorf(l.Pos, "give each function and layer its own name", "%q is defined twice (first at %s)", l.Name, p))
		}
		seen[l.Name] = l.Pos
		if len(l.Runtimes) == 0 {
			errs = append(errs, errorf(l.Pos, `write runtimes = ["python3.12"]`, "layer %s has no compatible runtime", l.Name))
		}
		for _, r := range l.Runtimes {
			if err := checkRuntime(l.Pos, r, "layer "+l.Name); err != nil {
				errs = append(errs, err)
			}
		}
		if len(l.Runtimes) > 15 {
			errs = append(errs, errorf(l.Pos, "Lambda accepts at most 15 compatible runtimes", "layer %s lists %d runtimes", l.Name, len(l.Runtimes)))
		}
		switch l.Layout {
		case "", "python", "site-packages":
		default:
			errs = append(errs, errorf(l.Pos, `write layout = "python" or "site-packages"`, "layer %s: unknown layout %q", l.Name, l.Layout))
		}
		if err := c.checkDeps(l.Pos, l.Deps, "layer "+l.Name); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

func (c *Config) layerNames() []string {
	var out []string
	for _, l := range c.Layers {
		out = append(out, l.Name)
	}
	return out
}

func checkRuntime(pos Pos, rt, what string) error {
	if rt == "" {
		return errorf(pos, `set runtime = "python3.12" on it or as the project default`, "%s has no runtime", what)
	}
	if _, err := target.LookupRuntime(rt); err != nil {
		return errorf(pos, "", "%s: %v", what, err)
	}
	return nil
}

// checkHandler checks that the handler's module file exists in the source
// folder: "app.handler" needs app.py or app/__init__.py; "pkg/mod.fn" and
// "pkg.mod.fn" need pkg/mod.py.
func (c *Config) checkHandler(f Function) error {
	i := strings.LastIndex(f.Handler, ".")
	if i <= 0 || i == len(f.Handler)-1 {
		return errorf(f.Pos, `write it as "module.function", e.g. "app.handler"`, "function %s: handler %q is not module.function", f.Name, f.Handler)
	}
	mod := f.Handler[:i]
	rel := strings.ReplaceAll(mod, ".", "/")
	src := filepath.Join(c.Dir, filepath.FromSlash(f.Source))
	for _, cand := range []string{rel + ".py", rel + "/__init__.py"} {
		if _, err := os.Stat(filepath.Join(src, filepath.FromSlash(cand))); err == nil {
			return nil
		}
	}
	return errorf(f.Pos, fmt.Sprintf("create %s or fix the handler's module path", filepath.Join(f.Source, rel+".py")),
		"function %s: handler %q needs %s in %s, which is not there", f.Name, f.Handler, rel+".py", filepath.Join(c.Dir, f.Source))
}

func (c *Config) checkDeps(pos Pos, d Deps, what string) error {
	for _, p := range []string{d.Requirements, d.Lock} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(c.Dir, filepath.FromSlash(p))); err != nil {
			return errorf(pos, "fix the path (relative to "+c.Dir+")", "%s: %s does not exist", what, p)
		}
	}
	if d.Requirements != "" && d.Lock != "" {
		return errorf(pos, "keep one of them", "%s names both requirements (%s) and a lock (%s)", what, d.Requirements, d.Lock)
	}
	return nil
}

// normArch parses an architecture value from a config.
func normArch(pos Pos, s string) (target.Arch, error) {
	a, err := target.ParseArch(s)
	if err != nil {
		return "", errorf(pos, `write "x86_64" or "arm64"`, "unknown architecture %q", s)
	}
	return a, nil
}

// isPythonRuntime reports whether a runtime name is one of Lambda's Python
// runtimes (known or not); other runtimes (nodejs20.x, provided.al2023) are
// skipped with a note.
func isPythonRuntime(rt string) bool { return strings.HasPrefix(rt, "python") }
