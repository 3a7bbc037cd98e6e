package target_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lambdapack/lambdapack/internal/pep508"
	"github.com/lambdapack/lambdapack/internal/tags"
	"github.com/lambdapack/lambdapack/internal/target"
	"github.com/lambdapack/lambdapack/internal/testutil"
)

func TestRuntimeTable(t *testing.T) {
	rs := target.Runtimes()
	var got []string
	for _, r := range rs {
		got = append(got, r.Name)
		if !slices.Equal(r.Architectures, []target.Arch{target.X86_64, target.ARM64}) {
			t.Errorf("%s: architectures %v, want both", r.Name, r.Architectures)
		}
		if _, err := time.Parse("2006-01-02", r.Deprecated); err != nil {
			t.Errorf("%s: deprecation date %q: %v", r.Name, r.Deprecated, err)
		}
		if !strings.HasPrefix(r.PythonFull, r.Python+".") {
			t.Errorf("%s: PythonFull %q is not a %s patch release", r.Name, r.PythonFull, r.Python)
		}
		if r.Name != "python"+r.Python {
			t.Errorf("%s: Python %q", r.Name, r.Python)
		}
		wantGlibc, wantOS := "2.34", "Amazon Linux 2023"
		if r.Python == "3.9" || r.Python == "3.10" || r.Python == "3.11" {
			wantGlibc, wantOS = "2.26", "Amazon Linux 2"
		}
		if r.Glibc != wantGlibc || r.OS != wantOS {
			t.Errorf("%s: %s glibc %s, want %s glibc %s", r.Name, r.OS, r.Glibc, wantOS, wantGlibc)
		}
	}
	if want := []string{"python3.14", "python3.13", "python3.12", "python3.11", "python3.10", "python3.9"}; !slices.Equal(got, want) {
		t.Errorf("runtimes %v, want %v", got, want)
	}
	// Runtimes returns a copy: callers cannot edit the table.
	rs[0].Architectures[0] = "sparc"
	if target.Runtimes()[0].Architectures[0] != target.X86_64 {
		t.Error("Runtimes shares its slices with the table")
	}
}

func TestLookupRuntimeErrors(t *testing.T) {
	for in, want := range map[string]string{
		"python3.8":  "deprecated and not supported",
		"python2.7":  "deprecated and not supported",
		"3.12":       "did you mean python3.12?",
		"py3.11":     "did you mean python3.11?",
		"python312":  "did you mean python3.12?",
		"pyton3.13":  "did you mean python3.13?",
		"nodejs20.x": "known runtimes: python3.14, python3.13, python3.12, python3.11, python3.10, python3.9",
	} {
		_, err := target.LookupRuntime(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("LookupRuntime(%q): %v, want it to say %q", in, err, want)
		}
		if err != nil && !strings.Contains(err.Error(), "python3.11") {
			t.Errorf("LookupRuntime(%q): %v does not list the known runtimes", in, err)
		}
	}
	if r, err := target.LookupRuntime(" Python3.12 "); err != nil || r.Name != "python3.12" {
		t.Errorf("case/space-insensitive lookup: %v %v", r, err)
	}
}

// A retired runtime's error suggests only runtimes still supported on the
// day: not python3.10 or python3.9 once their dates have passed.
func TestRetiredRuntimeSuggestsSupported(t *testing.T) {
	for _, c := range []struct {
		now  string
		want string
	}{
		{"2025-06-01", "use a supported runtime: python3.14, python3.13, python3.12, python3.11, python3.10, python3.9"},
		{"2025-12-15", "use a supported runtime: python3.14, python3.13, python3.12, python3.11, python3.10"},
		{"2026-12-05", "use a supported runtime: python3.14, python3.13, python3.12, python3.11"},
	} {
		now, err := time.Parse(time.DateOnly, c.now)
		if err != nil {
			t.Fatal(err)
		}
		restore := target.SetClock(now)
		_, err = target.LookupRuntime("python3.8")
		restore()
		if err == nil || !strings.HasSuffix(err.Error(), c.want) {
			t.Errorf("on %s: %v, want it to end %q", c.now, err, c.want)
		}
	}
}

