package cli

import (
	"fmt"
	"maps"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/lambdapack/lambdapack/internal/app"
	"github.com/lambdapack/lambdapack/internal/project"
)

func init() {
	register(func(s *Streams) *cobra.Command {
		var (
			o       app.BuildOptions
			jsonOut bool
			quiet   bool
			pub     bool
			pubOpts app.PublishBuildOptions
			// paramOverrides are --parameter-overrides values.
			paramOverrides []string
		)
		cmd := &cobra.Command{
			Use:   "build [DIR]",
			Short: "Build every function and layer of a project (its own config, serverless.yml or a SAM template)",
			Long: `Build every function and layer a project describes, each for its own runtime and
architecture, in parallel on one shared cache, reusing artifacts whose inputs
did not change.

The config is found in DIR (default: the working directory) in this order:
[tool.lambdapack] in pyproject.toml, lambdapack.toml, serverless.yml /
serverless.yaml, template.yaml / template.yml (AWS SAM). A function's own
runtime and architecture always decide its target; provider-level and
Globals values are only defaults.

Layers are written to <out>/<name>-<arch>.zip, functions to <out>/<name>.zip,
image functions (SAM PackageType Image, a Serverless image, package = "image")
to <out>/<name>.oci, an OCI layout, as lambdapack image builds them.

--publish ships them: image functions are pushed to --image-repo, every
layer is published, then every function's code is updated (its zip, or its
image by digest) and waited for. A function is found by the name its deploy
tool gives it: SAM's FunctionName, else its physical ID in the deployed stack
(--stack-name, else stack_name in samconfig.toml); Serverless' name, else
SERVICE-STAGE-KEY; function-name in [tool.lambdapack]. --update-layers also
points the functions that use the project's layers at the new versions.`,
			Example: `  lambdapack build
  lambdapack build services/api --only ApiFunction --json
  lambdapack build --config template.yaml --out .build`,
			Args: cobra.MaximumNArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				ctx := cmd.Context() // canceled by SIGINT and SIGTERM (Main)
				if len(args) == 1 {
					o.Dir = args[0]
				}
				if o.ImageRepo != "" && !pub {
					return fmt.Errorf("--image-repo goes with --publish (it is where image functions are pushed)")
				}
				if (pubOpts.StackName != "" || pubOpts.UpdateLayers) && !pub {
					return fmt.Errorf("--stack-name and --update-layers go with --publish")
				}
				o.Publish = pub
				params, err := parseParameterOverrides(paramOverrides)
				if err != nil {
					return err
				}
				o.Params = params
				_, wait := attachOutput(s, &o.Env, quiet)
				rep, cfg, buildErr := app.Build(ctx, o)
				wait()
				// --json prints one document whatever happens, the error
				// (with the config's file and line) included.
				finish := func(err error) error {
					if jsonOut {
						if werr := app.WriteJSON(s.Out, rep); werr != nil && err == nil {
							err = werr
						}
					}
					return err
				}
				if !quiet {
					for _, n := range rep.Notes {
						if len(n.Artifacts) == 0 {
							continue // the project's own, said as it was read
						}
						fmt.Fprintf(s.Err, "  %s (%s): %s\n", n.Level, strings.Join(n.Artifacts, ", "), n.Message)
					}
					if len(rep.Artifacts) > 0 {
						_ = app.WriteBuildSummary(s.Err, rep)
					}
				}
				if buildErr != nil {
					return finish(buildErr)
				}
				if pub {
					po := pubOpts
					if !quiet {
						po.Log = s.Err
						if !jsonOut {
							po.Out = s.Err
						}
					}
					if err := app.PublishBuild(ctx, rep, cfg, po); err != nil {
						rep.Error = app.NewBuildError(err)
						return finish(err)
					}
				}
				return finish(nil)
			},
		}
		fl := cmd.Flags()
		fl.StringVar(&o.Config, "config", "", "the config file (default: discovered in DIR)")
		fl.StringSliceVar(&o.Only, "only", nil, "build only these functions and layers (by name)")
		fl.StringVar(&o.Out, "out", "", "output folder (default DIR/dist)")
		fl.StringVar(&o.Stage, "stage", "", "serverless stage for ${opt:stage} and ${sls:stage} (default: provider.stage, else dev)")
		registerParameterOverrides(fl, &paramOverrides)
		fl.BoolVar(&o.Rebuild, "rebuild", false, "build everything, even what is unchanged")
		fl.IntVar(&o.Jobs, "jobs", 4, "artifacts built at once")
		fl.BoolVar(&o.NoVerify, "no-verify", false, "skip verifying the artifacts")
		fl.BoolVar(&o.Force, "force", false, "write artifacts even when verification finds errors")
		fl.BoolVar(&o.Strict, "strict", false, "treat verification warnings as errors")
		registerEnvFlags(fl, &o.Env)
		fl.BoolVar(&jsonOut, "json", false, "print a JSON report of every artifact on stdout")
		fl.BoolVarP(&quiet, "quiet", "q", false, "print nothing but errors (and the JSON report)")
		fl.BoolVar(&pub, "publish", false, "publish every layer built (named after the layer and architecture), push the image functions to --image-repo, and update every function's code")
		fl.StringVar(&pubOpts.Bucket, "bucket", "", "with --publish: upload through this S3 bucket")
		fl.StringVar(&pubOpts.KeyPrefix, "key-prefix", "", "with --publish: S3 key prefix")
		fl.StringVar(&o.ImageRepo, "image-repo", "", "with --publish: push image functions to this repository, REGISTRY/REPOSITORY (tagged by function name)")
		fl.StringVar(&pubOpts.StackName, "stack-name", "", "with --publish: the SAM stack the project is deployed as, to find functions without a FunctionName (default: samconfig.toml's stack_name)")
		fl.BoolVar(&pubOpts.UpdateLayers, "update-layers", false, "with --publish: set the layers of each function that uses the project's layers to the versions just published (then its other layers, which must be ARNs)")
		return cmd
	})
}

// registerParameterOverrides adds --parameter-overrides, as sam build and
// sam local take it.
func registerParameterOverrides(fl *pflag.FlagSet, v *[]string) {
	fl.StringArrayVar(v, "parameter-overrides", nil, "SAM template parameter values, NAME=VALUE separated by spaces, as sam takes them (they win over samconfig's parameter_overrides); repeatable")
}

// parseParameterOverrides reads every --parameter-overrides value; later
// values win.
func parseParameterOverrides(values []string) (map[string]string, error) {
	var params map[string]string
	for _, v := range values {
		p, err := project.ParseParameterOverrides(v)
		if err != nil {
			return nil, fmt.Errorf("--parameter-overrides: %w", err)
		}
		if params == nil {
			params = map[string]string{}
		}
		maps.Copy(params, p)
	}
	return params, nil
}
