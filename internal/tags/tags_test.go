package tags_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/lambdapack/lambdapack/internal/tags"
	"github.com/lambdapack/lambdapack/internal/testutil"
)

func TestParseWheelFilename(t *testing.T) {
	for _, tc := range []struct {
		in       string
		name     string
		version  string
		build    string
		tags     []string
		fixedFmt string
	}{
		{"numpy-2.1.3-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", "numpy", "2.1.3", "",
			[]string{"cp312-cp312-manylinux_2_17_x86_64", "cp312-cp312-manylinux2014_x86_64"},
			"numpy-2.1.3-cp312-cp312-manylinux2014_x86_64.manylinux_2_17_x86_64.whl"},
		{"Foo.Bar-1.0.0-7_x-PY3-None-ANY.whl", "foo-bar", "1.0.0", "7_x", []string{"py3-none-any"},
			"foo_bar-1.0.0-7_x-py3-none-any.whl"},
		{"pkg-1.0-007-py2.py3-none-any.whl", "pkg", "1.0", "7", []string{"py2-none-any", "py3-none-any"},
			"pkg-1.0-7-py2.py3-none-any.whl"},
		{"a-1.0rc1.post2.dev3+Local.1-py3-none-any.whl", "a", "1.0rc1.post2.dev3+local.1", "", []string{"py3-none-any"},
			"a-1.0rc1.post2.dev3+local.1-py3-none-any.whl"},
	} {
		w, err := tags.ParseWheelFilename(tc.in)
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if w.Name != tc.name || w.Version.String() != tc.version || w.Build() != tc.build || w.Filename != tc.in {
			t.Errorf("%s: got %q %q build %q filename %q", tc.in, w.Name, w.Version, w.Build(), w.Filename)
		}
		if got := tagStrings(w.Tags); !slices.Equal(got, tc.tags) {
			t.Errorf("%s: tags %v, want %v", tc.in, got, tc.tags)
		}
		if got := w.Normalized(); got != tc.fixedFmt {
			t.Errorf("%s: Normalized %q, want %q", tc.in, got, tc.fixedFmt)
		}
	}
}

func TestParseWheelFilenameRejects(t *testing.T) {
	var comp [3][]string
	for i := range 21 {
		for j, p := range []string{"a", "b", "c"} {
			comp[j] = append(comp[j], fmt.Sprint(p, i))
		}
	}
	huge := "x-1.0-" + strings.Join(comp[0], ".") + "-" + strings.Join(comp[1], ".") + "-" + strings.Join(comp[2], ".") + ".whl"
	for _, in := range []string{
		"x-1.0-99999999999999999999999-py3-none-any.whl", // build number past int
		huge, // 21^3 = 9261 tags > DefaultTagLimit
		"x-1.0-py3-none-any.WHL",
		"x y-1.0-py3-none-any.whl",
		"x-1.0-py3-none-any.tar.gz",
		"../x-1.0-py3-none-any.whl",
	} {
		_, err := tags.ParseWheelFilename(in)
		var fe *tags.FilenameError
		if !errors.As(err, &fe) || fe.Kind != "wheel" {
			t.Errorf("%q: error %v, want a wheel *FilenameError", in, err)
		}
	}
	if _, err := tags.ParseWheelFilename(huge); !errors.Is(err, tags.ErrTooManyTags) {
		t.Errorf("huge compressed set: %v, want ErrTooManyTags", err)
	}
	if ts, err := tags.ParseTagWith(huge[6:len(huge)-4], tags.ParseOptions{NoLimit: true}); err != nil || len(ts) != 21*21*21 {
		t.Errorf("NoLimit: %d tags, %v", len(ts), err)
	}
}

func TestParseSdistFilename(t *testing.T) {
	for in, want := range map[string]string{
		"Django-5.1.tar.gz":            "django 5.1",
		"zope.interface-7.0.zip":       "zope-interface 7.0",
		"my-pkg-name-1.0.post1.tar.gz": "my-pkg-name 1.0.post1",
	} {
		s, err := tags.ParseSdistFilename(in)
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if got := s.Name + " " + s.Version.String(); got != want {
			t.Errorf("%s: %q, want %q", in, got, want)
		}
	}
	for _, in := range []string{"foo-1.0.tgz", "foo.tar.gz", "-1.0.zip", "foo-bar.tar.gz", "foo-1.0.tar.bz2"} {
		if _, err := tags.ParseSdistFilename(in); err == nil {
			t.Errorf("%q parsed", in)
		}
	}
}

