package project

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	yaml "go.yaml.in/yaml/v3"

	"github.com/lambdapack/lambdapack/internal/target"
)

// The custom.pythonRequirements options of serverless-python-requirements
// that carry over, and those that lambdapack makes unnecessary.
var (
	slsCarried   = map[string]bool{"fileName": true, "layer": true, "noDeploy": true, "slim": true, "slimPatterns": true, "strip": true, "slimPatternsAppendDefaults": true, "usePoetry": true, "usePipenv": true, "usePyProject": true}
	slsNotNeeded = map[string]string{"dockerizePip": "lambdapack cross-builds without Docker", "dockerImage": "lambdapack cross-builds without Docker", "dockerFile": "lambdapack cross-builds without Docker", "dockerSsh": "lambdapack cross-builds without Docker", "dockerEnv": "lambdapack cross-builds without Docker", "dockerRunCmdExtraArgs": "lambdapack cross-builds without Docker", "dockerBuildCmdExtraArgs": "lambdapack cross-builds without Docker", "dockerExtraFiles": "lambdapack cross-builds without Docker", "useDownloadCache": "lambdapack always caches downloads by hash", "useStaticCache": "lambdapack rebuilds only what changed", "cacheLocation": "use --cache-dir", "staticCacheMaxVersions": "lambdapack's cache is content-addressed", "zip": "lambdapack always builds zips", "pythonBin": "lambdapack needs no local Python to build", "invalidateCaches": "lambdapack's cache is content-addressed"}
)

// DefaultExcludes are left out of a function's folder unless a pattern of
// the config includes them again: version control, virtualenvs, caches,
// bytecode and earlier build outputs (matched by name at any depth).
var DefaultExcludes = []string{
	".git", ".hg", ".svn", "__pycache__", "*.pyc", "*.pyo", ".venv", "venv", ".tox", ".nox",
	".pytest_cache", ".mypy_cache", ".ruff_cache", ".DS_Store", ".aws-sam", ".serverless",
	"node_modules", ".idea", ".vscode",
}

// slsDefaultExcludes are the Serverless Framework's own.
var slsDefaultExcludes = []string{".git/**", ".gitignore", ".DS_Store", "npm-debug.log", "yarn-*.log", ".serverless/**", ".serverless_plugins/**"}

// Plugins that change nothing lambdapack builds.
var slsQuietPlugins = map[string]bool{
	"serverless-python-requirements": true, "serverless-offline": true, "serverless-iam-roles-per-function": true,
	"serverless-prune-plugin": true, "serverless-domain-manager": true, "serverless-deployment-bucket": true,
	"serverless-plugin-log-retention": true, "serverless-add-api-key": true, "serverless-api-gateway-throttling": true,
	"serverless-plugin-aws-alerts": true, "serverless-plugin-tracing": true, "serverless-pseudo-parameters": true,
	"serverless-dotenv-plugin": true, "serverless-step-functions": true, "serverless-localstack": true,
	"serverless-plugin-canary-deployments": true, "serverless-associate-waf": true, "serverless-apigw-binary": true,
	"serverless-s3-sync": true, "serverless-finch": true, "serverless-create-global-dynamodb-table": true,
	"serverless-dynamodb-local": true, "serverless-dynamodb": true, "serverless-openapi-documenter": true,
	"serverless-aws-documentation": true, "serverless-stack-termination-protection": true, "serverless-wsgi": true,
	"serverless-export-env": true, "serverless-lift": true, "serverless-s3-local": true, "serverless-plugin-resource-tagging": true,
}

// Plugins that add functions the config does not show.
var slsFunctionPlugins = map[string]string{
	"serverless-plugin-warmup": "a warmer function (Node.js) per warmer in custom.warmup",
	"serverless-warmup":        "a warmer function (Node.js) per warmer in custom.warmup",
	"serverless-layers":        "a layer built from requirements.txt (lambdapack puts the requirements in each function's zip instead)",
}

type slsReader struct {
	cfg    *Config
	root   *yaml.Node
	o      LoadOptions
	errs   []error
	files  map[*yaml.Node]string
	loaded map[string]*yaml.Node
	failed map[Pos]bool
}

func (r *slsReader) pos(n *yaml.Node) Pos { return Pos{File: r.fileOf(n), Line: line(n)} }

func (r *slsReader) fail(n *yaml.Node, hint, format string, args ...any) {
	r.errs = append(r.errs, errorf(r.pos(n), hint, format, args...))
}

// varFail records an unresolvable variable once per place.
func (r *slsReader) varFail(n *yaml.Node, err error) {
	p := r.pos(n)
	if r.failed[p] {
		return
	}
	r.failed[p] = true
	var pe *Error
	if errors.As(err, &pe) {
		r.errs = append(r.errs, pe)
		return
	}
	hint := "write the value, or use ${env:NAME} / ${opt:NAME} / ${self:...}, which lambdapack resolves (give --stage for ${opt:stage})"
	r.errs = append(r.errs, &Error{Pos: p, Msg: err.Error(), Hint: hint})
}

