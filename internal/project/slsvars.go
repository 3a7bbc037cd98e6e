package project

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// Serverless Framework variables (${source:address, fallback, ...}) are
// resolved here, as far as they can be without AWS: self, opt, sls:stage,
// env, param, file() (confined to the project folder) and strToBool. A
// fallback may be a literal or another variable. ssm, cf, s3, aws:accountId
// and the like are dynamic: a value that decides what is built (runtime,
// handler, module, patterns, ...) and is dynamic is an error naming it; an
// environment value that is dynamic is kept as written.

// varState says what became of a variable.
type varState uint8

const (
	varFound     varState = iota
	varUndefined          // the source has no such value: fallbacks apply
	varDynamic            // only AWS (or a plugin) knows it at deploy time
)

// varError is a variable that cannot be resolved here.
type varError struct {
	state varState
	expr  string // the variable as written
	why   string
}

func (e *varError) Error() string { return e.why }

var (
	sourceRe    = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9_-]*)(\((.*)\))?(?::(.*))?$`)
	numberLitRe = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)
)

// maxVarDepth bounds nested and chained variables.
const maxVarDepth = 30

// varCtx carries the chain of variables being resolved, to find cycles.
type varCtx struct {
	chain []string
}

func (c varCtx) with(ref string) (varCtx, error) {
	for _, x := range c.chain {
		if x == ref {
			return c, fmt.Errorf("variable ${%s} refers back to itself (%s -> ${%s})", ref, strings.Join(wrapVars(c.chain), " -> "), ref)
		}
	}
	if len(c.chain) >= maxVarDepth {
		return c, fmt.Errorf("variables nest deeper than %d levels (%s)", maxVarDepth, strings.Join(wrapVars(c.chain), " -> "))
	}
	return varCtx{chain: append(append([]string{}, c.chain...), ref)}, nil
}

func wrapVars(s []string) []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = "${" + x + "}"
	}
	return out
}

// isWholeVar reports whether s is exactly one variable (which may then
// stand for a whole mapping or list).
func isWholeVar(s string) bool {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "${") || !strings.HasSuffix(s, "}") {
		return false
	}
	depth := 0
	for i := 0; i < len(s); i++ {
		switch {
		case strings.HasPrefix(s[i:], "${"):
			depth++
			i++
		case s[i] == '}':
			depth--
			if depth == 0 && i != len(s)-1 {
				return false
			}
		}
	}
	return depth == 0
}

// node resolves a node that is one whole variable to the node it stands
// for (a mapping from ${file(x.yml)}, a list from ${self:custom.list}).
// Other nodes come back as they are.
func (r *slsReader) node(n *yaml.Node, c varCtx) (*yaml.Node, error) {
	for i := 0; n != nil && n.Kind == yaml.ScalarNode && n.Tag != "!!null" && isWholeVar(n.Value); i++ {
		if i > maxVarDepth {
			return nil, fmt.Errorf("variables nest deeper than %d levels", maxVarDepth)
		}
		inner := strings.TrimSpace(n.Value)
		inner = inner[2 : len(inner)-1]
		// Resolve nested variables inside the reference first.
		if strings.Contains(inner, "${") {
			s, err := r.interpolate(n, inner, c)
			if err != nil {
				return nil, err
			}
			inner = s
		}
		v, err := r.lookupVar(n, inner, c)
		if err != nil {
			return nil, err
		}
		c, _ = c.with(inner)
		if v.Kind != yaml.ScalarNode || !isWholeVar(v.Value) {
			return v, nil
		}
		n = v
	}
	return n, nil
}

// get returns the value of key in a mapping (the mapping resolved when it is
// a whole variable). A value that is a whole variable standing for a
// mapping or list comes back resolved; one that stands for a scalar, or
// cannot be resolved, comes back as written, for need, mapping or optStr to
// resolve with a name for the error.
func (r *slsReader) get(n *yaml.Node, key string) *yaml.Node {
	if n2, err := r.node(n, varCtx{}); err == nil {
		n = n2
	}
	v := child(n, key)
	out, err := r.node(v, varCtx{})
	if err != nil || out == nil || out.Kind == yaml.ScalarNode {
		return v
	}
	if out != v {
		r.remember(out, r.fileOf(v))
	}
	return out
}

// section returns a mapping-valued key (provider, custom, package, ...),
// resolved; a variable that cannot be resolved is an error naming what.
func (r *slsReader) section(n *yaml.Node, key, what string) *yaml.Node {
	v := r.get(n, key)
	if v == nil || v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
		return v
	}
	out, err := r.node(v, varCtx{})
	if err != nil {
		r.varFail(v, fmt.Errorf("%s: %w", what, err))
		return nil
	}
	if out.Kind != yaml.MappingNode {
		r.fail(v, "write it as a mapping", "%s must be a mapping, not %q", what, out.Value)
		return nil
	}
	return out
}

// flag resolves a true/false option.
func (r *slsReader) flag(n *yaml.Node, what string) bool {
	if n == nil || n.Kind == yaml.MappingNode {
		return isTrue(n)
	}
	s := r.need(n, what)
	return isTrue(&yaml.Node{Kind: yaml.ScalarNode, Value: s})
}

// str resolves a scalar to its string. Dynamic or undefined variables are
// errors here: use optStr where a value may stay as written.
func (r *slsReader) str(n *yaml.Node) (string, error) {
	if n == nil || n.Tag == "!!null" {
		return "", nil
	}
	n2, err := r.node(n, varCtx{})
	if err != nil {
		return "", err
	}
	if n2.Kind != yaml.ScalarNode {
		return "", fmt.Errorf("expected a single value, found a %s", kindName(n2))
	}
	if n2.Tag != "" && strings.HasPrefix(n2.Tag, "!") && !strings.HasPrefix(n2.Tag, "!!") {
		return "", &varError{state: varDynamic, expr: n2.Tag + " " + n2.Value, why: fmt.Sprintf("%s %s is resolved by CloudFormation at deploy time", n2.Tag, n2.Value)}
	}
	if n2.Tag == "!!null" {
		return "", nil
	}
	return r.interpolate(n2, n2.Value, varCtx{})
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	}
	return "value"
}

// interpolate replaces every variable in s, innermost first.
func (r *slsReader) interpolate(at *yaml.Node, s string, c varCtx) (string, error) {
	for i := 0; strings.Contains(s, "${"); i++ {
		if i > 100 {
			return "", fmt.Errorf("too many variables in %q", s)
		}
		start := strings.LastIndex(s, "${")
		end := strings.IndexByte(s[start:], '}')
		if end < 0 {
			return "", fmt.Errorf("unclosed variable in %q", s)
		}
		end += start
		inner := s[start+2 : end]
		v, err := r.lookupVar(at, inner, c)
		if err != nil {
			return "", err
		}
		if v.Kind != yaml.ScalarNode {
			return "", fmt.Errorf("${%s} is a %s, which cannot be part of a string", inner, kindName(v))
		}
		c2, err := c.with(inner)
		if err != nil {
			return "", err
		}
		val := v.Value
		if strings.Contains(val, "${") {
			if val, err = r.interpolate(v, val, c2); err != nil {
				return "", err
			}
		}
		s = s[:start] + val + s[end+1:]
	}
	return s, nil
}

// lookupVar resolves the inside of one ${...}: a source and its
// fallbacks, the first defined one winning.
func (r *slsReader) lookupVar(at *yaml.Node, inner string, c varCtx) (*yaml.Node, error) {
	c2, err := c.with(strings.TrimSpace(inner))
	if err != nil {
		return nil, err
	}
	parts := splitTopLevel(inner)
	var last *varError
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if lit, ok := literal(p); ok {
			return scalarNode(lit, at), nil
		}
		v, err := r.source(at, p, c2)
		if err == nil {
			if v == nil || v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
				last = &varError{state: varUndefined, expr: "${" + inner + "}", why: fmt.Sprintf("${%s} is null", p)}
				continue
			}
			return v, nil
		}
		ve, isVar := err.(*varError)
		if !isVar {
			return nil, err
		}
		if ve.state == varDynamic {
			ve.expr = "${" + inner + "}"
			return nil, ve
		}
		last = ve
	}
	if last == nil {
		last = &varError{state: varUndefined, why: "empty variable"}
	}
	last.expr = "${" + inner + "}"
	return nil, last
}

func scalarNode(v string, at *yaml.Node) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v}
	if at != nil {
		n.Line = at.Line
	}
	return n
}

// literal reads a fallback that is a value rather than a variable: a quoted
// string, a number, true or false. A bare word that names no source is
// taken as a string, as older Serverless versions did.
func literal(p string) (string, bool) {
	if len(p) >= 2 && (p[0] == '\'' && p[len(p)-1] == '\'' || p[0] == '"' && p[len(p)-1] == '"') {
		return p[1 : len(p)-1], true
	}
	if numberLitRe.MatchString(p) || p == "true" || p == "false" {
		return p, true
	}
	if !sourceRe.MatchString(p) || !strings.Contains(p, ":") && !strings.HasPrefix(p, "file(") && !strings.HasPrefix(p, "strToBool(") {
		return p, true
	}
	return "", false
}

// splitTopLevel splits a variable's inside on commas outside quotes,
// parentheses and nested variables.
func splitTopLevel(s string) []string {
	var out []string
	depth := 0
	var quote byte
	start := 0
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case quote != 0:
			if ch == quote {
				quote = 0
			}
		case ch == '\'' || ch == '"':
			quote = ch
		case ch == '(' || ch == '{':
			depth++
		case ch == ')' || ch == '}':
			depth--
		case ch == ',' && depth == 0:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// source resolves one source:address.
func (r *slsReader) source(at *yaml.Node, p string, c varCtx) (*yaml.Node, error) {
	m := sourceRe.FindStringSubmatch(p)
	if m == nil {
		return nil, &varError{state: varUndefined, why: fmt.Sprintf("cannot read the variable ${%s}", p)}
	}
	name, param, addr := m[1], m[3], m[4]
	undefined := func(format string, args ...any) error {
		return &varError{state: varUndefined, why: fmt.Sprintf(format, args...)}
	}
	switch name {
	case "self":
		return r.address(r.root, addr, "self", c)
	case "opt":
		if addr == "stage" && r.o.Stage != "" {
			return scalarNode(r.o.Stage, at), nil
		}
		if v, ok := r.o.Vars[addr]; ok {
			return scalarNode(v, at), nil
		}
		return nil, undefined("option --%s is not given", addr)
	case "sls":
		if addr == "stage" {
			return scalarNode(r.stage(c), at), nil
		}
	case "env":
		if v, ok := r.o.Env(addr); ok {
			return scalarNode(v, at), nil
		}
		return nil, undefined("environment variable %s is not set", addr)
	case "param":
		stage := r.stage(c)
		params := r.get(r.root, "params")
		for _, scope := range []string{stage, "default"} {
			if v := child(r.get(params, scope), addr); v != nil {
				return r.node(v, c)
			}
		}
		return nil, undefined("param %s is not set for stage %s or in params.default", addr, stage)
	case "file":
		return r.file(at, param, addr, c)
	case "strToBool":
		switch strings.TrimSpace(strings.ToLower(param)) {
		case "true", "1":
			return scalarNode("true", at), nil
		case "false", "0", "":
			return scalarNode("false", at), nil
		}
	case "aws":
		if addr == "region" {
			if v, ok := r.o.Vars["region"]; ok {
				return scalarNode(v, at), nil
			}
			if s, err := r.str(child(child(r.root, "provider"), "region")); err == nil && s != "" {
				return scalarNode(s, at), nil
			}
			return scalarNode("us-east-1", at), nil
		}
	}
	return nil, &varError{state: varDynamic, why: fmt.Sprintf("${%s} is only known at deploy time (from AWS or a plugin)", p)}
}

// stage is ${sls:stage}: --stage, else provider.stage, else dev.
func (r *slsReader) stage(c varCtx) string {
	if r.o.Stage != "" {
		return r.o.Stage
	}
	if st := child(child(r.root, "provider"), "stage"); st != nil {
		// provider.stage, not sls:stage: resolving ${sls:stage} has put
		// that in the chain already (provider.stage: ${sls:stage} is still
		// a cycle, caught one level down).
		if c2, err := c.with("provider.stage"); err == nil {
			if s, err := r.interpolate(st, st.Value, c2); err == nil && s != "" {
				return s
			}
		}
	}
	return "dev"
}

// address follows a dotted address from n ("custom.table.name",
// "functions.0"); an empty address is n itself.
func (r *slsReader) address(n *yaml.Node, addr, src string, c varCtx) (*yaml.Node, error) {
	addr = strings.TrimSpace(addr)
	cur, err := r.node(n, c)
	if err != nil {
		return nil, err
	}
	if addr == "" {
		return cur, nil
	}
	for _, k := range strings.Split(addr, ".") {
		var next *yaml.Node
		switch cur.Kind {
		case yaml.MappingNode:
			next = child(cur, k)
		case yaml.SequenceNode:
			if i, err := strconv.Atoi(k); err == nil && i >= 0 && i < len(cur.Content) {
				next = cur.Content[i]
			}
		}
		if next == nil {
			return nil, &varError{state: varUndefined, why: fmt.Sprintf("%s has no %s", src, addr)}
		}
		if cur, err = r.node(next, c); err != nil {
			return nil, err
		}
	}
	return cur, nil
}

// file resolves ${file(path):address}: a YAML or JSON file inside the
// project folder (never outside it), or a text file's contents.
func (r *slsReader) file(at *yaml.Node, param, addr string, c varCtx) (*yaml.Node, error) {
	p := strings.Trim(strings.TrimSpace(param), `'"`)
	if p == "" {
		return nil, fmt.Errorf("${file()} names no file")
	}
	clean, ok := within(r.cfg.Dir, p)
	if !ok {
		return nil, fmt.Errorf("${file(%s)} is outside the project folder %s: lambdapack reads only files inside it", p, r.cfg.Dir)
	}
	abs := filepath.Join(r.cfg.Dir, filepath.FromSlash(clean))
	st, err := os.Stat(abs)
	if err != nil {
		return nil, &varError{state: varUndefined, why: fmt.Sprintf("${file(%s)}: %s does not exist", p, clean)}
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("${file(%s)}: %s is not a regular file", p, clean)
	}
	ext := strings.ToLower(filepath.Ext(clean))
	switch ext {
	case ".js", ".cjs", ".mjs", ".ts":
		return nil, &varError{state: varDynamic, why: fmt.Sprintf("${file(%s)} is JavaScript, which only the Serverless Framework runs", p)}
	}
	root, ok := r.loaded[abs]
	if !ok {
		data, err := readConfigFile(abs)
		if err != nil {
			return nil, err
		}
		switch ext {
		case ".yml", ".yaml", ".json":
			var doc yaml.Node
			if err := yaml.Unmarshal(data, &doc); err != nil {
				return nil, &Error{Pos: Pos{File: abs}, Msg: "YAML syntax error: " + strings.TrimPrefix(err.Error(), "yaml: "), Hint: "fix the YAML syntax"}
			}
			if len(doc.Content) == 0 {
				root = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"}
			} else {
				if err := checkDuplicateKeys(abs, doc.Content[0], 0); err != nil {
					return nil, err
				}
				if root, err = expandAliases(abs, doc.Content[0], 0); err != nil {
					return nil, err
				}
			}
		default:
			root = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: strings.TrimRight(string(data), "\n")}
		}
		r.loaded[abs] = root
		r.rememberTree(root, abs)
	}
	return r.address(root, addr, "file "+clean, c)
}

// remember records which file a node came from, for positions in errors.
func (r *slsReader) remember(n *yaml.Node, file string) {
	if n != nil && file != "" && file != r.cfg.File {
		if _, ok := r.files[n]; !ok {
			r.files[n] = file
		}
	}
}

func (r *slsReader) rememberTree(n *yaml.Node, file string) {
	if n == nil {
		return
	}
	r.files[n] = file
	for _, c := range n.Content {
		r.rememberTree(c, file)
	}
}

func (r *slsReader) fileOf(n *yaml.Node) string {
	if f, ok := r.files[n]; ok {
		return f
	}
	return r.cfg.File
}
