package sdist

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
)

//go:embed hooks/lambdapack_hooks.py
var hookSource []byte

//go:embed hooks/sitecustomize.py
var guardSource []byte

const hookScript = "lambdapack_hooks.py"

func hookDigest() string {
	h := sha256.New()
	h.Write(hookSource)
	h.Write(guardSource)
	return hex.EncodeToString(h.Sum(nil))[:24]
}

// hooks writes the hook runner and the build guard into the cache (once)
// and returns their folder. It sits outside every build folder, so a
// build cannot rewrite it.
func (b *Builder) hooks() (string, error) {
	root, err := b.Cache.Dir("build-hooks")
	if err != nil {
		return "", err
	}
	dir := filepath.Join(root, hookDigest())
	if _, err := os.Stat(filepath.Join(dir, ".complete")); err == nil {
		return dir, nil
	}
	tmp, err := os.MkdirTemp(root, ".tmp-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	for name, data := range map[string][]byte{hookScript: hookSource, "sitecustomize.py": guardSource, ".complete": nil} {
		if err := os.WriteFile(filepath.Join(tmp, name), data, 0o444); err != nil {
			return "", err
		}
	}
	if err := os.Chmod(tmp, 0o555); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.Chmod(tmp, 0o755)
		if _, serr := os.Stat(filepath.Join(dir, ".complete")); serr == nil {
			return dir, nil
		}
		return "", err
	}
	return dir, nil
}

// scratch is one build's own folder: the unpacked source, a HOME, a
// TMPDIR and the output folder. Nothing of a build lives anywhere else.
type scratch struct {
	Root, Src, Home, Tmp, Out, IO string
	Top                           string // the sdist's top folder, in Src
}

var scratchDirs = []string{"src", "home", "tmp", "out", "io"}

func (b *Builder) newScratch() (*scratch, error) {
	root, err := b.Cache.Dir("build-tmp")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(root, "b-")
	if err != nil {
		return nil, err
	}
	s := &scratch{Root: dir, Src: filepath.Join(dir, "src"), Home: filepath.Join(dir, "home"), Tmp: filepath.Join(dir, "tmp"), Out: filepath.Join(dir, "out"), IO: filepath.Join(dir, "io")}
	for _, d := range scratchDirs {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	return s, nil
}

func (s *scratch) remove() {
	// A build may leave read-only folders behind.
	filepath.WalkDir(s.Root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(p, 0o755)
		}
		return nil
	})
	os.RemoveAll(s.Root)
}

// snapshot is the top level of folders a build must not touch: name ->
// size and modification time of each entry (folders by name only).
type snapshot map[string]map[string]string

func takeSnapshot(dirs []string) snapshot {
	s := snapshot{}
	for _, d := range dirs {
		if d == "" {
			continue
		}
		ents, err := os.ReadDir(d)
		if err != nil {
			continue
		}
		m := map[string]string{}
		for _, e := range ents {
			v := "dir"
			if !e.IsDir() {
				if fi, err := e.Info(); err == nil {
					v = fmt.Sprintf("%d %d %v", fi.Size(), fi.ModTime().UnixNano(), fi.Mode())
				}
			}
			m[e.Name()] = v
		}
		s[d] = m
	}
	return s
}