func TestParseManylinux(t *testing.T) {
	for in, want := range map[string]string{
		"manylinux_2_28_aarch64": "2.28 aarch64",
		"manylinux2014_aarch64":  "2.17 aarch64",
		"manylinux2010_x86_64":   "2.12 x86_64",
		"manylinux1_i686":        "2.5 i686",
		"manylinux_3_0_x86_64":   "3.0 x86_64",
	} {
		m, ok := tags.ParseManylinux(in)
		if got := fmt.Sprintf("%d.%d %s", m.GlibcMajor, m.GlibcMinor, m.Arch); !ok || got != want {
			t.Errorf("%s: %q %v, want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"musllinux_1_2_x86_64", "linux_x86_64", "any", "manylinux_2_x86_64", "manylinux_02_17_x86_64", "manylinux_2_17_", "manylinux2014_"} {
		if m, ok := tags.ParseManylinux(in); ok {
			t.Errorf("%s parsed as %+v", in, m)
		}
	}
	m, _ := tags.ParseManylinux("manylinux_2_28_x86_64")
	if m.Compatible(2, 26) || !m.Compatible(2, 28) || !m.Compatible(2, 34) || !m.Compatible(3, 0) {
		t.Errorf("glibc 2.28 wheel: compatibility with 2.26/2.28/2.34/3.0 wrong")
	}
}

func TestManylinuxPlatformsShape(t *testing.T) {
	al2arm := tags.ManylinuxPlatforms("aarch64", 2, 26)
	want := []string{}
	for m := 26; m >= 17; m-- {
		want = append(want, fmt.Sprintf("manylinux_2_%d_aarch64", m))
	}
	want = append(want, "manylinux2014_aarch64")
	if !slices.Equal(al2arm, want) {
		t.Errorf("aarch64 glibc 2.26:\n got  %v\n want %v", al2arm, want)
	}
	x := tags.ManylinuxPlatforms("x86_64", 2, 34)
	if len(x) != 30+3 || x[0] != "manylinux_2_34_x86_64" || x[len(x)-1] != "manylinux1_x86_64" {
		t.Errorf("x86_64 glibc 2.34: %d tags, %v ... %v", len(x), x[0], x[len(x)-1])
	}
	if got := tags.ManylinuxPlatforms("aarch64", 2, 12); len(got) != 0 {
		t.Errorf("aarch64 below 2.17: %v, want none", got)
	}
}

func TestCPythonTagsOrder(t *testing.T) {
	plats := []string{"manylinux_2_17_aarch64", "manylinux2014_aarch64"}
	got := tagStrings(tags.CPythonTags(3, 11, plats))
	head := []string{
		"cp311-cp311-manylinux_2_17_aarch64", "cp311-cp311-manylinux2014_aarch64",
		"cp311-abi3-manylinux_2_17_aarch64", "cp311-abi3-manylinux2014_aarch64",
		"cp311-none-manylinux_2_17_aarch64", "cp311-none-manylinux2014_aarch64",
		"cp310-abi3-manylinux_2_17_aarch64", "cp310-abi3-manylinux2014_aarch64",
	}
	if !slices.Equal(got[:len(head)], head) {
		t.Errorf("head:\n got  %v\n want %v", got[:len(head)], head)
	}
	i := slices.Index(got, "cp32-abi3-manylinux2014_aarch64")
	tail := []string{
		"py311-none-manylinux_2_17_aarch64", "py311-none-manylinux2014_aarch64",
		"py3-none-manylinux_2_17_aarch64", "py3-none-manylinux2014_aarch64",
		"py310-none-manylinux_2_17_aarch64",
	}
	if i < 0 || !slices.Equal(got[i+1:i+1+len(tail)], tail) {
		t.Errorf("after the abi3 run: %v", got[i+1:])
	}
	anyTail := []string{"cp311-none-any", "py311-none-any", "py3-none-any", "py310-none-any"}
	j := slices.Index(got, "cp311-none-any")
	if j < 0 || !slices.Equal(got[j:j+4], anyTail) || got[len(got)-1] != "py30-none-any" {
		t.Errorf("none-any run: %v", got[j:])
	}
	// 12 cp groups (cp311, abi3, none, cp310..cp32 abi3) + 13 py groups
	// (py311, py3, py310..py30) on 2 platforms, then cp311-none-any and 13
	// py*-none-any.
	if want := 12*2 + 13*2 + 1 + 13; len(got) != want {
		t.Errorf("%d tags, want %d", len(got), want)
	}
}

// TestAgainstPackaging compares the manylinux lists and the CPython tag order
// with pypa/packaging itself, run by a real CPython (pyenv's 3.11 carries
// packaging 26): its _manylinux.platform_tags with the host glibc replaced
// by each ceiling, and cpython_tags + compatible_tags.
func TestAgainstPackaging(t *testing.T) {
	py := testutil.Python(t, "3.11")
	type tcase struct {
		Machine      string `json:"machine"`
		Major, Minor int
		Py           int `json:"py"`
	}
	var cases []tcase
	for _, m := range []string{"x86_64", "aarch64", "i686", "ppc64le", "s390x"} {
		for _, g := range [][2]int{{2, 5}, {2, 12}, {2, 16}, {2, 17}, {2, 26}, {2, 28}, {2, 34}, {2, 36}, {3, 1}} {
			cases = append(cases, tcase{m, g[0], g[1], 9 + len(cases)%6})
		}
	}
	in, _ := json.Marshal(cases)
	script := `
import json, sys
from packaging import tags, _manylinux, __version__
cases = json.loads(sys.argv[1])
out = []
_manylinux._have_compatible_abi = lambda exe, archs: True
for c in cases:
    _manylinux._get_glibc_version = lambda c=c: _manylinux._GLibCVersion(c["Major"], c["Minor"])
    plats = list(_manylinux.platform_tags([c["machine"]]))
    v = (3, c["py"])
    ts = list(tags.cpython_tags(v, ["cp3%d" % c["py"]], plats)) + list(tags.compatible_tags(v, "cp3%d" % c["py"], plats))
    out.append({"plats": plats, "tags": [str(t) for t in ts]})
print(json.dumps({"version": __version__, "out": out}))
`
	cmd := exec.Command(py, "-I", "-c", script, string(in))
	raw, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("running packaging with %s: %v\n%s", py, err, ee.Stderr)
		}
		t.Fatalf("running packaging with %s: %v", py, err)
	}
	var res struct {
		Version string
		Out     []struct {
			Plats []string
			Tags  []string
		}
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		t.Fatalf("decoding packaging's answer: %v", err)
	}
	total := 0
	for i, c := range cases {
		plats := tags.ManylinuxPlatforms(c.Machine, c.Major, c.Minor)
		if !slices.Equal(plats, res.Out[i].Plats) && !(len(plats) == 0 && len(res.Out[i].Plats) == 0) {
			t.Errorf("%s glibc %d.%d:\n ours      %v\n packaging %v", c.Machine, c.Major, c.Minor, plats, res.Out[i].Plats)
			continue
		}
		if len(plats) == 0 {
			// packaging 26.3 replaces an empty platform list with the
			// host's; 26.4 (the conformance data) and we keep it empty.
			continue
		}
		got := tagStrings(tags.CPythonTags(3, c.Py, plats))
		if !slices.Equal(got, res.Out[i].Tags) {
			t.Errorf("3.%d %s glibc %d.%d: tag lists differ (%d vs %d tags)", c.Py, c.Machine, c.Major, c.Minor, len(got), len(res.Out[i].Tags))
		}
		total += len(got)
	}
	t.Logf("packaging %s: %d cases, %d tags compared", res.Version, len(cases), total)
}

