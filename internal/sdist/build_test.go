package sdist

import (
	"archive/zip"
	"context"
	"debug/elf"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lambdapack/lambdapack/internal/target"
	"github.com/lambdapack/lambdapack/internal/testutil"
)

// The sdists the tests write. They build with the real setuptools from the
// index (build-system.requires, installed by lambdapack).
const setuptoolsPyproject = "[build-system]\nrequires = [\"setuptools>=61\"]\nbuild-backend = \"setuptools.build_meta\"\n"

func pkgInfo(name, version string) string {
	return "Metadata-Version: 2.1\nName: " + name + "\nVersion: " + version + "\n"
}

// An extension module holding one function, answer(), that returns
// 42 and the machine it was compiled for.
const answerC = `#include <Python.h>
#if defined(__aarch64__)
#define MACHINE "aarch64"
#elif defined(__x86_64__)
#define MACHINE "x86_64"
#else
#define MACHINE "other"
#endif
static PyObject *answer(PyObject *self, PyObject *args) { return Py_BuildValue("(is)", 42, MACHINE); }
static PyMethodDef methods[] = {{"answer", answer, METH_NOARGS, ""}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef mod = {PyModuleDef_HEAD_INIT, "_speed", NULL, -1, methods};
PyMODINIT_FUNC PyInit__speed(void) { return PyModule_Create(&mod); }
`

func testSdists(t *testing.T, dir string) map[string]Sdist {
	return map[string]Sdist{
		"pure": writeSdist(t, dir, "lp-pure", "1.0", map[string]string{
			"PKG-INFO":            pkgInfo("lp-pure", "1.0"),
			"pyproject.toml":      setuptoolsPyproject + "[project]\nname = \"lp-pure\"\nversion = \"1.0\"\n",
			"lp_pure/__init__.py": "VALUE = 'pure'\n",
			"setup.cfg":           "",
		}),
		// setuptools' optional=True: the extension is skipped when it
		// does not build.
		"optional": writeSdist(t, dir, "lp-optional", "1.0", map[string]string{
			"PKG-INFO":                pkgInfo("lp-optional", "1.0"),
			"pyproject.toml":          setuptoolsPyproject,
			"lp_optional/__init__.py": "try:\n    from ._speed import answer\nexcept ImportError:\n    def answer():\n        return (42, 'pure')\n",
			"lp_optional/speed.c":     answerC,
			"setup.py":                "from setuptools import setup, Extension\nsetup(name='lp-optional', version='1.0', packages=['lp_optional'],\n      ext_modules=[Extension('lp_optional._speed', ['lp_optional/speed.c'], optional=True)])\n",
		}),
		// Falls back to pure Python when no compiler runs (as PyYAML and
		// amazon-ion do), but its extension refuses to compile for arm64:
		// the cross build fails there and the pure fallback is used.
		"fallback": writeSdist(t, dir, "lp-fallback", "1.0", map[string]string{
			"PKG-INFO":                pkgInfo("lp-fallback", "1.0"),
			"pyproject.toml":          setuptoolsPyproject,
			"lp_fallback/__init__.py": "try:\n    from ._speed import answer\nexcept ImportError:\n    def answer():\n        return (42, 'pure')\n",
			"lp_fallback/speed.c":     "#ifdef __aarch64__\n#error this extension does not support arm64\n#endif\n" + answerC,
			"setup.py": `import os, shlex, subprocess
from setuptools import setup, Extension
def have_compiler():
    try:
        subprocess.run(shlex.split(os.environ.get("CC", "cc")) + ["--version"], check=True, capture_output=True)
        return True
    except Exception:
        return False
exts = [Extension("lp_fallback._speed", ["lp_fallback/speed.c"])] if have_compiler() else []
setup(name="lp-fallback", version="1.0", packages=["lp_fallback"], ext_modules=exts)
`,
		}),
		"required": writeSdist(t, dir, "lp-required", "1.0", map[string]string{
			"PKG-INFO":                pkgInfo("lp-required", "1.0"),
			"pyproject.toml":          setuptoolsPyproject,
			"lp_required/__init__.py": "from ._speed import answer\n",
			"lp_required/speed.c":     answerC,
			"setup.py":                "from setuptools import setup, Extension\nsetup(name='lp-required', version='1.0', packages=['lp_required'],\n      ext_modules=[Extension('lp_required._speed', ['lp_required/speed.c'])])\n",
		}),
		"broken": writeSdist(t, dir, "lp-broken", "1.0", map[string]string{
			"PKG-INFO":              pkgInfo("lp-broken", "1.0"),
			"pyproject.toml":        setuptoolsPyproject,
			"lp_broken/__init__.py": "",
			"lp_broken/speed.c":     "this is not C;\n",
			"setup.py":              "from setuptools import setup, Extension\nsetup(name='lp-broken', version='1.0', packages=['lp_broken'],\n      ext_modules=[Extension('lp_broken._speed', ['lp_broken/speed.c'])])\n",
		}),
		"library": writeSdist(t, dir, "lp-library", "1.0", map[string]string{
			"PKG-INFO":               pkgInfo("lp-library", "1.0"),
			"pyproject.toml":         setuptoolsPyproject,
			"lp_library/__init__.py": "",
			"lp_library/speed.c":     "#include <lambdapack_testlib.h>\n" + answerC,
			"setup.py":               "from setuptools import setup, Extension\nsetup(name='lp-library', version='1.0', packages=['lp_library'],\n      ext_modules=[Extension('lp_library._speed', ['lp_library/speed.c'], libraries=['lambdapack_testlib'])])\n",
		}),
	}
}

