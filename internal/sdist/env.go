package sdist

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/lambdapack/lambdapack/internal/cache"
	"github.com/lambdapack/lambdapack/internal/index"
	"github.com/lambdapack/lambdapack/internal/install"
	"github.com/lambdapack/lambdapack/internal/pep508"
	"github.com/lambdapack/lambdapack/internal/resolve"
	"github.com/lambdapack/lambdapack/internal/target"
)

// envLayout versions the on-disk form of a build environment. env2: the
// scripts' first line is a real "#!" line (env1's lacked the "#!", so
// console scripts such as meson's did not run).
const envLayout = "env2"

// buildEnv is an isolated Python environment (a venv without pip) holding
// a build's requirements, installed by lambdapack for the host CPython.
type buildEnv struct {
	Dir      string
	Python   string // Dir/bin/python
	Key      string // identifies the host and the exact wheels
	Packages []string
}

// hostTarget is the machine's own CPython as a target, so that the resolver
// picks wheels that run here.
func hostTarget(h *Host) (target.Target, error) {
	if h.Glibc == "" {
		return target.Target{}, fmt.Errorf("%s does not run on glibc: lambdapack builds sdists on glibc Linux machines only", h)
	}
	return target.Custom(fmt.Sprintf("%d.%d.%d", h.Version[0], h.Version[1], h.Version[2]), h.Glibc, h.Machine)
}

// environment resolves reqs for the host, installs them (cached by the
// exact set of wheels and the host interpreter) and returns the env.
func (b *Builder) environment(ctx context.Context, h *Host, reqs []string) (*buildEnv, error) {
	var parsed []pep508.Requirement
	for _, r := range reqs {
		q, err := pep508.ParseRequirement(r)
		if err != nil {
			return nil, fmt.Errorf("build requirement %q: %w", r, err)
		}
		parsed = append(parsed, q)
	}
	ht, err := hostTarget(h)
	if err != nil {
		return nil, err
	}
	var pkgs []resolve.Package
	if len(parsed) > 0 {
		src, err := b.source()
		if err != nil {
			return nil, err
		}
		res, err := resolve.Resolve(ctx, src, ht, parsed, resolve.Options{})
		if err != nil {
			return nil, fmt.Errorf("resolving the build requirements %s for %s: %w", strings.Join(reqs, ", "), h, err)
		}
		pkgs = res.Packages
	}
	lines := []string{envLayout, h.Executable, fmt.Sprint(h.Version), h.Machine, h.Glibc}
	var pins []string
	for _, p := range pkgs {
		sha := p.File.Hashes["sha256"]
		lines = append(lines, p.Name+"=="+p.Version.String()+" "+p.File.Filename+" "+sha)
		pins = append(pins, p.Name+"=="+p.Version.String())
	}
	sort.Strings(lines[5:])
	sum := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	key := hex.EncodeToString(sum[:])
	root, err := b.Cache.Dir("build-envs")
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(root, key[:24])
	env := &buildEnv{Dir: dir, Python: filepath.Join(dir, "bin", "python"), Key: key, Packages: pins}
	if _, err := os.Stat(filepath.Join(dir, ".complete")); err == nil {
		return env, nil
	}
	if err := b.installEnv(ctx, h, pkgs, dir); err != nil {
		return nil, fmt.Errorf("installing the build requirements %s for %s: %w", strings.Join(reqs, ", "), h, err)
	}
	b.logf("Installed the build environment %s for %s", strings.Join(pins, " "), h)
	return env, nil
}

func (b *Builder) installEnv(ctx context.Context, h *Host, pkgs []resolve.Package, dir string) error {
	reqs := make([]cache.Request, len(pkgs))
	var cl *index.Client
	if b.Index != nil {
		cl = b.Index
	}
	for i, p := range pkgs {
		f := p.File
		reqs[i] = cache.Request{Name: f.Filename, URL: f.URL, SHA256: f.Hashes["sha256"], Size: f.Size}
		if cl != nil && (strings.HasPrefix(f.URL, "http://") || strings.HasPrefix(f.URL, "https://")) {
			reqs[i].Open = func(ctx context.Context) (io.ReadCloser, error) { return cl.Open(ctx, f) }
		}
	}
	blobs, err := b.Cache.Fetch(ctx, reqs)
	if err != nil {
		return err
	}
	site := fmt.Sprintf("lib/python%d.%d/site-packages/", h.Version[0], h.Version[1])
	wheels := make([]install.Wheel, len(pkgs))
	for i, p := range pkgs {
		wheels[i] = install.Wheel{Path: blobs[i].Path, Filename: p.File.Filename, SHA256: blobs[i].SHA256, Resolved: p.Metadata}
	}
	plan, err := install.Build(ctx, wheels, install.Options{
		Layout:      install.Layout{Root: site, Scripts: "bin/"},
		Interpreter: scriptInterpreter(filepath.Join(dir, "bin", "python")),
	})
	if err != nil {
		return err
	}
	defer plan.Close()
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".tmp-env-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	for i := range plan.Entries {
		if err := writeEntry(tmp, &plan.Entries[i]); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(filepath.Join(tmp, filepath.FromSlash(site)), 0o755); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(tmp, "bin"), 0o755); err != nil {
		return err
	}
	for _, n := range []string{"python", "python3", "python" + h.Minor()} {
		if err := os.Symlink(h.Executable, filepath.Join(tmp, "bin", n)); err != nil {
			return err
		}
	}
	cfg := fmt.Sprintf("home = %s\ninclude-system-site-packages = false\nversion = %d.%d.%d\nexecutable = %s\ncommand = lambdapack build environment\n",
		filepath.Dir(h.Executable), h.Version[0], h.Version[1], h.Version[2], h.Executable)
	if err := os.WriteFile(filepath.Join(tmp, "pyvenv.cfg"), []byte(cfg), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(tmp, ".complete"), nil, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, serr := os.Stat(filepath.Join(dir, ".complete")); serr == nil {
			return nil // another build made the same environment first
		}
		os.RemoveAll(dir)
		if err := os.Rename(tmp, dir); err != nil {
			return err
		}
	}
	return nil
}

func writeEntry(root string, e *install.Entry) error {
	dst := filepath.Join(root, filepath.FromSlash(e.Path))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	perm := os.FileMode(0o644)
	if e.Mode&0o111 != 0 {
		perm = 0o755
	}
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if e.Member != nil {
		var rc io.ReadCloser
		rc, err = e.Member.Open()
		if err == nil {
			_, err = io.Copy(f, rc)
			rc.Close()
		}
	} else {
		_, err = f.Write(e.Data)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", e.Path, err)
	}
	return nil
}

// scriptInterpreter is the first line(s) of the environment's scripts
// (console scripts such as meson, and "#!python" scripts): "#!" and the
// environment's python, or, when the path is too long for the kernel's
// "#!" line (127 bytes before Linux 5.1) or holds a space, a /bin/sh line
// that execs it, as pip's launchers (distlib) do.
func scriptInterpreter(python string) string {
	if len(python) <= 125 && !strings.ContainsAny(python, " \t") {
		return "#!" + python
	}
	return "#!/bin/sh\n'''exec' \"" + python + "\" \"$0\" \"$@\"\n' '''"
}
