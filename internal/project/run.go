package project

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	yaml "go.yaml.in/yaml/v3"
)

// How Lambda runs a function: its limits, and the HTTP endpoints that invoke
// it (API Gateway events and a function URL). lambdapack invoke and serve run
// functions with them; the build does not need them, but a value that Lambda
// or the deploy tool would refuse is a mistake in the config all the same.

// The limits Lambda accepts, and the defaults: Lambda itself and SAM give a
// function 3 s and 128 MB, the Serverless Framework 6 s and 1024 MB; /tmp is
// 512 MB unless set.
const (
	MaxTimeout          = 900 * time.Second
	MinMemorySize       = 128
	MaxMemorySize       = 10240
	MinEphemeralStorage = 512
	MaxEphemeralStorage = 10240

	DefaultTimeout          = 3 * time.Second
	DefaultMemorySize       = 128
	DefaultEphemeralStorage = 512
	ServerlessTimeout       = 6 * time.Second
	ServerlessMemorySize    = 1024
)

const (
	defaultRESTStage = "Prod" // SAM's implicit REST API's
	defaultHTTPStage = "$default"
	payload1         = "1.0"
	payload2         = "2.0"
	authNone         = "NONE"
	authIAM          = "AWS_IAM"
	anyMethod        = "ANY"
	samAnyMethod     = "X-AMAZON-APIGATEWAY-ANY-METHOD"
	defaultRoute     = "$default" // an HTTP API's catch-all route, as SAM writes it
	slsDefaultRoute  = "*"        // and as Serverless writes it
	methodsHint      = "GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS or ANY"
)

// APIs a Route belongs to.
const (
	// APIREST is an API Gateway REST API (SAM Api events, Serverless http
	// events): payload format 1.0, a stage in its URL, 403 "Missing
	// Authentication Token" for a path it has no route for.
	APIREST = "REST"
	// APIHTTP is an API Gateway HTTP API (SAM HttpApi events, Serverless
	// httpApi events): payload format 2.0 unless the config asks for 1.0,
	// and a $default route that takes what no other route matches.
	APIHTTP = "HTTP"
)

// Route is an HTTP route of API Gateway to a function.
type Route struct {
	API string // APIREST or APIHTTP
	// Method is upper case (GET, POST, ...) or ANY; Path is API Gateway's
	// ("/items/{id}", "/{proxy+}"), "" for an HTTP API's $default route.
	Method, Path string
	// PayloadFormat is the event's payload format: "1.0" (REST APIs, HTTP
	// APIs that ask for it) or "2.0".
	PayloadFormat string
	// Stage is the API's stage: SAM's "Prod" or the Api resource's
	// StageName, the Serverless service's stage; "$default" for an HTTP API.
	Stage string
	Pos   Pos
}

// String is the route as API Gateway names it: "GET /items/{id}", "$default".
func (r Route) String() string {
	if r.Path == "" {
		return defaultRoute
	}
	return r.Method + " " + r.Path
}

// FunctionURL is a function's URL (SAM FunctionUrlConfig, Serverless url).
type FunctionURL struct {
	AuthType string // "NONE" or "AWS_IAM"
	Pos      Pos
}

var apiMethods = []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", anyMethod}

// normMethod reads an HTTP method as the configs write it ("get", "any",
// "*", x-amazon-apigateway-any-method; "" means any).
func normMethod(m string) (string, bool) {
	m = strings.ToUpper(strings.TrimSpace(m))
	switch m {
	case "", "*", samAnyMethod:
		return anyMethod, true
	}
	for _, x := range apiMethods {
		if m == x {
			return m, true
		}
	}
	return m, false
}

// normRoutePath gives a path its leading slash (Serverless writes "items"
// for "/items").
func normRoutePath(p string) string {
	p = strings.TrimSpace(p)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return p
}

// limit is one of a function's numeric settings, as a config names it.
type limit struct {
	key      string // "Timeout", "memorySize", "functions.api.memory", ...
	min, max int
	unit     string // "seconds", "MB"
}

