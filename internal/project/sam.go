package project

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	yaml "go.yaml.in/yaml/v3"

	"github.com/lambdapack/lambdapack/internal/target"
)

// SAMExcludes are the files `sam build` leaves out of a Python function or
// layer (aws-lambda-builders' python_pip workflow), matched by name at any
// depth. lambdapack leaves out the same, and its own build outputs.
var SAMExcludes = []string{
	".aws-sam", ".chalice", ".git", ".gitignore", "*.pyc", "__pycache__", "*.so", ".Python", "*.egg-info", "*.egg",
	"pip-log.txt", "pip-delete-this-directory.txt", "htmlcov", ".tox", ".nox", ".coverage", ".cache", ".pytest_cache",
	".python-version", ".mypy_cache", ".dmypy.json", ".pyre", ".env", ".venv", "venv", "venv.bak", "env.bak", "ENV", "env",
	".vscode", ".idea",
}

// samReader reads an AWS SAM template. CloudFormation short tags (!Ref,
// !GetAtt, !Sub, ...) arrive as yaml.Node tags and are read, never lost:
// !Ref of a parameter resolves to its Default, !Ref of a layer resource
// links a function to that layer.
type samReader struct {
	cfg       *Config
	root      *yaml.Node
	params    *yaml.Node
	overrides map[string]string // parameter values given at build time
	section   string            // the samconfig command section read ("build", "local_invoke")
	resources map[string]string // logical ID -> Type
	errs      []error
	external  map[string][]string // external layer as written -> functions
	extPos    map[string]Pos
}

func (r *samReader) pos(n *yaml.Node) Pos { return Pos{File: r.cfg.File, Line: line(n)} }

func (r *samReader) fail(n *yaml.Node, hint, format string, args ...any) {
	r.errs = append(r.errs, errorf(r.pos(n), hint, format, args...))
}

// ref returns the logical ID a node refers to with !Ref or {Ref: X}.
func ref(n *yaml.Node) (string, bool) {
	if n == nil {
		return "", false
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!Ref" {
		return n.Value, true
	}
	if v := child(n, "Ref"); v != nil && v.Kind == yaml.ScalarNode && len(n.Content) == 2 {
		return v.Value, true
	}
	return "", false
}

var subVar = regexp.MustCompile(`\$\{([^}!]+)\}`)

// str reads a scalar, resolving !Ref to a parameter's Default and a !Sub
// whose variables are such parameters. Other intrinsic functions are not
// static: ok is false.
func (r *samReader) str(n *yaml.Node) (string, bool) {
	if n == nil {
		return "", true
	}
	if id, isRef := ref(n); isRef {
		return r.param(id)
	}
	sub := ""
	switch {
	case n.Kind == yaml.ScalarNode && n.Tag == "!Sub":
		sub = n.Value
	case n.Kind == yaml.MappingNode && len(n.Content) == 2 && n.Content[0].Value == "Fn::Sub" && n.Content[1].Kind == yaml.ScalarNode:
		sub = n.Content[1].Value
	}
	if sub != "" {
		ok := true
		out := subVar.ReplaceAllStringFunc(sub, func(m string) string {
			v, found := r.param(m[2 : len(m)-1])
			if !found {
				ok = false
			}
			return v
		})
		return out, ok
	}
	if n.Kind != yaml.ScalarNode || strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		return "", false
	}
	if n.Tag == "!!null" {
		return "", true
	}
	return n.Value, true
}

func (r *samReader) param(id string) (string, bool) {
	if v, ok := r.overrides[id]; ok {
		return v, true
	}
	if d := path(r.params, id, "Default"); d != nil && d.Kind == yaml.ScalarNode {
		return d.Value, true
	}
	return "", false
}

