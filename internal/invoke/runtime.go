package invoke

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/lambdapack/lambdapack/internal/target"
	"github.com/lambdapack/lambdapack/internal/tree"
)

// PackageSource installs packages for a target and returns their files as
// a site-packages folder holds them (app.RuntimePackages plans them with the
// pipeline). The tree is closed by the caller.
type PackageSource func(ctx context.Context, t target.Target, pkgs []string) (*tree.Tree, error)

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
	if r.o.Packages == nil {
		return "", fmt.Errorf("no package source to install the runtime client for %s from (invoke.Options.Packages)", t)
	}
	r.notef("Installing the runtime's packages for %s (%s) from the index", t, strings.Join(pkgs, ", "))
	tr, err := r.o.Packages(ctx, t, pkgs)
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
