package project

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	toml "github.com/pelletier/go-toml/v2"

	"github.com/lambdapack/lambdapack/internal/names"
)

var toolHeader = regexp.MustCompile(`(?m)^\s*\[\s*tool\.lambdapack\s*[\].]`)

func hasToolLambdapack(data []byte) bool { return toolHeader.Match(data) }

// tomlLines maps "table.key" (and "table" for a header) to the 1-based line
// where it is written, so that errors found after decoding can point at it.
type tomlLines map[string]int

var (
	headerRe = regexp.MustCompile(`^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$`)
	keyRe    = regexp.MustCompile(`^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_.\-" ]+?)\s*=`)
)

func indexTOMLLines(data []byte) tomlLines {
	out := tomlLines{}
	table := ""
	for i, line := range strings.Split(string(data), "\n") {
		if m := headerRe.FindStringSubmatch(line); m != nil {
			table = normKey(m[1])
			if _, ok := out[table]; !ok {
				out[table] = i + 1
			}
			continue
		}
		if m := keyRe.FindStringSubmatch(line); m != nil {
			k := normKey(m[1])
			full := k
			if table != "" {
				full = table + "." + k
			}
			if _, ok := out[full]; !ok {
				out[full] = i + 1
			}
		}
	}
	return out
}

func normKey(k string) string {
	parts := strings.Split(k, ".")
	for i, p := range parts {
		parts[i] = strings.Trim(strings.TrimSpace(p), `"'`)
	}
	return strings.Join(parts, ".")
}

// line returns the line of the most specific known prefix of key.
func (l tomlLines) line(key string) int {
	for k := key; k != ""; {
		if n, ok := l[k]; ok {
			return n
		}
		i := strings.LastIndex(k, ".")
		if i < 0 {
			break
		}
		k = k[:i]
	}
	return 0
}

type tomlReader struct {
	cfg    *Config
	lines  tomlLines
	prefix string // "tool.lambdapack" or ""
	errs   []error
}

func (r *tomlReader) pos(key string) Pos {
	full := key
	if r.prefix != "" {
		full = r.prefix + "." + key
	}
	return Pos{File: r.cfg.File, Line: r.lines.line(full)}
}

func (r *tomlReader) fail(key, hint, format string, args ...any) {
	r.errs = append(r.errs, errorf(r.pos(key), hint, format, args...))
}

var (
	topKeys      = []string{"runtime", "architecture", "timeout", "memory", "index-url", "extra-index-url", "find-links", "no-index", "prerelease", "functions", "layers"}
	commonKeys   = []string{"requirements", "lock", "dependencies", "exclude-packages", "slim", "strip-patterns", "compile"}
	functionKeys = append([]string{"handler", "source", "runtime", "architecture", "timeout", "memory", "exclude", "layers", "package", "base", "dockerfile", "function-name"}, commonKeys...)
	layerKeys    = append([]string{"runtimes", "architectures", "layout"}, commonKeys...)
)

// prereleaseModes are resolve.PrereleaseMode's names (uv's --prerelease
// values), for the prerelease key.
var prereleaseModes = []string{"if-necessary-or-explicit", "allow", "if-necessary", "explicit", "disallow"}

