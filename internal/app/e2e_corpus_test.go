package app_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	yaml "go.yaml.in/yaml/v3"

	"github.com/lambdapack/lambdapack/internal/app"
	"github.com/lambdapack/lambdapack/internal/image/base"
	"github.com/lambdapack/lambdapack/internal/image/imagetest"
	"github.com/lambdapack/lambdapack/internal/project"
	"github.com/lambdapack/lambdapack/internal/target"
	"github.com/lambdapack/lambdapack/internal/testutil"
)

// copyTree copies a corpus project into a temp folder, so that builds write
// nothing into testdata.
func copyTree(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(to, data, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// Every project of the corpus builds against the real index, and each
// x86_64 function's handler imports with its layers, with the CPython of its
// runtime. The test logs the tally: built / partly / failed, with reasons.
func TestE2ECorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: uses the real index")
	}
	root := filepath.Join("..", "project", "testdata", "corpus")
	ents, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	cache := testutil.SharedCache(t)
	// AWS's Lambda bases (a Dockerfile's FROM public.ecr.aws/lambda/...)
	// come from a registry on loopback, as through a mirror: Lambda-like
	// bases for each Python the corpus' image functions use.
	t.Setenv(base.MirrorEnv, "public.ecr.aws/lambda="+imagetest.LambdaMirror(t, "3.12.3")+"/lambda")
	type result struct {
		name, status, why string
	}
	var results []result
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		t.Run(e.Name(), func(t *testing.T) {
			dir := copyTree(t, filepath.Join(root, e.Name()))
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			rep, cfg, err := app.Build(ctx, app.BuildOptions{Dir: dir, Env: app.EnvOptions{CacheDir: cache, Log: &e2eLog{t: t}}})
			if err != nil {
				results = append(results, result{e.Name(), "failed", err.Error()})
				t.Errorf("build: %v", err)
				return
			}
			byName := map[string]*app.BuiltArtifact{}
			for _, a := range rep.Artifacts {
				byName[a.Name] = a
			}
			var problems []string
			imported := 0
			problems = append(problems, checkDeployFiles(t, cfg, rep)...)
			for _, f := range cfg.Functions {
				if f.Image != nil && !f.Package.Skipped() {
					// Built as lambdapack image builds it (build_image_test
					// runs such images' files).
					if a := byName[f.Name]; a == nil || a.Kind != "image" || a.Image == nil || a.Architecture != string(f.Arch) {
						problems = append(problems, f.Name+": image not built")
					}
					continue
				}
				if f.Package.Skipped() {
					continue
				}
				a := byName[f.Name]
				if a == nil {
					problems = append(problems, f.Name+" not built")
					continue
				}
				if f.Arch != target.X86_64 {
					continue
				}
				py, perr := testutil.FindPython(strings.TrimPrefix(f.Runtime, "python"))
				if perr != nil {
					t.Logf("%s: no CPython for %s here: %v", f.Name, f.Runtime, perr)
					continue
				}
				fnDir := testutil.Unzip(t, a.Path)
				path := []string{fnDir}
				for _, u := range f.Layers {
					la := byName[u.Name+"-"+string(u.Arch)]
					if la == nil {
						problems = append(problems, fmt.Sprintf("%s: layer %s not built", f.Name, u.Name))
						continue
					}
					ld := testutil.Unzip(t, la.Path)
					path = append(path, filepath.Join(ld, "python"), filepath.Join(ld, "python", "lib", f.Runtime, "site-packages"))
				}
				if f.HandlerIsScript() {
					st, serr := os.Stat(filepath.Join(fnDir, f.Handler))
					if serr != nil || st.Mode()&0o111 == 0 {
						problems = append(problems, fmt.Sprintf("%s: script %s missing or not executable", f.Name, f.Handler))
					}
					continue
				}
				mod, _ := project.HandlerModule(f.Handler)
				fnName := f.Handler[strings.LastIndex(f.Handler, ".")+1:]
				code := fmt.Sprintf("import importlib; m = importlib.import_module(%q); assert callable(getattr(m, %q))", strings.ReplaceAll(mod, "/", "."), fnName)
				cmd := exec.Command(py, "-S", "-c", code)
				cmd.Dir = fnDir
				cmd.Env = append(os.Environ(), "PYTHONPATH="+strings.Join(path, ":"), "PYTHONNOUSERSITE=1", "PYTHONDONTWRITEBYTECODE=1")
				for _, ev := range f.Environment {
					if ev.Expr == "" {
						cmd.Env = append(cmd.Env, ev.Name+"="+ev.Value)
					}
				}
				if out, rerr := cmd.CombinedOutput(); rerr != nil {
					problems = append(problems, fmt.Sprintf("%s: import %s with %s: %v: %s", f.Name, f.Handler, f.Runtime, rerr, strings.TrimSpace(string(out))))
					continue
				}
				imported++
			}
			for _, l := range cfg.Layers {
				if l.Package.Skipped() {
					continue
				}
				for _, arch := range l.Archs {
					if byName[l.Name+"-"+string(arch)] == nil {
						problems = append(problems, "layer "+l.Name+" not built")
					}
				}
			}
			if len(problems) > 0 {
				results = append(results, result{e.Name(), "partly", strings.Join(problems, "; ")})
				t.Errorf("%s", strings.Join(problems, "\n"))
				return
			}
			results = append(results, result{e.Name(), "built", fmt.Sprintf("%d artifacts, %d handlers imported, %d skipped", len(rep.Artifacts), imported, len(rep.Skipped))})
		})
	}
	sort.Slice(results, func(i, j int) bool { return results[i].name < results[j].name })
	count := map[string]int{}
	var b strings.Builder
	for _, r := range results {
		count[r.status]++
		fmt.Fprintf(&b, "%-28s %-7s %s\n", r.name, r.status, r.why)
	}
	t.Logf("corpus: %d built, %d partly, %d failed\n%s", count["built"], count["partly"], count["failed"], b.String())
	if n := len(results); n < 20 {
		t.Errorf("only %d corpus projects ran", n)
	}
}

