package cli

import (
	"github.com/spf13/cobra"

	"github.com/lambdapack/lambdapack/internal/app"
)

type imageFlags struct {
	opts       app.ImageOptions
	env        app.EnvOptions
	dockerfile string
	context    string
	buildArgs  []string
	target     string
	json       bool
	quiet      bool
}

func (f *imageFlags) run(cmd *cobra.Command, s *Streams, args []string) error {
	ctx := cmd.Context() // canceled by SIGINT or SIGTERM (Main)
	f.opts.Deps.Requirements = args
	f.opts.Deps.Stdin = s.In
	_, wait := attachOutput(s, &f.env, f.quiet)
	env, err := app.OpenEnv(f.env)
	if err != nil {
		return err
	}
	defer env.Close()
	var rep *app.ImageReport
	if f.dockerfile != "" {
		rep, err = app.BuildDockerfile(ctx, env, app.DockerfileOptions{Dockerfile: f.dockerfile, Context: f.context, BuildArgs: f.buildArgs, Target: f.target, Image: f.opts})
	} else {
		rep, err = app.BuildImage(ctx, env, f.opts)
	}
	wait()
	if err != nil {
		return err
	}
	if f.json {
		return app.WriteJSON(s.Out, rep)
	}
	return app.WriteImageText(s.Out, rep)
}

func init() {
	register(func(s *Streams) *cobra.Command {
		f := &imageFlags{}
		cmd := &cobra.Command{
			Use:   "image --src DIR --handler MOD.FUNC [REQUIREMENT...] [-r FILE | --lock LOCK] [--base BASE] [--arch A]... (--push REPO[:TAG] | --oci-layout DIR | --tarball FILE)",
			Short: "Build a Lambda container image without Docker: a base plus your packages and code",
			Long: `Build a Lambda function's container image without a Docker daemon: the
packages (resolved for the base's own Python, glibc and architecture) in one
layer, the code from --src in another, on a base image, one image per --arch.

--base lambda (the default) is AWS's base for --runtime
(public.ecr.aws/lambda/python:3.X), with the handler as CMD. Any other base
(a registry reference, oci-layout:DIR, tarball:FILE) is inspected: lambdapack
reads its interpreter and C library to learn which wheels load there, adds
awslambdaric and sets the entrypoint to "python -m awslambdaric". Bases are
kept in the cache, fetched once.

The images are reproducible (SOURCE_DATE_EPOCH stamps them), verified (the
files for the base's target; Lambda's image rules), and go to a registry
(--push; ECR logs in through the AWS SDK), an OCI layout or a docker-load
tarball. Lambda takes one single-architecture image per function; --index
also writes an image index over them for other tools.

--dockerfile builds the Dockerfile most Lambda projects have (FROM, ARG, ENV,
WORKDIR, COPY/ADD of local files, RUN pip install -r ... --target ..., CMD,
ENTRYPOINT) the same way, for any architecture.`,
			Example: `  lambdapack image --src app --handler app.handler -r requirements.txt --runtime python3.12 \
      --arch arm64 --push 123456789012.dkr.ecr.us-east-1.amazonaws.com/my-function:v1
  lambdapack image --src app --handler app.handler -r requirements.txt \
      --base python:3.12-slim --arch x86_64 --arch arm64 --oci-layout out/
  lambdapack image --dockerfile Dockerfile --arch arm64 --arch x86_64 --tarball image.tar`,
			RunE: func(cmd *cobra.Command, args []string) error { return f.run(cmd, s, args) },
		}
		fl := cmd.Flags()
		o := &f.opts
		registerInputFlags(fl, &o.Deps, true)
		fl.StringVar(&o.Runtime, "runtime", "", "Lambda runtime, e.g. python3.12 (needed with --base lambda; otherwise the base's Python decides)")
		fl.StringArrayVar(&o.Archs, "arch", nil, "architecture: x86_64 (amd64) or arm64 (aarch64); repeatable, one image each (default x86_64)")
		fl.StringVar(&o.Base, "base", "lambda", "base image: lambda, a registry reference, oci-layout:DIR or tarball:FILE")
		fl.StringVar(&o.Src, "src", "", "the folder with your handler's code")
		fl.StringVar(&o.Handler, "handler", "", "the handler, module.function (the image's CMD)")
		fl.StringArrayVar(&o.Excludes, "exclude", nil, "leave files matching this glob out of --src; repeatable")
		fl.StringArrayVar(&o.Env, "env", nil, "set KEY=VALUE in the image's environment; repeatable")
		fl.StringSliceVar(&o.ExcludePackages, "exclude-package", nil, "leave these distributions out")
		fl.BoolVar(&o.Slim, "slim", false, "strip __pycache__, *.pyi stubs and tests folders (never what imports need)")
		fl.StringArrayVar(&o.StripPatterns, "strip-pattern", nil, "also strip files matching this glob; repeatable")
		fl.BoolVar(&o.Compile, "compile", false, "byte-compile with unchecked-hash .pyc files (needs a local CPython of the base's version)")
		fl.BoolVar(&o.NoVerify, "no-verify", false, "skip verifying the images")
		fl.BoolVar(&o.Force, "force", false, "write the images even when verification finds errors")
		fl.BoolVar(&o.Strict, "strict", false, "treat verification warnings as errors")
		fl.StringVar(&o.Push, "push", "", "push to this repository: REGISTRY/REPOSITORY[:TAG] (several architectures are tagged TAG-x86_64, TAG-arm64)")
		fl.StringVar(&o.OCILayout, "oci-layout", "", "write the images into this OCI layout folder")
		fl.StringVar(&o.Tarball, "tarball", "", "write the images into this tarball, for docker load")
		fl.StringVar(&o.Tag, "tag", "", "NAME:TAG the layout and tarball give the images (default --push's, else function:latest)")
		fl.BoolVar(&o.Index, "index", false, "also write an image index over the architectures' images (never for a Lambda function itself)")
		fl.StringVar(&f.dockerfile, "dockerfile", "", "build this Dockerfile (the Lambda subset) instead of --src and requirements")
		fl.StringVar(&f.context, "context", "", "with --dockerfile: the build context (default the Dockerfile's folder)")
		fl.StringArrayVar(&f.buildArgs, "build-arg", nil, "with --dockerfile: ARG=VALUE; repeatable")
		fl.StringVar(&f.target, "target", "", "with --dockerfile: the stage to build (default the last)")
		registerEnvFlags(fl, &f.env)
		fl.BoolVar(&f.json, "json", false, "print a JSON report on stdout")
		fl.BoolVarP(&f.quiet, "quiet", "q", false, "print nothing but errors and the digests (or the JSON report)")
		return cmd
	})
}
