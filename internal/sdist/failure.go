package sdist

import (
	"encoding/json"
	"errors"
	"os"

	"github.com/lambdapack/lambdapack/internal/atomicfile"
)

// A cross build that fails the same way every time (its compiler errors,
// its wheel refused by verification) is remembered beside the built
// wheels, under the same key (the sdist, the build environment, the target,
// zig), so a warm build goes straight to the pure fallback instead of
// compiling again. Timeouts, escapes and cancellations are not remembered:
// they may not happen again.

type storedFailure struct {
	Package, Version, Target string
	Stage, Output, Reproduce string
	Err                      string
}

func saveFailure(p string, be *BuildError) {
	var esc *EscapeError
	if be.TimedOut > 0 || errors.Is(be.Err, errTimeout) || errors.As(be.Err, &esc) {
		return
	}
	data, err := json.Marshal(storedFailure{Package: be.Package, Version: be.Version, Target: be.Target,
		Stage: be.Stage, Output: lastLines(be.Output, 40), Reproduce: be.Reproduce, Err: be.Err.Error()})
	if err == nil {
		_ = atomicfile.WriteFile(p, data, 0o644) // only a shortcut: a failed write changes nothing
	}
}

func loadFailure(p string) (*BuildError, bool) {
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, false
	}
	var f storedFailure
	if json.Unmarshal(data, &f) != nil || f.Err == "" {
		return nil, false
	}
	return &BuildError{Package: f.Package, Version: f.Version, Target: f.Target, Mode: Cross, Stage: f.Stage,
		Output: f.Output, Reproduce: f.Reproduce, Err: errors.New(f.Err + " (remembered from an earlier build of the same sdist; lambdapack cache clean forgets it)")}, true
}
