package sdist

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lambdapack/lambdapack/internal/cache"
	"github.com/lambdapack/lambdapack/internal/index"
	"github.com/lambdapack/lambdapack/internal/names"
	"github.com/lambdapack/lambdapack/internal/resolve"
	"github.com/lambdapack/lambdapack/internal/tags"
	"github.com/lambdapack/lambdapack/internal/target"
)

type fileRef = index.File

// DefaultTimeout is how long one build may run unless Builder.Timeout says.
const DefaultTimeout = 15 * time.Minute

// Mode is how a wheel is built.
type Mode string

const (
	// Cross compiles for the target with zig (C, C++) and cargo (Rust).
	Cross Mode = "cross"
	// Pure disables every compiler, so optional extensions fall back to
	// pure Python; only a pure-Python wheel is accepted.
	Pure Mode = "pure"
)

// Builder builds wheels from sdists for Lambda targets. It is safe for
// concurrent use.
type Builder struct {
	Cache *cache.Cache
	// Index resolves and fetches build requirements and zig; Source, when
	// set, is used instead of Index for finding them.
	Index  *index.Client
	Source resolve.Source
	// FindPython finds a CPython of a minor version ("3.12") on this
	// machine; nil means FindPython.
	FindPython func(minor string) (string, error)
	// Timeout bounds each build attempt (--build-timeout); 0 means
	// DefaultTimeout.
	Timeout time.Duration
	// Log receives progress lines; Verbose adds the backends' output.
	Log     io.Writer
	Verbose bool
	// Watch are more folders whose top level a build must leave alone
	// (besides the user's home, the working folder and the sdist's folder).
	Watch []string

	mu    sync.Mutex
	hosts map[string]*Host
	zigMu sync.Mutex
	src   resolve.Source
}

// Wheel is a built wheel, verified for its target, in the cache.
type Wheel struct {
	Path     string // read it, never write it
	Filename string
	SHA256   string
	Size     int64
	// Pure: tagged py3-none-any with no compiled file: it serves every
	// target.
	Pure bool
	// Mode is how it was built; Pure mode means the compiled speedups
	// were left out.
	Mode   Mode
	Cached bool
	Notes  []string
}

// BuildError is a failed build: what failed, the backend's last output
// lines, and a command that runs the same build by hand.
type BuildError struct {
	Package, Version string
	Target           string
	Mode             Mode
	Stage            string // "build_wheel", "installing the build requirements", ...
	Output           string // the last lines
	Reproduce        string
	TimedOut         time.Duration // the limit, when the build was stopped
	Err              error
	// Cross is the cross build's failure when this is the pure fallback's.
	Cross *BuildError
}

func (e *BuildError) Error() string {
	var b strings.Builder
	if e.Cross != nil {
		fmt.Fprintf(&b, "building %s %s for %s from source failed, with compilers (%s: %v) and without them for a pure-Python fallback", e.Package, e.Version, e.Target, e.Cross.Stage, e.Cross.Err)
		if e.Cross.Output != "" {
			fmt.Fprintf(&b, "\nthe cross build's last output lines:\n%s", indent(lastLines(e.Cross.Output, 15)))
		}
		fmt.Fprintf(&b, "\nthe pure-Python build (%s): %v", e.Stage, e.Err)
	} else {
		fmt.Fprintf(&b, "building %s %s for %s from source (%s build, %s) failed: %v", e.Package, e.Version, e.Target, e.Mode, e.Stage, e.Err)
	}
	if e.TimedOut > 0 {
		fmt.Fprintf(&b, " (stopped after --build-timeout %s)", e.TimedOut)
	}
	if e.Output != "" {
		fmt.Fprintf(&b, "\nlast output lines:\n%s", indent(lastLines(e.Output, 25)))
	}
	if e.Reproduce != "" {
		fmt.Fprintf(&b, "\nto run the build by hand:\n  %s", e.Reproduce)
	}
	b.WriteString("\nhint: pin a version of the package that has a wheel for the target, or use --only-binary for it")
	return b.String()
}

func (e *BuildError) Unwrap() error { return e.Err }

