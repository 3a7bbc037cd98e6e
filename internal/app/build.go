package app

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"

	"golang.org/x/sync/errgroup"

	"github.com/lambdapack/lambdapack/internal/atomicfile"
	"github.com/lambdapack/lambdapack/internal/human"
	"github.com/lambdapack/lambdapack/internal/index"
	"github.com/lambdapack/lambdapack/internal/progress"
	"github.com/lambdapack/lambdapack/internal/project"
	"github.com/lambdapack/lambdapack/internal/publish"
	"github.com/lambdapack/lambdapack/internal/record"
	"github.com/lambdapack/lambdapack/internal/target"
	"github.com/lambdapack/lambdapack/internal/verify"
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

// BuildReport is what `lambdapack build` found and made; --json prints it
// as one document, also when the build stops (then Error says why and
// where).
type BuildReport struct {
	Project   string           `json:"project,omitempty"` // the config file read
	Kind      string           `json:"kind,omitempty"`    // sam, serverless, lambdapack.toml, pyproject.toml
	Artifacts []*BuiltArtifact `json:"artifacts"`
	// Skipped are the functions and layers not built, with the reason.
	Skipped []SkippedReport `json:"skipped"`
	// Notes are said once per project.
	Notes []BuildNote `json:"notes"`
	// SAMTemplate is the .aws-sam/build/template.yaml written for sam
	// deploy; ServerlessPlugin the plugin written for the Serverless
	// Framework.
	SAMTemplate      string                 `json:"sam_template,omitempty"`
	ServerlessPlugin string                 `json:"serverless_plugin,omitempty"`
	Published        []*publish.LayerResult `json:"published,omitempty"`
	Error            *BuildError            `json:"error,omitempty"`
}

// BuiltArtifact is one zip of the project.
type BuiltArtifact struct {
	*ArtifactReport
	// SHA256Base64 is the zip's SHA-256 in base64: what Lambda reports as
	// CodeSha256 and Terraform's source_code_hash (filebase64sha256) holds.
	SHA256Base64 string `json:"sha256_base64"`
	// Handler is a function's handler; Layers the artifacts of the layers
	// it uses that this build made.
	Handler string   `json:"handler,omitempty"`
	Layers  []string `json:"layers,omitempty"`
}

// SkippedReport is a function or layer the build did not make.
type SkippedReport struct {
	Name   string      `json:"name"`
	Kind   record.Kind `json:"kind"`
	Reason string      `json:"reason"`
	File   string      `json:"file,omitempty"`
	Line   int         `json:"line,omitempty"`
}

// BuildNote is a note or warning, said once.
type BuildNote struct {
	Level   string `json:"level"` // note or warning
	Message string `json:"message"`
	File    string `json:"file,omitempty"`
	Line    int    `json:"line,omitempty"`
	// Artifacts are the artifacts whose builds said it ("" for the
	// project's config).
	Artifacts []string `json:"artifacts,omitempty"`
}

// BuildError is why a build stopped, and where in the config when a config
// mistake is the cause.
type BuildError struct {
	Message string `json:"message"`
	File    string `json:"file,omitempty"`
	Line    int    `json:"line,omitempty"`
}

// NewBuildError describes err for the report.
func NewBuildError(err error) *BuildError {
	e := &BuildError{Message: err.Error()}
	if pos, ok := project.Location(err); ok {
		e.File, e.Line = pos.File, pos.Line
	}
	return e
}