// changes lists entries that appeared, changed or vanished since s. Names
// that ignore returns true for are skipped.
func (s snapshot) changes(ignore func(dir, name string) bool) []string {
	now := takeSnapshot(keys(s))
	var out []string
	for d, before := range s {
		after := now[d]
		for n, v := range after {
			if ignore != nil && ignore(d, n) {
				continue
			}
			if w, ok := before[n]; !ok {
				out = append(out, filepath.Join(d, n)+" (new)")
			} else if w != v && v != "dir" {
				out = append(out, filepath.Join(d, n)+" (changed)")
			}
		}
		for n := range before {
			if _, ok := after[n]; !ok && (ignore == nil || !ignore(d, n)) {
				out = append(out, filepath.Join(d, n)+" (removed)")
			}
		}
	}
	sort.Strings(out)
	return out
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// tail keeps the last bytes written to it.
type tail struct {
	mu  sync.Mutex
	buf []byte
	max int
	log func(string)
	cur []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = append([]byte(nil), t.buf[len(t.buf)-t.max:]...)
	}
	if t.log != nil {
		t.cur = append(t.cur, p...)
		for {
			i := strings.IndexByte(string(t.cur), '\n')
			if i < 0 {
				break
			}
			t.log(string(t.cur[:i]))
			t.cur = t.cur[i+1:]
		}
		if len(t.cur) > 4096 {
			t.cur = t.cur[:0]
		}
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// hookRun is one call of a PEP 517 hook.
type hookRun struct {
	python string
	dir    string // the source tree (cwd)
	sc     *scratch
	env    []string // the build's variables (compilers, cross configuration)
	path   []string // folders put first on PATH
	pypath []string // folders put on PYTHONPATH after the guard
	build  BuildSystem
	hook   string
	args   map[string]any
	watch  []string
	// sdistDir is the sdist's folder (in the cache when fetched).
	sdistDir string
}

// errTimeout marks a build stopped by the build timeout.
var errTimeout = errors.New("build timed out")

// blobName is a cache blob's file name (its sha256).
var blobName = regexp.MustCompile(`^[0-9a-f]{64}$`)

// run calls the hook and returns its JSON result, the output's tail and
// the environment it ran with (for the reproduce command).
func (b *Builder) run(ctx context.Context, r hookRun) (json.RawMessage, string, []string, error) {
	hooks, err := b.hooks()
	if err != nil {
		return nil, "", nil, err
	}
	argsPath := filepath.Join(r.sc.IO, "hook-args.json")
	resPath := filepath.Join(r.sc.IO, "hook-result.json")
	os.Remove(resPath)
	a, _ := json.Marshal(r.args)
	if err := os.WriteFile(argsPath, a, 0o644); err != nil {
		return nil, "", nil, err
	}
	bs, _ := json.Marshal(r.build)
	env := b.baseEnv(r.sc)
	env = append(env,
		"PATH="+strings.Join(append(append([]string{}, r.path...), filepath.Dir(r.python), os.Getenv("PATH")), string(os.PathListSeparator)),
		"PYTHONPATH="+strings.Join(append([]string{hooks}, r.pypath...), string(os.PathListSeparator)),
		"LAMBDAPACK_BUILD_SYSTEM="+string(bs),
		// The guard lets Python write to the source tree, HOME, TMPDIR, the
		// output folder and the hook runner's files, nowhere else.
		"LAMBDAPACK_BUILD_ROOTS="+strings.Join([]string{r.dir, r.sc.Home, r.sc.Tmp, r.sc.Out, r.sc.IO}, string(os.PathListSeparator)),
	)
	env = append(env, r.env...)
	before := takeSnapshot(r.watch)
	out := &tail{max: 256 << 10}
	if b.Verbose {
		out.log = func(l string) { b.logf("  | %s", l) }
	}
	cmd := exec.CommandContext(ctx, r.python, filepath.Join(hooks, hookScript), r.hook, argsPath, resPath)
	cmd.Dir = r.dir
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Stdin = nil
	setProcessGroup(cmd)
	cmd.WaitDelay = 5 * time.Second
	err = cmd.Run()
	escaped := before.changes(func(dir, name string) bool {
		// Other builds of this machine come and go beside ours, and
		// lambdapack's downloads land beside the sdist in the cache.
		return dir == filepath.Dir(r.sc.Root) && strings.HasPrefix(name, "b-") ||
			dir == r.sdistDir && (strings.HasPrefix(name, ".tmp-") || blobName.MatchString(name))
	})
	for _, e := range escaped {
		// What a build left beside the build folders is in lambdapack's
		// own folder: take it away again.
		if p, ok := strings.CutSuffix(e, " (new)"); ok && filepath.Dir(p) == filepath.Dir(r.sc.Root) {
			os.RemoveAll(p)
		}
	}
	escaped = append(escaped, strayInScratch(r.sc)...)
	if len(escaped) > 0 {
		return nil, out.String(), env, &EscapeError{Paths: escaped}
	}
	if ctx.Err() != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, out.String(), env, errTimeout
		}
		return nil, out.String(), env, ctx.Err()
	}
	if err != nil {
		return nil, out.String(), env, err
	}
	res, err := os.ReadFile(resPath)
	if err != nil {
		return nil, out.String(), env, fmt.Errorf("the hook runner wrote no result: %w", err)
	}
	var v struct {
		Return      json.RawMessage `json:"return"`
		Unsupported bool            `json:"unsupported"`
	}
	if err := json.Unmarshal(res, &v); err != nil {
		return nil, out.String(), env, fmt.Errorf("the hook runner's result: %w", err)
	}
	if v.Unsupported {
		return nil, out.String(), env, errUnsupported
	}
	return v.Return, out.String(), env, nil
}

