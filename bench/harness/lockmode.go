package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/lambdapack/lambdapack/internal/lock"
	"github.com/lambdapack/lambdapack/internal/names"
	"github.com/lambdapack/lambdapack/internal/pep440"
)

// Two modes besides the layer modes:
//
//   - lock: resolution alone, cold (an empty cache each run), of the
//     requirement sets under bench/locks: `lambdapack lock` against uv's
//     `uv pip compile --python-platform ... --python-version ...
//     --only-binary :all:`. Wall time, CPU time (user+sys), peak memory and
//     the cache each run leaves behind.
//   - project: `lambdapack build` of the multi-function project under
//     bench/project (eight artifacts, four runtimes, both architectures),
//     cold (an empty cache) and warm (--rebuild on the cache the cold run
//     filled). lambdapack alone: no other tool builds such a project.
const (
	modeLockOnly = "lock"
	modeProject  = "project"
)

// lockWays are the ways of the lock mode.
var lockWays = []string{wayLP, wayUV}

// runLockCell runs the lock mode for one requirement set and target.
func runLockCell(ctx context.Context, o options, w workload, t target, dir string, log io.Writer) *cell {
	c := &cell{W: w, T: t, Mode: modeLockOnly, Runs: map[string][]result{}, Imports: map[string]string{}}
	for rep := 0; rep < o.Repeats; rep++ {
		got := map[string]result{}
		for k := range lockWays {
			way := lockWays[(k+rep)%len(lockWays)]
			run := filepath.Join(dir, fmt.Sprintf("lock-run%d", rep), way)
			r := o.Tools.lock(ctx, way, w, t, run)
			fmt.Fprintf(log, "   %d %-10s %7.2fs  cpu %5.2fs  rss %4d MB  cache %.1f MB  load %.1f\n", rep+1, way,
				r.Wall.Seconds(), r.CPU.Seconds(), r.MaxRSSKB/1024, float64(r.Growth)/1e6, r.Load)
			if r.Err != nil {
				msg := redact(fmt.Sprintf("%v\n%s", r.Err, r.Log))
				c.Failures = append(c.Failures, msg)
				fmt.Fprintf(log, "   FAIL %s\n", msg)
			}
			c.Runs[way] = append(c.Runs[way], r)
			got[way] = r
		}
		lp, uv := got[wayLP], got[wayUV]
		if lp.Err == nil && uv.Err == nil && c.Agree == "" {
			// Reported, not a failure: uv cannot say glibc 2.26, and the
			// sets are unpinned.
			c.Agree = diffVersions(wayLP, lp.Versions, wayUV, uv.Versions)
		}
		if !o.Keep {
			os.RemoveAll(filepath.Join(dir, fmt.Sprintf("lock-run%d", rep)))
		}
	}
	return c
}

// lock runs one way of the lock mode in a fresh folder with an empty cache.
func (tl tools) lock(ctx context.Context, way string, w workload, t target, dir string) result {
	r := result{Way: way, Load: loadAverage()}
	cache := filepath.Join(dir, "cache")
	if err := os.MkdirAll(cache, 0o755); err != nil {
		r.Err = err
		return r
	}
	var log bytes.Buffer
	var st stepResult
	out := filepath.Join(dir, "pylock.toml")
	switch way {
	case wayLP:
		st = step(ctx, &log, nil, "", tl.Lambdapack, "lock", "-r", w.Path, "--runtime", t.Runtime, "--arch", t.Arch,
			"-i", tl.Index, "-o", out, "--cache-dir", cache, "-q")
	case wayUV:
		out = filepath.Join(dir, "requirements.txt")
		st = step(ctx, &log, []string{"UV_PYTHON_DOWNLOADS=never"}, "", tl.UV, "pip", "compile", "--quiet",
			"--python-platform", t.uvPlatform(), "--python-version", t.fullPython(), "--only-binary", ":all:",
			"--index-url", tl.Index, "--cache-dir", cache, "-o", out, w.Path)
	}
	r.Wall, r.Tool, r.CPU, r.MaxRSSKB, r.Err = st.dur, st.dur, st.cpu, st.rss, st.err
	r.Growth = dirSize(cache)
	r.Log = redact(tail(log.String(), 1500))
	if r.Err != nil {
		r.Err = fmt.Errorf("%s lock of %s for %s: %w", way, w.Name, t, r.Err)
		return r
	}
	var err error
	if way == wayLP {
		r.Versions, err = pylockVersions(out)
	} else {
		r.Versions, err = pinnedVersions(out)
	}
	if err != nil {
		r.Err = err
	}
	return r
}

