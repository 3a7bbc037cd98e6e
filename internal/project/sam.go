package project

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// samReader reads an AWS SAM template. CloudFormation short tags (!Ref,
// !GetAtt, !Sub, ...) arrive as yaml.Node tags and are read, never lost:
// !Ref of a parameter resolves to its Default, !Ref of a layer resource
// links a function to that layer.
type samReader struct {
	cfg    *Config
	root   *yaml.Node
	params *yaml.Node
	errs   []error
}

func (r *samReader) pos(n *yaml.Node) Pos { return Pos{File: r.cfg.File, Line: line(n)} }

func (r *samReader) note(n *yaml.Node, format string, args ...any) {
	r.cfg.Notes = append(r.cfg.Notes, Note{Pos: r.pos(n), Msg: fmt.Sprintf(format, args...)})
}

// ref returns the logical ID a node refers to with !Ref or {Ref: X}.
func ref(n *yaml.Node) (string, bool) {
	if n == nil {
		return "", false
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!Ref" {
		return n.Value, true
	}
	if v := child(n, "Ref"); v != nil && v.Kind == yaml.ScalarNode {
		return v.Value, true
	}
	return "", false
}

// str reads a scalar, resolving !Ref to a parameter's Default. Other
// intrinsic functions are not static: ok is false.
func (r *samReader) str(n *yaml.Node) (string, bool) {
	if n == nil {
		return "", true
	}
	if id, isRef := ref(n); isRef {
		if d := path(r.params, id, "Default"); d != nil && d.Kind == yaml.ScalarNode {
			return d.Value, true
		}
		return "", false
	}
	if n.Kind != yaml.ScalarNode || strings.HasPrefix(n.Tag, "!") && n.Tag != "!!str" && !strings.HasPrefix(n.Tag, "!!") {
		return "", false
	}
	return n.Value, true
}

// must reads a scalar that has to be static, recording an error otherwise.
func (r *samReader) must(n *yaml.Node, what string) string {
	s, ok := r.str(n)
	if !ok {
		r.errs = append(r.errs, errorf(r.pos(n), "write the value itself or !Ref a parameter with a Default", "%s is not static (%s)", what, describe(n)))
	}
	return s
}

