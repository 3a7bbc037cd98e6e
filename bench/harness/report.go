package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"
)

// machine describes where the numbers were taken.
type machine struct {
	Lines []string
}

func describeMachine(ctx context.Context, tl tools) machine {
	var m machine
	add := func(k, v string) { m.Lines = append(m.Lines, fmt.Sprintf("- %s: %s", k, v)) }
	add("CPU", fmt.Sprintf("%s, %d logical CPUs", cpuModel(), runtime.NumCPU()))
	add("memory", memTotal())
	add("kernel", firstLine(ctx, "uname", "-sr"))
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		add("load average at start", strings.Join(strings.Fields(string(b))[:3], " "))
	}
	add("Go", firstLine(ctx, "go", "version"))
	add("lambdapack", firstLine(ctx, tl.Lambdapack, "version"))
	add("uv", firstLine(ctx, tl.UV, "--version"))
	pip := firstLine(ctx, tl.Pip, "--version")
	if i := strings.Index(pip, " from "); i > 0 { // drop the install path, keep "(python 3.x)"
		if j := strings.LastIndex(pip, " ("); j > i {
			pip = pip[:i] + pip[j:]
		}
	}
	add("pip", pip)
	add("zip", firstLine(ctx, "sh", "-c", tl.Zip+" -v | sed -n 2p"))
	return m
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func memTotal() string {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return "unknown"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "MemTotal:" {
			var kb int64
			fmt.Sscan(f[1], &kb)
			return fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
		}
	}
	return "unknown"
}

func firstLine(ctx context.Context, name string, args ...string) string {
	out, err := exec.CommandContext(ctx, name, args...).Output()
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	return strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
}

// stats summarises one way's repeats in one cell.
type stats struct {
	N      int
	Median time.Duration
	Tool   time.Duration
	CPU    time.Duration // median user+sys
	RSSMB  float64       // the largest over the repeats
	Growth int64         // median
	Zip    int64
	Load   float64 // the largest load average seen as a run started
	Walls  []time.Duration
}

func summarise(rs []result) (stats, bool) {
	var s stats
	var walls, tool, cpu []time.Duration
	var growth []int64
	for _, r := range rs {
		if r.Err != nil {
			continue
		}
		walls = append(walls, r.Wall)
		tool = append(tool, r.Tool)
		cpu = append(cpu, r.CPU)
		s.Load = max(s.Load, r.Load)
		growth = append(growth, r.Growth)
		s.RSSMB = max(s.RSSMB, float64(r.MaxRSSKB)/1024)
		s.Zip = r.ZipSize
	}
	if len(walls) == 0 {
		return s, false
	}
	s.N = len(walls)
	s.Walls = append([]time.Duration(nil), walls...)
	s.Median, s.Tool, s.CPU = medianDur(walls), medianDur(tool), medianDur(cpu)
	sort.Slice(growth, func(i, j int) bool { return growth[i] < growth[j] })
	s.Growth = growth[len(growth)/2]
	return s, true
}