func parseTOML(cfg *Config, data []byte) error {
	var doc map[string]any
	dec := toml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, col := de.Position()
			return &Error{Pos: Pos{File: cfg.File, Line: row}, Msg: fmt.Sprintf("TOML syntax error at column %d: %s", col, de.Error()), Hint: "fix the TOML syntax"}
		}
		return fmt.Errorf("%s: %w", cfg.File, err)
	}
	r := &tomlReader{cfg: cfg, lines: indexTOMLLines(data)}
	root := doc
	if cfg.Kind == KindPyproject {
		r.prefix = "tool.lambdapack"
		tool, _ := doc["tool"].(map[string]any)
		root, _ = tool["lambdapack"].(map[string]any)
		if root == nil {
			return errorf(Pos{File: cfg.File}, "add a [tool.lambdapack] table", "no [tool.lambdapack] table")
		}
	}
	r.unknown("", root, append(topKeys, buildKeys...))
	cfg.Build = r.buildSettings(root)
	defRuntime := r.str("runtime", root["runtime"])
	defArch := r.str("architecture", root["architecture"])
	cfg.Index.URL = r.str("index-url", root["index-url"])
	cfg.Index.Extra = r.strs("extra-index-url", root["extra-index-url"])
	cfg.Index.FindLinks = r.strs("find-links", root["find-links"])
	cfg.Index.NoIndex = r.boolean("no-index", root["no-index"])
	if cfg.Prerelease = r.str("prerelease", root["prerelease"]); cfg.Prerelease != "" && !slices.Contains(prereleaseModes, cfg.Prerelease) {
		r.fail("prerelease", "use one of "+strings.Join(prereleaseModes, ", "), "unknown pre-release mode %q", cfg.Prerelease)
	}

	layers := r.table("layers", root["layers"])
	for _, name := range sortedKeys(layers) {
		key := "layers." + name
		t := r.table(key, layers[name])
		if t == nil {
			continue
		}
		r.unknown(key, t, layerKeys)
		l := Layer{Name: name, Pos: r.pos(key), Keys: LayerKeys{Runtimes: "runtimes", Archs: "architectures"}}
		l.Deps, l.Options = r.common(key, t)
		l.Runtimes = r.strs(key+".runtimes", t["runtimes"])
		if len(l.Runtimes) == 0 && defRuntime != "" {
			l.Runtimes = []string{defRuntime}
		}
		archs := r.strs(key+".architectures", t["architectures"])
		if len(archs) == 0 {
			archs = []string{defArch}
			if defArch == "" {
				archs = []string{"x86_64"}
			}
		}
		for _, a := range archs {
			arch, err := normArch(r.pos(key+".architectures"), "architectures", a)
			if err != nil {
				r.errs = append(r.errs, err)
				continue
			}
			l.Archs = append(l.Archs, arch)
		}
		l.Layout = r.str(key+".layout", t["layout"])
		l.CompatibleRuntimes, l.CompatibleArchitectures = l.Runtimes, l.Archs
		cfg.Layers = append(cfg.Layers, l)
	}

	fns := r.table("functions", root["functions"])
	for _, name := range sortedKeys(fns) {
		key := "functions." + name
		t := r.table(key, fns[name])
		if t == nil {
			continue
		}
		r.unknown(key, t, functionKeys)
		f := Function{Name: name, Pos: r.pos(key)}
		r.run(&f, key, t, root)
		// The deployed function build --publish updates (a name or ARN).
		if f.FunctionName = r.str(key+".function-name", t["function-name"]); f.FunctionName != "" && !deployedName.MatchString(f.FunctionName) {
			r.fail(key+".function-name", "write the function's name (letters, digits, - and _, at most 64) or its ARN", "%s.function-name %q is not a Lambda function name or ARN", key, f.FunctionName)
		}
		f.Deps, f.Options = r.common(key, t)
		f.Handler = r.str(key+".handler", t["handler"])
		source := r.str(key+".source", t["source"])
		if source == "" {
			source = "."
		}
		f.Runtime = r.str(key+".runtime", t["runtime"])
		if f.Runtime == "" {
			f.Runtime = defRuntime
		}
		if f.Runtime != "" && !isPythonRuntime(f.Runtime) {
			f.Package = Package{Kind: PackageSkip, Reason: fmt.Sprintf("runtime %s is not a Python runtime", f.Runtime)}
			cfg.Functions = append(cfg.Functions, f)
			continue
		}
		a := r.str(key+".architecture", t["architecture"])
		if a == "" {
			a = defArch
		}
		if a == "" {
			a = "x86_64"
		}
		arch, err := normArch(r.pos(key+".architecture"), "architecture", a)
		if err != nil {
			r.errs = append(r.errs, err)
		}
		f.Arch = arch
		f.Package = r.source(key, source, r.strs(key+".exclude", t["exclude"]))
		for _, l := range r.strs(key+".layers", t["layers"]) {
			if strings.HasPrefix(l, "arn:") {
				f.ExternalLayers = append(f.ExternalLayers, l)
			} else {
				f.Layers = append(f.Layers, LayerUse{Name: l, Pos: r.pos(key + ".layers")})
			}
		}
		r.image(key, t, &f)
		cfg.Functions = append(cfg.Functions, f)
	}
	if len(cfg.Functions) == 0 && len(cfg.Layers) == 0 && len(cfg.Notes) == 0 {
		r.fail("", "add [tool.lambdapack.functions.NAME] or [tool.lambdapack.layers.NAME] tables (see the README)", "the config defines no function and no layer")
	}
	return errors.Join(r.errs...)
}

