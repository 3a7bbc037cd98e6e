package cli

import (
	"io"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/lambdapack/lambdapack/internal/app"
	"github.com/lambdapack/lambdapack/internal/publish"
	"github.com/lambdapack/lambdapack/internal/record"
)

// The pre-release flags of lock, layer and function.
const (
	preUsage        = "allow pre-release versions of every package (--prerelease allow)"
	prereleaseUsage = "when pre-releases are candidates: if-necessary-or-explicit (default: when a requirement names one, or no stable version fits), allow, if-necessary, explicit, disallow"
)

// buildFlags are the flags layer and function share.
type buildFlags struct {
	opts     app.ArtifactOptions
	env      app.EnvOptions
	json     bool
	quiet    bool
	publish  bool
	pubFlags publish.LayerOptions
	layout   string
}

func (f *buildFlags) register(cmd *cobra.Command, kind string) {
	fl := cmd.Flags()
	o := &f.opts
	registerInputFlags(fl, &o.Deps, true)
	fl.StringVar(&o.Runtime, "runtime", "", "Lambda runtime to build for, e.g. python3.12 (see lambdapack targets)")
	fl.StringVar(&o.Arch, "arch", "x86_64", "architecture: x86_64 (amd64) or arm64 (aarch64)")
	fl.StringVarP(&o.Output, "output", "o", kind+".zip", "the zip to write")
	fl.StringSliceVar(&o.ExcludePackages, "exclude-package", nil, "leave these distributions out (e.g. boto3,botocore,s3transfer: the runtime has them)")
	fl.BoolVar(&o.Slim, "slim", false, "strip __pycache__, *.pyi stubs and tests folders (never what imports need)")
	fl.StringArrayVar(&o.StripPatterns, "strip-pattern", nil, "also strip files matching this glob; repeatable")
	fl.BoolVar(&o.Compile, "compile", false, "byte-compile with unchecked-hash .pyc files (needs a local CPython of the runtime's version)")
	fl.BoolVar(&o.NoVerify, "no-verify", false, "skip verifying the artifact")
	fl.BoolVar(&o.Force, "force", false, "write the artifact even when verification finds errors")
	fl.BoolVar(&o.Strict, "strict", false, "treat verification warnings as errors")
	registerEnvFlags(fl, &f.env)
	fl.BoolVar(&f.json, "json", false, "print a JSON report on stdout")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "print nothing but errors (and the JSON report)")
}

func (f *buildFlags) run(cmd *cobra.Command, s *Streams, kind record.Kind, args []string) error {
	ctx := cmd.Context() // canceled by SIGINT and SIGTERM (Main)
	f.opts.Kind = kind
	f.opts.Layout = record.Layout(f.layout)
	f.opts.Deps.Requirements = args
	f.opts.Deps.Stdin = s.In
	log, wait := attachOutput(s, &f.env, f.quiet)
	env, err := app.OpenEnv(f.env)
	if err != nil {
		return err
	}
	defer env.Close()
	rep, err := app.BuildArtifact(ctx, env, f.opts)
	wait()
	if err != nil {
		return err
	}
	if log != nil {
		_ = app.WriteArtifactText(log, rep)
	}
	out := &app.Report{Artifacts: []*app.ArtifactReport{rep}}
	if f.publish {
		po := f.pubFlags
		po.ZipPath = rep.Path
		po.Runtimes = []string{rep.Runtime}
		po.Architectures = rep.Architectures
		po.RequirementsSHA256 = rep.RequirementsSHA256
		po.Log = log
		w := log
		if w == nil || f.json {
			w = io.Discard
		}
		pr, err := app.PublishLayer(ctx, w, po, false)
		if err != nil {
			return err
		}
		out.Published = append(out.Published, pr)
	}
	if f.json {
		return app.WriteJSON(s.Out, out)
	}
	return nil
}

func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd())) && os.Getenv("CI") == ""
}