// wheelMembers lists a wheel's members; elfMachines maps each ELF member
// to its machine.
func wheelMembers(t *testing.T, p string) (names []string, elfMachines map[string]elf.Machine) {
	t.Helper()
	zr, err := zip.OpenReader(p)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	elfMachines = map[string]elf.Machine{}
	for _, f := range zr.File {
		names = append(names, f.Name)
		if strings.HasSuffix(f.Name, ".so") {
			tmp := filepath.Join(t.TempDir(), "x.so")
			rc, _ := f.Open()
			data := make([]byte, f.UncompressedSize64)
			_, _ = io.ReadFull(rc, data)
			rc.Close()
			os.WriteFile(tmp, data, 0o644)
			ef, err := elf.Open(tmp)
			if err != nil {
				t.Fatalf("%s: %v", f.Name, err)
			}
			elfMachines[f.Name] = ef.Machine
			ef.Close()
		}
	}
	return names, elfMachines
}

// importWheel unpacks a wheel and runs code with the target's Python:
// Debian's arm64 CPython 3.11 under qemu, or pyenv's for x86_64.
func importWheel(t *testing.T, tg target.Target, wheel, code string) string {
	t.Helper()
	dir := testutil.Unzip(t, wheel)
	var cmd *exec.Cmd
	if tg.Arch == target.ARM64 {
		if tg.Python() != "3.11" {
			t.Fatalf("no arm64 CPython %s here to import with", tg.Python())
		}
		argv := append(testutil.ARM64Python(t), "-S", "-c", code)
		cmd = exec.Command(argv[0], argv[1:]...)
	} else {
		cmd = exec.Command(testutil.Python(t, tg.Python()), "-S", "-c", code)
	}
	cmd.Env = append(os.Environ(), "PYTHONPATH="+dir, "PYTHONNOUSERSITE=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("importing %s for %s: %v\n%s", filepath.Base(wheel), tg, err, out)
	}
	return strings.TrimSpace(string(out))
}

