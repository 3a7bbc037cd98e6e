package slim

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sync/errgroup"
)

// CompileOptions configure Compile.
type CompileOptions struct {
	// Python is the target's minor version, "3.12". Required.
	Python string
	// Interpreter, when set, is the CPython to use (its version is still
	// checked); otherwise FindInterpreter looks for one.
	Interpreter string
	// Mount is where Lambda puts the artifact's root: "/opt" for a layer,
	// "/var/task" for a function. It prefixes the source path recorded in
	// each .pyc (what tracebacks show). Default "/opt".
	Mount string
}

// Compiled is one .pyc file to add to the artifact.
type Compiled struct {
	// Path is where it goes: "python/pkg/__pycache__/mod.cpython-312.pyc".
	Path string
	// Source is the .py it was compiled from.
	Source string
	Data   []byte
}

// CompileResult is what Compile produced.
type CompileResult struct {
	Interpreter string
	Files       []Compiled // sorted by Path
	// Failed lists .py files CPython could not compile (syntax errors in
	// templates, Python 2 leftovers) with the reason; they stay
	// uncompiled, as an import of them would fail on Lambda too.
	Failed []Removed
}

// FindInterpreter finds a CPython of the given minor version ("3.12"):
// python3.12 on PATH, then the newest pyenv install ($PYENV_ROOT or
// ~/.pyenv, versions/3.12.*), then python3 and python on PATH. Each
// candidate is run to confirm it is CPython of that version (pyenv shims
// that can't run it are skipped).
func FindInterpreter(ctx context.Context, minor string) (string, error) {
	var cands []string
	if p, err := exec.LookPath("python" + minor); err == nil {
		cands = append(cands, p)
	}
	root := os.Getenv("PYENV_ROOT")
	if root == "" {
		if home, err := os.UserHomeDir(); err == nil {
			root = filepath.Join(home, ".pyenv")
		}
	}
	if root != "" {
		matches, _ := filepath.Glob(filepath.Join(root, "versions", minor+".*", "bin", "python"))
		sort.Slice(matches, func(i, j int) bool { return patchOf(matches[i], minor) > patchOf(matches[j], minor) })
		for _, m := range matches {
			if patchOf(m, minor) >= 0 {
				cands = append(cands, m)
			}
		}
	}
	for _, n := range []string{"python3", "python"} {
		if p, err := exec.LookPath(n); err == nil {
			cands = append(cands, p)
		}
	}
	for _, c := range cands {
		if checkInterpreter(ctx, c, minor) == nil {
			return c, nil
		}
	}
	return "", fmt.Errorf("byte-compiling for Python %s: no CPython %s found (looked for python%s and python3 on PATH and under pyenv's versions/%s.*): install one (for example `pyenv install %s`) or drop --compile", minor, minor, minor, minor, minor)
}

func patchOf(p, minor string) int {
	ver := filepath.Base(filepath.Dir(filepath.Dir(p)))
	n, err := strconv.Atoi(strings.TrimPrefix(ver, minor+"."))
	if err != nil {
		return -1
	}
	return n
}

func checkInterpreter(ctx context.Context, exe, minor string) error {
	cmd := exec.CommandContext(ctx, exe, "-I", "-c", "import platform, sys; print(platform.python_implementation(), '%d.%d' % sys.version_info[:2])")
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("running %s: %w", exe, err)
	}
	got := strings.TrimSpace(string(out))
	if got != "CPython "+minor {
		return fmt.Errorf("%s is %s, not CPython %s", exe, got, minor)
	}
	return nil
}

// compileScript byte-compiles the files named on stdin (paths relative to
// argv[1]) with unchecked-hash invalidation, recording argv[2]/<path> as
// the source path, and prints "ok <src>\t<pyc>" or "fail <src>\t<reason>".
const compileScript = `
import sys, os, py_compile, importlib.util
root, mount = sys.argv[1], sys.argv[2]
mode = py_compile.PycInvalidationMode.UNCHECKED_HASH
for line in sys.stdin:
    rel = line.rstrip("\n")
    if not rel:
        continue
    src = os.path.join(root, rel)
    try:
        cfile = py_compile.compile(src, dfile=mount + "/" + rel, doraise=True, invalidation_mode=mode)
        print("ok " + rel + "\t" + os.path.relpath(cfile, root).replace(os.sep, "/"))
    except py_compile.PyCompileError as e:
        msg = " ".join(str(e.exc_value).split())
        print("fail " + rel + "\t" + msg)
`

