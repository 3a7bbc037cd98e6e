package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	lptarget "github.com/lambdapack/lambdapack/internal/target"
)

// workload is one pinned requirements file under bench/workloads.
type workload struct {
	Name    string   // file name without .txt
	Title   string   // the file's first comment line
	Path    string   // absolute path of the requirements file
	Imports []string // modules to import from the output (# bench-import: ...)
	Count   int      // requirement lines
}

// loadWorkloads reads every *.txt in dir, sorted by name.
func loadWorkloads(dir string) ([]workload, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	if err != nil {
		return nil, fmt.Errorf("listing workloads in %s: %w", dir, err)
	}
	sort.Strings(paths)
	var out []workload
	for _, p := range paths {
		w, err := readWorkload(p)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no workloads (*.txt) in %s", dir)
	}
	return out, nil
}

func readWorkload(path string) (workload, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return workload{}, fmt.Errorf("resolving %s: %w", path, err)
	}
	f, err := os.Open(abs)
	if err != nil {
		return workload{}, fmt.Errorf("reading workload: %w", err)
	}
	defer f.Close()
	w := workload{Name: strings.TrimSuffix(filepath.Base(abs), ".txt"), Path: abs}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "":
		case strings.HasPrefix(line, "# bench-import:"):
			w.Imports = strings.Fields(strings.TrimPrefix(line, "# bench-import:"))
		case strings.HasPrefix(line, "#"):
			if w.Title == "" {
				w.Title = strings.TrimSpace(strings.TrimPrefix(line, "#"))
			}
		default:
			w.Count++
		}
	}
	if err := sc.Err(); err != nil {
		return workload{}, fmt.Errorf("reading workload %s: %w", abs, err)
	}
	if w.Count == 0 {
		return workload{}, fmt.Errorf("workload %s has no requirements", abs)
	}
	return w, nil
}

// target is one Lambda runtime and architecture.
type target struct {
	Runtime string // python3.12
	Arch    string // arm64 | x86_64
	Minor   int    // 12
	Glibc   int    // glibc 2.X ceiling of the runtime: 26 or 34
}

// fullPython is the runtime's patch release as lambdapack's runtime table
// has it (e.g. 3.11.13). uv and pip get it as --python-version, so that uv
// evaluates python_full_version markers as lambdapack does (uv takes "3.11"
// as 3.11.0, which pulls in e.g. async-timeout for python_full_version <
// "3.11.3"); pip uses it only for Requires-Python.
func (t target) fullPython() string {
	if tt, err := lptarget.New(t.Runtime, t.Arch); err == nil && tt.PythonFull != "" {
		return tt.PythonFull
	}
	return t.Python()
}

func (t target) String() string { return t.Runtime + "/" + t.Arch }
func (t target) Python() string { return fmt.Sprintf("3.%d", t.Minor) }
func (t target) Machine() string {
	return map[string]string{"arm64": "aarch64", "x86_64": "x86_64"}[t.Arch]
}

var allTargets = []target{
	{Runtime: "python3.12", Arch: "arm64", Minor: 12, Glibc: 34},
	{Runtime: "python3.11", Arch: "x86_64", Minor: 11, Glibc: 26},
}

func parseTarget(s string) (target, error) {
	for _, t := range allTargets {
		if s == t.String() || s == t.Runtime+"-"+t.Arch {
			return t, nil
		}
	}
	var names []string
	for _, t := range allTargets {
		names = append(names, t.String())
	}
	return target{}, fmt.Errorf("unknown target %q: use one of %s", s, strings.Join(names, ", "))
}

// uvPlatform is the --python-platform uv gets: the newest manylinux tag uv
// knows that is not above the runtime's glibc. uv 0.13 has no
// manylinux_2_26, so python3.11 (glibc 2.26) gets manylinux_2_17
// (manylinux2014), which is also what uv's Lambda guide uses.
func (t target) uvPlatform() string {
	known := []int{40, 39, 38, 37, 36, 35, 34, 33, 32, 31, 28, 17}
	for _, k := range known {
		if k <= t.Glibc {
			return fmt.Sprintf("%s-manylinux_2_%d", t.Machine(), k)
		}
	}
	return t.Machine() + "-manylinux2014"
}

// pipPlatforms are the --platform values pip gets: manylinux2014 as AWS's
// guide says, plus every manylinux_2_X from 2_17 up to the runtime's glibc,
// because pip does not expand a manylinux_2_X platform to older ones.
func (t target) pipPlatforms() []string {
	ps := []string{"manylinux2014_" + t.Machine()}
	for x := t.Glibc; x >= 17; x-- {
		ps = append(ps, fmt.Sprintf("manylinux_2_%d_%s", x, t.Machine()))
	}
	return ps
}