var errUnsupported = errors.New("hook not supported by the backend")

// strayInScratch lists what a build left at its scratch root besides its
// own folders and lambdapack's hook files: a write to "../x" from the
// source tree lands there.
func strayInScratch(s *scratch) []string {
	ents, err := os.ReadDir(s.Root)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		switch e.Name() {
		case "src", "home", "tmp", "out", "io":
			continue
		}
		out = append(out, filepath.Join(s.Root, e.Name())+" (new)")
	}
	if ents, err := os.ReadDir(s.Src); err == nil && s.Top != "" {
		for _, e := range ents {
			if e.Name() != s.Top {
				out = append(out, filepath.Join(s.Src, e.Name())+" (new)")
			}
		}
	}
	return out
}

// baseEnv is what every build process sees: no variables of the user's
// (no credentials reach a build script), its own HOME and TMPDIR, a fixed
// locale and timestamp, no bytecode written.
func (b *Builder) baseEnv(sc *scratch) []string {
	env := []string{
		"HOME=" + sc.Home, "TMPDIR=" + sc.Tmp, "TEMP=" + sc.Tmp, "TMP=" + sc.Tmp,
		"XDG_CACHE_HOME=" + filepath.Join(sc.Home, ".cache"), "XDG_CONFIG_HOME=" + filepath.Join(sc.Home, ".config"),
		"XDG_DATA_HOME=" + filepath.Join(sc.Home, ".local", "share"),
		"LANG=C.UTF-8", "LC_ALL=C.UTF-8",
		"SOURCE_DATE_EPOCH=" + sourceDateEpoch(),
		"PYTHONNOUSERSITE=1", "PYTHONDONTWRITEBYTECODE=1", "PYTHONHASHSEED=0",
		"PIP_NO_INPUT=1", "PIP_DISABLE_PIP_VERSION_CHECK=1",
	}
	// cargo's registry and crate downloads are kept between builds.
	if d, err := b.Cache.Dir("cargo-home"); err == nil {
		env = append(env, "CARGO_HOME="+d)
	}
	// Tools found through the user's own folders keep working: rustup's
	// toolchains, and the network through a proxy.
	home, _ := os.UserHomeDir()
	if v := os.Getenv("RUSTUP_HOME"); v != "" {
		env = append(env, "RUSTUP_HOME="+v)
	} else if home != "" {
		if _, err := os.Stat(filepath.Join(home, ".rustup")); err == nil {
			env = append(env, "RUSTUP_HOME="+filepath.Join(home, ".rustup"))
		}
	}
	for _, k := range []string{"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy", "SSL_CERT_FILE", "SSL_CERT_DIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

func sourceDateEpoch() string {
	if v := os.Getenv("SOURCE_DATE_EPOCH"); v != "" {
		return v
	}
	return "315532800" // 1980-01-01, the earliest a zip can say
}

func runQuiet(ctx context.Context, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "LANG=C.UTF-8"}
	out, err := cmd.CombinedOutput()
	return lastLines(string(out), 10), err
}