// Compile byte-compiles the .py files among files (dist-info folders left
// out) with a local CPython of the target's minor version, using
// unchecked-hash invalidation (PEP 552: the .pyc is never checked against
// the source, as Lambda's read-only file system needs, and no timestamps
// go in, so output is deterministic). Bytecode depends on the Python
// version only, so one build serves both architectures. The sources are
// written to a temporary folder that is removed afterwards.
func Compile(ctx context.Context, files []File, opts CompileOptions) (*CompileResult, error) {
	if opts.Python == "" {
		return nil, errors.New("byte-compiling: no target Python version given")
	}
	mount := strings.TrimSuffix(opts.Mount, "/")
	if mount == "" {
		mount = "/opt"
	}
	exe := opts.Interpreter
	if exe == "" {
		var err error
		if exe, err = FindInterpreter(ctx, opts.Python); err != nil {
			return nil, err
		}
	} else if err := checkInterpreter(ctx, exe, opts.Python); err != nil {
		return nil, fmt.Errorf("byte-compiling for Python %s: %w", opts.Python, err)
	}
	tmp, err := os.MkdirTemp("", "lambdapack-compile-")
	if err != nil {
		return nil, fmt.Errorf("byte-compiling: making a temporary folder: %w", err)
	}
	defer os.RemoveAll(tmp)

	var srcs []string
	for _, f := range files {
		if !strings.HasSuffix(f.Path, ".py") || strings.Contains(f.Path, ".dist-info/") {
			continue
		}
		clean := path.Clean(f.Path)
		if path.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../") {
			return nil, fmt.Errorf("byte-compiling: %q points outside the artifact", f.Path)
		}
		if strings.ContainsAny(clean, "\t\n\r") {
			return nil, fmt.Errorf("byte-compiling: %q: tabs and line breaks in file names are not supported", f.Path)
		}
		data, err := readFile(f)
		if err != nil {
			return nil, fmt.Errorf("byte-compiling: %w", err)
		}
		dst := filepath.Join(tmp, filepath.FromSlash(clean))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return nil, fmt.Errorf("byte-compiling: %w", err)
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			return nil, fmt.Errorf("byte-compiling: %w", err)
		}
		srcs = append(srcs, clean)
	}
	res := &CompileResult{Interpreter: exe}
	if len(srcs) == 0 {
		return res, nil
	}
	scriptPath := filepath.Join(tmp, ".lambdapack-compile.py")
	if err := os.WriteFile(scriptPath, []byte(compileScript), 0o644); err != nil {
		return nil, fmt.Errorf("byte-compiling: %w", err)
	}
	workers := runtime.GOMAXPROCS(0)
	if workers > len(srcs) {
		workers = len(srcs)
	}
	outs := make([][]byte, workers)
	g, gctx := errgroup.WithContext(ctx)
	for w := 0; w < workers; w++ {
		var chunk []string
		for i := w; i < len(srcs); i += workers {
			chunk = append(chunk, srcs[i])
		}
		g.Go(func() error {
			// Not -I/-E: they would ignore PYTHONHASHSEED. The environment is
			// cleaned of other PYTHON* variables instead, and -s -S keep user
			// and site packages out.
			cmd := exec.CommandContext(gctx, exe, "-s", "-S", scriptPath, tmp, mount)
			cmd.Env = compileEnv()
			cmd.Stdin = strings.NewReader(strings.Join(chunk, "\n") + "\n")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				return fmt.Errorf("byte-compiling with %s: %w: %s", exe, err, strings.TrimSpace(stderr.String()))
			}
			outs[w] = out
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	for _, out := range outs {
		sc := bufio.NewScanner(bytes.NewReader(out))
		sc.Buffer(make([]byte, 64*1024), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if rest, ok := strings.CutPrefix(line, "ok "); ok {
				src, pyc, _ := strings.Cut(rest, "\t")
				data, err := os.ReadFile(filepath.Join(tmp, filepath.FromSlash(pyc)))
				if err != nil {
					return nil, fmt.Errorf("byte-compiling %s: reading the result: %w", src, err)
				}
				res.Files = append(res.Files, Compiled{Path: pyc, Source: src, Data: data})
			} else if rest, ok := strings.CutPrefix(line, "fail "); ok {
				src, why, _ := strings.Cut(rest, "\t")
				res.Failed = append(res.Failed, Removed{Path: src, Reason: why})
			}
		}
	}
	sort.Slice(res.Files, func(i, j int) bool { return res.Files[i].Path < res.Files[j].Path })
	sort.Slice(res.Failed, func(i, j int) bool { return res.Failed[i].Path < res.Failed[j].Path })
	return res, nil
}

// compileEnv is the environment of the compiling interpreter: no PYTHON*
// variables but a fixed hash seed, so frozenset constants marshal in a
// fixed order before Python 3.11 (which sorts them): identical .pyc files
// on every run.
func compileEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PYTHON") {
			env = append(env, kv)
		}
	}
	return append(env, "PYTHONHASHSEED=0", "PYTHONDONTWRITEBYTECODE=1", "PYTHONIOENCODING=utf-8", "PYTHONUTF8=1")
}

// AsFiles returns compiled files as Files (to add to a plan or verify).
func (r *CompileResult) AsFiles() []File {
	out := make([]File, len(r.Files))
	for i, c := range r.Files {
		data := c.Data
		out[i] = File{Path: c.Path, Size: int64(len(data)), Open: func() (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(data)), nil
		}}
	}
	return out
}
