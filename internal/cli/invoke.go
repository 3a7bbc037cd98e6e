package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/lambdapack/lambdapack/internal/app"
	"github.com/lambdapack/lambdapack/internal/invoke"
	"github.com/lambdapack/lambdapack/internal/project"
	"github.com/lambdapack/lambdapack/internal/record"
	"github.com/lambdapack/lambdapack/internal/runtimeapi"
	"github.com/lambdapack/lambdapack/internal/tree"
)

// runFlags are what invoke and serve share: where the interpreter and the
// runtime client come from, the cache and the index.
type runFlags struct {
	opts    invoke.Options
	env     app.EnvOptions
	timeout string
	envFile string
	params  []string // --parameter-overrides
	project app.ProjectRunOptions
}

func (f *runFlags) add(fl *pflag.FlagSet) {
	fl.StringVar(&f.opts.Find.Python, "python", "", "the CPython to run on (default: found on PATH, in pyenv or uv, of the runtime's exact version)")
	fl.StringVar(&f.opts.Find.RootFS, "rootfs", "", "for a function of another architecture than this machine's: a root folder of its architecture holding its CPython (run under qemu-user)")
	fl.StringVar(&f.timeout, "timeout", "", "the function's timeout, in seconds or as 1m30s (default: the config's, else 3)")
	fl.StringVar(&f.envFile, "env-file", "", "variables for the function: KEY=VALUE lines, or SAM's --env-vars JSON")
	fl.StringVar(&f.opts.Region, "region", "", "AWS_REGION of the function (default: AWS_REGION, AWS_DEFAULT_REGION, else us-east-1)")
	fl.BoolVar(&f.opts.RefreshRuntime, "refresh-runtime", false, "install the runtime client (awslambdaric, boto3) from the index again")
	fl.StringVar(&f.env.CacheDir, "cache-dir", "", "cache folder (default $LAMBDAPACK_CACHE_DIR or the user cache folder)")
	fl.BoolVar(&f.env.Offline, "offline", false, "use the cache alone")
	registerIndexFlags(fl, &f.env.Index)
}

func (f *runFlags) addProject(fl *pflag.FlagSet) {
	fl.StringVar(&f.project.Dir, "project", "", "the project folder (default: the working directory)")
	fl.StringVar(&f.project.Config, "config", "", "the config file (default: discovered in the project folder)")
	fl.StringVar(&f.project.Stage, "stage", "", "serverless stage for ${opt:stage} and ${sls:stage} (default: provider.stage, else dev)")
	fl.StringVar(&f.project.Out, "out", "", "the build's output folder (default PROJECT/dist)")
	registerParameterOverrides(fl, &f.params)
}

// projectOptions are the project run's options from the flags.
func (f *runFlags) projectOptions(timeout time.Duration, notes io.Writer) (app.ProjectRunOptions, error) {
	po := f.project
	params, err := parseParameterOverrides(f.params)
	if err != nil {
		return po, err
	}
	po.Params, po.EnvFile, po.Timeout, po.Notes, po.Env = params, f.envFile, timeout, notes, f.env
	return po, nil
}

