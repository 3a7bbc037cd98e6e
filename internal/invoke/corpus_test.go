package invoke_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lambdapack/lambdapack/internal/app"
	"github.com/lambdapack/lambdapack/internal/invoke"
	"github.com/lambdapack/lambdapack/internal/testutil"
)

// The corpus's projects with HTTP events served as a new user serves them
// (lambdapack serve in the project's folder) and called on their routes: a
// SAM HTTP API with path parameters, a 1.0 route, a catch-all and a function
// URL; the SAM hello world's REST API; serverless http and httpApi events
// (requests and Flask through serverless-wsgi, from the index).
func TestServeCorpus(t *testing.T) {
	type call struct {
		method, path, host, body string
		status                   int
		want                     string // in the body
	}
	for _, c := range []struct {
		project string
		calls   []call
	}{
		{"sam-http-api", []call{
			{"GET", "/items/1", "", "", 200, `{"id": "1", "name": "apple"}`},
			{"PUT", "/items/2", "", `{"name": "pear"}`, 201, `{"id": "2", "name": "pear"}`},
			{"GET", "/items/2", "", "", 200, `"pear"`}, // the same warm process kept it
			{"GET", "/items/9", "", "", 404, `no item 9`},
			{"GET", "/items", "", "", 200, `{"table": "items", "items": ["1", "2"], "path": "/items"}`},
			{"PUT", "/items", "", "", 200, `{"route": "$default", "path": "/items"}`},
			{"GET", "/anything/else", "", "", 200, `{"route": "$default", "path": "/anything/else"}`},
			{"POST", "/hook", "webhookfunction.localhost", `{"n": 1}`, 202, `{"received": {"n": 1}, "memory": "512"}`},
		}},
		{"sam-hello-world", []call{
			{"GET", "/hello", "", "", 200, `{"requests": "2.32.3"}`},
			{"POST", "/hello", "", "", 403, `Missing Authentication Token`},
		}},
		{"sls-basic-requirements", []call{
			{"GET", "/fetch", "", "", 200, `2.32.3`},
		}},
		{"sls-wsgi-flask", []call{
			{"GET", "/", "", "", 200, `{"message":"hello"}`},
			{"GET", "/nope", "", "", 404, `Not Found`},
		}},
	} {
		t.Run(c.project, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.CopyFS(dir, os.DirFS(filepath.Join("..", "project", "testdata", "corpus", c.project))); err != nil {
				t.Fatal(err)
			}
			work := t.TempDir()
			r, _ := testRunner(t, invoke.Options{WorkDir: work})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			p, err := app.OpenProjectRun(ctx, r, app.ProjectRunOptions{Dir: dir, Notes: &testLog{t: t}, Env: app.EnvOptions{CacheDir: testutil.SharedCache(t)}})
			if err != nil {
				t.Fatal(err)
			}
			ln, err := invoke.Listen("127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			served := make(chan error, 1)
			go func() { served <- invoke.Serve(ctx, p, ln, invoke.ServeOptions{Log: &testLog{t: t}}) }()
			client := &http.Client{Timeout: 60 * time.Second}
			for _, k := range c.calls {
				req, err := http.NewRequest(k.method, "http://"+ln.Addr().String()+k.path, strings.NewReader(k.body))
				if err != nil {
					t.Fatal(err)
				}
				if k.host != "" {
					req.Host = k.host
				}
				if k.body != "" {
					req.Header.Set("Content-Type", "application/json")
				}
				res, err := client.Do(req)
				if err != nil {
					t.Fatalf("%s %s: %v", k.method, k.path, err)
				}
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != k.status || !strings.Contains(string(b), k.want) || res.Header.Get("Content-Type") == "" {
					t.Errorf("%s %s: %d %q (Content-Type %q), want %d with %s", k.method, k.path, res.StatusCode, b, res.Header.Get("Content-Type"), k.status, k.want)
				}
			}
			cancel()
			if err := <-served; err != nil {
				t.Errorf("Serve: %v", err)
			}
			p.Close()
			waitGone(t, "LAMBDA_TASK_ROOT="+work)
		})
	}
}