// need resolves a value that decides what is built; a variable that cannot
// be resolved is an error naming it and where it is.
func (r *slsReader) need(n *yaml.Node, what string) string {
	s, err := r.str(n)
	if err != nil {
		r.varFail(n, fmt.Errorf("%s: %w", what, err))
		return ""
	}
	return s
}

// needs resolves a list of values that decide what is built.
func (r *slsReader) needs(n *yaml.Node, what string) []string {
	n2, err := r.node(n, varCtx{})
	if err != nil {
		r.varFail(n, fmt.Errorf("%s: %w", what, err))
		return nil
	}
	var out []string
	for _, it := range items(n2) {
		if s := r.need(it, what); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// optStr resolves a value that may stay as written (an environment
// variable's): expr is set when it cannot be resolved here.
func (r *slsReader) optStr(n *yaml.Node) (val, expr string) {
	if n != nil && n.Kind == yaml.MappingNode {
		return "", describe(n)
	}
	s, err := r.str(n)
	if err != nil {
		if n.Tag != "" && strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
			return "", n.Tag + " " + n.Value
		}
		return "", n.Value
	}
	return s, ""
}

func parseServerless(cfg *Config, data []byte, o LoadOptions) error {
	root, err := parseYAML(cfg.File, data)
	if err != nil {
		return err
	}
	r := &slsReader{cfg: cfg, root: root, o: o, files: map[*yaml.Node]string{}, loaded: map[string]*yaml.Node{}, failed: map[Pos]bool{}}
	provider := r.section(root, "provider", "provider")
	plugins := r.plugins()

	pr := r.section(r.section(root, "custom", "custom"), "pythonRequirements", "custom.pythonRequirements")
	fileNode := r.get(pr, "fileName")
	reqFile := r.need(fileNode, "custom.pythonRequirements.fileName")
	rules := depRules{sls: true, fileName: reqFile, explicit: reqFile != "", fileKey: "custom.pythonRequirements.fileName",
		usePoetry: true, usePipenv: true, pos: r.pos(fileNode)}
	if reqFile == "" {
		rules.fileName = "requirements.txt"
		rules.pos = Pos{File: cfg.File}
	}
	var opts Options
	keys, vals := pairs(pr)
	for i, k := range keys {
		switch {
		case k.Value == "noDeploy":
			opts.ExcludePackages = r.needs(vals[i], "custom.pythonRequirements.noDeploy")
		case k.Value == "slim":
			opts.Slim = r.flag(r.get(pr, "slim"), "custom.pythonRequirements.slim")
		case k.Value == "slimPatterns":
			opts.StripPatterns = r.needs(vals[i], "custom.pythonRequirements.slimPatterns")
		case k.Value == "usePoetry":
			rules.usePoetry = r.flag(r.get(pr, "usePoetry"), "custom.pythonRequirements.usePoetry")
		case k.Value == "usePipenv":
			rules.usePipenv = r.flag(r.get(pr, "usePipenv"), "custom.pythonRequirements.usePipenv")
		case slsCarried[k.Value]:
		case slsNotNeeded[k.Value] != "":
			cfg.note(r.pos(k), LevelNote, "custom.pythonRequirements.%s is not needed: %s", k.Value, slsNotNeeded[k.Value])
		default:
			cfg.note(r.pos(k), LevelNote, "custom.pythonRequirements.%s does not carry over to lambdapack and is ignored", k.Value)
		}
	}
	useLayer := r.flag(r.get(pr, "layer"), "custom.pythonRequirements.layer")

	defRuntimeNode := r.get(provider, "runtime")
	defRuntime := r.need(defRuntimeNode, "provider.runtime")
	defArchNode := r.get(provider, "architecture")
	defArch := r.need(defArchNode, "provider.architecture")
	if defArch == "" {
		defArch = "x86_64"
	}
	svcPkg := r.section(root, "package", "package")
	useDotenv := r.flag(r.get(root, "useDotenv"), "useDotenv")

	// Layers of the layers: section, by name and by the CloudFormation name
	// functions refer to them with ({Ref: NameLambdaLayer}).
	layerByRef := map[string]string{}
	var layerPaths []string
	lkeys, lvals := r.mapping(r.get(root, "layers"), "layers")
	for i, k := range lkeys {
		l, ok := r.layer(k, lvals[i], svcPkg, useDotenv)
		if !ok {
			continue
		}
		layerByRef[normalizeSlsName(k.Value)+"LambdaLayer"] = l.Name
		if l.Package.Kind == PackageFolder {
			layerPaths = append(layerPaths, l.Package.Path)
		}
		cfg.Layers = append(cfg.Layers, l)
	}

	fnKeys, fnVals := r.functions()
	if slices.Contains(plugins, "serverless-lift") {
		ks, vs := r.liftWorkers()
		fnKeys, fnVals = append(fnKeys, ks...), append(fnVals, vs...)
	}
	if len(fnKeys) == 0 && len(cfg.Layers) == 0 {
		if len(r.errs) > 0 {
			return errors.Join(r.errs...)
		}
		var others []string
		for _, p := range cfg.Plugins {
			if !slsQuietPlugins[p] || p == "serverless-lift" {
				others = append(others, p)
			}
		}
		if len(others) > 0 {
			// A plugin may define the functions (custom.pythonMcp, a lift
			// construct, ...): say so rather than "add a functions: section".
			return &Error{Pos: r.pos(root), Msg: fmt.Sprintf("serverless.yml defines no functions and no layers itself; plugin %s, which lambdapack does not run, may define them", strings.Join(others, ", ")),
				Hint: "lambdapack builds what serverless.yml itself declares: list the functions under functions:, or package them with the plugin"}
		}
		return &Error{Pos: r.pos(root), Msg: "serverless.yml defines no functions and no layers", Hint: "add a functions: section"}
	}
	providerLayers := r.get(provider, "layers")
	providerEnv := r.get(provider, "environment")
	layerRuntimes := map[string]bool{}
	layerArchs := map[target.Arch]bool{}
	svcArtifact := r.need(r.get(svcPkg, "artifact"), "package.artifact")
	// fnArch is a function's architecture: its own, else provider's.
	fnArch := func(k, fn *yaml.Node) (target.Arch, bool) {
		archNode := r.get(fn, "architecture")
		a := r.need(archNode, "functions."+k.Value+".architecture")
		if archNode == nil {
			a, archNode = defArch, defArchNode
		}
		arch, err := normArch(Pos{File: r.fileOf(k), Line: max(line(archNode), line(k))}, "architecture", a)
		if err != nil {
			r.errs = append(r.errs, err)
			return "", false
		}
		return arch, true
	}
	for i, k := range fnKeys {
		fn := fnVals[i]
		name := k.Value
		f := Function{Name: name, Pos: r.pos(k), Options: opts}
		r.run(&f, fn, provider)
		skip := func(format string, args ...any) {
			f.Package = Package{Kind: PackageSkip, Reason: fmt.Sprintf(format, args...)}
			cfg.Functions = append(cfg.Functions, f)
		}
		if imgNode := r.get(fn, "image"); imgNode != nil {
			img, reason, ok := r.image(name, imgNode, provider)
			switch {
			case !ok:
			case reason != "":
				skip("%s", reason)
			default:
				arch, ok := fnArch(k, fn)
				if !ok {
					continue
				}
				f.Arch, f.Image, f.Package = arch, img, Package{Kind: PackageNone}
				if len(img.Command) > 0 {
					f.Handler = img.Command[0]
				}
				f.Environment = r.environment(providerEnv, r.get(fn, "environment"))
				cfg.Functions = append(cfg.Functions, f)
			}
			continue
		}
		fnPkg := r.section(fn, "package", "functions."+name+".package")
		if r.flag(r.get(fnPkg, "disable"), "functions."+name+".package.disable") {
			skip("package.disable is true")
			continue
		}
		rtNode := r.get(fn, "runtime")
		rt := r.need(rtNode, "functions."+name+".runtime")
		if rtNode == nil {
			rt = defRuntime
		}
		if rt == "" {
			if rtNode == nil && defRuntimeNode == nil {
				r.fail(k, "set runtime: python3.12 on the function or on provider", "function %s has no runtime (neither the function nor provider sets one)", name)
			}
			continue
		}
		if !isPythonRuntime(rt) {
			skip("runtime %s is not a Python runtime", rt)
			continue
		}
		f.Runtime = rt
		arch, ok := fnArch(k, fn)
		if !ok {
			continue
		}
		f.Arch = arch
		handlerNode := r.get(fn, "handler")
		f.Handler = r.need(handlerNode, "functions."+name+".handler")
		if handlerNode != nil && f.Handler == "" {
			continue
		}

		artifactNode := r.get(fnPkg, "artifact")
		artifact := r.need(artifactNode, "functions."+name+".package.artifact")
		if artifact == "" && svcArtifact != "" && !r.flag(r.get(fnPkg, "individually"), "functions."+name+".package.individually") {
			artifact, artifactNode = svcArtifact, r.get(svcPkg, "artifact")
		}
		if artifact != "" {
			if strings.HasPrefix(artifact, "s3://") || strings.HasPrefix(artifact, "https://") {
				skip("package.artifact %s is already in S3", artifact)
				continue
			}
			clean, ok := within(cfg.Dir, artifact)
			if !ok {
				r.fail(artifactNode, "keep the artifact inside the service folder", "functions.%s.package.artifact %s is outside the service folder %s", name, artifact, cfg.Dir)
				continue
			}
			if !isFile(filepath.Join(cfg.Dir, filepath.FromSlash(clean))) {
				r.fail(artifactNode, "build it first, or remove package.artifact to let lambdapack build the function", "functions.%s.package.artifact %s does not exist", name, artifact)
				continue
			}
			f.Package = Package{Kind: PackageZip, Path: clean}
		} else {
			moduleNode := r.get(fn, "module")
			module := r.need(moduleNode, "functions."+name+".module")
			if module == "" {
				module = "."
			}
			clean, ok := within(cfg.Dir, module)
			if !ok {
				r.fail(moduleNode, "keep the function's module inside the service folder", "functions.%s.module %s is outside the service folder %s: lambdapack packages only files inside it", name, module, cfg.Dir)
				continue
			}
			if !isDir(filepath.Join(cfg.Dir, filepath.FromSlash(clean))) {
				r.fail(moduleNode, "fix the path (relative to the service folder)", "functions.%s.module %s is not a folder", name, module)
				continue
			}
			ownPkg := fnPkg
			if !r.flag(r.get(svcPkg, "individually"), "package.individually") && !r.flag(r.get(fnPkg, "individually"), "functions."+name+".package.individually") &&
				(r.get(fnPkg, "patterns") != nil || r.get(fnPkg, "include") != nil || r.get(fnPkg, "exclude") != nil) {
				// The framework packages such functions in the service's one
				// zip, with the service's patterns only.
				cfg.note(r.pos(k), LevelNote, "functions.%s.package patterns apply only with package.individually: true, so the Serverless Framework ignores them, and so does lambdapack", name)
				ownPkg = nil
			}
			m, err := r.matcher(clean, svcPkg, ownPkg, layerPaths, useDotenv)
			if err != nil {
				r.errs = append(r.errs, err)
				continue
			}
			f.Package = Package{Kind: PackageFolder, Path: clean, Files: m}
			d, err := r.functionDeps(clean, rules)
			if err != nil {
				r.errs = append(r.errs, err)
				continue
			}
			if useLayer && !d.Empty() {
				layerRuntimes[rt] = true
				layerArchs[arch] = true
				f.Layers = append(f.Layers, LayerUse{Name: "pythonRequirements", Pos: r.pos(r.get(pr, "layer"))})
			} else {
				f.Deps = d
			}
		}
		layersNode := r.get(fn, "layers")
		if layersNode == nil {
			layersNode = providerLayers
		}
		for _, l := range items(layersNode) {
			r.layerRef(&f, l, layerByRef)
		}
		f.Environment = r.environment(providerEnv, r.get(fn, "environment"))
		if slices.Contains(plugins, "serverless-wsgi") && strings.HasPrefix(f.Handler, "wsgi_handler.") {
			r.wsgi(&f, k)
		}
		cfg.Functions = append(cfg.Functions, f)
	}
	if useLayer && len(layerRuntimes) > 0 {
		d, err := r.cfg.discoverDeps(".", rules)
		if err != nil {
			r.errs = append(r.errs, err)
		}
		l := Layer{Name: "pythonRequirements", Deps: d, Options: opts, Pos: r.pos(r.get(pr, "layer")), Layout: "python",
			Keys: LayerKeys{Runtimes: "provider.runtime", Archs: "provider.architecture"}}
		for rt := range layerRuntimes {
			l.Runtimes = append(l.Runtimes, rt)
		}
		sort.Strings(l.Runtimes)
		for a := range layerArchs {
			l.Archs = append(l.Archs, a)
		}
		sortedArchs(l.Archs)
		cfg.Layers = append(cfg.Layers, l)
	}
	return errors.Join(r.errs...)
}

// functionDeps reads a function's dependencies from its module folder; an
// explicit fileName missing there is looked for in the service folder (as
// the plugin does for the service-wide package) and is an error when it is
// in neither.
func (r *slsReader) functionDeps(module string, rules depRules) (Deps, error) {
	if module == "." || !rules.explicit {
		return r.cfg.discoverDeps(module, rules)
	}
	loose := rules
	loose.explicit = false
	d, err := r.cfg.discoverDeps(module, loose)
	if err != nil || !d.Empty() {
		return d, err
	}
	if isFile(filepath.Join(r.cfg.Dir, filepath.FromSlash(rules.fileName))) {
		return Deps{}, nil
	}
	return r.cfg.discoverDeps(module, rules)
}

// mapping reads a section that must be a mapping.
func (r *slsReader) mapping(n *yaml.Node, what string) ([]*yaml.Node, []*yaml.Node) {
	if isNull(n) {
		return nil, nil
	}
	if n.Kind == yaml.ScalarNode {
		n2, err := r.node(n, varCtx{})
		if err != nil {
			r.varFail(n, fmt.Errorf("%s: %w", what, err))
			return nil, nil
		}
		n = n2
	}
	if n.Kind != yaml.MappingNode {
		r.fail(n, "write it as a mapping of names", "%s must be a mapping, not a %s", what, kindName(n))
		return nil, nil
	}
	ks, vs := pairs(n)
	for i := range vs {
		v, err := r.node(vs[i], varCtx{})
		if err != nil {
			r.varFail(vs[i], fmt.Errorf("%s.%s: %w", what, ks[i].Value, err))
			v = nil
		}
		vs[i] = v
	}
	return ks, vs
}

// functions reads functions:, a mapping or a list of mappings (each may be a
// ${file()}), in order.
func (r *slsReader) functions() ([]*yaml.Node, []*yaml.Node) {
	n := r.get(r.root, "functions")
	if isNull(n) {
		return nil, nil
	}
	if n.Kind == yaml.ScalarNode {
		n2, err := r.node(n, varCtx{})
		if err != nil {
			r.varFail(n, fmt.Errorf("functions: %w", err))
			return nil, nil
		}
		n = n2
	}
	if n.Kind == yaml.SequenceNode {
		var ks, vs []*yaml.Node
		for _, it := range n.Content {
			m, err := r.node(it, varCtx{})
			if err != nil {
				r.varFail(it, fmt.Errorf("functions: %w", err))
				continue
			}
			k, v := r.mapping(m, "functions")
			ks, vs = append(ks, k...), append(vs, v...)
		}
		return ks, vs
	}
	return r.mapping(n, "functions")
}

// liftWorkers returns the functions serverless-lift adds for its queue
// constructs (constructs.<id>.worker, deployed as the function <id>Worker),
// in the order they are written, as function entries of the service.
func (r *slsReader) liftWorkers() ([]*yaml.Node, []*yaml.Node) {
	var ks, vs []*yaml.Node
	ids, cs := r.mapping(r.get(r.root, "constructs"), "constructs")
	for i, id := range ids {
		if typ, _ := r.str(r.get(cs[i], "type")); typ != "queue" {
			continue
		}
		w := r.get(cs[i], "worker")
		if w == nil || w.Kind != yaml.MappingNode {
			continue
		}
		name := id.Value + "Worker"
		r.cfg.note(r.pos(w), LevelNote, "serverless-lift's queue construct %s has a worker: built as function %s, as the plugin deploys it", id.Value, name)
		ks = append(ks, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: name, Line: id.Line, Column: id.Column})
		vs = append(vs, w)
	}
	return ks, vs
}

