package app

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lambdapack/lambdapack/internal/invoke"
	"github.com/lambdapack/lambdapack/internal/project"
	"github.com/lambdapack/lambdapack/internal/runtimeapi"
	"github.com/lambdapack/lambdapack/internal/target"
	"github.com/lambdapack/lambdapack/internal/tree"
)

// Running functions locally (lambdapack invoke and serve): the project's
// incremental build makes the zips, internal/invoke runs them. The pipeline
// also installs the runtime client (RuntimePackages).

// ProjectRunOptions say which project to run and how.
type ProjectRunOptions struct {
	// Dir, Config, Stage and Out are as `lambdapack build` has them.
	Dir, Config, Stage, Out string
	// Only runs these functions (all of the project's when empty).
	Only []string
	// EnvFile adds variables to every function (dotenv), or per function
	// (SAM's --env-vars JSON).
	EnvFile string
	// Timeout, when set, replaces every function's configured timeout;
	// Concurrency bounds each function's processes (default 1).
	Timeout     time.Duration
	MemoryMB    int
	Concurrency int
	// NoVerify and Force are passed to the incremental build, and Env
	// (the cache, the index).
	NoVerify, Force bool
	Env             EnvOptions
	// Notes hears what lambdapack does (builds, rebuilds, restarts).
	Notes io.Writer
}

// ProjectRun is a project's functions, built and ready to invoke.
type ProjectRun struct {
	Config *project.Config
	Run    map[string]*invoke.RunConfig

	r *invoke.Runner
	o ProjectRunOptions

	mu  sync.Mutex
	fns map[string]*invoke.Function
}

