package verify_test

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/lambdapack/lambdapack/internal/verify"
)

// findingsOf returns a report's findings of one rule, by file.
func findingsOf(rep *verify.Report, rule string) map[string]verify.Finding {
	out := map[string]verify.Finding{}
	for _, f := range rep.Findings {
		if f.Rule == rule {
			out[f.File] = f
		}
	}
	return out
}

// missingLibs returns the missing-library findings by file.
func missingLibs(rep *verify.Report) map[string]verify.Finding {
	return findingsOf(rep, verify.RuleMissingLibrary)
}

// TestMissingLibraryAtImportOrOptional: a missing library is an error when
// the binary needing it loads as the package is imported (an extension
// module its __init__ imports, one a module-level function imports, a
// library loaded through ctypes), and a warning naming the optional module
// when nothing imports that module at import time, or imports it only
// where its ImportError is caught.
func TestMissingLibraryAtImportOrOptional(t *testing.T) {
	dir := t.TempDir()
	// A library the tests link against and never ship.
	fake := func(name string) string {
		d := filepath.Join(dir, name)
		os.MkdirAll(d, 0o755)
		so := gcc(t, "c", "int "+name+"(void) { return 1; }\n", "-Wl,-soname,lib"+name+".so.1")
		os.WriteFile(filepath.Join(d, "lib"+name+".so"), so, 0o644)
		return d
	}
	ext := func(lib string, extra ...string) []byte {
		return gcc(t, "c", "int "+lib+"(void);\nint PyInit_x(void) { return "+lib+"(); }\n", append([]string{"-L" + fake(lib), "-l" + lib}, extra...)...)
	}
	libdep := gcc(t, "c", "int gone_dep(void);\nint dep(void) { return gone_dep(); }\n", "-L"+fake("gone_dep"), "-lgone_dep", "-Wl,-soname,libdep.so.1")
	depDir := filepath.Join(dir, "dep")
	os.MkdirAll(depDir, 0o755)
	os.WriteFile(filepath.Join(depDir, "libdep.so"), libdep, 0o644)
	usesDep := gcc(t, "c", "int dep(void);\nint PyInit_x(void) { return dep(); }\n", "-L"+depDir, "-ldep", "-Wl,-rpath,$ORIGIN/../pkg.libs")

	a := artifact{
		"python/pkg/__init__.py": []byte("from . import _core\nfrom .loader import LIB\nfrom .lazy import run\n" +
			"try:\n    from . import _guarded\nexcept ImportError:\n    _guarded = None\n"),
		"python/pkg/loader.py":                                 []byte("import ctypes, os\n\ndef _find():\n    return os.path.join(os.path.dirname(__file__), 'lib', 'libplug.so')\n\nLIB = ctypes.CDLL(_find())\n"),
		"python/pkg/lazy.py":                                   []byte("def run():\n    from . import _optional\n    return _optional\n\ndef setup():\n    from . import _setup\n\nsetup()\n"),
		"python/pkg/viadep.py":                                 []byte("def go():\n    from ._uses_dep import x\n"),
		"python/pkg/_core.cpython-312-x86_64-linux-gnu.so":     ext("gone_core"),
		"python/pkg/_setup.cpython-312-x86_64-linux-gnu.so":    ext("gone_setup"),
		"python/pkg/_optional.cpython-312-x86_64-linux-gnu.so": ext("gone_optional"),
		"python/pkg/_guarded.cpython-312-x86_64-linux-gnu.so":  ext("gone_guarded"),
		"python/pkg/_uses_dep.cpython-312-x86_64-linux-gnu.so": usesDep,
		"python/pkg.libs/libdep.so.1":                          libdep,
		"python/pkg/lib/libplug.so":                            ext("gone_plug"),
	}
	rep := check(t, a, mustTarget(t, "python3.12", "x86_64"), verify.Options{})
	got := missingLibs(rep)
	want := map[string]struct {
		sev  verify.Severity
		says []string
	}{
		"python/pkg/_core.cpython-312-x86_64-linux-gnu.so":     {verify.Error, []string{"libgone_core.so.1", "importing pkg loads it"}},
		"python/pkg/_setup.cpython-312-x86_64-linux-gnu.so":    {verify.Error, []string{"libgone_setup.so.1", "pkg.lazy imports pkg._setup"}},
		"python/pkg/lib/libplug.so":                            {verify.Error, []string{"libgone_plug.so.1", "load libraries through ctypes"}},
		"python/pkg/_optional.cpython-312-x86_64-linux-gnu.so": {verify.Warning, []string{"libgone_optional.so.1", "only pkg._optional needs it", "nothing imports it"}},
		"python/pkg/_guarded.cpython-312-x86_64-linux-gnu.so":  {verify.Warning, []string{"libgone_guarded.so.1", "catch its ImportError (pkg)"}},
		"python/pkg.libs/libdep.so.1":                          {verify.Warning, []string{"libgone_dep.so.1", "only pkg._uses_dep needs it"}},
	}
	var files []string
	for f := range got {
		files = append(files, f)
	}
	sort.Strings(files)
	if len(got) != len(want) {
		t.Errorf("missing-library findings for %v, want %d", files, len(want))
	}
	for file, w := range want {
		f, ok := got[file]
		if !ok {
			t.Errorf("%s: no missing-library finding", file)
			continue
		}
		if f.Severity != w.sev {
			t.Errorf("%s: %s, want %s: %s", file, f.Severity, w.sev, f.Message)
		}
		for _, s := range w.says {
			if !strings.Contains(f.Message, s) {
				t.Errorf("%s: message does not say %q: %s", file, s, f.Message)
			}
		}
		if strings.Contains(f.Fix, "manylinux wheel") {
			t.Errorf("%s: the fix sends the user to a wheel they have: %s", file, f.Fix)
		}
	}
}