// plugins lists the plugins the config names, noting those whose additions
// lambdapack does not make.
func (r *slsReader) plugins() []string {
	n := r.get(r.root, "plugins")
	if n != nil && n.Kind == yaml.MappingNode {
		n = r.get(n, "modules")
	}
	var names, unknown []string
	for _, it := range items(n) {
		s, err := r.str(it)
		if err != nil || s == "" {
			continue
		}
		names = append(names, s)
		if what, ok := slsFunctionPlugins[s]; ok {
			r.cfg.note(r.pos(it), LevelNote, "plugin %s adds %s, which serverless.yml does not show: not built by lambdapack", s, what)
			continue
		}
		if !slsQuietPlugins[s] {
			unknown = append(unknown, s)
		}
	}
	r.cfg.Plugins = names
	if len(unknown) > 0 {
		r.cfg.note(r.pos(n), LevelNote, "plugins %s are not run by lambdapack: a function or file they would add is not built (lambdapack builds what serverless.yml itself declares)", strings.Join(unknown, ", "))
	}
	return names
}

// matcher builds the file selection of a function packaged from module
// (relative to the service folder): lambdapack's defaults, the Serverless
// Framework's defaults and excludes, then includes and patterns in order.
func (r *slsReader) matcher(module string, svcPkg, fnPkg *yaml.Node, layerPaths []string, useDotenv bool) (*Matcher, error) {
	m := NewMatcher(module)
	for _, x := range DefaultExcludes {
		m.MustAdd(x, SyntaxName, true, "lambdapack's defaults")
	}
	for _, p := range layerPaths {
		if err := m.Add(strings.TrimSuffix(p, "/")+"/**", SyntaxServerless, true, "the layers' folders"); err != nil {
			return nil, err
		}
	}
	if err := r.patterns(m, svcPkg, fnPkg, "function package", useDotenv); err != nil {
		return nil, err
	}
	return m, nil
}