// OpenProjectRun builds what is stale (the incremental `lambdapack build`)
// and opens every function to run (or those in Only) with its layers.
func OpenProjectRun(ctx context.Context, r *invoke.Runner, o ProjectRunOptions) (*ProjectRun, error) {
	if o.Notes == nil {
		o.Notes = io.Discard
	}
	cfg, err := project.Load(cmp.Or(o.Dir, "."), project.LoadOptions{Config: o.Config, Stage: o.Stage})
	if err != nil {
		return nil, err
	}
	for _, n := range cfg.Notes {
		fmt.Fprintf(o.Notes, "note: %s\n", n)
	}
	names := runnableNames(cfg)
	for _, n := range o.Only {
		f, ok := cfg.Function(n)
		if !ok {
			return nil, fmt.Errorf("%s has no function %s (it has %s)", filepath.Base(cfg.File), n, orNoneList(functionNames(cfg)))
		}
		if why := notRunnable(f); why != "" {
			return nil, fmt.Errorf("%s: %s cannot run locally: %s", filepath.Base(cfg.File), n, why)
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%s defines no Python function to run", cfg.File)
	}
	for i := range cfg.Functions {
		f := &cfg.Functions[i]
		if why := notRunnable(f); why != "" && len(o.Only) == 0 {
			fmt.Fprintf(o.Notes, "note: %s is not run: %s\n", f.Name, why)
		}
	}
	run, err := invoke.ReadRunConfig(cfg)
	if err != nil {
		return nil, err
	}
	p := &ProjectRun{Config: cfg, Run: run, r: r, o: o, fns: map[string]*invoke.Function{}}
	rep, err := p.build(ctx)
	if err != nil {
		return nil, err
	}
	for _, f := range cfg.Functions {
		if !p.wanted(&f) {
			continue
		}
		spec, closeTrees, err := p.spec(f, rep)
		if err != nil {
			p.Close()
			return nil, err
		}
		fn, err := r.Open(ctx, spec)
		closeTrees()
		if err != nil {
			p.Close()
			return nil, err
		}
		p.fns[f.Name] = fn
	}
	return p, nil
}

func functionNames(cfg *project.Config) []string {
	var out []string
	for _, f := range cfg.Functions {
		out = append(out, f.Name)
	}
	return out
}

// RunnableFunctions lists the project's functions lambdapack can run: Python
// handlers built as zips (not a skipped, image or script-handler function).
func RunnableFunctions(cfg *project.Config) []string { return runnableNames(cfg) }

func runnableNames(cfg *project.Config) []string {
	var out []string
	for i := range cfg.Functions {
		if notRunnable(&cfg.Functions[i]) == "" {
			out = append(out, cfg.Functions[i].Name)
		}
	}
	return out
}

// notRunnable says why a function cannot run locally, or "".
func notRunnable(f *project.Function) string {
	switch {
	case f.Package.Skipped():
		return f.Package.Reason
	case f.HandlerIsScript():
		return fmt.Sprintf("its handler %s is a program, not a Python module.function the runtime client can load", f.Handler)
	}
	return ""
}

func orNoneList(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

func (p *ProjectRun) wanted(f *project.Function) bool {
	if notRunnable(f) != "" {
		return false
	}
	return len(p.o.Only) == 0 || slices.Contains(p.o.Only, f.Name)
}

// build runs the incremental build of the wanted functions and their layers.
func (p *ProjectRun) build(ctx context.Context) (*BuildReport, error) {
	var only []string
	for i := range p.Config.Functions {
		f := &p.Config.Functions[i]
		if !p.wanted(f) {
			continue
		}
		only = append(only, f.Name)
		for _, l := range f.Layers {
			if !slices.Contains(only, l.Name) {
				only = append(only, l.Name)
			}
		}
	}
	start := time.Now()
	env := p.o.Env
	env.Log = nil
	rep, _, err := Build(ctx, BuildOptions{
		Dir: p.Config.Dir, Config: p.Config.File, Stage: p.o.Stage, Out: p.o.Out, Only: only,
		NoVerify: p.o.NoVerify, Force: p.o.Force, Env: env,
	})
	if err != nil {
		return nil, err
	}
	built := 0
	for _, a := range rep.Artifacts {
		if a.Unchanged == nil || !*a.Unchanged {
			built++
		}
	}
	if built > 0 {
		fmt.Fprintf(p.o.Notes, "Built %d of %d artifacts in %s\n", built, len(rep.Artifacts), time.Since(start).Round(time.Millisecond))
	}
	return rep, nil
}

// spec makes the Spec of a function from the build's zips: the function's,
// then its layers' in the order the build lists them.
func (p *ProjectRun) spec(f project.Function, rep *BuildReport) (invoke.Spec, func(), error) {
	var trees []*tree.Tree
	closeAll := func() {
		for _, t := range trees {
			t.Close()
		}
	}
	artifact := func(name string) *BuiltArtifact {
		for _, a := range rep.Artifacts {
			if a.Name == name {
				return a
			}
		}
		return nil
	}
	fa := artifact(f.Name)
	if fa == nil {
		return invoke.Spec{}, closeAll, fmt.Errorf("the build made no zip for %s", f.Name)
	}
	code, err := invoke.ZipTree(fa.Path)
	if err != nil {
		return invoke.Spec{}, closeAll, err
	}
	trees = append(trees, code)
	var layers []*tree.Tree
	for _, ln := range fa.Layers {
		la := artifact(ln)
		if la == nil {
			closeAll()
			return invoke.Spec{}, func() {}, fmt.Errorf("the build made no zip for layer %s of %s", ln, f.Name)
		}
		lt, err := invoke.ZipTree(la.Path)
		if err != nil {
			closeAll()
			return invoke.Spec{}, func() {}, err
		}
		trees = append(trees, lt)
		layers = append(layers, lt)
	}
	for _, ext := range f.ExternalLayers {
		fmt.Fprintf(p.o.Notes, "%s: layer %s is not part of the project and is left out of the local run\n", f.Name, ext)
	}
	env, err := p.functionEnv(f)
	if err != nil {
		closeAll()
		return invoke.Spec{}, func() {}, err
	}
	rc := p.Run[f.Name]
	for _, n := range rc.Notes {
		fmt.Fprintf(p.o.Notes, "%s: %s\n", f.Name, n)
	}
	timeout, memory := rc.Timeout, rc.MemoryMB
	if p.o.Timeout > 0 {
		timeout = p.o.Timeout
	}
	if p.o.MemoryMB > 0 {
		memory = p.o.MemoryMB
	}
	return invoke.Spec{
		Name: f.Name, Handler: f.Handler, Runtime: f.Runtime, Arch: string(f.Arch),
		Code: code, Layers: layers, Env: env, Timeout: timeout, MemoryMB: memory, Concurrency: p.o.Concurrency,
	}, closeAll, nil
}

// functionEnv is a function's environment: its config's variables, then
// --env-file's.
func (p *ProjectRun) functionEnv(f project.Function) (map[string]string, error) {
	env := map[string]string{}
	for _, v := range f.Environment {
		if v.Expr != "" {
			fmt.Fprintf(p.o.Notes, "%s: %s = %s needs AWS to resolve and is left unset locally: set it with --env-file\n", f.Name, v.Name, v.Expr)
			continue
		}
		env[v.Name] = v.Value
	}
	if err := invoke.CheckVariables(env, fmt.Sprintf("%s: %s's environment", filepath.Base(p.Config.File), f.Name), false); err != nil {
		return nil, err
	}
	if p.o.EnvFile != "" {
		extra, err := invoke.ReadEnvFile(p.o.EnvFile, f.Name)
		if err != nil {
			return nil, err
		}
		if err := invoke.CheckVariables(extra, "--env-file "+p.o.EnvFile, true); err != nil {
			return nil, err
		}
		for k, v := range extra {
			env[k] = v
		}
	}
	return env, nil
}

// Function returns the opened function called name.
func (p *ProjectRun) Function(name string) (*invoke.Function, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f, ok := p.fns[name]
	return f, ok
}

// Names lists the opened functions, sorted.
func (p *ProjectRun) Names() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for n := range p.fns {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// Routes lists the HTTP routes of the opened functions; URLs the functions
// with a function URL.
func (p *ProjectRun) Routes() (routes []invoke.Route, urls []string) {
	for _, n := range p.Names() {
		rc := p.Run[n]
		routes = append(routes, rc.Routes...)
		if rc.URL {
			urls = append(urls, n)
		}
	}
	return routes, urls
}

// Invoke runs one invocation of a function.
func (p *ProjectRun) Invoke(ctx context.Context, name string, payload []byte) (*runtimeapi.Result, error) {
	f, ok := p.Function(name)
	if !ok {
		return nil, fmt.Errorf("no function %s", name)
	}
	return f.Invoke(ctx, runtimeapi.Invocation{Payload: payload})
}

// Rebuild builds what changed and lays it out; functions whose code or
// layers changed restart on their next invocation. It returns their names.
func (p *ProjectRun) Rebuild(ctx context.Context) ([]string, error) {
	rep, err := p.build(ctx)
	if err != nil {
		return nil, err
	}
	var changed []string
	for _, f := range p.Config.Functions {
		fn, ok := p.Function(f.Name)
		if !ok {
			continue
		}
		spec, closeTrees, err := p.spec(f, rep)
		if err != nil {
			return changed, err
		}
		did, err := fn.Update(ctx, spec.Code, spec.Layers)
		closeTrees()
		if err != nil {
			return changed, err
		}
		if did {
			changed = append(changed, f.Name)
		}
	}
	return changed, nil
}

// Close stops every function's processes.
func (p *ProjectRun) Close() {
	p.mu.Lock()
	fns := p.fns
	p.fns = map[string]*invoke.Function{}
	p.mu.Unlock()
	var wg sync.WaitGroup
	for _, f := range fns {
		wg.Add(1)
		go func() { defer wg.Done(); f.Close() }()
	}
	wg.Wait()
}

// Watch polls the project's files every interval (default 250 ms) until ctx
// ends, and rebuilds when one changed (an edit, a new file, a removed one),
// saying on log what restarted.
func (p *ProjectRun) Watch(ctx context.Context, interval time.Duration, log io.Writer) {
	if interval <= 0 {
		interval = 250 * time.Millisecond
	}
	done := func(changed []string, took time.Duration, err error) {
		switch {
		case err != nil:
			fmt.Fprintf(log, "Rebuild failed (the running functions keep their last good build): %v\n", err)
		case len(changed) == 0:
			fmt.Fprintf(log, "Files changed; no function's code or layers did (%s)\n", took.Round(time.Millisecond))
		default:
			fmt.Fprintf(log, "Rebuilt %s in %s; the next invocation starts it afresh\n", strings.Join(changed, ", "), took.Round(time.Millisecond))
		}
	}
	out := p.o.Out
	if out == "" {
		out = filepath.Join(p.Config.Dir, "dist")
	}
	out, _ = filepath.Abs(out)
	last, _ := snapshot(p.Config.Dir, out)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now, err := snapshot(p.Config.Dir, out)
		if err != nil || now == last {
			continue
		}
		last = now
		start := time.Now()
		changed, err := p.Rebuild(ctx)
		done(changed, time.Since(start), err)
	}
}

// maxWatched bounds the files a watch looks at.
const maxWatched = 50_000

// snapshot summarises the project's files (path, size, modification time)
// as one string, skipping the output folder, hidden folders, node_modules and
// Python caches.
func snapshot(dir, out string) (string, error) {
	b := sha256.New()
	n := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		name := d.Name()
		if d.IsDir() {
			if path != dir && (strings.HasPrefix(name, ".") || name == "node_modules" || name == "__pycache__" || path == out) {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(name, ".pyc") {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		n++
		if n > maxWatched {
			return errors.New("too many files to watch")
		}
		fmt.Fprintf(b, "%s %d %d\n", path, info.Size(), info.ModTime().UnixNano())
		return nil
	})
	return hex.EncodeToString(b.Sum(nil)), err
}

// RuntimePackages is the invoke.PackageSource of the pipeline: it plans the
// packages for the target as a layer would hold them (PlanTree, on an Env
// opened with o on first use) and returns the files of its python/ folder,
// wheel members with their RECORD digests. close releases the Env.
func RuntimePackages(o EnvOptions) (source invoke.PackageSource, close func() error) {
	var (
		mu  sync.Mutex
		env *Env
	)
	source = func(ctx context.Context, t target.Target, pkgs []string) (*tree.Tree, error) {
		mu.Lock()
		if env == nil {
			e, err := OpenEnv(o)
			if err != nil {
				mu.Unlock()
				return nil, err
			}
			env = e
		}
		mu.Unlock()
		tr, err := PlanTree(ctx, env, ArtifactOptions{Kind: KindLayer, Deps: Inputs{Requirements: pkgs}, Targets: []target.Target{t}})
		if err != nil {
			return nil, err
		}
		sub := invoke.Sub(tr, "python/")
		sub.OnClose(tr)
		return sub, nil
	}
	close = func() error {
		mu.Lock()
		defer mu.Unlock()
		if env == nil {
			return nil
		}
		err := env.Close()
		env = nil
		return err
	}
	return source, close
}