// The real wheels: numba's OpenMP and TBB threading backends are optional
// (imported only inside numba.np.ufunc.parallel's backend launcher, under
// `except ImportError`), lightgbm loads lib_lightgbm.so, which needs
// libgomp, through ctypes as it is imported.
const (
	numbaX86_312    = "numba-0.68.1-cp312-cp312-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl"
	lightgbmX86_312 = "lightgbm-4.7.0-py3-none-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl"
)

func init() {
	projectOf[numbaX86_312] = "numba"
	projectOf[lightgbmX86_312] = "lightgbm"
}

// TestNumbaOptionalLightGBMRequired verifies layers of the real numba and
// lightgbm wheels from the index (their sha256 checked against the index's):
// numba verifies with warnings naming its optional threading backends,
// lightgbm fails on libgomp, and neither fix sends the user to the
// manylinux wheel they already have.
func TestNumbaOptionalLightGBMRequired(t *testing.T) {
	tg := mustTarget(t, "python3.12", "x86_64")

	numba := artifact{}
	numba.install(t, "python/", realWheel(t, numbaX86_312))
	rep := check(t, numba, tg, verify.Options{})
	if rep.Failed(false) {
		t.Errorf("numba's layer fails:%s", describe(problems(rep)))
	}
	got := missingLibs(rep)
	for file, w := range map[string]struct{ lib, module string }{
		"python/numba/np/ufunc/omppool.cpython-312-x86_64-linux-gnu.so": {"libgomp.so", "numba.np.ufunc.omppool"},
		"python/numba/np/ufunc/tbbpool.cpython-312-x86_64-linux-gnu.so": {"libtbb.so", "numba.np.ufunc.tbbpool"},
	} {
		f, ok := got[file]
		if !ok {
			t.Errorf("numba: no finding for %s:%s", file, describe(rep.Findings))
			continue
		}
		if f.Severity != verify.Warning || !strings.Contains(f.Message, w.lib) || !strings.Contains(f.Message, w.module) || !strings.Contains(f.Fix, w.module) {
			t.Errorf("numba: %s: %s %s / fix %s", file, f.Severity, f.Message, f.Fix)
		}
		if strings.Contains(f.Fix, "manylinux wheel") {
			t.Errorf("numba: the fix sends the user to the wheel they have: %s", f.Fix)
		}
	}
	if len(got) != 2 {
		t.Errorf("numba: %d missing-library findings, want 2:%s", len(got), describe(rep.Findings))
	}

	lgbm := artifact{}
	lgbm.install(t, "python/", realWheel(t, lightgbmX86_312))
	rep = check(t, lgbm, tg, verify.Options{})
	errs := problems(rep)
	if len(errs) != 1 || errs[0].Severity != verify.Error || errs[0].Rule != verify.RuleMissingLibrary ||
		errs[0].File != "python/lightgbm/lib/lib_lightgbm.so" || !strings.Contains(errs[0].Message, "libgomp.so.1") {
		t.Fatalf("lightgbm: want one missing-library error for lib_lightgbm.so:%s", describe(errs))
	}
	if fix := errs[0].Fix; strings.Contains(fix, "manylinux wheel") || !strings.Contains(fix, "ship libgomp.so.1") || !strings.Contains(fix, "leaves libgomp.so.1 to the system") {
		t.Errorf("lightgbm: fix %q", fix)
	}
	t.Logf("lightgbm: %s\n  fix: %s", errs[0].Message, errs[0].Fix)
}
