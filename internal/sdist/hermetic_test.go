package sdist

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lambdapack/lambdapack/internal/cache"
	"github.com/lambdapack/lambdapack/internal/index"
	"github.com/lambdapack/lambdapack/internal/testutil"
)

// These tests need no index: their sdists bring an in-tree backend
// (backend-path, requires = []).

const inTreePyproject = "[build-system]\nrequires = []\nbuild-backend = \"backend\"\nbackend-path = [\"_build\"]\n"

// A minimal PEP 517 backend writing a pure wheel; BEFORE runs first.
func inTreeBackend(before string) string {
	return `import base64, hashlib, os, zipfile
def _before():
` + indentPy(before) + `
def get_requires_for_build_wheel(config_settings=None):
    return []
def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    _before()
    name = "lp_tree-1.0-py3-none-any.whl"
    files = {"lp_tree/__init__.py": b"X = 1\n",
             "lp_tree-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: lp-tree\nVersion: 1.0\nRequires-Dist: six\n",
             "lp_tree-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
    rec = []
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as z:
        for n, d in files.items():
            z.writestr(n, d)
            h = base64.urlsafe_b64encode(hashlib.sha256(d).digest()).rstrip(b"=").decode()
            rec.append("%s,sha256=%s,%d" % (n, h, len(d)))
        rec.append("lp_tree-1.0.dist-info/RECORD,,")
        z.writestr("lp_tree-1.0.dist-info/RECORD", "\n".join(rec) + "\n")
    return name
def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    _before()
    d = os.path.join(metadata_directory, "lp_tree-1.0.dist-info")
    os.makedirs(d)
    with open(os.path.join(d, "METADATA"), "w") as f:
        f.write("Metadata-Version: 2.1\nName: lp-tree\nVersion: 1.0\nRequires-Dist: six\n")
    return "lp_tree-1.0.dist-info"
`
}

func indentPy(s string) string {
	if s == "" {
		return "    pass"
	}
	return "    " + strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n    ")
}

// localBuilder has a cache of its own and no index.
func localBuilder(t *testing.T) *Builder {
	t.Helper()
	c, err := cache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return &Builder{Cache: c, Log: testLog{t}, Timeout: time.Minute,
		FindPython: func(minor string) (string, error) { return testutil.FindPython(minor) }}
}

// TestHostileBuildIsConfined builds an sdist whose backend writes outside
// its build folder: with Python (refused by the guard), into ~ (its own
// HOME), and with a shell command (caught afterwards, the result refused).
func TestHostileBuildIsConfined(t *testing.T) {
	b := localBuilder(t)
	outside := t.TempDir()
	b.Watch = []string{outside}
	home, _ := os.UserHomeDir()
	homeFile := "lambdapack-hostile-" + filepath.Base(outside)
	s := writeSdist(t, t.TempDir(), "lp-tree", "1.0", map[string]string{
		"PKG-INFO":       pkgInfo("lp-tree", "1.0"),
		"pyproject.toml": inTreePyproject,
		"_build/backend.py": inTreeBackend(`
try:
    open(` + pyStr(filepath.Join(outside, "by-python")) + `, "w").write("escaped")
    print("PYTHON WRITE WENT THROUGH")
except PermissionError as e:
    print("refused:", e)
try:
    open("../../escaped-relative", "w").write("escaped")
    print("RELATIVE WRITE WENT THROUGH")
except PermissionError as e:
    print("refused:", e)
open(os.path.expanduser("~/` + homeFile + `"), "w").write("contained")
os.system("echo escaped > " + ` + pyStr(filepath.Join(outside, "by-shell")) + `)
`),
	})
	tg := mustTarget(t, "python3.12", "x86_64")
	_, err := b.BuildPure(context.Background(), s, tg)
	var esc *EscapeError
	if !errors.As(err, &esc) {
		t.Fatalf("want an EscapeError, got %v", err)
	}
	if len(esc.Paths) != 1 || !strings.Contains(esc.Paths[0], filepath.Join(outside, "by-shell")) {
		t.Errorf("escaped paths: %v", esc.Paths)
	}
	var be *BuildError
	if !errors.As(err, &be) || strings.Contains(be.Output, "WENT THROUGH") || strings.Count(be.Output, "refused: lambdapack: the build may not write") != 2 {
		t.Errorf("the guard did not refuse both Python writes:\n%s", be.Output)
	}
	if _, err := os.Stat(filepath.Join(outside, "by-python")); err == nil {
		t.Error("the Python write outside the build folder went through")
	}
	if _, err := os.Stat(filepath.Join(home, homeFile)); err == nil {
		os.Remove(filepath.Join(home, homeFile))
		t.Error("the build wrote into the real home folder")
	}
	// Nothing is left beside the build folders, and no wheel was stored.
	tmp, _ := b.Cache.Dir("build-tmp")
	if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
		t.Errorf("left in build-tmp: %v", ents)
	}
	store, _ := b.Cache.Dir("sdist-wheels")
	if ents, _ := os.ReadDir(store); len(ents) != 0 {
		t.Errorf("a refused build was stored: %v", ents)
	}
}

