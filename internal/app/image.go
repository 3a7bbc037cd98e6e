package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sync/errgroup"

	"github.com/lambdapack/lambdapack/internal/human"
	"github.com/lambdapack/lambdapack/internal/image"
	"github.com/lambdapack/lambdapack/internal/image/base"
	"github.com/lambdapack/lambdapack/internal/image/layout"
	"github.com/lambdapack/lambdapack/internal/image/remote"
	"github.com/lambdapack/lambdapack/internal/image/tarball"
	"github.com/lambdapack/lambdapack/internal/names"
	"github.com/lambdapack/lambdapack/internal/record"
	"github.com/lambdapack/lambdapack/internal/target"
	"github.com/lambdapack/lambdapack/internal/tree"
	"github.com/lambdapack/lambdapack/internal/verify"
)

// KindImage is a container image.
const KindImage = "image"

// ImageOptions describe one function image, built for one or more
// architectures.
type ImageOptions struct {
	Deps Inputs
	// Runtime is the Lambda runtime (python3.12); with a base other than
	// lambda it may be left out (the base's Python decides) and must match.
	Runtime string
	// Archs are the architectures, one image each; none means x86_64.
	Archs []string
	// Base is "lambda" (default), a registry reference, oci-layout:DIR or
	// tarball:FILE.
	Base string
	// Src is the function's code, Handler its handler (the CMD).
	Src, Handler string
	Excludes     []string
	SkipPaths    []string
	Env          []string

	ExcludePackages []string
	Slim            bool
	StripPatterns   []string
	Compile         bool

	NoVerify, Force, Strict bool

	// Where the images go: a registry repository (REPO[:TAG]), an OCI
	// layout folder, a docker-load tarball. Tag names them in the layout
	// and tarball (default: --push's, else "function:latest").
	Push, OCILayout, Tarball, Tag string
	// Index also writes an image index over the architectures' images
	// (never what a Lambda function points at).
	Index bool

	// Cmd, Entrypoint and WorkingDir, when set, override the image's CMD,
	// ENTRYPOINT and WORKDIR last (SAM's ImageConfig, a Serverless image's
	// command, entryPoint and workingDirectory).
	Cmd, Entrypoint []string
	WorkingDir      string

	// Name labels the image in reports (lambdapack build sets it).
	Name string
	// Remote reaches registries (tests set its transport and keychain).
	Remote remote.Options

	// tree, when set, plans each architecture's tree instead of the
	// requirements and Src (the Dockerfile subset).
	tree func(ctx context.Context, env *Env, b *image.Base, t target.Target) (*tree.Tree, error)
	// build overrides image.BuildOptions (the Dockerfile subset).
	build func(*image.BuildOptions)
	// code, when set, says what the function's own files are in place of
	// Src (lambdapack build: the project's file selection).
	code func(*ArtifactOptions) error
}

// ImageReport is what an image build made (the --json report's item).
type ImageReport struct {
	Name   string       `json:"name,omitempty"`
	Kind   string       `json:"kind"`
	Base   string       `json:"base"`
	Images []*ImageInfo `json:"images"`
	// Index is the image index over Images, when asked for.
	Index *ImageIndexInfo `json:"index,omitempty"`
	// Pushed, OCILayout and Tarball say where the images went.
	OCILayout string  `json:"oci_layout,omitempty"`
	Tarball   string  `json:"tarball,omitempty"`
	Seconds   float64 `json:"seconds"`
}

// ImageInfo is one architecture's image.
type ImageInfo struct {
	Architecture string `json:"architecture"`
	// Digest is the image manifest's digest; Ref where it was pushed
	// (REPO@DIGEST), the reference Lambda's ImageUri takes.
	Digest     string `json:"digest"`
	Ref        string `json:"ref,omitempty"`
	Tag        string `json:"tag,omitempty"`
	BaseDigest string `json:"base_digest"`
	Runtime    string `json:"runtime,omitempty"`
	Target     string `json:"target"`
	Python     string `json:"python"`
	Glibc      string `json:"glibc"`
	Handler    string `json:"handler"`
	// Size is the compressed size of all layers; UncompressedSize the
	// unpacked filesystem's.
	Size             int64            `json:"size"`
	UncompressedSize int64            `json:"uncompressed_size"`
	DepsLayer        string           `json:"deps_layer,omitempty"`
	DepsReused       bool             `json:"deps_layer_reused"`
	CodeLayer        string           `json:"code_layer,omitempty"`
	Packages         []PackageReport  `json:"packages"`
	Findings         []verify.Finding `json:"findings,omitempty"`
	Notes            []string         `json:"notes,omitempty"`

	result *image.Result
}

