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
)

// The custom.pythonRequirements options of serverless-python-requirements
// that carry over, and those that lambdapack makes unnecessary.
var (
	slsCarried    = map[string]bool{"fileName": true, "layer": true, "noDeploy": true, "slim": true, "slimPatterns": true, "strip": true, "slimPatternsAppendDefaults": true}
	slsNotNeeded  = map[string]string{"dockerizePip": "lambdapack cross-builds without Docker", "dockerImage": "lambdapack cross-builds without Docker", "dockerFile": "lambdapack cross-builds without Docker", "dockerSsh": "lambdapack cross-builds without Docker", "dockerEnv": "lambdapack cross-builds without Docker", "dockerRunCmdExtraArgs": "lambdapack cross-builds without Docker", "useDownloadCache": "lambdapack always caches downloads by hash", "useStaticCache": "lambdapack rebuilds only what changed", "cacheLocation": "use --cache-dir", "zip": "lambdapack always builds zips", "pythonBin": "lambdapack needs no local Python to build", "invalidateCaches": "lambdapack's cache is content-addressed"}
	slsVarPattern = regexp.MustCompile(`\$\{([^{}]+)\}`)
)

type slsReader struct {
	cfg  *Config
	root *yaml.Node
	o    LoadOptions
	errs []error
}

func (r *slsReader) pos(n *yaml.Node) Pos { return Pos{File: r.cfg.File, Line: line(n)} }

func (r *slsReader) note(n *yaml.Node, format string, args ...any) {
	r.cfg.Notes = append(r.cfg.Notes, Note{Pos: r.pos(n), Msg: fmt.Sprintf(format, args...)})
}

// str returns a scalar's value with static ${...} variables resolved.
func (r *slsReader) str(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return ""
	}
	return r.resolve(n, n.Value, 0)
}

// resolve expands serverless variables that are static: ${self:a.b},
// ${opt:stage}, ${sls:stage}, ${env:NAME}, each with an optional fallback
// after a comma. Others (${file(...)}, ${ssm:...}, ${cf:...}) are left as
// written with a note.
func (r *slsReader) resolve(n *yaml.Node, s string, depth int) string {
	if depth > 10 {
		return s
	}
	return slsVarPattern.ReplaceAllStringFunc(s, func(m string) string {
		inner := m[2 : len(m)-1]
		ref, fallback, hasFallback := strings.Cut(inner, ",")
		ref = strings.TrimSpace(ref)
		fallback = strings.Trim(strings.TrimSpace(fallback), `'"`)
		val, ok := r.lookup(ref, depth)
		if !ok {
			if hasFallback {
				return r.resolve(n, fallback, depth+1)
			}
			r.note(n, "variable %s is not static; left as written", m)
			return m
		}
		return r.resolve(n, val, depth+1)
	})
}

func (r *slsReader) lookup(ref string, depth int) (string, bool) {
	kind, name, _ := strings.Cut(ref, ":")
	switch kind {
	case "self":
		v := path(r.root, strings.Split(name, ".")...)
		if v == nil || v.Kind != yaml.ScalarNode {
			return "", false
		}
		return r.resolve(v, v.Value, depth+1), true
	case "opt":
		if name == "stage" {
			return r.o.Stage, true
		}
		v, ok := r.o.Vars[name]
		return v, ok
	case "sls":
		if name == "stage" {
			return r.o.Stage, true
		}
	case "env":
		return r.o.Env(name)
	}
	return "", false
}