// patterns adds the Serverless Framework's own excludes, then the
// service's and the function's or layer's (own, its keys named ownKey)
// exclude, include and patterns in the framework's order.
func (r *slsReader) patterns(m *Matcher, svcPkg, own *yaml.Node, ownKey string, useDotenv bool) error {
	for _, x := range slsDefaultExcludes {
		m.MustAdd(x, SyntaxServerless, true, "the Serverless Framework's defaults")
	}
	m.MustAdd(filepath.Base(r.cfg.File), SyntaxServerless, true, "the Serverless Framework's defaults")
	if useDotenv {
		m.MustAdd(".env*", SyntaxServerless, true, "useDotenv")
	}
	type src struct {
		n       *yaml.Node
		key     string
		exclude bool
	}
	for _, s := range []src{
		{r.get(svcPkg, "exclude"), "package.exclude", true},
		{r.get(own, "exclude"), ownKey + ".exclude", true},
		{r.get(svcPkg, "include"), "package.include", false},
		{r.get(svcPkg, "patterns"), "package.patterns", false},
		{r.get(own, "include"), ownKey + ".include", false},
		{r.get(own, "patterns"), ownKey + ".patterns", false},
	} {
		for _, it := range items(s.n) {
			p := r.need(it, s.key)
			if p == "" {
				continue
			}
			if err := m.Add(p, SyntaxServerless, s.exclude, s.key); err != nil {
				return errorf(r.pos(it), "fix the pattern", "%s: %v", s.key, err)
			}
		}
	}
	return nil
}

