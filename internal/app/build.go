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
	"regexp"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/lambdapack/lambdapack/internal/atomicfile"
	"github.com/lambdapack/lambdapack/internal/human"
	"github.com/lambdapack/lambdapack/internal/index"
	"github.com/lambdapack/lambdapack/internal/progress"
	"github.com/lambdapack/lambdapack/internal/project"
	"github.com/lambdapack/lambdapack/internal/publish"
	"github.com/lambdapack/lambdapack/internal/record"
	"github.com/lambdapack/lambdapack/internal/target"
	"github.com/lambdapack/lambdapack/internal/tree"
	"github.com/lambdapack/lambdapack/internal/zipsink"
)

// BuildOptions configure `lambdapack build`.
type BuildOptions struct {
	Dir    string   // the project folder ("" = working directory)
	Config string   // an explicit config file
	Only   []string // build only these functions and layers
	Out    string   // output folder; "" = <Dir>/dist
	Stage  string   // serverless --stage
	// Params are SAM template parameter values (--parameter-overrides).
	Params map[string]string
	// SamconfigCommand is the samconfig section whose parameter_overrides
	// are read (project.LoadOptions); "" means build's.
	SamconfigCommand string

	NoVerify, Force, Strict bool
	// Rebuild ignores the record of previous builds.
	Rebuild bool
	// Jobs bounds the artifacts built at once (default 4).
	Jobs int
	// Publish is build --publish: image functions are pushed to ImageRepo
	// (a registry repository) as they are built; the CLI publishes the
	// layers afterwards.
	Publish   bool
	ImageRepo string

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
	Image  *ImageInfo      `json:"image,omitempty"` // an image function's (build_image.go)
}