// Summary says in a clause why the build failed: its stage and the last
// line of output that names an error.
func (e *BuildError) Summary() string {
	if e.Cross != nil {
		return "with compilers, " + summary(e.Cross) + "; without, " + summary(e)
	}
	return summary(e)
}

// EscapeError is a build that wrote outside its build folder. Its result
// is refused.
type EscapeError struct{ Paths []string }

func (e *EscapeError) Error() string {
	return fmt.Sprintf("the build wrote outside its build folder, so its result is refused: %s", strings.Join(first(e.Paths, 8), ", "))
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n  ")
}

func (b *Builder) logf(format string, args ...any) {
	if b.Log != nil {
		log.New(b.Log, "", 0).Printf(format, args...)
	}
}

func (b *Builder) source() (resolve.Source, error) {
	if b.Source != nil {
		return b.Source, nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.src == nil {
		if b.Index == nil {
			return nil, errors.New("building from source needs a package index for the build requirements")
		}
		b.src = resolve.NewCachedSource(resolve.IndexSource{Client: b.Index})
	}
	return b.src, nil
}

// host finds and probes a CPython of minor; "" means any CPython 3.
func (b *Builder) host(ctx context.Context, minor string) (*Host, error) {
	b.mu.Lock()
	if h, ok := b.hosts[minor]; ok {
		b.mu.Unlock()
		return h, nil
	}
	b.mu.Unlock()
	find := b.FindPython
	if find == nil {
		find = FindPython
	}
	var p string
	var err error
	if minor == "" {
		for _, m := range []string{"3.13", "3.12", "3.11", "3.14", "3.10", "3.9"} {
			if p, err = find(m); err == nil {
				break
			}
		}
		if err != nil {
			return nil, errors.New("no CPython 3.9 or later on this machine to run build backends: install one (uv python install 3.12)")
		}
	} else if p, err = find(minor); err != nil {
		return nil, err
	}
	hooks, err := b.hooks()
	if err != nil {
		return nil, err
	}
	h, err := probeHost(ctx, p, filepath.Join(hooks, hookScript))
	if err != nil {
		return nil, err
	}
	if minor != "" && h.Minor() != minor {
		return nil, fmt.Errorf("%s is Python %s, not %s", p, h.Minor(), minor)
	}
	b.mu.Lock()
	if b.hosts == nil {
		b.hosts = map[string]*Host{}
	}
	b.hosts[minor] = h
	b.mu.Unlock()
	return h, nil
}

func (b *Builder) timeout() time.Duration {
	if b.Timeout > 0 {
		return b.Timeout
	}
	return DefaultTimeout
}

// Build builds s for t: a cross build first; when it fails or its wheel is
// refused, a pure-Python build with compilers disabled. A result that
// does not load on t is never returned. When both fail, the error is a
// *LibraryError if the output shows a missing system library, else a
// *BuildError.
func (b *Builder) Build(ctx context.Context, s Sdist, t target.Target) (*Wheel, error) {
	c, err := Inspect(s)
	if err != nil {
		return nil, err
	}
	w, crossErr := b.build(ctx, s, c, t, Cross)
	if crossErr == nil {
		return w, nil
	}
	if ctx.Err() != nil {
		return nil, crossErr
	}
	var ce *BuildError
	if !errors.As(crossErr, &ce) {
		ce = &BuildError{Package: c.Name.Name, Version: c.Name.Version.String(), Target: t.String(), Mode: Cross, Stage: "preparing", Err: crossErr}
	}
	b.logf("Building %s for %s with compilers failed (%s); trying a pure-Python build", s.name(), t, summary(ce))
	w, pureErr := b.build(ctx, s, c, t, Pure)
	if pureErr == nil {
		w.Notes = append(w.Notes, fmt.Sprintf("%s %s was built from source without its compiled extensions (the build with compilers failed: %s): it runs, without its compiled speedups", c.Name.Name, c.Name.Version, summary(ce)))
		return w, nil
	}
	var pe *BuildError
	if !errors.As(pureErr, &pe) {
		pe = &BuildError{Package: c.Name.Name, Version: c.Name.Version.String(), Target: t.String(), Mode: Pure, Stage: "preparing", Err: pureErr}
	}
	if lib, evidence, alts, ok := detectLibrary(c.Name.Name, ce.Err.Error(), ce.Output, pe.Output); ok {
		return nil, &LibraryError{Package: c.Name.Name, Version: c.Name.Version.String(), Target: t.String(), Library: lib, Evidence: evidence, Alternatives: alts}
	}
	pe.Cross = ce
	return nil, pe
}

// BuildPure builds s with every compiler disabled and accepts only a
// pure-Python wheel (which serves every target; t picks the Python).
func (b *Builder) BuildPure(ctx context.Context, s Sdist, t target.Target) (*Wheel, error) {
	c, err := Inspect(s)
	if err != nil {
		return nil, err
	}
	return b.build(ctx, s, c, t, Pure)
}

// BuildCross cross-builds s for t, with no fallback.
func (b *Builder) BuildCross(ctx context.Context, s Sdist, t target.Target) (*Wheel, error) {
	c, err := Inspect(s)
	if err != nil {
		return nil, err
	}
	return b.build(ctx, s, c, t, Cross)
}

// summary says in one line why an attempt failed: the last line of its
// output that names an error, else the error.
func summary(e *BuildError) string {
	var exit *exec.ExitError
	if errors.As(e.Err, &exit) {
		lines := strings.Split(e.Output, "\n")
		for _, mark := range []string{"error:", "error"} {
			for i := len(lines) - 1; i >= 0; i-- {
				l := strings.TrimSpace(lines[i])
				if strings.Contains(strings.ToLower(l), mark) && len(l) < 300 {
					return e.Stage + ": " + l
				}
			}
		}
	}
	return e.Stage + ": " + oneLine(e.Err)
}

func oneLine(err error) string {
	lines := strings.Split(err.Error(), "\n")
	s := lines[0]
	if strings.HasSuffix(s, ":") && len(lines) > 1 {
		s += " " + strings.TrimSpace(lines[1])
	}
	return s
}

func (b *Builder) sdistSHA(s *Sdist) error {
	if s.SHA256 != "" {
		return nil
	}
	f, err := os.Open(s.Path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return err
	}
	s.SHA256 = hex.EncodeToString(h.Sum(nil))
	return nil
}

// build is one attempt.
func (b *Builder) build(ctx context.Context, s Sdist, c *Contents, t target.Target, mode Mode) (_ *Wheel, err error) {
	pkg, ver := c.Name.Name, c.Name.Version.String()
	failed := "" // where a cross build's failure is remembered (failure.go)
	fail := func(stage, out, repro string, err error) error {
		be := &BuildError{Package: pkg, Version: ver, Target: t.String(), Mode: mode, Stage: stage, Output: out, Reproduce: repro, Err: err}
		if errors.Is(err, errTimeout) {
			be.TimedOut = b.timeout()
		}
		if failed != "" && ctx.Err() == nil {
			saveFailure(failed, be)
		}
		return be
	}
	if err := b.sdistSHA(&s); err != nil {
		return nil, fmt.Errorf("reading sdist %s: %w", s.name(), err)
	}
	minor := t.Python()
	h, err := b.host(ctx, minor)
	if err != nil {
		if mode == Cross {
			return nil, fail("finding a CPython "+minor+" to build with", "", "", err)
		}
		if h, err = b.host(ctx, ""); err != nil {
			return nil, fail("finding a CPython to build with", "", "", err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, b.timeout())
	defer cancel()
	env0, err := b.environment(ctx, h, c.Build.Requires)
	if err != nil {
		return nil, fail("installing the build requirements", "", "", err)
	}
	var cc *crossConfig
	if mode == Cross {
		if cc, err = b.cross(ctx, h, t); err != nil {
			return nil, fail("preparing the cross compilers", "", "", err)
		}
		if err := rustReady(ctx, c.Build, t); err != nil {
			return nil, fail("preparing the Rust toolchain", "", "", err)
		}
	}
	keyParts := []string{"wheel1", string(mode), s.SHA256, env0.Key, hookDigest()}
	if mode == Cross {
		keyParts = append(keyParts, t.String(), t.Glibc(), ZigVersion, crossLayout)
	}
	sum := sha256.Sum256([]byte(strings.Join(keyParts, "\n")))
	key := hex.EncodeToString(sum[:])[:32]
	store, err := b.Cache.Dir("sdist-wheels")
	if err != nil {
		return nil, err
	}
	if w, ok := loadStored(filepath.Join(store, key)); ok {
		w.Cached = true
		return w, nil
	}
	if mode == Cross {
		failed = filepath.Join(store, key+".failed")
		if be, ok := loadFailure(failed); ok {
			return nil, be
		}
	}

	sc, err := b.newScratch()
	if err != nil {
		return nil, err
	}
	defer sc.remove()
	src, err := extract(s, sc.Src)
	if err != nil {
		return nil, err
	}
	sc.Top = filepath.Base(src)
	run := hookRun{dir: src, sc: sc, build: c.Build, watch: b.watchDirs(s, sc), sdistDir: filepath.Dir(s.Path)}
	if mode == Cross {
		run.env, run.path, run.pypath = cc.Env, []string{cc.Bin}, []string{cc.SysDir}
	} else {
		nc, err := b.noCompilers()
		if err != nil {
			return nil, err
		}
		run.env, run.path = pureEnv(nc), []string{nc}
	}
	b.logf("Building %s for %s (%s build with %s)", s.name(), t, mode, h)
	start := time.Now()

	env := env0
	settings := backendSettings(c.Build, cc)
	run.python, run.hook, run.args = env.Python, "get_requires_for_build_wheel", map[string]any{"config_settings": settings}
	ret, out, vars, err := b.run(ctx, run)
	if err != nil {
		return nil, fail("get_requires_for_build_wheel", out, reproduce(s, c, env.Python, vars, "get_requires_for_build_wheel", settings), err)
	}
	var extra []string
	if err := json.Unmarshal(ret, &extra); err != nil {
		return nil, fail("get_requires_for_build_wheel", out, "", fmt.Errorf("the backend returned %s, not a list of requirements", ret))
	}
	if len(extra) > 0 {
		all := append(append([]string{}, c.Build.Requires...), extra...)
		if env, err = b.environment(ctx, h, all); err != nil {
			return nil, fail("installing the build requirements the backend asked for", out, "", err)
		}
	}
	run.python, run.hook = env.Python, "build_wheel"
	run.args = map[string]any{"wheel_directory": sc.Out, "config_settings": settings, "metadata_directory": nil}
	ret, out, vars, err = b.run(ctx, run)
	repro := reproduce(s, c, env.Python, vars, "build_wheel", settings)
	if err != nil {
		return nil, fail("build_wheel", out, repro, err)
	}
	var name string
	if err := json.Unmarshal(ret, &name); err != nil || name == "" || strings.ContainsAny(name, `/\`) {
		return nil, fail("build_wheel", out, repro, fmt.Errorf("the backend returned %s, not a wheel's file name", ret))
	}
	built := filepath.Join(sc.Out, name)
	if _, err := os.Stat(built); err != nil {
		return nil, fail("build_wheel", out, repro, fmt.Errorf("the backend says it wrote %s, but it is not there", name))
	}
	// The wheel must be the sdist's own project.
	var info *wheelInfo
	var drop []string
	if mode == Cross {
		info, err = checkCross(ctx, built, t)
	} else {
		info, drop, err = checkPure(built, t.String())
	}
	if err != nil {
		return nil, fail("checking the built wheel", out, repro, err)
	}
	if names.Canonical(info.name.Name) != pkg {
		return nil, fail("checking the built wheel", out, repro, fmt.Errorf("the backend built %s, not a wheel of %s", name, pkg))
	}
	tmpDir, err := os.MkdirTemp(store, ".tmp-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmpDir)
	final := filepath.Join(tmpDir, name)
	pure := info.pure
	switch {
	case info.pure && len(drop) == 0:
		if err := os.Rename(built, final); err != nil {
			return nil, err
		}
	case mode == Pure:
		if final, err = retag(built, []tags.Tag{tags.NewTag("py3", "none", "any")}, true, drop, tmpDir); err != nil {
			return nil, err
		}
		pure = true
	default:
		tg, err := targetTags(info, t)
		if err != nil {
			return nil, fail("tagging the built wheel", out, repro, err)
		}
		if final, err = retag(built, tg, false, nil, tmpDir); err != nil {
			return nil, err
		}
	}
	w, err := saveStored(tmpDir, final, filepath.Join(store, key), pure, mode, dropNotes(pkg, ver, drop))
	if err != nil {
		return nil, err
	}
	b.logf("Built %s in %s", w.Filename, time.Since(start).Round(100*time.Millisecond))
	return w, nil
}

// rustReady checks, for a Rust build (maturin, setuptools-rust), that
// cargo is there and has the target's standard library.
func rustReady(ctx context.Context, bs BuildSystem, t target.Target) error {
	rust := strings.HasPrefix(bs.BuildBackend, "maturin")
	for _, r := range bs.Requires {
		if n := strings.ToLower(r); strings.HasPrefix(n, "maturin") || strings.HasPrefix(n, "setuptools-rust") || strings.HasPrefix(n, "setuptools_rust") {
			rust = true
		}
	}
	if !rust {
		return nil
	}
	triple := rustTriple(t.Arch.Machine())
	if _, err := exec.LookPath("cargo"); err != nil {
		return fmt.Errorf("this is a Rust extension and there is no Rust toolchain (cargo) on PATH: install one with rustup, then rustup target add %s", triple)
	}
	if _, err := exec.LookPath("rustup"); err != nil {
		return nil // a toolchain without rustup: let cargo say what it lacks
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "rustup", "target", "list", "--installed").Output()
	if err != nil {
		return nil
	}
	if !slices.Contains(strings.Fields(string(out)), triple) {
		return fmt.Errorf("this is a Rust extension and the Rust standard library for %s is not installed: run rustup target add %s", triple, triple)
	}
	return nil
}

// watchDirs are the folders whose top level a build must not change.
func (b *Builder) watchDirs(s Sdist, sc *scratch) []string {
	dirs := append([]string{filepath.Dir(sc.Root), filepath.Dir(s.Path)}, b.Watch...)
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, home)
	}
	if wd, err := os.Getwd(); err == nil {
		dirs = append(dirs, wd)
	}
	// Folders every program of the machine writes in (a build run from
	// /tmp) would fail builds for others' writes: not watched (the doc
	// says /tmp is not covered).
	seen := map[string]bool{"/": true, "/tmp": true, "/var/tmp": true, "/dev/shm": true, filepath.Clean(os.TempDir()): true}
	var out []string
	for _, d := range dirs {
		if a, err := filepath.Abs(d); err == nil && !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out
}

func dropNotes(pkg, ver string, drop []string) []string {
	if len(drop) == 0 {
		return nil
	}
	return []string{fmt.Sprintf("%s %s: left out %d prebuilt libraries its sdist ships (%s): the pure-Python package does not load them", pkg, ver, len(drop), strings.Join(first(drop, 3), ", "))}
}

type storedMeta struct {
	Filename string   `json:"filename"`
	SHA256   string   `json:"sha256"`
	Size     int64    `json:"size"`
	Pure     bool     `json:"pure"`
	Mode     Mode     `json:"mode"`
	Notes    []string `json:"notes,omitempty"`
}

func loadStored(dir string) (*Wheel, bool) {
	data, err := os.ReadFile(filepath.Join(dir, "wheel.json"))
	if err != nil {
		return nil, false
	}
	var m storedMeta
	if json.Unmarshal(data, &m) != nil || m.Filename == "" || strings.ContainsAny(m.Filename, `/\`) {
		return nil, false
	}
	p := filepath.Join(dir, m.Filename)
	if st, err := os.Stat(p); err != nil || st.Size() != m.Size {
		return nil, false
	}
	return &Wheel{Path: p, Filename: m.Filename, SHA256: m.SHA256, Size: m.Size, Pure: m.Pure, Mode: m.Mode, Notes: m.Notes}, true
}

// saveStored moves a checked wheel's folder into the store.
func saveStored(tmpDir, wheel, dir string, pure bool, mode Mode, notes []string) (*Wheel, error) {
	f, err := os.Open(wheel)
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	n, err := io.Copy(h, f)
	f.Close()
	if err != nil {
		return nil, err
	}
	m := storedMeta{Filename: filepath.Base(wheel), SHA256: hex.EncodeToString(h.Sum(nil)), Size: n, Pure: pure, Mode: mode, Notes: notes}
	data, _ := json.Marshal(m)
	if err := os.WriteFile(filepath.Join(tmpDir, "wheel.json"), data, 0o644); err != nil {
		return nil, err
	}
	os.RemoveAll(dir)
	if err := os.Rename(tmpDir, dir); err != nil {
		return nil, err
	}
	return &Wheel{Path: filepath.Join(dir, m.Filename), Filename: m.Filename, SHA256: m.SHA256, Size: n, Pure: pure, Mode: mode, Notes: notes}, nil
}

// reproduce is a shell command that runs the same hook by hand, outside
// lambdapack's guard (the build environment, zig and the cross
// configuration stay in the cache).
func reproduce(s Sdist, c *Contents, python string, vars []string, hook string, settings map[string]any) string {
	if len(vars) == 0 {
		return ""
	}
	unpack := "tar -xzf " + shellQuote(s.Path)
	if strings.HasSuffix(strings.ToLower(s.name()), ".zip") {
		unpack = "unzip -q " + shellQuote(s.Path)
	}
	var keep []string
	for _, v := range vars {
		k, val, _ := strings.Cut(v, "=")
		switch {
		case k == "HOME" || k == "TMPDIR" || k == "TEMP" || k == "TMP" || strings.HasPrefix(k, "XDG_") || k == "CARGO_HOME":
			continue
		case k == "LAMBDAPACK_BUILD_ROOTS" || k == "LAMBDAPACK_BUILD_SYSTEM":
			continue
		case k == "PYTHONPATH":
			// The first entry is lambdapack's guard; keep the rest.
			parts := strings.Split(val, string(os.PathListSeparator))
			if len(parts) <= 1 {
				continue
			}
			val = strings.Join(parts[1:], string(os.PathListSeparator))
		}
		keep = append(keep, shellQuote(k+"="+val))
	}
	mod, obj, _ := strings.Cut(c.Build.BuildBackend, ":")
	if c.Build.BuildBackend == "" {
		mod, obj = "setuptools.build_meta", "__legacy__"
	}
	py := "import sys; sys.path[:0] = " + pyList(c.Build.BackendPath, c.Build.BuildBackend == "") + "; import importlib; b = importlib.import_module(" + pyStr(mod) + ")"
	for _, part := range strings.Split(obj, ".") {
		if part != "" {
			py += "; b = getattr(b, " + pyStr(part) + ")"
		}
	}
	args := ""
	if settings != nil {
		js, _ := json.Marshal(settings) // a dict of strings and lists: Python too
		args = "config_settings=" + string(js)
	}
	if hook == "build_wheel" {
		if args != "" {
			args = ", " + args
		}
		py += "; print(b.build_wheel('dist'" + args + "))"
	} else {
		py += "; print(b." + hook + "(" + args + "))"
	}
	return fmt.Sprintf("d=$(mktemp -d) && cd \"$d\" && %s && cd %s && env -i HOME=\"$d/home\" TMPDIR=/tmp %s %s -c %s",
		unpack, shellQuote(c.Top), strings.Join(keep, " "), shellQuote(python), shellQuote(py))
}

func pyStr(s string) string { b, _ := json.Marshal(s); return string(b) }

func pyList(paths []string, legacy bool) string {
	var items []string
	for _, p := range paths {
		items = append(items, pyStr(p))
	}
	if legacy {
		items = append(items, pyStr("."))
	}
	return "[" + strings.Join(items, ", ") + "]"
}

// ReadWheelMetadata returns the METADATA of a wheel.
func ReadWheelMetadata(p string) ([]byte, error) {
	zr, err := zip.OpenReader(p)
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	var cands []*zip.File
	for _, f := range zr.File {
		dir, base, ok := strings.Cut(f.Name, "/")
		if ok && base == "METADATA" && strings.HasSuffix(dir, ".dist-info") {
			cands = append(cands, f)
		}
	}
	if len(cands) != 1 {
		return nil, fmt.Errorf("%s has %d .dist-info/METADATA files", filepath.Base(p), len(cands))
	}
	rc, err := cands[0].Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(io.LimitReader(rc, 16<<20))
}