// layer reads one entry of the layers: section: a folder zipped as it is
// (its package patterns applied), or a prebuilt package.artifact.
func (r *slsReader) layer(k, v, svcPkg *yaml.Node, useDotenv bool) (Layer, bool) {
	name := k.Value
	l := Layer{Name: name, Pos: r.pos(k), Keys: LayerKeys{Runtimes: "compatibleRuntimes", Archs: "compatibleArchitectures"}}
	rtNode := r.get(v, "compatibleRuntimes")
	if rtNode != nil {
		l.CompatibleRuntimes = []string{}
		for _, rt := range r.needs(rtNode, "layers."+name+".compatibleRuntimes") {
			l.CompatibleRuntimes = append(l.CompatibleRuntimes, rt)
			if isPythonRuntime(rt) {
				l.Runtimes = append(l.Runtimes, rt)
			}
		}
		l.Runtimes = r.cfg.metadataRuntimes(r.pos(rtNode), name, "compatibleRuntimes", l.Runtimes)
	}
	archNode := r.get(v, "compatibleArchitectures")
	if archNode != nil {
		l.CompatibleArchitectures = []target.Arch{}
		for _, a := range r.needs(archNode, "layers."+name+".compatibleArchitectures") {
			arch, err := normArch(r.pos(archNode), "layers."+name+".compatibleArchitectures", a)
			if err != nil {
				r.errs = append(r.errs, err)
				return l, false
			}
			l.CompatibleArchitectures = append(l.CompatibleArchitectures, arch)
		}
	}
	l.Archs = []target.Arch{target.X86_64}
	if len(l.CompatibleArchitectures) > 0 {
		l.Archs = l.CompatibleArchitectures[:1]
	}
	pkgNode := r.section(v, "package", "layers."+name+".package")
	if artNode := r.get(pkgNode, "artifact"); artNode != nil {
		art := r.need(artNode, "layers."+name+".package.artifact")
		if art == "" {
			return l, false
		}
		if strings.HasPrefix(art, "s3://") || strings.HasPrefix(art, "https://") {
			l.Package = Package{Kind: PackageSkip, Reason: "package.artifact " + art + " is already in S3"}
			return l, true
		}
		clean, ok := within(r.cfg.Dir, art)
		if !ok {
			r.fail(artNode, "keep the artifact inside the service folder", "layers.%s.package.artifact %s is outside the service folder %s", name, art, r.cfg.Dir)
			return l, false
		}
		if !isFile(filepath.Join(r.cfg.Dir, filepath.FromSlash(clean))) {
			r.fail(artNode, "build it first, or use path: to let lambdapack zip the folder", "layers.%s.package.artifact %s does not exist", name, art)
			return l, false
		}
		l.Package = Package{Kind: PackageZip, Path: clean}
		return l, true
	}
	pathNode := r.get(v, "path")
	p := r.need(pathNode, "layers."+name+".path")
	if p == "" {
		if pathNode == nil {
			r.fail(k, "set path: to the layer's folder", "layer %s has no path", name)
		}
		return l, false
	}
	clean, ok := within(r.cfg.Dir, p)
	if !ok {
		r.fail(pathNode, "keep the layer's folder inside the service folder", "layers.%s.path %s is outside the service folder %s: lambdapack packages only files inside it", name, p, r.cfg.Dir)
		return l, false
	}
	abs := filepath.Join(r.cfg.Dir, filepath.FromSlash(clean))
	if !isDir(abs) {
		r.fail(pathNode, "fix the path (relative to the service folder)", "layers.%s.path %s is not a folder", name, p)
		return l, false
	}
	m := NewMatcher("")
	if err := r.patterns(m, svcPkg, pkgNode, "layers."+name+".package", useDotenv); err != nil {
		r.errs = append(r.errs, err)
		return l, false
	}
	l.Package = Package{Kind: PackageFolder, Path: clean, Files: m}
	if !isDir(filepath.Join(abs, "python")) {
		if isFile(filepath.Join(abs, "requirements.txt")) {
			l.Package.Prefix = "python/"
			l.Layout = "python"
			if len(l.Runtimes) > 1 {
				l.Runtimes = l.Runtimes[:1]
			}
			d, err := r.cfg.discoverDeps(clean, depRules{sls: true, pos: r.pos(pathNode)})
			if err != nil {
				r.errs = append(r.errs, err)
				return l, false
			}
			l.Deps = d
			leaveOutDeclaration(&l.Package, d)
			r.cfg.note(r.pos(k), LevelWarning, "layer %s: %s has a requirements.txt and no python/ folder, so the Serverless Framework would zip it without its packages; lambdapack builds the requirements and puts the folder's files under python/", name, clean)
		} else {
			r.cfg.note(r.pos(k), LevelWarning, "layer %s: %s has no python/ folder, and Python imports a layer's modules only from python/ (or python/lib/python3.X/site-packages/)", name, clean)
		}
	}
	return l, true
}

