package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	imagebase "github.com/lambdapack/lambdapack/internal/image/base"
	"github.com/lambdapack/lambdapack/internal/image/layout"
	"github.com/lambdapack/lambdapack/internal/image/remote"
	"github.com/lambdapack/lambdapack/internal/index"
	"github.com/lambdapack/lambdapack/internal/project"
	"github.com/lambdapack/lambdapack/internal/record"
	"github.com/lambdapack/lambdapack/internal/target"
)

// A project's image functions (SAM PackageType Image with its Dockerfile,
// a Serverless image from provider.ecr.images, [tool.lambdapack] package =
// "image" on a base) are built by lambdapack build as lambdapack image
// builds them: one single-architecture image each (a function runs on one
// architecture), verified before it is written, into <out>/<name>.oci, an
// OCI layout, and with --publish pushed to --image-repo. An image whose
// inputs did not change (those of a zip function, plus the base as
// written, the image's config, and for a Dockerfile its bytes, build
// arguments and the context's files) and whose layout still holds it is
// reported unchanged, with its digest, without being built again (a base
// given by tag is not looked up again: --rebuild takes the tag's newest
// image); with --publish it is pushed from the layout.

// imageFunctions are the project's image functions the build makes.
func imageFunctions(cfg *project.Config, want func(string) bool) []*project.Function {
	var out []*project.Function
	for i := range cfg.Functions {
		f := &cfg.Functions[i]
		if f.Image != nil && !f.Package.Skipped() && want(f.Name) {
			out = append(out, f)
		}
	}
	return out
}

