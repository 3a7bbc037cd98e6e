package cli

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/lambdapack/lambdapack/internal/app"
	"github.com/lambdapack/lambdapack/internal/image/remote"
	"github.com/lambdapack/lambdapack/internal/publish"
)

func init() {
	register(func(s *Streams) *cobra.Command {
		cmd := &cobra.Command{
			Use:   "publish",
			Short: "Publish a layer zip as a Lambda layer version, or a function zip as a function's code",
			Long: `Publish artifacts to AWS Lambda, safely and idempotently.

AWS access uses the SDK's default chain: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY,
AWS_PROFILE and ~/.aws/config (including SSO profiles), container and instance
roles. The region comes from --region, AWS_REGION or the profile. AWS_ENDPOINT_URL,
AWS_ENDPOINT_URL_S3 and AWS_ENDPOINT_URL_LAMBDA point it at another endpoint.`,
			Args: cobra.NoArgs,
		}
		cmd.AddCommand(publishLayerCmd(s), publishFunctionCmd(s))
		return cmd
	})
}

func publishLayerCmd(s *Streams) *cobra.Command {
	var o publish.LayerOptions
	var jsonOut bool
	cmd := &cobra.Command{
		Use:   "layer ZIP --name NAME",
		Short: "Publish a layer zip as a new Lambda layer version (nothing when the latest is the same)",
		Long: `Publish a layer zip as a new version of a Lambda layer.

The compatible runtimes and architectures default to what the zip was built for
(lambdapack records it in the zip's comment), or come from --report (the output
of 'lambdapack layer --json'), or from --runtime / --arch.

With --bucket the zip is uploaded first to s3://BUCKET/PREFIX/NAME/SHA256.zip
(with its sha256, runtimes, architectures, lambdapack version and requirements
hash as object metadata and a SHA-256 checksum) and published from there;
without it the zip is sent directly, which Lambda allows up to 50 MB.

The zip must be a layer: its lambdapack record says so, or (without one) it
has packages under python/ and no code at its root; a function zip is refused.

When the layer's latest version already has the same code (CodeSha256),
runtimes and architectures, nothing is uploaded or published and that version
is reported with "changed": false.`,
		Example: `  lambdapack publish layer layer.zip --name deps --bucket my-artifacts
  lambdapack publish layer layer.zip --name deps --runtime python3.12 --runtime python3.13 --arch arm64 --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.ZipPath = args[0]
			o.Log = s.Err
			_, err := app.PublishLayer(cmd.Context(), s.Out, o, jsonOut)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Name, "name", "", "the layer's name (or ARN)")
	f.StringVar(&o.Bucket, "bucket", "", "upload the zip to this S3 bucket and publish from there (needed over 50 MB)")
	f.StringVar(&o.KeyPrefix, "key-prefix", publish.DefaultKeyPrefix, "S3 key prefix; the key is PREFIX/NAME/SHA256.zip")
	f.StringVar(&o.License, "license", "", "the layer's license (an SPDX identifier, a URL or text)")
	f.StringVar(&o.Description, "description", "", "the layer version's description (at most 256 characters)")
	f.StringSliceVar(&o.Runtimes, "runtime", nil, "a compatible runtime (repeat or comma-separate; default: what the zip was built for)")
	f.StringSliceVar(&o.Architectures, "arch", nil, "a compatible architecture: x86_64 or arm64 (repeat; default: what the zip was built for)")
	f.BoolVar(&o.Force, "force", false, "publish runtimes or architectures the zip was not built for, or a zip that is not a layer")
	f.StringVar(&o.ReportPath, "report", "", "a report from 'lambdapack layer --json' saying what the zip was built for")
	f.StringVar(&o.AWS.Region, "region", "", "the AWS region (default: AWS_REGION or the profile's)")
	f.StringVar(&o.AWS.Profile, "profile", "", "the AWS shared-config profile (default: AWS_PROFILE or default)")
	f.BoolVar(&jsonOut, "json", false, "print the result as JSON")
	_ = cmd.MarkFlagRequired("name")
	return cmd
}

func publishFunctionCmd(s *Streams) *cobra.Command {
	var o publish.FunctionOptions
	var jsonOut bool
	var imageRef string
	cmd := &cobra.Command{
		Use:   "function (ZIP | --image REF) --function-name NAME",
		Short: "Update a Lambda function's code from a zip and wait until the update has finished",
		Long: `Update an existing Lambda function's code from a zip, then wait until Lambda
reports the update Successful or Failed, and say which (with Lambda's reason on
failure; the exit code is then 1).

With --bucket the zip goes through S3 (s3://BUCKET/PREFIX/FUNCTION/SHA256.zip);
without it, it is sent directly (up to 50 MB). When the function already runs
code with the zip's sha256, nothing is updated.

The zip must be a function's code: its lambdapack record says so, or (without
one) it has code at its root and nothing under python/. A zip built by
lambdapack for one architecture must match the one the function runs it on
(its own, or --arch, which sends the architecture with the code, switching the
function to it), and one with native code built for one Python must match the
function's runtime. --force deploys anyway, with a warning.

--image updates an image function instead: its ImageUri is set to the image by
digest (a tag is resolved first; an index is refused, since a function runs one
single-architecture image), and the image's architecture must be the function's.`,
		Example: `  lambdapack publish function function.zip --function-name api
  lambdapack publish function function.zip --function-name api --bucket my-artifacts --arch arm64 --json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Log = s.Err
			var err error
			switch {
			case imageRef != "" && len(args) > 0:
				return errors.New("give a zip or --image, not both")
			case imageRef != "":
				io := publish.FunctionImageOptions{ImageURI: imageRef, FunctionName: o.FunctionName, Architecture: o.Architecture,
					SwitchArchitecture: o.Architecture != "", Timeout: o.Timeout, NoWait: o.NoWait, AWS: o.AWS, Log: s.Err}
				_, err = app.PublishFunctionImage(cmd.Context(), s.Out, io, remote.Options{}, jsonOut)
			case len(args) == 0:
				return errors.New("nothing to publish: give the function zip, or --image REF for an image function")
			default:
				o.ZipPath = args[0]
				_, err = app.PublishFunction(cmd.Context(), s.Out, o, jsonOut)
			}
			var failed *publish.UpdateFailedError
			if errors.As(err, &failed) {
				fmt.Fprintf(s.Err, "lambdapack: %v\n", err)
				return &ExitError{Code: 1}
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.FunctionName, "function-name", "", "the function's name or ARN")
	f.StringVar(&o.Bucket, "bucket", "", "upload the zip to this S3 bucket and update from there (needed over 50 MB)")
	f.StringVar(&o.KeyPrefix, "key-prefix", publish.DefaultKeyPrefix, "S3 key prefix; the key is PREFIX/FUNCTION/SHA256.zip")
	f.StringVar(&o.Architecture, "arch", "", "x86_64 or arm64: set the function's architecture with the code")
	f.BoolVar(&o.Force, "force", false, "deploy a zip built for another architecture or runtime, or one that is not a function's code")
	f.DurationVar(&o.Timeout, "timeout", 5*time.Minute, "how long to wait for the update to finish")
	f.BoolVar(&o.NoWait, "no-wait", false, "return as soon as Lambda accepts the update")
	f.StringVar(&o.AWS.Region, "region", "", "the AWS region (default: AWS_REGION or the profile's)")
	f.StringVar(&o.AWS.Profile, "profile", "", "the AWS shared-config profile (default: AWS_PROFILE or default)")
	f.BoolVar(&jsonOut, "json", false, "print the result as JSON")
	f.StringVar(&imageRef, "image", "", "update an image function to this image (REPOSITORY@sha256:... or a tag, resolved to its digest)")
	_ = cmd.MarkFlagRequired("function-name")
	return cmd
}
