package cli

import (
	"github.com/spf13/cobra"

	"github.com/lambdapack/lambdapack/internal/app"
)

func init() {
	register(func(s *Streams) *cobra.Command {
		var o app.TargetsOptions
		cmd := &cobra.Command{
			Use:   "targets [--json] [--tags --runtime R [--arch A]]",
			Short: "List the Lambda Python runtimes lambdapack builds for",
			Long: `List the AWS Lambda Python runtimes lambdapack builds for: Python version,
operating system, glibc ceiling (the newest manylinux_2_X wheel that loads),
architectures, and the date AWS ends support.

With --tags, print instead the wheel tags one target accepts, best first, in
the order the resolver prefers them: --runtime and --arch for a Lambda
runtime, or --python and --glibc for another image (for example distroless
python3-debian12: --python 3.11 --glibc 2.36). musllinux is never accepted.`,
			Example: `  lambdapack targets
  lambdapack targets --json
  lambdapack targets --tags --runtime python3.11 --arch arm64
  lambdapack targets --tags --python 3.11 --glibc 2.36 --arch arm64 --json`,
			Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return app.Targets(o, s.Out)
			},
		}
		f := cmd.Flags()
		f.BoolVar(&o.JSON, "json", false, "print JSON: the runtime list, or with --tags the tag list")
		f.BoolVar(&o.Tags, "tags", false, "print the ordered wheel tags of one target")
		f.StringVar(&o.Runtime, "runtime", "", "with --tags: Lambda runtime, e.g. python3.12")
		f.StringVar(&o.Arch, "arch", "x86_64", "with --tags: architecture, x86_64 (amd64) or arm64 (aarch64)")
		f.StringVar(&o.Python, "python", "", "with --tags: Python X.Y of a custom target (with --glibc)")
		f.StringVar(&o.Glibc, "glibc", "", "with --tags: glibc X.Y of a custom target (with --python)")
		return cmd
	})
}