func TestBuildTimeout(t *testing.T) {
	b := localBuilder(t)
	b.Timeout = 3 * time.Second
	s := writeSdist(t, t.TempDir(), "lp-tree", "1.0", map[string]string{
		"PKG-INFO":          pkgInfo("lp-tree", "1.0"),
		"pyproject.toml":    inTreePyproject,
		"_build/backend.py": inTreeBackend("import subprocess\nprint('sleeping', flush=True)\nsubprocess.run(['sleep', '60'])"),
	})
	start := time.Now()
	_, err := b.BuildPure(context.Background(), s, mustTarget(t, "python3.12", "x86_64"))
	var be *BuildError
	if !errors.As(err, &be) || be.TimedOut != 3*time.Second || !strings.Contains(be.Output, "sleeping") {
		t.Fatalf("want a timed-out BuildError with the output, got %v", err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("the build ran %s past a 3 s timeout (its child was not stopped)", d)
	}
	if !strings.Contains(err.Error(), "--build-timeout") || !strings.Contains(err.Error(), "to run the build by hand") {
		t.Errorf("error: %v", err)
	}
}

func TestMetadata(t *testing.T) {
	b := localBuilder(t)
	tg := mustTarget(t, "python3.12", "x86_64")
	ctx := context.Background()
	// PEP 643: Metadata-Version 2.2 without Dynamic dependencies is read
	// as it is; the backend (which would fail) never runs.
	static := writeSdist(t, t.TempDir(), "lp-tree", "1.0", map[string]string{
		"PKG-INFO":          "Metadata-Version: 2.2\nName: lp-tree\nVersion: 1.0\nRequires-Dist: attrs>=22\nDynamic: Description\n",
		"pyproject.toml":    inTreePyproject,
		"_build/backend.py": "raise SystemExit('the backend must not run')\n",
	})
	md, _, src, err := b.Metadata(ctx, static, tg)
	if err != nil || src != Static || len(md.RequiresDist) != 1 || md.RequiresDist[0].Name != "attrs" {
		t.Fatalf("static metadata: %v %v %+v", src, err, md)
	}
	// Dynamic Requires-Dist: prepare_metadata_for_build_wheel.
	dyn := writeSdist(t, t.TempDir(), "lp-tree", "1.0", map[string]string{
		"PKG-INFO":          "Metadata-Version: 2.2\nName: lp-tree\nVersion: 1.0\nDynamic: Requires-Dist\n",
		"pyproject.toml":    inTreePyproject,
		"_build/backend.py": inTreeBackend(""),
	})
	md, _, src, err = b.Metadata(ctx, dyn, tg)
	if err != nil || src != Prepared || len(md.RequiresDist) != 1 || md.RequiresDist[0].Name != "six" {
		t.Fatalf("prepared metadata: %v %v %+v", src, err, md)
	}
}

func TestRetargetPyconfig(t *testing.T) {
	py := testutil.Python(t, "3.11")
	h, err := probeHost(context.Background(), py, writeHook(t))
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(filepath.Join(h.Include, "pyconfig.h"))
	if err != nil {
		t.Fatal(err)
	}
	got := string(retargetPyconfig(src, "aarch64"))
	for _, want := range []string{"/* #undef HAVE_GCC_ASM_FOR_X87 */", "/* #undef HAVE_GCC_ASM_FOR_X64 */", "#define HAVE_USABLE_WCHAR_T 1", "#define SIZEOF_LONG 8"} {
		if !strings.Contains(got, want) {
			t.Errorf("aarch64 pyconfig.h lacks %q", want)
		}
	}
	back := string(retargetPyconfig([]byte(got), "x86_64"))
	for _, want := range []string{"#define HAVE_GCC_ASM_FOR_X87 1", "/* #undef HAVE_USABLE_WCHAR_T */"} {
		if !strings.Contains(back, want) {
			t.Errorf("x86_64 pyconfig.h lacks %q", want)
		}
	}
}

func writeHook(t *testing.T) string {
	p := filepath.Join(t.TempDir(), hookScript)
	if err := os.WriteFile(p, hookSource, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestUnsafeSdistsAreRefused(t *testing.T) {
	dir := t.TempDir()
	for name, files := range map[string]map[string]string{
		"dotdot": {"../evil.txt": "x"},
	} {
		s := writeSdist(t, dir, "lp-"+name, "1.0", files)
		if _, err := extract(s, t.TempDir()); err == nil || !strings.Contains(err.Error(), `".."`) {
			t.Errorf("%s: want a refusal, got %v", name, err)
		}
	}
	if _, err := parseBuildSystem([]byte("[build-system]\nrequires=[]\nbuild-backend='b'\nbackend-path=['../x']\n")); err == nil {
		t.Error("a backend-path leaving the tree was accepted")
	}
	bs, err := parseBuildSystem(nil)
	if err != nil || !bs.Legacy || bs.Requires[0] != "setuptools>=40.8.0" {
		t.Errorf("no pyproject.toml: %+v %v", bs, err)
	}
}

func TestDetectLibrary(t *testing.T) {
	for _, c := range []struct{ pkg, out, lib, alt string }{
		{"psycopg2", "Error: pg_config executable not found.", "libpq", "psycopg2-binary"},
		{"mysqlclient", "Exception: Can not find valid pkg-config name.", "libmysqlclient", "PyMySQL"},
		{"gdal", "Could not find gdal-config. Make sure you have installed the GDAL native library", "GDAL", ""},
		{"other", "src/x.c:1:10: fatal error: 'foo/bar.h' file not found", "foo/bar.h", ""},
		{"other", "Package libxml-2.0 was not found in the pkg-config search path.", "libxml-2.0", ""},
	} {
		lib, _, alts, ok := detectLibrary(c.pkg, c.out)
		if !ok || !strings.Contains(lib, c.lib) || (c.alt != "" && !strings.Contains(strings.Join(alts, " "), c.alt)) {
			t.Errorf("%s: got %q %v %v", c.pkg, lib, alts, ok)
		}
	}
	if _, _, _, ok := detectLibrary("other", "SyntaxError: invalid syntax"); ok {
		t.Error("a syntax error was taken for a missing library")
	}
}

// TestFileMetadata reads an sdist the resolver found as it will: fetched
// through the cache with its hash checked, PKG-INFO read without building.
func TestFileMetadata(t *testing.T) {
	b := localBuilder(t)
	s := writeSdist(t, t.TempDir(), "lp-static", "2.0", map[string]string{
		"PKG-INFO":       "Metadata-Version: 2.4\nName: lp-static\nVersion: 2.0\nRequires-Dist: attrs\n",
		"pyproject.toml": inTreePyproject,
	})
	data, err := os.ReadFile(s.Path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	f := index.File{Filename: filepath.Base(s.Path), URL: s.Path, Hashes: map[string]string{"sha256": hex.EncodeToString(sum[:])}, Size: int64(len(data))}
	md, err := b.FileMetadata(context.Background(), f, mustTarget(t, "python3.12", "x86_64"))
	if err != nil || md.Version.String() != "2.0" || len(md.RequiresDist) != 1 {
		t.Fatalf("%v %+v", err, md)
	}
	f.Hashes["sha256"] = strings.Repeat("0", 64)
	if _, err := b.FileMetadata(context.Background(), f, mustTarget(t, "python3.12", "x86_64")); err == nil {
		t.Error("an sdist with the wrong hash was read")
	}
}