// ImageIndexInfo is an image index written beside the images.
type ImageIndexInfo struct {
	Digest string `json:"digest"`
	Ref    string `json:"ref,omitempty"`
}

// BuildImage builds one function image per architecture on the base, from
// the same inputs as a function zip, verifies each (the files for the base's
// Python, glibc and architecture; Lambda's image rules), and writes them
// where the options say. Nothing is pushed or written unless every image
// verified.
func BuildImage(ctx context.Context, env *Env, o ImageOptions) (*ImageReport, error) {
	start := time.Now()
	archs, err := imageArchs(o.Archs)
	if err != nil {
		return nil, err
	}
	if o.Handler == "" && o.tree == nil {
		return nil, errors.New("an image needs its handler: pass --handler module.function (the CMD Lambda runs)")
	}
	if o.tree == nil && o.code == nil {
		if o.Src == "" {
			return nil, errors.New("an image needs the function's code: pass --src DIR (the folder with your handler)")
		}
		if st, err := os.Stat(o.Src); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("--src %s: not a folder: pass the folder with your handler's code", o.Src)
		}
	}
	imagesDir, err := env.Cache.Dir("images")
	if err != nil {
		return nil, err
	}
	bo, err := env.baseOptions(imagesDir, o.Remote)
	if err != nil {
		return nil, err
	}
	rep := &ImageReport{Name: o.Name, Kind: KindImage, Base: o.Base}
	if rep.Base == "" {
		rep.Base = base.Lambda
	}
	// Every architecture's base is fetched before any image is built (a
	// base that cannot serve one fails the build), while, with --runtime,
	// the first architecture's tree is planned for the runtime's target,
	// the one a Lambda base serves: resolving and downloading the wheels
	// need not wait for the base's pull, nor need the dependency layer:
	// it is written into the layer cache as soon as that tree is
	// planned and verified (on a cold build, while the base is still
	// being inspected; Build then takes it from lc). A base that turns
	// out to need another target (not a Lambda base, or one with an
	// older glibc) has its tree planned again (the wheels already
	// downloaded are reused) and its own layer written.
	lc := &image.LayerCache{Dir: imagesDir}
	bases := make([]*image.Base, len(archs))
	var guess struct {
		t target.Target
		planned
		err  error
		done bool
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		for i, arch := range archs {
			b, err := fetchBase(gctx, env, o, bo, arch)
			if err != nil {
				return err
			}
			bases[i] = b
		}
		return nil
	})
	if o.Runtime != "" && o.tree == nil {
		if t, err := target.New(o.Runtime, string(archs[0])); err == nil {
			guess.t = t
			g.Go(func() error {
				guess.tree, guess.findings, guess.err = env.imageTree(gctx, o, t, nil)
				guess.done = true
				if guess.err == nil {
					// An error here (a member that differs from its
					// RECORD, a cancelled build) is met again, and
					// reported, when the image is built.
					_ = image.PrepareDeps(gctx, guess.tree, o.buildOptions(lc))
				}
				return nil
			})
		}
	}
	defer func() {
		if guess.tree != nil {
			guess.tree.Close()
		}
	}()
	if err := g.Wait(); err != nil {
		return nil, err
	}
	for i, b := range bases {
		var pl *planned
		if i == 0 && guess.done {
			t, err := b.Info.Target(o.Runtime)
			switch {
			case err == nil && b.Info.Lambda && t == guess.t:
				if guess.err != nil {
					return nil, guess.err
				}
				pl = &planned{tree: guess.tree, findings: guess.findings}
				guess.tree = nil
			case err == nil:
				env.logf("Base %s takes the wheels of %s, not of the runtime's %s: resolving again", b.Ref, t, guess.t)
			}
		}
		info, err := buildOneImage(ctx, env, o, b, lc, pl)
		if err != nil {
			return nil, err
		}
		rep.Images = append(rep.Images, info)
	}
	if err := shipImages(ctx, env, o, rep); err != nil {
		return nil, err
	}
	rep.Seconds = time.Since(start).Seconds()
	return rep, nil
}

// baseOptions are how bases are fetched: into the image cache, offline
// when the run is, through the mirrors LAMBDAPACK_REGISTRY_MIRROR names.
func (env *Env) baseOptions(imagesDir string, ro remote.Options) (base.Options, error) {
	mirrors, err := base.ParseMirrors(os.Getenv(base.MirrorEnv))
	if err != nil {
		return base.Options{}, err
	}
	return base.Options{CacheDir: imagesDir, Offline: env.offline, Remote: ro, Log: env.log, Mirrors: mirrors}, nil
}

