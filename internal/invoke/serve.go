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

	"github.com/lambdapack/lambdapack/internal/runtimeapi"
)

// ServeOptions configure Serve.
type ServeOptions struct {
	// Addr is host:port to listen on ("127.0.0.1:9001"; port 0 picks one).
	Addr string
	// Watch rebuilds and restarts a function when the project's files
	// change, polling every WatchInterval (default 250 ms).
	Watch         bool
	WatchInterval time.Duration
	// Ready hears the address once the server listens.
	Ready func(addr string)
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
func Serve(ctx context.Context, p *Project, ln net.Listener, o ServeOptions) error {
	if o.Log == nil {
		o.Log = io.Discard
	}
	routes, urls := p.Routes()
	gw := &Gateway{Routes: routes, URLs: urls, Invoke: p.Invoke, Region: p.r.o.Region, Log: o.Log}
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
		if r.REST {
			format = "REST API, payload 1.0"
		} else if r.Format == "1.0" {
			format = "HTTP API, payload 1.0"
		}
		fmt.Fprintf(o.Log, "  %-28s -> %s (%s)\n", r.String(), r.Function, format)
	}
	_, port, _ := net.SplitHostPort(addr)
	for _, u := range urls {
		fmt.Fprintf(o.Log, "  function URL: http://%s.localhost:%s/ -> %s\n", strings.ToLower(u), port, u)
	}
	if o.Ready != nil {
		o.Ready(addr)
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if o.Watch {
		interval := o.WatchInterval
		if interval <= 0 {
			interval = 250 * time.Millisecond
		}
		go p.Watch(ctx, interval, func(changed []string, took time.Duration, err error) {
			switch {
			case err != nil:
				fmt.Fprintf(o.Log, "Rebuild failed (the running functions keep their last good build): %v\n", err)
			case len(changed) == 0:
				fmt.Fprintf(o.Log, "Files changed; no function's code or layers did (%s)\n", took.Round(time.Millisecond))
			default:
				fmt.Fprintf(o.Log, "Rebuilt %s in %s; the next invocation starts it afresh\n", strings.Join(changed, ", "), took.Round(time.Millisecond))
			}
		})
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
