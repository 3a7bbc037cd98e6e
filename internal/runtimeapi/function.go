package runtimeapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// Config describes one function to serve.
type Config struct {
	// Name is the function's name; ARN its invoked ARN (default
	// arn:aws:lambda:<Region>:123456789012:function:<Name>).
	Name, ARN string
	Region    string // default us-east-1
	// Version is the function version the REPORT and the Invoke API name
	// (default $LATEST).
	Version string
	// Timeout bounds one invocation (default 3 s, Lambda's); InitTimeout
	// the start of a process up to its first request for an event (default
	// 10 s, Lambda's).
	Timeout, InitTimeout time.Duration
	// MemoryMB is the configured memory (default 128); it is reported, not
	// enforced.
	MemoryMB int
	// Concurrency bounds the processes serving the function at once
	// (default 1).
	Concurrency int
	// Start starts one runtime process.
	Start StartFunc
	// Log receives the processes' output and Lambda's START, END and REPORT
	// lines (nil discards them). Writes are whole lines, one at a time.
	Log io.Writer
}

// Function serves invocations of one function through warm runtime
// processes.
type Function struct {
	cfg Config

	tokens chan struct{} // one per process that may run
	mu     sync.Mutex
	idle   []*instance // LIFO: the warmest first
	all    map[*instance]bool
	gen    int // bumped by Restart: older instances retire
	closed bool
	logMu  sync.Mutex
}

// ErrClosed is returned by Invoke after Close.
var ErrClosed = errors.New("the function is shut down")

// NewFunction prepares a function; no process starts before the first
// invocation.
func NewFunction(cfg Config) (*Function, error) {
	if cfg.Name == "" {
		return nil, errors.New("runtimeapi: a function needs a name")
	}
	if cfg.Start == nil {
		return nil, fmt.Errorf("runtimeapi: function %s has no StartFunc", cfg.Name)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.ARN == "" {
		cfg.ARN = fmt.Sprintf("arn:aws:lambda:%s:123456789012:function:%s", cfg.Region, cfg.Name)
	}
	if cfg.Version == "" {
		cfg.Version = "$LATEST"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 3 * time.Second
	}
	if cfg.InitTimeout <= 0 {
		cfg.InitTimeout = 10 * time.Second
	}
	if cfg.MemoryMB <= 0 {
		cfg.MemoryMB = 128
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 1
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	return &Function{cfg: cfg, tokens: make(chan struct{}, cfg.Concurrency), all: map[*instance]bool{}}, nil
}

// Name is the function's name.
func (f *Function) Name() string { return f.cfg.Name }

// Config returns the function's configuration, defaults filled in.
func (f *Function) Config() Config { return f.cfg }

// Invoke runs one invocation on a warm process, or a new one when none is
// idle and fewer than Concurrency run; else it waits for one. It returns
// when the function answered, failed or timed out; an error means the
// invocation could not be run at all (ctx ended first, the function is
// closed, the process could not be started).
//
// When ctx ends first, the invocation still runs to its end in the
// background, as it would on Lambda, and its process then serves the next.
func (f *Function) Invoke(ctx context.Context, inv Invocation) (*Result, error) {
	if inv.RequestID == "" {
		inv.RequestID = newID()
	}
	if inv.TraceID == "" {
		inv.TraceID = newTraceID(time.Now())
	}
	select {
	case f.tokens <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	inst, err := f.take(ctx)
	if err != nil {
		<-f.tokens
		return nil, err
	}
	type outcome struct {
		res *Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := inst.invoke(inv)
		f.give(inst)
		<-f.tokens
		done <- outcome{res, err}
	}()
	select {
	case o := <-done:
		return o.res, o.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// take returns an idle instance, or a new one (not started yet).
func (f *Function) take(ctx context.Context) (*instance, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil, ErrClosed
	}
	for len(f.idle) > 0 {
		inst := f.idle[len(f.idle)-1]
		f.idle = f.idle[:len(f.idle)-1]
		if inst.usable() && inst.gen == f.gen {
			return inst, nil
		}
		delete(f.all, inst)
		go inst.stop()
	}
	inst := newInstance(f, f.gen)
	f.all[inst] = true
	return inst, nil
}

// give puts an instance back after an invocation, or retires it.
func (f *Function) give(inst *instance) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed || !inst.usable() || inst.gen != f.gen {
		delete(f.all, inst)
		go inst.stop()
		return
	}
	f.idle = append(f.idle, inst)
}

// Restart retires every process: idle ones stop now, busy ones when their
// invocation ends; the next invocation starts a fresh process (after a
// rebuild, say).
func (f *Function) Restart() {
	f.mu.Lock()
	f.gen++
	idle := f.idle
	f.idle = nil
	for _, inst := range idle {
		delete(f.all, inst)
	}
	f.mu.Unlock()
	for _, inst := range idle {
		inst.stop()
	}
}

// Processes is the number of runtime processes the function holds (idle or
// busy).
func (f *Function) Processes() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.all)
}

// Close stops every process, waiting for them to exit; invocations still
// running end with an error.
func (f *Function) Close() error {
	f.mu.Lock()
	f.closed = true
	all := make([]*instance, 0, len(f.all))
	for inst := range f.all {
		all = append(all, inst)
	}
	f.all = map[*instance]bool{}
	f.idle = nil
	f.mu.Unlock()
	var wg sync.WaitGroup
	for _, inst := range all {
		wg.Add(1)
		go func() { defer wg.Done(); inst.stop() }()
	}
	wg.Wait()
	return nil
}

// writeLog writes whole lines to the function's log, one writer at a time.
func (f *Function) writeLog(p []byte) {
	f.logMu.Lock()
	defer f.logMu.Unlock()
	_, _ = f.cfg.Log.Write(p)
}
