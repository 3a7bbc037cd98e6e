package app_test

import (
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lambdapack/lambdapack/internal/app"
	"github.com/lambdapack/lambdapack/internal/testutil"
)

// Helpers of the end-to-end tests (e2e_*_test.go, hostile_test.go). Names
// start with "e2e" so they stay clear of the other test files of package
// app_test.

// e2eLog forwards the build's progress lines to the test log.
type e2eLog struct {
	t  testing.TB
	mu sync.Mutex
}

func (l *e2eLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// e2eEnv opens an Env on cacheDir ("" = the shared e2e cache). Index
// settings stay empty unless o sets them, so the product discovers the index
// the way it does for a user (ultimately from pip).
func e2eEnv(t testing.TB, o app.EnvOptions) *app.Env {
	t.Helper()
	if o.CacheDir == "" {
		o.CacheDir = testutil.SharedCache(t)
	}
	if o.Log == nil {
		o.Log = &e2eLog{t: t}
	}
	env, err := app.OpenEnv(o)
	if err != nil {
		t.Fatalf("OpenEnv: %v", err)
	}
	t.Cleanup(func() { env.Close() })
	return env
}

// e2eBuild builds an artifact and fails the test on error.
func e2eBuild(t testing.TB, env *app.Env, o app.ArtifactOptions) *app.ArtifactReport {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	rep, err := app.BuildArtifact(ctx, env, o)
	if err != nil {
		t.Fatalf("BuildArtifact(%s %v %v): %v", o.Kind, o.Deps.Requirements, o.Deps.RequirementFiles, err)
	}
	if rep.Path != o.Output {
		t.Errorf("report path %q, want %q", rep.Path, o.Output)
	}
	st, err := os.Stat(o.Output)
	if err != nil {
		t.Fatalf("the artifact is not there: %v", err)
	}
	if st.Size() != rep.Size {
		t.Errorf("report says %d bytes, the file has %d", rep.Size, st.Size())
	}
	if got := e2eSHA256File(t, o.Output); got != rep.SHA256 {
		t.Errorf("report sha256 %s, file sha256 %s", rep.SHA256, got)
	}
	return rep
}

// e2eSharedObjects returns the .so files below dir/sub, relative to dir.
func e2eSharedObjects(t testing.TB, dir, sub string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(filepath.Join(dir, sub), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(p, ".so") || strings.Contains(filepath.Base(p), ".so.")) {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("listing %s: %v", sub, err)
	}
	sort.Strings(out)
	return out
}

// e2eELFMachine returns the ELF machine of a file.
func e2eELFMachine(t testing.TB, p string) elf.Machine {
	t.Helper()
	f, err := elf.Open(p)
	if err != nil {
		t.Fatalf("%s is not ELF: %v", p, err)
	}
	defer f.Close()
	return f.Machine
}

func e2eSHA256File(t testing.TB, p string) string {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return e2eSHA256(data)
}

func e2eHasPrefix(names []string, prefix string) bool {
	for _, n := range names {
		if strings.HasPrefix(n, prefix) {
			return true
		}
	}
	return false
}

func e2eSHA256(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