// job is one artifact of a project.
type job struct {
	name   string // function or layer name (+ "-<arch>" for layers)
	opts   ArtifactOptions
	inputs string // hash of everything the artifact depends on
	// config is its name in the config (a layer's without the
	// architecture); pos is where the config defines it.
	config string
	pos    project.Pos
	// layers are the jobs of the layers a function uses, in order;
	// external names the layers lambdapack cannot see.
	layers   []int
	external []string
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
	// FunctionsUpdated are the functions --publish updated (publish_build.go).
	FunctionsUpdated []*PublishedFunction `json:"functions_updated,omitempty"`
	Error            *BuildError          `json:"error,omitempty"`
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
	// Image is an image function's image: its digest, where it was
	// written or pushed, its layers (build_image.go).
	Image *ImageInfo `json:"image,omitempty"`
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

// NewBuildError describes err for the report: where in the config the
// mistake is, or which function or layer failed.
func NewBuildError(err error) *BuildError {
	e := &BuildError{Message: err.Error()}
	var je *jobError
	if pos, ok := project.Location(err); ok {
		e.File, e.Line = pos.File, pos.Line
	} else if errors.As(err, &je) {
		e.File, e.Line = je.pos.File, je.pos.Line
	}
	return e
}

// jobError is a function or layer that failed, with where the config
// defines it.
type jobError struct {
	pos project.Pos
	err error
}

func (e *jobError) Error() string { return e.err.Error() }
func (e *jobError) Unwrap() error { return e.err }

// Build builds every function and layer of a project (or those in Only),
// in parallel on one shared cache, reusing artifacts whose inputs did not
// change. The report is never nil: on failure its Error is set too.
func Build(ctx context.Context, o BuildOptions) (*BuildReport, *project.Config, error) {
	rep := &BuildReport{Artifacts: []*BuiltArtifact{}, Skipped: []SkippedReport{}, Notes: []BuildNote{}}
	var cfg *project.Config
	var created []string // output folders this run made, deepest first
	fail := func(err error) (*BuildReport, *project.Config, error) {
		rep.Error = NewBuildError(err)
		removeEmptyDirs(created)
		return rep, cfg, err
	}
	dir := o.Dir
	if dir == "" {
		dir = "."
	}
	cfg, err := project.Load(dir, project.LoadOptions{Config: o.Config, Stage: o.Stage, Params: o.Params, SamconfigCommand: o.SamconfigCommand})
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
		if !want(f.Name) {
			continue
		}
		reason := f.Package.Reason
		if !f.Package.Skipped() {
			continue
		}
		rep.Skipped = append(rep.Skipped, SkippedReport{Name: f.Name, Kind: KindFunction, Reason: reason, File: f.Pos.File, Line: f.Pos.Line})
		log.Info(fmt.Sprintf("  skipped function %s: %s", f.Name, reason))
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
	images := imageFunctions(cfg, want)
	if o.Publish && o.ImageRepo == "" && len(images) > 0 {
		return fail(fmt.Errorf("%s: function %s is an image: --publish pushes it to a repository: add --image-repo REGISTRY/REPOSITORY (an ECR repository logs in through the AWS SDK)", images[0].Pos, images[0].Name))
	}
	if len(jobs) == 0 && len(images) == 0 {
		return rep, cfg, nil
	}
	// The folders this run creates go again if it fails (or is
	// interrupted) before writing anything in them.
	for d := out; ; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); !errors.Is(err, fs.ErrNotExist) || d == filepath.Dir(d) {
			break
		}
		created = append(created, d)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fail(fmt.Errorf("creating the output folder: %w", err))
	}
	state := readState(filepath.Join(out, stateFile))
	cfg.Build = projectBuild(cfg.Build, o.Env.Build) // sdist.go: the config's build keys and the flags

	// Hash inputs and find what is unchanged, before opening anything.
	// Layers come first in jobs: a function's inputs take its layers'.
	reports := make([]*ArtifactReport, len(jobs))
	var todo []int
	for i := range jobs {
		h, err := jobInputs(cfg, o.Env.Index, jobs, i)
		if err != nil {
			return fail(err)
		}
		jobs[i].inputs = h
		if prev, ok := state.Artifacts[jobs[i].name]; ok && !o.Rebuild && prev.Inputs == h && prev.Report != nil && fileHasSHA(jobs[i].opts.Output, prev.Report.SHA256) {
			r := *prev.Report
			t := true
			r.Unchanged = &t
			r.Seconds = 0
			r.Path = jobs[i].opts.Output // where it is now: the project may have moved since
			reports[i] = &r
			continue
		}
		todo = append(todo, i)
	}

	imageJobs := planImages(cfg, images, o, out, state) // build_image.go
	var errs []error
	var env *Env
	if len(todo) > 0 || imagesToBuild(imageJobs) {
		eo := o.Env
		eo.Logger = log
		eo.Project = index.Settings{IndexURL: cfg.Index.URL, ExtraIndexURLs: cfg.Index.Extra, FindLinks: cfg.Index.FindLinks, NoIndex: cfg.Index.NoIndex}
		eo.ProjectSource = filepath.Base(cfg.File)
		eo.Build = buildOptions(cfg.Build, o.Env.Build)
		if env, err = OpenEnv(eo); err != nil {
			return fail(err)
		}
		defer env.Close()
	}
	if len(todo) > 0 {
		jobsN := o.Jobs
		if jobsN <= 0 {
			jobsN = 4
		}
		// Layers first, then the functions, each verified with the layers
		// it uses before its zip is written.
		for _, kind := range []record.Kind{KindLayer, KindFunction} {
			g, gctx := errgroup.WithContext(ctx)
			g.SetLimit(jobsN)
			var mu sync.Mutex
			for _, i := range todo {
				j := &jobs[i]
				if j.opts.Kind != kind {
					continue
				}
				g.Go(func() error {
					var r *ArtifactReport
					layers, err := usedLayers(jobs, reports, j)
					if err == nil {
						r, err = buildJob(gctx, env, j, layers)
					}
					mu.Lock()
					defer mu.Unlock()
					if err != nil {
						errs = append(errs, &jobError{pos: j.pos, err: fmt.Errorf("%s: %s %s: %w", j.pos, j.opts.Kind, j.config, err)})
						return nil
					}
					f := false
					r.Unchanged = &f
					reports[i] = r
					state.Artifacts[j.name] = stateEntry{Inputs: j.inputs, Report: r}
					return nil
				})
			}
			_ = g.Wait()
			if ctx.Err() != nil {
				return fail(ctx.Err())
			}
		}
	}
	// Image functions, after the zips (build_image.go).
	var builtImages []*BuiltArtifact
	if len(images) > 0 {
		builtImages, err = buildImages(ctx, env, imageJobs, o, state)
		if ctx.Err() != nil {
			return fail(ctx.Err())
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	// A run that built nothing in a folder it created records nothing, so
	// that the folder goes again.
	if len(state.Artifacts) > 0 || len(created) == 0 {
		if err := writeState(filepath.Join(out, stateFile), state); err != nil {
			return fail(err)
		}
	}
	noteIndex := map[string]int{}
	for i, j := range jobs {
		r := reports[i]
		if r == nil {
			continue
		}
		b := &BuiltArtifact{ArtifactReport: r, SHA256Base64: sha256Base64(r.SHA256)}
		if j.opts.Kind == KindFunction {
			b.Handler = j.opts.Handler
			for _, li := range j.layers {
				if reports[li] != nil {
					b.Layers = append(b.Layers, reports[li].Name)
				}
			}
		}
		// An artifact's notes go to the project's list, once each.
		for _, n := range r.Notes {
			if quietNote(n, j.opts) {
				continue
			}
			if k, ok := noteIndex[n]; ok {
				// A layer serving several runtimes says a note once per part.
				if !slices.Contains(rep.Notes[k].Artifacts, j.name) {
					rep.Notes[k].Artifacts = append(rep.Notes[k].Artifacts, j.name)
				}
				continue
			}
			noteIndex[n] = len(rep.Notes)
			rep.Notes = append(rep.Notes, BuildNote{Level: "note", Message: n, Artifacts: []string{j.name}})
		}
		rep.Artifacts = append(rep.Artifacts, b)
	}
	rep.Artifacts = append(rep.Artifacts, builtImages...)
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

// removeEmptyDirs removes each folder of dirs (deepest first) while it is
// empty.
func removeEmptyDirs(dirs []string) {
	for _, d := range dirs {
		if os.Remove(d) != nil {
			return
		}
	}
}

// usedLayers lists the built layers a function's job uses, for its
// verification; a layer that failed fails the function too.
func usedLayers(jobs []job, reports []*ArtifactReport, j *job) ([]UsedLayer, error) {
	var out []UsedLayer
	for _, li := range j.layers {
		r := reports[li]
		if r == nil {
			return nil, fmt.Errorf("not built: its layer %s failed", jobs[li].config)
		}
		out = append(out, UsedLayer{Name: jobs[li].config, Path: r.Path, Targets: jobs[li].opts.Targets})
	}
	return out, nil
}

// buildJob builds one artifact of the project through the pipeline: plan
// the tree, verify it (a function with the layers it uses: its handler,
// the layers' files for its target), and only then write the zip.
func buildJob(ctx context.Context, env *Env, j *job, layers []UsedLayer) (*ArtifactReport, error) {
	start := time.Now()
	sink, err := zipsink.New(j.opts.Output, zipsink.WithProgress(env.progress))
	if err != nil {
		return nil, err
	}
	if err := j.opts.check(); err != nil {
		return nil, err
	}
	targets, err := env.targets(j.opts)
	if err != nil {
		return nil, err
	}
	co := j.opts.checkOptions()
	co.Layers, co.ExternalLayers = layers, j.external
	// Verified with its layers; a resolved wheel that fails is replaced
	// by the next choice (refuse.go).
	tr, findings, err := env.planVerified(ctx, j.opts, targets, co)
	if err != nil {
		return nil, err
	}
	defer tr.Close()
	w, _, err := WriteTree(ctx, env, tr, sink, CheckOptions{Name: co.Name, NoVerify: true})
	if err != nil {
		return nil, err
	}
	return NewArtifactReport(j.opts, tr, w, findings, time.Since(start)), nil
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
		images := samImages(rep) // build_image.go
		tpl, err := project.SAMBuildTemplate(cfg, data, all, images...)
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

// planJobs turns the config into artifacts: one zip per layer and
// architecture, then one per function (the layers come first: a function
// is verified with them). A layer a wanted function uses is planned too,
// so that --only FUNCTION verifies the function with its layers (reused
// when unchanged).
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
	buildsFn := func(f *project.Function) bool { return want(f.Name) && !f.Package.Skipped() && f.Image == nil }
	used := map[string]bool{}
	for i := range cfg.Functions {
		if f := &cfg.Functions[i]; buildsFn(f) {
			for _, u := range f.Layers {
				used[u.Name] = true
			}
		}
	}
	output := func(name string) (string, error) {
		p := filepath.Join(out, name+".zip")
		if r, err := filepath.Rel(out, p); err != nil || r != filepath.Base(p) || strings.ContainsAny(name, `/\`) {
			return "", fmt.Errorf("%q cannot name a file in %s: give the function or layer a name of letters, digits, - and _", name, out)
		}
		return p, nil
	}
	var jobs []job
	layerJob := map[string]int{} // layer name-arch -> job
	for _, l := range cfg.Layers {
		if !(want(l.Name) || used[l.Name]) || l.Package.Skipped() {
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
			zip, err := output(name)
			if err != nil {
				return nil, err
			}
			opts := ArtifactOptions{
				Kind: KindLayer, Name: name, Targets: ts, Layout: layout,
				Deps:            depsInputs(cfg, l.Deps),
				Output:          zip,
				ExcludePackages: l.Options.ExcludePackages, Slim: l.Options.Slim, StripPatterns: l.Options.StripPatterns, Compile: l.Options.Compile,
				NoVerify: o.NoVerify, Force: o.Force, Strict: o.Strict,
			}
			if err := packageOptions(cfg, l.Package, out, &opts); err != nil {
				return nil, fmt.Errorf("%s: layer %s: %w", l.Pos, l.Name, err)
			}
			layerJob[name] = len(jobs)
			jobs = append(jobs, job{name: name, config: l.Name, opts: opts, pos: l.Pos})
		}
	}
	for i := range cfg.Functions {
		f := &cfg.Functions[i]
		if !buildsFn(f) {
			continue
		}
		t, err := target.New(f.Runtime, string(f.Arch))
		if err != nil {
			return nil, fmt.Errorf("%s: function %s: %w", f.Pos, f.Name, err)
		}
		zip, err := output(f.Name)
		if err != nil {
			return nil, err
		}
		opts := ArtifactOptions{
			Kind: KindFunction, Name: f.Name, Handler: f.Handler, Targets: []target.Target{t},
			Deps:            depsInputs(cfg, f.Deps),
			Output:          zip,
			ExcludePackages: f.Options.ExcludePackages, Slim: f.Options.Slim, StripPatterns: f.Options.StripPatterns, Compile: f.Options.Compile,
			NoVerify: o.NoVerify, Force: o.Force, Strict: o.Strict,
		}
		if err := packageOptions(cfg, f.Package, out, &opts); err != nil {
			return nil, fmt.Errorf("%s: function %s: %w", f.Pos, f.Name, err)
		}
		for _, x := range f.Extra {
			opts.Files = append(opts.Files, tree.File{Path: x.Path, Mode: fs.FileMode(x.Mode), Size: int64(len(x.Data)), Origin: tree.FromBytes, Data: x.Data})
		}
		j := job{name: f.Name, config: f.Name, opts: opts, pos: f.Pos, external: f.ExternalLayers}
		for _, u := range f.Layers {
			if li, ok := layerJob[u.Name+"-"+string(u.Arch)]; ok {
				j.layers = append(j.layers, li)
			}
		}
		jobs = append(jobs, j)
	}
	return jobs, nil
}

// packageOptions sets what the artifact's own files are: a folder with the
// project's file selection (under a layer's python/ when its modules go
// there), one file, or a prebuilt zip taken as it is. The output folder is
// never taken from a folder.
func packageOptions(cfg *project.Config, p project.Package, out string, o *ArtifactOptions) error {
	abs := filepath.Join(cfg.Dir, filepath.FromSlash(p.Path))
	switch p.Kind {
	case project.PackageNone:
	case project.PackageFolder:
		o.Src, o.Prefix, o.SkipPaths = abs, p.Prefix, []string{out}
		if p.Files != nil {
			o.Select = p.Files
		}
	case project.PackageFile:
		st, err := os.Stat(abs)
		if err != nil {
			return err
		}
		if !st.Mode().IsRegular() {
			return fmt.Errorf("%s is not a regular file", abs)
		}
		o.Files = []tree.File{{Path: p.Prefix + filepath.Base(abs), Mode: st.Mode().Perm(), Size: st.Size(), Origin: tree.FromDisk, Disk: abs}}
	case project.PackageZip:
		o.Prebuilt = abs
	default:
		return fmt.Errorf("cannot package a %s", p.Kind)
	}
	return nil
}

// depsInputs is where the pipeline reads a function's or layer's
// dependencies from.
func depsInputs(cfg *project.Config, d project.Deps) Inputs {
	abs := func(p string) string {
		if p == "" {
			return ""
		}
		return filepath.Join(cfg.Dir, filepath.FromSlash(p))
	}
	return Inputs{RequirementFiles: nonEmpty(abs(d.Requirements)), Lock: abs(d.Lock), Requirements: d.Inline, Prerelease: cfg.Prerelease}
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// jobInputs hashes everything jobs[i] is made from: lambdapack's version,
// the kind, targets and options, the index settings (never their
// credentials), the requirements as read (includes followed), the lock's
// bytes, the artifact's own files, and for a function its handler and the
// inputs of the layers it is verified with.
func jobInputs(cfg *project.Config, flags index.Settings, jobs []job, i int) (string, error) {
	j := &jobs[i]
	h := sha256.New()
	o := j.opts
	fmt.Fprintf(h, "lambdapack %s\nkind %s\nlayout %s\nhandler %q\n", CurrentVersion(), o.Kind, o.Layout, o.Handler)
	for _, t := range o.Targets {
		fmt.Fprintf(h, "target %s %s %d.%d glibc %d.%d\n", t.Runtime, t.Arch, t.PythonMajor, t.PythonMinor, t.GlibcMajor, t.GlibcMinor)
	}
	fmt.Fprintf(h, "exclude-packages %q slim %v strip %q compile %v excludes %q verify %v force %v strict %v\n",
		o.ExcludePackages, o.Slim, o.StripPatterns, o.Compile, o.Excludes, !o.NoVerify, o.Force, o.Strict)
	fmt.Fprintf(h, "build %v %q %q %s\n", cfg.Build.NoBuild, cfg.Build.NoBinary, cfg.Build.OnlyBinary, cfg.Build.Timeout)
	for _, s := range []index.Settings{{IndexURL: cfg.Index.URL, ExtraIndexURLs: cfg.Index.Extra, FindLinks: cfg.Index.FindLinks, NoIndex: cfg.Index.NoIndex}, flags} {
		fmt.Fprintf(h, "index %q %q %q %v\n", withoutCredentials(s.IndexURL), mapStrings(s.ExtraIndexURLs, withoutCredentials), mapStrings(s.FindLinks, withoutCredentials), s.NoIndex)
	}
	for _, v := range []string{"PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "UV_INDEX_URL", "UV_DEFAULT_INDEX", "UV_INDEX", "UV_EXTRA_INDEX_URL", "UV_FIND_LINKS", "SOURCE_DATE_EPOCH"} {
		fmt.Fprintf(h, "env %s=%q\n", v, withoutCredentials(os.Getenv(v)))
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
		fmt.Fprintf(h, "opts %s\n", withoutCredentials(fmt.Sprintf("%+v", set.Options)))
	}
	if err := hashCode(h, o); err != nil {
		return "", fmt.Errorf("%s: %w", j.name, err)
	}
	fmt.Fprintf(h, "external layers %q\n", j.external)
	for _, li := range j.layers {
		fmt.Fprintf(h, "layer %s %s\n", jobs[li].name, jobs[li].inputs)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// hashCode hashes the artifact's own files as the plan will take them
// (paths, modes, bytes), or a prebuilt zip's bytes.
func hashCode(h io.Writer, o ArtifactOptions) error {
	if o.Prebuilt != "" {
		sum, err := fileSHA256(o.Prebuilt)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "prebuilt %s\n", sum)
		return nil
	}
	var closers []io.Closer
	files, _, err := o.codeFiles(func(c io.Closer) { closers = append(closers, c) })
	for _, c := range closers {
		c.Close()
	}
	if err != nil {
		return err
	}
	for _, f := range files {
		var sum string
		switch f.Origin {
		case tree.FromDisk:
			if sum, err = fileSHA256(f.Disk); err != nil {
				return err
			}
		default:
			sum = fmt.Sprintf("%x", sha256.Sum256(f.Data))
		}
		fmt.Fprintf(h, "src %s %o %s\n", f.Path, f.Mode, sum)
	}
	return nil
}

// credentials matches the userinfo of a URL anywhere in a string (a list
// of URLs, uv's name=url).
var credentials = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://)[^/\s@]*@`)

// withoutCredentials removes the user and password of every URL in s: the
// build state never stores them, not even hashed.
func withoutCredentials(s string) string { return credentials.ReplaceAllString(s, "$1") }

func mapStrings(ss []string, f func(string) string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = f(s)
	}
	return out
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