// image reads package = "image" and what goes with it: the base the
// function's code and dependencies go on, or a Dockerfile.
func (r *tomlReader) image(key string, t map[string]any, f *Function) {
	pkg := r.str(key+".package", t["package"])
	base := r.str(key+".base", t["base"])
	df := r.str(key+".dockerfile", t["dockerfile"])
	switch pkg {
	case "", "zip":
		for _, kv := range [][2]string{{"base", base}, {"dockerfile", df}} {
			if kv[1] != "" {
				r.fail(key+"."+kv[0], `set package = "image" for an image function, or remove `+kv[0], "%s.%s applies to image functions only", key, kv[0])
			}
		}
		return
	case "image":
	default:
		r.fail(key+".package", `write package = "zip" (the default) or package = "image"`, "%s.package %q is not zip or image", key, pkg)
		return
	}
	img := &Image{Base: base}
	if df != "" {
		if base != "" {
			r.fail(key+".base", "keep one of them: the Dockerfile's FROM names the base", "%s: set base or dockerfile, not both", key)
		}
		clean, ok := within(r.cfg.Dir, df)
		if !ok || !isFile(filepath.Join(r.cfg.Dir, filepath.FromSlash(clean))) {
			r.fail(key+".dockerfile", "name a Dockerfile inside the project folder", "%s.dockerfile %s is not a file in the project folder", key, df)
			return
		}
		img.Dockerfile = clean
		img.Context = filepath.ToSlash(filepath.Dir(filepath.FromSlash(clean)))
		f.Package = Package{Kind: PackageNone}
	} else if img.Base == "" {
		img.Base = "lambda"
	}
	if len(f.Layers) > 0 || len(f.ExternalLayers) > 0 {
		r.fail(key+".layers", "bake what the layer holds into the image (add its dependencies to the function)", "%s: an image function cannot use layers", key)
	}
	f.Image = img
}

// source reads a function's source: a folder (its files minus the default
// and the configured excludes), a .zip built elsewhere, or one .py file.
func (r *tomlReader) source(key, source string, excludes []string) Package {
	clean, ok := within(r.cfg.Dir, source)
	if !ok {
		r.fail(key+".source", "keep the function's source inside the project folder", "%s.source %s is outside the project folder %s", key, source, r.cfg.Dir)
		return Package{Kind: PackageFolder, Path: "."}
	}
	abs := filepath.Join(r.cfg.Dir, filepath.FromSlash(clean))
	switch {
	case isFile(abs) && strings.HasSuffix(strings.ToLower(clean), ".zip"):
		return Package{Kind: PackageZip, Path: clean}
	case isFile(abs) && strings.HasSuffix(clean, ".py"):
		return Package{Kind: PackageFile, Path: clean}
	case !isDir(abs):
		r.fail(key+".source", "fix the path (relative to "+r.cfg.Dir+")", "%s.source %s is not a folder, a .zip or a .py file", key, source)
	}
	m := NewMatcher("")
	for _, x := range DefaultExcludes {
		m.MustAdd(x, SyntaxName, true, "lambdapack's defaults")
	}
	for _, x := range excludes {
		if err := m.Add(x, SyntaxName, true, key+".exclude"); err != nil {
			r.fail(key+".exclude", "fix the glob", "%s.exclude: %v", key, err)
		}
	}
	return Package{Kind: PackageFolder, Path: clean, Files: m}
}