// parseTimeout reads "10", "2.5" (seconds) or "1m30s".
func parseTimeout(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		if n <= 0 || n > 900 {
			return 0, fmt.Errorf("--timeout %s: Lambda's timeout is 1 to 900 seconds", s)
		}
		return time.Duration(n * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 || d > 900*time.Second {
		return 0, fmt.Errorf("--timeout %s: give seconds (10) or a duration (1m30s), at most 900 s", s)
	}
	return d, nil
}

// runner makes the Runner; close releases what installing the runtime
// client opened.
func (f *runFlags) runner(s *Streams) (r *invoke.Runner, close func() error, err error) {
	o := f.opts
	o.CacheDir = f.env.CacheDir
	o.Log, o.Notes = s.Err, s.Err
	var closeEnv func() error
	o.Packages, closeEnv = app.RuntimePackages(f.env)
	r, err = invoke.NewRunner(o)
	if err != nil {
		closeEnv()
		return nil, nil, err
	}
	return r, closeEnv, nil
}

// readEvent reads the event (a file, or - for stdin) and checks it is JSON.
func readEvent(s *Streams, arg string) ([]byte, error) {
	if arg == "" {
		return []byte("{}"), nil
	}
	var r io.Reader
	name := arg
	if arg == "-" {
		r, name = s.In, "the event on stdin"
	} else {
		f, err := os.Open(arg)
		if err != nil {
			return nil, fmt.Errorf("reading --event: %w", err)
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, runtimeapi.MaxRequestPayload+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if len(b) > runtimeapi.MaxRequestPayload {
		return nil, fmt.Errorf("%s is over Lambda's %d-byte limit for a synchronous invocation", name, runtimeapi.MaxRequestPayload)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return []byte("{}"), nil
	}
	if err := jsonError(b); err != nil {
		return nil, fmt.Errorf("%s is not JSON: %v (Lambda takes a JSON event; `lambdapack event TYPE` prints samples)", name, err)
	}
	return b, nil
}

// jsonError says where b stops being one JSON value.
func jsonError(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	var v any
	if err := dec.Decode(&v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line := bytes.Count(b[:min(int(se.Offset), len(b))], []byte("\n")) + 1
			return fmt.Errorf("line %d: %v", line, err)
		}
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("more after the JSON value at byte %d", dec.InputOffset())
	}
	return nil
}

func init() {
	register(func(s *Streams) *cobra.Command {
		var (
			rf        runFlags
			zipPath   string
			layers    []string
			handler   string
			rt, arch  string
			name      string
			eventFile string
			memory    int
		)
		cmd := &cobra.Command{
			Use:   "invoke [NAME]",
			Short: "Run a function once on this machine, as Lambda runs it, without Docker",
			Long: `Run a function once with an event, as Lambda would: its code as the task root,
its layers in order in an /opt folder, Lambda's environment and sys.path, the
official runtime client (awslambdaric, installed from the index for the
function's target), a CPython of the runtime's exact version (arm64 under
qemu-user with --rootfs on an x86_64 machine).

In a project (its own config, serverless.yml or a SAM template), NAME names the
function; what is stale is built first, as ` + "`lambdapack build`" + ` does. Outside a project,
give the zips: --zip function.zip [--layer layer.zip]... --handler app.handler
(--runtime and --arch default to what a lambdapack zip records).

The function's result goes to stdout; its logs, with Lambda's START, END and
REPORT lines, to stderr. A function error prints Lambda's error document
(errorMessage, errorType, stackTrace, requestId) and exits 1; a timeout prints
"Task timed out after N.00 seconds" and exits 1.`,
			Example: `  lambdapack invoke ApiFunction --event event.json
  lambdapack event sqs --body hi | lambdapack invoke worker --event -
  lambdapack invoke --zip dist/api.zip --layer dist/deps-x86_64.zip --handler app.handler --runtime python3.12
  lambdapack invoke --zip fn.zip --handler app.handler --runtime python3.11 --arch arm64 --rootfs ~/arm64-root`,
			Args: cobra.MaximumNArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				ctx := cmd.Context() // canceled by SIGINT and SIGTERM (Main)
				timeout, err := parseTimeout(rf.timeout)
				if err != nil {
					return err
				}
				payload, err := readEvent(s, eventFile)
				if err != nil {
					return err
				}
				r, closeRunner, err := rf.runner(s)
				if err != nil {
					return err
				}
				defer closeRunner()

				var fn *invoke.Function
				if zipPath != "" {
					if len(args) > 0 {
						return fmt.Errorf("give NAME (a project's function) or --zip, not both")
					}
					fn, err = openZip(ctx, r, zipPath, layers, handler, rt, arch, name, timeout, memory, rf.envFile)
				} else {
					if len(layers) > 0 || handler != "" || rt != "" || arch != "" {
						return fmt.Errorf("--layer, --handler, --runtime and --arch go with --zip; a project's function takes them from its config")
					}
					var p *app.ProjectRun
					rf.project.MemoryMB = memory
					p, fn, err = openProjectFunction(ctx, r, rf, args, timeout, s.Err)
					if p != nil {
						defer p.Close()
					}
				}
				if err != nil {
					return err
				}
				defer fn.Close()
				res, err := fn.Invoke(ctx, runtimeapi.Invocation{Payload: payload})
				if err != nil {
					return err
				}
				out := res.Payload
				if len(out) == 0 || out[len(out)-1] != '\n' {
					out = append(out, '\n')
				}
				if _, err := s.Out.Write(out); err != nil {
					return err
				}
				if res.Failed() {
					return &ExitError{Code: 1}
				}
				return nil
			},
		}
		fl := cmd.Flags()
		fl.StringVar(&eventFile, "event", "", "the event: a JSON file, or - for stdin (default {})")
		fl.StringVar(&zipPath, "zip", "", "a function zip to run (outside a project)")
		fl.StringArrayVar(&layers, "layer", nil, "a layer zip, in Lambda's order (repeatable; with --zip)")
		fl.StringVar(&handler, "handler", "", "module.function (with --zip; default: the zip's record)")
		fl.StringVar(&rt, "runtime", "", "the Lambda runtime, python3.9 to python3.14 (with --zip; default: the zip's record)")
		fl.StringVar(&arch, "arch", "", "x86_64 or arm64 (with --zip; default: the zip's record, else x86_64)")
		fl.StringVar(&name, "name", "", "the function's name (with --zip; default: the zip's file name)")
		fl.IntVar(&memory, "memory", 0, "the memory size reported to the function, MB (default: the config's, else 128)")
		rf.add(fl)
		rf.addProject(fl)
		return cmd
	})
}

// openZip opens a function from zips.
func openZip(ctx context.Context, r *invoke.Runner, zipPath string, layerPaths []string, handler, rt, arch, name string, timeout time.Duration, memory int, envFile string) (*invoke.Function, error) {
	code, err := invoke.ZipTree(zipPath)
	if err != nil {
		return nil, err
	}
	defer code.Close()
	rec := code.Record
	if rec.Kind == record.KindLayer {
		return nil, fmt.Errorf("%s is a layer zip: give the function's zip with --zip and this one with --layer", zipPath)
	}
	if rt == "" {
		rt = rec.Runtime
	}
	if arch == "" {
		arch = rec.Architecture
	}
	if handler == "" {
		handler = rec.Handler
	}
	if rt == "" {
		return nil, fmt.Errorf("%s does not say which runtime it is for: pass --runtime (python3.9 to python3.14)", zipPath)
	}
	if handler == "" {
		return nil, fmt.Errorf("pass --handler module.function (for `def handler` in app.py: --handler app.handler)")
	}
	var layers []*tree.Tree
	for _, lp := range layerPaths {
		lt, err := invoke.ZipTree(lp)
		if err != nil {
			return nil, err
		}
		defer lt.Close()
		if lt.Record.Kind == record.KindFunction {
			return nil, fmt.Errorf("--layer %s is a function zip: a layer's files go under python/ (build one with lambdapack layer)", lp)
		}
		if lr := lt.Record; lr.Architecture != "" && arch != "" && lr.Architecture != arch && !containsArch(lr, arch) {
			fmt.Fprintf(os.Stderr, "warning: %s was built for %s, the function runs on %s\n", lp, lr.Architecture, arch)
		}
		layers = append(layers, lt)
	}
	if name == "" {
		name = strings.TrimSuffix(filepath.Base(zipPath), filepath.Ext(zipPath))
	}
	var env map[string]string
	if envFile != "" {
		if env, err = invoke.ReadEnvFile(envFile, name); err != nil {
			return nil, err
		}
		if err := invoke.CheckVariables(env, "--env-file "+envFile, true); err != nil {
			return nil, err
		}
	}
	return r.Open(ctx, invoke.Spec{
		Name: name, Handler: handler, Runtime: rt, Arch: arch, Code: code, Layers: layers,
		Env: env, Timeout: timeout, MemoryMB: memory,
	})
}

func containsArch(r record.Record, arch string) bool {
	for _, a := range r.Architectures {
		if a == arch {
			return true
		}
	}
	return false
}

// openProjectFunction builds what is stale and opens one function of the
// project.
func openProjectFunction(ctx context.Context, r *invoke.Runner, rf runFlags, args []string, timeout time.Duration, notes io.Writer) (*app.ProjectRun, *invoke.Function, error) {
	po, err := rf.projectOptions(timeout, notes)
	if err != nil {
		return nil, nil, err
	}
	po.SamconfigCommand = "local_invoke" // sam local invoke's samconfig section
	if len(args) == 1 {
		po.Only = []string{args[0]}
	} else {
		names, err := projectFunctionNames(po)
		if err != nil {
			return nil, nil, err
		}
		if len(names) != 1 {
			return nil, nil, fmt.Errorf("the project has %d functions (%s): name the one to invoke", len(names), strings.Join(names, ", "))
		}
		po.Only = names
	}
	p, err := app.OpenProjectRun(ctx, r, po)
	if err != nil {
		return nil, nil, err
	}
	fn, _ := p.Function(po.Only[0])
	return p, fn, nil
}

// projectFunctionNames lists the Python functions of the project.
func projectFunctionNames(po app.ProjectRunOptions) ([]string, error) {
	dir := po.Dir
	if dir == "" {
		dir = "."
	}
	cfg, err := project.Load(dir, project.LoadOptions{Config: po.Config, Stage: po.Stage, Params: po.Params, SamconfigCommand: po.SamconfigCommand})
	if err != nil {
		return nil, err
	}
	return app.RunnableFunctions(cfg), nil
}
