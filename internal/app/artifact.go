package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/lambdapack/lambdapack/internal/publish"
	"github.com/lambdapack/lambdapack/internal/record"
	"github.com/lambdapack/lambdapack/internal/target"
	"github.com/lambdapack/lambdapack/internal/tree"
	"github.com/lambdapack/lambdapack/internal/verify"
	"github.com/lambdapack/lambdapack/internal/zipsink"
)

// Kinds of artifacts (the record's).
const (
	KindLayer    = record.KindLayer
	KindFunction = record.KindFunction
)

// Lambda's limits that a build reports against.
const (
	DirectUploadLimit = 50 * 1024 * 1024 // bytes of zip for a direct upload
	UnzippedLimit     = 262_144_000      // bytes of function plus layers, unzipped
)

// ArtifactOptions describe one layer or function to plan (and, for a zip,
// where to write it).
type ArtifactOptions struct {
	Kind record.Kind // KindLayer or KindFunction
	Deps Inputs
	// Runtime and Arch name the target; Targets, when set, win. A layer
	// may have several (one per compatible runtime, one architecture).
	Runtime, Arch string
	Targets       []target.Target
	// Layout of a layer: python/ (LayoutPython) or
	// python/lib/python3.X/site-packages (LayoutSitePackages). "" chooses:
	// python/ when every runtime takes the same wheels, else one
	// site-packages folder per runtime.
	Layout record.Layout
	// Src is a function's code folder (or a layer's own folder); Excludes
	// are globs left out of it.
	Src      string
	Excludes []string
	// Select, when set, decides which files of Src are taken, in place of
	// DefaultExcludes and Excludes (lambdapack build passes the project's
	// file selection: package patterns, SAM's excludes).
	Select Selector
	// Prefix is the folder inside the artifact that Src's files go under
	// ("python/" for a layer's own modules; "" for a function).
	Prefix string
	// Files are more files of the artifact's own code, already placed: a
	// one-file function's file, what a plugin would add. A file of Src at
	// the same path is replaced.
	Files []tree.File
	// Prebuilt is a zip built elsewhere, taken as the artifact: its files
	// are the tree (verified like any other) and nothing is installed.
	Prebuilt string
	// SkipPaths are files or folders never taken from Src (the build's
	// output folder).
	SkipPaths []string
	// Output is the zip BuildArtifact writes (never taken from Src).
	Output string

	ExcludePackages []string
	Slim            bool
	StripPatterns   []string
	Compile         bool

	NoVerify bool // skip verification
	Force    bool // write even when verification finds errors
	Strict   bool // warnings fail verification too

	// Name labels the artifact in reports (lambdapack build sets it).
	Name string
	// Handler is a function's handler ("app.handler"), recorded in the
	// artifact when known.
	Handler string

	// image plans a function's files as a container image's task root:
	// recorded and verified as an image (image.go); deferCheck leaves the
	// wheel members' RECORD checks to the image sink (deferred.go).
	image, deferCheck bool
}

// PackageReport is one distribution in an artifact.
type PackageReport struct {
	Name     string `json:"name"`
	Version  string `json:"version"`
	Filename string `json:"filename"`
	Size     int64  `json:"size"` // unpacked bytes it installs
}

// ArtifactReport describes a built artifact (the --json report's items).
type ArtifactReport struct {
	Name          string          `json:"name,omitempty"`
	Kind          record.Kind     `json:"kind"`
	Path          string          `json:"path"`
	SHA256        string          `json:"sha256"`
	Size          int64           `json:"size"`
	UnzippedSize  int64           `json:"unzipped_size"`
	Runtime       string          `json:"runtime"`
	Runtimes      []string        `json:"runtimes,omitempty"`
	Architecture  string          `json:"architecture"`
	Architectures []string        `json:"architectures"`
	Python        string          `json:"python"`
	Pure          bool            `json:"pure"`
	Packages      []PackageReport `json:"packages"`
	Unchanged     *bool           `json:"unchanged,omitempty"`
	// RequirementsSHA256 identifies the resolved set (name==version and
	// file hashes), for publishing metadata.
	RequirementsSHA256 string           `json:"requirements_sha256"`
	Findings           []verify.Finding `json:"findings,omitempty"`
	Notes              []string         `json:"notes,omitempty"`
	Seconds            float64          `json:"seconds"`
}

// Report is what --json prints.
type Report struct {
	Artifacts []*ArtifactReport `json:"artifacts"`
	// Published lists the layer versions published with --publish.
	Published []*publish.LayerResult `json:"published,omitempty"`
}

// BuildArtifact builds one layer or function zip, step by step. Nothing is
// written at o.Output unless every step before the sink succeeded.
func BuildArtifact(ctx context.Context, env *Env, o ArtifactOptions) (*ArtifactReport, error) {
	start := time.Now()
	// Inputs: the options, and a destination that can take a zip.
	if err := o.check(); err != nil {
		return nil, err
	}
	sink, err := zipsink.New(o.Output, zipsink.WithProgress(env.progress))
	if err != nil {
		return nil, err
	}
	// Targets: runtime and architecture, each one's Python and glibc.
	targets, err := env.targets(o)
	if err != nil {
		return nil, err
	}
	// Pins: the wheels for each target, resolved (sdists built) or read
	// from the lock. Sizes: what the index already says cannot fit is
	// refused before anything is downloaded. Fetch: every wheel into the
	// cache, hashes checked. Plan: the tree of files the artifact holds.
	// Verify: the tree against every target, before anything is written;
	// wheels it refuses are replaced by the next choice (refuse.go).
	tr, findings, err := env.planVerified(ctx, o, targets, o.checkOptions())
	if err != nil {
		return nil, err
	}
	defer tr.Close()
	// Sink: the zip.
	w, err := sink.Write(ctx, tr)
	if err != nil {
		return nil, err
	}
	env.logf("%s", w.Summary)
	// Report.
	return NewArtifactReport(o, tr, w, findings, time.Since(start)), nil
}

