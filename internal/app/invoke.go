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
	// Dir, Config, Stage, Out and Params are as `lambdapack build` has
	// them.
	Dir, Config, Stage, Out string
	Params                  map[string]string
	// SamconfigCommand is the samconfig section whose parameter_overrides
	// a SAM project reads, for the run and its build alike: invoke's
	// "local_invoke", serve's "local_start_api" (project.LoadOptions).
	SamconfigCommand string
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
	// Config is the project as last read (Rebuild reads it again).
	Config *project.Config

	r *invoke.Runner
	o ProjectRunOptions

	mu   sync.Mutex
	fns  map[string]*invoke.Function
	keys map[string]string // runKey of each opened function's spec
}

// OpenProjectRun builds what is stale (the incremental `lambdapack build`)
// and opens every function to run (or those in Only) with its layers.
func OpenProjectRun(ctx context.Context, r *invoke.Runner, o ProjectRunOptions) (*ProjectRun, error) {
	if o.Notes == nil {
		o.Notes = io.Discard
	}
	p := &ProjectRun{r: r, o: o, fns: map[string]*invoke.Function{}, keys: map[string]string{}}
	cfg, err := p.load()
	if err != nil {
		return nil, err
	}
	if _, err := p.apply(ctx, cfg); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// load reads the project's config, says its notes (those the config read
// last did not say), and checks that it has what Only names.
func (p *ProjectRun) load() (*project.Config, error) {
	o := p.o
	cfg, err := project.Load(cmp.Or(o.Dir, "."), project.LoadOptions{Config: o.Config, Stage: o.Stage, Params: o.Params, SamconfigCommand: o.SamconfigCommand})
	if err != nil {
		return nil, err
	}
	for _, n := range o.Only {
		f, ok := cfg.Function(n)
		if !ok {
			return nil, fmt.Errorf("%s has no function %s (it has %s)", filepath.Base(cfg.File), n, orNoneList(functionNames(cfg)))
		}
		if why := notRunnable(f); why != "" {
			return nil, fmt.Errorf("%s: %s cannot run locally: %s", filepath.Base(cfg.File), n, why)
		}
	}
	if len(runnableNames(cfg)) == 0 {
		return nil, fmt.Errorf("%s defines no Python function to run", cfg.File)
	}
	said := map[string]bool{}
	if last := p.config(); last != nil {
		for _, n := range last.Notes {
			said[n.String()] = true
		}
		for i := range last.Functions {
			if why := notRunnable(&last.Functions[i]); why != "" {
				said[last.Functions[i].Name+": "+why] = true
			}
		}
	}
	for _, n := range cfg.Notes {
		if !said[n.String()] {
			fmt.Fprintf(o.Notes, "note: %s\n", n)
		}
	}
	for i := range cfg.Functions {
		f := &cfg.Functions[i]
		if why := notRunnable(f); why != "" && len(o.Only) == 0 && !said[f.Name+": "+why] {
			fmt.Fprintf(o.Notes, "note: %s is not run: %s\n", f.Name, why)
		}
	}
	return cfg, nil
}

func (p *ProjectRun) config() *project.Config {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.Config
}

// apply builds what is stale for cfg and brings the opened functions in line
// with it: a function whose code or layers changed restarts on its next
// invocation; one whose run settings changed (handler, runtime,
// architecture, timeout, memory, environment) is opened afresh; one new to
// the config is opened, one gone from it closed. It returns the names of
// those that changed.
func (p *ProjectRun) apply(ctx context.Context, cfg *project.Config) ([]string, error) {
	rep, err := p.build(ctx, cfg)
	if err != nil {
		return nil, err
	}
	first := p.config() == nil
	var changed []string
	wanted := map[string]bool{}
	for i := range cfg.Functions {
		f := &cfg.Functions[i]
		if !p.wanted(f) {
			continue
		}
		wanted[f.Name] = true
		spec, closeTrees, err := p.spec(*f, rep)
		if err != nil {
			return changed, err
		}
		key := runKey(spec)
		p.mu.Lock()
		old, open := p.fns[f.Name]
		same := open && p.keys[f.Name] == key
		p.mu.Unlock()
		if same {
			did, err := old.Update(ctx, spec.Code, spec.Layers)
			closeTrees()
			if err != nil {
				return changed, err
			}
			if did {
				changed = append(changed, f.Name)
			}
			continue
		}
		fn, err := p.r.Open(ctx, spec)
		closeTrees()
		if err != nil {
			return changed, p.openError(cfg, f.Name, err)
		}
		p.mu.Lock()
		p.fns[f.Name], p.keys[f.Name] = fn, key
		p.mu.Unlock()
		if open {
			old.Close()
		}
		if !first {
			changed = append(changed, f.Name)
		}
		if f.URL != nil && f.URL.AuthType != "NONE" {
			fmt.Fprintf(p.o.Notes, "note: %s: its function URL's AuthType is %s; serve answers it without checking the caller\n", f.Name, f.URL.AuthType)
		}
	}
	p.mu.Lock()
	var gone []*invoke.Function
	for name, fn := range p.fns {
		if !wanted[name] {
			gone = append(gone, fn)
			delete(p.fns, name)
			delete(p.keys, name)
			changed = append(changed, name+" (gone from "+filepath.Base(cfg.File)+")")
		}
	}
	p.Config = cfg
	p.mu.Unlock()
	for _, fn := range gone {
		fn.Close()
	}
	slices.Sort(changed)
	return changed, nil
}

// runKey says what a function runs with besides its code and layers: a
// change to any of it opens the function afresh.
func runKey(s invoke.Spec) string {
	env := make([]string, 0, len(s.Env))
	for k, v := range s.Env {
		env = append(env, k+"="+v)
	}
	slices.Sort(env)
	return fmt.Sprintf("%q %q %q %s %d %d %q", s.Handler, s.Runtime, s.Arch, s.Timeout, s.MemoryMB, s.Concurrency, env)
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
	case f.Image != nil:
		return "it is a container image function, which lambdapack image builds; invoke and serve run zip functions"
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

// openError names the function that could not be opened and, when others
// were to run beside it, how to run them meanwhile.
func (p *ProjectRun) openError(cfg *project.Config, name string, err error) error {
	var others []string
	for i := range cfg.Functions {
		if f := &cfg.Functions[i]; f.Name != name && p.wanted(f) {
			others = append(others, f.Name)
		}
	}
	if len(others) == 0 {
		return fmt.Errorf("function %s: %w", name, err)
	}
	return fmt.Errorf("function %s: %w (to run the others meanwhile: --only %s)", name, err, strings.Join(others, ","))
}

func (p *ProjectRun) wanted(f *project.Function) bool {
	if notRunnable(f) != "" {
		return false
	}
	return len(p.o.Only) == 0 || slices.Contains(p.o.Only, f.Name)
}

// build runs the incremental build of cfg's wanted functions and their
// layers.
func (p *ProjectRun) build(ctx context.Context, cfg *project.Config) (*BuildReport, error) {
	var only []string
	for i := range cfg.Functions {
		f := &cfg.Functions[i]
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
		Dir: cfg.Dir, Config: cfg.File, Stage: p.o.Stage, Params: p.o.Params, SamconfigCommand: p.o.SamconfigCommand, Out: p.o.Out, Only: only,
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
	timeout, memory := f.Timeout, f.MemorySize
	if p.o.Timeout > 0 {
		timeout = p.o.Timeout
	}
	if p.o.MemoryMB > 0 {
		memory = p.o.MemoryMB
	}
	return invoke.Spec{
		Name: cmp.Or(f.FunctionName, f.Name), Handler: f.Handler, Runtime: f.Runtime, Arch: string(f.Arch),
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
	if err := invoke.CheckVariables(env, fmt.Sprintf("%s: %s's environment", filepath.Base(f.Pos.File), f.Name), false); err != nil {
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

// Function returns the opened function called name in the config, or by
// the name Lambda knows it by.
func (p *ProjectRun) Function(name string) (*invoke.Function, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if f, ok := p.fns[name]; ok {
		return f, true
	}
	// The name Lambda knows it by (a serverless function's
	// service-stage-key, SAM's FunctionName), as boto3 code calls it.
	for i := range p.Config.Functions {
		if cf := &p.Config.Functions[i]; cf.FunctionName == name && name != "" {
			f, ok := p.fns[cf.Name]
			return f, ok
		}
	}
	return nil, false
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

// Routes lists the HTTP routes of the opened functions (their API Gateway
// events in the project model); URLs the functions with a function URL.
func (p *ProjectRun) Routes() (routes []invoke.Route, urls []string) {
	cfg := p.config()
	for _, n := range p.Names() {
		f, ok := cfg.Function(n)
		if !ok {
			continue
		}
		routes = append(routes, Routes(f)...)
		if f.URL != nil {
			urls = append(urls, n)
		}
	}
	return routes, urls
}

// Routes are the routes serve answers for a function's API Gateway events.
func Routes(f *project.Function) []invoke.Route {
	var out []invoke.Route
	for _, r := range f.Routes {
		out = append(out, invoke.Route{Function: f.Name, Route: r})
	}
	return out
}

// Invoke runs one invocation of a function.
func (p *ProjectRun) Invoke(ctx context.Context, name string, payload []byte) (*runtimeapi.Result, error) {
	f, ok := p.Function(name)
	if !ok {
		return nil, fmt.Errorf("no function %s", name)
	}
	return f.Invoke(ctx, runtimeapi.Invocation{Payload: payload})
}

// Rebuild reads the config again and builds what changed: functions whose
// code or layers changed restart on their next invocation, those whose run
// settings changed are opened afresh, new ones are opened and removed ones
// closed; it returns their names. Routes follow the config read. A config
// that does not load leaves everything as it was.
func (p *ProjectRun) Rebuild(ctx context.Context) ([]string, error) {
	cfg, err := p.load()
	if err != nil {
		return nil, err
	}
	return p.apply(ctx, cfg)
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
			fmt.Fprintf(log, "Files changed; no function's code, layers or settings did (%s)\n", took.Round(time.Millisecond))
		default:
			fmt.Fprintf(log, "Rebuilt %s in %s; the next invocation starts it afresh\n", strings.Join(changed, ", "), took.Round(time.Millisecond))
		}
	}
	dir := p.config().Dir
	out := p.o.Out
	if out == "" {
		out = filepath.Join(dir, "dist")
	}
	out, _ = filepath.Abs(out)
	last, _ := snapshot(dir, out)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now, err := snapshot(dir, out)
		if err != nil || now == last {
			continue
		}
		last = now
		start := time.Now()
		before := routeTable(p.Routes())
		changed, err := p.Rebuild(ctx)
		done(changed, time.Since(start), err)
		if after := routeTable(p.Routes()); err == nil && after != before {
			fmt.Fprintf(log, "Routes now:\n%s", after)
		}
	}
}

// routeTable lists routes and function URLs one a line, as serve says them.
func routeTable(routes []invoke.Route, urls []string) string {
	var b strings.Builder
	for _, r := range routes {
		fmt.Fprintf(&b, "  %-28s -> %s\n", r.String(), r.Function)
	}
	for _, u := range urls {
		fmt.Fprintf(&b, "  function URL -> %s\n", u)
	}
	if b.Len() == 0 {
		return "  (none)\n"
	}
	return b.String()
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
// packages for the target as a layer would hold them, verified for it
// (PlanVerified, on an Env opened with o on first use: a wheel that would
// not load there is replaced by the next choice) and returns the files of
// its python/ folder, wheel members with their RECORD digests. close
// releases the Env.
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
		tr, _, err := PlanVerified(ctx, env, ArtifactOptions{Kind: KindLayer, Deps: Inputs{Requirements: pkgs}, Targets: []target.Target{t}})
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
