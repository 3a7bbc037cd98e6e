package verify_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lambdapack/lambdapack/internal/target"
	"github.com/lambdapack/lambdapack/internal/testutil"
	"github.com/lambdapack/lambdapack/internal/verify"
)

// machO is a minimal 64-bit little-endian Mach-O dylib header (arm64),
// padded like a real file.
func machO() []byte {
	b := make([]byte, 4096)
	binary.LittleEndian.PutUint32(b[0:], 0xfeedfacf)  // MH_MAGIC_64
	binary.LittleEndian.PutUint32(b[4:], 0x0100000c)  // CPU_TYPE_ARM64
	binary.LittleEndian.PutUint32(b[8:], 0)           // subtype
	binary.LittleEndian.PutUint32(b[12:], 6)          // MH_DYLIB
	binary.LittleEndian.PutUint32(b[16:], 0)          // ncmds
	binary.LittleEndian.PutUint32(b[20:], 0)          // sizeofcmds
	binary.LittleEndian.PutUint32(b[24:], 0x00100085) // flags
	return b
}

const glibc228 = `#define _GNU_SOURCE
#include <sys/stat.h>
#include <fcntl.h>
int probe(const char *p) { struct statx st; return statx(AT_FDCWD, p, 0, STATX_SIZE, &st); }
`

const glibc234 = `#include <pthread.h>
static void *run(void *a) { return a; }
int probe(void) { pthread_t t; return pthread_create(&t, 0, run, 0); }
`

const cxxFilesystem = `#include <filesystem>
extern "C" int probe(const char *p) { return std::filesystem::exists(p) ? 1 : 0; }
`

// problems returns errors and warnings.
func problems(r *verify.Report) []verify.Finding { return r.Problems() }

