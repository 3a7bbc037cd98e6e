package pins_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/lambdapack/lambdapack/internal/cache"
	"github.com/lambdapack/lambdapack/internal/index"
	"github.com/lambdapack/lambdapack/internal/pins"
	"github.com/lambdapack/lambdapack/internal/target"
	"github.com/lambdapack/lambdapack/internal/testutil"
)

// lines is a concurrency-safe log sink.
type lines struct{ testutil.SyncBuffer }

func (l *lines) count(s string) int { return strings.Count(l.String(), s) }

func setup(t *testing.T) (*testutil.Index, *pins.Pinner, *lines) {
	t.Helper()
	ix := testutil.StartIndex(t, testutil.IndexOptions{})
	ix.AddWheel(testutil.Wheel{Name: "app", Version: "1.0", RequiresDist: []string{"lib>=1"}})
	ix.AddWheel(testutil.Wheel{Name: "lib", Version: "1.0", Tags: []string{"cp312-cp312-manylinux_2_17_x86_64"}})
	ix.AddWheel(testutil.Wheel{Name: "lib", Version: "1.0"}) // py3-none-any, ranked below
	c, err := cache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	log := &lines{}
	p := pins.New(pins.Options{Cache: c, Index: index.Settings{IndexURL: ix.URL}, Log: slog.New(slog.NewTextHandler(log, nil))})
	return ix, p, log
}

func py312(t *testing.T) target.Target {
	tg, err := target.New("python3.12", "x86_64")
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

// One resolution per distinct (inputs, target), shared by concurrent
// callers, each getting its own copy; standard input is never shared.
func TestPinMemo(t *testing.T) {
	_, p, log := setup(t)
	tg := py312(t)
	in := pins.Inputs{Requirements: []string{"app"}}
	var wg sync.WaitGroup
	sets := make([]*pins.Set, 4)
	for i := range sets {
		wg.Go(func() {
			s, err := p.Pin(context.Background(), tg, in)
			if err != nil {
				t.Error(err)
			}
			sets[i] = s
		})
	}
	wg.Wait()
	if n := log.count("Resolved"); n != 1 {
		t.Errorf("resolved %d times, want once", n)
	}
	if len(sets[0].Pins) != 2 || sets[0].Pins[1].File.Filename != "lib-1.0-cp312-cp312-manylinux_2_17_x86_64.whl" {
		t.Fatalf("pins %+v", sets[0].Pins)
	}
	sets[0].Pins[0].Name = "changed"
	if sets[1].Pins[0].Name == "changed" {
		t.Error("callers share one slice of pins")
	}
	if sets[0].Wheels() != sets[2].Wheels() || pins.Hash(sets[0].Pins[1:]) == pins.Hash(sets[2].Pins) {
		t.Error("Wheels/Hash do not tell sets apart")
	}
	// Another target is another resolution.
	arm, _ := target.New("python3.12", "arm64")
	if _, err := p.Pin(context.Background(), arm, in); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		in := pins.Inputs{RequirementFiles: []string{"-"}, Stdin: strings.NewReader("app\n")}
		if _, err := p.Pin(context.Background(), tg, in); err != nil {
			t.Fatal(err)
		}
	}
	if n := log.count("Resolved"); n != 4 {
		t.Errorf("resolved %d times, want 4 (one, arm64, stdin twice)", n)
	}
}

// Hash-checking mode: the wheel used must have a listed hash (another wheel
// of the version is taken), and every package needs one.
func TestRequireHashes(t *testing.T) {
	ix, p, _ := setup(t)
	tg := py312(t)
	anyWheel := "lib-1.0-py3-none-any.whl"
	req := filepath.Join(t.TempDir(), "requirements.txt")
	os.WriteFile(req, []byte("lib==1.0 --hash=sha256:"+ix.SHA256(anyWheel)+"\n"), 0o644)
	s, err := p.Pin(context.Background(), tg, pins.Inputs{RequirementFiles: []string{req}})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Pins) != 1 || s.Pins[0].File.Filename != anyWheel || s.Pins[0].SHA256 != ix.SHA256(anyWheel) {
		t.Errorf("pins %+v, want the hashed %s", s.Pins, anyWheel)
	}
	os.WriteFile(req, []byte("app==1.0 --hash=sha256:"+ix.SHA256("app-1.0-py3-none-any.whl")+"\n"), 0o644)
	_, err = p.Pin(context.Background(), tg, pins.Inputs{RequirementFiles: []string{req}})
	if err == nil || !strings.Contains(err.Error(), "lib 1.0 has no --hash (a dependency of app)") {
		t.Errorf("a dependency without a hash: %v", err)
	}
}

// A lock is read by its name's format; one that records only hashes
// (Pipfile.lock) is completed from the index; a lock with requirements is
// refused; fetched wheels are the pinned ones.
func TestPinFromLockAndFetch(t *testing.T) {
	ix, p, log := setup(t)
	tg := py312(t)
	dir := t.TempDir()
	lockPath := filepath.Join(dir, "Pipfile.lock")
	doc := map[string]any{"default": map[string]any{
		"app": map[string]any{"version": "==1.0", "hashes": []string{"sha256:" + ix.SHA256("app-1.0-py3-none-any.whl")}},
		"lib": map[string]any{"version": "==1.0", "hashes": []string{
			"sha256:" + ix.SHA256("lib-1.0-py3-none-any.whl"), "sha256:" + ix.SHA256("lib-1.0-cp312-cp312-manylinux_2_17_x86_64.whl")}},
	}}
	b, _ := json.Marshal(doc)
	os.WriteFile(lockPath, b, 0o644)
	s, err := p.Pin(context.Background(), tg, pins.Inputs{Lock: lockPath})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Pins) != 2 || s.Pins[1].File.Filename != "lib-1.0-cp312-cp312-manylinux_2_17_x86_64.whl" || s.Resolution != nil {
		t.Fatalf("pins from the lock: %+v", s)
	}
	if log.count("Read 2 packages") != 1 || log.count("Resolved") != 0 {
		t.Errorf("log: %s", log.String())
	}
	blobs, err := p.Fetch(context.Background(), s.Pins)
	if err != nil {
		t.Fatal(err)
	}
	for i, bl := range blobs {
		if bl.SHA256 != s.Pins[i].SHA256 || bl.Path == "" {
			t.Errorf("blob %d: %+v for %+v", i, bl, s.Pins[i])
		}
	}
	if _, err := p.Pin(context.Background(), tg, pins.Inputs{Lock: lockPath, Requirements: []string{"app"}}); err == nil || !strings.Contains(err.Error(), "not both") {
		t.Errorf("a lock with requirements: %v", err)
	}
	other := filepath.Join(dir, "requirements.lock")
	os.WriteFile(other, []byte("x"), 0o644)
	if _, err := p.Pin(context.Background(), tg, pins.Inputs{Lock: other}); err == nil || !strings.Contains(err.Error(), "pylock.toml, uv.lock, poetry.lock or Pipfile.lock") {
		t.Errorf("an unknown lock format: %v", err)
	}
}
