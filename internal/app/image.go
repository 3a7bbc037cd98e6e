package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/lambdapack/lambdapack/internal/image"
	"github.com/lambdapack/lambdapack/internal/image/base"
	"github.com/lambdapack/lambdapack/internal/image/layout"
	"github.com/lambdapack/lambdapack/internal/image/remote"
	"github.com/lambdapack/lambdapack/internal/image/tarball"
	"github.com/lambdapack/lambdapack/internal/install"
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

	NoVerify, Force, Strict bool

	// Where the images go: a registry repository (REPO[:TAG]), an OCI
	// layout folder, a docker-load tarball. Tag names them in the layout
	// and tarball (default: --push's, else "function:latest").
	Push, OCILayout, Tarball, Tag string
	// Index also writes an image index over the architectures' images
	// (never what a Lambda function points at).
	Index bool

	// Name labels the image in reports (lambdapack build sets it).
	Name string
	// Remote reaches registries (tests set its transport and keychain).
	Remote remote.Options

	// tree, when set, plans each architecture's tree instead of the
	// requirements and Src (the Dockerfile subset).
	tree func(ctx context.Context, env *Env, b *image.Base, t target.Target) (*tree.Tree, []string, error)
	// build overrides image.BuildOptions (the Dockerfile subset).
	build func(*image.BuildOptions)
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
	log := env.log()
	archs, err := imageArchs(o.Archs)
	if err != nil {
		return nil, err
	}
	if o.Handler == "" && o.tree == nil {
		return nil, errors.New("an image needs its handler: pass --handler module.function (the CMD Lambda runs)")
	}
	if o.tree == nil {
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
	bo := base.Options{CacheDir: imagesDir, Offline: env.opts.Offline, Remote: o.Remote, Log: log}
	rep := &ImageReport{Name: o.Name, Kind: KindImage, Base: o.Base}
	if rep.Base == "" {
		rep.Base = base.Lambda
	}
	for _, arch := range archs {
		info, err := buildOneImage(ctx, env, o, bo, arch, &image.LayerCache{Dir: imagesDir})
		if err != nil {
			return nil, err
		}
		rep.Images = append(rep.Images, info)
	}
	if err := shipImages(ctx, log, o, rep); err != nil {
		return nil, err
	}
	rep.Seconds = time.Since(start).Seconds()
	return rep, nil
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

func buildOneImage(ctx context.Context, env *Env, o ImageOptions, bo base.Options, arch target.Arch, lc *image.LayerCache) (*ImageInfo, error) {
	log := env.log()
	b, err := base.Fetch(ctx, o.Base, arch, o.Runtime, bo)
	if err != nil {
		return nil, err
	}
	t, err := b.Info.Target(o.Runtime)
	if err != nil {
		return nil, fmt.Errorf("base %s: %w", b.Ref, err)
	}
	if note := deprecationNote(t); note != "" {
		log.Printf("warning: %s", note)
	}
	kind := "a Lambda base"
	if !b.Info.Lambda {
		kind = "not a Lambda base: awslambdaric is added and runs the handler"
	}
	log.Printf("Base %s (%s): %s, Python %s, glibc %s, %s; building for %s", b.Ref, arch, b.Info.Interpreter, b.Info.Python, b.Info.Glibc, kind, t)

	plan := o.tree
	if plan == nil {
		plan = func(ctx context.Context, env *Env, b *image.Base, t target.Target) (*tree.Tree, []string, error) {
			return env.imageTree(ctx, o, b, t)
		}
	}
	tr, notes, err := plan(ctx, env, b, t)
	if err != nil {
		return nil, err
	}
	defer tr.Close()

	info := &ImageInfo{Architecture: string(arch), BaseDigest: b.Digest.String(), Runtime: t.Runtime, Target: t.String(),
		Python: b.Info.Python, Glibc: b.Info.Glibc, Handler: o.Handler, Notes: notes, Packages: []PackageReport{}}
	for _, p := range tr.Parts {
		for _, d := range p.Dists {
			info.Packages = append(info.Packages, PackageReport{Name: d.Name, Version: d.Version, Filename: d.Filename, Size: d.Size})
		}
	}
	sort.Slice(info.Packages, func(i, j int) bool { return info.Packages[i].Name < info.Packages[j].Name })

	label := fmt.Sprintf("image %s", arch)
	if !o.NoVerify && o.tree == nil {
		findings, err := verifyImageTree(ctx, env, tr, t, label, o)
		if err != nil {
			return nil, err
		}
		info.Findings = append(info.Findings, findings...)
	}
	bopts := image.BuildOptions{Handler: o.Handler, Env: o.Env, Cache: lc}
	if o.build != nil {
		o.build(&bopts)
	}
	wstart := time.Now()
	res, err := image.Build(ctx, b, tr, bopts)
	if err != nil {
		return nil, err
	}
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
	reused := "written"
	if res.DepsReused {
		reused = "reused from the cache"
	}
	log.Printf("Built %s image %s: dependency layer %s (%s, %s), code layer %s (%s), in %s",
		arch, res.Digest, short(res.Deps.Digest), humanBytes(res.Deps.Size), reused, short(res.Code.Digest), humanBytes(res.Code.Size), roundDur(time.Since(wstart)))
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

func short(h v1.Hash) string {
	if len(h.Hex) < 12 {
		return "none"
	}
	return h.Algorithm + ":" + h.Hex[:12]
}

// imageTree plans the files of a function image for t: the packages in the
// task root (awslambdaric added on a base that is not Lambda's) and the
// code from Src.
func (env *Env) imageTree(ctx context.Context, o ImageOptions, b *image.Base, t target.Target) (*tree.Tree, []string, error) {
	deps := o.Deps
	if !b.Info.Lambda {
		if deps.Lock != "" {
			// The lock must carry the runtime client itself.
			deps.Requirements = nil
		} else {
			deps.Requirements = append(slices.Clone(deps.Requirements), "awslambdaric")
		}
	}
	pkgs, notes, err := env.packagesFor(ctx, t, deps)
	if err != nil {
		return nil, nil, err
	}
	if !b.Info.Lambda && !slices.ContainsFunc(pkgs, func(c chosen) bool { return names.Canonical(c.Name) == "awslambdaric" }) {
		return nil, nil, fmt.Errorf("base %s is not a Lambda base, so the image needs awslambdaric to run the handler, and the lock %s has none: add awslambdaric to the locked requirements", b.Ref, deps.Lock)
	}
	tr := &tree.Tree{Record: record.Record{Kind: record.KindImage, Runtime: t.Runtime, Architecture: string(t.Arch), Python: t.Python(),
		Handler: o.Handler, RequirementsSHA256: requirementsHash(pkgs), Version: CurrentVersion()}}
	owner := map[string]string{}
	if len(pkgs) > 0 {
		plan, err := env.planInstall(ctx, pkgs, install.FunctionLayout(), o.ExcludePackages)
		if err != nil {
			return nil, nil, err
		}
		tr.OnClose(plan)
		for _, d := range plan.Dropped {
			notes = append(notes, fmt.Sprintf("%s: %s/%s left out (an image has no place for .data/%s)", d.Wheel, d.Scheme, d.Member, d.Scheme))
		}
		if len(o.ExcludePackages) > 0 {
			notes = append(notes, excludeNotes(o.ExcludePackages, plan)...)
		}
		sn, err := applySlim(plan, ArtifactOptions{Slim: o.Slim, StripPatterns: o.StripPatterns})
		if err != nil {
			return nil, nil, err
		}
		notes = append(notes, sn...)
		part := tree.Part{Targets: []target.Target{t}}
		for _, d := range plan.Dists {
			part.Dists = append(part.Dists, tree.Dist{Name: d.Name, Version: d.Version, Filename: d.Filename, Size: d.Size, Files: d.Files})
		}
		tr.Parts = append(tr.Parts, part)
		tr.Pure = allPure(plan)
		for i := range plan.Entries {
			e := &plan.Entries[i]
			f := tree.File{Path: e.Path, Mode: e.Mode, Size: e.Size, Digest: e.Digest, Dist: e.Dist, Role: tree.RoleDeps}
			if e.Member != nil {
				f.Origin, f.Member = tree.FromWheel, e.Member
			} else {
				f.Origin, f.Data = tree.FromBytes, e.Data
			}
			tr.Files = append(tr.Files, f)
			owner[e.Path] = e.Dist
		}
	}
	if o.Src != "" {
		files, err := collectSource(o.Src, o.Excludes, o.SkipPaths...)
		if err != nil {
			return nil, nil, err
		}
		for _, f := range files {
			if d, clash := owner[f.Rel]; clash {
				tr.Close()
				return nil, nil, fmt.Errorf("%s in %s has the same path as a file of %s: rename it, or --exclude it if it is a vendored copy", f.Rel, o.Src, d)
			}
			tr.Files = append(tr.Files, tree.File{Path: f.Rel, Mode: f.Mode, Size: f.Size, Origin: tree.FromDisk, Disk: f.Abs, Role: tree.RoleCode})
		}
	}
	if err := tr.Sort(); err != nil {
		tr.Close()
		return nil, nil, err
	}
	return tr, notes, nil
}

// verifyImageTree runs the artifact checks on the image's files for the
// base's target. The zip size budgets do not apply to an image (its limit
// is CheckLambda's 10 GB).
func verifyImageTree(ctx context.Context, env *Env, tr *tree.Tree, t target.Target, label string, o ImageOptions) ([]verify.Finding, error) {
	entries := make([]verify.Entry, 0, len(tr.Files))
	for i := range tr.Files {
		f := &tr.Files[i]
		entries = append(entries, verify.Entry{Path: f.Path, Size: f.Size, Digest: f.Digest, Open: f.Open})
	}
	vopts := verify.Options{Kind: verify.KindFunction}
	if env.facts != nil {
		vopts.Facts = env.facts
	}
	vr, err := verify.Check(ctx, verify.EntriesSource(label, entries), t, vopts)
	if err != nil {
		return nil, fmt.Errorf("verifying %s: %w", label, err)
	}
	var kept []verify.Finding
	failed := false
	for _, f := range vr.Findings {
		if f.Rule == verify.RuleSize || f.Rule == verify.RuleZipSize {
			continue
		}
		if f.Severity == verify.Error || o.Strict && f.Severity == verify.Warning {
			failed = true
		}
		if f.Severity != verify.Info {
			kept = append(kept, f)
		}
	}
	if failed && !o.Force {
		vr.Findings = slices.DeleteFunc(vr.Findings, func(f verify.Finding) bool {
			return f.Rule == verify.RuleSize || f.Rule == verify.RuleZipSize
		})
		var b strings.Builder
		_ = vr.WriteText(&b)
		return nil, &VerifyError{Output: label, Target: t, Report: b.String()}
	}
	return kept, nil
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

func shipImages(ctx context.Context, log interface{ Printf(string, ...any) }, o ImageOptions, rep *ImageReport) error {
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
			log.Printf("Pushed %s (%s) as %s", im.Ref, im.Architecture, ref)
		}
		if idx != nil {
			ref := repo.Tag(tag)
			if err := remote.WriteIndex(ctx, ref, idx, o.Remote); err != nil {
				return err
			}
			rep.Index.Ref = repo.Digest(rep.Index.Digest).String()
			log.Printf("Pushed index %s as %s (for other tools: a Lambda function takes one of the images above)", rep.Index.Ref, ref)
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
		log.Printf("Wrote %s to the OCI layout %s", plural(len(items), "manifest"), o.OCILayout)
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
		log.Printf("Wrote %s (docker load -i %s)", o.Tarball, filepath.Base(o.Tarball))
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
		if _, err := fmt.Fprintf(w, "%s  %s  %s, %s packages, %s compressed\n", im.Architecture, ref, im.Target, fmt.Sprint(len(im.Packages)), humanBytes(im.Size)); err != nil {
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
