package invoke

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lambdapack/lambdapack/internal/target"
)

// Interpreter is the CPython a function runs on.
type Interpreter struct {
	// Path is the interpreter's executable (a host path, inside Root when
	// emulated).
	Path string
	// Version is its full version ("3.12.1"); Machine what platform.machine()
	// says ("x86_64", "aarch64").
	Version, Machine string
	// Emulator is the qemu-user command that runs it ("" when native), and
	// Root the foreign root folder qemu maps absolute paths into.
	Emulator, Root string
	// Source says where it was found: "--python", "PATH", "pyenv", "uv",
	// "--rootfs".
	Source string
}

// Command returns the argv that runs the interpreter at exe (Path, or a
// link to it) with args.
func (in *Interpreter) Command(exe string, args ...string) []string {
	if in.Emulator != "" {
		return append([]string{in.Emulator, "-L", in.Root, exe}, args...)
	}
	return append([]string{exe}, args...)
}

// hostMachine is this machine's architecture as platform.machine() names it.
func hostMachine() string {
	switch runtime.GOARCH {
	case "amd64":
		return "x86_64"
	case "arm64":
		return "aarch64"
	}
	return runtime.GOARCH
}

// machineOf names an architecture as platform.machine() does.
func machineOf(a target.Arch) string { return a.Machine() }

// FindOptions say where to look for an interpreter.
type FindOptions struct {
	// Python is an explicit interpreter (--python); RootFS a foreign root
	// folder for qemu (--rootfs).
	Python, RootFS string
	// Env is the environment searched (PATH, PYENV_ROOT, HOME,
	// UV_PYTHON_INSTALL_DIR, XDG_DATA_HOME); nil means os.Environ().
	Env []string
}

func (o FindOptions) getenv(k string) string {
	if o.Env == nil {
		return os.Getenv(k)
	}
	for i := len(o.Env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(o.Env[i], k+"="); ok {
			return v
		}
	}
	return ""
}

// FindInterpreter finds a CPython of t's exact minor version for t's
// architecture: --python, else PATH (python3.X, python3), pyenv's versions,
// uv's managed Pythons; for a foreign architecture, the one in --rootfs run
// under qemu-user. It never settles for another minor version; the error
// says where it looked and how to get one.
func FindInterpreter(ctx context.Context, t target.Target, o FindOptions) (*Interpreter, error) {
	minor := t.Python()
	want := machineOf(t.Arch)
	if want != hostMachine() {
		return findForeign(ctx, t, o)
	}
	if o.Python != "" {
		in, err := probe(ctx, &Interpreter{Path: o.Python, Source: "--python"})
		if err != nil {
			return nil, fmt.Errorf("--python %s: %w", o.Python, err)
		}
		if err := in.fits(minor, want); err != nil {
			return nil, fmt.Errorf("--python %s: %w", o.Python, err)
		}
		return in, nil
	}
	var looked []string
	var near []string
	try := func(path, source string) *Interpreter {
		in, err := probe(ctx, &Interpreter{Path: path, Source: source})
		if err != nil {
			return nil
		}
		if in.fits(minor, want) != nil {
			near = append(near, fmt.Sprintf("%s is %s", path, in.Version))
			return nil
		}
		return in
	}
	// PATH.
	looked = append(looked, fmt.Sprintf("PATH (python%s, python3)", minor))
	for _, name := range []string{"python" + minor, "python3"} {
		for _, dir := range filepath.SplitList(o.getenv("PATH")) {
			p := filepath.Join(dir, name)
			if st, err := os.Stat(p); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
				continue
			}
			if isShim(p) {
				continue
			}
			if in := try(p, "PATH"); in != nil {
				return in, nil
			}
			break
		}
	}
	// pyenv.
	pyenv := o.getenv("PYENV_ROOT")
	if pyenv == "" {
		if home := o.getenv("HOME"); home != "" {
			pyenv = filepath.Join(home, ".pyenv")
		}
	}
	if pyenv != "" {
		looked = append(looked, filepath.Join(pyenv, "versions", minor+".*"))
		for _, p := range newestFirst(filepath.Join(pyenv, "versions"), minor+".", filepath.Join("bin", "python"+minor)) {
			if in := try(p, "pyenv"); in != nil {
				return in, nil
			}
		}
	}
	// uv's managed Pythons.
	for _, dir := range uvPythonDirs(o) {
		looked = append(looked, filepath.Join(dir, "cpython-"+minor+".*"))
		for _, p := range newestFirst(dir, "cpython-"+minor+".", filepath.Join("bin", "python"+minor)) {
			if !strings.Contains(filepath.Base(filepath.Dir(filepath.Dir(p))), "-linux-"+want+"-") {
				continue
			}
			if in := try(p, "uv"); in != nil {
				return in, nil
			}
		}
	}
	msg := fmt.Sprintf("no CPython %s for %s on this machine; looked in %s", minor, t.Runtime, strings.Join(looked, ", "))
	if len(near) > 0 {
		msg += " (found " + strings.Join(near, "; ") + ": another minor version would not behave as " + t.Runtime + " does)"
	}
	return nil, fmt.Errorf("%s: install one with `uv python install %s` or `pyenv install %s`, or pass --python PATH", msg, minor, minor)
}