// PlanTree runs the steps before the sink: targets, pins, fetch and plan.
// The tree is not verified (VerifyTree) and holds open wheels: close it
// when its sink is done. Images and local runs plan here and write the
// tree with their own sink.
func PlanTree(ctx context.Context, env *Env, o ArtifactOptions) (*tree.Tree, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	return env.plan(ctx, o)
}

// plan is PlanTree's steps on options already checked.
func (env *Env) plan(ctx context.Context, o ArtifactOptions) (*tree.Tree, error) {
	targets, err := env.targets(o)
	if err != nil {
		return nil, err
	}
	parts, err := env.pinParts(ctx, o, targets)
	if err != nil {
		return nil, err
	}
	wheels, err := env.fetchParts(ctx, parts)
	if err != nil {
		return nil, err
	}
	return env.planTree(ctx, o, parts, wheels)
}

// NewArtifactReport describes an artifact written by a sink: what the tree
// holds and is for, where it went, what verification found.
func NewArtifactReport(o ArtifactOptions, t *tree.Tree, w *tree.Written, findings []verify.Finding, took time.Duration) *ArtifactReport {
	rec := t.Record
	rep := &ArtifactReport{
		Name: o.Name, Kind: rec.Kind, Path: w.Path, SHA256: w.SHA256, Size: w.Size, UnzippedSize: w.UnzippedSize,
		Runtime: rec.Runtime, Runtimes: rec.Runtimes, Architecture: rec.Architecture, Architectures: rec.Architectures,
		Python: rec.Python, Pure: t.Pure, RequirementsSHA256: rec.RequirementsSHA256,
		Findings: findings, Notes: t.Notes, Packages: []PackageReport{}, Seconds: took.Seconds(),
	}
	seen := map[string]bool{}
	for _, p := range t.Parts {
		for _, d := range p.Dists {
			if k := d.Name + "==" + d.Version; !seen[k] {
				seen[k] = true
				rep.Packages = append(rep.Packages, PackageReport{Name: d.Name, Version: d.Version, Filename: d.Filename, Size: d.Size})
			}
		}
	}
	slices.SortStableFunc(rep.Packages, func(a, b PackageReport) int { return strings.Compare(a.Name, b.Name) })
	return rep
}

// check refuses options no step can work with.
func (o ArtifactOptions) check() error {
	switch o.Kind {
	case KindLayer:
		if o.Deps.Empty() && o.Src == "" && len(o.Files) == 0 && o.Prebuilt == "" {
			return errors.New("nothing to put in the layer: give requirements (arguments or -r FILE) or --lock")
		}
	case KindFunction:
		if o.Src == "" && len(o.Files) == 0 && o.Prebuilt == "" {
			return errors.New("a function zip needs its code: pass --src DIR (the folder with your handler)")
		}
	default:
		return fmt.Errorf("cannot build a %q artifact: use layer or function", o.Kind)
	}
	if o.Src != "" {
		if st, err := os.Stat(o.Src); err != nil || !st.IsDir() {
			return fmt.Errorf("--src %s: not a folder: pass the folder with your handler's code", o.Src)
		}
	}
	if o.Prebuilt != "" && (!o.Deps.Empty() || o.Src != "" || len(o.Files) > 0) {
		return fmt.Errorf("%s is taken as the artifact as it is: nothing can be added to it", o.Prebuilt)
	}
	if o.Layout != "" {
		if _, err := record.ParseLayout(string(o.Layout)); err != nil {
			return fmt.Errorf("--layout: %w", err)
		}
	}
	return nil
}

// checkOptions are the verification settings of o.
func (o ArtifactOptions) checkOptions() CheckOptions {
	return CheckOptions{Name: o.Output, Strict: o.Strict, Force: o.Force}
}

// targets returns the targets to build for and warns about deprecated
// runtimes.
func (env *Env) targets(o ArtifactOptions) ([]target.Target, error) {
	ts, err := o.targets()
	if err != nil {
		return nil, err
	}
	for _, t := range ts {
		if note := deprecationNote(t); note != "" {
			env.log.Warn(note)
		}
	}
	return ts, nil
}

func (o ArtifactOptions) targets() ([]target.Target, error) {
	if len(o.Targets) > 0 {
		if len(o.Targets) > 1 && o.Kind == KindFunction {
			return nil, errors.New("a function runs on one runtime: give one target")
		}
		return o.Targets, nil
	}
	if o.Runtime == "" {
		return nil, errors.New("no runtime: pass --runtime, e.g. --runtime python3.12 (lambdapack targets lists them)")
	}
	t, err := target.New(o.Runtime, o.Arch)
	if err != nil {
		return nil, err
	}
	return []target.Target{t}, nil
}

// deprecationNote warns about a runtime past its deprecation date.
func deprecationNote(t target.Target) string {
	if t.Runtime == "" {
		return ""
	}
	rt, err := target.LookupRuntime(t.Runtime)
	if err != nil || rt.Deprecated == "" {
		return ""
	}
	d, err := time.Parse("2006-01-02", rt.Deprecated)
	if err != nil || time.Now().Before(d) {
		return ""
	}
	return fmt.Sprintf("%s was deprecated on %s: AWS no longer patches it and will block creating and updating functions on it; move to a newer runtime", t.Runtime, rt.Deprecated)
}

func runtimeNames(ts []target.Target) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Runtime
		if out[i] == "" {
			out[i] = t.String()
		}
	}
	return out
}

func runtimeList(ts []target.Target) string { return strings.Join(runtimeNames(ts), ", ") }
