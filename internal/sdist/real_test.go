package sdist

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/lambdapack/lambdapack/internal/testutil"
	"github.com/lambdapack/lambdapack/internal/verify"
)

// TestRealCExtensionCrossBuilt builds MarkupSafe from its sdist (as
// --no-binary would) for python3.11 on arm64 and x86_64 (glibc 2.26), and
// imports its compiled module, not the pure fallback: under qemu with
// Debian's arm64 CPython, and with pyenv's CPython on x86_64.
func TestRealCExtensionCrossBuilt(t *testing.T) {
	b := realBuilder(t)
	s := fetchSdist(t, b, "markupsafe", "3.0.2")
	for _, arch := range []string{"arm64", "x86_64"} {
		tg := mustTarget(t, "python3.11", arch)
		t.Run(arch, func(t *testing.T) {
			w, err := b.Build(context.Background(), s, tg)
			if err != nil {
				t.Fatal(err)
			}
			want := "markupsafe-3.0.2-cp311-cp311-manylinux_2_26_" + tg.Arch.Machine() + ".whl"
			if w.Filename != want || w.Pure || w.Mode != Cross {
				t.Fatalf("got %+v, want %s", w, want)
			}
			// verify passes the wheel as a function on the target: machine,
			// glibc 2.26 ceiling, libraries, module names, tags.
			rep, err := verify.Check(context.Background(), verify.PathSource(w.Path), tg, verify.Options{Kind: verify.KindFunction})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Binaries != 1 || rep.Failed(false) {
				var sb strings.Builder
				rep.WriteText(&sb)
				t.Fatalf("verify: %d binaries\n%s", rep.Binaries, sb.String())
			}
			got := importWheel(t, tg, w.Path, "import markupsafe._speedups as s, markupsafe; print(s.__file__.rsplit('/', 1)[1], markupsafe.escape('<a>'))")
			if want := "_speedups.cpython-311-" + tg.Arch.Machine() + "-linux-gnu.so &lt;a&gt;"; got != want {
				t.Errorf("imported %q, want %q", got, want)
			}
		})
	}
}

// TestRealSdistOnlyPackages builds the sdist-only packages of the Klayers
// corpus: imutils and pandasql (pure Python) and amazon-ion (pyqldb's
// dependency: an optional C extension that needs ion-c, so it comes
// through the pure fallback) for python3.12 on arm64 and python3.11 on
// x86_64.
func TestRealSdistOnlyPackages(t *testing.T) {
	b := realBuilder(t)
	sdists := map[string]Sdist{
		"imutils":    fetchSdist(t, b, "imutils", "0.5.4"),
		"pandasql":   fetchSdist(t, b, "pandasql", "0.7.3"),
		"amazon-ion": fetchSdist(t, b, "amazon-ion", "0.9.3"),
		"pyqldb":     fetchSdist(t, b, "pyqldb", "3.2.4"),
	}
	built := map[string]*Wheel{}
	for _, c := range []struct{ runtime, arch string }{{"python3.12", "arm64"}, {"python3.11", "x86_64"}} {
		tg := mustTarget(t, c.runtime, c.arch)
		t.Run(c.runtime+"-"+c.arch, func(t *testing.T) {
			for name, s := range sdists {
				w, err := b.Build(context.Background(), s, tg)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if !w.Pure || !strings.HasSuffix(w.Filename, "-py3-none-any.whl") {
					t.Errorf("%s: got %s", name, w.Filename)
				}
				if name == "amazon-ion" && (w.Mode != Pure || len(w.Notes) < 2) {
					t.Errorf("amazon-ion should come through the pure fallback with notes: %+v", w)
				}
				built[c.arch+" "+name] = w
			}
		})
	}
	// They import and work with pyenv's CPython 3.11 (x86_64), beside
	// their dependencies (installed for this machine by lambdapack).
	t.Run("import", func(t *testing.T) {
		ctx := context.Background()
		h, err := b.host(ctx, "3.11")
		if err != nil {
			t.Fatal(err)
		}
		env, err := b.environment(ctx, h, []string{"numpy<2.3", "opencv-python-headless<4.12", "pandas<2.3", "sqlalchemy<2.1", "six", "jsonconversion"})
		if err != nil {
			t.Fatal(err)
		}
		var path []string
		for _, name := range []string{"imutils", "pandasql", "amazon-ion"} {
			path = append(path, testutil.Unzip(t, built["x86_64 "+name].Path))
		}
		code := "import imutils, numpy, pandasql, pandas\n" +
			"from amazon.ion import simpleion\n" +
			"img = numpy.zeros((4, 6, 3), dtype='uint8')\n" +
			"print(imutils.resize(img, width=3).shape)\n" +
			"print(pandasql.sqldf('select sum(a) as s from df', {'df': pandas.DataFrame({'a': [1, 2, 3]})})['s'][0])\n" +
			"print(simpleion.loads(simpleion.dumps({'k': [1, 2]}))['k'][1])\n"
		cmd := exec.Command(env.Python, "-c", code)
		cmd.Env = append(os.Environ(), "PYTHONPATH="+strings.Join(path, string(os.PathListSeparator)), "PYTHONNOUSERSITE=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("importing the built packages: %v\n%s", err, out)
		}
		if got := strings.TrimSpace(string(out)); got != "(2, 3, 3)\n6\n2" {
			t.Errorf("got %q", got)
		}
	})
}

// TestRealSystemLibraryPackages: psycopg2, mysqlclient and gdal need
// libraries Lambda lacks; the error names each and its alternative.
func TestRealSystemLibraryPackages(t *testing.T) {
	b := realBuilder(t)
	tg := mustTarget(t, "python3.12", "x86_64")
	for _, c := range []struct{ project, version, lib, alt string }{
		{"psycopg2", "2.9.10", "libpq", "psycopg2-binary or psycopg[binary]"},
		{"mysqlclient", "2.2.7", "libmysqlclient", "PyMySQL or mysql-connector-python"},
		{"gdal", "3.10.3", "GDAL", "lambdapack image"},
	} {
		t.Run(c.project, func(t *testing.T) {
			s := fetchSdist(t, b, c.project, c.version)
			_, err := b.Build(context.Background(), s, tg)
			var le *LibraryError
			if !errors.As(err, &le) {
				t.Fatalf("want a LibraryError, got %v", err)
			}
			t.Log(err)
			if msg := err.Error(); !strings.Contains(le.Library, c.lib) || !strings.Contains(msg, c.alt) {
				t.Errorf("error lacks %s / %s:\n%s", c.lib, c.alt, msg)
			}
		})
	}
}