// imageBuildOptions turns an image function into lambdapack image's
// options, the Dockerfile's when it has one.
func imageBuildOptions(cfg *project.Config, f *project.Function, o BuildOptions, out string) (*DockerfileOptions, ImageOptions, error) {
	layout := filepath.Join(out, f.Name+".oci")
	if r, err := filepath.Rel(out, layout); err != nil || r != filepath.Base(layout) || strings.ContainsAny(f.Name, `/\`) {
		return nil, ImageOptions{}, fmt.Errorf("%q cannot name a folder in %s: give the function a name of letters, digits, - and _", f.Name, out)
	}
	name := strings.ToLower(f.Name)
	tag := name
	if f.Image.Tag != "" {
		tag = name + "-" + f.Image.Tag
	}
	io := ImageOptions{
		Name: f.Name, Runtime: f.Runtime, Archs: []string{string(f.Arch)}, Handler: f.Handler,
		ExcludePackages: f.Options.ExcludePackages, Slim: f.Options.Slim, StripPatterns: f.Options.StripPatterns, Compile: f.Options.Compile,
		NoVerify: o.NoVerify, Force: o.Force, Strict: o.Strict,
		OCILayout: layout, Tag: name + ":" + tag,
		Cmd: f.Image.Command, Entrypoint: f.Image.EntryPoint, WorkingDir: f.Image.WorkingDirectory,
	}
	if o.Publish {
		io.Push = o.ImageRepo + ":" + tag
	}
	if f.Image.Dockerfile != "" {
		do := &DockerfileOptions{
			Dockerfile: filepath.Join(cfg.Dir, filepath.FromSlash(f.Image.Dockerfile)),
			Context:    filepath.Join(cfg.Dir, filepath.FromSlash(f.Image.Context)),
			Image:      io,
		}
		for _, a := range f.Image.BuildArgs {
			if a.Expr != "" {
				return nil, io, fmt.Errorf("%s: function %s: build argument %s is %s, which only AWS resolves: give it a value in %s", f.Pos, f.Name, a.Name, a.Expr, filepath.Base(cfg.File))
			}
			do.BuildArgs = append(do.BuildArgs, a.Name+"="+a.Value)
		}
		return do, io, nil
	}
	io.Base = f.Image.Base
	io.Deps = depsInputs(cfg, f.Deps)
	pkg := f.Package
	io.code = func(ao *ArtifactOptions) error { return packageOptions(cfg, pkg, out, ao) }
	return nil, io, nil
}

// imageJob is an image function the build makes, with the hash of what it
// is made from and, when that did not change, the previous build's.
type imageJob struct {
	f      *project.Function
	do     *DockerfileOptions // the Dockerfile's build, or nil
	io     ImageOptions
	inputs string
	reuse  *stateEntry
	// err is why its options could not be made (said with the others'
	// failures once the zips are built).
	err error
}

// planImages prepares the image functions' builds and finds those that are
// unchanged since the build state was written.
func planImages(cfg *project.Config, fns []*project.Function, o BuildOptions, out string, state *buildState) []*imageJob {
	var jobs []*imageJob
	for _, f := range fns {
		do, io, err := imageBuildOptions(cfg, f, o, out)
		j := &imageJob{f: f, do: do, io: io, err: err}
		jobs = append(jobs, j)
		if err == nil {
			j.inputs, j.err = imageInputs(cfg, o.Env.Index, j)
		}
		if j.err != nil {
			continue
		}
		if prev, ok := state.Artifacts[f.Name]; ok && !o.Rebuild && prev.Inputs == j.inputs && prev.Report != nil && prev.Image != nil && layoutHolds(io.OCILayout, prev.Image) {
			j.reuse = &prev
		}
	}
	return jobs
}

// imagesToBuild reports whether any image must be built.
func imagesToBuild(jobs []*imageJob) bool {
	return slices.ContainsFunc(jobs, func(j *imageJob) bool { return j.reuse == nil && j.err == nil })
}

// layoutHolds reports whether the OCI layout still holds the image as the
// build left it: under its tag, with every blob.
func layoutHolds(dir string, im *ImageInfo) bool {
	h, err := v1.NewHash(im.Digest)
	if err != nil {
		return false
	}
	d, ok := layout.Find(dir, layout.RefName, im.Tag)
	return ok && d.Digest == h && layout.Has(dir, h)
}

// imageInputs hashes what an image function is made from: what its zip
// would be made from (jobInputs), the base as written (a local base's
// index or file too), the image's config, and for a Dockerfile its bytes,
// build arguments and the context's files as COPY takes them.
func imageInputs(cfg *project.Config, flags index.Settings, j *imageJob) (string, error) {
	io := j.io
	ao := ArtifactOptions{
		Kind: KindFunction, Name: j.f.Name, Deps: io.Deps, Handler: io.Handler,
		ExcludePackages: io.ExcludePackages, Slim: io.Slim, StripPatterns: io.StripPatterns, Compile: io.Compile,
		NoVerify: io.NoVerify, Force: io.Force, Strict: io.Strict,
	}
	if io.code != nil {
		if err := io.code(&ao); err != nil {
			return "", err
		}
	}
	if t, err := target.New(io.Runtime, io.Archs[0]); err == nil {
		ao.Targets = []target.Target{t}
	}
	base, err := jobInputs(cfg, flags, []job{{name: j.f.Name, opts: ao}}, 0)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintf(h, "image %s\nruntime %q archs %q base %q tag %q cmd %q entrypoint %q workdir %q env %q mirror %q\n",
		base, io.Runtime, io.Archs, io.Base, io.Tag, io.Cmd, io.Entrypoint, io.WorkingDir, io.Env, os.Getenv(imagebase.MirrorEnv))
	locals := []string{io.Base}
	if do := j.do; do != nil {
		data, err := os.ReadFile(do.Dockerfile)
		if err != nil {
			return "", fmt.Errorf("reading the Dockerfile: %w", err)
		}
		fmt.Fprintf(h, "dockerfile %q %x context %q args %q target %q\n", do.Dockerfile, sha256.Sum256(data), do.Context, do.BuildArgs, do.Target)
		locals = append(locals, localBaseRE.FindAllString(string(data), -1)...)
		for _, a := range do.BuildArgs {
			_, v, _ := strings.Cut(a, "=")
			locals = append(locals, v)
		}
		ignore, err := readDockerignore(do.Context)
		if err != nil {
			return "", err
		}
		files, err := collectSource(do.Context, ignore)
		if err != nil {
			return "", err
		}
		for _, f := range files {
			sum, err := fileSHA256(f.Abs)
			if err != nil {
				return "", err
			}
			fmt.Fprintf(h, "context %s %o %s\n", f.Rel, f.Mode, sum)
		}
	}
	for _, l := range locals {
		fmt.Fprintf(h, "local base %q %s\n", l, localBaseSum(l))
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// localBaseRE finds local bases named in a Dockerfile (FROM, ARG defaults).
var localBaseRE = regexp.MustCompile(`(?:oci-layout|tarball):[^\s"']+`)

// localBaseSum identifies a local base's content: an OCI layout's
// index.json, a tarball's size and time; "" for a registry reference.
func localBaseSum(ref string) string {
	if dir, ok := strings.CutPrefix(ref, "oci-layout:"); ok {
		data, err := os.ReadFile(filepath.Join(dir, "index.json"))
		if err != nil {
			return "missing"
		}
		return fmt.Sprintf("%x", sha256.Sum256(data))
	}
	if file, ok := strings.CutPrefix(ref, "tarball:"); ok {
		st, err := os.Stat(file)
		if err != nil {
			return "missing"
		}
		return fmt.Sprintf("%d %d", st.Size(), st.ModTime().UnixNano())
	}
	return ""
}

// buildImages builds the image functions that changed, one after the
// other (each already uses every core), reuses the others (pushing them
// from their layout with --publish), and reports each as an artifact.
func buildImages(ctx context.Context, env *Env, jobs []*imageJob, o BuildOptions, state *buildState) ([]*BuiltArtifact, error) {
	var built []*BuiltArtifact
	var errs []error
	for _, j := range jobs {
		if err := ctx.Err(); err != nil {
			return built, err
		}
		f := j.f
		if j.err != nil {
			errs = append(errs, &jobError{pos: f.Pos, err: fmt.Errorf("%s: function %s: %w", f.Pos, f.Name, j.err)})
			continue
		}
		if j.reuse != nil {
			a, err := reuseImage(ctx, o.Env.Logger, j)
			if err != nil {
				errs = append(errs, &jobError{pos: f.Pos, err: fmt.Errorf("%s: function %s: %w", f.Pos, f.Name, err)})
				continue
			}
			built = append(built, a)
			continue
		}
		start := time.Now()
		var rep *ImageReport
		var err error
		if j.do != nil {
			rep, err = BuildDockerfile(ctx, env, *j.do)
		} else {
			rep, err = BuildImage(ctx, env, j.io)
		}
		if err != nil {
			errs = append(errs, &jobError{pos: f.Pos, err: fmt.Errorf("%s: function %s: %w", f.Pos, f.Name, err)})
			continue
		}
		for _, im := range rep.Images {
			a := imageArtifact(f, rep, im, time.Since(start))
			built = append(built, a)
			saved := *im
			saved.Ref = "" // where this run pushed it; said again only when pushed
			state.Artifacts[f.Name] = stateEntry{Inputs: j.inputs, Report: a.ArtifactReport, Image: &saved}
		}
	}
	return built, errors.Join(errs...)
}

// reuseImage reports an unchanged image from the build state, and with
// --publish pushes it from its OCI layout (a registry that has its blobs
// takes only the manifest).
func reuseImage(ctx context.Context, log *slog.Logger, j *imageJob) (*BuiltArtifact, error) {
	r := *j.reuse.Report
	im := *j.reuse.Image
	unchanged := true
	r.Unchanged, r.Seconds = &unchanged, 0
	r.Path = j.io.OCILayout // where it is now: the project may have moved since
	im.Ref = ""
	if j.io.Push != "" {
		h, err := v1.NewHash(im.Digest)
		if err != nil {
			return nil, err
		}
		img, err := layout.Image(j.io.OCILayout, h)
		if err != nil {
			return nil, fmt.Errorf("reading %s from %s: %w", im.Digest, j.io.OCILayout, err)
		}
		repo, _, err := j.io.Remote.ParseRepository(j.io.Push)
		if err != nil {
			return nil, err
		}
		if err := remote.Write(ctx, repo.Tag(im.Tag), img, j.io.Remote); err != nil {
			return nil, err
		}
		im.Ref = repo.Digest(im.Digest).String()
		if log != nil {
			log.Info(fmt.Sprintf("Pushed %s (%s, unchanged) as %s", im.Ref, im.Architecture, repo.Tag(im.Tag)))
		}
	}
	return &BuiltArtifact{ArtifactReport: &r, SHA256Base64: sha256Base64(r.SHA256), Handler: im.Handler, Image: &im}, nil
}

// imageArtifact reports an image as the build reports a zip: its SHA256 is
// the image manifest's digest (what Lambda reports as an image function's
// CodeSha256), its size the compressed layers', its path the OCI layout.
func imageArtifact(f *project.Function, rep *ImageReport, im *ImageInfo, took time.Duration) *BuiltArtifact {
	hexDigest := strings.TrimPrefix(im.Digest, "sha256:")
	unchanged := false
	r := &ArtifactReport{
		Name: f.Name, Kind: record.KindImage, Path: rep.OCILayout, SHA256: hexDigest,
		Size: im.Size, UnzippedSize: im.UncompressedSize,
		Runtime: im.Runtime, Architecture: im.Architecture, Architectures: []string{im.Architecture},
		Python: im.Python, Packages: im.Packages, Findings: im.Findings, Notes: im.Notes,
		Unchanged: &unchanged, Seconds: took.Seconds(),
	}
	if r.Packages == nil {
		r.Packages = []PackageReport{}
	}
	return &BuiltArtifact{ArtifactReport: r, SHA256Base64: sha256Base64(hexDigest), Handler: im.Handler, Image: im}
}

// samImages are the image functions for SAM's build template: ImageUri by
// digest when pushed; else a note (printed with the artifacts' notes) that
// sam deploy needs them pushed.
func samImages(rep *BuildReport) []project.SAMImage {
	var out []project.SAMImage
	for _, a := range rep.Artifacts {
		if a.Kind != record.KindImage || a.Image == nil {
			continue
		}
		out = append(out, project.SAMImage{Function: a.Name, ImageURI: a.Image.Ref})
		if a.Image.Ref == "" {
			msg := fmt.Sprintf("function %s is an image, which sam deploy takes from %s only once it is pushed: build with --publish --image-repo REGISTRY/REPOSITORY (lambdapack then sets its ImageUri by digest)", a.Name, filepath.ToSlash(filepath.Join(project.SAMBuildDir, "template.yaml")))
			rep.Notes = append(rep.Notes, BuildNote{Level: "note", Message: msg, Artifacts: []string{a.Name}})
		}
	}
	return out
}
