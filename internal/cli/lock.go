package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/lambdapack/lambdapack/internal/app"
	"github.com/lambdapack/lambdapack/internal/lock"
	"github.com/lambdapack/lambdapack/internal/resolve"
)

func init() {
	register(func(s *Streams) *cobra.Command {
		var (
			o     app.LockOptions
			env   app.EnvOptions
			json  bool
			quiet bool
		)
		cmd := &cobra.Command{
			Use:   "lock [REQUIREMENT...] [-r FILE | -r -] --runtime R --arch A [-o pylock.toml]",
			Short: "Resolve requirements for one Lambda target and write a PEP 751 pylock.toml",
			Long: `Resolve requirements (arguments, -r files, "-r -" for stdin) for one Lambda Python
runtime and architecture and write the exact wheels to install as a PEP 751
lock (pylock.toml): each package's version, dependencies and the one wheel
that loads on the target, with its URL, size, sha256 and upload time.

Wheels the target accepts come first: the runtime's Python, its
architecture and its glibc ceiling (manylinux_2_26 on the Amazon Linux 2
runtimes python3.9 to python3.11, manylinux_2_34 on python3.12 and later).
A package with no such wheel in the versions allowed is locked as its sdist,
which layer, function and build then build for the target (--no-build,
--only-binary and --no-binary change that, as in pip). Versions passed over
are reported. When nothing fits, the error explains why, step by step, with
hints.`,
			Example: `  lambdapack lock -r requirements.txt --runtime python3.12 --arch arm64
  lambdapack lock requests==2.32.3 httpx --runtime python3.11 -o pylock.toml --json
  pip freeze | lambdapack lock -r - --runtime python3.13 -o -`,
			RunE: func(cmd *cobra.Command, args []string) error {
				ctx := cmd.Context() // canceled by SIGINT and SIGTERM (Main)
				o.Deps.Requirements = args
				o.Deps.Stdin = s.In
				if !quiet {
					env.Log = s.Err
				}
				e, err := app.OpenEnv(env)
				if err != nil {
					return err
				}
				defer e.Close()
				r, err := app.Lock(ctx, e, o)
				var ns *resolve.NoSolutionError
				if errors.As(err, &ns) {
					fmt.Fprintln(s.Err, ns.Error())
					return &ExitError{Code: 1}
				}
				if err != nil {
					return err
				}
				if !quiet {
					for _, n := range r.Notes {
						fmt.Fprintln(s.Err, "Note: "+n)
					}
				}
				switch {
				case o.Output == "-":
					if err := lock.WritePylock(s.Out, r.Lock); err != nil {
						return err
					}
					if json {
						return app.WriteJSON(s.Err, r.Report)
					}
					return nil
				case json:
					return app.WriteJSON(s.Out, r.Report)
				case quiet:
					return nil
				}
				return app.WriteLockText(s.Out, r, o.Output)
			},
		}
		fl := cmd.Flags()
		registerInputFlags(fl, &o.Deps, false)
		fl.StringVar(&o.Runtime, "runtime", "", "Lambda runtime to lock for, e.g. python3.12 (see lambdapack targets)")
		fl.StringVar(&o.Arch, "arch", "x86_64", "architecture: x86_64 (amd64) or arm64 (aarch64)")
		fl.StringVar(&o.Python, "python", "", "Python X.Y of a custom target (with --glibc, instead of --runtime)")
		fl.StringVar(&o.Glibc, "glibc", "", "glibc X.Y of a custom target (with --python)")
		fl.StringVarP(&o.Output, "output", "o", "pylock.toml", "the lock file to write (\"-\" prints it on stdout)")
		fl.BoolVarP(&o.Upgrade, "upgrade", "U", false, "ignore the versions of an existing output lock (by default they are kept where they still fit)")
		registerEnvFlags(fl, &env)
		fl.BoolVar(&json, "json", false, "print {target, packages} as JSON on stdout")
		fl.BoolVarP(&quiet, "quiet", "q", false, "print nothing but errors (and --json output)")
		return cmd
	})
}
