package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/lambdapack/lambdapack/internal/index"
)

func main() {
	os.Exit(realMain(os.Args[1:], os.Stdout, os.Stderr))
}

type options struct {
	Quick     bool
	Repeats   int
	Workloads []string
	Targets   []string
	Modes     []string
	Out       string
	Results   string // folder for dated results
	Root      string // the repo
	Keep      bool
	Tools     tools
}

type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error {
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*l = append(*l, p)
		}
	}
	return nil
}

func realMain(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("harness", flag.ContinueOnError)
	fl.SetOutput(stderr)
	var o options
	var wls, tgs, mds listFlag
	toolsDir := ""
	fl.BoolVar(&o.Quick, "quick", false, "CI mode: aws-sdk, python3.11/x86_64, warm, 1 repeat; results to a temp folder")
	fl.IntVar(&o.Repeats, "repeats", 3, "timed runs of each way per workload, target and mode")
	fl.Var(&wls, "workload", "workload name(s) from bench/workloads (repeatable, comma-separated; default all)")
	fl.Var(&tgs, "target", "target(s): python3.12/arm64, python3.11/x86_64 (default both)")
	fl.Var(&mds, "mode", "mode(s): cold, warm, lock-given, lock, project (default all)")
	fl.StringVar(&o.Out, "out", "", "write all results to this one Markdown file instead of bench/results/<date>-<mode>.md")
	fl.StringVar(&o.Root, "root", ".", "the repository")
	fl.BoolVar(&o.Keep, "keep", false, "keep the work folder (outputs, caches, logs)")
	fl.StringVar(&o.Tools.Lambdapack, "lambdapack", "", "the lambdapack binary")
	fl.StringVar(&o.Tools.Baseline, "baseline", "", "another lambdapack binary: compare the two, interleaved, instead of uv and pip")
	fl.StringVar(&toolsDir, "tools", "", "bin folder holding uv and pip (scripts/setup-pytools.sh prints it)")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	if o.Tools.Lambdapack == "" || toolsDir == "" {
		fmt.Fprintln(stderr, "harness: --lambdapack and --tools are required (bench/run.sh passes them)")
		return 2
	}
	o.Tools.UV = filepath.Join(toolsDir, "uv")
	o.Tools.Pip = filepath.Join(toolsDir, "pip")
	z, err := exec.LookPath("zip")
	if err != nil {
		fmt.Fprintln(stderr, "harness: zip is needed for uv's and pip's recipes: apt-get install zip")
		return 1
	}
	o.Tools.Zip = z
	if o.Tools.Baseline != "" {
		ways = []string{wayLP, wayBase}
	}
	if o.Quick {
		if len(wls) == 0 {
			wls = listFlag{"aws-sdk"}
		}
		if len(tgs) == 0 {
			tgs = listFlag{"python3.11/x86_64"}
		}
		if len(mds) == 0 {
			mds = listFlag{modeWarm}
		}
		if !flagSet(fl, "repeats") {
			o.Repeats = 1
		}
	}
	if len(mds) == 0 {
		mds = allModes
	}
	o.Workloads, o.Targets, o.Modes = wls, tgs, mds
	o.Results = filepath.Join(o.Root, "bench", "results")

	cfg, err := index.DiscoverConfig(index.Overrides{})
	if err != nil {
		fmt.Fprintf(stderr, "harness: finding the package index: %v\n", err)
		return 1
	}
	if cfg.NoIndex || cfg.IndexURL == "" {
		fmt.Fprintln(stderr, "harness: no package index is configured; the benchmark needs one")
		return 1
	}
	o.Tools.Index = cfg.IndexURL

	ctx := context.Background()
	failed, err := bench(ctx, o, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "harness: %v\n", err)
		return 1
	}
	if failed {
		fmt.Fprintln(stderr, "harness: FAILED: a way failed, the outputs disagree, or an output does not import (see above)")
		return 1
	}
	return 0
}

func flagSet(fl *flag.FlagSet, name string) bool {
	set := false
	fl.Visit(func(f *flag.Flag) {
		if f.Name == name {
			set = true
		}
	})
	return set
}

// cell is everything measured for one workload, target and mode.
type cell struct {
	W        workload
	T        target
	Mode     string
	Runs     map[string][]result // way -> repeats
	Agree    string              // "" or the differences seen
	Imports  map[string]string   // way -> "ok", an error, or why it could not be checked
	Failures []string
}

