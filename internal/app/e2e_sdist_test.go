package app_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"debug/elf"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/lambdapack/lambdapack/internal/app"
	"github.com/lambdapack/lambdapack/internal/index"
	"github.com/lambdapack/lambdapack/internal/pins"
	"github.com/lambdapack/lambdapack/internal/sdist"
	"github.com/lambdapack/lambdapack/internal/testutil"
)

// End-to-end builds that need sdists built (issue 16), on the real index
// with the shared e2e cache (so warm runs take the built wheels from it):
// the sdist-only packages of the Klayers corpus, the three that need a
// system library, a C extension forced from source, a binary wheel
// verification refuses, and a build for the host that must never reach an
// artifact.

// e2eNotes joins a report's notes for matching.
func e2eNotes(rep *app.ArtifactReport) string { return strings.Join(rep.Notes, "\n") }

// e2eELFs lists the ELF files under dir (relative paths) with their machine.
func e2eELFs(t *testing.T, dir string) map[string]elf.Machine {
	t.Helper()
	out := map[string]elf.Machine{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		head := make([]byte, 4)
		n, _ := f.Read(head)
		f.Close()
		if n == 4 && string(head) == "\x7fELF" {
			rel, _ := filepath.Rel(dir, p)
			out[rel] = e2eELFMachine(t, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// e2eDistFiles lists the files a distribution installed in an unzipped
// layer, from its RECORD (paths relative to python/).
func e2eDistFiles(t *testing.T, dir, distInfo string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "python", distInfo, "RECORD"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(data), "\n") {
		// setuptools names a namespace package's .pth after the Python
		// that built it (amazon.ion-0.9.3-py3.12-nspkg.pth).
		if f, _, _ := strings.Cut(l, ","); f != "" && !strings.HasSuffix(f, "-nspkg.pth") {
			out = append(out, f)
		}
	}
	sort.Strings(out)
	return out
}

func e2eDistInfo(t *testing.T, dir, prefix string) string {
	t.Helper()
	for _, n := range testutil.DirNames(t, filepath.Join(dir, "python")) {
		if strings.HasPrefix(strings.ToLower(n), prefix) && strings.HasSuffix(n, ".dist-info") {
			return n
		}
	}
	t.Fatalf("no %s*.dist-info in the layer", prefix)
	return ""
}

// TestE2ESdistOnlyKlayers: imutils, pandasql and pyqldb (with amazon-ion,
// whose C extension needs ion-c and whose sdist ships prebuilt x86_64
// ion-c libraries, through the pure fallback) build as layers for
// python3.11 x86_64 and python3.12 arm64. On x86_64 they import and work
// with pyenv's CPython 3.11 (imutils in a layer of its own with OpenCV,
// which it imports: together with pandas the layer would pass Lambda's
// size limit). No arm64 CPython 3.12 runs here (Debian has none): the
// arm64 layer is verified, holds only aarch64 ELF files, and its built
// packages hold exactly the files the x86_64 layers' do, which imported.
func TestE2ESdistOnlyKlayers(t *testing.T) {
	py := testutil.Python(t, "3.11")
	env := e2eEnv(t, app.EnvOptions{})
	layers := map[string]string{}
	// The sdist-only releases the issue names, pinned so the index moving on
	// does not change what is checked; their dependencies float.
	for _, c := range []struct {
		name, runtime, arch string
		reqs, built         []string
	}{
		{"imutils", "python3.11", "x86_64", []string{"imutils==0.5.4", "opencv-python-headless"}, []string{"imutils"}},
		{"qldb", "python3.11", "x86_64", []string{"pandasql==0.7.3", "pyqldb==3.2.4", "amazon-ion==0.9.3"}, []string{"pandasql", "pyqldb", "amazon-ion", "ionhash"}},
		{"arm64", "python3.12", "arm64", []string{"imutils==0.5.4", "pandasql==0.7.3", "pyqldb==3.2.4", "amazon-ion==0.9.3"}, []string{"imutils", "pandasql", "pyqldb", "amazon-ion", "ionhash"}},
	} {
		out := filepath.Join(t.TempDir(), c.name+".zip")
		rep := e2eBuild(t, env, app.ArtifactOptions{Kind: app.KindLayer, Deps: app.Inputs{Requirements: c.reqs}, Runtime: c.runtime, Arch: c.arch, Output: out})
		notes := e2eNotes(rep)
		for _, n := range c.built {
			if !strings.Contains(notes, "\n"+n+" ") && !strings.HasPrefix(notes, n+" ") || !strings.Contains(notes, " is built from source for "+c.runtime+"/"+c.arch) {
				t.Errorf("%s: no note that %s is built from source:\n%s", c.name, n, notes)
			}
		}
		if slices.Contains(c.built, "amazon-ion") && !strings.Contains(notes, "amazon-ion 0.9.3 was built from source without its compiled extensions") {
			t.Errorf("%s: amazon-ion's pure fallback is not noted:\n%s", c.name, notes)
		}
		dir := testutil.Unzip(t, out)
		layers[c.name] = dir
		// Nothing built for the build machine: every ELF file is for the
		// target's machine, and the built packages hold none.
		want := elf.EM_X86_64
		if c.arch == "arm64" {
			want = elf.EM_AARCH64
		}
		elfs := e2eELFs(t, dir)
		if len(elfs) == 0 {
			t.Errorf("%s: no ELF at all (numpy has extensions)", c.name)
		}
		for p, m := range elfs {
			if m != want {
				t.Errorf("%s: %s is %v", c.name, p, m)
			}
			for _, pkg := range []string{"imutils/", "pandasql/", "pyqldb/", "amazon/ion/", "ionhash/"} {
				if strings.HasPrefix(p, "python/"+pkg) {
					t.Errorf("%s: the built package holds the ELF file %s", c.name, p)
				}
			}
		}
	}
	// The x86_64 layers import and work.
	got := testutil.RunPython(t, []string{py}, filepath.Join(layers["imutils"], "python"), `
import numpy, imutils
print(imutils.resize(numpy.zeros((4, 6, 3), dtype='uint8'), width=3).shape)
`)
	if strings.TrimSpace(got) != "(2, 3, 3)" {
		t.Errorf("imutils: got %q", got)
	}
	got = testutil.RunPython(t, []string{py}, filepath.Join(layers["qldb"], "python"), `
import pandas, pandasql, pyqldb
from amazon.ion import simpleion
from pyqldb.driver.qldb_driver import QldbDriver
print(pandasql.sqldf('select sum(a) as s from df', {'df': pandas.DataFrame({'a': [1, 2, 3]})})['s'][0])
print(simpleion.loads(simpleion.dumps({'k': [1, 2]}))['k'][1])
print(QldbDriver.__name__)
`)
	if strings.TrimSpace(got) != "6\n2\nQldbDriver" {
		t.Errorf("pandasql, pyqldb: got %q", got)
	}
	// The arm64 layer's built packages are the same files.
	for _, c := range []struct{ prefix, layer string }{
		{"imutils-", "imutils"}, {"pandasql-", "qldb"}, {"pyqldb-", "qldb"}, {"amazon_ion-", "qldb"}, {"ionhash-", "qldb"},
	} {
		x := e2eDistFiles(t, layers[c.layer], e2eDistInfo(t, layers[c.layer], c.prefix))
		a := e2eDistFiles(t, layers["arm64"], e2eDistInfo(t, layers["arm64"], c.prefix))
		if !slices.Equal(x, a) {
			t.Errorf("%s: the arm64 layer's files differ from the x86_64 layer's:\n%v\n%v", c.prefix, a, x)
		}
		for _, f := range x {
			if strings.HasSuffix(f, ".py") {
				bx, _ := os.ReadFile(filepath.Join(layers[c.layer], "python", f))
				ba, _ := os.ReadFile(filepath.Join(layers["arm64"], "python", f))
				if !bytes.Equal(bx, ba) {
					t.Errorf("%s differs between the layers", f)
				}
			}
		}
	}
}

// TestE2ESystemLibraryPackages: psycopg2, mysqlclient and gdal need a
// system library the runtime lacks: no artifact, and an error that names
// the library and the binary alternative where there is one.
func TestE2ESystemLibraryPackages(t *testing.T) {
	env := e2eEnv(t, app.EnvOptions{})
	for _, c := range []struct{ pkg, lib, alt string }{
		{"psycopg2", "libpq", "psycopg2-binary or psycopg[binary]"},
		{"mysqlclient", "libmysqlclient", "PyMySQL or mysql-connector-python"},
		{"gdal", "GDAL", "lambdapack image"},
	} {
		t.Run(c.pkg, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "layer.zip")
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			_, err := app.BuildArtifact(ctx, env, app.ArtifactOptions{Kind: app.KindLayer, Deps: app.Inputs{Requirements: []string{c.pkg}}, Runtime: "python3.12", Arch: "x86_64", Output: out})
			var le *sdist.LibraryError
			if !errors.As(err, &le) {
				t.Fatalf("want a LibraryError, got %v", err)
			}
			if !strings.Contains(le.Library, c.lib) || !strings.Contains(err.Error(), c.alt) {
				t.Errorf("the error lacks %s or %s:\n%v", c.lib, c.alt, err)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("an artifact was written: %v", err)
			}
		})
	}
}

// TestE2ENoBinaryMarkupSafe: --no-binary markupsafe cross-builds its C
// extension for python3.11 on arm64 and x86_64 (glibc 2.26, checked by
// verify in the build and in the artifact); its compiled module, not the
// pure fallback, imports under qemu with Debian's arm64 CPython and with
// pyenv's CPython 3.11.
func TestE2ENoBinaryMarkupSafe(t *testing.T) {
	env := e2eEnv(t, app.EnvOptions{Build: pins.BuildOptions{NoBinary: []string{"markupsafe"}}})
	for _, c := range []struct {
		arch    string
		python  []string
		machine elf.Machine
		triple  string
	}{
		{"arm64", testutil.ARM64Python(t), elf.EM_AARCH64, "aarch64"},
		{"x86_64", []string{testutil.Python(t, "3.11")}, elf.EM_X86_64, "x86_64"},
	} {
		out := filepath.Join(t.TempDir(), c.arch+".zip")
		rep := e2eBuild(t, env, app.ArtifactOptions{Kind: app.KindLayer, Deps: app.Inputs{Requirements: []string{"markupsafe"}}, Runtime: "python3.11", Arch: c.arch, Output: out})
		if !strings.Contains(e2eNotes(rep), "is built from source for python3.11/"+c.arch) || !strings.Contains(e2eNotes(rep), ": --no-binary") || rep.Pure {
			t.Errorf("%s: pure=%v notes:\n%s", c.arch, rep.Pure, e2eNotes(rep))
		}
		if f := rep.Packages[0].Filename; !strings.HasSuffix(f, "-cp311-cp311-manylinux_2_26_"+c.triple+".whl") {
			t.Errorf("%s: installed %s", c.arch, f)
		}
		dir := testutil.Unzip(t, out)
		sos := e2eSharedObjects(t, filepath.Join(dir, "python"), "markupsafe")
		if len(sos) != 1 || sos[0] != "markupsafe/_speedups.cpython-311-"+c.triple+"-linux-gnu.so" {
			t.Fatalf("%s: shared objects %v", c.arch, sos)
		}
		if m := e2eELFMachine(t, filepath.Join(dir, "python", sos[0])); m != c.machine {
			t.Errorf("%s: the extension is for %v", c.arch, m)
		}
		got := testutil.RunPython(t, c.python, filepath.Join(dir, "python"), `
import platform, markupsafe, markupsafe._speedups as s
assert markupsafe._escape_inner is s._escape_inner, "the pure-Python escape is in use"
print(platform.machine(), markupsafe.escape("<a>"))
`)
		if want := c.triple + " &lt;a&gt;"; strings.TrimSpace(got) != want {
			t.Errorf("%s: got %q, want %q", c.arch, got, want)
		}
	}
}

// TestE2EVerificationRefusedWheel: mysql-connector-python 26.10.0's binary
// wheel for python3.12 and 3.13 needs a libssl it does not ship (and its
// WHEEL says linux_x86_64): verification refuses it, and the same version's
// pure-Python wheel is used instead, with a note that says so. The refused
// wheel is not installed.
func TestE2EVerificationRefusedWheel(t *testing.T) {
	env := e2eEnv(t, app.EnvOptions{})
	for _, rt := range []string{"python3.12", "python3.13"} {
		out := filepath.Join(t.TempDir(), rt+".zip")
		rep := e2eBuild(t, env, app.ArtifactOptions{Kind: app.KindLayer, Deps: app.Inputs{Requirements: []string{"mysql-connector-python==26.10.0"}}, Runtime: rt, Arch: "x86_64", Output: out})
		if len(rep.Packages) != 1 || rep.Packages[0].Filename != "mysql_connector_python-26.10.0-py2.py3-none-any.whl" || !rep.Pure {
			t.Fatalf("%s: installed %+v (pure %v)", rt, rep.Packages, rep.Pure)
		}
		cp := strings.ReplaceAll(strings.TrimPrefix(rt, "python"), ".", "")
		want := "mysql-connector-python 26.10.0: mysql_connector_python-26.10.0-cp" + cp + "-cp" + cp + "-manylinux_2_28_x86_64.whl was refused (missing-library: "
		if !strings.Contains(e2eNotes(rep), want) || !strings.Contains(e2eNotes(rep), "using mysql_connector_python-26.10.0-py2.py3-none-any.whl") {
			t.Errorf("%s: notes lack %q:\n%s", rt, want, e2eNotes(rep))
		}
		dir := testutil.Unzip(t, out)
		if elfs := e2eELFs(t, dir); len(elfs) != 0 {
			t.Errorf("%s: ELF files of the refused wheel in the layer: %v", rt, elfs)
		}
		got := testutil.RunPython(t, []string{testutil.Python(t, strings.TrimPrefix(rt, "python"))}, filepath.Join(dir, "python"), "import mysql.connector; print(mysql.connector.__version__)")
		if strings.TrimSpace(got) != "26.10.0" {
			t.Errorf("%s: got %q", rt, got)
		}
	}
}

// writeE2ESdist writes a .tar.gz sdist of files under name-version/ into
// dir (fixed timestamps, so its sha256, and the cache's builds, stay the
// same between runs).
func writeE2ESdist(t *testing.T, dir, name, version string, files map[string]string) {
	t.Helper()
	stem := strings.ReplaceAll(name, "-", "_") + "-" + version
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	var paths []string
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		if err := tw.WriteHeader(&tar.Header{Name: stem + "/" + p, Mode: 0o644, Size: int64(len(files[p])), ModTime: time.Unix(0, 0), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(files[p]))
	}
	tw.Close()
	gz.Close()
	if err := os.WriteFile(filepath.Join(dir, stem+".tar.gz"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestE2EHostBuildNeverShips: an sdist whose setup.py compiles its module
// with the build machine's gcc by absolute path (so neither zig nor the
// disabled compilers stop it) builds an x86_64 module for an arm64 layer.
// Verification refuses the wheel in both the cross and the pure build, so
// it is never installed: pinned, the layer fails and nothing is written;
// unpinned, the app that needs it falls back to its older version, whose
// dependency has a wheel, with a note.
func TestE2EHostBuildNeverShips(t *testing.T) {
	if _, err := os.Stat("/usr/bin/gcc"); err != nil {
		t.Fatalf("the build machine's gcc: %v (scripts/test.sh runs where build-essential is installed)", err)
	}
	links := t.TempDir()
	wheel := func(name, version string, requires ...string) {
		w := testutil.Wheel{Name: name, Version: version, Tags: []string{"py3-none-any"}, RequiresDist: requires,
			Files: map[string][]byte{strings.ReplaceAll(name, "-", "_") + "/__init__.py": []byte("VERSION = " + `"` + version + `"` + "\n")}}
		if err := os.WriteFile(filepath.Join(links, w.Filename()), w.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	wheel("lp-host-probe-app", "1.0", "lp-host-probe-ext>=1")
	wheel("lp-host-probe-app", "2.0", "lp-host-probe-ext>=2")
	wheel("lp-host-probe-ext", "1.0")
	writeE2ESdist(t, links, "lp-host-probe-ext", "2.0", map[string]string{
		"PKG-INFO":                      "Metadata-Version: 2.2\nName: lp-host-probe-ext\nVersion: 2.0\n",
		"pyproject.toml":                "[build-system]\nrequires = [\"setuptools>=61\"]\nbuild-backend = \"setuptools.build_meta\"\n",
		"lp_host_probe_ext/__init__.py": "from ._native import answer\n",
		"lp_host_probe_ext/native.c":    "int answer(void) { return 42; }\n",
		"setup.py": `import os, subprocess
from setuptools import setup
from setuptools.command.build_py import build_py
class build(build_py):
    def run(self):
        super().run()
        out = os.path.join(self.build_lib, "lp_host_probe_ext", "_native.so")
        subprocess.run(["/usr/bin/gcc", "-shared", "-fPIC", "-o", out, "lp_host_probe_ext/native.c"], check=True)
setup(name="lp-host-probe-ext", version="2.0", packages=["lp_host_probe_ext"], cmdclass={"build_py": build})
`,
	})
	env := e2eEnv(t, app.EnvOptions{Index: index.Settings{FindLinks: []string{links}}})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out := filepath.Join(t.TempDir(), "pinned.zip")
	_, err := app.BuildArtifact(ctx, env, app.ArtifactOptions{Kind: app.KindLayer, Deps: app.Inputs{Requirements: []string{"lp-host-probe-app==2.0"}}, Runtime: "python3.11", Arch: "arm64", Output: out})
	var be *sdist.BuildError
	if !errors.As(err, &be) || !strings.Contains(err.Error(), "is an ELF binary for x86_64; python3.11/arm64 loads only aarch64 code") {
		t.Fatalf("want the build refused for its x86_64 module, got %v", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("an artifact was written: %v", err)
	}
	// A run of its own, so that the build fails in it.
	env = e2eEnv(t, app.EnvOptions{Index: index.Settings{FindLinks: []string{links}}})
	out = filepath.Join(t.TempDir(), "layer.zip")
	rep := e2eBuild(t, env, app.ArtifactOptions{Kind: app.KindLayer, Deps: app.Inputs{Requirements: []string{"lp-host-probe-app"}}, Runtime: "python3.11", Arch: "arm64", Output: out})
	vs := map[string]string{}
	for _, p := range rep.Packages {
		vs[p.Name] = p.Version
	}
	if vs["lp-host-probe-app"] != "1.0" || vs["lp-host-probe-ext"] != "1.0" {
		t.Errorf("installed %v, want the 1.0s", vs)
	}
	if !strings.Contains(e2eNotes(rep), "lp-host-probe-ext 2.0 could not be built for python3.11/arm64") {
		t.Errorf("no note of the failed build:\n%s", e2eNotes(rep))
	}
	if elfs := e2eELFs(t, testutil.Unzip(t, out)); len(elfs) != 0 {
		t.Errorf("ELF files in the layer: %v", elfs)
	}
}
