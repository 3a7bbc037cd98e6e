package cli

import (
	"github.com/spf13/cobra"

	"github.com/lambdapack/lambdapack/internal/app"
)

func init() {
	register(func(s *Streams) *cobra.Command {
		var o app.VerifyOptions
		cmd := &cobra.Command{
			Use:   "verify PATH [--runtime R] [--arch A]",
			Short: "Check that a layer or function zip will load on its Lambda runtime",
			Long: `Check a layer zip, a function zip or a folder, statically, for a Lambda runtime
and architecture: every binary's architecture, the glibc and C++ symbol
versions it needs, the libraries it links, extension module and wheel tags
against the runtime's Python, the unzipped size budget (with --with, the other
layers and function of the deployment), and the layer's python/ layout.

The target: --runtime and --arch when given. A zip lambdapack built records
what it was built for in its archive comment; without the flags, verify checks
against that record (every runtime a multi-runtime layer lists, the recorded
architecture). Without a flag or a record, --runtime is required and --arch
is x86_64.

Each finding names the file, the package it came from and the fix; findings
of one rule and package (say 102 binaries of numpy) are one entry with the
count and the first file unless -v. --json prints every finding (an array of
reports when checking several targets). Exit status 0 when clean, 1 when there
are errors (or, with --strict, warnings) for any target, 2 when the artifact
could not be read.

The kind is inferred unless --kind says: a layer when there is a top-level
python/ folder, a function when there is a top-level .py file, else a layer.`,
			Example: `  lambdapack verify dist/deps-arm64.zip
  lambdapack verify layer.zip --runtime python3.12 --arch arm64
  lambdapack verify function.zip --runtime python3.11 --with layer.zip --with 40MB
  lambdapack verify build/ --runtime python3.13 --kind function --json`,
			Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				o.Path = args[0]
				res, err := app.Verify(cmd.Context(), o, s.Out)
				if err != nil {
					return err
				}
				if res.Failed(o.Strict) {
					return &ExitError{Code: 1}
				}
				return nil
			},
		}
		f := cmd.Flags()
		f.StringVar(&o.Runtime, "runtime", "", "Lambda runtime, e.g. python3.12 (default: from the zip's lambdapack record)")
		f.StringVar(&o.Arch, "arch", "", "architecture: x86_64 or arm64 (default: from the zip's lambdapack record, else x86_64)")
		f.StringVar(&o.Kind, "kind", "", "artifact kind: layer or function (default: inferred)")
		f.StringArrayVar(&o.With, "with", nil, "another layer or function of the deployment for the size budget: a zip, a folder or a size (40MB); repeatable")
		f.BoolVar(&o.JSON, "json", false, "print the report as JSON")
		f.BoolVarP(&o.Verbose, "verbose", "v", false, "list every finding on its own (default: group findings of one rule and package)")
		f.BoolVar(&o.Strict, "strict", false, "fail on warnings too")
		return cmd
	})
}