func init() {
	register(func(s *Streams) *cobra.Command {
		f := &buildFlags{}
		cmd := &cobra.Command{
			Use:   "layer [REQUIREMENT...] [-r FILE | --lock LOCK] --runtime R --arch A -o layer.zip",
			Short: "Build a Lambda layer zip of Python packages for one runtime and architecture",
			Long: `Build a Lambda layer zip from requirements (arguments, -r files) or a lock, for one
Lambda Python runtime and architecture, without Docker.

lambdapack resolves the requirements for the exact target (its Python version,
glibc ceiling and architecture), takes wheels that load there (a package with
none is built from its sdist for the target, never for this machine), installs
them under python/ (or python/lib/python3.X/site-packages with --layout
site-packages) with scripts under bin/, verifies the result (ELF architecture,
glibc symbols, Python ABI, size limits) and writes a byte-for-byte reproducible
zip. SOURCE_DATE_EPOCH sets the timestamps inside it.`,
			Example: `  lambdapack layer -r requirements.txt --runtime python3.12 --arch arm64 -o layer.zip
  lambdapack layer numpy pydantic --runtime python3.11 -o deps.zip --json
  lambdapack layer --lock pylock.toml --runtime python3.12 --arch arm64 --exclude-package boto3,botocore,s3transfer`,
			RunE: func(cmd *cobra.Command, args []string) error { return f.run(cmd, s, app.KindLayer, args) },
		}
		f.register(cmd, "layer")
		cmd.Flags().StringVar(&f.layout, "layout", "python", "python (python/) or site-packages (python/lib/python3.X/site-packages)")
		cmd.Flags().BoolVar(&f.publish, "publish", false, "publish the layer after building it (see lambdapack publish layer)")
		cmd.Flags().StringVar(&f.pubFlags.Name, "name", "", "with --publish: the layer's name")
		cmd.Flags().StringVar(&f.pubFlags.Bucket, "bucket", "", "with --publish: upload through this S3 bucket")
		cmd.Flags().StringVar(&f.pubFlags.KeyPrefix, "key-prefix", "", "with --publish: S3 key prefix")
		cmd.Flags().StringVar(&f.pubFlags.Description, "description", "", "with --publish: the layer version's description")
		cmd.Flags().StringVar(&f.pubFlags.License, "license", "", "with --publish: the layer version's license info")
		return cmd
	})
	register(func(s *Streams) *cobra.Command {
		f := &buildFlags{}
		cmd := &cobra.Command{
			Use:   "function --src DIR [REQUIREMENT...] [-r FILE | --lock LOCK] --runtime R --arch A -o function.zip",
			Short: "Build a Lambda function zip: your code plus its packages",
			Long: `Build a Lambda function zip: the code in --src (minus --exclude globs and the
defaults: .git, __pycache__, .venv, *.pyc, ...) with its dependencies installed
beside it at the zip's root, for one runtime and architecture, verified and
reproducible.`,
			Example: `  lambdapack function --src app -r app/requirements.txt --runtime python3.13 -o function.zip`,
			RunE:    func(cmd *cobra.Command, args []string) error { return f.run(cmd, s, app.KindFunction, args) },
		}
		f.register(cmd, "function")
		cmd.Flags().StringVar(&f.opts.Src, "src", "", "the folder with your handler's code (required)")
		cmd.Flags().StringArrayVar(&f.opts.Excludes, "exclude", nil, "leave files matching this glob out of --src; repeatable")
		_ = cmd.MarkFlagRequired("src")
		return cmd
	})
}

// registerInputFlags adds the flags that say what to install: requirement
// and constraint files, pre-releases and, unless a lock is what the verb
// writes, a lock to install from.
func registerInputFlags(fl *pflag.FlagSet, in *app.Inputs, withLock bool) {
	fl.StringArrayVarP(&in.RequirementFiles, "requirement", "r", nil, "read requirements from a file (\"-\" for stdin); repeatable")
	fl.StringArrayVarP(&in.ConstraintFiles, "constraint", "c", nil, "constrain versions with a file; repeatable")
	if withLock {
		fl.StringVar(&in.Lock, "lock", "", "install exactly what a lock says: pylock.toml, uv.lock, poetry.lock or Pipfile.lock")
	}
	fl.BoolVar(&in.Pre, "pre", false, preUsage)
	fl.StringVar(&in.Prerelease, "prerelease", "", prereleaseUsage)
}
