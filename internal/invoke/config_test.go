package invoke_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lambdapack/lambdapack/internal/invoke"
	"github.com/lambdapack/lambdapack/internal/project"
	"github.com/lambdapack/lambdapack/internal/testutil"
)

func TestRunConfigServerless(t *testing.T) {
	dir := t.TempDir()
	testutil.WriteFiles(t, dir, map[string]string{
		"serverless.yml": `service: shop
provider:
  name: aws
  runtime: python3.12
  timeout: 12
  environment:
    SERVICE: shop
    TABLE: ${self:service}-table
  httpApi:
    payload: '2.0'
functions:
  api:
    handler: app.handler
    memorySize: 512
    environment:
      MODE: api
    events:
      - http:
          path: items/{id}
          method: get
      - http: POST items
      - httpApi: 'GET /v2/items'
      - httpApi: '*'
  cron:
    handler: app.cron
    timeout: 60
    url: true
`,
		"app.py": "def handler(e, c): pass\ndef cron(e, c): pass\n",
	})
	cfg, err := project.Load(dir, project.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rcs, err := invoke.ReadRunConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	api, cron := rcs["api"], rcs["cron"]
	if api.Timeout != 12*time.Second || api.MemoryMB != 512 || cron.Timeout != 60*time.Second || cron.MemoryMB != 1024 || !cron.URL || api.URL {
		t.Errorf("api %+v, cron %+v", api, cron)
	}
	var routes []string
	for _, r := range api.Routes {
		routes = append(routes, fmt.Sprintf("%s %s REST=%v", r, r.Format, r.REST))
	}
	want := "GET /items/{id} 1.0 REST=true; POST /items 1.0 REST=true; GET /v2/items 2.0 REST=false; $default 2.0 REST=false"
	if got := strings.Join(routes, "; "); got != want {
		t.Errorf("routes\n%s\nwant\n%s", got, want)
	}
}

func TestGatewayMatch(t *testing.T) {
	g := &invoke.Gateway{Routes: []invoke.Route{
		{Function: "proxy", Method: "ANY", Path: "/{proxy+}"},
		{Function: "item", Method: "GET", Path: "/items/{id}"},
		{Function: "anyItem", Method: "ANY", Path: "/items/{id}"},
		{Function: "special", Method: "GET", Path: "/items/special"},
		{Function: "files", Method: "GET", Path: "/files/{path+}"},
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
	g = &invoke.Gateway{Routes: []invoke.Route{{Function: "one", Method: "GET", Path: "/one"}}}
	if _, _, ok := g.Match("GET", "/two"); ok {
		t.Error("an unmatched path found a route")
	}
	g.Routes = append(g.Routes, invoke.Route{Function: "default", Method: "ANY"})
	if r, _, ok := g.Match("GET", "/two"); !ok || r.Function != "default" {
		t.Errorf("$default: %v %v", r, ok)
	}
}