// must reads a scalar that has to be static, recording an error otherwise.
func (r *samReader) must(n *yaml.Node, what string) string {
	s, ok := r.str(n)
	if id, isRef := ref(n); !ok && isRef && child(r.params, id) != nil {
		r.fail(n, fmt.Sprintf("give it as sam takes it: --parameter-overrides %s=VALUE (or parameter_overrides in samconfig.toml's [default.%s.parameters]), or give the parameter a Default", id, r.section),
			"%s is !Ref %s, a parameter without a Default: lambdapack cannot tell what to build", what, id)
		return s
	}
	if !ok {
		r.fail(n, "write the value itself or !Ref a parameter with a Default", "%s is not static (%s): lambdapack cannot tell what to build", what, describe(n))
	}
	return s
}

func describe(n *yaml.Node) string {
	if n == nil {
		return ""
	}
	if n.Tag != "" && strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		if n.Kind == yaml.ScalarNode {
			return n.Tag + " " + n.Value
		}
		return n.Tag + " ..."
	}
	if n.Kind == yaml.MappingNode && len(n.Content) > 0 {
		if n.Content[1].Kind == yaml.ScalarNode {
			return n.Content[0].Value + ": " + n.Content[1].Value
		}
		return n.Content[0].Value + ": ..."
	}
	return n.Value
}