// FuzzParseWheelFilename: no panic; whatever parses, re-composed in
// canonical form, parses again to the same name, version, build and tag set.
func FuzzParseWheelFilename(f *testing.F) {
	for _, s := range []string{
		"foo-1.0-py3-none-any.whl",
		"some_PACKAGE-1.0-py3-none-any.whl",
		"foo-1.0-1000abc-py3-none-any.whl",
		"pyvirtualcam-0.13.0-cp310-cp310-manylinux2014_x86_64.manylinux_2_17_x86_64.whl",
		"foo_bár-1.0-1000-py3-none-any.whl",
		"foo-1.0-py3.-none-any.whl",
		"a-1!2.0rc1.post3.dev4+x.y-1-py2.py3-none-any.whl",
		"-1.0-py3-none-any.whl",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		w, err := tags.ParseWheelFilename(s)
		if err != nil {
			return
		}
		again, err := tags.ParseWheelFilename(w.Normalized())
		if err != nil {
			t.Fatalf("%q parsed, but its normal form %q does not: %v", s, w.Normalized(), err)
		}
		if again.Name != w.Name || !again.Version.Equal(w.Version) || again.Version.String() != w.Version.String() ||
			again.HasBuild != w.HasBuild || again.BuildNum != w.BuildNum || again.BuildTag != w.BuildTag {
			t.Fatalf("%q -> %q: %+v != %+v", s, w.Normalized(), again, w)
		}
		a, b := tagStrings(w.Tags), tagStrings(again.Tags)
		slices.Sort(a)
		slices.Sort(b)
		if !slices.Equal(a, b) {
			t.Fatalf("%q: tags %v, re-parsed %v", s, a, b)
		}
		if again.Normalized() != w.Normalized() {
			t.Fatalf("normal form not stable: %q vs %q", w.Normalized(), again.Normalized())
		}
	})
}