func bench(ctx context.Context, o options, stdout, stderr io.Writer) (bool, error) {
	layerSets, err := loadWorkloads(filepath.Join(o.Root, "bench", "workloads"))
	if err != nil {
		return false, err
	}
	lockSets, err := loadWorkloads(filepath.Join(o.Root, "bench", "locks"))
	if err != nil {
		return false, err
	}
	pick := func(all []workload) []workload {
		if len(o.Workloads) == 0 {
			return all
		}
		var out []workload
		for _, w := range all {
			if slices.Contains(o.Workloads, w.Name) {
				out = append(out, w)
			}
		}
		return out
	}
	for _, name := range o.Workloads {
		if !slices.ContainsFunc(append(slices.Clone(layerSets), lockSets...), func(w workload) bool { return w.Name == name }) {
			return false, fmt.Errorf("unknown workload %q (see bench/workloads and bench/locks)", name)
		}
	}
	wls, lockWls := pick(layerSets), pick(lockSets)
	var tgs []target
	if len(o.Targets) == 0 {
		tgs = allTargets
	}
	for _, s := range o.Targets {
		t, err := parseTarget(s)
		if err != nil {
			return false, err
		}
		tgs = append(tgs, t)
	}
	var layerModes []string
	for _, m := range o.Modes {
		switch m {
		case modeCold, modeWarm, modeLock:
			layerModes = append(layerModes, m)
		case modeLockOnly, modeProject:
			if o.Tools.Baseline != "" {
				return false, fmt.Errorf("mode %s compares with uv, not with a baseline build", m)
			}
		default:
			return false, fmt.Errorf("unknown mode %q: use cold, warm, lock-given, lock or project", m)
		}
	}
	work, err := os.MkdirTemp("", "lambdapack-bench-")
	if err != nil {
		return false, err
	}
	if o.Keep {
		fmt.Fprintf(stderr, "work folder: %s\n", work)
	} else {
		defer os.RemoveAll(work)
	}
	mach := describeMachine(ctx, o.Tools)
	date := time.Now().UTC().Format("2006-01-02")
	failed := false
	var cells []*cell
	writeModes := func() error {
		if o.Out != "" || o.Quick || o.Tools.Baseline != "" {
			return nil
		}
		for _, mode := range o.Modes {
			var mc []*cell
			for _, c := range cells {
				if c.Mode == mode {
					mc = append(mc, c)
				}
			}
			if len(mc) == 0 {
				continue
			}
			path := filepath.Join(o.Results, date+"-"+mode+".md")
			if err := writeReport(path, mach, o, []string{mode}, mc); err != nil {
				return err
			}
		}
		return nil
	}
	add := func(cs ...*cell) error {
		for _, c := range cs {
			if len(c.Failures) > 0 {
				failed = true
			}
			cells = append(cells, c)
		}
		return writeModes()
	}
	// Workload and target outermost, so that warm and lock-given share one
	// primed cache per tool.
	if len(layerModes) > 0 {
		for _, w := range wls {
			for _, t := range tgs {
				dir := filepath.Join(work, fmt.Sprintf("%s-%s-%s", w.Name, t.Runtime, t.Arch))
				primed := false
				for _, mode := range layerModes {
					fmt.Fprintf(stderr, "== %s %s %s\n", w.Name, t, mode)
					if err := add(runCell(ctx, o, w, t, mode, dir, &primed, stderr)); err != nil {
						return failed, err
					}
				}
				if !o.Keep {
					os.RemoveAll(dir)
				}
			}
		}
	}
	if slices.Contains(o.Modes, modeLockOnly) {
		for _, w := range lockWls {
			for _, t := range tgs {
				fmt.Fprintf(stderr, "== %s %s %s\n", w.Name, t, modeLockOnly)
				dir := filepath.Join(work, fmt.Sprintf("lock-%s-%s-%s", w.Name, t.Runtime, t.Arch))
				if err := add(runLockCell(ctx, o, w, t, dir, stderr)); err != nil {
					return failed, err
				}
			}
		}
	}
	if slices.Contains(o.Modes, modeProject) {
		fmt.Fprintf(stderr, "== bench/project %s\n", modeProject)
		if err := add(runProjectCell(ctx, o, filepath.Join(work, "project"), stderr)...); err != nil {
			return failed, err
		}
	}
	mach.Lines = append(mach.Lines, fmt.Sprintf("- load average at the end: %.2f", loadAverage()))
	if err := writeModes(); err != nil {
		return failed, err
	}
	if o.Out == "" && !o.Quick {
		for _, mode := range o.Modes {
			fmt.Fprintf(stderr, "wrote %s\n", filepath.Join(o.Results, date+"-"+mode+".md"))
		}
	}
	// Order the cells by mode for the tables.
	var sorted []*cell
	for _, mode := range o.Modes {
		for _, c := range cells {
			if c.Mode == mode {
				sorted = append(sorted, c)
			}
		}
	}
	cells = sorted
	out := o.Out
	if out == "" && o.Quick {
		dir, err := os.MkdirTemp("", "lambdapack-bench-results-")
		if err != nil {
			return failed, err
		}
		out = filepath.Join(dir, date+"-quick.md")
	}
	if out != "" && o.Tools.Baseline != "" {
		text := "# lambdapack against a baseline build\n\n" + strings.Join(mach.Lines, "\n") + "\n- baseline: " +
			firstLine(ctx, o.Tools.Baseline, "version") + "\n\n" + baselineTable(cells)
		if err := os.WriteFile(out, []byte(text), 0o644); err != nil {
			return failed, err
		}
		fmt.Fprintf(stderr, "wrote %s\n", out)
	} else if out != "" {
		if err := writeReport(out, mach, o, o.Modes, cells); err != nil {
			return failed, err
		}
		fmt.Fprintf(stderr, "wrote %s\n", out)
	}
	if o.Tools.Baseline != "" {
		fmt.Fprintln(stdout, baselineTable(cells))
	} else {
		fmt.Fprintln(stdout, tables(o.Modes, cells))
	}
	for _, c := range cells {
		for _, f := range c.Failures {
			fmt.Fprintf(stderr, "FAIL %s %s %s: %s\n", c.W.Name, c.T, c.Mode, f)
		}
	}
	return failed, nil
}