func (r *samReader) strs(n *yaml.Node, what string) []string {
	var out []string
	for _, it := range items(n) {
		if s := r.must(it, what); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func parseSAM(cfg *Config, data []byte, params map[string]string, samconfigCmd string) error {
	root, err := parseYAML(cfg.File, data)
	if err != nil {
		return err
	}
	overrides, err := samconfigParams(cfg.Dir, samconfigCmd)
	if err != nil {
		return err
	}
	if overrides == nil {
		overrides = map[string]string{}
	}
	for k, v := range params {
		overrides[k] = v
	}
	if err := checkScalarKeys(cfg.File, root, 0); err != nil {
		return err
	}
	r := &samReader{cfg: cfg, root: root, params: child(root, "Parameters"), overrides: overrides, section: samconfigCmd, resources: map[string]string{},
		external: map[string][]string{}, extPos: map[string]Pos{}}
	globals := path(root, "Globals", "Function")
	resKeys, resVals := pairs(child(root, "Resources"))
	if len(resKeys) == 0 {
		return &Error{Pos: r.pos(root), Msg: "the template has no Resources", Hint: "add AWS::Serverless::Function resources"}
	}
	for i, k := range resKeys {
		typ, _ := r.str(child(resVals[i], "Type"))
		r.resources[k.Value] = typ
	}
	for i, k := range resKeys {
		res := resVals[i]
		typ := r.resources[k.Value]
		props := child(res, "Properties")
		switch typ {
		case "AWS::Serverless::Function":
			r.function(k, props, child(res, "Metadata"), globals)
		case "AWS::Serverless::LayerVersion":
			r.layer(k, props, child(res, "Metadata"))
		case "AWS::Lambda::Function":
			cfg.note(r.pos(k), LevelNote, "%s (AWS::Lambda::Function) is not built: lambdapack builds AWS::Serverless::Function resources", k.Value)
		case "AWS::Serverless::Application", "AWS::CloudFormation::Stack":
			cfg.note(r.pos(k), LevelNote, "%s (%s) is a nested application: build its own template with lambdapack build --config", k.Value, typ)
		}
	}
	// A function's use of a layer that is not built here (its ContentUri
	// is already in S3) is the deploy tool's business.
	for i := range cfg.Functions {
		f := &cfg.Functions[i]
		var keep []LayerUse
		for _, u := range f.Layers {
			if l, ok := cfg.Layer(u.Name); ok && l.Package.Skipped() {
				r.externalLayer(f.Name, "!Ref "+u.Name, u.Pos, "layer "+u.Name+" is not built here ("+l.Package.Reason+")")
				continue
			}
			keep = append(keep, u)
		}
		f.Layers = keep
	}
	for _, x := range sortedKeys(r.external) {
		cfg.note(r.extPos[x], LevelNote, "%s: an external layer, used by %s; left to the deploy tool (lambdapack builds and verifies only the layers this template defines as AWS::Serverless::LayerVersion)", x, strings.Join(uniq(r.external[x]), ", "))
	}
	if len(r.errs) > 0 {
		return errors.Join(r.errs...)
	}
	if len(cfg.Functions) == 0 && len(cfg.Layers) == 0 && len(cfg.Notes) == 0 {
		return &Error{Pos: r.pos(child(root, "Resources")), Msg: "the template has no AWS::Serverless::Function or AWS::Serverless::LayerVersion", Hint: "lambdapack builds those resource types"}
	}
	return errors.Join(r.errs...)
}

func (r *samReader) externalLayer(fn, what string, pos Pos, why string) {
	key := what
	if why != "" {
		key = what + " (" + why + ")"
	}
	if _, ok := r.extPos[key]; !ok {
		r.extPos[key] = pos
	}
	r.external[key] = append(r.external[key], fn)
}

// prop returns a function property, falling back to Globals.Function.
func prop(props, globals *yaml.Node, key string) *yaml.Node {
	if v := child(props, key); v != nil {
		return v
	}
	return child(globals, key)
}

func (r *samReader) function(k, props, meta, globals *yaml.Node) {
	name := k.Value
	f := Function{Name: name, Pos: r.pos(k)}
	r.run(&f, props, globals)
	skip := func(format string, args ...any) {
		f.Package = Package{Kind: PackageSkip, Reason: fmt.Sprintf(format, args...)}
		r.cfg.Functions = append(r.cfg.Functions, f)
	}
	if pt, _ := r.str(prop(props, globals, "PackageType")); pt == "Image" {
		r.imageFunction(k, props, meta, globals, f)
		return
	}
	if ic := child(props, "InlineCode"); ic != nil {
		skip("InlineCode: its code is written in the template, so there is nothing to package")
		return
	}
	rtNode := prop(props, globals, "Runtime")
	f.Runtime = r.must(rtNode, "function "+name+": Runtime")
	if f.Runtime == "" {
		if rtNode == nil {
			r.fail(k, "set Runtime: python3.12 on the function or in Globals.Function", "function %s has no Runtime", name)
		}
		return
	}
	if !isPythonRuntime(f.Runtime) {
		skip("Runtime %s is not a Python runtime", f.Runtime)
		return
	}
	arch, ok := r.arch(name, props, globals)
	if !ok {
		return
	}
	f.Arch = arch
	f.Handler = r.must(prop(props, globals, "Handler"), "function "+name+": Handler")
	codeNode := prop(props, globals, "CodeUri")
	if codeNode != nil && codeNode.Kind == yaml.MappingNode && child(codeNode, "Bucket") != nil {
		skip("CodeUri is an S3 location (Bucket, Key): already packaged")
		return
	}
	codeURI := r.must(codeNode, "function "+name+": CodeUri")
	if strings.HasPrefix(codeURI, "s3://") {
		skip("CodeUri %s is already in S3", codeURI)
		return
	}
	pkg, ok := r.localPackage(codeNode, "function "+name+": CodeUri", codeURI, true)
	if !ok {
		return
	}
	f.Package = pkg
	bm, _ := r.str(child(meta, "BuildMethod"))
	if pkg.Kind == PackageFolder {
		mk, fromMake := makeBuild{}, false
		if bm == "makefile" {
			mk, fromMake = readMakeTarget(filepath.Join(r.cfg.Dir, filepath.FromSlash(pkg.Path)), "build-"+name)
			if !fromMake {
				r.cfg.note(r.pos(child(meta, "BuildMethod")), LevelNote, "function %s: Metadata.BuildMethod makefile: lambdapack does not run the Makefile; it packages %s as it is, with the dependencies its requirements.txt declares (check that the Makefile does nothing more)", name, pkg.Path)
			}
			pkg.Files.MustAdd("Makefile", SyntaxName, true, "Metadata.BuildMethod makefile")
		}
		d, err := r.cfg.discoverDeps(pkg.Path, depRules{pos: r.pos(codeNode)})
		if err != nil {
			r.errs = append(r.errs, err)
			return
		}
		f.Deps = d
		if fromMake {
			f.Deps = r.makeDeps(d, mk, pkg.Path, r.pos(child(meta, "BuildMethod")), "function "+name)
		}
	}
	// Globals' Layers come first, then the function's own (SAM appends
	// lists).
	var layerNodes []*yaml.Node
	layerNodes = append(layerNodes, items(child(globals, "Layers"))...)
	layerNodes = append(layerNodes, items(child(props, "Layers"))...)
	for _, l := range layerNodes {
		r.layerRef(&f, l)
	}
	f.Environment = r.environment(child(globals, "Environment"), child(props, "Environment"))
	r.cfg.Functions = append(r.cfg.Functions, f)
}

// arch reads a function's one architecture (x86_64 when unset); ok is
// false when an error was recorded.
func (r *samReader) arch(name string, props, globals *yaml.Node) (target.Arch, bool) {
	archNode := prop(props, globals, "Architectures")
	archs := r.strs(archNode, "function "+name+": Architectures")
	if len(archs) == 0 {
		archs = []string{"x86_64"}
	}
	if len(archs) > 1 {
		r.fail(archNode, "Lambda takes exactly one architecture per function", "function %s lists %d Architectures", name, len(archs))
		return "", false
	}
	arch, err := normArch(r.pos(archNode), "function "+name+": Architectures", archs[0])
	if err != nil {
		r.errs = append(r.errs, err)
		return "", false
	}
	return arch, true
}

// imageFunction reads a PackageType Image function: its Dockerfile and
// context (Metadata), its tag and build arguments, and ImageConfig. An
// ImageUri without Metadata is an image built elsewhere: skipped.
func (r *samReader) imageFunction(k, props, meta, globals *yaml.Node, f Function) {
	name := k.Value
	arch, ok := r.arch(name, props, globals)
	if !ok {
		return
	}
	f.Arch = arch
	dfNode := child(meta, "Dockerfile")
	if dfNode == nil {
		if uri, _ := r.str(prop(props, globals, "ImageUri")); uri != "" {
			f.Package = Package{Kind: PackageSkip, Reason: "ImageUri " + uri + ": the image is built elsewhere"}
			r.cfg.Functions = append(r.cfg.Functions, f)
			return
		}
		r.fail(k, "add Metadata with Dockerfile and DockerContext (as sam build needs), or ImageUri", "function %s has PackageType Image but no Metadata.Dockerfile and no ImageUri", name)
		return
	}
	img := &Image{Tag: r.must(child(meta, "DockerTag"), "function "+name+": Metadata.DockerTag")}
	ctxNode := child(meta, "DockerContext")
	ctx := r.must(ctxNode, "function "+name+": Metadata.DockerContext")
	if ctx == "" {
		ctx = "."
	}
	if filepath.IsAbs(ctx) {
		r.fail(ctxNode, "write a path relative to the template", "function %s: Metadata.DockerContext %s is an absolute path", name, ctx)
		return
	}
	img.Context = filepath.ToSlash(filepath.Clean(filepath.FromSlash(ctx)))
	if !isDir(filepath.Join(r.cfg.Dir, filepath.FromSlash(img.Context))) {
		r.fail(ctxNode, "fix the path (relative to "+r.cfg.Dir+")", "function %s: Metadata.DockerContext %s is not a folder", name, ctx)
		return
	}
	df := r.must(dfNode, "function "+name+": Metadata.Dockerfile")
	img.Dockerfile = filepath.ToSlash(filepath.Clean(filepath.Join(filepath.FromSlash(img.Context), filepath.FromSlash(df))))
	if df == "" || filepath.IsAbs(df) || !isFile(filepath.Join(r.cfg.Dir, filepath.FromSlash(img.Dockerfile))) {
		r.fail(dfNode, "name the Dockerfile relative to Metadata.DockerContext", "function %s: Metadata.Dockerfile %s is not a file in %s", name, df, img.Context)
		return
	}
	img.BuildArgs = r.vars(child(meta, "DockerBuildArgs"))
	ic := prop(props, globals, "ImageConfig")
	img.Command = r.strs(child(ic, "Command"), "function "+name+": ImageConfig.Command")
	img.EntryPoint = r.strs(child(ic, "EntryPoint"), "function "+name+": ImageConfig.EntryPoint")
	img.WorkingDirectory = r.must(child(ic, "WorkingDirectory"), "function "+name+": ImageConfig.WorkingDirectory")
	if len(img.Command) > 0 {
		f.Handler = img.Command[0]
	}
	f.Image = img
	f.Package = Package{Kind: PackageNone}
	for _, l := range items(child(props, "Layers")) {
		r.fail(l, "bake what the layer holds into the image", "function %s: an image function cannot use Layers", name)
		return
	}
	f.Environment = r.environment(child(globals, "Environment"), child(props, "Environment"))
	r.cfg.Functions = append(r.cfg.Functions, f)
}

// localPackage reads a CodeUri or ContentUri that names a local folder, a
// .zip or (for functions) a single .py file.
func (r *samReader) localPackage(n *yaml.Node, what, uri string, function bool) (Package, bool) {
	if uri == "" {
		uri = "."
	}
	clean := filepath.ToSlash(filepath.Clean(filepath.FromSlash(uri)))
	if filepath.IsAbs(uri) {
		r.fail(n, "write a path relative to the template", "%s %s is an absolute path", what, uri)
		return Package{}, false
	}
	abs := filepath.Join(r.cfg.Dir, filepath.FromSlash(clean))
	st, err := os.Stat(abs)
	if err != nil {
		r.fail(n, "fix the path (relative to "+r.cfg.Dir+")", "%s %s does not exist", what, uri)
		return Package{}, false
	}
	if strings.HasPrefix(clean, "../") {
		r.cfg.note(r.pos(n), LevelNote, "%s %s is outside the template's folder: packaged from there, as SAM does", what, uri)
	}
	switch {
	case st.IsDir():
		m := NewMatcher("")
		for _, x := range SAMExcludes {
			m.MustAdd(x, SyntaxName, true, "sam build's excludes")
		}
		return Package{Kind: PackageFolder, Path: clean, Files: m}, true
	case st.Mode().IsRegular() && strings.HasSuffix(strings.ToLower(clean), ".zip"):
		return Package{Kind: PackageZip, Path: clean}, true
	case function && st.Mode().IsRegular() && strings.HasSuffix(clean, ".py"):
		return Package{Kind: PackageFile, Path: clean}, true
	}
	kind := "a folder or a .zip"
	if function {
		kind = "a folder, a .zip or a .py file"
	}
	r.fail(n, "point it at "+kind, "%s %s is not %s", what, uri, kind)
	return Package{}, false
}

// layerRef reads one entry of a function's Layers.
func (r *samReader) layerRef(f *Function, l *yaml.Node) {
	if id, ok := ref(l); ok {
		switch typ, known := r.resources[id]; {
		case typ == "AWS::Serverless::LayerVersion":
			f.Layers = append(f.Layers, LayerUse{Name: id, Pos: r.pos(l)})
		case typ == "AWS::Lambda::LayerVersion":
			f.ExternalLayers = append(f.ExternalLayers, "!Ref "+id)
			r.externalLayer(f.Name, "!Ref "+id, r.pos(l), "an AWS::Lambda::LayerVersion, which CloudFormation makes from its Content")
		case known:
			r.fail(l, "refer to an AWS::Serverless::LayerVersion or a layer ARN", "function %s: Layers: !Ref %s is a %s, not a layer", f.Name, id, typ)
		case r.params != nil && child(r.params, id) != nil:
			if v, ok := r.param(id); ok && v != "" {
				f.ExternalLayers = append(f.ExternalLayers, v)
				r.externalLayer(f.Name, v, r.pos(l), "the Default of parameter "+id)
			} else {
				f.ExternalLayers = append(f.ExternalLayers, "!Ref "+id)
				r.externalLayer(f.Name, "!Ref "+id, r.pos(l), "a parameter given at deploy time")
			}
		default:
			r.fail(l, "define it as an AWS::Serverless::LayerVersion resource or use the layer's ARN", "function %s uses !Ref %s, which is not a layer or parameter in this template", f.Name, id)
		}
		return
	}
	if s, ok := r.str(l); ok && s != "" && l.Tag != "!Sub" {
		f.ExternalLayers = append(f.ExternalLayers, s)
		r.externalLayer(f.Name, s, r.pos(l), "")
		return
	}
	f.ExternalLayers = append(f.ExternalLayers, describe(l))
	r.externalLayer(f.Name, describe(l), r.pos(l), "resolved at deploy time")
}

// environment merges Globals' and the function's Environment.Variables
// (the function's value wins).
func (r *samReader) environment(global, own *yaml.Node) []EnvVar {
	return r.vars(child(global, "Variables"), child(own, "Variables"))
}

// vars reads mappings of names to values (a later mapping's value wins),
// sorted by name; a value that is not static keeps its expression.
func (r *samReader) vars(maps ...*yaml.Node) []EnvVar {
	vars := map[string]EnvVar{}
	for _, m := range maps {
		ks, vs := pairs(m)
		for i, k := range ks {
			v := EnvVar{Name: k.Value}
			if s, ok := r.str(vs[i]); ok {
				v.Value = s
			} else {
				v.Expr = describe(vs[i])
			}
			vars[k.Value] = v
		}
	}
	return sortedEnv(vars)
}

func sortedEnv(vars map[string]EnvVar) []EnvVar {
	if len(vars) == 0 {
		return nil
	}
	out := make([]EnvVar, 0, len(vars))
	for _, k := range sortedKeys(vars) {
		out = append(out, vars[k])
	}
	return out
}

func (r *samReader) layer(k, props, meta *yaml.Node) {
	name := k.Value
	l := Layer{Name: name, Pos: r.pos(k), Keys: LayerKeys{Runtimes: "CompatibleRuntimes", Archs: "CompatibleArchitectures", BuildArch: "Metadata.BuildArchitecture"}}
	contentNode := child(props, "ContentUri")
	if contentNode != nil && contentNode.Kind == yaml.MappingNode && child(contentNode, "Bucket") != nil {
		l.Package = Package{Kind: PackageSkip, Reason: "ContentUri is an S3 location (Bucket, Key): already packaged"}
		r.cfg.Layers = append(r.cfg.Layers, l)
		return
	}
	content := r.must(contentNode, "layer "+name+": ContentUri")
	if content == "" {
		r.fail(k, "set ContentUri to the layer's folder", "layer %s has no ContentUri", name)
		return
	}
	if strings.HasPrefix(content, "s3://") {
		l.Package = Package{Kind: PackageSkip, Reason: "ContentUri " + content + " is already in S3"}
		r.cfg.Layers = append(r.cfg.Layers, l)
		return
	}
	bmNode := child(meta, "BuildMethod")
	bm, _ := r.str(bmNode)
	rtNode := child(props, "CompatibleRuntimes")
	if rtNode != nil {
		l.CompatibleRuntimes = append([]string{}, r.strs(rtNode, "layer "+name+": CompatibleRuntimes")...)
	}
	archNode := child(props, "CompatibleArchitectures")
	if archNode != nil {
		l.CompatibleArchitectures = []target.Arch{}
		for _, a := range r.strs(archNode, "layer "+name+": CompatibleArchitectures") {
			arch, err := normArch(r.pos(archNode), "layer "+name+": CompatibleArchitectures", a)
			if err != nil {
				r.errs = append(r.errs, err)
				return
			}
			l.CompatibleArchitectures = append(l.CompatibleArchitectures, arch)
		}
	}
	baNode := child(meta, "BuildArchitecture")
	ba, _ := r.str(baNode)
	var buildArch target.Arch
	if ba != "" {
		a, err := normArch(r.pos(baNode), "layer "+name+": Metadata.BuildArchitecture", ba)
		if err != nil {
			r.errs = append(r.errs, err)
			return
		}
		if l.CompatibleArchitectures != nil && !slices.Contains(l.CompatibleArchitectures, a) {
			r.fail(baNode, "add it to CompatibleArchitectures", "layer %s: Metadata.BuildArchitecture %s is not in CompatibleArchitectures %s", name, a, archList(l.CompatibleArchitectures))
			return
		}
		buildArch = a
	}
	pkg, ok := r.localPackage(contentNode, "layer "+name+": ContentUri", content, false)
	if !ok {
		return
	}
	pythonRTs := func() []string {
		var out []string
		for _, rt := range l.CompatibleRuntimes {
			if isPythonRuntime(rt) {
				out = append(out, rt)
			}
		}
		return r.cfg.metadataRuntimes(r.pos(rtNode), name, "CompatibleRuntimes", out)
	}
	build := false   // build requirements and put the folder's files under python/
	var mk makeBuild // the Makefile target of BuildMethod makefile, when mkOK
	mkOK := false
	switch {
	case pkg.Kind == PackageZip:
		l.Runtimes = pythonRTs()
		if bm != "" {
			r.cfg.note(r.pos(bmNode), LevelNote, "layer %s: ContentUri is a .zip, so Metadata.BuildMethod %s is not used: the zip is the layer", name, bm)
		}
	case isPythonRuntime(bm):
		build = true
		l.Runtimes = []string{bm}
		if pkg.Kind == PackageFolder && isDir(filepath.Join(r.cfg.Dir, filepath.FromSlash(pkg.Path), "python")) {
			// sam build copies the whole ContentUri under python/: a
			// python/ folder in it ends up at python/python/, which Python
			// does not import (aws/aws-sam-cli#2443). Built as sam builds
			// it, with a warning.
			r.cfg.note(r.pos(bmNode), LevelWarning, "layer %s: %s has a python/ folder, and Metadata.BuildMethod %s puts the whole ContentUri under python/, so its modules land in python/python/ where Python does not import them: move them up into %s, or remove Metadata.BuildMethod to zip the folder as it is", name, pkg.Path, bm, pkg.Path)
		}
	case bm == "makefile":
		build = true
		l.Runtimes = pythonRTs()
		if len(l.Runtimes) > 0 {
			l.Runtimes = l.Runtimes[:1]
		}
		if mk, mkOK = readMakeTarget(filepath.Join(r.cfg.Dir, filepath.FromSlash(pkg.Path)), "build-"+name); !mkOK {
			r.cfg.note(r.pos(bmNode), LevelNote, "layer %s: Metadata.BuildMethod makefile: lambdapack does not run the Makefile; it builds the requirements.txt of %s and puts the folder's own files under python/ (check that the Makefile does nothing more)", name, pkg.Path)
		}
		pkg.Files.MustAdd("Makefile", SyntaxName, true, "Metadata.BuildMethod makefile")
	case bm != "":
		l.Package = Package{Kind: PackageSkip, Path: pkg.Path, Reason: "Metadata.BuildMethod " + bm + " is not a Python build"}
		r.cfg.Layers = append(r.cfg.Layers, l)
		return
	default:
		// No BuildMethod: sam deploys the folder as it is.
		abs := filepath.Join(r.cfg.Dir, filepath.FromSlash(pkg.Path))
		hasPython := isDir(filepath.Join(abs, "python"))
		hasReq := isFile(filepath.Join(abs, "requirements.txt"))
		l.Runtimes = pythonRTs()
		switch {
		case hasPython:
			pkg.Files = NewMatcher("")
		case hasReq:
			build = true
			if len(l.Runtimes) > 0 {
				l.Runtimes = l.Runtimes[:1]
			}
			r.cfg.note(r.pos(k), LevelWarning, "layer %s has no Metadata.BuildMethod, so sam build would deploy %s as it is, with requirements.txt and without its packages; lambdapack builds it as BuildMethod python3.X would (add Metadata.BuildMethod to say so)", name, pkg.Path)
		default:
			pkg.Files = NewMatcher("")
			r.cfg.note(r.pos(k), LevelWarning, "layer %s: %s has no python/ folder, and Python imports a layer's modules only from python/ (or python/lib/python3.X/site-packages/)", name, pkg.Path)
		}
	}
	switch {
	case buildArch != "":
		l.Archs = []target.Arch{buildArch}
	case !build && len(l.CompatibleArchitectures) > 0:
		l.Archs = l.CompatibleArchitectures[:1]
	default:
		l.Archs = []target.Arch{target.X86_64}
	}
	if build {
		pkg.Prefix = "python/"
		l.Layout = "python"
		d, err := r.cfg.discoverDeps(pkg.Path, depRules{pos: r.pos(contentNode)})
		if err != nil {
			r.errs = append(r.errs, err)
			return
		}
		l.Deps = d
		if bm == "makefile" {
			if mkOK {
				l.Deps = r.makeDeps(d, mk, pkg.Path, r.pos(bmNode), "layer "+name)
				if !mk.Copies {
					// The target installs packages and copies nothing of the
					// folder: the layer is the packages alone.
					pkg = Package{Kind: PackageNone, Path: pkg.Path, Prefix: "python/"}
				}
			}
			if pkg.Kind == PackageFolder {
				leaveOutDeclaration(&pkg, d)
			}
		}
		// Otherwise the whole ContentUri goes under python/, its
		// requirements.txt included: sam build's python_pip workflow copies
		// the folder minus SAMExcludes (CopySourceAction) beside the
		// packages it installs.
	}
	l.Package = pkg
	r.cfg.Layers = append(r.cfg.Layers, l)
}

// leaveOutDeclaration leaves the file that declares a built layer's
// dependencies (its requirements.txt or lock, at the top of its folder) out
// of the layer's own files: the layer holds the packages it names, and the
// file itself is nothing Python imports.
func leaveOutDeclaration(pkg *Package, d Deps) {
	for _, f := range []string{d.Requirements, d.Lock} {
		if f == "" || filepath.ToSlash(filepath.Dir(filepath.FromSlash(f))) != pkg.Path {
			continue
		}
		pkg.Files.MustAdd("/"+filepath.Base(filepath.FromSlash(f)), SyntaxName, true, "the layer's dependency declaration")
	}
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// sortedArchs sorts architectures in place and returns them.
func sortedArchs(a []target.Arch) []target.Arch {
	sort.Slice(a, func(i, j int) bool { return a[i] < a[j] })
	return a
}

// makeDeps adds what a Makefile target installs to the dependencies d
// discovered in folder dir, and says what lambdapack builds in a note. It
// never drops a declared dependency: a requirements file the target does not
// install stays (it may be installed another way), and the packages the
// target names are added to it.
func (r *samReader) makeDeps(d Deps, mk makeBuild, dir string, pos Pos, what string) Deps {
	var said []string
	if len(mk.Requirements) == 1 {
		p := slashJoin(dir, mk.Requirements[0])
		if d.Requirements == "" && d.Lock == "" {
			d.Requirements = p
			d.Pos = pos
		}
		said = append(said, p)
	}
	if len(mk.Packages) > 0 {
		if d.Lock != "" {
			r.cfg.note(pos, LevelWarning, "%s: Makefile target %s installs %s beside the lock %s: lambdapack installs the lock only (add them to the lock)", what, mk.Target, strings.Join(mk.Packages, ", "), d.Lock)
		} else {
			d.Inline = append(d.Inline, mk.Packages...)
			if d.From == "" {
				d.From = "Makefile target " + mk.Target
				d.Pos = pos
			}
		}
		said = append(said, mk.Packages...)
	}
	installs := "nothing"
	if len(said) > 0 {
		installs = strings.Join(said, ", ")
	}
	copies := "and copies none of the folder's files"
	if mk.Copies {
		copies = "and copies the folder's files (lambdapack takes all of them)"
	}
	msg := "%s: Metadata.BuildMethod makefile: lambdapack does not run the Makefile; it builds what target %s installs (%s) %s"
	if mk.Other != "" {
		r.cfg.note(pos, LevelWarning, msg+"; it does not run %q: check that the artifact has what the Makefile makes", what, mk.Target, installs, copies, mk.Other)
	} else {
		r.cfg.note(pos, LevelNote, msg, what, mk.Target, installs, copies)
	}
	return d
}