func describe(n *yaml.Node) string {
	if n.Tag != "" && strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		return n.Tag + " " + n.Value
	}
	if n.Kind == yaml.MappingNode && len(n.Content) > 0 {
		return n.Content[0].Value
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

func parseSAM(cfg *Config, data []byte) error {
	root, err := parseYAML(cfg.File, data)
	if err != nil {
		return err
	}
	r := &samReader{cfg: cfg, root: root, params: child(root, "Parameters")}
	globals := path(root, "Globals", "Function")
	resKeys, resVals := pairs(child(root, "Resources"))
	if len(resKeys) == 0 {
		return &Error{Pos: r.pos(root), Msg: "the template has no Resources", Hint: "add AWS::Serverless::Function resources"}
	}
	layerIDs := map[string]bool{}
	for i, k := range resKeys {
		typ, _ := r.str(child(resVals[i], "Type"))
		if typ == "AWS::Serverless::LayerVersion" {
			layerIDs[k.Value] = true
		}
	}
	for i, k := range resKeys {
		res := resVals[i]
		typ, _ := r.str(child(res, "Type"))
		props := child(res, "Properties")
		switch typ {
		case "AWS::Serverless::Function":
			r.function(k, props, child(res, "Metadata"), globals, layerIDs)
		case "AWS::Serverless::LayerVersion":
			r.layer(k, props, child(res, "Metadata"))
		case "AWS::Lambda::Function", "AWS::Lambda::LayerVersion":
			r.note(k, "%s (%s) is not built: lambdapack builds AWS::Serverless::Function and AWS::Serverless::LayerVersion", k.Value, typ)
		}
	}
	if len(cfg.Functions) == 0 && len(cfg.Layers) == 0 && len(cfg.Notes) == 0 {
		return &Error{Pos: r.pos(child(root, "Resources")), Msg: "the template has no AWS::Serverless::Function or AWS::Serverless::LayerVersion", Hint: "lambdapack builds those resource types"}
	}
	return errors.Join(r.errs...)
}

// prop returns a function property, falling back to Globals.Function.
func prop(props, globals *yaml.Node, key string) *yaml.Node {
	if v := child(props, key); v != nil {
		return v
	}
	return child(globals, key)
}

func (r *samReader) function(k, props, meta, globals *yaml.Node, layerIDs map[string]bool) {
	name := k.Value
	pos := r.pos(k)
	if pt, _ := r.str(prop(props, globals, "PackageType")); pt == "Image" {
		r.note(k, "function %s skipped: PackageType Image", name)
		return
	}
	rtNode := prop(props, globals, "Runtime")
	rt := r.must(rtNode, "function "+name+": Runtime")
	if rt == "" {
		r.errs = append(r.errs, errorf(pos, "set Runtime: python3.12 on the function or in Globals.Function", "function %s has no Runtime", name))
		return
	}
	if !isPythonRuntime(rt) {
		r.note(k, "function %s skipped: runtime %s is not a Python runtime", name, rt)
		return
	}
	archs := r.strs(prop(props, globals, "Architectures"), "function "+name+": Architectures")
	if len(archs) == 0 {
		archs = []string{"x86_64"}
	}
	if len(archs) > 1 {
		r.errs = append(r.errs, errorf(r.pos(prop(props, globals, "Architectures")), "Lambda takes exactly one architecture per function", "function %s lists %d architectures", name, len(archs)))
		return
	}
	arch, err := normArch(r.pos(prop(props, globals, "Architectures")), archs[0])
	if err != nil {
		r.errs = append(r.errs, err)
		return
	}
	codeURI := r.must(prop(props, globals, "CodeUri"), "function "+name+": CodeUri")
	if codeURI == "" {
		codeURI = "."
	}
	if strings.HasPrefix(codeURI, "s3://") {
		r.note(k, "function %s skipped: its CodeUri is already in S3", name)
		return
	}
	f := Function{
		Name:    name,
		Handler: r.must(prop(props, globals, "Handler"), "function "+name+": Handler"),
		Source:  filepath.ToSlash(filepath.Clean(codeURI)),
		Runtime: rt,
		Arch:    arch,
		Pos:     pos,
	}
	if bm, _ := r.str(child(meta, "BuildMethod")); bm == "makefile" {
		r.note(k, "function %s: Metadata.BuildMethod makefile is not run; lambdapack builds its requirements.txt", name)
	}
	req := filepath.ToSlash(filepath.Join(f.Source, "requirements.txt"))
	if _, err := os.Stat(filepath.Join(r.cfg.Dir, filepath.FromSlash(req))); err == nil {
		f.Deps.Requirements = req
	}
	for _, l := range items(prop(props, globals, "Layers")) {
		if id, ok := ref(l); ok {
			if layerIDs[id] {
				f.Layers = append(f.Layers, id)
			} else {
				r.errs = append(r.errs, errorf(r.pos(l), "define it as an AWS::Serverless::LayerVersion resource or use the layer's ARN", "function %s uses !Ref %s, which is not a layer in this template", name, id))
			}
			continue
		}
		if s, ok := r.str(l); ok && s != "" {
			f.ExternalLayers = append(f.ExternalLayers, s)
		} else {
			r.note(l, "function %s: layer %s is not static and is not built here", name, describe(l))
		}
	}
	r.cfg.Functions = append(r.cfg.Functions, f)
}

func (r *samReader) layer(k, props, meta *yaml.Node) {
	name := k.Value
	pos := r.pos(k)
	content := r.must(child(props, "ContentUri"), "layer "+name+": ContentUri")
	if content == "" {
		r.errs = append(r.errs, errorf(pos, "set ContentUri to the folder with the layer's requirements.txt", "layer %s has no ContentUri", name))
		return
	}
	if strings.HasPrefix(content, "s3://") {
		r.note(k, "layer %s skipped: its ContentUri is already in S3", name)
		return
	}
	l := Layer{Name: name, Pos: pos}
	l.Runtimes = r.strs(child(props, "CompatibleRuntimes"), "layer "+name+": CompatibleRuntimes")
	bm, _ := r.str(child(meta, "BuildMethod"))
	if len(l.Runtimes) == 0 && isPythonRuntime(bm) {
		l.Runtimes = []string{bm}
	}
	if len(l.Runtimes) == 0 {
		r.errs = append(r.errs, errorf(pos, "set CompatibleRuntimes or Metadata.BuildMethod: python3.12", "layer %s names no Python runtime", name))
		return
	}
	archs := r.strs(child(props, "CompatibleArchitectures"), "layer "+name+": CompatibleArchitectures")
	if ba, _ := r.str(child(meta, "BuildArchitecture")); ba != "" {
		if len(archs) > 0 && !slices.Contains(archs, ba) {
			r.errs = append(r.errs, errorf(r.pos(child(meta, "BuildArchitecture")), "add it to CompatibleArchitectures", "layer %s is built for %s but CompatibleArchitectures is %v", name, ba, archs))
			return
		}
		if len(archs) == 0 {
			archs = []string{ba}
		}
	}
	if len(archs) == 0 {
		archs = []string{"x86_64"}
	}
	for _, a := range archs {
		arch, err := normArch(r.pos(child(props, "CompatibleArchitectures")), a)
		if err != nil {
			r.errs = append(r.errs, err)
			return
		}
		l.Archs = append(l.Archs, arch)
	}
	src := filepath.ToSlash(filepath.Clean(content))
	req := filepath.ToSlash(filepath.Join(src, "requirements.txt"))
	if _, err := os.Stat(filepath.Join(r.cfg.Dir, filepath.FromSlash(req))); err != nil {
		r.errs = append(r.errs, errorf(pos, "put the layer's requirements.txt in "+src, "layer %s: %s does not exist", name, req))
		return
	}
	l.Deps.Requirements = req
	r.cfg.Layers = append(r.cfg.Layers, l)
}