func TestParseArch(t *testing.T) {
	for in, want := range map[string]target.Arch{
		"x86_64": target.X86_64, "amd64": target.X86_64, "X86_64": target.X86_64,
		"arm64": target.ARM64, "aarch64": target.ARM64, "ARM64": target.ARM64,
	} {
		if got, err := target.ParseArch(in); err != nil || got != want {
			t.Errorf("ParseArch(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := target.ParseArch("riscv64"); err == nil {
		t.Error("riscv64 accepted")
	}
	if target.ARM64.Machine() != "aarch64" || target.X86_64.Machine() != "x86_64" {
		t.Error("Machine names")
	}
}

func TestNew(t *testing.T) {
	tg, err := target.New("python3.12", "aarch64")
	if err != nil {
		t.Fatal(err)
	}
	if tg.String() != "python3.12/arm64" || tg.Python() != "3.12" || tg.Glibc() != "2.34" || tg.PythonMajor != 3 || tg.PythonMinor != 12 {
		t.Errorf("%+v", tg)
	}
	if d, _ := target.New("python3.11", ""); d.Arch != target.X86_64 {
		t.Errorf("default arch %q", d.Arch)
	}
	if _, err := target.New("python3.12", "s390x"); err == nil {
		t.Error("s390x accepted")
	}
}

func TestCustomDistroless(t *testing.T) {
	tg, err := target.Custom("3.11", "2.36", "arm64")
	if err != nil {
		t.Fatal(err)
	}
	if tg.Runtime != "" || tg.String() != "python3.11+glibc2.36/arm64" || tg.PythonFull != "3.11.0" {
		t.Errorf("%+v %s", tg, tg)
	}
	ts := tagSet(tg)
	if !ts["cp311-cp311-manylinux_2_36_aarch64"] || ts["cp311-cp311-manylinux_2_37_aarch64"] || !ts["cp311-abi3-manylinux2014_aarch64"] {
		t.Error("distroless debian12 arm64: want manylinux up to 2_36 only")
	}
	if tg2, err := target.Custom("3.13.5", "2.41", "amd64"); err != nil || tg2.PythonFull != "3.13.5" || tg2.Arch != target.X86_64 {
		t.Errorf("%+v %v", tg2, err)
	}
	for _, bad := range [][3]string{{"3", "2.36", "arm64"}, {"3.11", "2", "arm64"}, {"2.7", "2.36", "arm64"}, {"3.11", "1.9", "x86_64"}, {"3.11", "2.36", "mips"}, {"3.11.x", "2.36", "arm64"}} {
		if _, err := target.Custom(bad[0], bad[1], bad[2]); err == nil {
			t.Errorf("Custom%v accepted", bad)
		}
	}
}

func tagSet(tg target.Target) map[string]bool {
	m := map[string]bool{}
	for _, x := range tg.Tags() {
		m[x.String()] = true
	}
	return m
}

// The definition of done for the tag list.
func TestTagsPython311ARM64(t *testing.T) {
	tg, err := target.New("python3.11", "arm64")
	if err != nil {
		t.Fatal(err)
	}
	ts := tagSet(tg)
	for _, want := range []string{"cp311-cp311-manylinux_2_17_aarch64", "cp311-abi3-manylinux2014_aarch64"} {
		if !ts[want] {
			t.Errorf("missing %s", want)
		}
	}
	for s := range ts {
		if strings.Contains(s, "manylinux_2_28") || strings.Contains(s, "manylinux_2_27") || strings.Contains(s, "x86_64") {
			t.Errorf("python3.11/arm64 (glibc 2.26) accepts %s", s)
		}
	}
	if first := tg.Tags()[0].String(); first != "cp311-cp311-manylinux_2_26_aarch64" {
		t.Errorf("best tag %s", first)
	}
}

func TestTagsNeverMusllinuxOrLinux(t *testing.T) {
	for _, r := range target.Runtimes() {
		for _, a := range r.Architectures {
			tg, _ := target.New(r.Name, string(a))
			for _, x := range tg.Tags() {
				if strings.HasPrefix(x.Platform, "musllinux") || strings.HasPrefix(x.Platform, "linux_") {
					t.Errorf("%s accepts %s", tg, x)
				}
				if m, ok := tags.ParseManylinux(x.Platform); ok && (!m.Compatible(tg.GlibcMajor, tg.GlibcMinor) || m.Arch != a.Machine()) {
					t.Errorf("%s accepts %s", tg, x)
				}
			}
			interp := fmt.Sprintf("cp%d%d", tg.PythonMajor, tg.PythonMinor)
			for _, plat := range []string{"musllinux_1_1_" + a.Machine(), "musllinux_1_2_" + a.Machine(), "linux_" + a.Machine()} {
				if _, ok := tg.TagRank(tags.Tag{Interpreter: interp, ABI: interp, Platform: plat}); ok {
					t.Errorf("%s ranks %s", tg, plat)
				}
			}
		}
	}
}

func TestRanks(t *testing.T) {
	tg, _ := target.New("python3.12", "x86_64")
	all := tg.Tags()
	for i, x := range all {
		if r, ok := tg.TagRank(x); !ok || r != i {
			t.Fatalf("TagRank(%s) = %d %v, want %d", x, r, ok, i)
		}
	}
	for _, tc := range []struct {
		file string
		rank string // tag expected to give the wheel's rank, or "" for not installable
	}{
		{"numpy-2.1.3-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", "cp312-cp312-manylinux_2_17_x86_64"},
		{"cryptography-44.0.0-cp39-abi3-manylinux_2_28_x86_64.whl", "cp39-abi3-manylinux_2_28_x86_64"},
		{"six-1.16.0-py2.py3-none-any.whl", "py3-none-any"},
		{"numpy-2.1.3-cp312-cp312-manylinux_2_35_x86_64.whl", ""},
		{"numpy-2.1.3-cp312-cp312-musllinux_1_2_x86_64.whl", ""},
		{"numpy-2.1.3-cp312-cp312-manylinux_2_17_aarch64.whl", ""},
		{"numpy-2.1.3-cp311-cp311-manylinux_2_17_x86_64.whl", ""},
		{"numpy-2.1.3-cp313-cp313-manylinux_2_17_x86_64.whl", ""},
		{"x-1-cp312-cp312-win_amd64.whl", ""},
	} {
		w, err := tags.ParseWheelFilename(tc.file)
		if err != nil {
			t.Fatal(err)
		}
		r, ok := tg.WheelRank(w)
		if tc.rank == "" {
			if ok {
				t.Errorf("%s: rank %d (%s), want not installable", tc.file, r, all[r])
			}
			continue
		}
		if !ok || all[r].String() != tc.rank {
			t.Errorf("%s: rank %d %v, want that of %s", tc.file, r, ok, tc.rank)
		}
	}
	// Newer manylinux beats older; platform-specific abi3 beats pure Python.
	rank := func(s string) int {
		ts, _ := tags.ParseTag(s)
		r, ok := tg.TagRank(ts[0])
		if !ok {
			t.Fatalf("%s not accepted", s)
		}
		return r
	}
	if !(rank("cp312-cp312-manylinux_2_34_x86_64") < rank("cp312-cp312-manylinux_2_17_x86_64") &&
		rank("cp312-cp312-manylinux1_x86_64") < rank("cp312-abi3-manylinux_2_34_x86_64") &&
		rank("cp38-abi3-manylinux1_x86_64") < rank("py3-none-any")) {
		t.Error("rank order")
	}
}

func TestRankerConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tg, _ := target.New("python3.13", []string{"arm64", "x86_64"}[i%2])
			if _, ok := tg.TagRank(tags.Tag{Interpreter: "py3", ABI: "none", Platform: "any"}); !ok {
				t.Error("py3-none-any not accepted")
			}
		}()
	}
	wg.Wait()
}

