package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/spf13/cobra"

	"github.com/lambdapack/lambdapack/internal/app"
	"github.com/lambdapack/lambdapack/internal/resolve"
)

// Streams are the standard streams a command reads and writes.
type Streams struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
}

// verbs holds the constructors registered by each verb's file.
var verbs []func(*Streams) *cobra.Command

// register adds a verb to the root command. Call it from init.
func register(f func(*Streams) *cobra.Command) { verbs = append(verbs, f) }

// ExitError carries a specific exit code out of a command (for example 1 when
// verify finds errors) after the command has printed its own message.
type ExitError struct{ Code int }

func (e *ExitError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// NewRoot builds the root command with every registered verb.
func NewRoot(s *Streams) *cobra.Command {
	root := &cobra.Command{
		Use:   "lambdapack",
		Short: "Ship Python to AWS Lambda: layers, function zips and images, without Docker",
		Long: `lambdapack builds AWS Lambda artifacts for Python (layer zips, function zips,
container images) for any Lambda Python runtime and either architecture, from
any machine, without Docker. It resolves dependencies for the exact target
(Python version, glibc ceiling, architecture), assembles byte-for-byte
reproducible artifacts, verifies every one before it ships, publishes it, and
runs functions locally as Lambda runs them.`,
		Version:       app.VersionString(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetIn(s.In)
	root.SetOut(s.Out)
	root.SetErr(s.Err)
	cmds := make([]*cobra.Command, 0, len(verbs))
	for _, f := range verbs {
		cmds = append(cmds, f(s))
	}
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].Name() < cmds[j].Name() })
	root.AddCommand(cmds...)
	return root
}

// Main runs lambdapack with args and returns the process exit code.
//
// SIGINT and SIGTERM cancel the run's context (cmd.Context() in every
// verb): the verb stops, its temporary files and a --no-cache cache are
// removed, and the exit status is 130 or 143. A second signal ends the
// process at once. What SIGKILL leaves (temporary files beside -o and in
// the cache, a --no-cache cache in TMPDIR) a later run removes once stale.
func Main(args []string, in io.Reader, out, errOut io.Writer) int {
	ctx, sigs, stop := catchInterrupts(context.Background())
	defer stop()
	s := &Streams{In: in, Out: out, Err: errOut}
	root := NewRoot(s)
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		if sig := sigs.signal(); sig != nil {
			fmt.Fprintf(errOut, "lambdapack: interrupted by %s; stopped without leaving a partial file\n", signalName(sig))
			return exitCode(sig)
		}
		var ee *ExitError
		if errors.As(err, &ee) {
			return ee.Code
		}
		if errors.Is(err, context.Canceled) {
			fmt.Fprintln(errOut, "lambdapack: interrupted; nothing was written")
			return 130
		}
		// A build refused by verification fails like verify does, and a
		// requirement set with no solution like lock does.
		var ve *app.VerifyError
		var ns *resolve.NoSolutionError
		if errors.As(err, &ve) || errors.As(err, &ns) {
			fmt.Fprintf(errOut, "lambdapack: %v\n", err)
			return 1
		}
		fmt.Fprintf(errOut, "lambdapack: %v\n", err)
		return 2
	}
	return 0
}
