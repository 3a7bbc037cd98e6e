package invoke

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
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
// invoke --refresh-runtime` plans them again and writes the folder anew when
// newer versions came.
func (r *Runner) runtimeDir(ctx context.Context, t target.Target) (string, error) {
	pkgs := r.o.RuntimePackages
	if pkgs == nil {
		pkgs = DefaultRuntimePackages
	}
	sum := sha256.Sum256([]byte(strings.Join(append([]string{t.Runtime, string(t.Arch)}, pkgs...), "\x00")))
	key := hex.EncodeToString(sum[:])[:16]
	dir := filepath.Join(r.dir, "runtime", fmt.Sprintf("%s-%s-%s", t.Runtime, t.Arch, key[:12]))
	if !r.o.RefreshRuntime {
		if intactIf(dir, func(k string) bool { return strings.HasPrefix(k, key+"-") }) {
			return dir, nil
		}
	}
	r.notef("Installing the runtime's packages for %s (%s) from the index", t, strings.Join(pkgs, ", "))
	env, err := r.appEnv()
	if err != nil {
		return "", err
	}
	tr, err := installPackages(ctx, env, t, pkgs)
	if err != nil {
		return "", fmt.Errorf("installing the runtime client for %s (%s): %w", t, strings.Join(pkgs, ", "), err)
	}
	defer tr.Close()
	// The folder's key names the package list and the versions planned:
	// a refresh that finds newer ones writes them.
	sink := &FolderSink{Dir: dir, Store: r.storeDir(), Key: key + "-" + TreeKey(tr)}
	if _, err := sink.Write(ctx, tr); err != nil {
		return "", fmt.Errorf("writing the runtime client for %s: %w", t, err)
	}
	return dir, nil
}

// installPackages plans pkgs for t with the pipeline, as a layer would hold
// them, and returns their python/ folder's files (site-packages): wheel
// members with their RECORD digests, so the folder sink links what the
// store already has.
func installPackages(ctx context.Context, env *app.Env, t target.Target, pkgs []string) (*tree.Tree, error) {
	tr, err := app.PlanTree(ctx, env, app.ArtifactOptions{
		Kind: app.KindLayer, Deps: app.Inputs{Requirements: pkgs}, Targets: []target.Target{t},
	})
	if err != nil {
		return nil, err
	}
	sub := Sub(tr, "python/")
	sub.OnClose(tr)
	return sub, nil
}