// check reads a whole number within the limit from s, as written at pos;
// fn names the function in the message ("" for a project-wide default,
// said once for all).
func (l limit) check(pos Pos, fn, s string) (int, error) {
	v, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, errorf(pos, fmt.Sprintf("write a whole number of %s, %d to %d", l.unit, l.min, l.max), "%s%s %q is not a whole number", ofFunction(fn), l.key, s)
	}
	if v < l.min || v > l.max {
		return 0, errorf(pos, fmt.Sprintf("Lambda takes %d to %d %s", l.min, l.max, l.unit), "%s%s %d is out of range", ofFunction(fn), l.key, v)
	}
	return v, nil
}

// ofFunction starts a message about function fn ("" for a default that
// Globals or provider set for every function).
func ofFunction(fn string) string {
	if fn == "" {
		return ""
	}
	return "function " + fn + ": "
}

// checkLimit reads s as l (function fn's, written at pos); a mistake goes
// to errs, once.
func checkLimit(errs *[]error, l limit, pos Pos, fn, s string) (int, bool) {
	v, err := l.check(pos, fn, s)
	if err != nil {
		*errs = addOnce(*errs, err)
		return 0, false
	}
	return v, true
}

// addOnce adds err to errs unless the same error is there already (a
// default's mistake, met once per function).
func addOnce(errs []error, err error) []error {
	for _, e := range errs {
		if e.Error() == err.Error() {
			return errs
		}
	}
	return append(errs, err)
}

// setting is a SAM function's property (keys down from Properties), else
// Globals.Function's; fn is "" and key names Globals when it is Globals'.
func setting(props, globals *yaml.Node, name string, keys ...string) (n *yaml.Node, fn, key string) {
	if n := path(props, keys...); n != nil {
		return n, name, strings.Join(keys, ".")
	}
	return path(globals, keys...), "", "Globals.Function." + strings.Join(keys, ".")
}

func timeoutLimit(key string) limit { return limit{key, 1, int(MaxTimeout / time.Second), "seconds"} }
func memoryLimit(key string) limit  { return limit{key, MinMemorySize, MaxMemorySize, "MB"} }
func storageLimit(key string) limit {
	return limit{key, MinEphemeralStorage, MaxEphemeralStorage, "MB"}
}

// samRun reads how a SAM function runs: Timeout, MemorySize,
// EphemeralStorage.Size and FunctionUrlConfig (each the function's own, else
// Globals.Function's), and its Api and HttpApi events.
func (r *samReader) run(f *Function, props, globals *yaml.Node) {
	f.Timeout, f.MemorySize, f.EphemeralStorage = DefaultTimeout, DefaultMemorySize, DefaultEphemeralStorage
	if name, static := r.str(child(props, "FunctionName")); static {
		f.FunctionName = name
	}
	read := func(kind func(string) limit, keys ...string) (int, bool) {
		n, fn, key := setting(props, globals, f.Name, keys...)
		return r.limit(kind, n, fn, key)
	}
	if v, ok := read(timeoutLimit, "Timeout"); ok {
		f.Timeout = time.Duration(v) * time.Second
	}
	if v, ok := read(memoryLimit, "MemorySize"); ok {
		f.MemorySize = v
	}
	if v, ok := read(storageLimit, "EphemeralStorage", "Size"); ok {
		f.EphemeralStorage = v
	}
	if u := propKey(props, globals, "FunctionUrlConfig"); u != nil {
		auth, fn, key := setting(props, globals, f.Name, "FunctionUrlConfig", "AuthType")
		if child(props, "FunctionUrlConfig") != nil {
			fn, key = f.Name, "FunctionUrlConfig.AuthType"
		}
		s, static := r.str(auth)
		switch {
		case auth == nil:
			r.errs = addOnce(r.errs, errorf(r.pos(u), "add AuthType: NONE (anyone may call it) or AuthType: AWS_IAM", "%s%s is missing", ofFunction(fn), key))
		case !static:
			r.cfg.note(r.pos(auth), LevelNote, "%s%s %s is resolved at deploy time: lambdapack serve answers the URL as AuthType NONE", ofFunction(fn), key, describe(auth))
			f.URL = &FunctionURL{AuthType: authNone, Pos: r.pos(u)}
		case s == authNone || s == authIAM:
			f.URL = &FunctionURL{AuthType: s, Pos: r.pos(u)}
		default:
			r.errs = addOnce(r.errs, errorf(r.pos(auth), "write NONE or AWS_IAM", "%s%s %q is not NONE or AWS_IAM", ofFunction(fn), key, s))
		}
	}
	keys, vals := pairs(child(props, "Events"))
	for i, k := range keys {
		typ, _ := r.str(child(vals[i], "Type"))
		if typ == "Api" || typ == "HttpApi" {
			r.route(f, k, typ, child(vals[i], "Properties"))
		}
	}
}

