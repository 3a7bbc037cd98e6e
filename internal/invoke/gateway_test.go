package invoke_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/lambdapack/lambdapack/internal/app"
	"github.com/lambdapack/lambdapack/internal/invoke"
	"github.com/lambdapack/lambdapack/internal/project"
	"github.com/lambdapack/lambdapack/internal/runtimeapi"
	"github.com/lambdapack/lambdapack/internal/testutil"
)

func route(function, method, path string) invoke.Route {
	return invoke.Route{Function: function, Route: project.Route{API: project.APIHTTP, Method: method, Path: path}}
}

func TestGatewayMatch(t *testing.T) {
	g := &invoke.Gateway{Routes: []invoke.Route{
		route("proxy", "ANY", "/{proxy+}"),
		route("item", "GET", "/items/{id}"),
		route("anyItem", "ANY", "/items/{id}"),
		route("special", "GET", "/items/special"),
		route("files", "GET", "/files/{path+}"),
	}}
	for _, c := range []struct{ method, path, fn, params string }{
		{"GET", "/items/42", "item", "map[id:42]"},
		{"DELETE", "/items/42", "anyItem", "map[id:42]"},
		{"GET", "/items/special", "special", "map[]"},
		{"GET", "/files/a/b/c.txt", "files", "map[path:a/b/c.txt]"},
		{"POST", "/anything/else", "proxy", "map[proxy:anything/else]"},
		{"GET", "/items/a%20b", "item", "map[id:a b]"},
	} {
		r, params, ok := g.Match(c.method, c.path)
		if !ok || r.Function != c.fn || fmt.Sprint(params) != c.params {
			t.Errorf("%s %s: %s %v %v, want %s %s", c.method, c.path, r.Function, params, ok, c.fn, c.params)
		}
	}
	g = &invoke.Gateway{Routes: []invoke.Route{route("one", "GET", "/one")}}
	if _, _, ok := g.Match("GET", "/two"); ok {
		t.Error("an unmatched path found a route")
	}
	g.Routes = append(g.Routes, route("default", "ANY", ""))
	if r, _, ok := g.Match("GET", "/two"); !ok || r.Function != "default" {
		t.Errorf("$default: %v %v", r, ok)
	}
}

// The routes serve answers come from the project model (app.Routes of each
// function's events): a serverless.yml's http events are REST routes of the
// service's stage, its httpApi events HTTP API routes of the provider's
// payload format; each request reaches its function as that route's event,
// and an answer without a Content-Type goes out as application/json, as
// API Gateway sends it.
func TestGatewayRoutesFromProject(t *testing.T) {
	dir := t.TempDir()
	testutil.WriteFiles(t, dir, map[string]string{
		"serverless.yml": `service: shop
provider:
  name: aws
  runtime: python3.12
  stage: ${opt:stage, 'dev'}
  httpApi:
    payload: '1.0'
functions:
  api:
    handler: app.handler
    events:
      - http:
          path: items/{id}
          method: get
      - http: POST items
  v2:
    handler: app.handler
    events:
      - httpApi: 'GET /v2/items'
  cron:
    handler: app.handler
    url: true
`,
		"app.py": "def handler(e, c): pass\n",
	})
	cfg, err := project.Load(dir, project.LoadOptions{Stage: "qa"})
	if err != nil {
		t.Fatal(err)
	}
	var routes []invoke.Route
	for _, f := range cfg.Functions {
		routes = append(routes, app.Routes(&f)...)
	}
	var got []string
	for _, r := range routes {
		got = append(got, fmt.Sprintf("%s -> %s %s REST=%v %s", r, r.Function, r.PayloadFormat, r.REST(), r.Stage))
	}
	want := "GET /items/{id} -> api 1.0 REST=true qa; POST /items -> api 1.0 REST=true qa; GET /v2/items -> v2 1.0 REST=false $default"
	if strings.Join(got, "; ") != want {
		t.Errorf("routes\n%s\nwant\n%s", strings.Join(got, "; "), want)
	}

	var mu sync.Mutex
	seen := map[string]map[string]any{}
	gw := &invoke.Gateway{Routes: routes, Invoke: func(ctx context.Context, fn string, payload []byte) (*runtimeapi.Result, error) {
		var ev map[string]any
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, err
		}
		mu.Lock()
		seen[fn] = ev
		mu.Unlock()
		return &runtimeapi.Result{Payload: []byte(`{"statusCode": 200, "body": "{\"ok\": true}"}`)}, nil
	}}
	srv := httptest.NewServer(gw)
	defer srv.Close()
	get := func(method, path string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res
	}
	if res := get("GET", "/items/42"); res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/json" {
		t.Errorf("GET /items/42: %d, Content-Type %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	ev := seen["api"]
	rc, _ := ev["requestContext"].(map[string]any)
	if ev["resource"] != "/items/{id}" || ev["path"] != "/items/42" || rc["stage"] != "qa" || rc["path"] != "/qa/items/42" || ev["version"] != nil {
		t.Errorf("the REST event: resource %v path %v version %v, requestContext %v", ev["resource"], ev["path"], ev["version"], rc)
	}
	get("GET", "/v2/items")
	ev = seen["v2"]
	rc, _ = ev["requestContext"].(map[string]any)
	if ev["version"] != "1.0" || ev["path"] != "/v2/items" || rc["stage"] != "$default" || rc["path"] != "/v2/items" {
		t.Errorf("the HTTP API's 1.0 event: version %v path %v, requestContext %v", ev["version"], ev["path"], rc)
	}
	// API Gateway's answers where no route matches: mixed REST and HTTP
	// routes answer 404 (an HTTP API's), a REST API alone 403.
	if res := get("DELETE", "/items/42"); res.StatusCode != http.StatusNotFound {
		t.Errorf("DELETE /items/42: %d, want 404", res.StatusCode)
	}
	gw.Routes = routes[:2]
	if res := get("DELETE", "/items/42"); res.StatusCode != http.StatusForbidden {
		t.Errorf("DELETE /items/42 on a REST API: %d, want 403", res.StatusCode)
	}
	if f, _ := cfg.Function("cron"); f.URL == nil || f.URL.AuthType != "NONE" || len(app.Routes(f)) != 0 {
		t.Errorf("cron: URL %+v, routes %v", f.URL, app.Routes(f))
	}
}
