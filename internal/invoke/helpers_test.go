package invoke_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lambdapack/lambdapack/internal/app"
	"github.com/lambdapack/lambdapack/internal/invoke"
	"github.com/lambdapack/lambdapack/internal/runtimeapi"
	"github.com/lambdapack/lambdapack/internal/testutil"
	"github.com/lambdapack/lambdapack/internal/tree"
)

// filesTree is a tree of in-memory files (slash path -> content); a path
// ending in "*" is executable.
func filesTree(files map[string]string) *tree.Tree {
	t := &tree.Tree{}
	for p, c := range files {
		mode := os.FileMode(0o644)
		if strings.HasSuffix(p, "*") {
			p, mode = strings.TrimSuffix(p, "*"), 0o755
		}
		t.Files = append(t.Files, tree.File{Path: p, Mode: mode, Size: int64(len(c)), Origin: tree.FromBytes, Data: []byte(c), Role: tree.RoleCode})
	}
	if err := t.Sort(); err != nil {
		panic(err)
	}
	return t
}

// testRunner is a Runner on the shared test cache (so awslambdaric is
// fetched once per machine) with its own work folder; only awslambdaric is
// installed as the runtime's packages unless pkgs says otherwise.
func testRunner(t *testing.T, o invoke.Options) (*invoke.Runner, *testutil.SyncBuffer) {
	t.Helper()
	log := &testutil.SyncBuffer{}
	if o.CacheDir == "" {
		o.CacheDir = testutil.SharedCache(t)
	}
	if o.Packages == nil {
		var closeEnv func() error
		o.Packages, closeEnv = app.RuntimePackages(app.EnvOptions{CacheDir: o.CacheDir})
		t.Cleanup(func() { closeEnv() })
	}
	if o.WorkDir == "" {
		o.WorkDir = t.TempDir()
	}
	if o.RuntimePackages == nil {
		o.RuntimePackages = []string{"awslambdaric"}
	}
	if o.Find.Python == "" && o.Find.RootFS == "" {
		o.Find.Env = pyenvOnly(t)
	}
	o.Log = io.MultiWriter(log, &testLog{t: t})
	o.Notes = &testLog{t: t}
	if o.InitTimeout == 0 {
		o.InitTimeout = 60 * time.Second
	}
	r, err := invoke.NewRunner(o)
	if err != nil {
		t.Fatal(err)
	}
	return r, log
}

// pyenvOnly is an environment in which FindInterpreter finds pyenv's
// CPythons (as TESTING.md says the tests use) and not the machine's others.
func pyenvOnly(t *testing.T) []string {
	home, _ := os.UserHomeDir()
	root := os.Getenv("PYENV_ROOT")
	if root == "" {
		root = filepath.Join(home, ".pyenv")
	}
	return []string{"PATH=/nonexistent", "PYENV_ROOT=" + root, "HOME=" + t.TempDir()}
}

func open(t *testing.T, r *invoke.Runner, spec invoke.Spec) *invoke.Function {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	fn, err := r.Open(ctx, spec)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { fn.Close() })
	return fn
}

func call(t *testing.T, fn *invoke.Function, payload string) *runtimeapi.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := fn.Invoke(ctx, runtimeapi.Invocation{Payload: []byte(payload)})
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	return res
}

type testLog struct {
	t  *testing.T
	mu sync.Mutex
}

func (l *testLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := strings.TrimRight(string(p), "\n")
	if len(s) > 2000 {
		s = s[:2000] + "..."
	}
	l.t.Log(s)
	return len(p), nil
}

// tagged lists the live processes whose environment holds s.
func tagged(t *testing.T, s string) []string { return testutil.ProcessesWith(s) }

// buildZip builds a function or layer zip with lambdapack for the tests.
func buildZip(t *testing.T, o app.ArtifactOptions) string {
	t.Helper()
	env, err := app.OpenEnv(app.EnvOptions{CacheDir: testutil.SharedCache(t), Log: &testLog{t: t}})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if o.Output == "" {
		o.Output = filepath.Join(t.TempDir(), string(o.Kind)+".zip")
	}
	if _, err := app.BuildArtifact(ctx, env, o); err != nil {
		t.Fatalf("building %s: %v", o.Kind, err)
	}
	return o.Output
}
