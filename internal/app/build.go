package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"text/tabwriter"

	"golang.org/x/sync/errgroup"

	"github.com/lambdapack/lambdapack/internal/atomicfile"
	"github.com/lambdapack/lambdapack/internal/human"
	"github.com/lambdapack/lambdapack/internal/index"
	"github.com/lambdapack/lambdapack/internal/progress"
	"github.com/lambdapack/lambdapack/internal/project"
	"github.com/lambdapack/lambdapack/internal/record"
	"github.com/lambdapack/lambdapack/internal/target"
)

// BuildOptions configure `lambdapack build`.
type BuildOptions struct {
	Dir    string   // the project folder ("" = working directory)
	Config string   // an explicit config file
	Only   []string // build only these functions and layers
	Out    string   // output folder; "" = <Dir>/dist
	Stage  string   // serverless --stage

	NoVerify, Force, Strict bool
	// Rebuild ignores the record of previous builds.
	Rebuild bool
	// Jobs bounds the artifacts built at once (default 4).
	Jobs int

	Env EnvOptions
}

// stateFile, in the output folder, records each artifact's inputs so that an
// unchanged one is reused.
const stateFile = ".lambdapack-build.json"

type buildState struct {
	Artifacts map[string]stateEntry `json:"artifacts"`
}

type stateEntry struct {
	Inputs string          `json:"inputs"`
	Report *ArtifactReport `json:"report"`
}

// job is one artifact of a project.
type job struct {
	name   string // function or layer name (+ "-<arch>" for layers)
	opts   ArtifactOptions
	inputs string // hash of everything the artifact depends on
}

// Build builds every function and layer of a project (or those in Only),
// in parallel on one shared cache, reusing artifacts whose inputs did not
// change.
func Build(ctx context.Context, o BuildOptions) (*Report, *project.Config, error) {
	dir := o.Dir
	if dir == "" {
		dir = "."
	}
	cfg, err := project.Load(dir, project.LoadOptions{Config: o.Config, Stage: o.Stage})
	if err != nil {
		return nil, nil, err
	}
	log := o.Env.Logger
	if log == nil {
		log = progress.NewLogger(o.Env.Log, o.Env.Verbose)
	}
	log.Info(fmt.Sprintf("Project %s (%s)", cfg.File, cfg.Kind))
	for _, n := range cfg.Notes {
		log.Info(fmt.Sprintf("  note: %s", n))
	}
	out := o.Out
	if out == "" {
		out = filepath.Join(cfg.Dir, "dist")
	}
	out, err = filepath.Abs(out)
	if err != nil {
		return nil, nil, err
	}
	jobs, err := planJobs(cfg, o, out)
	if err != nil {
		return nil, cfg, err
	}
	if len(jobs) == 0 {
		return &Report{Artifacts: []*ArtifactReport{}}, cfg, nil
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, cfg, fmt.Errorf("creating the output folder: %w", err)
	}
	state := readState(filepath.Join(out, stateFile))

	// Hash inputs and find what is unchanged, before opening anything.
	reports := make([]*ArtifactReport, len(jobs))
	var todo []int
	for i := range jobs {
		h, err := jobInputs(cfg, &jobs[i])
		if err != nil {
			return nil, cfg, err
		}
		jobs[i].inputs = h
		if prev, ok := state.Artifacts[jobs[i].name]; ok && !o.Rebuild && prev.Inputs == h && prev.Report != nil && fileHasSHA(jobs[i].opts.Output, prev.Report.SHA256) {
			r := *prev.Report
			t := true
			r.Unchanged = &t
			r.Seconds = 0
			reports[i] = &r
			continue
		}
		todo = append(todo, i)
	}

	if len(todo) > 0 {
		eo := o.Env
		eo.Logger = log
		eo.Project = index.Settings{IndexURL: cfg.Index.URL, ExtraIndexURLs: cfg.Index.Extra, FindLinks: cfg.Index.FindLinks, NoIndex: cfg.Index.NoIndex}
		eo.ProjectSource = filepath.Base(cfg.File)
		env, err := OpenEnv(eo)
		if err != nil {
			return nil, cfg, err
		}
		defer env.Close()
		jobsN := o.Jobs
		if jobsN <= 0 {
			jobsN = 4
		}
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(jobsN)
		var mu sync.Mutex
		var errs []error
		for _, i := range todo {
			i := i
			g.Go(func() error {
				rep, err := BuildArtifact(gctx, env, jobs[i].opts)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", jobs[i].name, err))
					return nil
				}
				f := false
				rep.Unchanged = &f
				reports[i] = rep
				state.Artifacts[jobs[i].name] = stateEntry{Inputs: jobs[i].inputs, Report: rep}
				return nil
			})
		}
		_ = g.Wait()
		if err := writeState(filepath.Join(out, stateFile), state); err != nil {
			return nil, cfg, err
		}
		if len(errs) > 0 {
			// Report what was built beside what failed.
			return &Report{Artifacts: compact(reports)}, cfg, errors.Join(errs...)
		}
	}
	rep := &Report{Artifacts: reports}
	if err := checkBudgets(cfg, jobs, reports); err != nil {
		return rep, cfg, err
	}
	return rep, cfg, nil
}

