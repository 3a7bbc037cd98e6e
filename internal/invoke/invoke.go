package invoke

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/lambdapack/lambdapack/internal/cache"
	"github.com/lambdapack/lambdapack/internal/runtimeapi"
	"github.com/lambdapack/lambdapack/internal/target"
	"github.com/lambdapack/lambdapack/internal/tree"
)

// Spec describes one function to run.
type Spec struct {
	Name    string
	Handler string // module.function ("app.handler", "src/app.handler", "pkg.mod.handler")
	Runtime string // "python3.12"
	Arch    string // "x86_64" (default) or "arm64"
	// Code is the function's files (its zip's content); Layers each
	// layer's files as its zip holds them (python/..., bin/, lib/), in the
	// order Lambda extracts them.
	Code   *tree.Tree
	Layers []*tree.Tree
	// Env holds the function's own variables (its config, --env-file).
	Env map[string]string
	// Timeout (default 3 s), MemoryMB (default 128) and Concurrency
	// (default 1) as runtimeapi.Config has them.
	Timeout     time.Duration
	MemoryMB    int
	Concurrency int

	target target.Target
}

func (s *Spec) memoryMB() int {
	if s.MemoryMB <= 0 {
		return 128
	}
	return s.MemoryMB
}

// Options configure a Runner.
type Options struct {
	// Find says where the interpreter comes from (--python, --rootfs).
	Find FindOptions
	// CacheDir is the cache invoke keeps its folders in ("" means
	// LAMBDAPACK_CACHE_DIR or the user cache folder).
	CacheDir string
	// Packages installs the runtime's packages (awslambdaric, boto3) for a
	// target, from the index.
	Packages PackageSource
	// WorkDir holds the functions' task and opt folders; "" means a folder
	// of the cache named after Scope.
	WorkDir string
	// Scope names what the functions come from (a project folder, a zip's
	// path), so that two projects' functions of the same name keep apart.
	Scope string
	// RuntimePackages are installed as the runtime's own (default
	// DefaultRuntimePackages); RefreshRuntime installs them again.
	RuntimePackages []string
	RefreshRuntime  bool
	// Region is AWS_REGION (default: AWS_REGION, AWS_DEFAULT_REGION, else
	// us-east-1).
	Region string
	// InitTimeout bounds a process's start (default 10 s, Lambda's; ten
	// times that under emulation).
	InitTimeout time.Duration
	// Log receives the functions' output with Lambda's START, END and
	// REPORT lines; Notes lambdapack's own progress lines. nil discards.
	Log, Notes io.Writer
}

// Runner runs functions: it finds interpreters and installs runtime clients
// once per target, for every function it opens.
type Runner struct {
	o   Options
	dir string // invoke's folder in the cache

	mu       sync.Mutex
	interps  map[target.Target]*Interpreter
	runtimes map[target.Target]string
}

// NewRunner prepares a Runner; nothing is installed before a function is
// opened.
func NewRunner(o Options) (*Runner, error) {
	c, err := cache.Open(o.CacheDir)
	if err != nil {
		return nil, err
	}
	dir, err := c.Dir("invoke")
	if err != nil {
		return nil, err
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.Notes == nil {
		o.Notes = io.Discard
	}
	if o.Region == "" {
		o.Region = firstNonEmpty(os.Getenv("AWS_REGION"), os.Getenv("AWS_DEFAULT_REGION"), "us-east-1")
	}
	return &Runner{o: o, dir: dir, interps: map[target.Target]*Interpreter{}, runtimes: map[target.Target]string{}}, nil
}

// Region is the AWS_REGION the functions get.
func (r *Runner) Region() string { return r.o.Region }

func (r *Runner) notef(format string, args ...any) {
	fmt.Fprintf(r.o.Notes, format+"\n", args...)
}

func (r *Runner) storeDir() string { return filepath.Join(r.dir, "files") }

// prepare finds the interpreter and the runtime client of t, once.
func (r *Runner) prepare(ctx context.Context, t target.Target) (*Interpreter, string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	in, ok := r.interps[t]
	if !ok {
		var err error
		in, err = FindInterpreter(ctx, t, r.o.Find)
		if err != nil {
			return nil, "", err
		}
		r.interps[t] = in
		where := in.Source
		if in.Emulator != "" {
			where += ", under " + filepath.Base(in.Emulator)
		}
		r.notef("Python %s (%s) for %s: %s", in.Version, where, t, in.Path)
	}
	rt, ok := r.runtimes[t]
	if !ok {
		var err error
		rt, err = r.runtimeDir(ctx, t)
		if err != nil {
			return nil, "", err
		}
		r.runtimes[t] = rt
	}
	return in, rt, nil
}

// Function is a function ready to invoke: its folders laid out, its
// interpreter found. Processes start on the first invocation.
type Function struct {
	*runtimeapi.Function
	r      *Runner
	spec   Spec
	interp *Interpreter
	python string // the interpreter environment's python
	l      layout
}

// CheckHandler says why h is not a Python handler string, or nil.
func CheckHandler(h string) error {
	mod, fn, ok := cutLast(h, ".")
	hint := "write module.function: app.handler for `def handler` in app.py, src/app.handler or pkg.app.handler for one in a folder"
	if !ok || mod == "" || fn == "" {
		return fmt.Errorf("handler %q is not module.function (%s)", h, hint)
	}
	if !isIdentifier(fn) {
		return fmt.Errorf("handler %q: %q is not a Python function name (%s)", h, fn, hint)
	}
	for _, part := range strings.FieldsFunc(mod, func(r rune) bool { return r == '/' || r == '.' }) {
		if !isIdentifier(part) {
			return fmt.Errorf("handler %q: %q is not a Python module name (%s)", h, part, hint)
		}
	}
	if strings.HasPrefix(mod, "/") || strings.Contains(mod, "//") || strings.Contains(mod, "..") || strings.HasSuffix(mod, "/") {
		return fmt.Errorf("handler %q: the module path must be relative to the task root (%s)", h, hint)
	}
	return nil
}

func cutLast(s, sep string) (string, string, bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || unicode.IsLetter(r) || (i > 0 && unicode.IsDigit(r))) {
			return false
		}
	}
	return true
}