func TestBuildTestSdists(t *testing.T) {
	b := realBuilder(t)
	sd := testSdists(t, t.TempDir())
	for _, tc := range []struct{ runtime, arch, machine, platform string }{
		{"python3.11", "arm64", "aarch64", "manylinux_2_26_aarch64"},
		{"python3.12", "x86_64", "x86_64", "manylinux_2_34_x86_64"},
	} {
		tg := mustTarget(t, tc.runtime, tc.arch)
		t.Run(tg.Runtime+"-"+string(tg.Arch), func(t *testing.T) {
			ctx := context.Background()
			cp := "cp" + strings.ReplaceAll(tg.Python(), ".", "")

			w, err := b.Build(ctx, sd["pure"], tg)
			if err != nil {
				t.Fatal(err)
			}
			if !w.Pure || w.Mode != Cross || w.Filename != "lp_pure-1.0-py3-none-any.whl" {
				t.Errorf("pure sdist: got %+v", w)
			}

			// Optional extension: compiled for the target by the cross
			// build; left out by the pure build.
			w, err = b.Build(ctx, sd["optional"], tg)
			if err != nil {
				t.Fatal(err)
			}
			if want := "lp_optional-1.0-" + cp + "-" + cp + "-" + tc.platform + ".whl"; w.Filename != want || w.Pure {
				t.Errorf("optional extension, cross build: got %s (pure %v), want %s", w.Filename, w.Pure, want)
			}
			_, machines := wheelMembers(t, w.Path)
			so := "lp_optional/_speed.cpython-" + strings.TrimPrefix(cp, "cp") + "-" + tc.machine + "-linux-gnu.so"
			if m, ok := machines[so]; !ok || m.String() != map[string]string{"aarch64": "EM_AARCH64", "x86_64": "EM_X86_64"}[tc.machine] {
				t.Errorf("optional extension: want %s for %s, got %v", so, tc.machine, machines)
			}
			if tg.Arch == target.ARM64 || tg.Python() == "3.12" {
				got := importWheel(t, tg, w.Path, "import lp_optional, lp_optional._speed; print(lp_optional.answer())")
				if got != "(42, '"+tc.machine+"')" {
					t.Errorf("the compiled module answered %q", got)
				}
			}
			pw, err := b.BuildPure(ctx, sd["optional"], tg)
			if err != nil {
				t.Fatal(err)
			}
			if names, machines := wheelMembers(t, pw.Path); !pw.Pure || len(machines) > 0 || !strings.HasSuffix(pw.Filename, "-none-any.whl") {
				t.Errorf("optional extension, pure build: %s holds %v", pw.Filename, names)
			}

			// Fallback: arm64's cross build fails, the pure one is used.
			w, err = b.Build(ctx, sd["fallback"], tg)
			if err != nil {
				t.Fatal(err)
			}
			if tg.Arch == target.ARM64 {
				if !w.Pure || w.Mode != Pure || len(w.Notes) == 0 || !strings.Contains(w.Notes[0], "without its compiled speedups") {
					t.Errorf("fallback on arm64: got %+v", w)
				}
				if got := importWheel(t, tg, w.Path, "import lp_fallback; print(lp_fallback.answer())"); got != "(42, 'pure')" {
					t.Errorf("the fallback answered %q", got)
				}
				// The failed cross build is remembered (failure.go): built
				// again, it is not compiled again.
				_, err := b.BuildCross(ctx, sd["fallback"], tg)
				if err == nil || !strings.Contains(err.Error(), "remembered from an earlier build of the same sdist") || !strings.Contains(err.Error(), "does not support arm64") {
					t.Errorf("the cross build's failure is not remembered: %v", err)
				}
			} else if w.Pure || w.Mode != Cross {
				t.Errorf("fallback on x86_64 should compile: got %+v", w)
			}

			// Required extension: compiled, imports on the target.
			w, err = b.Build(ctx, sd["required"], tg)
			if err != nil {
				t.Fatal(err)
			}
			if got := importWheel(t, tg, w.Path, "import lp_required; print(lp_required.answer())"); got != "(42, '"+tc.machine+"')" {
				t.Errorf("required extension answered %q", got)
			}

			// An extension that does not compile: both builds fail; the
			// error shows the compiler's output and how to reproduce.
			_, err = b.Build(ctx, sd["broken"], tg)
			var be *BuildError
			if !errors.As(err, &be) || be.Cross == nil || !strings.Contains(be.Cross.Output, "speed.c") || !strings.Contains(be.Cross.Reproduce, "build_wheel") {
				t.Fatalf("broken extension: want a BuildError with both attempts, got %v", err)
			}
			for _, want := range []string{"last output lines", "to run the build by hand", "lp_broken-1.0.tar.gz", "without them"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("broken extension: the error lacks %q:\n%v", want, err)
				}
			}

			// A library the target lacks: named.
			_, err = b.Build(ctx, sd["library"], tg)
			var le *LibraryError
			if !errors.As(err, &le) || !strings.Contains(le.Library, "lambdapack_testlib.h") {
				t.Fatalf("missing library: want a LibraryError naming lambdapack_testlib.h, got %v", err)
			}
			if !strings.Contains(err.Error(), "lambdapack image") {
				t.Errorf("missing library: no word of images: %v", err)
			}
		})
	}
}

