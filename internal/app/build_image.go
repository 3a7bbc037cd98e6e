package app

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/lambdapack/lambdapack/internal/project"
	"github.com/lambdapack/lambdapack/internal/record"
)

// A project's image functions (SAM PackageType Image with its Dockerfile,
// a Serverless image from provider.ecr.images, [tool.lambdapack] package =
// "image" on a base) are built by lambdapack build as lambdapack image
// builds them: one single-architecture image each (a function runs on one
// architecture), verified before it is written, into <out>/<name>.oci, an
// OCI layout, and with --publish pushed to --image-repo. An image is built
// again each time: its dependency layer comes from the cache when its files
// did not change, so an unchanged image costs about what reading the
// lock does and has the same digest.

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

// buildImages builds the image functions, one after the other (each
// already uses every core), and reports each as an artifact.
func buildImages(ctx context.Context, env *Env, cfg *project.Config, fns []*project.Function, o BuildOptions, out string) ([]*BuiltArtifact, error) {
	var built []*BuiltArtifact
	var errs []error
	for _, f := range fns {
		if err := ctx.Err(); err != nil {
			return built, err
		}
		start := time.Now()
		do, io, err := imageBuildOptions(cfg, f, o, out)
		var rep *ImageReport
		if err == nil {
			if do != nil {
				rep, err = BuildDockerfile(ctx, env, *do)
			} else {
				rep, err = BuildImage(ctx, env, io)
			}
		}
		if err != nil {
			errs = append(errs, &jobError{pos: f.Pos, err: fmt.Errorf("%s: function %s: %w", f.Pos, f.Name, err)})
			continue
		}
		for _, im := range rep.Images {
			built = append(built, imageArtifact(f, rep, im, time.Since(start)))
		}
	}
	return built, errors.Join(errs...)
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
