package invoke

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	yaml "go.yaml.in/yaml/v3"

	"github.com/lambdapack/lambdapack/internal/events"
	"github.com/lambdapack/lambdapack/internal/project"
)

// RunConfig is what running a project's function needs beyond what the build
// reads: its timeout and memory, and the HTTP routes API Gateway or a
// function URL give it.
type RunConfig struct {
	Timeout  time.Duration
	MemoryMB int
	Routes   []Route
	// URL: the function has a function URL.
	URL   bool
	Notes []string
}

// Route is one HTTP route to a function.
type Route struct {
	Function string
	// Method is upper case, or "ANY"; Path is API Gateway's
	// ("/items/{id}", "/{proxy+}"), or "" for an HTTP API's $default route.
	Method, Path string
	// Format is events.Format1 (REST APIs) or events.Format2 (HTTP APIs).
	Format string
	// REST: a REST API's route (stage Prod, 403 when nothing matches).
	REST bool
}

func (r Route) String() string {
	if r.Path == "" {
		return "$default"
	}
	return r.Method + " " + r.Path
}

// ReadRunConfig reads the timeouts, memory sizes and HTTP events of the
// project's functions from its config file (SAM: Timeout, MemorySize,
// Events of Type Api and HttpApi, FunctionUrlConfig, with Globals;
// serverless: timeout, memorySize, http, httpApi and url, with the
// provider's). A project config of lambdapack's own has none of these:
// every function gets Lambda's defaults and no route.
func ReadRunConfig(cfg *project.Config) (map[string]*RunConfig, error) {
	out := map[string]*RunConfig{}
	for _, f := range cfg.Functions {
		out[f.Name] = &RunConfig{Timeout: 3 * time.Second, MemoryMB: 128}
	}
	if cfg.Kind != project.KindSAM && cfg.Kind != project.KindServerless {
		return out, nil
	}
	data, err := os.ReadFile(cfg.File)
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil || len(doc.Content) == 0 {
		return nil, fmt.Errorf("reading %s: %v", cfg.File, err)
	}
	root := doc.Content[0]
	if cfg.Kind == project.KindSAM {
		readSAM(root, out)
	} else {
		readServerless(root, out)
	}
	return out, nil
}

func child(n *yaml.Node, keys ...string) *yaml.Node {
	for _, key := range keys {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				next = n.Content[i+1]
			}
		}
		n = next
	}
	return n
}

func scalarOf(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode || strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		return ""
	}
	return n.Value
}

// number reads a whole number; ok is false when it is absent or not
// literal (a !Ref, a ${...}).
func number(n *yaml.Node) (int, bool) {
	v, err := strconv.Atoi(strings.TrimSpace(scalarOf(n)))
	return v, err == nil
}

func readSAM(root *yaml.Node, out map[string]*RunConfig) {
	globals := child(root, "Globals", "Function")
	res := child(root, "Resources")
	if res == nil {
		return
	}
	for i := 0; i+1 < len(res.Content); i += 2 {
		name, r := res.Content[i].Value, res.Content[i+1]
		rc, ok := out[name]
		if !ok || scalarOf(child(r, "Type")) != "AWS::Serverless::Function" {
			continue
		}
		props := child(r, "Properties")
		for _, n := range []*yaml.Node{child(globals, "Timeout"), child(props, "Timeout")} {
			if v, ok := number(n); ok {
				rc.Timeout = time.Duration(v) * time.Second
			} else if n != nil {
				rc.Notes = append(rc.Notes, fmt.Sprintf("Timeout at line %d is not a literal number: using %s", n.Line, rc.Timeout))
			}
		}
		for _, n := range []*yaml.Node{child(globals, "MemorySize"), child(props, "MemorySize")} {
			if v, ok := number(n); ok {
				rc.MemoryMB = v
			}
		}
		if child(props, "FunctionUrlConfig") != nil || child(globals, "FunctionUrlConfig") != nil {
			rc.URL = true
		}
		evs := child(props, "Events")
		if evs == nil {
			continue
		}
		for j := 0; j+1 < len(evs.Content); j += 2 {
			ev := evs.Content[j+1]
			typ := scalarOf(child(ev, "Type"))
			ep := child(ev, "Properties")
			path, method := scalarOf(child(ep, "Path")), strings.ToUpper(scalarOf(child(ep, "Method")))
			switch typ {
			case "Api":
				if path == "" {
					continue
				}
				rc.Routes = append(rc.Routes, Route{Function: name, Method: anyMethod(method), Path: path, Format: events.Format1, REST: true})
			case "HttpApi":
				format := events.Format2
				if scalarOf(child(ep, "PayloadFormatVersion")) == "1.0" {
					format = events.Format1
				}
				if path == "" && (method == "" || method == "ANY") {
					rc.Routes = append(rc.Routes, Route{Function: name, Method: "ANY", Format: format})
					continue
				}
				rc.Routes = append(rc.Routes, Route{Function: name, Method: anyMethod(method), Path: path, Format: format})
			}
		}
	}
}

func anyMethod(m string) string {
	if m == "" || m == "*" {
		return "ANY"
	}
	return m
}

func readServerless(root *yaml.Node, out map[string]*RunConfig) {
	provider := child(root, "provider")
	timeout, memory := 6*time.Second, 1024 // the Serverless Framework's defaults
	if v, ok := number(child(provider, "timeout")); ok {
		timeout = time.Duration(v) * time.Second
	}
	if v, ok := number(child(provider, "memorySize")); ok {
		memory = v
	}
	httpFormat := events.Format2
	if scalarOf(child(provider, "httpApi", "payload")) == "1.0" {
		httpFormat = events.Format1
	}
	fns := child(root, "functions")
	if fns == nil {
		return
	}
	for i := 0; i+1 < len(fns.Content); i += 2 {
		name, f := fns.Content[i].Value, fns.Content[i+1]
		rc, ok := out[name]
		if !ok {
			continue
		}
		rc.Timeout, rc.MemoryMB = timeout, memory
		if v, ok := number(child(f, "timeout")); ok {
			rc.Timeout = time.Duration(v) * time.Second
		}
		if v, ok := number(child(f, "memorySize")); ok {
			rc.MemoryMB = v
		}
		if u := child(f, "url"); u != nil && (u.Kind == yaml.MappingNode || scalarOf(u) == "true") {
			rc.URL = true
		}
		evs := child(f, "events")
		if evs == nil || evs.Kind != yaml.SequenceNode {
			continue
		}
		for _, ev := range evs.Content {
			for _, kind := range []string{"http", "httpApi"} {
				e := child(ev, kind)
				if e == nil {
					continue
				}
				var method, path string
				if e.Kind == yaml.ScalarNode {
					// "GET /items", "*"
					s := strings.TrimSpace(e.Value)
					if s == "*" {
						method = "ANY"
					} else {
						m, p, _ := strings.Cut(s, " ")
						method, path = m, strings.TrimSpace(p)
					}
				} else {
					method, path = scalarOf(child(e, "method")), scalarOf(child(e, "path"))
				}
				method = anyMethod(strings.ToUpper(method))
				if path != "" && !strings.HasPrefix(path, "/") {
					path = "/" + path
				}
				if kind == "http" {
					if path == "" {
						continue
					}
					rc.Routes = append(rc.Routes, Route{Function: name, Method: method, Path: path, Format: events.Format1, REST: true})
				} else {
					rc.Routes = append(rc.Routes, Route{Function: name, Method: method, Path: path, Format: httpFormat})
				}
			}
		}
	}
}