// Open lays out a function's folders, finds its interpreter and installs its
// runtime client (each once per target), and returns it ready to invoke.
func (r *Runner) Open(ctx context.Context, spec Spec) (*Function, error) {
	if spec.Name == "" {
		return nil, errors.New("a function needs a name")
	}
	if err := CheckHandler(spec.Handler); err != nil {
		return nil, fmt.Errorf("%s: %w", spec.Name, err)
	}
	t, err := target.New(spec.Runtime, spec.Arch)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", spec.Name, err)
	}
	spec.target = t
	if err := CheckVariables(spec.Env, spec.Name+"'s environment", true); err != nil {
		return nil, err
	}
	if spec.Code == nil {
		return nil, fmt.Errorf("%s: no code to run", spec.Name)
	}
	in, rt, err := r.prepare(ctx, t)
	if err != nil {
		return nil, err
	}
	f := &Function{r: r, spec: spec, interp: in}
	work := r.o.WorkDir
	if work == "" {
		sum := sha256.Sum256([]byte(r.o.Scope))
		work = filepath.Join(r.dir, "work", hex.EncodeToString(sum[:])[:12])
	}
	dir := filepath.Join(work, spec.Name)
	f.l = layout{task: filepath.Join(dir, "task"), opt: filepath.Join(dir, "opt"), runtime: rt}
	f.python, err = in.venv(filepath.Join(r.dir, "python"))
	if err != nil {
		return nil, err
	}
	f.l.venvBin = filepath.Dir(f.python)
	if _, err := f.write(ctx, spec.Code, spec.Layers); err != nil {
		return nil, err
	}
	initTimeout := r.o.InitTimeout
	if initTimeout <= 0 {
		initTimeout = 10 * time.Second
		if in.Emulator != "" {
			initTimeout = 100 * time.Second
		}
	}
	f.Function, err = runtimeapi.NewFunction(runtimeapi.Config{
		Name: spec.Name, Region: r.o.Region, Timeout: spec.Timeout, InitTimeout: initTimeout,
		MemoryMB: spec.memoryMB(), Concurrency: spec.Concurrency, Start: f.start, Log: r.o.Log,
	})
	if err != nil {
		return nil, err
	}
	return f, nil
}

// TaskRoot is the function's task folder (LAMBDA_TASK_ROOT); OptDir its
// layers' folder.
func (f *Function) TaskRoot() string { return f.l.task }

// OptDir is the folder the function's layers are extracted into.
func (f *Function) OptDir() string { return f.l.opt }

// Python is the interpreter the function's processes run: the package-less
// environment's python (a link to Interpreter().Path).
func (f *Function) Python() string { return f.python }

// RuntimeDir is the folder of the runtime's packages (LAMBDA_RUNTIME_DIR).
func (f *Function) RuntimeDir() string { return f.l.runtime }

// Interpreter is the CPython the function runs on.
func (f *Function) Interpreter() *Interpreter { return f.interp }

// write lays out the task and opt folders; it reports whether either
// changed.
func (f *Function) write(ctx context.Context, code *tree.Tree, layers []*tree.Tree) (bool, error) {
	store := f.r.storeDir()
	changed := false
	for _, s := range []struct {
		dir string
		t   *tree.Tree
	}{{f.l.task, code}, {f.l.opt, Merge(layers...)}} {
		key := TreeKey(s.t)
		if intact(s.dir, key) {
			continue
		}
		sink := &FolderSink{Dir: s.dir, Store: store, Key: key}
		if _, err := sink.Write(ctx, s.t); err != nil {
			return false, fmt.Errorf("laying out %s: %w", f.spec.Name, err)
		}
		changed = true
	}
	return changed, nil
}

// Update lays out new code and layers (after a rebuild); when anything
// changed, the function's processes are retired and the next invocation
// starts a fresh one. It reports whether anything changed.
func (f *Function) Update(ctx context.Context, code *tree.Tree, layers []*tree.Tree) (bool, error) {
	changed, err := f.write(ctx, code, layers)
	if err != nil {
		return false, err
	}
	if changed {
		f.Restart()
	}
	return changed, nil
}

// start starts one runtime process: the interpreter's environment running
// awslambdaric with the handler, in the task root.
func (f *Function) start(ctx context.Context, s runtimeapi.Spawn) (runtimeapi.Process, error) {
	env := lambdaEnv(&f.spec, f.l, f.r.o.Region, s.RuntimeAPI, os.Getenv)
	argv := f.interp.Command(f.python, "-m", "awslambdaric", f.spec.Handler)
	p, err := startProcess(argv, env, f.l.task, s.Output, "AWS_LAMBDA_RUNTIME_API="+s.RuntimeAPI)
	if err != nil {
		return nil, fmt.Errorf("starting %s: %w", strings.Join(argv, " "), err)
	}
	return p, nil
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
