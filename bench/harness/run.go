package main

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/lambdapack/lambdapack/internal/names"
	"github.com/lambdapack/lambdapack/internal/pep440"
)

// The three ways, in the order the tables show them, and the baseline
// lambdapack a change is compared with (--baseline: then the ways are
// lambdapack and baseline).
const (
	wayLP   = "lambdapack"
	wayUV   = "uv"
	wayPip  = "pip"
	wayBase = "baseline"
)

var ways = []string{wayLP, wayUV, wayPip}

// The cache modes.
const (
	modeCold = "cold"
	modeWarm = "warm"
	modeLock = "lock-given"
)

var allModes = []string{modeCold, modeWarm, modeLock, modeLockOnly, modeProject}

// tools are the programs the harness runs.
type tools struct {
	Lambdapack string // the lambdapack binary
	Baseline   string // another lambdapack binary to compare with, or ""
	UV         string // uv
	Pip        string // pip (of the private virtualenv)
	Zip        string // Info-ZIP zip
	Index      string // the index URL all three use
}

// job is one run of one way.
type job struct {
	W        workload
	T        target
	Mode     string
	Dir      string // a fresh folder for this run's output
	Cache    string // the way's cache folder
	Req      string // requirements file (-r)
	Lock     string // lambdapack's pylock.toml (lock-given)
	Compiled string // uv pip compile's hashed requirements (lock-given)
}

// result is what one run measured.
type result struct {
	Way      string
	Wall     time.Duration // requirements (or lock) to zip
	Tool     time.Duration // the installer alone (uv, pip); equals Wall for lambdapack
	CPU      time.Duration // user+sys CPU time of every process in the run
	MaxRSSKB int64         // the largest resident set of any process in the run
	Load     float64       // the machine's one-minute load average as the run started
	Growth   int64         // cache folder growth in bytes
	Zip      string
	ZipSize  int64
	Versions map[string]string // canonical name -> normalised version, from dist-info folders
	Err      error
	Log      string // the tail of the run's output, redacted
}

// run runs one way for a job and measures it.
func (tl tools) run(ctx context.Context, way string, j job) result {
	r := result{Way: way, Load: loadAverage()}
	if err := os.MkdirAll(j.Dir, 0o755); err != nil {
		r.Err = err
		return r
	}
	if err := os.MkdirAll(j.Cache, 0o755); err != nil {
		r.Err = err
		return r
	}
	before := dirSize(j.Cache)
	r.Zip = filepath.Join(j.Dir, way+".zip")
	var log bytes.Buffer
	start := time.Now()
	switch way {
	case wayLP, wayBase:
		bin := tl.Lambdapack
		if way == wayBase {
			bin = tl.Baseline
		}
		args := []string{"layer", "--runtime", j.T.Runtime, "--arch", j.T.Arch, "-o", r.Zip,
			"--cache-dir", j.Cache, "-q"}
		if j.Mode == modeLock {
			args = append(args, "--lock", j.Lock)
		} else {
			args = append(args, "-i", tl.Index, "-r", j.Req)
		}
		st := step(ctx, &log, nil, "", bin, args...)
		r.Tool, r.CPU, r.MaxRSSKB, r.Err = st.dur, st.cpu, st.rss, st.err
	case wayUV:
		site := filepath.Join(j.Dir, "uv", "python")
		args := []string{"pip", "install", "--quiet", "--no-progress",
			"--no-installer-metadata", "--no-compile-bytecode",
			"--python-platform", j.T.uvPlatform(), "--python-version", j.T.fullPython(),
			"--only-binary", ":all:", "--target", site,
			"--cache-dir", j.Cache, "--index-url", tl.Index}
		if j.Mode == modeLock {
			args = append(args, "--no-deps", "-r", j.Compiled)
		} else {
			args = append(args, "-r", j.Req)
		}
		st := step(ctx, &log, []string{"UV_PYTHON_DOWNLOADS=never"}, "", tl.UV, args...)
		r.Tool, r.CPU, r.MaxRSSKB, r.Err = st.dur, st.cpu, st.rss, st.err
		if r.Err == nil {
			z := step(ctx, &log, nil, filepath.Dir(site), tl.Zip, "-r", "-q", "-6", r.Zip, "python")
			r.CPU, r.MaxRSSKB, r.Err = r.CPU+z.cpu, max(r.MaxRSSKB, z.rss), z.err
		}
	case wayPip:
		site := filepath.Join(j.Dir, "pip", "python")
		args := []string{"install", "--quiet", "--disable-pip-version-check", "--no-input"}
		for _, p := range j.T.pipPlatforms() {
			args = append(args, "--platform", p)
		}
		args = append(args, "--only-binary=:all:", "--python-version", j.T.fullPython(),
			"--implementation", "cp", "--target", site,
			"--cache-dir", j.Cache, "--index-url", tl.Index)
		if j.Mode == modeLock {
			args = append(args, "--no-deps", "-r", j.Compiled)
		} else {
			args = append(args, "-r", j.Req)
		}
		st := step(ctx, &log, nil, "", tl.Pip, args...)
		r.Tool, r.CPU, r.MaxRSSKB, r.Err = st.dur, st.cpu, st.rss, st.err
		if r.Err == nil {
			z := step(ctx, &log, nil, filepath.Dir(site), tl.Zip, "-r", "-q", "-6", r.Zip, "python")
			r.CPU, r.MaxRSSKB, r.Err = r.CPU+z.cpu, max(r.MaxRSSKB, z.rss), z.err
		}
	default:
		r.Err = fmt.Errorf("unknown way %q", way)
	}
	r.Wall = time.Since(start)
	r.Growth = dirSize(j.Cache) - before
	r.Log = redact(tail(log.String(), 1500))
	if r.Err != nil {
		r.Err = fmt.Errorf("%s on %s %s (%s): %w", way, j.W.Name, j.T, j.Mode, r.Err)
		return r
	}
	fi, err := os.Stat(r.Zip)
	if err != nil {
		r.Err = fmt.Errorf("%s wrote no zip: %w", way, err)
		return r
	}
	r.ZipSize = fi.Size()
	r.Versions, err = zipVersions(r.Zip)
	if err != nil {
		r.Err = err
	}
	return r
}