// propKey is the key node of a function property, else of Globals'.
func propKey(props, globals *yaml.Node, key string) *yaml.Node {
	for _, m := range []*yaml.Node{props, globals} {
		ks, _ := pairs(m)
		for _, k := range ks {
			if k.Value == key {
				return k
			}
		}
	}
	return nil
}

// limit reads a numeric setting (n, written as key, of function fn or of
// Globals when fn is ""): ok is false when it is absent, when it is not
// static (noted: local runs use the default) or wrong (an error).
func (r *samReader) limit(kind func(string) limit, n *yaml.Node, fn, key string) (int, bool) {
	if n == nil {
		return 0, false
	}
	s, static := r.str(n)
	if !static {
		r.cfg.note(r.pos(n), LevelNote, "%s%s %s is resolved at deploy time: lambdapack invoke and serve use the default", ofFunction(fn), key, describe(n))
		return 0, false
	}
	return checkLimit(&r.errs, kind(key), r.pos(n), fn, s)
}

// route reads one Api or HttpApi event.
func (r *samReader) route(f *Function, k *yaml.Node, typ string, props *yaml.Node) {
	what := fmt.Sprintf("function %s: event %s (%s)", f.Name, k.Value, typ)
	pathNode, methodNode := child(props, "Path"), child(props, "Method")
	p, pathOK := r.str(pathNode)
	m, methodOK := r.str(methodNode)
	if !pathOK || !methodOK {
		n := pathNode
		if pathOK {
			n = methodNode
		}
		r.cfg.note(r.pos(n), LevelNote, "%s: %s is resolved at deploy time: lambdapack serve leaves the route out", what, describe(n))
		return
	}
	rt := Route{Method: anyMethod, Pos: r.pos(k)}
	if typ == "Api" {
		switch {
		case p == "":
			r.fail(orNode(pathNode, k), "add Path: /items (an Api event needs Path and Method)", "%s has no Path", what)
			return
		case m == "":
			r.fail(orNode(methodNode, k), "add Method: get (or any)", "%s has no Method", what)
			return
		}
		rt.API, rt.PayloadFormat = APIREST, payload1
		rt.Stage = r.apiStage(child(props, "RestApiId"), defaultRESTStage)
	} else {
		rt.API, rt.PayloadFormat = APIHTTP, payload2
		if pf := child(props, "PayloadFormatVersion"); pf != nil {
			switch v := r.must(pf, what+": PayloadFormatVersion"); v {
			case payload1, payload2:
				rt.PayloadFormat = v
			case "":
			default:
				r.fail(pf, `write "1.0" or "2.0"`, "%s: PayloadFormatVersion %q is not 1.0 or 2.0", what, v)
				return
			}
		}
		rt.Stage = r.apiStage(child(props, "ApiId"), defaultHTTPStage)
	}
	method, ok := normMethod(m)
	if !ok {
		r.fail(methodNode, "write "+methodsHint, "%s: Method %q is not an HTTP method API Gateway routes", what, m)
		return
	}
	rt.Method = method
	if p != "" && p != defaultRoute {
		if !strings.HasPrefix(p, "/") {
			r.fail(pathNode, "start it with /", "%s: Path %q does not start with /", what, p)
			return
		}
		rt.Path = p
	}
	f.Routes = append(f.Routes, rt)
}

// apiStage is the StageName of the AWS::Serverless::Api or HttpApi an
// event's RestApiId or ApiId refers to, else def.
func (r *samReader) apiStage(id *yaml.Node, def string) string {
	name, ok := ref(id)
	if !ok {
		return def
	}
	if s, ok := r.str(path(r.root, "Resources", name, "Properties", "StageName")); ok && s != "" {
		return s
	}
	return def
}