func medianDur(ds []time.Duration) time.Duration {
	d := append([]time.Duration(nil), ds...)
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	n := len(d)
	if n%2 == 1 {
		return d[n/2]
	}
	return (d[n/2-1] + d[n/2]) / 2
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

func ratio(a, b stats, okA, okB bool) string {
	if !okA || !okB || b.Median == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", a.Median.Seconds()/b.Median.Seconds())
}

func mb(n int64) string { return fmt.Sprintf("%.1f", float64(n)/1e6) }

// summaryTable is the one table per run: a row per workload, target and mode.
func summaryTable(modes []string, cells []*cell) string {
	var b strings.Builder
	b.WriteString("| workload | target | mode | lambdapack | uv | pip | lambdapack/uv | lambdapack/pip | uv/pip | CPU s (lp / uv / pip) | peak MB (lp / uv / pip) | cache growth MB (lp / uv / pip) | zip MB (lp / uv / pip) | same versions | imports (lp / uv / pip) | load |\n")
	b.WriteString("|---|---|---|---:|---:|---:|---:|---:|---:|---|---|---|---|---|---|---:|\n")
	for _, c := range cells {
		st := map[string]stats{}
		ok := map[string]bool{}
		for _, w := range ways {
			st[w], ok[w] = summarise(c.Runs[w])
		}
		cellOr := func(w string, f func(stats) string) string {
			if !ok[w] {
				return "failed"
			}
			return f(st[w])
		}
		tri := func(f func(stats) string) string {
			return cellOr(wayLP, f) + " / " + cellOr(wayUV, f) + " / " + cellOr(wayPip, f)
		}
		agree := "yes"
		switch {
		case c.Agree != "":
			agree = "NO: " + c.Agree
		case !ok[wayLP] || !ok[wayUV] || !ok[wayPip]:
			agree = "n/a"
		}
		imports := "n/a"
		if c.Imports[wayLP] != "" {
			if c.Imports[wayLP] == c.Imports[wayUV] && c.Imports[wayUV] == c.Imports[wayPip] {
				imports = c.Imports[wayLP]
			} else {
				imports = c.Imports[wayLP] + " / " + c.Imports[wayUV] + " / " + c.Imports[wayPip]
			}
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %.1f |\n",
			c.W.Name, c.T, c.Mode,
			cellOr(wayLP, func(s stats) string { return secs(s.Median) }),
			cellOr(wayUV, func(s stats) string { return secs(s.Median) }),
			cellOr(wayPip, func(s stats) string { return secs(s.Median) }),
			ratio(st[wayLP], st[wayUV], ok[wayLP], ok[wayUV]),
			ratio(st[wayLP], st[wayPip], ok[wayLP], ok[wayPip]),
			ratio(st[wayUV], st[wayPip], ok[wayUV], ok[wayPip]),
			tri(func(s stats) string { return fmt.Sprintf("%.2f", s.CPU.Seconds()) }),
			tri(func(s stats) string { return fmt.Sprintf("%.0f", s.RSSMB) }),
			tri(func(s stats) string { return mb(s.Growth) }),
			tri(func(s stats) string { return mb(s.Zip) }),
			agree, imports, max(st[wayLP].Load, st[wayUV].Load, st[wayPip].Load))
	}
	return b.String()
}

// tables renders each kind of cell with its own table.
func tables(modes []string, cells []*cell) string {
	var layer, lockCells, project []*cell
	for _, c := range cells {
		switch c.Mode {
		case modeLockOnly:
			lockCells = append(lockCells, c)
		case modeProject:
			project = append(project, c)
		default:
			layer = append(layer, c)
		}
	}
	var parts []string
	if len(layer) > 0 {
		parts = append(parts, summaryTable(modes, layer))
	}
	if len(lockCells) > 0 {
		parts = append(parts, lockTable(lockCells))
	}
	if len(project) > 0 {
		parts = append(parts, projectTable(project))
	}
	return strings.Join(parts, "\n")
}

// fratio is a/b with two decimals, "n/a" when b is zero.
func fratio(a, b float64) string {
	if b == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", a/b)
}

// lockTable is the lock mode's table: resolution alone, cold.
func lockTable(cells []*cell) string {
	var b strings.Builder
	b.WriteString("| requirements | target | wall s (lp / uv) | lp/uv | CPU s (lp / uv) | lp/uv | peak MB (lp / uv) | lp/uv | cache MB (lp / uv) | lp/uv | load | versions |\n")
	b.WriteString("|---|---|---|---:|---|---:|---|---:|---|---:|---:|---|\n")
	for _, c := range cells {
		lp, okLP := summarise(c.Runs[wayLP])
		uv, okUV := summarise(c.Runs[wayUV])
		if !okLP || !okUV {
			fmt.Fprintf(&b, "| %s | %s | failed | | | | | | | | | |\n", c.W.Name, c.T)
			continue
		}
		agree := "same"
		if c.Agree != "" {
			agree = "differ: " + c.Agree
		}
		fmt.Fprintf(&b, "| %s | %s | %.2f / %.2f | %s | %.2f / %.2f | %s | %.0f / %.0f | %s | %s / %s | %s | %.1f | %s |\n",
			c.W.Name, c.T, lp.Median.Seconds(), uv.Median.Seconds(), fratio(lp.Median.Seconds(), uv.Median.Seconds()),
			lp.CPU.Seconds(), uv.CPU.Seconds(), fratio(lp.CPU.Seconds(), uv.CPU.Seconds()),
			lp.RSSMB, uv.RSSMB, fratio(lp.RSSMB, uv.RSSMB),
			mb(lp.Growth), mb(uv.Growth), fratio(float64(lp.Growth), float64(uv.Growth)),
			max(lp.Load, uv.Load), agree)
	}
	return b.String()
}

// projectTable is the project build's table (lambdapack alone).
func projectTable(cells []*cell) string {
	var b strings.Builder
	b.WriteString("| build | wall s (median) | CPU s (median) | peak MB (largest) | cache growth MB | load | runs (wall s) |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---|\n")
	for _, c := range cells {
		s, ok := summarise(c.Runs[wayLP])
		if !ok {
			fmt.Fprintf(&b, "| %s | failed | | | | | |\n", c.W.Name)
			continue
		}
		var runs []string
		for _, w := range s.Walls {
			runs = append(runs, fmt.Sprintf("%.2f", w.Seconds()))
		}
		fmt.Fprintf(&b, "| %s | %.2f | %.2f | %.0f | %s | %.1f | %s |\n", c.W.Name, s.Median.Seconds(), s.CPU.Seconds(), s.RSSMB, mb(s.Growth), s.Load, strings.Join(runs, ", "))
	}
	return b.String()
}

// baselineTable compares lambdapack with a baseline build, run
// interleaved: the median wall times, every run, peak memory and zip size.
func baselineTable(cells []*cell) string {
	var b strings.Builder
	b.WriteString("| workload | target | mode | lambdapack | baseline | lambdapack/baseline | runs (lp; baseline) | peak MB (lp / baseline) | zip bytes (lp / baseline) | imports |\n")
	b.WriteString("|---|---|---|---:|---:|---:|---|---|---|---|\n")
	for _, c := range cells {
		lp, okLP := summarise(c.Runs[wayLP])
		bs, okB := summarise(c.Runs[wayBase])
		med := func(s stats, ok bool) string {
			if !ok {
				return "failed"
			}
			return secs(s.Median)
		}
		runs := func(s stats) string {
			var out []string
			for _, w := range s.Walls {
				out = append(out, fmt.Sprintf("%.2f", w.Seconds()))
			}
			return strings.Join(out, " ")
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s; %s | %.0f / %.0f | %d / %d | %s / %s |\n",
			c.W.Name, c.T, c.Mode, med(lp, okLP), med(bs, okB), ratio(lp, bs, okLP, okB), runs(lp), runs(bs),
			lp.RSSMB, bs.RSSMB, lp.Zip, bs.Zip, c.Imports[wayLP], c.Imports[wayBase])
	}
	return b.String()
}

// goals checks the issues' goals on the cells measured.
func goals(cells []*cell) string {
	var b strings.Builder
	b.WriteString("| goal | workload | target | mode | measured | met |\n|---|---|---|---|---|---|\n")
	yes := func(ok bool) string {
		if ok {
			return "yes"
		}
		return "**no**"
	}
	for _, c := range cells {
		lp, okLP := summarise(c.Runs[wayLP])
		row := func(goal, measured string, ok bool) {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", goal, c.W.Name, c.T, c.Mode, measured, yes(ok))
		}
		if okLP {
			row("lambdapack peak memory < 160 MB", fmt.Sprintf("%.0f MB", lp.RSSMB), lp.RSSMB < 160)
		}
		uv, okUV := summarise(c.Runs[wayUV])
		if !okLP || !okUV {
			continue
		}
		r := lp.Median.Seconds() / uv.Median.Seconds()
		switch c.Mode {
		case modeWarm:
			row("warm: lambdapack >= 10x faster than uv (ratio <= 0.10)", fmt.Sprintf("%.2f (%.1fx)", r, 1/r), r <= 0.1)
		case modeCold:
			row("cold: lambdapack/uv <= 1.0", fmt.Sprintf("%.2f", r), r <= 1.0)
		case modeLockOnly:
			row("cold lock: CPU time <= uv's", fmt.Sprintf("%.2f s vs %.2f s", lp.CPU.Seconds(), uv.CPU.Seconds()), lp.CPU <= uv.CPU)
			row("cold lock: peak memory <= uv's", fmt.Sprintf("%.0f MB vs %.0f MB", lp.RSSMB, uv.RSSMB), lp.RSSMB <= uv.RSSMB)
			row("cold lock: cache <= uv's", fmt.Sprintf("%s MB vs %s MB", mb(lp.Growth), mb(uv.Growth)), lp.Growth <= uv.Growth)
			continue
		}
		row("zip no larger than zip -r -6 of uv's folder", fmt.Sprintf("%d vs %d bytes (%+.2f%%)", lp.Zip, uv.Zip, 100*float64(lp.Zip-uv.Zip)/float64(uv.Zip)), lp.Zip <= uv.Zip)
	}
	return b.String()
}

// writeReport writes a results Markdown file atomically.
func writeReport(path string, m machine, o options, modes []string, cells []*cell) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# lambdapack, uv and pip: %s (%s)\n\n", strings.Join(modes, ", "), time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	b.WriteString("Made by `bench/run.sh")
	if o.Quick {
		b.WriteString(" --quick")
	}
	fmt.Fprintf(&b, "` with %d timed repeat(s) per way; the three ways take turns going first.\n\n", o.Repeats)
	b.WriteString("## Machine\n\n")
	b.WriteString(strings.Join(m.Lines, "\n"))
	b.WriteString("\n\n## Results\n\n")
	b.WriteString("Times are medians of wall time from requirements (or lock) to zip, zip step included. ")
	b.WriteString("Ratios below 1 mean the first tool is faster. Peak MB is the largest resident set of any process in the run ")
	b.WriteString("(ru_maxrss of the waited-for process tree, the zip step included). Cache growth is what the run added to the ")
	b.WriteString("tool's own cache folder: about the bytes downloaded for lambdapack and pip, which keep wheels as they came; ")
	b.WriteString("uv keeps wheels unpacked, so its figure is the unpacked size; a pip figure of 0 means pip stored nothing, because pip's HTTP cache keeps only responses whose headers allow it and the index here sends no caching headers, so pip downloads again even when \"warm\". Same versions compares the dist-info folders ")
	b.WriteString("of the three zips. Imports load the workload's top-level modules from each unzipped python/ with pyenv's ")
	b.WriteString("CPython of the target's version (`python -S`, PYTHONPATH=python/).\n\n")
	b.WriteString(tables(modes, cells))
	b.WriteString("\nCPU is user+sys time of every process of a run (rusage of the waited-for process tree), which the load of a shared machine barely moves; load is the one-minute load average as the runs of a row started (the largest). ")
	b.WriteString("The lock mode resolves alone, with an empty cache each run: `lambdapack lock -r REQ --runtime R --arch A -o pylock.toml` against `uv pip compile --python-platform <machine>-manylinux_2_X --python-version 3.X.Y --only-binary :all: -r REQ -o requirements.txt`; cache MB is what each left in its cache folder. ")
	b.WriteString("The project mode builds bench/project (`lambdapack build --out DIR --cache-dir CACHE`) with an empty cache, then again with `--rebuild` on the cache that filled.\n")
	b.WriteString("\n## Goals against uv's recipe\n\n")
	b.WriteString(goals(cells))
	b.WriteString("\n## Every run (seconds, in order)\n\n| workload | target | mode | lambdapack | uv (uv alone) | pip (pip alone) |\n|---|---|---|---|---|---|\n")
	for _, c := range cells {
		list := func(w string) string {
			var p []string
			for _, r := range c.Runs[w] {
				if r.Err != nil {
					p = append(p, "failed")
					continue
				}
				s := fmt.Sprintf("%.2f", r.Wall.Seconds())
				if w != wayLP {
					s += fmt.Sprintf(" (%.2f)", r.Tool.Seconds())
				}
				p = append(p, s)
			}
			return strings.Join(p, ", ")
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", c.W.Name, c.T, c.Mode, list(wayLP), list(wayUV), list(wayPip))
	}
	b.WriteString("\n## How each way ran\n\n")
	b.WriteString("The index is the one configuration names (found the way lambdapack finds it) and is passed to all three as `<index>`.\n\n")
	b.WriteString("- lambdapack: `lambdapack layer -r REQ --runtime R --arch A -o lambdapack.zip --cache-dir CACHE -i <index> -q` (it resolves, downloads, installs under python/, verifies the artifact and writes a reproducible zip); lock-given: `--lock pylock.toml` made beforehand by `lambdapack lock`.\n")
	b.WriteString("- uv (its AWS Lambda guide's recipe, with the runtime's platform): `uv pip install --no-installer-metadata --no-compile-bytecode --python-platform <machine>-manylinux_2_X --python-version 3.X.Y --only-binary :all: --target DIR/python --cache-dir CACHE --index-url <index> -r REQ`, then `cd DIR && zip -r -q -6 uv.zip python`. X is the newest manylinux tag uv knows at or below the runtime's glibc: 2_34 for python3.12; uv has no 2_26, so python3.11 gets 2_17 (manylinux2014). Lock-given: `--no-deps -r` a hashed file from `uv pip compile --generate-hashes` made beforehand.\n")
	b.WriteString("- pip (AWS's documented recipe): `pip install --platform manylinux2014_<machine> --platform manylinux_2_X_<machine> ... (every X from the runtime's glibc down to 17) --only-binary=:all: --python-version 3.X.Y --implementation cp --target DIR/python --cache-dir CACHE --index-url <index> -r REQ`, then `zip -r -q -6`. 3.X.Y is the runtime's patch release from lambdapack's runtime table, so python_full_version markers agree (uv reads \"3.11\" as 3.11.0). pip evaluates markers with the interpreter it runs on (3.12 here), whatever --python-version says. pip byte-compiles into the target by default, as the recipe leaves it, so its zip holds __pycache__. Lock-given: `--no-deps` on the same hashed file as uv.\n\n")
	b.WriteString("Modes: cold gives every tool a fresh, empty cache folder for each run; warm primes each tool's own cache with one untimed run first; lock-given primes the same way and installs from the lock made beforehand (no resolution).\n\n")
	b.WriteString("## Workloads\n\n")
	seen := map[string]bool{}
	for _, c := range cells {
		if seen[c.W.Name] {
			continue
		}
		seen[c.W.Name] = true
		fmt.Fprintf(&b, "- `%s` (bench/workloads/%s.txt, %d pins): %s\n", c.W.Name, c.W.Name, c.W.Count, c.W.Title)
	}
	var fails []string
	for _, c := range cells {
		for _, f := range c.Failures {
			fails = append(fails, fmt.Sprintf("- %s %s %s: %s", c.W.Name, c.T, c.Mode, strings.ReplaceAll(f, "\n", " ")))
		}
	}
	if len(fails) > 0 {
		b.WriteString("\n## Failures\n\n")
		b.WriteString(strings.Join(fails, "\n"))
		b.WriteString("\n")
	}
	text := redact(b.String())
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("writing results: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(text), 0o644); err != nil {
		return fmt.Errorf("writing results: %w", err)
	}
	return os.Rename(tmp, path)
}