// checkDeployFiles reads what the build wrote for the deploy tool as a new
// user's next step would, without the tool: SAM's build template parses as
// YAML with every short tag of the project's template kept, and each
// CodeUri and ContentUri names a file or folder that exists; the
// Serverless plugin names zips that exist.
func checkDeployFiles(t *testing.T, cfg *project.Config, rep *app.BuildReport) []string {
	var problems []string
	switch cfg.Kind {
	case project.KindSAM:
		if rep.SAMTemplate == "" {
			return []string{"no SAM build template written"}
		}
		src, err := os.ReadFile(cfg.File)
		if err != nil {
			t.Fatal(err)
		}
		out, err := os.ReadFile(rep.SAMTemplate)
		if err != nil {
			return []string{err.Error()}
		}
		var a, b yaml.Node
		if err := yaml.Unmarshal(src, &a); err != nil {
			t.Fatal(err)
		}
		if err := yaml.Unmarshal(out, &b); err != nil {
			return []string{"the SAM build template does not parse: " + err.Error()}
		}
		if ta, tb := shortTags(&a), shortTags(&b); !slices.Equal(ta, tb) {
			problems = append(problems, fmt.Sprintf("short tags %v in the template, %v in the build template", ta, tb))
		}
		var walk func(n *yaml.Node)
		walk = func(n *yaml.Node) {
			for i := 0; n.Kind == yaml.MappingNode && i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if (k.Value == "CodeUri" || k.Value == "ContentUri") && v.Kind == yaml.ScalarNode && v.Tag == "!!str" && !strings.HasPrefix(v.Value, "s3://") {
					if _, err := os.Stat(filepath.Join(filepath.Dir(rep.SAMTemplate), filepath.FromSlash(v.Value))); err != nil {
						problems = append(problems, fmt.Sprintf("build template %s %s: %v", k.Value, v.Value, err))
					}
				}
			}
			for _, c := range n.Content {
				walk(c)
			}
		}
		walk(&b)
	case project.KindServerless:
		if rep.ServerlessPlugin == "" {
			return []string{"no Serverless plugin written"}
		}
		js, err := os.ReadFile(rep.ServerlessPlugin)
		if err != nil {
			return []string{err.Error()}
		}
		zips := regexp.MustCompile(`"([^"]+\.zip)"`).FindAllStringSubmatch(string(js), -1)
		if len(zips) == 0 && len(rep.Artifacts) > 0 {
			problems = append(problems, "the Serverless plugin names no zip")
		}
		for _, m := range zips {
			if _, err := os.Stat(filepath.Join(cfg.Dir, filepath.FromSlash(m[1]))); err != nil {
				problems = append(problems, fmt.Sprintf("plugin names %s: %v", m[1], err))
			}
		}
	}
	return problems
}

// shortTags lists the CloudFormation short tags (!Ref, !Sub, ...) of a
// document, sorted.
func shortTags(n *yaml.Node) []string {
	var out []string
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
			out = append(out, n.Tag)
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(n)
	sort.Strings(out)
	return out
}