func compact(reps []*ArtifactReport) []*ArtifactReport {
	out := []*ArtifactReport{}
	for _, r := range reps {
		if r != nil {
			out = append(out, r)
		}
	}
	return out
}

// planJobs turns the config into artifacts: one zip per function, one per
// layer and architecture.
func planJobs(cfg *project.Config, o BuildOptions, out string) ([]job, error) {
	only := map[string]bool{}
	for _, n := range o.Only {
		only[n] = true
	}
	for n := range only {
		if _, ok := cfg.Function(n); ok {
			continue
		}
		if _, ok := cfg.Layer(n); ok {
			continue
		}
		return nil, fmt.Errorf("--only %s: no function or layer has that name (known: %s)", n, strings.Join(cfg.Names(), ", "))
	}
	want := func(n string) bool { return len(only) == 0 || only[n] }
	abs := func(p string) string {
		if p == "" {
			return ""
		}
		return filepath.Join(cfg.Dir, filepath.FromSlash(p))
	}
	var jobs []job
	for _, l := range cfg.Layers {
		if !want(l.Name) {
			continue
		}
		for _, a := range l.Archs {
			var ts []target.Target
			for _, rt := range l.Runtimes {
				t, err := target.New(rt, string(a))
				if err != nil {
					return nil, fmt.Errorf("%s: layer %s: %w", l.Pos, l.Name, err)
				}
				ts = append(ts, t)
			}
			layout := record.Layout(l.Layout)
			if layout == "" && len(ts) == 1 {
				layout = record.LayoutPython
			}
			name := l.Name + "-" + string(a)
			jobs = append(jobs, job{name: name, opts: ArtifactOptions{
				Kind: KindLayer, Name: name, Targets: ts, Layout: layout,
				Deps:            Inputs{RequirementFiles: nonEmpty(abs(l.Deps.Requirements)), Lock: abs(l.Deps.Lock), Requirements: l.Deps.Inline},
				Output:          filepath.Join(out, name+".zip"),
				ExcludePackages: l.Options.ExcludePackages, Slim: l.Options.Slim, StripPatterns: l.Options.StripPatterns, Compile: l.Options.Compile,
				NoVerify: o.NoVerify, Force: o.Force, Strict: o.Strict,
			}})
		}
	}
	for _, f := range cfg.Functions {
		if !want(f.Name) {
			continue
		}
		t, err := target.New(f.Runtime, string(f.Arch))
		if err != nil {
			return nil, fmt.Errorf("%s: function %s: %w", f.Pos, f.Name, err)
		}
		jobs = append(jobs, job{name: f.Name, opts: ArtifactOptions{
			Kind: KindFunction, Name: f.Name, Handler: f.Handler, Targets: []target.Target{t},
			Deps:     Inputs{RequirementFiles: nonEmpty(abs(f.Deps.Requirements)), Lock: abs(f.Deps.Lock), Requirements: f.Deps.Inline},
			Src:      abs(f.Source),
			Excludes: f.Excludes, SkipPaths: []string{out},
			Output:          filepath.Join(out, f.Name+".zip"),
			ExcludePackages: f.Options.ExcludePackages, Slim: f.Options.Slim, StripPatterns: f.Options.StripPatterns, Compile: f.Options.Compile,
			NoVerify: o.NoVerify, Force: o.Force, Strict: o.Strict,
		}})
	}
	return jobs, nil
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// jobInputs hashes everything an artifact is made from: lambdapack's
// version, the kind, targets and options, the requirements as read (includes
// followed), the lock's bytes, and the function's source tree.
func jobInputs(cfg *project.Config, j *job) (string, error) {
	h := sha256.New()
	o := j.opts
	fmt.Fprintf(h, "lambdapack %s\nkind %s\nlayout %s\n", CurrentVersion(), o.Kind, o.Layout)
	for _, t := range o.Targets {
		fmt.Fprintf(h, "target %s %s %d.%d glibc %d.%d\n", t.Runtime, t.Arch, t.PythonMajor, t.PythonMinor, t.GlibcMajor, t.GlibcMinor)
	}
	fmt.Fprintf(h, "exclude-packages %q slim %v strip %q compile %v excludes %q verify %v force %v strict %v\n",
		o.ExcludePackages, o.Slim, o.StripPatterns, o.Compile, o.Excludes, !o.NoVerify, o.Force, o.Strict)
	fmt.Fprintf(h, "index %q %q %q %v\n", cfg.Index.URL, cfg.Index.Extra, cfg.Index.FindLinks, cfg.Index.NoIndex)
	for _, v := range []string{"PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "UV_INDEX_URL", "UV_DEFAULT_INDEX", "SOURCE_DATE_EPOCH"} {
		fmt.Fprintf(h, "env %s=%q\n", v, os.Getenv(v))
	}
	if o.Deps.Lock != "" {
		data, err := os.ReadFile(o.Deps.Lock)
		if err != nil {
			return "", fmt.Errorf("%s: %w", j.name, err)
		}
		fmt.Fprintf(h, "lock %x\n", sha256.Sum256(data))
	}
	if !o.Deps.Empty() && o.Deps.Lock == "" {
		set, err := o.Deps.Read()
		if err != nil {
			return "", fmt.Errorf("%s: %w", j.name, err)
		}
		for _, r := range set.Requirements {
			fmt.Fprintf(h, "req %s %q\n", r.String(), r.Hashes)
		}
		for _, r := range set.Constraints {
			fmt.Fprintf(h, "con %s\n", r.String())
		}
		fmt.Fprintf(h, "opts %+v\n", set.Options)
	}
	if o.Kind == KindFunction {
		files, err := collectSource(o.Src, o.Excludes, append([]string{o.Output}, o.SkipPaths...)...)
		if err != nil {
			return "", fmt.Errorf("%s: %w", j.name, err)
		}
		for _, f := range files {
			sum, err := fileSHA256(f.Abs)
			if err != nil {
				return "", err
			}
			fmt.Fprintf(h, "src %s %o %s\n", f.Rel, f.Mode, sum)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func fileSHA256(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("reading %s: %w", p, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func fileHasSHA(p, want string) bool {
	got, err := fileSHA256(p)
	return err == nil && got == want
}

func readState(p string) *buildState {
	s := &buildState{Artifacts: map[string]stateEntry{}}
	data, err := os.ReadFile(p)
	if err != nil {
		return s
	}
	if json.Unmarshal(data, s) != nil || s.Artifacts == nil {
		return &buildState{Artifacts: map[string]stateEntry{}}
	}
	return s
}

func writeState(p string, s *buildState) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(p, append(data, '\n'), 0o644)
}

// checkBudgets checks each function with the layers it uses against
// Lambda's unzipped limit for the whole deployment.
func checkBudgets(cfg *project.Config, jobs []job, reps []*ArtifactReport) error {
	byName := map[string]*ArtifactReport{}
	for i, j := range jobs {
		byName[j.name] = reps[i]
	}
	var errs []error
	for _, f := range cfg.Functions {
		fr := byName[f.Name]
		if fr == nil {
			continue
		}
		total := fr.UnzippedSize
		parts := []string{fmt.Sprintf("%s %s", f.Name, human.Bytes(fr.UnzippedSize))}
		for _, l := range f.Layers {
			if lr := byName[l+"-"+string(f.Arch)]; lr != nil {
				total += lr.UnzippedSize
				parts = append(parts, fmt.Sprintf("%s %s", l, human.Bytes(lr.UnzippedSize)))
			}
		}
		if total > UnzippedLimit {
			errs = append(errs, fmt.Errorf("%s: function %s with its layers unzips to %d bytes (%s), over Lambda's %d: slim the layers (--slim, exclude-packages) or move to a container image",
				f.Pos, f.Name, total, strings.Join(parts, " + "), UnzippedLimit))
		}
	}
	return errors.Join(errs...)
}

// WriteBuildSummary prints one line per artifact.
func WriteBuildSummary(w io.Writer, r *Report) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ARTIFACT\tKIND\tTARGET\tZIPPED\tUNZIPPED\tSTATUS\tPATH")
	for _, a := range r.Artifacts {
		status := fmt.Sprintf("built %.1fs", a.Seconds)
		if a.Unchanged != nil && *a.Unchanged {
			status = "unchanged"
		}
		tgt := runtimeLabel(a) + "/" + a.Architecture
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.Name, a.Kind, tgt, human.Bytes(a.Size), human.Bytes(a.UnzippedSize), status, a.Path)
	}
	return tw.Flush()
}
