package tags_test

import (
	"encoding/json"
	"errors"
	"os/exec"
	"slices"
	"testing"

	"github.com/lambdapack/lambdapack/internal/tags"
	"github.com/lambdapack/lambdapack/internal/testutil"
)

// (Known difference, left out: names.Canonical lower-cases "ΣΑΣ" to "σασ" where
// Python gives "σας", final sigma; no valid PEP 508 name is non-ASCII.)
//
// TestFilenamesAgainstPackaging parses awkward wheel and sdist filenames with
// pypa/packaging (pyenv's CPython 3.11 carries packaging 26) and with this
// package, and compares: accepted or not, name, version, build, tag set.
func TestFilenamesAgainstPackaging(t *testing.T) {
	py := testutil.Python(t, "3.11")
	wheels := []string{
		"foo-1.0-py3-none-any.whl", "Foo_Bar-1.0-py3-none-any.whl", "foo.bar-1.0-py3-none-any.whl",
		"foo__bar-1.0-py3-none-any.whl", "_foo-1.0-py3-none-any.whl", "foo_-1.0-py3-none-any.whl",
		"foo_bár-1.0-py3-none-any.whl", "Ärger_X-1.0-py3-none-any.whl", "foo٣-1.0-py3-none-any.whl",
		"foo-1.0-1-py3-none-any.whl", "foo-1.0-1a-py3-none-any.whl", "foo-1.0-a1-py3-none-any.whl",
		"foo-1.0-0001_x.y-py3-none-any.whl", "foo-v1.0-py3-none-any.whl", "foo-1.0.POST1-py3-none-any.whl",
		"foo-1.0_post1-py3-none-any.whl", "foo-1!1.0-py3-none-any.whl", "foo-1.0+ABC.d_e-py3-none-any.whl",
		"foo-1.0-PY3-NONE-ANY.whl", "foo-1.0-py3.py2-none-any.whl", "foo-1.0-py3-none-any.any.whl",
		"foo-1.0-3py-none-any.whl", "foo-1.0-py_3-none-any.whl", "foo-1.0-py3-none-any .whl",
		"foo-1.0-py3--any.whl", "foo-1.0-py3-none-.whl", "foo--py3-none-any.whl", "foo-1.0-py3-none-any-x.whl",
		"foo-1.0-py3-none.whl", "foo-1.0-2-3-py3-none-any.whl", "foo-1.0-py3-none-any.whl.whl",
		"foo-1.0-py3-abi-linux x86.whl", "foo-1.0.dev-py3-none-any.whl", "foo-1.0rc-py3-none-any.whl",
		"foo-1.0-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
	}
	sdists := []string{
		"foo-1.0.tar.gz", "foo-1.0.zip", "Foo.Bar-2.0.post1.tar.gz", "foo-bar-1.0.tar.gz", "foo_bar-1.0.zip",
		"foo-1.0.tgz", "foo.tar.gz", "-1.0.tar.gz", "foo-.tar.gz", "foo-1.x.zip", "foo-v1.tar.gz", "foo-1.0.TAR.GZ",
	}
	in, _ := json.Marshal(map[string][]string{"wheels": wheels, "sdists": sdists})
	script := `
import json, sys
from packaging.utils import parse_wheel_filename, parse_sdist_filename
data = json.loads(sys.argv[1])
out = {"wheels": [], "sdists": []}
for w in data["wheels"]:
    try:
        n, v, b, ts = parse_wheel_filename(w)
        out["wheels"].append({"ok": True, "name": n, "version": str(v), "build": "".join(map(str, b)), "tags": sorted(str(t) for t in ts)})
    except Exception as e:
        out["wheels"].append({"ok": False, "err": repr(e)})
for s in data["sdists"]:
    try:
        n, v = parse_sdist_filename(s)
        out["sdists"].append({"ok": True, "name": n, "version": str(v)})
    except Exception as e:
        out["sdists"].append({"ok": False, "err": repr(e)})
print(json.dumps(out))
`
	raw, err := exec.Command(py, "-I", "-c", script, string(in)).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("running packaging: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("running packaging: %v", err)
	}
	type answer struct {
		OK      bool
		Err     string
		Name    string
		Version string
		Build   string
		Tags    []string
	}
	var res struct{ Wheels, Sdists []answer }
	if err := json.Unmarshal(raw, &res); err != nil {
		t.Fatal(err)
	}
	for i, fn := range wheels {
		want := res.Wheels[i]
		w, err := tags.ParseWheelFilename(fn)
		if (err == nil) != want.OK {
			t.Errorf("%q: ours err=%v, packaging ok=%v %s", fn, err, want.OK, want.Err)
			continue
		}
		if err != nil {
			continue
		}
		got := tagStrings(w.Tags)
		slices.Sort(got)
		if w.Name != want.Name || w.Version.String() != want.Version || w.Build() != want.Build || !slices.Equal(got, want.Tags) {
			t.Errorf("%q: ours %q %q %q %v, packaging %q %q %q %v", fn, w.Name, w.Version, w.Build(), got, want.Name, want.Version, want.Build, want.Tags)
		}
	}
	for i, fn := range sdists {
		want := res.Sdists[i]
		s, err := tags.ParseSdistFilename(fn)
		if (err == nil) != want.OK {
			t.Errorf("%q: ours err=%v, packaging ok=%v %s", fn, err, want.OK, want.Err)
			continue
		}
		if err == nil && (s.Name != want.Name || s.Version.String() != want.Version) {
			t.Errorf("%q: ours %q %q, packaging %q %q", fn, s.Name, s.Version, want.Name, want.Version)
		}
	}
	t.Logf("%d wheel and %d sdist filenames compared with packaging", len(wheels), len(sdists))
}
