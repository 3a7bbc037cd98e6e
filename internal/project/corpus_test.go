package project

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// walkPackage lists the files a folder package selects, as a build walks
// it: folders the matcher skips are not entered.
func walkPackage(t *testing.T, cfg *Config, p Package) []string {
	t.Helper()
	if p.Kind != PackageFolder {
		return nil
	}
	root := filepath.Join(cfg.Dir, filepath.FromSlash(p.Path))
	var out []string
	err := filepath.WalkDir(root, func(q string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, q)
		if rel == "." {
			return nil
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if p.Files.SkipDir(rel) {
				return filepath.SkipDir
			}
			return nil
		}
		if p.Files.Match(rel) {
			out = append(out, p.Prefix+rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// describeProject renders what the model says of a project: each function
// and layer, the files its folder package selects, and the notes.
func describeProject(t *testing.T, cfg *Config) string {
	var b strings.Builder
	for _, f := range cfg.Functions {
		s := summarize(f)
		fmt.Fprintf(&b, "function %s %s %s/%s pkg=%s deps=%s layers=%v external=%v env=%v\n", s.Name, s.Handler, s.Runtime, s.Arch, s.Pkg, s.Deps, s.Layers, s.External, s.Env)
		if files := walkPackage(t, cfg, f.Package); files != nil {
			fmt.Fprintf(&b, "  files %s\n", strings.Join(files, " "))
		}
		if len(f.Routes) > 0 || f.URL != nil {
			fmt.Fprintf(&b, "  run timeout=%s memory=%d", f.Timeout, f.MemorySize)
			for _, r := range f.Routes {
				fmt.Fprintf(&b, " [%s %s %s %s]", r, r.API, r.PayloadFormat, r.Stage)
			}
			if f.URL != nil {
				fmt.Fprintf(&b, " url=%s", f.URL.AuthType)
			}
			b.WriteString("\n")
		}
		for _, x := range f.Extra {
			fmt.Fprintf(&b, "  extra %s\n", x.Path)
		}
		if i := f.Image; i != nil {
			fmt.Fprintf(&b, "  image dockerfile=%s context=%s tag=%s base=%s command=%v\n", i.Dockerfile, i.Context, i.Tag, i.Base, i.Command)
		}
	}
	for _, l := range cfg.Layers {
		s := summarizeLayer(l)
		fmt.Fprintf(&b, "layer %s pkg=%s deps=%s runtimes=%v archs=%v\n", s.Name, s.Pkg, s.Deps, s.Runtimes, s.Archs)
		if files := walkPackage(t, cfg, l.Package); files != nil {
			fmt.Fprintf(&b, "  files %s\n", strings.Join(files, " "))
		}
	}
	for _, n := range cfg.Notes {
		fmt.Fprintf(&b, "%s: %s\n", n.Level, strings.ReplaceAll(n.Msg, cfg.Dir, "<dir>"))
	}
	return b.String()
}

// Each corpus project's model, as read from its config: what each function
// and layer packages (and the files selected), its dependencies, layers and
// environment, and the notes. The golden file is reviewed by hand;
// LAMBDAPACK_UPDATE_GOLDEN=1 rewrites it.
func TestCorpusModel(t *testing.T) {
	ents, err := os.ReadDir("testdata/corpus")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		n++
		t.Run(e.Name(), func(t *testing.T) {
			cfg, err := Load(filepath.Join("testdata/corpus", e.Name()), LoadOptions{Env: noEnv, Now: testNow})
			if err != nil {
				t.Fatal(err)
			}
			got := describeProject(t, cfg)
			golden := filepath.Join("testdata/corpus-model", e.Name()+".txt")
			if os.Getenv("LAMBDAPACK_UPDATE_GOLDEN") == "1" {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("model of %s (-want +got):\n%s", e.Name(), diff)
			}
		})
	}
	if n < 20 {
		t.Errorf("the corpus has %d projects, want at least 20", n)
	}
}