func TestEnvironment(t *testing.T) {
	tg, _ := target.New("python3.12", "arm64")
	env := tg.Environment()
	want := map[string]string{
		"os_name": "posix", "sys_platform": "linux", "platform_system": "Linux", "platform_machine": "aarch64",
		"platform_python_implementation": "CPython", "implementation_name": "cpython", "python_version": "3.12",
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}
	if !strings.HasPrefix(env["python_full_version"], "3.12.") || env["implementation_version"] != env["python_full_version"] {
		t.Errorf("python_full_version %q implementation_version %q", env["python_full_version"], env["implementation_version"])
	}
	for m, wantTrue := range map[string]bool{
		`platform_machine == "aarch64" and sys_platform == "linux"`:                     true,
		`python_version >= "3.12" and python_full_version < "3.13"`:                     true,
		`platform_machine == "x86_64"`:                                                  false,
		`sys_platform == "win32" or os_name == "nt"`:                                    false,
		`implementation_name == "cpython" and platform_python_implementation != "PyPy"`: true,
	} {
		mk, err := pep508.ParseMarker(m)
		if err != nil {
			t.Fatal(err)
		}
		if got := mk.Evaluate(env); got != wantTrue {
			t.Errorf("%s on %s: %v", m, tg, got)
		}
	}
}