// runCell prepares the caches and inputs a mode needs, then runs the three
// ways alternately, o.Repeats times.
func runCell(ctx context.Context, o options, w workload, t target, mode, dir string, primed *bool, log io.Writer) *cell {
	c := &cell{W: w, T: t, Mode: mode, Runs: map[string][]result{}, Imports: map[string]string{}}
	fail := func(format string, a ...any) {
		msg := redact(fmt.Sprintf(format, a...))
		c.Failures = append(c.Failures, msg)
		fmt.Fprintf(log, "   FAIL %s\n", msg)
	}
	base := job{W: w, T: t, Mode: mode, Req: w.Path}
	warmCache := func(way string) string { return filepath.Join(dir, "cache-"+way) }

	if mode == modeLock && o.Tools.Baseline != "" {
		// Both lambdapacks install from the same pylock.toml.
		if err := os.MkdirAll(dir, 0o755); err != nil {
			fail("%v", err)
			return c
		}
		base.Lock = filepath.Join(dir, "pylock.toml")
		var buf bytes.Buffer
		lk := step(ctx, &buf, nil, "", o.Tools.Lambdapack, "lock", "-r", w.Path, "--runtime", t.Runtime,
			"--arch", t.Arch, "-i", o.Tools.Index, "-o", base.Lock, "--cache-dir", warmCache(wayLP), "-q")
		if lk.err != nil {
			fail("lambdapack lock: %v: %s", lk.err, tail(buf.String(), 800))
			return c
		}
	} else if mode == modeLock {
		// The inputs each tool installs from, made beforehand and not timed:
		// lambdapack's pylock.toml, and uv pip compile's pinned, hashed file
		// that uv and pip both install with --no-deps.
		if err := os.MkdirAll(dir, 0o755); err != nil {
			fail("%v", err)
			return c
		}
		base.Lock = filepath.Join(dir, "pylock.toml")
		base.Compiled = filepath.Join(dir, "requirements.lock.txt")
		var buf bytes.Buffer
		lk := step(ctx, &buf, nil, "", o.Tools.Lambdapack, "lock", "-r", w.Path, "--runtime", t.Runtime,
			"--arch", t.Arch, "-i", o.Tools.Index, "-o", base.Lock, "--cache-dir", warmCache(wayLP), "-q")
		if lk.err != nil {
			fail("lambdapack lock: %v: %s", lk.err, tail(buf.String(), 800))
			return c
		}
		buf.Reset()
		cp := step(ctx, &buf, []string{"UV_PYTHON_DOWNLOADS=never"}, "", o.Tools.UV, "pip", "compile", "--quiet",
			"--generate-hashes", "--python-platform", t.uvPlatform(), "--python-version", t.fullPython(),
			"--only-binary", ":all:", "--index-url", o.Tools.Index, "--cache-dir", warmCache(wayUV),
			"-o", base.Compiled, w.Path)
		if cp.err != nil {
			fail("uv pip compile: %v: %s", cp.err, tail(buf.String(), 800))
			return c
		}
	}
	if (mode == modeWarm || mode == modeLock) && !*primed {
		// Prime each tool's own cache with one untimed run from the
		// requirements; lock-given then installs the same wheels.
		*primed = true
		pj := base
		pj.Mode = modeWarm
		for _, way := range ways {
			j := pj
			j.Dir, j.Cache = filepath.Join(dir, "prime", way), warmCache(way)
			r := o.Tools.run(ctx, way, j)
			if r.Err != nil {
				fail("priming: %v\n%s", r.Err, r.Log)
			}
			os.RemoveAll(j.Dir)
		}
		if len(c.Failures) > 0 {
			return c
		}
	}
	python, pyErr := findPython(t.Minor)
	for rep := 0; rep < o.Repeats; rep++ {
		got := map[string]result{}
		for k := range ways {
			way := ways[(k+rep)%len(ways)] // alternate who goes first
			j := base
			j.Dir = filepath.Join(dir, fmt.Sprintf("%s-run%d", mode, rep), way)
			if mode == modeCold {
				j.Cache = filepath.Join(dir, fmt.Sprintf("%s-run%d", mode, rep), "cache-"+way)
			} else {
				j.Cache = warmCache(way)
			}
			r := o.Tools.run(ctx, way, j)
			fmt.Fprintf(log, "   %d %-10s %7.2fs  rss %4d MB  zip %6.1f MB  cache +%.1f MB\n", rep+1, way,
				r.Wall.Seconds(), r.MaxRSSKB/1024, float64(r.ZipSize)/1e6, float64(r.Growth)/1e6)
			if r.Err != nil {
				fail("%v\n%s", r.Err, r.Log)
			}
			c.Runs[way] = append(c.Runs[way], r)
			got[way] = r
		}
		// Same versions in all outputs?
		lp, uv, pip := got[wayLP], got[wayUV], got[wayPip]
		if b := got[wayBase]; o.Tools.Baseline != "" && lp.Err == nil && b.Err == nil {
			if d := diffVersions(wayLP, lp.Versions, wayBase, b.Versions); d != "" && c.Agree == "" {
				c.Agree = d
				fail("outputs disagree on versions: %s", c.Agree)
			}
		} else if o.Tools.Baseline == "" && lp.Err == nil && uv.Err == nil && pip.Err == nil {
			var diffs []string
			if d := diffVersions(wayLP, lp.Versions, wayUV, uv.Versions); d != "" {
				diffs = append(diffs, d)
			}
			if d := diffVersions(wayLP, lp.Versions, wayPip, pip.Versions); d != "" {
				diffs = append(diffs, d)
			}
			if len(diffs) > 0 && c.Agree == "" {
				c.Agree = strings.Join(diffs, "; ")
				fail("outputs disagree on versions: %s", c.Agree)
			}
		}
		// Import the first repeat's outputs where an interpreter can.
		if rep == 0 {
			for _, way := range ways {
				r := got[way]
				switch {
				case r.Err != nil:
					c.Imports[way] = "no output"
				case t.Arch != "x86_64":
					c.Imports[way] = fmt.Sprintf("not importable here (no %s %s)", t.Arch, t.Python())
				case pyErr != nil:
					c.Imports[way] = "not checked: " + pyErr.Error()
				default:
					if err := importCheck(ctx, python, r.Zip, dir, w.Imports); err != nil {
						c.Imports[way] = "FAILED"
						fail("%s output: %v", way, err)
					} else {
						c.Imports[way] = "ok"
					}
				}
			}
		}
		// Outputs and cold caches are not needed past this repeat.
		if !o.Keep {
			os.RemoveAll(filepath.Join(dir, fmt.Sprintf("%s-run%d", mode, rep)))
		}
	}
	return c
}