// slsRun reads how a Serverless function runs: timeout, memorySize,
// ephemeralStorageSize (each the function's own, else provider's, else the
// framework's defaults), url, and its http and httpApi events.
func (r *slsReader) run(f *Function, fn, provider *yaml.Node) {
	f.Timeout, f.MemorySize, f.EphemeralStorage = ServerlessTimeout, ServerlessMemorySize, DefaultEphemeralStorage
	f.FunctionName = r.functionName(f.Name, fn)
	// read is the function's own setting, else provider's (whose mistakes
	// are said once, for every function).
	read := func(kind func(string) limit, key string) (int, bool) {
		if n := r.get(fn, key); n != nil {
			return r.limit(kind, n, f.Name, "functions."+f.Name+"."+key)
		}
		return r.limit(kind, r.get(provider, key), "", "provider."+key)
	}
	if v, ok := read(timeoutLimit, "timeout"); ok {
		f.Timeout = time.Duration(v) * time.Second
	}
	if v, ok := read(memoryLimit, "memorySize"); ok {
		f.MemorySize = v
	}
	if v, ok := read(storageLimit, "ephemeralStorageSize"); ok {
		f.EphemeralStorage = v
	}
	if u := r.get(fn, "url"); u != nil {
		if u.Kind == yaml.MappingNode {
			auth := authNone
			if a := r.need(r.get(u, "authorizer"), "functions."+f.Name+".url.authorizer"); strings.EqualFold(a, "aws_iam") {
				auth = authIAM
			}
			f.URL = &FunctionURL{AuthType: auth, Pos: r.pos(u)}
		} else if r.flag(u, "functions."+f.Name+".url") {
			f.URL = &FunctionURL{AuthType: authNone, Pos: r.pos(u)}
		}
	}
	payload := payload2
	if pn := r.get(r.section(provider, "httpApi", "provider.httpApi"), "payload"); pn != nil {
		switch v := r.need(pn, "provider.httpApi.payload"); v {
		case payload1, payload2:
			payload = v
		case "":
		default:
			r.fail(pn, `write '1.0' or '2.0'`, "provider.httpApi.payload %q is not 1.0 or 2.0", v)
		}
	}
	evs, err := r.node(r.get(fn, "events"), varCtx{})
	if err != nil {
		r.varFail(r.get(fn, "events"), fmt.Errorf("functions.%s.events: %w", f.Name, err))
		return
	}
	for _, written := range items(evs) {
		ev, err := r.node(written, varCtx{})
		if err != nil {
			r.varFail(written, fmt.Errorf("functions.%s.events: %w", f.Name, err))
			continue
		}
		for _, kind := range []string{"http", "httpApi"} {
			if e := r.get(ev, kind); e != nil {
				r.route(f, e, kind, payload)
			}
		}
	}
}

// functionName is the name the Serverless Framework gives a function: its
// name, else service-stage-key; "" when a variable in it is only known at
// deploy time.
func (r *slsReader) functionName(key string, fn *yaml.Node) string {
	if n := r.get(fn, "name"); n != nil {
		s, _ := r.str(n)
		return s
	}
	svc := r.get(r.root, "service")
	if svc != nil && svc.Kind == yaml.MappingNode {
		svc = r.get(svc, "name") // the framework's older service: {name: x}
	}
	name, err := r.str(svc)
	if err != nil || name == "" {
		return ""
	}
	return name + "-" + r.stage(varCtx{}) + "-" + key
}

// limit reads a numeric setting (n, written as key, of function fn or of
// provider when fn is ""): ok is false when it is absent, not resolved here
// (noted: local runs use the default) or wrong (an error).
func (r *slsReader) limit(kind func(string) limit, n *yaml.Node, fn, key string) (int, bool) {
	if n == nil {
		return 0, false
	}
	s, err := r.str(n)
	if err != nil {
		r.cfg.note(r.pos(n), LevelNote, "%s%s is not resolved here (%v): lambdapack invoke and serve use the default", ofFunction(fn), key, err)
		return 0, false
	}
	if s == "" {
		return 0, false
	}
	return checkLimit(&r.errs, kind(key), r.pos(n), fn, s)
}