func imageArchs(in []string) ([]target.Arch, error) {
	if len(in) == 0 {
		return []target.Arch{target.X86_64}, nil
	}
	var out []target.Arch
	for _, s := range in {
		for _, part := range strings.Split(s, ",") {
			a, err := target.ParseArch(strings.TrimSpace(part))
			if err != nil {
				return nil, err
			}
			if !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	return out, nil
}

// fetchBase fetches and inspects the base for arch, and checks it serves
// o.Runtime.
func fetchBase(ctx context.Context, env *Env, o ImageOptions, bo base.Options, arch target.Arch) (*image.Base, error) {
	b, err := base.Fetch(ctx, o.Base, arch, o.Runtime, bo)
	if err != nil {
		return nil, err
	}
	t, err := b.Info.Target(o.Runtime)
	if err != nil {
		return nil, fmt.Errorf("base %s: %w", b.Ref, err)
	}
	kind := "a Lambda base"
	switch {
	case b.Info.Lambda:
	case o.tree != nil:
		kind = "not a Lambda base: the Dockerfile's ENTRYPOINT starts the runtime client"
	default:
		kind = "not a Lambda base: awslambdaric is added and runs the handler"
	}
	env.logf("Base %s (%s): %s, Python %s, glibc %s, %s; building for %s", b.Ref, arch, b.Info.Interpreter, b.Info.Python, b.Info.Glibc, kind, t)
	return b, nil
}

// planned is a tree planned and verified for an image.
type planned struct {
	tree     *tree.Tree
	findings []verify.Finding
}

// buildOneImage plans and verifies (unless pl is that done already) and
// builds the image on base b. It closes the tree.
func buildOneImage(ctx context.Context, env *Env, o ImageOptions, b *image.Base, lc *image.LayerCache, pl *planned) (*ImageInfo, error) {
	arch := b.Info.Architecture
	t, err := b.Info.Target(o.Runtime)
	if err != nil {
		return nil, fmt.Errorf("base %s: %w", b.Ref, err)
	}
	// Plan and verify: the same tree a function zip of these inputs would
	// hold, checked for the base's target (a Dockerfile build checks each
	// of its installs as it plans them).
	if pl == nil {
		pl = &planned{}
		if o.tree != nil {
			pl.tree, err = o.tree(ctx, env, b, t)
		} else {
			pl.tree, pl.findings, err = env.imageTree(ctx, o, t, b)
		}
		if err != nil {
			return nil, err
		}
	}
	tr := pl.tree
	defer tr.Close()
	tr.Record.Kind = record.KindImage

	info := &ImageInfo{Architecture: string(arch), BaseDigest: b.Digest.String(), Runtime: t.Runtime, Target: t.String(),
		Python: b.Info.Python, Glibc: b.Info.Glibc, Handler: o.Handler, Notes: tr.Notes, Packages: []PackageReport{}}
	for _, p := range tr.Parts {
		for _, d := range p.Dists {
			info.Packages = append(info.Packages, PackageReport{Name: d.Name, Version: d.Version, Filename: d.Filename, Size: d.Size})
		}
	}
	slices.SortFunc(info.Packages, func(a, b PackageReport) int { return strings.Compare(a.Name, b.Name) })

	// Sink: the tree was verified for the base's target.
	label := imageLabel(arch)
	sink := &image.Sink{Base: b, Options: o.buildOptions(lc)}
	info.Findings = pl.findings
	w, _, err := WriteTree(ctx, env, tr, sink, CheckOptions{Name: label, NoVerify: true})
	if err != nil {
		return nil, err
	}
	env.written(tr, w)
	res := sink.Result
	// Lambda's image rules, on the image itself, before it ships.
	if !o.NoVerify {
		rules := image.CheckLambda(res, b)
		if hasErrors(rules, o.Strict) && !o.Force {
			var lines []string
			for _, f := range rules {
				lines = append(lines, fmt.Sprintf("  %s %s: %s (%s)", f.Severity, f.Rule, f.Message, f.Fix))
			}
			return nil, &VerifyError{Output: label, Target: t, Report: strings.Join(lines, "\n")}
		}
		info.Findings = append(info.Findings, rules...)
	}
	info.Digest = res.Digest.String()
	info.Size, info.UncompressedSize = res.Size, res.TarSize
	if res.Deps.Digest.Hex != "" {
		info.DepsLayer = res.Deps.Digest.String()
	}
	if res.Code.Digest.Hex != "" {
		info.CodeLayer = res.Code.Digest.String()
	}
	info.DepsReused = res.DepsReused
	info.Handler = res.Record.Handler
	info.result = res
	return info, nil
}

// buildOptions are the image.BuildOptions of o's images.
func (o ImageOptions) buildOptions(lc *image.LayerCache) image.BuildOptions {
	bopts := image.BuildOptions{Handler: o.Handler, Env: o.Env, Cache: lc}
	if o.build != nil {
		o.build(&bopts)
	}
	if o.Cmd != nil {
		bopts.Cmd, bopts.Handler = o.Cmd, ""
	}
	if o.Entrypoint != nil {
		bopts.Entrypoint = o.Entrypoint
	}
	if o.WorkingDir != "" {
		bopts.WorkingDir = o.WorkingDir
	}
	return bopts
}

// imageTree plans and verifies the files of a function image for t with
// the pipeline (PlanVerified: a resolved wheel verification refuses is
// replaced by the next choice): exactly what a function zip of the same
// inputs holds, the packages in the task root and the code from Src; on a
// base that is not Lambda's, awslambdaric too. b nil means a Lambda base
// not fetched yet.
func (env *Env) imageTree(ctx context.Context, o ImageOptions, t target.Target, b *image.Base) (*tree.Tree, []verify.Finding, error) {
	deps := o.Deps
	lambda := b == nil || b.Info.Lambda
	if !lambda && deps.Lock == "" {
		// A lock must carry the runtime client itself (checked below).
		deps.Requirements = append(slices.Clone(deps.Requirements), "awslambdaric")
	}
	ao := ArtifactOptions{
		Kind: KindFunction, Deps: deps, Targets: []target.Target{t},
		Src: o.Src, Excludes: o.Excludes, SkipPaths: o.SkipPaths,
		ExcludePackages: o.ExcludePackages, Slim: o.Slim, StripPatterns: o.StripPatterns, Compile: o.Compile,
		NoVerify: o.NoVerify, Force: o.Force, Strict: o.Strict,
		Name: o.Name, Handler: o.Handler, image: true, deferCheck: true,
	}
	if o.code != nil {
		if err := o.code(&ao); err != nil {
			return nil, nil, err
		}
	}
	if err := ao.check(); err != nil {
		return nil, nil, err
	}
	targets, err := env.targets(ao)
	if err != nil {
		return nil, nil, err
	}
	co := CheckOptions{Name: imageLabel(t.Arch), Strict: o.Strict, Force: o.Force}
	if !lambda {
		// The handler's module may come with the base itself.
		co.ExternalLayers = []string{"of base " + b.Ref}
	}
	tr, findings, err := env.planVerified(ctx, ao, targets, co)
	if err != nil {
		return nil, nil, err
	}
	if !lambda && !hasDist(tr, "awslambdaric") {
		tr.Close()
		if deps.Lock != "" {
			return nil, nil, fmt.Errorf("base %s is not a Lambda base, so the image needs awslambdaric to run the handler, and the lock %s has none: add awslambdaric to the locked requirements", b.Ref, deps.Lock)
		}
		return nil, nil, fmt.Errorf("base %s is not a Lambda base, so the image needs awslambdaric to run the handler: do not --exclude-package it", b.Ref)
	}
	return tr, findings, nil
}

// imageLabel names an architecture's image in verification messages.
func imageLabel(a target.Arch) string { return fmt.Sprintf("image %s", a) }

// planPackages plans and verifies a function's packages without code as
// an image's (PlanVerified: a resolved wheel verification refuses is
// replaced): what pip install --target leaves in a Dockerfile's folder.
func (env *Env) planPackages(ctx context.Context, o ArtifactOptions, co CheckOptions) (*tree.Tree, []verify.Finding, error) {
	o.Kind, o.Src, o.image = KindFunction, "", true
	targets, err := env.targets(o)
	if err != nil {
		return nil, nil, err
	}
	return env.planVerified(ctx, o, targets, co)
}

// hasDist reports whether the tree installs the distribution name.
func hasDist(tr *tree.Tree, name string) bool {
	for _, p := range tr.Parts {
		if slices.ContainsFunc(p.Dists, func(d tree.Dist) bool { return d.Name == names.Canonical(name) }) {
			return true
		}
	}
	return false
}

// imageTags names the images (and the index) in a registry, layout or
// tarball: TAG for one architecture, TAG-x86_64 and TAG-arm64 for several
// (the index, when asked, takes TAG).
func imageTags(tag string, n int, arch string) string {
	if n == 1 {
		return tag
	}
	return tag + "-" + arch
}

func shipImages(ctx context.Context, env *Env, o ImageOptions, rep *ImageReport) error {
	repoTag := o.Tag
	var repo name.Repository
	pushTag := ""
	if o.Push != "" {
		var err error
		if repo, pushTag, err = o.Remote.ParseRepository(o.Push); err != nil {
			return err
		}
		if pushTag == "" {
			pushTag = "latest"
		}
		if repoTag == "" {
			repoTag = repo.String() + ":" + pushTag
		}
	}
	if repoTag == "" {
		repoTag = "function:latest"
	}
	tagRef, err := name.NewTag(repoTag)
	if err != nil {
		return fmt.Errorf("--tag %q: %w", repoTag, err)
	}
	tag := tagRef.TagStr()
	n := len(rep.Images)
	for _, im := range rep.Images {
		im.Tag = imageTags(tag, n, im.Architecture)
	}
	var idx v1.ImageIndex
	if o.Index {
		var adds []mutate.IndexAddendum
		for _, im := range rep.Images {
			p := image.Platform(im.Architecture)
			adds = append(adds, mutate.IndexAddendum{Add: im.result.Image, Descriptor: v1.Descriptor{Platform: &p}})
		}
		idx = mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), adds...)
		d, err := idx.Digest()
		if err != nil {
			return err
		}
		rep.Index = &ImageIndexInfo{Digest: d.String()}
	}
	if o.Push != "" {
		for _, im := range rep.Images {
			ref := repo.Tag(im.Tag)
			if err := remote.Write(ctx, ref, im.result.Image, o.Remote); err != nil {
				return err
			}
			im.Ref = repo.Digest(im.Digest).String()
			env.logf("Pushed %s (%s) as %s", im.Ref, im.Architecture, ref)
		}
		if idx != nil {
			ref := repo.Tag(tag)
			if err := remote.WriteIndex(ctx, ref, idx, o.Remote); err != nil {
				return err
			}
			rep.Index.Ref = repo.Digest(rep.Index.Digest).String()
			env.logf("Pushed index %s as %s (for other tools: a Lambda function takes one of the images above)", rep.Index.Ref, ref)
		}
	}
	if o.OCILayout != "" {
		var items []layout.Item
		for _, im := range rep.Images {
			p := image.Platform(im.Architecture)
			items = append(items, layout.Item{Image: im.result.Image, Platform: &p, Annotations: map[string]string{layout.RefName: im.Tag}})
		}
		if idx != nil {
			items = append(items, layout.Item{Index: idx, Annotations: map[string]string{layout.RefName: tag}})
		}
		if _, err := layout.Write(ctx, o.OCILayout, items, layout.Options{}); err != nil {
			return err
		}
		rep.OCILayout = o.OCILayout
		env.logf("Wrote %s to the OCI layout %s", human.Count(len(items), "manifest"), o.OCILayout)
	}
	if o.Tarball != "" {
		var tagged []tarball.Tagged
		for _, im := range rep.Images {
			tagged = append(tagged, tarball.Tagged{Tag: tagRef.Context().Tag(im.Tag).String(), Image: im.result.Image})
		}
		if err := tarball.Write(o.Tarball, tagged); err != nil {
			return err
		}
		rep.Tarball = o.Tarball
		env.logf("Wrote %s (docker load -i %s)", o.Tarball, filepath.Base(o.Tarball))
	}
	return nil
}

// WriteImageText prints an image build's summary: one line per image with
// its digest.
func WriteImageText(w io.Writer, r *ImageReport) error {
	for _, im := range r.Images {
		ref := im.Digest
		if im.Ref != "" {
			ref = im.Ref
		}
		if _, err := fmt.Fprintf(w, "%s  %s  %s, %s packages, %s compressed\n", im.Architecture, ref, im.Target, fmt.Sprint(len(im.Packages)), human.Bytes(im.Size)); err != nil {
			return err
		}
		for _, f := range im.Findings {
			fmt.Fprintf(w, "  %s %s: %s\n", f.Severity, f.Rule, f.Message)
		}
		for _, n := range im.Notes {
			fmt.Fprintf(w, "  note: %s\n", n)
		}
	}
	if r.Index != nil {
		ref := r.Index.Digest
		if r.Index.Ref != "" {
			ref = r.Index.Ref
		}
		fmt.Fprintf(w, "index  %s\n", ref)
	}
	return nil
}
