package cli

import (
	"context"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// stopSignals are the signals that stop a run cleanly: SIGINT (Ctrl-C) and
// SIGTERM (what CI systems, container runtimes and process managers send).
var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM}

// interrupts cancels a run's context at the first stop signal, so every
// verb unwinds through its deferred cleanups (the temporary zip, a
// --no-cache cache), and remembers the signal for the exit status. A second
// signal is not caught: it ends the process at once.
type interrupts struct {
	ch   chan os.Signal
	done chan struct{}
	mu   sync.Mutex
	sig  os.Signal
}

// catchInterrupts returns a context canceled by the first stop signal.
// Call stop when the run is over.
func catchInterrupts(parent context.Context) (ctx context.Context, in *interrupts, stop func()) {
	in = &interrupts{ch: make(chan os.Signal, 1), done: make(chan struct{})}
	ctx, cancel := context.WithCancel(parent)
	signal.Notify(in.ch, stopSignals...)
	go func() {
		select {
		case s := <-in.ch:
			in.mu.Lock()
			in.sig = s
			in.mu.Unlock()
			// The next signal gets the default action (the process ends).
			signal.Stop(in.ch)
			cancel()
		case <-in.done:
		}
	}()
	var once sync.Once
	return ctx, in, func() {
		once.Do(func() {
			signal.Stop(in.ch)
			close(in.done)
			cancel()
		})
	}
}

// signal returns the stop signal received, nil when none was.
func (in *interrupts) signal() os.Signal {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.sig
}

// exitCode is the shell's convention for a run ended by s: 128 plus its
// number (130 for SIGINT, 143 for SIGTERM).
func exitCode(s os.Signal) int {
	if n, ok := s.(syscall.Signal); ok {
		return 128 + int(n)
	}
	return 130
}

// signalName is "SIGINT" or "SIGTERM".
func signalName(s os.Signal) string {
	switch s {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return s.String()
}