// TestRustExtension builds a maturin + PyO3 extension (the crates from
// crates.io) with cargo and zig as linker for python3.11 on x86_64 (glibc
// 2.26) and imports it. The sdist is the same every run, so a warm run
// takes the cached wheel. arm64 needs the aarch64 Rust standard library,
// which this machine lacks: the error says how to add it.
func TestRustExtension(t *testing.T) {
	if _, err := exec.LookPath("cargo"); err != nil {
		t.Fatalf("cargo: %v (scripts/test.sh installs Rust)", err)
	}
	b := realBuilder(t)
	s := writeSdist(t, t.TempDir(), "lp-rs", "1.0", map[string]string{
		"lambdapack-test-nonce.txt": "fixed",
		"PKG-INFO":                  pkgInfo("lp-rs", "1.0"),
		"pyproject.toml":            "[build-system]\nrequires = [\"maturin>=1.5,<2\"]\nbuild-backend = \"maturin\"\n[project]\nname = \"lp-rs\"\nversion = \"1.0\"\n",
		"Cargo.toml":                "[package]\nname = \"lp_rs\"\nversion = \"1.0.0\"\nedition = \"2021\"\n[lib]\nname = \"lp_rs\"\ncrate-type = [\"cdylib\"]\n[dependencies]\npyo3 = { version = \"=0.22.6\", features = [\"extension-module\", \"abi3-py39\"] }\n",
		"src/lib.rs":                "use pyo3::prelude::*;\n#[pyfunction]\nfn answer() -> u32 { 42 }\n#[pymodule]\nfn lp_rs(m: &Bound<'_, PyModule>) -> PyResult<()> { m.add_function(wrap_pyfunction!(answer, m)?)?; Ok(()) }\n",
	})
	tg := mustTarget(t, "python3.11", "x86_64")
	w, err := b.BuildCross(context.Background(), s, tg)
	if err != nil {
		t.Fatal(err)
	}
	if w.Filename != "lp_rs-1.0-cp39-abi3-manylinux_2_26_x86_64.whl" {
		t.Errorf("got %s", w.Filename)
	}
	if got := importWheel(t, tg, w.Path, "import lp_rs; print(lp_rs.answer())"); got != "42" {
		t.Errorf("lp_rs.answer() = %q", got)
	}
	out, _ := exec.Command("rustup", "target", "list", "--installed").Output()
	if !strings.Contains(string(out), "aarch64-unknown-linux-gnu") {
		_, err := b.BuildCross(context.Background(), s, mustTarget(t, "python3.11", "arm64"))
		if err == nil || !strings.Contains(err.Error(), "rustup target add aarch64-unknown-linux-gnu") {
			t.Errorf("arm64 without the aarch64 standard library: %v", err)
		}
	}
}
