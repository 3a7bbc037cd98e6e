package app

import (
	"io/fs"
	"strings"
	"testing"

	"github.com/lambdapack/lambdapack/internal/verify"
)

func TestHandlerRule(t *testing.T) {
	files := func(paths ...string) []artifactFile {
		var out []artifactFile
		for _, p := range paths {
			mode := fs.FileMode(0o644)
			if strings.HasSuffix(p, "*") {
				p, mode = strings.TrimSuffix(p, "*"), 0o755
			}
			out = append(out, artifactFile{Path: p, Mode: mode})
		}
		return out
	}
	for _, c := range []struct {
		name     string
		handler  string
		fn       []artifactFile
		layers   map[string][]artifactFile
		external []string
		want     string // "" passes; else severity: message part
	}{
		{"module file", "app.handler", files("app.py", "requests/__init__.py"), nil, nil, ""},
		{"package", "app.handler", files("app/__init__.py"), nil, nil, ""},
		{"namespace package", "api.handlers.orders.handler", files("api/handlers/orders.py"), nil, nil, ""},
		{"slash path", "src/handler.main", files("src/handler.py"), nil, nil, ""},
		{"empty zip", "app.handler", nil, nil, nil, "error: handler app.handler: no app.py or app/ in the function or its layers"},
		{"deps only", "app.handler", files("requests/__init__.py", "application.py"), nil, nil, "error: no app.py or app/"},
		{"in a layer", "shared.handler", nil, map[string][]artifactFile{"L": files("python/shared.py")}, nil, ""},
		{"in site-packages for this python", "shared.handler", nil, map[string][]artifactFile{"L": files("python/lib/python3.12/site-packages/shared/__init__.py")}, nil, ""},
		{"in site-packages for another python", "shared.handler", nil, map[string][]artifactFile{"L": files("python/lib/python3.11/site-packages/shared/__init__.py")}, nil, "error: no shared.py or shared/"},
		{"layer root is not on sys.path", "shared.handler", nil, map[string][]artifactFile{"L": files("shared.py")}, nil, "error:"},
		{"external layers", "app.handler", nil, nil, []string{"arn:aws:lambda:us-east-1:1:layer:x:1"}, "warning: handler app.handler: no app.py or app/ in the function or its layers built here; it may be in the external layers arn:aws:lambda:us-east-1:1:layer:x:1"},
		{"script", "run.sh", files("run.sh*", "app.py"), nil, nil, ""},
		{"script not executable", "run.sh", files("run.sh"), nil, nil, "error: handler run.sh is not executable"},
		{"script missing", "run.sh", files("app.py"), nil, nil, "error: handler run.sh: no run.sh in the function"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := checkHandler(c.handler, "3.12", c.fn, c.layers, c.external)
			got := ""
			if f != nil {
				if f.Rule != RuleHandler {
					t.Errorf("rule %q", f.Rule)
				}
				got = string(f.Severity) + ": " + f.Message
			}
			if c.want == "" && got != "" || c.want != "" && !strings.HasPrefix(got, c.want) && !strings.Contains(got, strings.TrimPrefix(strings.TrimPrefix(c.want, "error: "), "warning: ")) || c.want != "" && got == "" {
				t.Errorf("got %q, want %q", got, c.want)
			}
			if c.want != "" && got != "" && !strings.HasPrefix(got, strings.SplitN(c.want, ":", 2)[0]) {
				t.Errorf("severity: got %q, want %q", got, c.want)
			}
			_ = verify.Error
		})
	}
}