// normalizeSlsName is the Serverless Framework's normalization of a name in
// CloudFormation logical IDs: first letter upper-cased, "-" as "Dash", "_"
// as "Underscore".
func normalizeSlsName(s string) string {
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	return strings.NewReplacer("-", "Dash", "_", "Underscore").Replace(s)
}

// layerRef reads one entry of a function's (or provider's) layers.
func (r *slsReader) layerRef(f *Function, l *yaml.Node, byRef map[string]string) {
	id := ""
	if x, ok := ref(l); ok {
		id = x
	} else if l.Kind == yaml.MappingNode {
		f.ExternalLayers = append(f.ExternalLayers, describe(l))
		r.cfg.note(r.pos(l), LevelNote, "function %s: layer %s is resolved by CloudFormation at deploy time: an external layer, left to the deploy tool", f.Name, describe(l))
		return
	}
	switch {
	case id == "PythonRequirementsLambdaLayer":
		if !slices.ContainsFunc(f.Layers, func(u LayerUse) bool { return u.Name == "pythonRequirements" }) {
			f.Layers = append(f.Layers, LayerUse{Name: "pythonRequirements", Pos: r.pos(l)})
		}
		return
	case id != "":
		if name, ok := byRef[id]; ok {
			f.Layers = append(f.Layers, LayerUse{Name: name, Pos: r.pos(l)})
			return
		}
		f.ExternalLayers = append(f.ExternalLayers, "Ref: "+id)
		r.cfg.note(r.pos(l), LevelNote, "function %s: layer Ref %s is not a layer of this service: an external layer, left to the deploy tool", f.Name, id)
		return
	}
	s, expr := r.optStr(l)
	if expr != "" {
		f.ExternalLayers = append(f.ExternalLayers, expr)
		r.cfg.note(r.pos(l), LevelNote, "layer %s is only known at deploy time: an external layer, left to the deploy tool", expr)
		return
	}
	f.ExternalLayers = append(f.ExternalLayers, s)
	r.cfg.note(r.pos(l), LevelNote, "layer %s is an external layer, left to the deploy tool (lambdapack builds and verifies the layers this service defines)", s)
}

