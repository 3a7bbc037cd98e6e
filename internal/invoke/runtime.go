package invoke

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/lambdapack/lambdapack/internal/app"
	"github.com/lambdapack/lambdapack/internal/target"
	"github.com/lambdapack/lambdapack/internal/tree"
)

// DefaultRuntimePackages are what Lambda's Python runtimes hold beside the
// standard library: the runtime client and the AWS SDK.
var DefaultRuntimePackages = []string{"awslambdaric", "boto3"}

// runtimeDir returns the folder holding the runtime's packages for t,
// installing them from the index on first use. The folder is kept in the
// cache, keyed by target and package list, and not resolved again: `lambdapack
// invoke --refresh-runtime` installs the newest again.
func (r *Runner) runtimeDir(ctx context.Context, t target.Target) (string, error) {
	pkgs := r.o.RuntimePackages
	if pkgs == nil {
		pkgs = DefaultRuntimePackages
	}
	sum := sha256.Sum256([]byte(strings.Join(append([]string{t.Runtime, string(t.Arch)}, pkgs...), "\x00")))
	key := hex.EncodeToString(sum[:])[:16]
	dir := filepath.Join(r.dir, "runtime", fmt.Sprintf("%s-%s-%s", t.Runtime, t.Arch, key[:12]))
	if !r.o.RefreshRuntime {
		if intact(dir, key) {
			return dir, nil
		}
	}
	r.notef("Installing the runtime's packages for %s (%s) from the index", t, strings.Join(pkgs, ", "))
	env, err := r.appEnv()
	if err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(r.dir, ".runtime-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	tr, err := installPackages(ctx, env, t, pkgs, tmp)
	if err != nil {
		return "", fmt.Errorf("installing the runtime client for %s (%s): %w", t, strings.Join(pkgs, ", "), err)
	}
	defer tr.Close()
	sink := &FolderSink{Dir: dir, Store: r.storeDir(), Key: key}
	if _, err := sink.Write(ctx, tr); err != nil {
		return "", fmt.Errorf("writing the runtime client for %s: %w", t, err)
	}
	return dir, nil
}

// installPackages returns the installed files of pkgs for t (their
// site-packages, bin/ apart). It builds them as a layer with the pipeline
// into tmp and reads the zip back.
//
// TODO(issue 13): plan the tree directly once the pipeline exports it, and
// skip the zip.
func installPackages(ctx context.Context, env *app.Env, t target.Target, pkgs []string, tmp string) (*tree.Tree, error) {
	zipPath := filepath.Join(tmp, "runtime.zip")
	_, err := app.BuildArtifact(ctx, env, app.ArtifactOptions{
		Kind: app.KindLayer, Deps: app.Inputs{Requirements: pkgs},
		Targets: []target.Target{t}, Output: zipPath, NoVerify: true,
	})
	if err != nil {
		return nil, err
	}
	tr, err := ZipTree(zipPath)
	if err != nil {
		return nil, err
	}
	sub := Sub(tr, "python/")
	sub.OnClose(tr)
	return sub, nil
}