// Build builds every function and layer of a project (or those in Only),
// in parallel on one shared cache, reusing artifacts whose inputs did not
// change. The report is never nil: on failure its Error is set too.
func Build(ctx context.Context, o BuildOptions) (*BuildReport, *project.Config, error) {
	rep := &BuildReport{Artifacts: []*BuiltArtifact{}, Skipped: []SkippedReport{}, Notes: []BuildNote{}}
	var cfg *project.Config
	fail := func(err error) (*BuildReport, *project.Config, error) {
		rep.Error = NewBuildError(err)
		return rep, cfg, err
	}
	dir := o.Dir
	if dir == "" {
		dir = "."
	}
	cfg, err := project.Load(dir, project.LoadOptions{Config: o.Config, Stage: o.Stage})
	if err != nil {
		return fail(err)
	}
	rep.Project, rep.Kind = cfg.File, cfg.Kind
	// Lines the builds of several artifacts print alike (a deprecation, the
	// same resolver note) are said once.
	base := o.Env.Logger
	if base == nil {
		base = progress.NewLogger(o.Env.Log, o.Env.Verbose)
	}
	log := slog.New(&onceHandler{h: base.Handler(), seen: &onceSeen{m: map[string]bool{}}})
	o.Env.Logger = log
	log.Info(fmt.Sprintf("Project %s (%s)", cfg.File, cfg.Kind))
	for _, n := range cfg.Notes {
		log.Info(fmt.Sprintf("  %s: %s", n.Level, n))
		rep.Notes = append(rep.Notes, BuildNote{Level: n.Level.String(), Message: n.Msg, File: n.Pos.File, Line: n.Pos.Line})
	}
	want := wanted(o.Only)
	for _, f := range cfg.Functions {
		if f.Package.Skipped() && want(f.Name) {
			rep.Skipped = append(rep.Skipped, SkippedReport{Name: f.Name, Kind: KindFunction, Reason: f.Package.Reason, File: f.Pos.File, Line: f.Pos.Line})
			log.Info(fmt.Sprintf("  skipped function %s: %s", f.Name, f.Package.Reason))
		}
	}
	for _, l := range cfg.Layers {
		if l.Package.Skipped() && want(l.Name) {
			rep.Skipped = append(rep.Skipped, SkippedReport{Name: l.Name, Kind: KindLayer, Reason: l.Package.Reason, File: l.Pos.File, Line: l.Pos.Line})
			log.Info(fmt.Sprintf("  skipped layer %s: %s", l.Name, l.Package.Reason))
		}
	}
	out := o.Out
	if out == "" {
		out = filepath.Join(cfg.Dir, "dist")
	}
	out, err = filepath.Abs(out)
	if err != nil {
		return fail(err)
	}
	jobs, err := planJobs(cfg, o, out)
	if err != nil {
		return fail(err)
	}
	if len(jobs) == 0 {
		return rep, cfg, nil
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fail(fmt.Errorf("creating the output folder: %w", err))
	}
	state := readState(filepath.Join(out, stateFile))

	// Hash inputs and find what is unchanged, before opening anything.
	reports := make([]*ArtifactReport, len(jobs))
	var todo []int
	for i := range jobs {
		h, err := jobInputs(cfg, &jobs[i])
		if err != nil {
			return fail(err)
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

	var errs []error
	if len(todo) > 0 {
		eo := o.Env
		eo.Logger = log
		eo.Project = index.Settings{IndexURL: cfg.Index.URL, ExtraIndexURLs: cfg.Index.Extra, FindLinks: cfg.Index.FindLinks, NoIndex: cfg.Index.NoIndex}
		eo.ProjectSource = filepath.Base(cfg.File)
		env, err := OpenEnv(eo)
		if err != nil {
			return fail(err)
		}
		defer env.Close()
		jobsN := o.Jobs
		if jobsN <= 0 {
			jobsN = 4
		}
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(jobsN)
		var mu sync.Mutex
		for _, i := range todo {
			i := i
			g.Go(func() error {
				r, err := BuildArtifact(gctx, env, jobs[i].opts)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", jobs[i].name, err))
					return nil
				}
				f := false
				r.Unchanged = &f
				reports[i] = r
				state.Artifacts[jobs[i].name] = stateEntry{Inputs: jobs[i].inputs, Report: r}
				return nil
			})
		}
		_ = g.Wait()
		if ctx.Err() != nil {
			return fail(ctx.Err())
		}
	}
	// What every function gets from the artifacts, checked as a whole: its
	// handler is there, and its layers' files suit its own runtime and
	// architecture.
	if err := checkFunctions(ctx, cfg, o, jobs, reports, state); err != nil {
		errs = append(errs, err)
	}
	if err := writeState(filepath.Join(out, stateFile), state); err != nil {
		return fail(err)
	}
	byJob := map[string]*ArtifactReport{}
	for i, j := range jobs {
		if reports[i] != nil {
			byJob[j.name] = reports[i]
		}
	}
	noteIndex := map[string]int{}
	for i, j := range jobs {
		r := reports[i]
		if r == nil {
			continue
		}
		b := &BuiltArtifact{ArtifactReport: r, SHA256Base64: sha256Base64(r.SHA256)}
		if f, ok := cfg.Function(j.name); ok && j.opts.Kind == KindFunction {
			b.Handler = f.Handler
			for _, u := range f.Layers {
				if lr := byJob[u.Name+"-"+string(u.Arch)]; lr != nil {
					b.Layers = append(b.Layers, lr.Name)
				}
			}
		}
		// An artifact's notes go to the project's list, once each.
		for _, n := range r.Notes {
			if quietNote(n, j.opts) {
				continue
			}
			if k, ok := noteIndex[n]; ok {
				rep.Notes[k].Artifacts = append(rep.Notes[k].Artifacts, j.name)
				continue
			}
			noteIndex[n] = len(rep.Notes)
			rep.Notes = append(rep.Notes, BuildNote{Level: "note", Message: n, Artifacts: []string{j.name}})
		}
		rep.Artifacts = append(rep.Artifacts, b)
	}
	if len(errs) == 0 {
		if err := checkBudgets(cfg, jobs, reports); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fail(errors.Join(errs...))
	}
	if len(o.Only) == 0 {
		if err := writeDeployFiles(cfg, jobs, reports, rep, log); err != nil {
			return fail(err)
		}
	}
	return rep, cfg, nil
}

// onceHandler drops a line logged before: the builds of a project's
// artifacts share one log, and what they say alike is said once.
type onceHandler struct {
	h    slog.Handler
	seen *onceSeen
}

type onceSeen struct {
	mu sync.Mutex
	m  map[string]bool
}

func (o *onceHandler) Enabled(ctx context.Context, l slog.Level) bool { return o.h.Enabled(ctx, l) }

func (o *onceHandler) Handle(ctx context.Context, r slog.Record) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", r.Level, r.Message)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	k := b.String()
	o.seen.mu.Lock()
	dup := o.seen.m[k]
	o.seen.m[k] = true
	o.seen.mu.Unlock()
	if dup {
		return nil
	}
	return o.h.Handle(ctx, r)
}

