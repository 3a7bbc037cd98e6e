package progress

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
)

func TestNewLogger(t *testing.T) {
	var b bytes.Buffer
	log := NewLogger(&b, false)
	log.Info("Resolved 3 packages", "ignored", 1)
	log.Warn("find-links location is missing; skipping it", "location", "/no such", "err", "gone")
	log.With("index", "main").WithGroup("req").Error("failed", "n", 2)
	log.Debug("not shown")
	want := "Resolved 3 packages\n" +
		`warning: find-links location is missing; skipping it location="/no such" err=gone` + "\n" +
		"error: failed index=main req.n=2\n"
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	NewLogger(&b, true).Debug("retrying", "attempt", 2)
	if b.String() != "debug: retrying attempt=2\n" {
		t.Errorf("verbose: %q", b.String())
	}
	NewLogger(nil, true).Log(context.Background(), slog.LevelError, "dropped") // a nil writer discards
}
