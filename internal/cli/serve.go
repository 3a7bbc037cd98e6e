package cli

import (
	"context"
	"fmt"
	"net"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/lambdapack/lambdapack/internal/app"
	"github.com/lambdapack/lambdapack/internal/invoke"
)

func init() {
	register(func(s *Streams) *cobra.Command {
		var (
			rf          runFlags
			host        string
			port        int
			watch       bool
			concurrency int
			only        []string
		)
		cmd := &cobra.Command{
			Use:   "serve",
			Short: "Serve a project's functions locally behind the Lambda Invoke API and their HTTP routes",
			Long: `Build what is stale and serve every function of the project, as Lambda runs
them (see lambdapack invoke), until Ctrl-C:

  - the Lambda Invoke API, POST /2015-03-31/functions/{name}/invocations, so
    boto3.client("lambda", endpoint_url="http://127.0.0.1:9001") and
    aws lambda invoke --endpoint-url http://127.0.0.1:9001 work unchanged;
  - the functions' HTTP routes: SAM Api and HttpApi events, serverless http and
    httpApi events (payload format 1.0 for REST APIs, 2.0 for HTTP APIs), and
    function URLs at http://NAME.localhost:PORT/.

Processes stay warm between invocations (init once, as Lambda does), one
invocation at a time each, more under concurrent load up to --concurrency per
function. With --watch, a change to the project's files (its code or its config)
rebuilds what changed and restarts only the functions whose code, layers or
settings (timeout, memory, environment, handler) changed; routes and functions
added to or removed from the config follow it.`,
			Example: `  lambdapack serve
  lambdapack serve --watch --port 3000
  aws lambda invoke --endpoint-url http://127.0.0.1:9001 --function-name api --payload '{}' out.json`,
			Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, args []string) error {
				ctx := cmd.Context() // canceled by SIGINT and SIGTERM (Main): serve stops, exit 0
				timeout, err := parseTimeout(rf.timeout)
				if err != nil {
					return err
				}
				if concurrency < 1 {
					return fmt.Errorf("--concurrency %d: give 1 or more processes per function", concurrency)
				}
				// Take the port first: a port in use fails before anything
				// is built.
				ln, err := invoke.Listen(net.JoinHostPort(host, strconv.Itoa(port)))
				if err != nil {
					return err
				}
				defer ln.Close()
				r, closeRunner, err := rf.runner(s)
				if err != nil {
					return err
				}
				defer closeRunner()
				po, err := rf.projectOptions(timeout, s.Err)
				if err != nil {
					return err
				}
				po.Concurrency, po.Only = concurrency, only
				po.SamconfigCommand = "local_start_api" // sam local start-api's samconfig section
				p, err := app.OpenProjectRun(ctx, r, po)
				if err != nil {
					return err
				}
				defer p.Close()
				so := invoke.ServeOptions{Region: r.Region(), Log: s.Err}
				if watch {
					so.Watch = func(ctx context.Context) { p.Watch(ctx, 0, s.Err) }
				}
				return invoke.Serve(ctx, p, ln, so)
			},
		}
		fl := cmd.Flags()
		fl.StringVar(&host, "host", "127.0.0.1", "the address to listen on")
		fl.IntVar(&port, "port", 9001, "the port to listen on (0: any free port)")
		fl.BoolVar(&watch, "watch", false, "rebuild and restart a function when its files change")
		fl.IntVar(&concurrency, "concurrency", 4, "processes per function at most, under concurrent load")
		fl.StringSliceVar(&only, "only", nil, "serve only these functions")
		rf.add(fl)
		rf.addProject(fl)
		return cmd
	})
}