func (o *onceHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &onceHandler{h: o.h.WithAttrs(as), seen: o.seen}
}

func (o *onceHandler) WithGroup(name string) slog.Handler {
	return &onceHandler{h: o.h.WithGroup(name), seen: o.seen}
}

// quietNote reports whether an artifact's note says nothing for a project
// build: a package the config leaves out (noDeploy, exclude-packages) that
// the artifact did not have anyway.
func quietNote(n string, o ArtifactOptions) bool {
	for _, x := range o.ExcludePackages {
		if n == fmt.Sprintf("--exclude-package %s: no such package in the artifact", x) {
			return true
		}
	}
	return false
}

func sha256Base64(hexSum string) string {
	b, err := hex.DecodeString(hexSum)
	if err != nil {
		return ""
	}
	return base64.StdEncoding.EncodeToString(b)
}

func wanted(only []string) func(string) bool {
	set := map[string]bool{}
	for _, n := range only {
		set[n] = true
	}
	return func(n string) bool { return len(set) == 0 || set[n] }
}

// checkFunctions runs the checks that need a function's zip and its layers'
// zips together: the handler rule, and each layer's files verified for the
// function's own runtime and architecture when the layer was built for
// another (Lambda treats CompatibleRuntimes and CompatibleArchitectures as
// metadata; the content decides). A function that fails is removed from
// the output unless --force.
func checkFunctions(ctx context.Context, cfg *project.Config, o BuildOptions, jobs []job, reports []*ArtifactReport, state *buildState) error {
	if o.NoVerify {
		return nil
	}
	byName := map[string]int{}
	for i, j := range jobs {
		byName[j.name] = i
	}
	kindLayer, err := verify.ParseKind("layer")
	if err != nil {
		return err
	}
	var errs []error
	for _, f := range cfg.Functions {
		i, ok := byName[f.Name]
		if !ok || reports[i] == nil || jobs[i].opts.Kind != KindFunction {
			continue
		}
		fr := reports[i]
		t, err := target.New(f.Runtime, string(f.Arch))
		if err != nil {
			return err
		}
		var findings []verify.Finding
		fnFiles, err := zipFiles(fr.Path)
		if err != nil {
			return err
		}
		layerFiles := map[string][]artifactFile{}
		for _, u := range f.Layers {
			li, ok := byName[u.Name+"-"+string(u.Arch)]
			if !ok || reports[li] == nil {
				continue
			}
			lr := reports[li]
			files, err := zipFiles(lr.Path)
			if err != nil {
				return err
			}
			layerFiles[u.Name] = files
			if slices.ContainsFunc(jobs[li].opts.Targets, func(x target.Target) bool { return x == t }) {
				continue // verified for this target when it was built
			}
			vr, err := verify.Check(ctx, verify.PathSource(lr.Path), t, verify.Options{Kind: kindLayer})
			if err != nil {
				return fmt.Errorf("verifying layer %s for function %s: %w", u.Name, f.Name, err)
			}
			for _, x := range vr.Findings {
				if x.Severity == verify.Info {
					continue
				}
				x.Message = fmt.Sprintf("layer %s (built for %s) used by %s on %s: %s", u.Name, lr.Architecture, f.Name, t, x.Message)
				findings = append(findings, x)
			}
		}
		if h := checkHandler(f.Handler, t.Python(), fnFiles, layerFiles, f.ExternalLayers); h != nil {
			findings = append(findings, *h)
		}
		if len(findings) == 0 {
			continue
		}
		fr.Findings = append(fr.Findings, findings...)
		var failed []verify.Finding
		for _, x := range findings {
			if x.Severity == verify.Error || o.Strict && x.Severity == verify.Warning {
				failed = append(failed, x)
			}
		}
		if len(failed) == 0 || o.Force {
			continue
		}
		var b strings.Builder
		for _, x := range failed {
			fmt.Fprintf(&b, "  %s [%s] %s: %s", x.Severity, x.Rule, x.File, x.Message)
			if x.Fix != "" {
				fmt.Fprintf(&b, " (%s)", x.Fix)
			}
			b.WriteString("\n")
		}
		// Nothing broken stays at the output.
		if err := os.Remove(fr.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		delete(state.Artifacts, f.Name)
		reports[i] = nil
		errs = append(errs, fmt.Errorf("%s: function %s: %w", f.Pos, f.Name, &VerifyError{Output: fr.Path, Target: t, Report: b.String()}))
	}
	return errors.Join(errs...)
}

// writeDeployFiles writes what the project's deploy tool reads to take the
// zips as they are: SAM's build template, the Serverless plugin.
func writeDeployFiles(cfg *project.Config, jobs []job, reports []*ArtifactReport, rep *BuildReport, log *slog.Logger) error {
	fnZips := map[string]string{}
	layerZips := map[string]string{}
	for i, j := range jobs {
		if reports[i] == nil {
			continue
		}
		if j.opts.Kind == KindFunction {
			fnZips[j.name] = reports[i].Path
		}
	}
	for _, l := range cfg.Layers {
		if l.Package.Skipped() || len(l.Archs) == 0 {
			continue
		}
		for i, j := range jobs {
			if j.name == l.Name+"-"+string(l.Archs[0]) && reports[i] != nil {
				layerZips[l.Name] = reports[i].Path
			}
		}
	}
	switch cfg.Kind {
	case project.KindSAM:
		data, err := os.ReadFile(cfg.File)
		if err != nil {
			return fmt.Errorf("reading %s: %w", cfg.File, err)
		}
		all := map[string]string{}
		for k, v := range fnZips {
			all[k] = v
		}
		for k, v := range layerZips {
			all[k] = v
		}
		tpl, err := project.SAMBuildTemplate(cfg, data, all)
		if err != nil {
			return err
		}
		p := filepath.Join(cfg.Dir, filepath.FromSlash(project.SAMBuildDir), "template.yaml")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("writing the SAM build template: %w", err)
		}
		if err := atomicfile.WriteFile(p, tpl, 0o644); err != nil {
			return fmt.Errorf("writing the SAM build template: %w", err)
		}
		rep.SAMTemplate = p
		log.Info(fmt.Sprintf("Wrote %s: sam deploy (and sam package) now take the zips as built", p))
	case project.KindServerless:
		a := project.ServerlessArtifacts{Functions: fnZips, Layers: map[string]string{}}
		for name, p := range layerZips {
			if name == "pythonRequirements" {
				l, _ := cfg.Layer(name)
				a.RequirementsLayer, a.RequirementsRuntimes, a.RequirementsArchitecture = p, l.Runtimes, string(l.Archs[0])
				continue
			}
			a.Layers[name] = p
		}
		js, err := project.ServerlessPlugin(cfg, a)
		if err != nil {
			return err
		}
		p := filepath.Join(cfg.Dir, filepath.FromSlash(project.ServerlessPluginPath))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("writing the Serverless plugin: %w", err)
		}
		if err := atomicfile.WriteFile(p, js, 0o644); err != nil {
			return fmt.Errorf("writing the Serverless plugin: %w", err)
		}
		rep.ServerlessPlugin = p
		if !slices.Contains(cfg.Plugins, project.ServerlessPluginName) {
			msg := "to deploy these zips with the Serverless Framework, add one line under plugins: in " + filepath.Base(cfg.File) + ": - " + project.ServerlessPluginName
			rep.Notes = append(rep.Notes, BuildNote{Level: "note", Message: msg, File: cfg.File})
			log.Info("  note: " + msg)
		}
	}
	return nil
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
	output := func(name string) (string, error) {
		p := filepath.Join(out, name+".zip")
		if r, err := filepath.Rel(out, p); err != nil || r != filepath.Base(p) || strings.ContainsAny(name, `/\`) {
			return "", fmt.Errorf("%q cannot name a file in %s: give the function or layer a name of letters, digits, - and _", name, out)
		}
		return p, nil
	}
	abs := func(p string) string {
		if p == "" {
			return ""
		}
		return filepath.Join(cfg.Dir, filepath.FromSlash(p))
	}
	var jobs []job
	for _, l := range cfg.Layers {
		if !want(l.Name) || l.Package.Skipped() {
			continue
		}
		if l.Package.Kind != project.PackageNone && !onlyRequirements(cfg, l.Package) {
			return nil, fmt.Errorf("%s: layer %s: packaging a layer's own files (%s %s) needs the tree pipeline, which this build does not have yet", l.Pos, l.Name, l.Package.Kind, l.Package.Path)
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
			zip, err := output(name)
			if err != nil {
				return nil, err
			}
			jobs = append(jobs, job{name: name, opts: ArtifactOptions{
				Kind: KindLayer, Name: name, Targets: ts, Layout: layout,
				Deps:            Inputs{RequirementFiles: nonEmpty(abs(l.Deps.Requirements)), Lock: abs(l.Deps.Lock), Requirements: l.Deps.Inline},
				Output:          zip,
				ExcludePackages: l.Options.ExcludePackages, Slim: l.Options.Slim, StripPatterns: l.Options.StripPatterns, Compile: l.Options.Compile,
				NoVerify: o.NoVerify, Force: o.Force, Strict: o.Strict,
			}})
		}
	}
	for _, f := range cfg.Functions {
		if !want(f.Name) || f.Package.Skipped() {
			continue
		}
		if f.Package.Kind != project.PackageFolder || len(f.Extra) > 0 {
			return nil, fmt.Errorf("%s: function %s: packaging a %s (or files a plugin adds) needs the tree pipeline, which this build does not have yet", f.Pos, f.Name, f.Package.Kind)
		}
		t, err := target.New(f.Runtime, string(f.Arch))
		if err != nil {
			return nil, fmt.Errorf("%s: function %s: %w", f.Pos, f.Name, err)
		}
		zip, err := output(f.Name)
		if err != nil {
			return nil, err
		}
		src := abs(f.Package.Path)
		excluded, err := excludedFiles(src, f.Package.Files)
		if err != nil {
			return nil, fmt.Errorf("function %s: %w", f.Name, err)
		}
		jobs = append(jobs, job{name: f.Name, opts: ArtifactOptions{
			Kind: KindFunction, Name: f.Name, Handler: f.Handler, Targets: []target.Target{t},
			Deps:            Inputs{RequirementFiles: nonEmpty(abs(f.Deps.Requirements)), Lock: abs(f.Deps.Lock), Requirements: f.Deps.Inline},
			Src:             src,
			SkipPaths:       append([]string{out}, excluded...),
			Output:          zip,
			ExcludePackages: f.Options.ExcludePackages, Slim: f.Options.Slim, StripPatterns: f.Options.StripPatterns, Compile: f.Options.Compile,
			NoVerify: o.NoVerify, Force: o.Force, Strict: o.Strict,
		}})
	}
	return jobs, nil
}

// onlyRequirements reports whether a layer's own folder holds nothing but
// its requirements.txt, so that building its requirements is the whole
// layer.
func onlyRequirements(cfg *project.Config, p project.Package) bool {
	if p.Kind != project.PackageFolder || p.Prefix != "python/" {
		return false
	}
	src := filepath.Join(cfg.Dir, filepath.FromSlash(p.Path))
	only := true
	_ = filepath.WalkDir(src, func(q string, d fs.DirEntry, err error) error {
		if err != nil {
			only = false
			return err
		}
		rel, _ := filepath.Rel(src, q)
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return nil
		}
		if d.IsDir() {
			if p.Files.SkipDir(rel) {
				return filepath.SkipDir
			}
			return nil
		}
		if p.Files.Match(rel) && rel != "requirements.txt" {
			only = false
			return filepath.SkipAll
		}
		return nil
	})
	return only
}

// excludedFiles lists the files (absolute paths) of src that the project's
// file selection leaves out, so that collectSource skips them.
func excludedFiles(src string, m *project.Matcher) ([]string, error) {
	var out []string
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if rel == "." {
			return nil
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if m.SkipDir(rel) {
				out = append(out, p)
				return filepath.SkipDir
			}
			return nil
		}
		if !m.Match(rel) {
			out = append(out, p)
		}
		return nil
	})
	return out, err
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
			if lr := byName[l.Name+"-"+string(l.Arch)]; lr != nil {
				total += lr.UnzippedSize
				parts = append(parts, fmt.Sprintf("%s %s", l.Name, human.Bytes(lr.UnzippedSize)))
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
func WriteBuildSummary(w io.Writer, r *BuildReport) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ARTIFACT\tKIND\tTARGET\tZIPPED\tUNZIPPED\tSTATUS\tPATH")
	for _, a := range r.Artifacts {
		status := fmt.Sprintf("built %.1fs", a.Seconds)
		if a.Unchanged != nil && *a.Unchanged {
			status = "unchanged"
		}
		tgt := runtimeLabel(a.ArtifactReport) + "/" + a.Architecture
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.Name, a.Kind, tgt, human.Bytes(a.Size), human.Bytes(a.UnzippedSize), status, a.Path)
	}
	return tw.Flush()
}