// route reads one http event (a REST API's) or httpApi event: "GET path",
// "*", or a mapping with method and path.
func (r *slsReader) route(f *Function, e *yaml.Node, kind, payload string) {
	key := "functions." + f.Name + ".events." + kind
	var m, p string
	var mNode, pNode *yaml.Node
	if e.Kind == yaml.MappingNode {
		mNode, pNode = r.get(e, "method"), r.get(e, "path")
		m, p = r.need(mNode, key+".method"), r.need(pNode, key+".path")
		if kind == "http" {
			if in := r.need(r.get(e, "integration"), key+".integration"); in != "" && !strings.EqualFold(in, "lambda-proxy") && !strings.EqualFold(in, "aws_proxy") {
				r.cfg.note(r.pos(e), LevelNote, "%s: integration %s maps requests with templates, which lambdapack serve does not: it sends the lambda-proxy event", key, in)
			}
		}
	} else {
		mNode, pNode = e, e
		s := strings.TrimSpace(r.need(e, key))
		switch method, rest, found := strings.Cut(s, " "); {
		case s == slsDefaultRoute:
			m = slsDefaultRoute
		case found:
			m, p = method, strings.TrimSpace(rest)
		default:
			p = s // a path alone: its method is missing
		}
	}
	if r.failed[r.pos(mNode)] || r.failed[r.pos(pNode)] {
		return // a variable that did not resolve, already an error
	}
	rt := Route{Pos: r.pos(e)}
	method, ok := normMethod(m)
	switch {
	case m == "" && (kind == "http" || p != ""):
		r.fail(orNode(mNode, e), `write the method: "GET /items" or method: get`, "%s has no method", key)
		return
	case !ok:
		r.fail(orNode(mNode, e), "write "+methodsHint, "%s: method %q is not an HTTP method API Gateway routes", key, m)
		return
	}
	rt.Method = method
	if kind == "http" {
		if p == "" {
			r.fail(orNode(pNode, e), `write the path: "GET items" or path: items`, "%s has no path", key)
			return
		}
		rt.API, rt.PayloadFormat, rt.Stage, rt.Path = APIREST, payload1, r.stage(varCtx{}), normRoutePath(p)
	} else {
		rt.API, rt.PayloadFormat, rt.Stage = APIHTTP, payload, defaultHTTPStage
		if p != "" && p != slsDefaultRoute {
			rt.Path = normRoutePath(p)
		}
	}
	f.Routes = append(f.Routes, rt)
}

// tomlRun reads a lambdapack function's timeout and memory (its own, else the
// project's), with Lambda's defaults.
func (r *tomlReader) run(f *Function, key string, t, root map[string]any) {
	f.Timeout, f.MemorySize, f.EphemeralStorage = DefaultTimeout, DefaultMemorySize, DefaultEphemeralStorage
	// read is the function's own setting, else the project's default
	// (whose mistakes are said once, for every function).
	read := func(kind func(string) limit, k string) (int, bool) {
		if v, ok := t[k]; ok {
			return r.limit(kind, v, f.Name, key+"."+k)
		}
		return r.limit(kind, root[k], "", k)
	}
	if n, ok := read(timeoutLimit, "timeout"); ok {
		f.Timeout = time.Duration(n) * time.Second
	}
	if n, ok := read(memoryLimit, "memory"); ok {
		f.MemorySize = n
	}
}

func (r *tomlReader) limit(kind func(string) limit, v any, fn, key string) (int, bool) {
	if v == nil {
		return 0, false
	}
	l := kind(key)
	n, ok := v.(int64)
	if !ok {
		r.errs = addOnce(r.errs, errorf(r.pos(key), fmt.Sprintf("write a whole number of %s, %d to %d", l.unit, l.min, l.max), "%s%s must be a whole number, not %v", ofFunction(fn), key, v))
		return 0, false
	}
	return checkLimit(&r.errs, l, r.pos(key), fn, strconv.FormatInt(n, 10))
}
