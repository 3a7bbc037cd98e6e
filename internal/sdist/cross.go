package sdist

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/lambdapack/lambdapack/internal/target"
)

// crossLayout versions the on-disk form of a cross configuration.
// cross2: the compilers answer a linker version probe as LLD does, and a
// meson cross file.
const crossLayout = "cross2"

// crossConfig is what a build needs to compile for the target instead of
// the build machine: zig wrappers as the compilers, the target's build
// configuration (a _sysconfigdata module) and its C headers.
type crossConfig struct {
	Dir     string
	Bin     string // the wrappers; first on PATH
	Include string // the target CPython's headers
	SysDir  string // holds the _sysconfigdata module
	SysName string // its module name
	Env     []string
	// MesonCross is a meson cross file for the target, for meson-python
	// (setup-args); "" when the build machine runs the target's programs.
	MesonCross string
}

// pyconfigByMachine are the pyconfig.h settings that differ between the
// two Lambda machines for a CPython built on Linux with glibc (compared
// with Debian's libpython3.11-dev for amd64 and arm64): x87/x86-64 inline
// assembly, and whether wchar_t is unsigned (usable as Py_UCS4). Every
// other setting the public headers read (type sizes, alignment, byte
// order) is the same on both LP64 little-endian machines.
var pyconfigByMachine = map[string]map[string]string{
	"x86_64":  {"HAVE_GCC_ASM_FOR_X64": "1", "HAVE_GCC_ASM_FOR_X87": "1", "HAVE_USABLE_WCHAR_T": "", "PY_SUPPORT_TIER": "1"},
	"aarch64": {"HAVE_GCC_ASM_FOR_X64": "", "HAVE_GCC_ASM_FOR_X87": "", "HAVE_USABLE_WCHAR_T": "1", "PY_SUPPORT_TIER": "2"},
}

var defineRE = regexp.MustCompile(`(?m)^(?:#define ([A-Za-z0-9_]+)(?: (.*))?|/\* #undef ([A-Za-z0-9_]+) \*/)$`)

// retargetPyconfig rewrites a host pyconfig.h for the target machine.
func retargetPyconfig(src []byte, machine string) []byte {
	want, ok := pyconfigByMachine[machine]
	if !ok {
		return src
	}
	return defineRE.ReplaceAllFunc(src, func(line []byte) []byte {
		m := defineRE.FindSubmatch(line)
		name := string(m[1])
		if name == "" {
			name = string(m[3])
		}
		v, ok := want[name]
		if !ok {
			return line
		}
		if name == "PY_SUPPORT_TIER" && len(m[1]) == 0 {
			return line // a version without support tiers
		}
		if v == "" {
			return []byte("/* #undef " + name + " */")
		}
		return []byte("#define " + name + " " + v)
	})
}

// rustTriple is the Rust target for a Lambda machine.
func rustTriple(machine string) string { return machine + "-unknown-linux-gnu" }