func (r *slsReader) strs(n *yaml.Node) []string {
	var out []string
	for _, it := range items(n) {
		if s := r.str(it); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func parseServerless(cfg *Config, data []byte, o LoadOptions) error {
	root, err := parseYAML(cfg.File, data)
	if err != nil {
		return err
	}
	r := &slsReader{cfg: cfg, root: root, o: o}
	provider := child(root, "provider")
	defRuntime := r.str(child(provider, "runtime"))
	defArch := r.str(child(provider, "architecture"))
	if defArch == "" {
		defArch = "x86_64"
	}

	pr := path(root, "custom", "pythonRequirements")
	reqFile := r.str(child(pr, "fileName"))
	if reqFile == "" {
		reqFile = "requirements.txt"
	}
	var opts Options
	keys, vals := pairs(pr)
	for i, k := range keys {
		switch {
		case k.Value == "noDeploy":
			opts.ExcludePackages = r.strs(vals[i])
		case k.Value == "slim":
			opts.Slim = isTrue(vals[i])
		case k.Value == "slimPatterns":
			opts.StripPatterns = r.strs(vals[i])
		case slsCarried[k.Value]:
		case slsNotNeeded[k.Value] != "":
			r.note(k, "custom.pythonRequirements.%s is not needed: %s", k.Value, slsNotNeeded[k.Value])
		default:
			r.note(k, "custom.pythonRequirements.%s does not carry over to lambdapack and is ignored", k.Value)
		}
	}
	useLayer := isTrue(child(pr, "layer"))
	globalPatterns := r.strs(path(root, "package", "patterns"))

	fnKeys, fnVals := pairs(child(root, "functions"))
	if len(fnKeys) == 0 {
		return &Error{Pos: r.pos(root), Msg: "serverless.yml defines no functions", Hint: "add a functions: section"}
	}
	layerRuntimes := map[string]bool{}
	layerArchs := map[string]bool{}
	for i, k := range fnKeys {
		fn := fnVals[i]
		name := k.Value
		pos := r.pos(k)
		if img := child(fn, "image"); img != nil {
			r.note(k, "function %s skipped: it is a container image function", name)
			continue
		}
		rtNode := child(fn, "runtime")
		rt := r.str(rtNode)
		if rt == "" {
			rt = defRuntime
			rtNode = child(provider, "runtime")
		}
		if rt == "" {
			r.errs = append(r.errs, errorf(pos, "set runtime: python3.12 on the function or on provider", "function %s has no runtime (neither the function nor provider sets one)", name))
			continue
		}
		if !isPythonRuntime(rt) {
			r.note(k, "function %s skipped: runtime %s is not a Python runtime", name, rt)
			continue
		}
		archNode := child(fn, "architecture")
		a := r.str(archNode)
		if a == "" {
			a = defArch
			archNode = child(provider, "architecture")
		}
		arch, err := normArch(Pos{File: cfg.File, Line: max(line(archNode), line(k))}, a)
		if err != nil {
			r.errs = append(r.errs, err)
			continue
		}
		module := r.str(child(fn, "module"))
		if module == "" {
			module = "."
		}
		f := Function{
			Name:    name,
			Handler: r.str(child(fn, "handler")),
			Source:  module,
			Runtime: rt,
			Arch:    arch,
			Options: opts,
			Pos:     pos,
		}
		if rtNode != nil && line(rtNode) > 0 && child(fn, "runtime") != nil {
			f.Pos = pos
		}
		f.Excludes = excludesFromPatterns(append(append([]string{}, globalPatterns...), r.strs(path(fn, "package", "patterns"))...))
		req := filepath.ToSlash(filepath.Join(module, reqFile))
		if _, err := os.Stat(filepath.Join(cfg.Dir, filepath.FromSlash(req))); err == nil {
			if useLayer {
				layerRuntimes[rt] = true
				layerArchs[string(arch)] = true
				f.Layers = append(f.Layers, "pythonRequirements")
			} else {
				f.Deps.Requirements = req
			}
		}
		for _, l := range items(child(fn, "layers")) {
			if l.Kind == yaml.MappingNode {
				if ref := r.str(child(l, "Ref")); ref == "PythonRequirementsLambdaLayer" {
					if !slices.Contains(f.Layers, "pythonRequirements") {
						f.Layers = append(f.Layers, "pythonRequirements")
					}
					continue
				}
				r.note(l, "function %s: layer reference is not static; ignored", name)
				continue
			}
			f.ExternalLayers = append(f.ExternalLayers, r.str(l))
		}
		cfg.Functions = append(cfg.Functions, f)
	}
	if useLayer && len(layerRuntimes) > 0 {
		l := Layer{Name: "pythonRequirements", Deps: Deps{Requirements: reqFile}, Options: opts, Pos: r.pos(child(pr, "layer"))}
		for rt := range layerRuntimes {
			l.Runtimes = append(l.Runtimes, rt)
		}
		sort.Strings(l.Runtimes)
		for a := range layerArchs {
			arch, _ := normArch(l.Pos, a)
			l.Archs = append(l.Archs, arch)
		}
		sort.Slice(l.Archs, func(i, j int) bool { return l.Archs[i] < l.Archs[j] })
		cfg.Layers = append(cfg.Layers, l)
	}
	return errors.Join(r.errs...)
}

// excludesFromPatterns turns serverless package.patterns into exclude globs:
// "!glob" excludes; an inclusion cannot widen the defaults and is dropped.
func excludesFromPatterns(patterns []string) []string {
	var out []string
	for _, p := range patterns {
		if strings.HasPrefix(p, "!") {
			out = append(out, strings.TrimPrefix(p, "!"))
		}
	}
	return out
}