type stepResult struct {
	dur time.Duration
	cpu time.Duration // user+sys, the process and the children it waited for
	rss int64         // KiB
	err error
}

// step runs one command, appending its output to log.
func step(ctx context.Context, log io.Writer, env []string, dir, name string, args ...string) stepResult {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout = log
	cmd.Stderr = log
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	err := cmd.Run()
	st := stepResult{dur: time.Since(start), err: err}
	if cmd.ProcessState != nil {
		st.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			// Linux reports ru_maxrss in KiB; for a waited-for child it is the
			// largest of the child and the descendants it waited for.
			st.rss = ru.Maxrss
		}
	}
	if err != nil {
		st.err = fmt.Errorf("running %s: %w", filepath.Base(name), err)
	}
	return st
}

// dirSize sums the sizes of the regular files under dir (0 if absent).
func dirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// zipVersions lists the distributions a layer zip holds, from the names of its
// python/*.dist-info folders, canonicalised so that the three tools' spellings
// compare equal.
func zipVersions(path string) (map[string]string, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	defer zr.Close()
	out := map[string]string{}
	for _, f := range zr.File {
		parts := strings.Split(f.Name, "/")
		if len(parts) < 2 || parts[0] != "python" || !strings.HasSuffix(parts[1], ".dist-info") {
			continue
		}
		base := strings.TrimSuffix(parts[1], ".dist-info")
		i := strings.LastIndex(base, "-")
		if i <= 0 {
			return nil, fmt.Errorf("%s: dist-info folder %q has no version", path, parts[1])
		}
		name, ver := names.Canonical(base[:i]), base[i+1:]
		if v, err := pep440.Parse(ver); err == nil {
			ver = v.String()
		}
		out[name] = ver
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s holds no python/*.dist-info folder", path)
	}
	return out, nil
}

// diffVersions says how b differs from a ("" when they are the same).
func diffVersions(aName string, a map[string]string, bName string, b map[string]string) string {
	var d []string
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	var sorted []string
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	for _, k := range sorted {
		va, vb := a[k], b[k]
		if va == vb {
			continue
		}
		if va == "" {
			va = "-"
		}
		if vb == "" {
			vb = "-"
		}
		d = append(d, fmt.Sprintf("%s %s:%s %s:%s", k, aName, va, bName, vb))
	}
	return strings.Join(d, "; ")
}

// importCheck unzips a layer and imports modules from its python/ folder with
// a CPython of the target's version, without site-packages.
func importCheck(ctx context.Context, python, zipPath, work string, modules []string) error {
	dir, err := os.MkdirTemp(work, "import-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := unzip(zipPath, dir); err != nil {
		return err
	}
	code := "import " + strings.Join(modules, ", ")
	cmd := exec.CommandContext(ctx, python, "-S", "-c", code)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+filepath.Join(dir, "python"), "PYTHONNOUSERSITE=1", "PYTHONDONTWRITEBYTECODE=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("importing from %s: %w: %s", filepath.Base(zipPath), err, redact(tail(string(out), 600)))
	}
	return nil
}

// unzip extracts a zip into dir, refusing names that leave it.
func unzip(path, dir string) error {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return fmt.Errorf("opening %s: %w", path, err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		dst := filepath.Join(dir, filepath.FromSlash(f.Name))
		if !strings.HasPrefix(dst, filepath.Clean(dir)+string(os.PathSeparator)) {
			return fmt.Errorf("%s: entry %q leaves the destination", path, f.Name)
		}
		if strings.HasSuffix(f.Name, "/") {
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return err
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		rc, err := f.Open()
		if err != nil {
			return fmt.Errorf("reading %s in %s: %w", f.Name, path, err)
		}
		mode := os.FileMode(0o644)
		if f.Mode()&0o111 != 0 {
			mode = 0o755
		}
		out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
		if err != nil {
			rc.Close()
			return err
		}
		_, err = io.Copy(out, rc)
		rc.Close()
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("extracting %s from %s: %w", f.Name, path, err)
		}
	}
	return nil
}

// findPython finds pyenv's newest CPython 3.minor.
func findPython(minor int) (string, error) {
	home, _ := os.UserHomeDir()
	root := os.Getenv("PYENV_ROOT")
	if root == "" {
		root = filepath.Join(home, ".pyenv")
	}
	matches, _ := filepath.Glob(filepath.Join(root, "versions", fmt.Sprintf("3.%d.*", minor), "bin", "python"))
	best, bestPatch := "", -1
	for _, m := range matches {
		v := filepath.Base(filepath.Dir(filepath.Dir(m)))
		var maj, min, patch int
		if n, _ := fmt.Sscanf(v, "%d.%d.%d", &maj, &min, &patch); n == 3 && patch > bestPatch {
			best, bestPatch = m, patch
		}
	}
	if best == "" {
		return "", errors.New("no pyenv CPython 3." + fmt.Sprint(minor))
	}
	return best, nil
}

var urlRE = regexp.MustCompile(`[a-zA-Z][a-zA-Z0-9+.-]*://[^\s/"']+`)

// redact replaces every URL's scheme and host with <host>, so no index host
// reaches a results file.
func redact(s string) string { return urlRE.ReplaceAllString(s, "<host>") }

func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		s = "..." + s[len(s)-n:]
	}
	return s
}