// environment merges provider.environment and the function's own (the
// function's value wins).
func (r *slsReader) environment(provider, own *yaml.Node) []EnvVar {
	vars := map[string]EnvVar{}
	for _, env := range []*yaml.Node{provider, own} {
		ks, vs := pairs(env)
		for i, k := range ks {
			v := EnvVar{Name: k.Value}
			v.Value, v.Expr = r.optStr(vs[i])
			vars[k.Value] = v
		}
	}
	return sortedEnv(vars)
}

// wsgiHandler is what lambdapack writes as wsgi_handler.py for a function
// that uses serverless-wsgi's handler: it loads the app named in
// .serverless-wsgi and hands each event to the serverless_wsgi module (the
// serverless-wsgi distribution), as the plugin's own handler does.
const wsgiHandler = `# Written by lambdapack in place of the serverless-wsgi plugin's handler.
import importlib
import json
import os

import serverless_wsgi

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".serverless-wsgi")) as _f:
    _config = json.load(_f)

_module, _, _attr = _config["app"].rpartition(".")
app = getattr(importlib.import_module(_module.replace("/", ".")), _attr)
serverless_wsgi.TEXT_MIME_TYPES.extend(_config.get("text_mime_types", []))


def handler(event, context):
    return serverless_wsgi.handle_request(app, event, context)
`

