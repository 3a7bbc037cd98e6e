package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/lambdapack/lambdapack/internal/app"
)

func init() {
	register(func(s *Streams) *cobra.Command {
		return &cobra.Command{
			Use:   "version",
			Short: "Print lambdapack's version",
			Long:  "Print lambdapack's version, the Go toolchain that built it and the platform it runs on.",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				_, err := fmt.Fprintln(s.Out, app.VersionString())
				return err
			},
		}
	})
}
