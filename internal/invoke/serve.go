package invoke

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/lambdapack/lambdapack/internal/events"
	"github.com/lambdapack/lambdapack/internal/runtimeapi"
)

// Served is what Serve serves: a project's functions (app.ProjectRun).
type Served interface {
	Function(name string) (*Function, bool)
	Names() []string
	// Routes are the functions' HTTP routes; urls the functions with a
	// function URL. Serve asks for each request (a watch may change them).
	Routes() (routes []Route, urls []string)
}

// ServeOptions configure Serve.
type ServeOptions struct {
	// Region is the AWS region in the HTTP events.
	Region string
	// Watch, when set, runs beside the server until ctx ends (a watch of
	// the project's files that rebuilds and restarts what changed).
	Watch func(ctx context.Context)
	Log   io.Writer
}

// Listen opens the server's socket, with an error that says what to do when
// the port is taken.
func Listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			_, port, _ := net.SplitHostPort(addr)
			return nil, fmt.Errorf("port %s is in use (another lambdapack serve, sam local or a dev server?): pass --port N, or --port 0 for any free port", port)
		}
		return nil, fmt.Errorf("listening on %s: %w", addr, err)
	}
	return ln, nil
}

// Serve serves the project's functions until ctx ends: the Lambda Invoke API
// at /2015-03-31/functions/{name}/invocations, and the functions' HTTP
// routes (API Gateway and function URL events) everywhere else.
func Serve(ctx context.Context, p Served, ln net.Listener, o ServeOptions) error {
	if o.Log == nil {
		o.Log = io.Discard
	}
	routes, urls := p.Routes()
	invoke := func(ctx context.Context, name string, payload []byte) (*runtimeapi.Result, error) {
		f, ok := p.Function(name)
		if !ok {
			return nil, fmt.Errorf("no function %s", name)
		}
		return f.Invoke(ctx, runtimeapi.Invocation{Payload: payload})
	}
	gw := &Gateway{Table: p.Routes, Invoke: invoke, Region: o.Region, Log: o.Log}
	api := &runtimeapi.InvokeAPI{
		Lookup: func(name string) (*runtimeapi.Function, bool) {
			f, ok := p.Function(name)
			if !ok {
				return nil, false
			}
			return f.Function, true
		},
		Names:      p.Names,
		Background: ctx,
	}
	mux := http.NewServeMux()
	mux.Handle("/2015-03-31/", api)
	mux.Handle("/", gw)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 30 * time.Second}

	addr := ln.Addr().String()
	fmt.Fprintf(o.Log, "Serving %s on http://%s\n", strings.Join(p.Names(), ", "), addr)
	fmt.Fprintf(o.Log, "  Lambda Invoke API: aws lambda invoke --endpoint-url http://%s --function-name NAME out.json\n", addr)
	for _, r := range routes {
		format := "HTTP API, payload 2.0"
		if r.REST() {
			format = "REST API, payload 1.0"
		} else if r.format() == events.Format1 {
			format = "HTTP API, payload 1.0"
		}
		fmt.Fprintf(o.Log, "  %-28s -> %s (%s)\n", r.String(), r.Function, format)
	}
	_, port, _ := net.SplitHostPort(addr)
	for _, u := range urls {
		fmt.Fprintf(o.Log, "  function URL: http://%s.localhost:%s/ -> %s\n", strings.ToLower(u), port, u)
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if o.Watch != nil {
		go o.Watch(ctx)
	}
	select {
	case <-ctx.Done():
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shut)
	return nil
}