// wsgi adds what serverless-wsgi adds at deploy time to a function whose
// handler is wsgi_handler.handler: the handler module, its .serverless-wsgi
// config and the serverless-wsgi distribution.
func (r *slsReader) wsgi(f *Function, k *yaml.Node) {
	wsgi := r.section(r.section(r.root, "custom", "custom"), "wsgi", "custom.wsgi")
	appNode := r.get(wsgi, "app")
	app := r.need(appNode, "custom.wsgi.app")
	if app == "" {
		if appNode == nil {
			r.fail(k, "set custom.wsgi.app: app.app (the module and the WSGI application in it)", "function %s uses serverless-wsgi's wsgi_handler.handler but custom.wsgi.app is not set", f.Name)
		}
		return
	}
	conf := map[string]any{"app": app}
	if mt := r.needs(r.get(wsgi, "textMimeTypes"), "custom.wsgi.textMimeTypes"); len(mt) > 0 {
		conf["text_mime_types"] = mt
	}
	data, _ := json.Marshal(conf)
	f.Extra = []File{
		{Path: ".serverless-wsgi", Data: append(data, '\n'), Mode: 0o644},
		{Path: "wsgi_handler.py", Data: []byte(wsgiHandler), Mode: 0o644},
	}
	if f.Deps.Lock != "" {
		r.cfg.note(r.pos(k), LevelWarning, "function %s: serverless-wsgi's handler needs the serverless-wsgi package, which must be in %s", f.Name, f.Deps.Lock)
	} else if !slices.ContainsFunc(f.Deps.Inline, func(s string) bool { return strings.HasPrefix(strings.ToLower(s), "serverless-wsgi") }) {
		f.Deps.Inline = append(f.Deps.Inline, "serverless-wsgi")
	}
	r.cfg.note(r.pos(k), LevelNote, "serverless-wsgi's handler wsgi_handler.handler: lambdapack adds what the plugin would (wsgi_handler.py, .serverless-wsgi with app %s, and the serverless-wsgi package with Werkzeug) to the functions that use it", app)
}

// image reads a function's image: (a name of provider.ecr.images, an image
// URI, or a mapping with name or uri and command, entryPoint,
// workingDirectory). An image given by URI is built elsewhere: reason says
// so. ok is false when an error was recorded.
func (r *slsReader) image(fn string, n, provider *yaml.Node) (img *Image, reason string, ok bool) {
	key := "functions." + fn + ".image"
	img = &Image{}
	var name, uri string
	if n.Kind == yaml.MappingNode {
		name = r.need(r.get(n, "name"), key+".name")
		uri = r.need(r.get(n, "uri"), key+".uri")
		img.Command = r.needs(r.get(n, "command"), key+".command")
		img.EntryPoint = r.needs(r.get(n, "entryPoint"), key+".entryPoint")
		img.WorkingDirectory = r.need(r.get(n, "workingDirectory"), key+".workingDirectory")
	} else {
		s := r.need(n, key)
		if strings.ContainsAny(s, "/@:") {
			uri = s
		} else {
			name = s
		}
	}
	switch {
	case uri != "":
		return nil, "image " + uri + ": the image is built elsewhere", true
	case name == "":
		r.fail(n, "name an image of provider.ecr.images, or give its uri", "%s names no image", key)
		return nil, "", false
	}
	def := r.get(r.section(r.section(provider, "ecr", "provider.ecr"), "images", "provider.ecr.images"), name)
	if def == nil {
		r.fail(n, "define it under provider.ecr.images with path: (the folder with its Dockerfile)", "%s: no image %q in provider.ecr.images", key, name)
		return nil, "", false
	}
	if u := r.need(r.get(def, "uri"), "provider.ecr.images."+name+".uri"); u != "" {
		return nil, "image " + name + " (" + u + "): the image is built elsewhere", true
	}
	pathNode := r.get(def, "path")
	p := r.need(pathNode, "provider.ecr.images."+name+".path")
	ctx, inside := within(r.cfg.Dir, p)
	if !inside || !isDir(filepath.Join(r.cfg.Dir, filepath.FromSlash(ctx))) {
		r.fail(orNode(pathNode, def), "set path: to a folder inside the service folder", "provider.ecr.images.%s.path %q is not a folder inside the service folder", name, p)
		return nil, "", false
	}
	file := r.need(r.get(def, "file"), "provider.ecr.images."+name+".file")
	if file == "" {
		file = "Dockerfile"
	}
	df, inside := within(r.cfg.Dir, filepath.ToSlash(filepath.Join(filepath.FromSlash(ctx), filepath.FromSlash(file))))
	if !inside || !isFile(filepath.Join(r.cfg.Dir, filepath.FromSlash(df))) {
		r.fail(def, "put the Dockerfile in the image's path, or name it with file:", "provider.ecr.images.%s: no Dockerfile %s in %s", name, file, ctx)
		return nil, "", false
	}
	img.Dockerfile, img.Context, img.Tag = df, ctx, name
	img.Platform = r.need(r.get(def, "platform"), "provider.ecr.images."+name+".platform")
	args := map[string]EnvVar{}
	ks, vs := pairs(r.get(def, "buildArgs"))
	for i, k := range ks {
		v := EnvVar{Name: k.Value}
		v.Value, v.Expr = r.optStr(vs[i])
		args[k.Value] = v
	}
	img.BuildArgs = sortedEnv(args)
	return img, "", true
}

func orNode(a, b *yaml.Node) *yaml.Node {
	if a != nil {
		return a
	}
	return b
}