// cross prepares (once, cached) the cross configuration for building with
// host h for target t.
func (b *Builder) cross(ctx context.Context, h *Host, t target.Target) (*crossConfig, error) {
	zig, err := b.zig(ctx, h.Machine)
	if err != nil {
		return nil, err
	}
	machine := t.Arch.Machine()
	triple := zigTriple(machine, t.Glibc())
	multiarch := machine + "-linux-gnu"
	key := sha256.Sum256([]byte(strings.Join([]string{crossLayout, zig, h.Executable, fmt.Sprint(h.Version), triple, hookDigest()}, "\n")))
	root, err := b.Cache.Dir("cross")
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(root, hex.EncodeToString(key[:])[:24])
	cc := &crossConfig{
		Dir: dir, Bin: filepath.Join(dir, "bin"), Include: filepath.Join(dir, "include", "python"+h.Minor()),
		SysDir: filepath.Join(dir, "sysconfig"), SysName: "_sysconfigdata__linux_" + multiarch,
	}
	if needsMesonCross(h, t) {
		cc.MesonCross = filepath.Join(dir, "meson-cross.ini")
	}
	zigCache, err := b.Cache.Dir("zig-cache")
	if err != nil {
		return nil, err
	}
	ccPath, cxxPath := filepath.Join(cc.Bin, "cc"), filepath.Join(cc.Bin, "c++")
	cc.Env = []string{
		"CC=" + ccPath, "CXX=" + cxxPath,
		"LDSHARED=" + ccPath + " -shared", "LDCXXSHARED=" + cxxPath + " -shared",
		"AR=" + filepath.Join(cc.Bin, "ar"), "RANLIB=" + filepath.Join(cc.Bin, "ranlib"),
		"CFLAGS=-I" + cc.Include, "CXXFLAGS=-I" + cc.Include, "CPPFLAGS=-I" + cc.Include, "LDFLAGS=",
		"_PYTHON_HOST_PLATFORM=linux-" + machine,
		"_PYTHON_SYSCONFIGDATA_NAME=" + cc.SysName,
		// pkg-config must not find the build machine's libraries: a
		// library the target lacks should fail the build, not link.
		"PKG_CONFIG_LIBDIR=" + filepath.Join(dir, "pkgconfig"), "PKG_CONFIG_PATH=",
		"ZIG_GLOBAL_CACHE_DIR=" + zigCache, "ZIG_LOCAL_CACHE_DIR=" + zigCache,
		// Rust (maturin, setuptools-rust): cargo for the target, linked by
		// zig against the glibc ceiling, as cargo-zigbuild does.
		"CARGO_BUILD_TARGET=" + rustTriple(machine),
		"CARGO_TARGET_" + strings.ToUpper(strings.ReplaceAll(rustTriple(machine), "-", "_")) + "_LINKER=" + ccPath,
		"PYO3_CROSS=1", "PYO3_CROSS_LIB_DIR=" + cc.SysDir, "PYO3_CROSS_PYTHON_VERSION=" + h.Minor(),
		"MATURIN_PEP517_ARGS=--target " + rustTriple(machine) + " --zig --compatibility manylinux_" + strings.ReplaceAll(t.Glibc(), ".", "_"),
	}
	if _, err := os.Stat(filepath.Join(dir, ".complete")); err == nil {
		return cc, nil
	}
	tmp, err := os.MkdirTemp(root, ".tmp-cross-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	tc := *cc
	tc.Bin, tc.Include, tc.SysDir = filepath.Join(tmp, "bin"), filepath.Join(tmp, "include", "python"+h.Minor()), filepath.Join(tmp, "sysconfig")
	for _, d := range []string{tc.Bin, tc.SysDir, filepath.Join(tmp, "pkgconfig")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	// The wrappers: zig cc for C and C++ (undefined-behaviour sanitizing
	// off: zig turns it on for unoptimised builds and its runtime would be
	// one more thing to ship), zig ar and ranlib, and zig itself for
	// maturin --zig. The usual compiler names point at them too, for
	// build scripts that call gcc by name.
	sh := func(cmd string) string {
		return "#!/bin/sh\n# lambdapack: cross-compiling for " + triple + "\nexec " + shellQuote(zig) + " " + cmd + " \"$@\"\n"
	}
	// zig answers a linker version probe (`cc -Wl,--version`, which meson
	// and CMake run to know the linker) with "zig ld 0.13.0", which meson
	// releases older than its zig support (numpy 1.26's vendored meson,
	// meson 1.2) do not know: "Unable to detect linker". zig links ELF
	// with its LLD, so the compilers answer as LLD does, with the LLVM
	// version of zig's clang; like zig, they then print and link nothing.
	ld := lldVersionLine(ctx, zig)
	compiler := func(cmd string) string {
		s := sh(cmd)
		i := strings.Index(s, "exec ")
		return s[:i] + "for a in \"$@\"; do\n\tcase $a in -Wl,--version) echo " + shellQuote(ld) + "; exit 0 ;; esac\ndone\n" + s[i:]
	}
	scripts := map[string]string{
		"cc":     compiler("cc -target " + triple + " -fno-sanitize=undefined"),
		"c++":    compiler("c++ -target " + triple + " -fno-sanitize=undefined"),
		"ar":     sh("ar"),
		"ranlib": sh("ranlib"),
		"zig":    sh(""),
	}
	for _, alias := range []string{"gcc", "clang", multiarch + "-gcc"} {
		scripts[alias] = scripts["cc"]
	}
	for _, alias := range []string{"g++", "clang++", multiarch + "-g++"} {
		scripts[alias] = scripts["c++"]
	}
	for n, s := range scripts {
		if err := os.WriteFile(filepath.Join(tc.Bin, n), []byte(s), 0o755); err != nil {
			return nil, err
		}
	}
	if cc.MesonCross != "" {
		ini := mesonCrossFile(cc, machine)
		if err := os.WriteFile(filepath.Join(tmp, filepath.Base(cc.MesonCross)), []byte(ini), 0o644); err != nil {
			return nil, err
		}
	}
	if err := copyTree(h.Include, tc.Include); err != nil {
		return nil, fmt.Errorf("copying the C headers of %s: %w", h, err)
	}
	pc := filepath.Join(tc.Include, "pyconfig.h")
	if src, err := os.ReadFile(pc); err == nil {
		if err := os.WriteFile(pc, retargetPyconfig(src, machine), 0o644); err != nil {
			return nil, err
		}
	} else {
		return nil, fmt.Errorf("%s has no pyconfig.h in %s: install its development headers", h, h.Include)
	}
	// The build configuration: the host's, re-aimed at the target.
	vars := map[string]any{
		"CC": ccPath, "CXX": cxxPath, "LDSHARED": ccPath + " -shared", "LDCXXSHARED": cxxPath + " -shared",
		"BLDSHARED": ccPath + " -shared", "AR": filepath.Join(cc.Bin, "ar"),
		"LDFLAGS": "", "CONFIGURE_LDFLAGS": "", "LDFLAGS_NODIST": "", "CONFIGURE_LDFLAGS_NODIST": "",
		"INCLUDEPY": cc.Include, "CONFINCLUDEPY": cc.Include,
		"MULTIARCH": multiarch, "HOST_GNU_TYPE": machine + "-pc-linux-gnu",
		"SOABI":      fmt.Sprintf("cpython-%d%d-%s", h.Version[0], h.Version[1], multiarch),
		"EXT_SUFFIX": fmt.Sprintf(".cpython-%d%d-%s.so", h.Version[0], h.Version[1], multiarch),
		// Extensions never link libpython on Linux (setuptools would, for a
		// shared build it takes for a cross build to Android).
		"Py_ENABLE_SHARED": 0, "ANDROID_API_LEVEL": 0,
	}
	spec, _ := json.Marshal(map[string]any{"target": t.String(), "multiarch": multiarch, "vars": vars})
	specPath := filepath.Join(tmp, "sysconfig-spec.json")
	if err := os.WriteFile(specPath, spec, 0o644); err != nil {
		return nil, err
	}
	hooks, err := b.hooks()
	if err != nil {
		return nil, err
	}
	out, err := runQuiet(ctx, h.Executable, "-I", "-S", filepath.Join(hooks, hookScript), "sysconfig", specPath, filepath.Join(tc.SysDir, cc.SysName+".py"))
	if err != nil {
		return nil, fmt.Errorf("writing the build configuration for %s: %w: %s", t, err, out)
	}
	if err := os.WriteFile(filepath.Join(tmp, ".complete"), nil, 0o644); err != nil {
		return nil, err
	}
	os.RemoveAll(dir)
	if err := os.Rename(tmp, dir); err != nil {
		return nil, err
	}
	return cc, nil
}

var clangVersionRE = regexp.MustCompile(`(?m)^clang version ([0-9]+\.[0-9]+\.[0-9]+)`)

// lldVersionLine is what ld.lld --version prints for the LLVM inside zig
// (zig's clang and LLD are one LLVM), read from `zig cc --version`.
func lldVersionLine(ctx context.Context, zig string) string {
	out, err := runQuiet(ctx, zig, "cc", "--version")
	if m := clangVersionRE.FindStringSubmatch(out); err == nil && m != nil {
		return "LLD " + m[1] + " (compatible with GNU linkers)"
	}
	return "LLD (compatible with GNU linkers)"
}

// needsMesonCross says whether meson must be told it is cross-compiling:
// when the build machine cannot run what is built for the target (another
// machine, or a glibc newer than the build machine's), since meson runs
// a test program of each compiler in a native build.
func needsMesonCross(h *Host, t target.Target) bool {
	return h.Machine != t.Arch.Machine() || glibcOlder(h.Glibc, t.Glibc())
}

// glibcOlder says whether glibc version a ("2.28") is older than b.
func glibcOlder(a, b string) bool {
	var a1, a2, b1, b2 int
	if _, err := fmt.Sscanf(a, "%d.%d", &a1, &a2); err != nil {
		return true
	}
	if _, err := fmt.Sscanf(b, "%d.%d", &b1, &b2); err != nil {
		return false
	}
	return a1 < b1 || a1 == b1 && a2 < b2
}

// longdoubleFormat is the layout of C's long double on each Lambda
// machine, which numpy's meson.build reads from a cross file's
// properties because it cannot run a test program there.
var longdoubleFormat = map[string]string{
	"x86_64":  "INTEL_EXTENDED_16_BYTES_LE",
	"aarch64": "IEEE_QUAD_LE",
}

// mesonCrossFile is a meson cross file for the target: the zig wrappers
// as the compilers, the target machine, and no program wrapper (meson
// then skips running its test programs).
func mesonCrossFile(cc *crossConfig, machine string) string {
	q := func(s string) string { return "'" + strings.NewReplacer(`\`, `\\`, "'", `\'`).Replace(s) + "'" }
	bin := func(n string) string { return q(filepath.Join(cc.Bin, n)) }
	return "# lambdapack: cross-compiling for " + machine + "-linux-gnu with zig\n" +
		"[binaries]\n" +
		"c = [" + bin("cc") + "]\ncpp = [" + bin("c++") + "]\nar = [" + bin("ar") + "]\nranlib = [" + bin("ranlib") + "]\n\n" +
		"[properties]\nneeds_exe_wrapper = true\nlongdouble_format = " + q(longdoubleFormat[machine]) + "\n\n" +
		"[host_machine]\nsystem = 'linux'\ncpu_family = " + q(machine) + "\ncpu = " + q(machine) + "\nendian = 'little'\n"
}

func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		out := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(out, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(out, data, 0o644)
	})
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+=:,@", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// backendSettings are the PEP 517 config_settings of a build: for
// meson-python (numpy's, scipy's backend), the meson cross file when the
// build machine cannot run the target's programs; nil otherwise.
func backendSettings(bs BuildSystem, cc *crossConfig) map[string]any {
	mod, _, _ := strings.Cut(bs.BuildBackend, ":")
	if cc == nil || cc.MesonCross == "" || mod != "mesonpy" {
		return nil
	}
	return map[string]any{"setup-args": []string{"--cross-file=" + cc.MesonCross}}
}
