package project

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/lambdapack/lambdapack/internal/target"
)

// LoadOptions tunes Load.
type LoadOptions struct {
	// Config is an explicit config file; empty means discover in Dir.
	Config string
	// Stage is serverless's --stage (${opt:stage}, ${sls:stage}); empty
	// means not given: ${sls:stage} is then provider.stage, else "dev".
	Stage string
	// Vars are other ${opt:NAME} values.
	Vars map[string]string
	// Params are SAM template parameter values (sam build's
	// --parameter-overrides); they win over the samconfig's
	// parameter_overrides and a parameter's Default.
	Params map[string]string
	// SamconfigCommand is the samconfig command section whose
	// parameter_overrides a SAM project reads:
	// [default.<SamconfigCommand>.parameters], else
	// [default.global.parameters], as sam reads them. Empty means "build";
	// invoke stands in for `sam local invoke` ("local_invoke") and serve for
	// `sam local start-api` ("local_start_api").
	SamconfigCommand string
	// Env looks up ${env:NAME}; nil means os.LookupEnv.
	Env func(string) (string, bool)
	// Now is the date deprecations are judged on; zero means time.Now().
	Now time.Time
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
			if c.kind == KindServerless && isSAMTemplate(p) {
				return p, KindSAM, nil
			}
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
	data, err := readConfigFile(file)
	if err != nil {
		return nil, err
	}
	if o.Env == nil {
		o.Env = os.LookupEnv
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	cfg := &Config{Dir: absDir, File: file, Kind: kind}
	switch kind {
	case KindPyproject, KindLambdapack:
		err = parseTOML(cfg, data)
	case KindServerless:
		err = parseServerless(cfg, data, o)
	case KindSAM:
		err = parseSAM(cfg, data, o.Params, cmp.Or(o.SamconfigCommand, "build"))
	}
	if err != nil {
		return nil, err
	}
	cfg.fillLayerRuntimes()
	cfg.linkLayers()
	if err := cfg.validate(o.Now); err != nil {
		return nil, err
	}
	return cfg, nil
}

// maxConfigSize bounds a config file (and a file it includes).
const maxConfigSize = 8 << 20

func readConfigFile(file string) ([]byte, error) {
	st, err := os.Stat(file)
	if err != nil {
		return nil, fmt.Errorf("reading project config: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("reading project config: %s is not a regular file", file)
	}
	if st.Size() > maxConfigSize {
		return nil, fmt.Errorf("reading project config: %s is %d bytes, over the %d a config may be", file, st.Size(), maxConfigSize)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading project config: %w", err)
	}
	return data, nil
}

func kindOf(file string) (string, error) {
	base := filepath.Base(file)
	switch {
	case base == "pyproject.toml":
		return KindPyproject, nil
	case strings.HasSuffix(base, ".toml"):
		return KindLambdapack, nil
	case strings.HasPrefix(base, "serverless."):
		if isSAMTemplate(file) {
			return KindSAM, nil
		}
		return KindServerless, nil
	case strings.HasSuffix(base, ".yaml"), strings.HasSuffix(base, ".yml"), strings.HasSuffix(base, ".json"):
		data, err := readConfigFile(file)
		if err != nil {
			return "", err
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

// samTopKey and slsTopKey match top-level keys only a SAM template, or only
// a serverless.yml, has.
var (
	samTopKey = regexp.MustCompile(`(?m)^(AWSTemplateFormatVersion|Transform)\s*:`)
	slsTopKey = regexp.MustCompile(`(?m)^(service|provider|functions)\s*:`)
)

// isSAMTemplate reports whether a file named serverless.* is in fact an AWS
// SAM template (found in public projects: a template kept as
// serverless.yaml and built with sam build -t serverless.yaml). Reading it
// as a serverless.yml would say "defines no functions" of a template that
// has them.
func isSAMTemplate(file string) bool {
	data, err := readConfigFile(file)
	if err != nil {
		return false // Load reports the error when it reads the file
	}
	return samTopKey.Match(data) && !slsTopKey.Match(data)
}

// fillLayerRuntimes gives a layer that declares no runtime (a ready folder
// or a prebuilt zip) the runtimes of the functions that use it, and skips
// one that nothing Python uses.
func (c *Config) fillLayerRuntimes() {
	for i := range c.Layers {
		l := &c.Layers[i]
		if len(l.Runtimes) > 0 || l.Package.Skipped() {
			continue
		}
		for _, f := range c.Functions {
			if f.Package.Skipped() {
				continue
			}
			for _, u := range f.Layers {
				if u.Name == l.Name && !slices.Contains(l.Runtimes, f.Runtime) {
					l.Runtimes = append(l.Runtimes, f.Runtime)
				}
			}
		}
		sort.Strings(l.Runtimes)
		if len(l.Runtimes) == 0 && (l.Package.Kind == PackageFolder && l.Package.Prefix == "" || l.Package.Kind == PackageZip) {
			l.Package = Package{Kind: PackageSkip, Path: l.Package.Path,
				Reason: fmt.Sprintf("it names no Python runtime (%s) and no Python function of the project uses it", orKey(l.Keys.Runtimes, "compatible runtimes"))}
		}
	}
}

func orKey(k, def string) string {
	if k == "" {
		return def
	}
	return k
}

// linkLayers says which build of each layer a function gets: the one for its
// own architecture, else the layer's first.
func (c *Config) linkLayers() {
	for i := range c.Functions {
		f := &c.Functions[i]
		for j := range f.Layers {
			u := &f.Layers[j]
			if l, ok := c.Layer(u.Name); ok && len(l.Archs) > 0 {
				u.Arch = l.Archs[0]
				if slices.Contains(l.Archs, f.Arch) {
					u.Arch = f.Arch
				}
			}
		}
	}
}

var (
	// Lambda function and layer names (and Serverless' function and layer
	// keys): letters, digits, hyphens and underscores.
	lambdaName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	// deployedName is a function's name, or its (partial) ARN.
	deployedName = regexp.MustCompile(`^(arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:function:|\d{12}:function:)?[A-Za-z0-9_-]{1,64}(:(\$LATEST|[A-Za-z0-9_-]+))?$`)
	// CloudFormation logical IDs: letters and digits.
	logicalID = regexp.MustCompile(`^[A-Za-z0-9]{1,255}$`)
)

// validName checks a function's or layer's name as the config's tool
// restricts it. Names become file names under --out, so a name that is not
// valid there ("../x") never reaches the file system.
func (c *Config) validName(pos Pos, what, name string) error {
	switch c.Kind {
	case KindSAM:
		if !logicalID.MatchString(name) {
			return errorf(pos, "CloudFormation logical IDs are letters and digits only", "%s %q is not a valid logical ID", what, name)
		}
	default:
		if !lambdaName.MatchString(name) {
			return errorf(pos, "use letters, digits, hyphens and underscores (at most 64), as Lambda names allow", "%s name %q is not a valid Lambda name", what, name)
		}
	}
	return nil
}

// validate checks what every importer must satisfy: valid names, known and
// supported runtimes and architectures, handler files that exist, layers
// that are defined, and dependency files that exist.
func (c *Config) validate(now time.Time) error {
	var errs []error
	seen := map[string]Pos{}
	deprecated := map[string][]string{} // runtime -> functions and layers
	for i := range c.Functions {
		f := &c.Functions[i]
		if err := c.validName(f.Pos, "function", f.Name); err != nil {
			errs = append(errs, err)
			continue
		}
		if p, dup := seen[f.Name]; dup {
			errs = append(errs, errorf(f.Pos, "give each function and layer its own name", "%q is defined twice (first at %s)", f.Name, p))
		}
		seen[f.Name] = f.Pos
		if f.Package.Skipped() {
			continue
		}
		if f.Image != nil && f.Runtime == "" {
			// The image's own Python decides: a Dockerfile's FROM, or a
			// base other than AWS's.
			if f.Image.Dockerfile == "" && f.Image.Base == "lambda" {
				errs = append(errs, errorf(f.Pos, "set runtime, e.g. python3.12 (the Lambda base image is chosen by it)", "image function %s on the lambda base has no runtime", f.Name))
			}
		} else if err := checkRuntime(f.Pos, f.Runtime, "function "+f.Name, now); err != nil {
			errs = append(errs, err)
		} else if isDeprecated(f.Runtime, now) {
			deprecated[f.Runtime] = append(deprecated[f.Runtime], f.Name)
		}
		if f.Image != nil && f.Image.Dockerfile != "" {
			continue // the Dockerfile says the rest
		}
		if f.Handler == "" {
			errs = append(errs, errorf(f.Pos, `write the handler as "module.function", e.g. "app.handler"`, "function %s has no handler", f.Name))
		} else if err := c.checkHandler(f); err != nil {
			errs = append(errs, err)
		}
		for _, u := range f.Layers {
			l, ok := c.Layer(u.Name)
			if !ok {
				errs = append(errs, errorf(u.Pos, "define it under layers, or refer to a layer ARN", "function %s uses layer %q, which no layer in %s defines (defined: %s)", f.Name, u.Name, filepath.Base(c.File), orNone(c.layerNames())))
				continue
			}
			c.checkLayerUse(f, u, l)
		}
		if err := c.checkDeps(f.Pos, f.Deps, "function "+f.Name); err != nil {
			errs = append(errs, err)
		}
	}
	for i := range c.Layers {
		l := &c.Layers[i]
		if err := c.validName(l.Pos, "layer", l.Name); err != nil {
			errs = append(errs, err)
			continue
		}
		if p, dup := seen[l.Name]; dup {
			errs = append(errs, errorf(l.Pos, "give each function and layer its own name", "%q is defined twice (first at %s)", l.Name, p))
		}
		seen[l.Name] = l.Pos
		if l.Package.Skipped() {
			continue
		}
		if len(l.Runtimes) == 0 {
			errs = append(errs, errorf(l.Pos, fmt.Sprintf("set %s, e.g. [python3.12]", orKey(l.Keys.Runtimes, "runtimes")), "layer %s has no compatible runtime", l.Name))
		}
		for _, r := range l.Runtimes {
			if err := checkRuntime(l.Pos, r, "layer "+l.Name, now); err != nil {
				errs = append(errs, err)
			} else if isDeprecated(r, now) {
				deprecated[r] = append(deprecated[r], l.Name)
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
	for _, rt := range sortedKeys(deprecated) {
		r, _ := target.LookupRuntime(rt)
		c.note(Pos{File: c.File}, LevelWarning, "%s is deprecated (AWS ended its support on %s; Lambda soon refuses to create or update functions on it): used by %s; move to a supported runtime: %s",
			rt, r.Deprecated, strings.Join(uniq(deprecated[rt]), ", "), strings.Join(supportedRuntimes(now), ", "))
	}
	return errors.Join(errs...)
}

// checkLayerUse warns when a function's runtime or architecture is not among
// a layer's declared compatible ones. Lambda treats those lists as metadata
// and runs the function anyway; what decides is the layer's content, which
// the build verifies for the function's own runtime and architecture.
func (c *Config) checkLayerUse(f *Function, u LayerUse, l *Layer) {
	if l.Package.Skipped() {
		return
	}
	archs := l.CompatibleArchitectures
	if archs == nil {
		archs = l.Archs
	}
	if len(archs) > 0 && !slices.Contains(archs, f.Arch) {
		c.note(u.Pos, LevelWarning, "function %s runs on %s but layer %s's %s lists %s: Lambda runs it anyway, so lambdapack verifies the layer's files (built for %s) for %s/%s, and any native file for another architecture is an error",
			f.Name, f.Arch, l.Name, orKey(l.Keys.Archs, "architectures"), archList(archs), u.Arch, f.Runtime, f.Arch)
	}
	rts := l.CompatibleRuntimes
	if rts == nil {
		rts = l.Runtimes
	}
	if len(rts) > 0 && !slices.Contains(rts, f.Runtime) {
		c.note(u.Pos, LevelWarning, "function %s runs on %s but layer %s's %s lists %s: Lambda runs it anyway, so lambdapack verifies the layer's files for %s/%s, and any extension module built for another Python is an error",
			f.Name, f.Runtime, l.Name, orKey(l.Keys.Runtimes, "runtimes"), strings.Join(rts, ", "), f.Runtime, f.Arch)
	}
}

func archList(a []target.Arch) string {
	s := make([]string, len(a))
	for i, x := range a {
		s[i] = string(x)
	}
	return strings.Join(s, ", ")
}

func uniq(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
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

var retiredPython = regexp.MustCompile(`^python(2\.7|3\.[0-8])$`)

// metadataRuntimes returns the runtimes a layer is built and verified for
// when they come from its declared compatible-runtime list (SAM's
// CompatibleRuntimes, Serverless' compatibleRuntimes), which Lambda treats as
// metadata: retired ones (python3.8 and older, which Lambda no longer takes
// for functions but still accepts in a layer's list) are left out with a
// warning as long as a supported one remains; with none left the list is
// returned as it is, and validation refuses it.
func (c *Config) metadataRuntimes(pos Pos, layer, key string, rts []string) []string {
	var keep, retired []string
	for _, r := range rts {
		if retiredPython.MatchString(r) {
			retired = append(retired, r)
		} else {
			keep = append(keep, r)
		}
	}
	if len(retired) == 0 || len(keep) == 0 {
		return rts
	}
	c.note(pos, LevelWarning, "layer %s: %s lists %s, which Lambda no longer accepts for functions; lambdapack builds and verifies the layer for %s (remove %s from the list)",
		layer, key, strings.Join(retired, ", "), strings.Join(keep, ", "), strings.Join(retired, ", "))
	return keep
}

// checkRuntime refuses unknown runtimes and those Lambda no longer takes
// updates for, suggesting only runtimes still supported on now.
func checkRuntime(pos Pos, rt, what string, now time.Time) error {
	if rt == "" {
		return errorf(pos, `set the runtime (e.g. python3.12) on it or as the project default`, "%s has no runtime", what)
	}
	if retiredPython.MatchString(rt) {
		return errorf(pos, "use a supported runtime: "+strings.Join(supportedRuntimes(now), ", "),
			"%s: runtime %s is deprecated and Lambda no longer accepts creating or updating functions on it", what, rt)
	}
	if _, err := target.LookupRuntime(rt); err != nil {
		return errorf(pos, "", "%s: %v", what, err)
	}
	return nil
}

// isDeprecated reports whether AWS has ended support for rt by now.
func isDeprecated(rt string, now time.Time) bool {
	r, err := target.LookupRuntime(rt)
	if err != nil || r.Deprecated == "" {
		return false
	}
	d, err := time.Parse("2006-01-02", r.Deprecated)
	return err == nil && !now.Before(d)
}

// supportedRuntimes lists the runtimes AWS still supports on now, newest
// first.
func supportedRuntimes(now time.Time) []string {
	var out []string
	for _, r := range target.Runtimes() {
		if !isDeprecated(r.Name, now) {
			out = append(out, r.Name)
		}
	}
	return out
}

// checkHandler checks that the handler's module is among the files the
// function packages: "app.handler" needs app.py or app/; "pkg/mod.fn" and
// "pkg.mod.fn" need pkg/mod.py. A handler found nowhere is an error unless
// the function has layers that may hold it (the build's verification
// decides then), or its code is a prebuilt zip (verified after the build).
func (c *Config) checkHandler(f *Function) error {
	p := f.Package
	if f.HandlerIsScript() {
		if p.Kind == PackageFolder && !c.packagedFile(p, f.Handler) && len(f.Layers)+len(f.ExternalLayers) == 0 {
			return errorf(f.Pos, "create it or fix the handler", "function %s: handler %s is a script, which is not in %s", f.Name, f.Handler, p.Path)
		}
		c.note(f.Pos, LevelNote, "function %s: handler %s is a script, not a Python module (the Lambda Web Adapter's run.sh, say): packaged as written, with its requirements", f.Name, f.Handler)
		return nil
	}
	mod, ok := HandlerModule(f.Handler)
	if !ok {
		return errorf(f.Pos, `write it as "module.function", e.g. "app.handler"`, "function %s: handler %q is not module.function", f.Name, f.Handler)
	}
	switch p.Kind {
	case PackageZip:
		return nil
	case PackageFile:
		if strings.TrimSuffix(filepath.Base(p.Path), ".py") == mod {
			return nil
		}
		if len(f.Layers)+len(f.ExternalLayers) > 0 {
			return nil
		}
		return errorf(f.Pos, "name the handler after the file, e.g. "+strings.TrimSuffix(filepath.Base(p.Path), ".py")+".handler",
			"function %s: handler %q imports module %s, but its code is the one file %s", f.Name, f.Handler, strings.ReplaceAll(mod, "/", "."), p.Path)
	}
	for _, extra := range f.Extra {
		if extra.Path == mod+".py" {
			return nil
		}
	}
	if c.packagedFile(p, mod+".py") || c.packagedDir(p, mod) {
		return nil
	}
	if len(f.Layers)+len(f.ExternalLayers) > 0 {
		return nil
	}
	src := filepath.Join(c.Dir, filepath.FromSlash(p.Path))
	if _, err := os.Stat(filepath.Join(src, filepath.FromSlash(mod+".py"))); err == nil {
		_, rule := p.Files.Explain(mod + ".py")
		from := ""
		if rule != nil {
			from = fmt.Sprintf(" by %q (%s)", "!"+rule.Pattern, rule.From)
		}
		return errorf(f.Pos, "include it in the package patterns", "function %s: handler %q needs %s, which is excluded%s", f.Name, f.Handler, mod+".py", from)
	}
	return errorf(f.Pos, fmt.Sprintf("create %s or fix the handler's module path", filepath.ToSlash(filepath.Join(p.Path, mod+".py"))),
		"function %s: handler %q needs %s (or a %s/ package) in %s, which is not there", f.Name, f.Handler, mod+".py", mod, src)
}

// packagedFile reports whether rel exists in a folder package and is
// selected.
func (c *Config) packagedFile(p Package, rel string) bool {
	if p.Kind != PackageFolder {
		return false
	}
	st, err := os.Stat(filepath.Join(c.Dir, filepath.FromSlash(p.Path), filepath.FromSlash(rel)))
	return err == nil && st.Mode().IsRegular() && p.Files.Match(rel)
}

// packagedDir reports whether the folder rel exists in a folder package with
// at least one selected .py file beneath it.
func (c *Config) packagedDir(p Package, rel string) bool {
	if p.Kind != PackageFolder {
		return false
	}
	dir := filepath.Join(c.Dir, filepath.FromSlash(p.Path), filepath.FromSlash(rel))
	found := false
	_ = filepath.WalkDir(dir, func(q string, d os.DirEntry, err error) error {
		if err != nil || found {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(q, ".py") {
			r, _ := filepath.Rel(filepath.Join(c.Dir, filepath.FromSlash(p.Path)), q)
			if p.Files.Match(filepath.ToSlash(r)) {
				found = true
			}
		}
		return nil
	})
	return found
}

func (c *Config) checkDeps(pos Pos, d Deps, what string) error {
	if d.Pos.File != "" {
		pos = d.Pos
	}
	for _, p := range []string{d.Requirements, d.Lock} {
		if p == "" {
			continue
		}
		st, err := os.Stat(filepath.Join(c.Dir, filepath.FromSlash(p)))
		if err != nil {
			return errorf(pos, "fix the path (relative to "+c.Dir+")", "%s: %s does not exist", what, p)
		}
		if !st.Mode().IsRegular() {
			return errorf(pos, "name a file", "%s: %s is not a regular file", what, p)
		}
	}
	if d.Requirements != "" && d.Lock != "" {
		return errorf(pos, "keep one of them", "%s names both requirements (%s) and a lock (%s)", what, d.Requirements, d.Lock)
	}
	return nil
}

// normArch parses an architecture value from a config.
func normArch(pos Pos, key, s string) (target.Arch, error) {
	a, err := target.ParseArch(s)
	if err != nil {
		return "", errorf(pos, `write "x86_64" or "arm64"`, "%s: unknown architecture %q", key, s)
	}
	return a, nil
}

// isPythonRuntime reports whether a runtime name is one of Lambda's Python
// runtimes (known or not); other runtimes (nodejs20.x, provided.al2023) are
// skipped with a reason.
func isPythonRuntime(rt string) bool { return strings.HasPrefix(rt, "python") }

// within reports whether rel (slash, relative to dir) stays inside dir, also
// after symlinks are followed; it returns the cleaned relative path.
func within(dir, rel string) (string, bool) {
	if rel == "" {
		rel = "."
	}
	if filepath.IsAbs(rel) || strings.HasPrefix(rel, "/") {
		return "", false
	}
	clean := filepath.ToSlash(filepath.Clean(filepath.FromSlash(rel)))
	if clean == ".." || strings.HasPrefix(clean, "../") {
		return "", false
	}
	abs := filepath.Join(dir, filepath.FromSlash(clean))
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return clean, true // does not exist (yet): the caller reports that
	}
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		realDir = dir
	}
	r, err := filepath.Rel(realDir, real)
	if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return "", false
	}
	return clean, true
}
