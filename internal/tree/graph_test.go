package tree

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestPackageGraph keeps the seam's shape: planning knows nothing of sinks,
// sinks nothing of planning, and the lower packages nothing of the verbs.
func TestPackageGraph(t *testing.T) {
	const mod = "github.com/lambdapack/lambdapack/internal/"
	imports := map[string][]string{} // package -> internal packages its non-test files import
	ents, err := os.ReadDir("..")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		imports[e.Name()] = []string{}
		files, _ := filepath.Glob(filepath.Join("..", e.Name(), "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, im := range af.Imports {
				p, _ := strconv.Unquote(im.Path.Value)
				if rest, ok := strings.CutPrefix(p, mod); ok && !slices.Contains(imports[e.Name()], rest) {
					imports[e.Name()] = append(imports[e.Name()], rest)
				}
			}
		}
	}
	never := map[string][]string{
		"record":  {"tree", "archive", "zipsink", "install", "pins", "app", "verify", "publish"},
		"tree":    {"archive", "zipsink", "install", "pins", "app", "cache", "index", "verify"},
		"install": {"archive", "zipsink", "pins", "app"},
		"archive": {"install", "zipsink", "pins", "app", "record"},
		"zipsink": {"install", "pins", "app", "verify", "index", "cache"},
		"pins":    {"install", "archive", "zipsink", "tree", "app", "verify"},
		"verify":  {"app", "install", "archive", "zipsink", "pins"},
		"publish": {"app", "install", "archive", "zipsink", "pins"},
		"app":     {"archive"}, // sinks own their writers
	}
	for pkg, bad := range never {
		if _, ok := imports[pkg]; !ok {
			t.Errorf("package %s not found", pkg)
		}
		for _, b := range bad {
			if slices.Contains(imports[pkg], b) {
				t.Errorf("%s imports %s", pkg, b)
			}
		}
	}
	for pkg, ims := range imports {
		if slices.Contains(ims, "app") && pkg != "cli" {
			t.Errorf("%s imports app: only the CLI calls the verbs", pkg)
		}
	}
}
