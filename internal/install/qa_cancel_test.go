package install

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/lambdapack/lambdapack/internal/testutil"
)

// TestQACanceledIsNotAHostileWheel: Ctrl-C during `lambdapack layer` (the
// context canceled while wheels are being checked) printed
//
//	refusing wheel numpy-2.5.5-...whl: context canceled (the wheel is broken
//	or was tampered with: nothing was written; fetch it again, or pin another version)
//
// An interrupted build must report the interruption, not blame the wheel.
func TestQACanceledIsNotAHostileWheel(t *testing.T) {
	dir := t.TempDir()
	var wheels []Wheel
	for _, n := range []string{"alpha", "beta"} {
		w := testutil.Wheel{Name: n, Version: "1.0", Files: map[string][]byte{n + "/__init__.py": []byte("X = 1\n")}}
		p := filepath.Join(dir, w.Filename())
		if err := os.WriteFile(p, w.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		wheels = append(wheels, Wheel{Path: p})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for name, run := range map[string]func() error{
		"Build": func() error {
			p, err := Build(ctx, wheels, Options{Layout: LayerLayout()})
			if p != nil {
				p.Close()
			}
			return err
		},
		"Check": func() error { return Check(ctx, wheels[0], Options{Layout: LayerLayout()}) },
	} {
		err := run()
		if err == nil {
			t.Errorf("%s: no error with a canceled context", name)
			continue
		}
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s: %v does not wrap context.Canceled", name, err)
		}
		var we *WheelError
		if errors.As(err, &we) {
			t.Errorf("%s: a canceled build is reported as a broken wheel: %v", name, err)
		}
	}
}