// TestEnvironmentKeysMatchCPython: the environment has exactly the keys
// packaging's default_environment() gives on a real CPython, and on an x86_64
// Linux CPython of the same minor the host-independent ones agree.
func TestEnvironmentKeysMatchCPython(t *testing.T) {
	py := testutil.Python(t, "3.11")
	out, err := exec.Command(py, "-I", "-c", "import json; from packaging.markers import default_environment as d; print(json.dumps(d()))").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("%v\n%s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	var real map[string]string
	if err := json.Unmarshal(out, &real); err != nil {
		t.Fatal(err)
	}
	tg, _ := target.New("python3.11", "x86_64")
	env := tg.Environment()
	var a, b []string
	for k := range real {
		a = append(a, k)
	}
	for k := range env {
		b = append(b, k)
	}
	slices.Sort(a)
	slices.Sort(b)
	if !slices.Equal(a, b) {
		t.Errorf("keys differ:\n CPython %v\n ours    %v", a, b)
	}
	for _, k := range []string{"os_name", "sys_platform", "platform_system", "platform_machine", "platform_python_implementation", "implementation_name", "python_version"} {
		if real[k] != env[k] {
			t.Errorf("%s: CPython says %q, we say %q", k, real[k], env[k])
		}
	}
}

// TestTagsAgainstPackaging: each runtime's tag list, in order, equals what
// pypa/packaging 26 (run by a real CPython) yields for that Python version
// with its manylinux platforms computed for the runtime's glibc.
func TestTagsAgainstPackaging(t *testing.T) {
	py := testutil.Python(t, "3.11")
	type tcase struct {
		Machine    string
		Py         int
		GMaj, GMin int
		Name       string
	}
	var cases []tcase
	var targets []target.Target
	for _, r := range target.Runtimes() {
		for _, a := range r.Architectures {
			tg, err := target.New(r.Name, string(a))
			if err != nil {
				t.Fatal(err)
			}
			targets = append(targets, tg)
			cases = append(cases, tcase{a.Machine(), tg.PythonMinor, tg.GlibcMajor, tg.GlibcMinor, tg.String()})
		}
	}
	in, _ := json.Marshal(cases)
	script := `
import json, sys
from packaging import tags, _manylinux
_manylinux._have_compatible_abi = lambda exe, archs: True
res = []
for c in json.loads(sys.argv[1]):
    _manylinux._get_glibc_version = lambda c=c: _manylinux._GLibCVersion(c["GMaj"], c["GMin"])
    plats = list(_manylinux.platform_tags([c["Machine"]]))
    v = (3, c["Py"])
    interp = "cp3%d" % c["Py"]
    ts = list(tags.cpython_tags(v, [interp], plats)) + list(tags.compatible_tags(v, interp, plats))
    res.append([str(t) for t in ts])
print(json.dumps(res))
`
	out, err := exec.Command(py, "-I", "-c", script, string(in)).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("%v\n%s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	var want [][]string
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatal(err)
	}
	for i, tg := range targets {
		var got []string
		for _, x := range tg.Tags() {
			got = append(got, x.String())
		}
		if !slices.Equal(got, want[i]) {
			t.Errorf("%s: %d tags, packaging %d; first difference at %d", tg, len(got), len(want[i]), firstDiff(got, want[i]))
		} else {
			t.Logf("%s: %d tags, identical to packaging", tg, len(got))
		}
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestEnvironmentOnARM64CPython runs Debian 12's real aarch64 CPython 3.11
// under qemu (what distroless python3-debian12 ships) and checks that the
// custom target Custom("3.11.x", "2.36", "arm64") describes it: the marker
// variables it reports and its glibc.
func TestEnvironmentOnARM64CPython(t *testing.T) {
	cmd := testutil.ARM64Python(t)
	script := `
import json, os, platform, sys
iv = sys.implementation.version
print(json.dumps({
    "os_name": os.name, "sys_platform": sys.platform, "platform_system": platform.system(),
    "platform_machine": platform.machine(), "platform_python_implementation": platform.python_implementation(),
    "implementation_name": sys.implementation.name,
    "implementation_version": "%d.%d.%d" % (iv.major, iv.minor, iv.micro),
    "python_version": ".".join(platform.python_version_tuple()[:2]),
    "python_full_version": platform.python_version(),
    "glibc": os.confstr("CS_GNU_LIBC_VERSION"),
}))
`
	out, err := exec.Command(cmd[0], append(cmd[1:], "-I", "-c", script)...).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("%v\n%s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	var real map[string]string
	if err := json.Unmarshal(out, &real); err != nil {
		t.Fatal(err)
	}
	tg, err := target.Custom(real["python_full_version"], strings.TrimPrefix(real["glibc"], "glibc "), "arm64")
	if err != nil {
		t.Fatal(err)
	}
	if tg.Python() != "3.11" || tg.Glibc() != "2.36" {
		t.Errorf("the arm64 interpreter is Python %s glibc %s, want Debian 12's 3.11 / 2.36", tg.Python(), tg.Glibc())
	}
	env := tg.Environment()
	for k, v := range real {
		if k == "glibc" {
			continue
		}
		if env[k] != v {
			t.Errorf("%s: real aarch64 CPython says %q, target says %q", k, v, env[k])
		}
	}
}
