package app_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lambdapack/lambdapack/internal/app"
	"github.com/lambdapack/lambdapack/internal/index"
	"github.com/lambdapack/lambdapack/internal/testutil"
)

// TestVerificationRefusalFallsBack: a wheel verification refuses (it claims
// aarch64 and holds an x86_64 module) is never installed: the next file of
// the same version the target accepts is, else an older version, with a
// note naming the refused file and why. A lock says exactly what to
// install, so there the refusal is an error.
func TestVerificationRefusalFallsBack(t *testing.T) {
	t.Parallel()
	bad := hostileMislabelledWheel(t)
	ix := testutil.StartIndex(t, testutil.IndexOptions{})
	ix.AddWheel(bad)
	ix.AddWheel(testutil.Wheel{Name: "fastthing", Version: "1.0", Tags: []string{"py3-none-any"},
		Files: map[string][]byte{"fastthing/__init__.py": []byte("PURE = True\n")}})
	older := bad
	older.Name, older.Version = "otherthing", "2.0"
	older.Files = map[string][]byte{"otherthing/_native.cpython-311-aarch64-linux-gnu.so": bad.Files["fastthing/_native.cpython-311-aarch64-linux-gnu.so"]}
	ix.AddWheel(older)
	ix.AddWheel(testutil.Wheel{Name: "otherthing", Version: "1.0", Tags: []string{"py3-none-any"},
		Files: map[string][]byte{"otherthing/__init__.py": []byte("PURE = True\n")}})
	base := t.TempDir()
	env := e2eEnv(t, app.EnvOptions{CacheDir: filepath.Join(base, "cache"), Index: index.Settings{IndexURL: ix.URL}})
	out := filepath.Join(base, "layer.zip")
	rep := e2eBuild(t, env, app.ArtifactOptions{Kind: app.KindLayer, Deps: app.Inputs{Requirements: []string{"fastthing", "otherthing"}}, Runtime: "python3.11", Arch: "arm64", Output: out})
	got := map[string]string{}
	for _, p := range rep.Packages {
		got[p.Name] = p.Filename
	}
	if got["fastthing"] != "fastthing-1.0-py3-none-any.whl" || got["otherthing"] != "otherthing-1.0-py3-none-any.whl" {
		t.Errorf("installed %v", got)
	}
	notes := e2eNotes(rep)
	for _, want := range []string{
		"fastthing 1.0: fastthing-1.0-cp311-cp311-manylinux2014_aarch64.whl was refused (arch: _native.cpython-311-aarch64-linux-gnu.so is an ELF binary for x86_64",
		"using fastthing-1.0-py3-none-any.whl",
		"otherthing 2.0: cannot be used: otherthing-2.0-cp311-cp311-manylinux2014_aarch64.whl was refused (arch: ",
	} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
	for _, n := range testutil.ZipNames(t, out) {
		if strings.HasSuffix(n, ".so") {
			t.Errorf("the refused wheel's %s is in the layer", n)
		}
	}

	// From a lock (made in a run of its own, which knows of no refusal):
	// refused, and nothing written.
	env = e2eEnv(t, app.EnvOptions{CacheDir: filepath.Join(base, "cache"), Index: index.Settings{IndexURL: ix.URL}})
	lockPath := filepath.Join(base, "pylock.toml")
	if _, err := app.Lock(context.Background(), env, app.LockOptions{Deps: app.Inputs{Requirements: []string{"fastthing==1.0"}}, Runtime: "python3.11", Arch: "arm64", Output: lockPath}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(lockPath)
	if !strings.Contains(string(data), "manylinux2014_aarch64") {
		t.Fatalf("the lock did not take the binary wheel:\n%s", data)
	}
	out2 := filepath.Join(base, "locked.zip")
	_, err := app.BuildArtifact(context.Background(), env, app.ArtifactOptions{Kind: app.KindLayer, Deps: app.Inputs{Lock: lockPath}, Runtime: "python3.11", Arch: "arm64", Output: out2})
	var ve *app.VerifyError
	if !errors.As(err, &ve) {
		t.Fatalf("a lock's refused wheel: want a VerifyError, got %v", err)
	}
	if _, err := os.Stat(out2); !os.IsNotExist(err) {
		t.Errorf("written anyway: %v", err)
	}
}