// pylockVersions lists a pylock.toml's packages, canonicalised.
func pylockVersions(path string) (map[string]string, error) {
	l, err := lock.ReadPylockFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, p := range l.Packages {
		out[names.Canonical(p.Name)] = normVersion(p.Version)
	}
	return out, nil
}

// pinnedVersions lists the name==version lines of a compiled requirements
// file, canonicalised.
func pinnedVersions(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line, _, _ = strings.Cut(line, " ")
		line, _, _ = strings.Cut(line, ";")
		name, version, ok := strings.Cut(line, "==")
		if !ok {
			continue
		}
		if i := strings.IndexByte(name, '['); i >= 0 {
			name = name[:i]
		}
		out[names.Canonical(name)] = normVersion(version)
	}
	return out, sc.Err()
}

func normVersion(v string) string {
	if pv, err := pep440.Parse(v); err == nil {
		return pv.String()
	}
	return v
}

// runProjectCell builds bench/project cold, then warm, o.Repeats times.
func runProjectCell(ctx context.Context, o options, dir string, log io.Writer) []*cell {
	proj := filepath.Join(o.Root, "bench", "project")
	title := "bench/project: 3 layers and 5 functions (9 artifacts), python3.11 to 3.13, both architectures"
	cold := &cell{W: workload{Name: "project-cold", Title: title + "; an empty cache", Path: proj}, Mode: modeProject, Runs: map[string][]result{}, Imports: map[string]string{}}
	warm := &cell{W: workload{Name: "project-warm", Title: title + "; build --rebuild on the cache the cold build filled", Path: proj}, Mode: modeProject, Runs: map[string][]result{}, Imports: map[string]string{}}
	for rep := 0; rep < o.Repeats; rep++ {
		run := filepath.Join(dir, fmt.Sprintf("project-run%d", rep))
		cache := filepath.Join(run, "cache")
		for _, c := range []*cell{cold, warm} {
			r := result{Way: wayLP, Load: loadAverage()}
			if err := os.MkdirAll(cache, 0o755); err != nil {
				r.Err = err
			}
			before := dirSize(cache)
			args := []string{"build", proj, "--out", filepath.Join(run, "dist"), "--cache-dir", cache, "-q"}
			if c == warm {
				args = append(args, "--rebuild")
			}
			var buf bytes.Buffer
			if r.Err == nil {
				st := step(ctx, &buf, nil, "", o.Tools.Lambdapack, args...)
				r.Wall, r.Tool, r.CPU, r.MaxRSSKB, r.Err = st.dur, st.dur, st.cpu, st.rss, st.err
			}
			r.Growth = dirSize(cache) - before
			r.Log = redact(tail(buf.String(), 1500))
			fmt.Fprintf(log, "   %d %-12s %7.2fs  cpu %5.2fs  rss %4d MB  cache +%.1f MB  load %.1f\n", rep+1, c.W.Name,
				r.Wall.Seconds(), r.CPU.Seconds(), r.MaxRSSKB/1024, float64(r.Growth)/1e6, r.Load)
			if r.Err != nil {
				msg := redact(fmt.Sprintf("%v\n%s", r.Err, r.Log))
				c.Failures = append(c.Failures, msg)
				fmt.Fprintf(log, "   FAIL %s\n", msg)
			}
			c.Runs[wayLP] = append(c.Runs[wayLP], r)
		}
		if !o.Keep {
			os.RemoveAll(run)
		}
	}
	return []*cell{cold, warm}
}

// loadAverage is the machine's one-minute load average (0 when unknown).
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	var l float64
	fmt.Sscan(string(b), &l)
	return l
}