// isShim reports whether p is pyenv's shim, which runs whichever version
// pyenv selects (the versions are searched directly instead).
func isShim(p string) bool {
	return strings.Contains(filepath.ToSlash(p), "/.pyenv/shims/") || strings.HasSuffix(filepath.ToSlash(filepath.Dir(p)), "/shims")
}

// newestFirst lists dir/<prefix>*/<rel> that exist, newest patch version
// first.
func newestFirst(dir, prefix, rel string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	type cand struct {
		path  string
		patch int
	}
	var cs []cand
	for _, e := range entries {
		name, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok {
			continue
		}
		// "1" (pyenv: 3.12.1) or "1-linux-x86_64-gnu" (uv).
		num := name
		if i := strings.IndexFunc(name, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
			num = name[:i]
		}
		patch, err := strconv.Atoi(num)
		if err != nil {
			continue
		}
		p := filepath.Join(dir, e.Name(), rel)
		if _, err := os.Stat(p); err == nil {
			cs = append(cs, cand{p, patch})
		}
	}
	slices.SortStableFunc(cs, func(a, b cand) int { return b.patch - a.patch })
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.path
	}
	return out
}

// uvPythonDirs are where uv keeps the Pythons it installs.
func uvPythonDirs(o FindOptions) []string {
	if d := o.getenv("UV_PYTHON_INSTALL_DIR"); d != "" {
		return []string{d}
	}
	if d := o.getenv("XDG_DATA_HOME"); d != "" {
		return []string{filepath.Join(d, "uv", "python")}
	}
	if home := o.getenv("HOME"); home != "" {
		return []string{filepath.Join(home, ".local", "share", "uv", "python")}
	}
	return nil
}

// findForeign finds the interpreter of an architecture this machine does not
// run natively: inside --rootfs, under qemu-user.
func findForeign(ctx context.Context, t target.Target, o FindOptions) (*Interpreter, error) {
	minor := t.Python()
	machine := machineOf(t.Arch)
	how := rootfsHowTo(t)
	if o.RootFS == "" {
		return nil, fmt.Errorf("%s on %s runs under qemu-user with an %s root folder holding CPython %s: pass --rootfs DIR. %s", t, hostMachine(), t.Arch, minor, how)
	}
	root, err := filepath.Abs(o.RootFS)
	if err != nil {
		return nil, err
	}
	if st, err := os.Stat(root); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("--rootfs %s: not a folder. %s", o.RootFS, how)
	}
	emu, err := findQemu(machine, o)
	if err != nil {
		return nil, err
	}
	var tried []string
	for _, rel := range []string{"usr/bin/python" + minor, "usr/local/bin/python" + minor, "var/lang/bin/python" + minor} {
		p := filepath.Join(root, rel)
		tried = append(tried, "/"+rel)
		if _, err := os.Stat(p); err != nil {
			continue
		}
		in, err := probe(ctx, &Interpreter{Path: p, Emulator: emu, Root: root, Source: "--rootfs"})
		if err != nil {
			return nil, fmt.Errorf("--rootfs %s: %s does not run under %s: %w. %s", o.RootFS, rel, emu, err, how)
		}
		if err := in.fits(minor, machine); err != nil {
			return nil, fmt.Errorf("--rootfs %s: %s: %w", o.RootFS, rel, err)
		}
		return in, nil
	}
	return nil, fmt.Errorf("--rootfs %s holds no CPython %s (looked for %s). %s", o.RootFS, minor, strings.Join(tried, ", "), how)
}

// findQemu finds qemu-user for machine.
func findQemu(machine string, o FindOptions) (string, error) {
	for _, name := range []string{"qemu-" + machine + "-static", "qemu-" + machine} {
		for _, dir := range filepath.SplitList(o.getenv("PATH")) {
			p := filepath.Join(dir, name)
			if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
				return p, nil
			}
		}
	}
	return "", fmt.Errorf("running %s code on %s needs qemu-user: install it (Debian and Ubuntu: apt-get install qemu-user-static; Fedora: dnf install qemu-user-static)", machine, hostMachine())
}

// rootfsReleases names, per CPython minor, a distribution release that
// ships it and the names its libssl and libffi packages have there: Debian
// has no 3.10 or 3.12, and its 64-bit time transition renamed libssl3 in
// 2024. Packages come from that release's archive (Ubuntu's arm64 ones from
// its ports archive).
var rootfsReleases = map[string]struct{ release, ssl, ffi string }{
	"3.9":  {"Debian 11 (bullseye)", "libssl1.1", "libffi7"},
	"3.10": {"Ubuntu 22.04 (jammy)", "libssl3", "libffi8"},
	"3.11": {"Debian 12 (bookworm)", "libssl3", "libffi8"},
	"3.12": {"Ubuntu 24.04 (noble)", "libssl3t64", "libffi8"},
	"3.13": {"Debian 13 (trixie)", "libssl3t64", "libffi8"},
	"3.14": {"Debian unstable (sid)", "libssl3t64", "libffi8"},
}