// TestKnownBad: each broken artifact produces exactly its finding (info
// findings aside), and the fixed artifact none.
func TestKnownBad(t *testing.T) {
	py311x86 := mustTarget(t, "python3.11", "x86_64")
	py311arm := mustTarget(t, "python3.11", "arm64")
	py312x86 := mustTarget(t, "python3.12", "x86_64")

	msX86 := realWheel(t, msX86_311)
	soName, soX86 := member(t, msX86, ".so")
	_, soI686 := member(t, realWheel(t, msI686_311), ".so")
	so312Name, so312 := member(t, realWheel(t, msX86_312), ".so")
	cryptoName, cryptoSo := member(t, realWheel(t, crypto228), "_rust.abi3.so")

	libfoo := gcc(t, "c", "int foo(void) { return 42; }\n", "-Wl,-soname,libfoo.so.1")
	// libbar links libfoo: build it against a libfoo.so in its folder.
	fooDir := t.TempDir()
	os.WriteFile(filepath.Join(fooDir, "libfoo.so"), libfoo, 0o644)
	barSrc := "int foo(void);\nint bar(void) { return foo() + 1; }\n"
	barPlain := gcc(t, "c", barSrc, "-L"+fooDir, "-lfoo")
	barRpath := gcc(t, "c", barSrc, "-L"+fooDir, "-lfoo", "-Wl,-rpath,$ORIGIN/../bar.libs")
	g228, g234 := gcc(t, "c", glibc228), gcc(t, "c", glibc234)
	cxx := gcc(t, "c++", cxxFilesystem, "-std=c++17")

	type want struct {
		sev  verify.Severity
		rule string
		file string
	}
	cases := []struct {
		name string
		art  artifact
		t    target.Target
		kind verify.Kind
		want []want
	}{
		{"x86_64 .so in an arm64 layer", artifact{"python/" + soName: soX86}, py311arm, "",
			[]want{{verify.Error, verify.RuleArch, "python/" + soName}}},
		{"same .so on x86_64 is clean", artifact{"python/" + soName: soX86}, py311x86, "", nil},
		{"32-bit .so", artifact{"python/markupsafe/_speedups.so": soI686}, py311x86, "",
			[]want{{verify.Error, verify.RuleArch, "python/markupsafe/_speedups.so"}}},
		{"GLIBC_2.28 (gcc) for python3.11", artifact{"python/probe.so": g228}, py311x86, "",
			[]want{{verify.Error, verify.RuleGlibc, "python/probe.so"}}},
		{"GLIBC_2.28 (gcc) for python3.12", artifact{"python/probe.so": g228}, py312x86, "", nil},
		{"GLIBC_2.34 (gcc) for python3.11", artifact{"python/probe.so": g234}, py311x86, "",
			[]want{{verify.Error, verify.RuleGlibc, "python/probe.so"}}},
		{"GLIBC_2.34 (gcc) for python3.12", artifact{"python/probe.so": g234}, py312x86, "", nil},
		{"manylinux_2_28 wheel's .so for python3.11", artifact{"python/" + cryptoName: cryptoSo}, py311x86, "",
			[]want{{verify.Error, verify.RuleGlibc, "python/" + cryptoName}}},
		{"manylinux_2_28 wheel's .so for python3.12", artifact{"python/" + cryptoName: cryptoSo}, py312x86, "", nil},
		{"GLIBCXX_3.4.26 for python3.11", artifact{"python/fs.so": cxx}, py311x86, "",
			[]want{{verify.Error, verify.RuleSymbolVersions, "python/fs.so"}}},
		{"GLIBCXX_3.4.26 for python3.12", artifact{"python/fs.so": cxx}, py312x86, "", nil},
		{"Mach-O .so", artifact{"python/fast/_speedups.abi3.so": machO()}, py311x86, "",
			[]want{{verify.Error, verify.RuleForeignBinary, "python/fast/_speedups.abi3.so"}}},
		{"Mach-O .dylib data file", artifact{"python/fast/attach.dylib": machO()}, py311x86, "", nil},
		{"cp312 extension in a python3.11 layer", artifact{"python/" + so312Name: so312}, py311x86, "",
			[]want{{verify.Error, verify.RulePythonABI, "python/" + so312Name}}},
		{"missing DT_NEEDED library", artifact{"python/bar/_bar.so": barPlain}, py311x86, "",
			[]want{{verify.Error, verify.RuleMissingLibrary, "python/bar/_bar.so"}}},
		{"library in the layer's lib/", artifact{"python/bar/_bar.so": barPlain, "lib/libfoo.so.1": libfoo}, py311x86, "", nil},
		{"library beside the module without RPATH", artifact{"python/bar/_bar.so": barPlain, "python/bar/libfoo.so.1": libfoo}, py311x86, "",
			[]want{{verify.Error, verify.RuleMissingLibrary, "python/bar/_bar.so"}}},
		{"library where $ORIGIN RPATH points", artifact{"python/bar/_bar.so": barRpath, "python/bar.libs/libfoo.so.1": libfoo}, py311x86, "", nil},
		{"library in the function's lib/", artifact{"handler.py": []byte("def handler(e, c): pass\n"), "bar/_bar.so": barPlain, "lib/libfoo.so.1": libfoo}, py311x86, "", nil},
		{"layer with no python/", artifact{"markupsafe/__init__.py": []byte("x = 1\n"), "markupsafe/" + base(soName): soX86}, py311x86, "",
			[]want{{verify.Error, verify.RuleLayout, "markupsafe"}}},
		{"layer for another Python's site-packages", artifact{"python/lib/python3.12/site-packages/m/__init__.py": []byte("\n")}, py311x86, "",
			[]want{{verify.Error, verify.RuleLayout, "python/lib/python3.12/site-packages/"}}},
		{"layer with stray top-level modules", artifact{"python/m/__init__.py": []byte("\n"), "stray.py": []byte("\n"), "python/n.py": []byte("\n")}, py311x86, verify.KindLayer,
			[]want{{verify.Warning, verify.RuleLayout, "stray.py"}}},
		{"layer for this Python's site-packages", artifact{"python/lib/python3.11/site-packages/m/__init__.py": []byte("\n")}, py311x86, "", nil},
		{"function zip with python/", artifact{"handler.py": []byte("\n"), "python/m/__init__.py": []byte("\n")}, py311x86, verify.KindFunction,
			[]want{{verify.Warning, verify.RuleLayout, "python/"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rep := check(t, c.art, c.t, verify.Options{Kind: c.kind})
			got := problems(rep)
			if len(got) != len(c.want) {
				t.Fatalf("want %d findings, got %d:%s", len(c.want), len(got), describe(got))
			}
			for i, w := range c.want {
				g := got[i]
				if g.Severity != w.sev || g.Rule != w.rule || g.File != w.file {
					t.Errorf("finding %d: want %s %s %s, got:%s", i, w.sev, w.rule, w.file, describe(got[i:i+1]))
				}
				if g.Message == "" || g.Fix == "" {
					t.Errorf("finding %d has no message or fix:%s", i, describe(got[i:i+1]))
				}
			}
			if wantFail := len(c.want) > 0 && c.want[0].sev == verify.Error; rep.Failed(false) != wantFail {
				t.Errorf("Failed(false) = %v, want %v", rep.Failed(false), wantFail)
			}
		})
	}
}

// TestSizeLimit: one byte over the unzipped limit is an error, exactly at
// the limit is not; --with counts.
func TestSizeLimit(t *testing.T) {
	tg := mustTarget(t, "python3.12", "x86_64")
	zeros := func(n int64) func() (io.ReadCloser, error) {
		return func() (io.ReadCloser, error) { return io.NopCloser(io.LimitReader(zeroReader{}, n)), nil }
	}
	entries := func(total int64) []verify.Entry {
		half := total / 2
		return []verify.Entry{
			{Path: "python/big/__init__.py", Size: 10, Open: zeros(10)},
			{Path: "python/big/a.bin", Size: half, Open: zeros(half)},
			{Path: "python/big/b.bin", Size: total - half - 10, Open: zeros(total - half - 10)},
		}
	}
	for _, c := range []struct {
		name  string
		total int64
		with  []verify.Extra
		fail  bool
	}{
		{"at the limit", verify.UnzippedLimit, nil, false},
		{"one byte over", verify.UnzippedLimit + 1, nil, true},
		{"with other layers one byte over", verify.UnzippedLimit - 1000, []verify.Extra{{Name: "layer.zip", Size: 600}, {Name: "400", Size: 401}}, true},
		{"with other layers at the limit", verify.UnzippedLimit - 1000, []verify.Extra{{Name: "layer.zip", Size: 600}, {Name: "400", Size: 400}}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			rep, err := verify.Check(context.Background(), verify.EntriesSource("plan", entries(c.total)), tg, verify.Options{With: c.with})
			if err != nil {
				t.Fatal(err)
			}
			got := problems(rep)
			if !c.fail {
				if len(got) != 0 {
					t.Fatalf("want no findings:%s", describe(got))
				}
				return
			}
			if len(got) != 1 || got[0].Rule != verify.RuleSize || got[0].Severity != verify.Error {
				t.Fatalf("want one size error:%s", describe(got))
			}
			if rep.TotalBytes != verify.UnzippedLimit+1 {
				t.Errorf("TotalBytes = %d", rep.TotalBytes)
			}
		})
	}

	// A real folder with a sparse file one byte over.
	d := t.TempDir()
	os.MkdirAll(filepath.Join(d, "python"), 0o755)
	f, err := os.Create(filepath.Join(d, "python", "blob.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(verify.UnzippedLimit + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	rep, err := verify.Check(context.Background(), verify.PathSource(d), tg, verify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := problems(rep); len(got) != 1 || got[0].Rule != verify.RuleSize {
		t.Fatalf("sparse folder: want one size error:%s", describe(got))
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestZipOver50MB: a zip over the direct-upload limit gets the S3 note.
func TestZipOver50MB(t *testing.T) {
	tg := mustTarget(t, "python3.12", "x86_64")
	rep, err := verify.Check(context.Background(), verify.Source{Entries: []verify.Entry{}, ZipSize: verify.DirectUploadLimit + 1}, tg, verify.Options{Kind: verify.KindLayer})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range rep.Findings {
		if f.Rule == verify.RuleZipSize && f.Severity == verify.Info && strings.Contains(f.Message, "S3") {
			found = true
		}
	}
	if !found {
		t.Fatalf("no zip-size note:%s", describe(rep.Findings))
	}
}

// goodLayer builds a layer from real wheels of markupsafe, pyyaml and
// pyzmq (which bundles libzmq and libsodium in pyzmq.libs, found through
// RPATH $ORIGIN/../../../pyzmq.libs) for one architecture.
func goodLayer(t *testing.T, arm bool) artifact {
	a := artifact{}
	ws := []string{msX86_311, yamlX86_311, zmqX86_311}
	if arm {
		ws = []string{msARM_311, yamlARM_311, zmqARM_311}
	}
	for _, w := range ws {
		a.install(t, "python/", realWheel(t, w))
	}
	return a
}

// TestKnownGoodRealLayers: layers of real wheels verify clean for their
// target, from a zip, a folder and in-memory entries alike, and really
// import on the matching interpreter (pyenv CPython 3.11 on x86_64,
// Debian's arm64 CPython 3.11 under qemu).
func TestKnownGoodRealLayers(t *testing.T) {
	for _, arm := range []bool{false, true} {
		arch := "x86_64"
		if arm {
			arch = "arm64"
		}
		t.Run(arch, func(t *testing.T) {
			t.Parallel()
			tg := mustTarget(t, "python3.11", arch)
			a := goodLayer(t, arm)
			dir := a.dir(t)
			for name, src := range map[string]verify.Source{
				"zip":     verify.PathSource(a.zip(t)),
				"folder":  verify.PathSource(dir),
				"entries": verify.EntriesSource("plan", a.entries()),
			} {
				rep, err := verify.Check(context.Background(), src, tg, verify.Options{})
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if got := problems(rep); len(got) != 0 {
					t.Fatalf("%s: want clean, got:%s", name, describe(got))
				}
				if rep.Kind != verify.KindLayer || !rep.KindInferred || rep.Binaries < 12 {
					t.Errorf("%s: kind %s inferred %v, %d binaries", name, rep.Kind, rep.KindInferred, rep.Binaries)
				}
				if rep.Policy != "manylinux_2_26" {
					t.Errorf("policy %s", rep.Policy)
				}
				if len(rep.Packages) < 3 || rep.Packages[0].Name != "pyzmq" {
					t.Errorf("%s: largest packages %+v", name, rep.Packages)
				}
				var boto bool
				for _, f := range rep.Findings {
					boto = boto || f.Rule == verify.RuleBoto3 && strings.Contains(f.Message, "not bundled")
				}
				if !boto {
					t.Errorf("%s: no boto3 statement:%s", name, describe(rep.Findings))
				}
			}
			// The layer really loads.
			code := "import markupsafe._speedups, yaml, zmq; assert yaml.__with_libyaml__; print(zmq.zmq_version())"
			var cmd *exec.Cmd
			if arm {
				pre := testutil.ARM64Python(t)
				cmd = exec.Command(pre[0], append(pre[1:], "-S", "-c", code)...)
			} else {
				cmd = exec.Command(testutil.Python(t, "3.11"), "-S", "-c", code)
			}
			cmd.Env = append(os.Environ(), "PYTHONPATH="+filepath.Join(dir, "python"), "PYTHONNOUSERSITE=1")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("importing the layer: %v\n%s", err, out)
			}

			// The same layer for the other architecture: one arch error per
			// binary, nothing else, each naming its package.
			other := "arm64"
			if arm {
				other = "x86_64"
			}
			rep := check(t, a, mustTarget(t, "python3.11", other), verify.Options{})
			got := problems(rep)
			if len(got) != rep.Binaries+3 {
				t.Fatalf("want %d arch errors and 3 wheel-tag errors:%s", rep.Binaries, describe(got))
			}
			for _, f := range got {
				if f.Rule == verify.RuleWheelTag && strings.HasSuffix(f.File, ".dist-info/WHEEL") {
					continue
				}
				if f.Rule != verify.RuleArch || f.Package == "" {
					t.Errorf("want an arch error with its package:%s", describe([]verify.Finding{f}))
				}
				if strings.Contains(f.File, "pyzmq.libs") && !strings.HasPrefix(f.Package, "pyzmq==25.1.2") {
					t.Errorf("package of %s = %q", f.File, f.Package)
				}
			}

			// The wrong Python: each extension and the WHEEL tag.
			rep = check(t, a, mustTarget(t, "python3.12", arch), verify.Options{})
			var abi, tags int
			for _, f := range problems(rep) {
				switch f.Rule {
				case verify.RulePythonABI:
					abi++
				case verify.RuleWheelTag:
					tags++
				default:
					t.Errorf("unexpected:%s", describe([]verify.Finding{f}))
				}
			}
			if abi < 11 || tags != 3 {
				t.Errorf("python3.12: %d python-abi, %d wheel-tag findings", abi, tags)
			}
		})
	}
}

// TestMissingBundledLibraries: pyzmq without its pyzmq.libs folder names
// the missing library for every extension.
func TestMissingBundledLibraries(t *testing.T) {
	a := artifact{}
	a.install(t, "python/", realWheel(t, zmqX86_311))
	for p := range a {
		if strings.Contains(p, "pyzmq.libs/libzmq") {
			delete(a, p)
		}
	}
	rep := check(t, a, mustTarget(t, "python3.11", "x86_64"), verify.Options{})
	got := problems(rep)
	if len(got) < 10 {
		t.Fatalf("want a missing-library error per extension:%s", describe(got))
	}
	for _, f := range got {
		if f.Rule != verify.RuleMissingLibrary || !strings.Contains(f.Message, "libzmq-") || !strings.HasPrefix(f.Package, "pyzmq==") {
			t.Errorf("unexpected:%s", describe([]verify.Finding{f}))
		}
	}
}

// TestFunctionKind: a function zip of real wheels plus a handler is
// inferred as a function and verifies clean.
func TestFunctionKind(t *testing.T) {
	a := artifact{"app.py": []byte("import yaml\ndef handler(event, context):\n    return yaml.safe_dump(event)\n")}
	a.install(t, "", realWheel(t, yamlX86_311))
	a.install(t, "", realWheel(t, zmqX86_311))
	rep := check(t, a, mustTarget(t, "python3.11", "x86_64"), verify.Options{})
	if rep.Kind != verify.KindFunction || !rep.KindInferred {
		t.Fatalf("kind %s", rep.Kind)
	}
	if got := problems(rep); len(got) != 0 {
		t.Fatalf("want clean:%s", describe(got))
	}
}

// TestDebianARM64Binaries: the libraries and extension modules of
// Debian 12's arm64 CPython are aarch64 to the checker, wrong for an
// x86_64 target, and need glibc 2.34 features AL2 lacks.
func TestDebianARM64Binaries(t *testing.T) {
	root := arm64Root(t, testutil.ARM64Python(t))
	var libs []string
	for _, g := range []string{"usr/lib/aarch64-linux-gnu/*.so*", "usr/lib/python3.11/lib-dynload/*.so"} {
		m, _ := filepath.Glob(filepath.Join(root, g))
		libs = append(libs, m...)
	}
	if len(libs) < 20 {
		t.Fatalf("only %d arm64 binaries under %s", len(libs), root)
	}
	a := artifact{"python/placeholder.py": []byte("\n")}
	for _, p := range libs {
		if fi, err := os.Lstat(p); err != nil || !fi.Mode().IsRegular() {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		a["lib/"+filepath.Base(p)] = b
	}
	rep := check(t, a, mustTarget(t, "python3.12", "x86_64"), verify.Options{})
	for _, f := range problems(rep) {
		if f.Rule != verify.RuleArch || !strings.Contains(f.Message, "ELF binary for aarch64") {
			t.Errorf("x86_64 target:%s", describe([]verify.Finding{f}))
		}
	}
	if n := len(problems(rep)); n != rep.Binaries || n < 20 {
		t.Errorf("%d arch findings for %d binaries", n, rep.Binaries)
	}
	rep = check(t, a, mustTarget(t, "python3.12", "arm64"), verify.Options{})
	for _, f := range problems(rep) {
		if f.Rule == verify.RuleArch {
			t.Errorf("arm64 target:%s", describe([]verify.Finding{f}))
		}
	}
	// Debian 12 (glibc 2.36) builds need symbols newer than Amazon Linux 2's
	// glibc 2.26: libstdc++ 12 needs GLIBC_2.33 at least.
	rep = check(t, a, mustTarget(t, "python3.11", "arm64"), verify.Options{})
	found := false
	for _, f := range problems(rep) {
		if f.Rule == verify.RuleGlibc && f.File == "lib/libstdc++.so.6.0.30" {
			found = true
		}
	}
	if !found {
		t.Errorf("no glibc finding for libstdc++.so.6.0.30 on python3.11:%s", describe(problems(rep)))
	}
}

// TestReadELFMatchesReadelf compares the ELF reader with binutils' readelf
// on real binaries of both architectures.
func TestReadELFMatchesReadelf(t *testing.T) {
	readelf, err := exec.LookPath("readelf")
	if err != nil {
		t.Fatalf("readelf (binutils, installed with gcc) is needed to cross-check: %v", err)
	}
	dir := t.TempDir()
	var files []string
	for _, w := range []string{msX86_311, msARM_311, zmqX86_311, zmqARM_311, crypto228} {
		for name, b := range wheelFiles(t, realWheel(t, w)) {
			if strings.Contains(name, ".so") {
				p := filepath.Join(dir, strings.NewReplacer("/", "_").Replace(name))
				os.WriteFile(p, b, 0o644)
				files = append(files, p)
			}
		}
	}
	root := arm64Root(t, testutil.ARM64Python(t))
	m, _ := filepath.Glob(filepath.Join(root, "usr/lib/python3.11/lib-dynload/*.so"))
	files = append(files, m...)
	p := filepath.Join(dir, "g234.so")
	os.WriteFile(p, gcc(t, "c", glibc234), 0o644)
	files = append(files, p)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		info, err := verify.ReadELF(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out, err := exec.Command(readelf, "-d", "-V", "-W", f).Output()
		if err != nil {
			t.Fatalf("readelf %s: %v", f, err)
		}
		var needed, rpath []string
		vers := map[string]bool{}
		file := ""
		for _, line := range strings.Split(string(out), "\n") {
			switch {
			case strings.Contains(line, "(NEEDED)"):
				needed = append(needed, between(line, "[", "]"))
			case strings.Contains(line, "(RPATH)") || strings.Contains(line, "(RUNPATH)"):
				rpath = append(rpath, strings.Split(between(line, "[", "]"), ":")...)
			case strings.Contains(line, "File: "):
				file = strings.Fields(line[strings.Index(line, "File: ")+6:])[0]
			case strings.Contains(line, "Name: ") && strings.Contains(line, "Flags:") && file != "":
				if !strings.HasPrefix(file, "ld-linux") {
					vers[file+" "+strings.Fields(line[strings.Index(line, "Name: ")+6:])[0]] = true
				}
			}
		}
		if strings.Join(needed, ",") != strings.Join(info.Needed, ",") {
			t.Errorf("%s: NEEDED %v, readelf %v", f, info.Needed, needed)
		}
		if strings.Join(rpath, ":") != strings.Join(append(append([]string{}, info.RPath...), info.RunPath...), ":") {
			t.Errorf("%s: RPATH %v RUNPATH %v, readelf %v", f, info.RPath, info.RunPath, rpath)
		}
		got := map[string]bool{}
		for lib, vs := range info.Versions {
			for _, v := range vs {
				got[lib+" "+v] = true
			}
		}
		if len(got) != len(vers) {
			t.Errorf("%s: versions %v, readelf %v", f, got, vers)
		}
		for k := range vers {
			if !got[k] {
				t.Errorf("%s: missing version need %s", f, k)
			}
		}
	}
}

func between(s, a, b string) string {
	i := strings.Index(s, a)
	j := strings.LastIndex(s, b)
	if i < 0 || j < i {
		return ""
	}
	return s[i+len(a) : j]
}

// TestPackageAttribution: findings name the distribution from RECORD,
// including files outside the package folder (pyzmq.libs).
func TestPackageAttribution(t *testing.T) {
	a := artifact{}
	a.install(t, "python/", realWheel(t, msX86_311))
	rep := check(t, a, mustTarget(t, "python3.11", "arm64"), verify.Options{})
	got := problems(rep)
	// One arch error for the extension, one wheel-tag error for WHEEL.
	if len(got) != 2 {
		t.Fatalf("want 2 findings:%s", describe(got))
	}
	for _, f := range got {
		if f.Package != "MarkupSafe==2.1.5" {
			t.Errorf("package %q:%s", f.Package, describe([]verify.Finding{f}))
		}
	}
	if got[0].Rule != verify.RuleWheelTag || got[0].File != "python/MarkupSafe-2.1.5.dist-info/WHEEL" || got[1].Rule != verify.RuleArch {
		t.Errorf("findings:%s", describe(got))
	}
}

// TestBotoBundled: bundling boto3/botocore is stated.
func TestBotoBundled(t *testing.T) {
	a := artifact{
		"python/boto3/__init__.py":                    []byte("\n"),
		"python/boto3-1.35.0.dist-info/METADATA":      []byte("Metadata-Version: 2.1\nName: boto3\nVersion: 1.35.0\n\n"),
		"python/boto3-1.35.0.dist-info/RECORD":        []byte("boto3/__init__.py,,\nboto3-1.35.0.dist-info/METADATA,,\n"),
		"python/botocore/__init__.py":                 []byte("\n"),
		"python/botocore-1.35.0.dist-info/METADATA":   []byte("Metadata-Version: 2.1\nName: botocore\nVersion: 1.35.0\n\n"),
		"python/botocore-1.35.0.dist-info/RECORD":     []byte("botocore/__init__.py,,\n"),
		"python/botocore-1.35.0.dist-info/WHEEL":      []byte("Wheel-Version: 1.0\nTag: py3-none-any\n"),
		"python/boto3-1.35.0.dist-info/INSTALLER":     []byte("pip\n"),
		"python/boto3-1.35.0.dist-info/WHEEL":         []byte("Wheel-Version: 1.0\nTag: py3-none-any\n"),
		"python/boto3-1.35.0.dist-info/top_level.txt": []byte("boto3\n"),
	}
	rep := check(t, a, mustTarget(t, "python3.13", "arm64"), verify.Options{})
	if !rep.BotoBundled {
		t.Fatal("boto3 not seen")
	}
	if len(problems(rep)) != 0 {
		t.Fatalf("problems:%s", describe(problems(rep)))
	}
	if len(rep.Findings) != 1 || !strings.Contains(rep.Findings[0].Message, "boto3==1.35.0, botocore==1.35.0") {
		t.Fatalf("findings:%s", describe(rep.Findings))
	}
}

// TestSniff tells the binary formats apart, Java class files included.
func TestSniff(t *testing.T) {
	java := []byte{0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 52}
	fat := []byte{0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 2}
	for _, c := range []struct {
		head []byte
		want verify.Format
	}{
		{[]byte("\x7fELF\x02\x01\x01\x00"), verify.ELF},
		{machO()[:8], verify.MachO},
		{fat, verify.MachO},
		{java, verify.NotBinary},
		{[]byte("import os\n"), verify.NotBinary},
	} {
		if got := verify.Sniff(c.head); got != c.want {
			t.Errorf("Sniff(% x) = %v, want %v", c.head, got, c.want)
		}
	}
}

// TestPolicyFor picks the newest policy at most the runtime's glibc.
func TestPolicyFor(t *testing.T) {
	for _, c := range []struct {
		maj, min int
		want     string
	}{{2, 26, "manylinux_2_26"}, {2, 34, "manylinux_2_34"}, {2, 36, "manylinux_2_36"}, {2, 33, "manylinux_2_31"}, {2, 17, "manylinux_2_17"}} {
		p, err := verify.PolicyFor(c.maj, c.min)
		if err != nil || p.Name != c.want {
			t.Errorf("PolicyFor(%d, %d) = %v, %v; want %s", c.maj, c.min, p, err, c.want)
		}
	}
	p, _ := verify.PolicyFor(2, 26)
	if !p.Whitelisted("libstdc++.so.6") || p.Whitelisted("libssl.so.3") {
		t.Error("whitelist")
	}
	if !p.Allows("x86_64", "GLIBCXX_3.4.22") || p.Allows("x86_64", "GLIBCXX_3.4.26") || !p.Allows("x86_64", "OPENSSL_3.0.0") {
		t.Error("Allows")
	}
	if _, err := verify.PolicyFor(2, 4); err == nil {
		t.Error("glibc 2.4 has no policy")
	}
}

// TestZipSlip: a zip member escaping the root is refused.
func TestZipSlip(t *testing.T) {
	a := artifact{"../evil.py": []byte("\n")}
	_, err := verify.Check(context.Background(), verify.PathSource(a.zip(t)), mustTarget(t, "python3.12", "x86_64"), verify.Options{})
	if err == nil || !strings.Contains(err.Error(), "outside") {
		t.Fatalf("err = %v", err)
	}
}

// TestWithLayerLibraries: a function's extension finds a library another
// layer of the deployment ships in lib/ (/opt/lib) when that layer is given
// with --with.
func TestWithLayerLibraries(t *testing.T) {
	libfoo := gcc(t, "c", "int foo(void) { return 42; }\n", "-Wl,-soname,libfoo.so.1")
	fooDir := t.TempDir()
	os.WriteFile(filepath.Join(fooDir, "libfoo.so"), libfoo, 0o644)
	bar := gcc(t, "c", "int foo(void);\nint bar(void) { return foo() + 1; }\n", "-L"+fooDir, "-lfoo")
	fn := artifact{"app.py": []byte("import _bar\n"), "_bar.so": bar}
	layer := artifact{"lib/libfoo.so.1": libfoo, "python/x.py": []byte("\n")}
	tg := mustTarget(t, "python3.13", "x86_64")

	rep := check(t, fn, tg, verify.Options{})
	if got := problems(rep); len(got) != 1 || got[0].Rule != verify.RuleMissingLibrary {
		t.Fatalf("alone: want missing-library:%s", describe(got))
	}
	x, err := verify.ExtraFrom(context.Background(), layer.zip(t))
	if err != nil {
		t.Fatal(err)
	}
	if x.Kind != verify.KindLayer || x.Size != int64(len(libfoo)+1) {
		t.Errorf("extra %+v", x)
	}
	rep = check(t, fn, tg, verify.Options{With: []verify.Extra{x}})
	if got := problems(rep); len(got) != 0 {
		t.Fatalf("with the layer: want clean:%s", describe(got))
	}
	if rep.WithBytes != x.Size {
		t.Errorf("WithBytes %d", rep.WithBytes)
	}
}

// TestEmpty: a layer or function with no file (a zip of folders only, as a
// package pattern that leaves everything out makes) is an error of its
// own, whatever the kind, and the only finding about its layout; the files
// an image adds may be none.
func TestEmpty(t *testing.T) {
	tg := mustTarget(t, "python3.12", "x86_64")
	dirsOnly := filepath.Join(t.TempDir(), "empty.zip")
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, d := range []string{"python/", "python/shared/"} {
		if _, err := zw.CreateHeader(&zip.FileHeader{Name: d}); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dirsOnly, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, kind := range []verify.Kind{verify.KindAuto, verify.KindLayer, verify.KindFunction} {
		rep, err := verify.Check(context.Background(), verify.PathSource(dirsOnly), tg, verify.Options{Kind: kind})
		if err != nil {
			t.Fatal(err)
		}
		got := problems(rep)
		if !rep.Failed(false) || len(got) != 1 || got[0].Rule != verify.RuleEmpty || got[0].Severity != verify.Error {
			t.Errorf("kind %q: want one empty error, got%s", kind, describe(got))
		}
	}
	if rep := check(t, artifact{}, tg, verify.Options{Kind: verify.KindImage}); rep.Failed(true) {
		t.Errorf("an image adding no files: want no failure, got%s", describe(problems(rep)))
	}
}