func (r *tomlReader) common(key string, t map[string]any) (Deps, Options) {
	d := Deps{
		Requirements: r.str(key+".requirements", t["requirements"]),
		Lock:         r.str(key+".lock", t["lock"]),
		Inline:       r.strs(key+".dependencies", t["dependencies"]),
	}
	for _, p := range []*string{&d.Requirements, &d.Lock} {
		if *p == "" {
			continue
		}
		clean, ok := within(r.cfg.Dir, *p)
		if !ok {
			r.fail(key, "keep it inside the project folder", "%s: %s is outside the project folder %s", key, *p, r.cfg.Dir)
			continue
		}
		*p = clean
	}
	switch {
	case d.Requirements != "":
		d.From = d.Requirements
	case d.Lock != "":
		d.From = d.Lock
	case len(d.Inline) > 0:
		d.From = r.prefixed(key) + ".dependencies"
	}
	d.Pos = r.pos(key)
	n := 0
	for _, set := range []bool{d.Requirements != "", d.Lock != "", len(d.Inline) > 0} {
		if set {
			n++
		}
	}
	if n > 1 {
		r.fail(key, "keep one of them", "set only one of requirements, lock and dependencies")
	}
	o := Options{
		ExcludePackages: r.strs(key+".exclude-packages", t["exclude-packages"]),
		Slim:            r.boolean(key+".slim", t["slim"]),
		StripPatterns:   r.strs(key+".strip-patterns", t["strip-patterns"]),
		Compile:         r.boolean(key+".compile", t["compile"]),
	}
	return d, o
}

func (r *tomlReader) unknown(key string, t map[string]any, allowed []string) {
	ok := map[string]bool{}
	for _, a := range allowed {
		ok[a] = true
	}
	for _, k := range sortedKeys(t) {
		if ok[k] {
			continue
		}
		full := k
		if key != "" {
			full = key + "." + k
		}
		hint := "known keys: " + strings.Join(allowed, ", ")
		if s := names.Closest(k, allowed, 2); s != "" {
			hint = fmt.Sprintf("did you mean %q?", s)
		}
		r.fail(full, hint, "unknown key %q", k)
	}
}

func (r *tomlReader) table(key string, v any) map[string]any {
	if v == nil {
		return nil
	}
	t, ok := v.(map[string]any)
	if !ok {
		r.fail(key, "write it as a table: ["+r.prefixed(key)+"]", "%s must be a table, not %T", key, v)
	}
	return t
}

func (r *tomlReader) prefixed(key string) string {
	if r.prefix == "" {
		return key
	}
	return r.prefix + "." + key
}

func (r *tomlReader) str(key string, v any) string {
	if v == nil {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		r.fail(key, `write a quoted string`, "%s must be a string, not %v", key, v)
	}
	return s
}

func (r *tomlReader) strs(key string, v any) []string {
	switch v := v.(type) {
	case nil:
		return nil
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				r.fail(key, `write a list of quoted strings`, "%s must be a list of strings; %v is not a string", key, e)
				continue
			}
			out = append(out, s)
		}
		return out
	}
	r.fail(key, `write a list of quoted strings`, "%s must be a list of strings, not %v", key, v)
	return nil
}

func (r *tomlReader) boolean(key string, v any) bool {
	if v == nil {
		return false
	}
	b, ok := v.(bool)
	if !ok {
		r.fail(key, "write true or false", "%s must be true or false, not %v", key, v)
	}
	return b
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