// rootfsHowTo says how to make a root folder from a distribution's packages.
func rootfsHowTo(t target.Target) string {
	minor := t.Python()
	deb := "arm64"
	if t.Arch == target.X86_64 {
		deb = "amd64"
	}
	rel, ok := rootfsReleases[minor]
	if !ok {
		rel.release, rel.ssl, rel.ffi = "a Debian or Ubuntu release that ships CPython "+minor, "libssl3", "libffi8"
	}
	pkgs := "python" + minor + "-minimal libpython" + minor + "-minimal libpython" + minor + "-stdlib libc6 zlib1g libexpat1 " + rel.ssl + " " + rel.ffi + " libgcc-s1 libstdc++6 libbz2-1.0 liblzma5 libcrypt1 libsqlite3-0 libuuid1"
	return fmt.Sprintf("To make one from the %s packages of %s, which ships CPython %s: with that release's archive in apt's sources, `dpkg --add-architecture %s && apt-get update`, then in an empty folder "+
		"`for p in %s; do apt-get download $p:%s; done` and `for f in *.deb; do dpkg -x $f ROOT; done`, and pass --rootfs ROOT",
		deb, rel.release, minor, deb, pkgs, deb)
}

// probe runs the interpreter once to learn its version and machine.
func probe(ctx context.Context, in *Interpreter) (*Interpreter, error) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	argv := in.Command(in.Path, "-S", "-c", "import sys, platform; print(sys.implementation.name, '%d.%d.%d' % sys.version_info[:3], platform.machine())")
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LANG=C.UTF-8"}
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && len(ee.Stderr) > 0 {
			return nil, fmt.Errorf("%w: %s", err, strings.TrimSpace(lastLine(string(ee.Stderr))))
		}
		return nil, err
	}
	f := strings.Fields(string(out))
	if len(f) != 3 {
		return nil, fmt.Errorf("it answered %q, not a CPython's version", out)
	}
	if f[0] != "cpython" {
		return nil, fmt.Errorf("it is %s, not CPython (Lambda runs CPython)", f[0])
	}
	c := *in
	c.Version, c.Machine = f[1], f[2]
	return &c, nil
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// fits says why in is not a CPython minor on machine, or nil.
func (in *Interpreter) fits(minor, machine string) error {
	if in.Version != minor && !strings.HasPrefix(in.Version, minor+".") {
		return fmt.Errorf("it is CPython %s, and the function's runtime needs %s exactly", in.Version, minor)
	}
	if in.Machine != machine {
		return fmt.Errorf("it runs as %s, and the function is built for %s", in.Machine, machine)
	}
	return nil
}

// venv makes (once) a virtual environment under dir whose interpreter is in
// and which holds no packages: the function's sys.path then has the
// interpreter's standard library but never the machine's site-packages. It
// returns the environment's python.
func (in *Interpreter) venv(dir string) (string, error) {
	minor := in.Version
	if i := strings.LastIndexByte(minor, '.'); i > 0 && strings.Count(minor, ".") == 2 {
		minor = minor[:i]
	}
	sum := sha256.Sum256([]byte(in.Path + "\x00" + in.Version + "\x00" + in.Root))
	root := filepath.Join(dir, minor+"-"+in.Machine+"-"+hex.EncodeToString(sum[:6]))
	exe := filepath.Join(root, "bin", "python"+minor)
	if _, err := os.Stat(filepath.Join(root, "pyvenv.cfg")); err == nil {
		if _, err := os.Stat(exe); err == nil {
			return exe, nil
		}
		// Half gone (a cache prune): make it again.
		os.RemoveAll(root)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("creating %s: %w", dir, err)
	}
	tmp, err := os.MkdirTemp(dir, ".venv-")
	if err != nil {
		return "", fmt.Errorf("creating the interpreter's environment under %s: %w", dir, err)
	}
	defer os.RemoveAll(tmp)
	for _, d := range []string{"bin", filepath.Join("lib", "python"+minor, "site-packages")} {
		if err := os.MkdirAll(filepath.Join(tmp, d), 0o755); err != nil {
			return "", err
		}
	}
	for _, name := range []string{"python" + minor, "python3", "python"} {
		if err := os.Symlink(in.Path, filepath.Join(tmp, "bin", name)); err != nil {
			return "", err
		}
	}
	cfg := fmt.Sprintf("home = %s\ninclude-system-site-packages = false\nversion = %s\n", filepath.Dir(in.Path), in.Version)
	if err := os.WriteFile(filepath.Join(tmp, "pyvenv.cfg"), []byte(cfg), 0o644); err != nil {
		return "", err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, root); err != nil {
		if _, serr := os.Stat(filepath.Join(root, "pyvenv.cfg")); serr == nil {
			return exe, nil // made by a concurrent run
		}
		return "", fmt.Errorf("creating the interpreter's environment %s: %w", root, err)
	}
	return exe, nil
}
