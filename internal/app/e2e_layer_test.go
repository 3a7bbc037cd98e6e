package app_test

import (
	"debug/elf"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/lambdapack/lambdapack/internal/app"
	"github.com/lambdapack/lambdapack/internal/record"
	"github.com/lambdapack/lambdapack/internal/target"
	"github.com/lambdapack/lambdapack/internal/testutil"
)

// End-to-end builds on real packages from the index the product finds for
// itself (every index setting left empty), checked by unzipping the artifact
// and importing it with a real interpreter: pyenv's CPython for x86_64,
// Debian's arm64 CPython 3.11 under qemu for arm64. Wheels come through the
// shared e2e cache, so a warm run downloads nothing.

// e2eFourPackages is the set: two with C extensions, one Rust
// extension, one pure-Python package with dependencies.
var e2eFourPackages = []string{"numpy", "pydantic", "orjson", "requests"}

// e2eFourCheck imports the four packages from PYTHONPATH only and runs a
// small computation with each; it prints the machine and the versions.
const e2eFourCheck = `
import os, platform
root = os.path.realpath(os.environ["PYTHONPATH"])
import numpy as np, pydantic, pydantic_core, orjson, requests
for m in (np, pydantic, pydantic_core, orjson, requests):
    f = os.path.realpath(m.__file__)
    assert f.startswith(root + os.sep), (m.__name__, f, root)

a = np.arange(1, 5, dtype=np.float64).reshape(2, 2)
assert (a @ a).tolist() == [[7.0, 10.0], [15.0, 22.0]], a @ a
assert abs(np.linalg.det(a) + 2.0) < 1e-9

class Item(pydantic.BaseModel):
    id: int
    tags: list[str] = []

it = Item.model_validate({"id": "42", "tags": ["a", "b"]})
assert it.id == 42 and it.tags == ["a", "b"], it
try:
    Item.model_validate({"id": "forty-two"})
except pydantic.ValidationError as e:
    assert e.error_count() == 1, e
else:
    raise AssertionError("pydantic accepted a bad id")

doc = {"a": [1, 2.5, "x", None, True], "b": {"c": "d"}}
raw = orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)
assert raw == b'{"a":[1,2.5,"x",null,true],"b":{"c":"d"}}', raw
assert orjson.loads(raw) == doc

p = requests.Request("POST", "https://example.invalid/api", params={"q": "a b"}, json={"k": [1, 2]}).prepare()
assert p.url == "https://example.invalid/api?q=a+b", p.url
assert p.headers["Content-Type"] == "application/json", p.headers
assert b'"k"' in p.body, p.body

print(platform.machine(), np.__version__, pydantic.VERSION, orjson.__version__, requests.__version__)
`

// e2eCheckReport checks the parts of a report every build shares.
func e2eCheckReport(t *testing.T, rep *app.ArtifactReport, kind record.Kind, runtime, arch, python string, want ...string) {
	t.Helper()
	if rep.Kind != kind || rep.Runtime != runtime || rep.Architecture != arch || rep.Python != python {
		t.Errorf("report says kind %q runtime %q arch %q python %q, want %q %q %q %q", rep.Kind, rep.Runtime, rep.Architecture, rep.Python, kind, runtime, arch, python)
	}
	if rep.UnzippedSize <= rep.Size || rep.Size <= 0 {
		t.Errorf("sizes: zipped %d, unzipped %d", rep.Size, rep.UnzippedSize)
	}
	if len(rep.SHA256) != 64 || len(rep.RequirementsSHA256) != 64 {
		t.Errorf("sha256 %q, requirements sha256 %q", rep.SHA256, rep.RequirementsSHA256)
	}
	have := map[string]bool{}
	for _, p := range rep.Packages {
		have[p.Name] = true
		if p.Version == "" || !strings.HasSuffix(p.Filename, ".whl") || p.Size <= 0 {
			t.Errorf("package entry %+v", p)
		}
	}
	for _, n := range want {
		if !have[n] {
			t.Errorf("report lacks package %s: %+v", n, rep.Packages)
		}
	}
	// The JSON field names the issue asks for.
	data, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"kind", "path", "sha256", "size", "unzipped_size", "runtime", "architecture", "python", "pure", "packages"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON report lacks %q: %s", k, data)
		}
	}
}

// e2eCheckLayerRoots checks that a layer holds only python/ and bin/.
func e2eCheckLayerRoots(t *testing.T, names []string) {
	t.Helper()
	for _, n := range names {
		if !strings.HasPrefix(n, "python/") && !strings.HasPrefix(n, "bin/") {
			t.Errorf("layer entry %q outside python/ and bin/", n)
		}
	}
	if !slices.IsSorted(names) {
		t.Errorf("layer entries are not sorted")
	}
}

func TestE2ELayerPython312X86(t *testing.T) {
	t.Parallel()
	py := testutil.Python(t, "3.12")
	env := e2eEnv(t, app.EnvOptions{})
	out := filepath.Join(t.TempDir(), "layer.zip")
	rep := e2eBuild(t, env, app.ArtifactOptions{
		Kind: app.KindLayer, Deps: app.Inputs{Requirements: e2eFourPackages},
		Runtime: "python3.12", Arch: "x86_64", Output: out,
	})
	e2eCheckReport(t, rep, app.KindLayer, "python3.12", "x86_64", "3.12", "numpy", "pydantic", "pydantic-core", "orjson", "requests", "urllib3")
	if rep.Pure || !slices.Equal(rep.Architectures, []string{"x86_64"}) {
		t.Errorf("pure %v, architectures %v: numpy is not pure Python", rep.Pure, rep.Architectures)
	}
	e2eCheckLayerRoots(t, testutil.ZipNames(t, out))
	dir := testutil.Unzip(t, out)
	for _, pkg := range []string{"numpy", "pydantic_core", "orjson"} {
		sos := e2eSharedObjects(t, filepath.Join(dir, "python"), pkg)
		if len(sos) == 0 {
			t.Errorf("no .so files under python/%s", pkg)
		}
		for _, so := range sos {
			if m := e2eELFMachine(t, filepath.Join(dir, "python", so)); m != elf.EM_X86_64 {
				t.Errorf("%s is %v, want EM_X86_64", so, m)
			}
		}
	}
	got := testutil.RunPython(t, []string{py}, filepath.Join(dir, "python"), e2eFourCheck)
	t.Logf("python3.12: %s", got)
	if !strings.HasPrefix(got, "x86_64 ") {
		t.Errorf("platform.machine(): %q", got)
	}
}

func TestE2ELayerPython311ARM64(t *testing.T) {
	t.Parallel()
	qpy := testutil.ARM64Python(t)
	env := e2eEnv(t, app.EnvOptions{})
	out := filepath.Join(t.TempDir(), "layer.zip")
	rep := e2eBuild(t, env, app.ArtifactOptions{
		Kind: app.KindLayer, Deps: app.Inputs{Requirements: e2eFourPackages},
		Runtime: "python3.11", Arch: "arm64", Output: out,
	})
	e2eCheckReport(t, rep, app.KindLayer, "python3.11", "arm64", "3.11", "numpy", "pydantic", "pydantic-core", "orjson", "requests")
	if rep.Pure || !slices.Equal(rep.Architectures, []string{"arm64"}) {
		t.Errorf("pure %v, architectures %v", rep.Pure, rep.Architectures)
	}
	for _, p := range rep.Packages {
		// python3.11 runs on Amazon Linux 2 (glibc 2.26): each wheel must
		// carry a platform tag that loads there. qemu's Debian has glibc
		// 2.36, so the import below cannot catch a manylinux_2_28 wheel.
		if !e2eLoadsOnGlibc(p.Filename, "aarch64", 2, 26) {
			t.Errorf("%s: no platform tag that loads on python3.11/arm64 (aarch64, glibc 2.26)", p.Filename)
		}
	}
	dir := testutil.Unzip(t, out)
	for _, pkg := range []string{"numpy", "pydantic_core", "orjson"} {
		sos := e2eSharedObjects(t, filepath.Join(dir, "python"), pkg)
		if len(sos) == 0 {
			t.Errorf("no .so files under python/%s", pkg)
		}
		for _, so := range sos {
			if m := e2eELFMachine(t, filepath.Join(dir, "python", so)); m != elf.EM_AARCH64 {
				t.Errorf("%s is %v, want EM_AARCH64", so, m)
			}
		}
	}
	got := testutil.RunPython(t, qpy, filepath.Join(dir, "python"), e2eFourCheck+"\nassert platform.machine() == 'aarch64', platform.machine()\n")
	t.Logf("arm64 python3.11 under qemu: %s", got)
	if !strings.HasPrefix(got, "aarch64 ") {
		t.Errorf("platform.machine(): %q", got)
	}
}

func TestE2EFunctionHelloPython313(t *testing.T) {
	t.Parallel()
	py := testutil.Python(t, "3.13")
	src := filepath.Join(testutil.RepoRoot(t), "examples", "hello")
	env := e2eEnv(t, app.EnvOptions{})
	out := filepath.Join(t.TempDir(), "function.zip")
	rep := e2eBuild(t, env, app.ArtifactOptions{
		Kind: app.KindFunction, Deps: app.Inputs{RequirementFiles: []string{filepath.Join(src, "requirements.txt")}},
		Src: src, Runtime: "python3.13", Arch: "x86_64", Output: out,
	})
	e2eCheckReport(t, rep, app.KindFunction, "python3.13", "x86_64", "3.13", "numpy", "pydantic", "requests")
	names := testutil.ZipNames(t, out)
	for _, want := range []string{"handler.py", "numpy/__init__.py", "pydantic/__init__.py", "requests/__init__.py"} {
		if !slices.Contains(names, want) {
			t.Errorf("function zip lacks %s", want)
		}
	}
	if e2eHasPrefix(names, "python/") {
		t.Errorf("function zip has a python/ folder: packages belong at the root")
	}
	dir := testutil.Unzip(t, out)
	got := testutil.RunPython(t, []string{py}, dir, `
import json, os
import handler
assert os.path.realpath(handler.__file__) == os.path.realpath(os.path.join(os.environ["PYTHONPATH"], "handler.py")), handler.__file__
r = handler.handler({"name": "x", "values": [1, 2, 3]}, None)
print(json.dumps(r))
`)
	var resp struct {
		StatusCode int    `json:"statusCode"`
		Body       string `json:"body"`
	}
	if err := json.Unmarshal([]byte(got), &resp); err != nil {
		t.Fatalf("handler output %q: %v", got, err)
	}
	if resp.StatusCode != 200 {
		t.Errorf("statusCode %d, want 200", resp.StatusCode)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
		t.Fatalf("body %q: %v", resp.Body, err)
	}
	// The numpy the handler reports is the one requirements.txt pins.
	reqs, err := os.ReadFile(filepath.Join(src, "requirements.txt"))
	if err != nil {
		t.Fatal(err)
	}
	pin := regexp.MustCompile(`(?m)^numpy==(\S+)`).FindSubmatch(reqs)
	if pin == nil {
		t.Fatalf("examples/hello/requirements.txt no longer pins numpy:\n%s", reqs)
	}
	if body["greeting"] != "hello, x" || body["count"] != 3.0 || body["mean"] != 2.0 || body["numpy"] != string(pin[1]) {
		t.Errorf("body %v, want greeting 'hello, x', count 3, mean 2.0, numpy %s (the pinned version)", body, pin[1])
	}
}

func TestE2ELayerSitePackagesLayout(t *testing.T) {
	t.Parallel()
	py := testutil.Python(t, "3.12")
	env := e2eEnv(t, app.EnvOptions{})
	out := filepath.Join(t.TempDir(), "layer.zip")
	e2eBuild(t, env, app.ArtifactOptions{
		Kind: app.KindLayer, Deps: app.Inputs{Requirements: []string{"orjson", "requests"}},
		Runtime: "python3.12", Arch: "x86_64", Layout: "site-packages", Output: out,
	})
	const sp = "python/lib/python3.12/site-packages/"
	names := testutil.ZipNames(t, out)
	for _, n := range names {
		if !strings.HasPrefix(n, sp) && n != "python/" && n != "python/lib/" && n != "python/lib/python3.12/" && !strings.HasPrefix(n, "bin/") {
			t.Errorf("entry %q outside %s", n, sp)
		}
	}
	for _, want := range []string{sp + "requests/__init__.py", sp + "orjson/__init__.py"} {
		if !slices.Contains(names, want) {
			t.Errorf("layer lacks %s", want)
		}
	}
	dir := testutil.Unzip(t, out)
	got := testutil.RunPython(t, []string{py}, filepath.Join(dir, filepath.FromSlash(sp)), `
import os, orjson, requests
root = os.path.realpath(os.environ["PYTHONPATH"])
assert os.path.realpath(orjson.__file__).startswith(root + os.sep), orjson.__file__
assert os.path.realpath(requests.__file__).startswith(root + os.sep), requests.__file__
assert orjson.loads(orjson.dumps({"n": [1, 2]})) == {"n": [1, 2]}
print(requests.Request("GET", "https://example.invalid/", params={"a": 1}).prepare().url)
`)
	if strings.TrimSpace(got) != "https://example.invalid/?a=1" {
		t.Errorf("got %q", got)
	}
}

func TestE2ELayerExcludeRuntimePackages(t *testing.T) {
	t.Parallel()
	env := e2eEnv(t, app.EnvOptions{})
	out := filepath.Join(t.TempDir(), "layer.zip")
	rep := e2eBuild(t, env, app.ArtifactOptions{
		Kind: app.KindLayer, Deps: app.Inputs{Requirements: []string{"boto3"}},
		Runtime: "python3.12", Arch: "arm64", Output: out,
		ExcludePackages: []string{"boto3", "botocore", "s3transfer"},
	})
	for _, p := range rep.Packages {
		switch p.Name {
		case "boto3", "botocore", "s3transfer":
			t.Errorf("report lists excluded %s %s", p.Name, p.Version)
		}
	}
	names := testutil.ZipNames(t, out)
	for _, gone := range []string{"python/boto3/", "python/boto3-", "python/botocore", "python/s3transfer"} {
		if e2eHasPrefix(names, gone) {
			t.Errorf("layer still has %s*", gone)
		}
	}
	// boto3's other dependencies stay: only what was named is left out.
	if !e2eHasPrefix(names, "python/jmespath/") {
		t.Errorf("jmespath (a dependency of boto3 the runtime does not promise) is missing")
	}
	var note string
	for _, n := range rep.Notes {
		if strings.Contains(n, "runtime provides") {
			note = n
		}
	}
	if note == "" || !strings.Contains(note, "boto3") || !strings.Contains(note, "botocore") || !strings.Contains(note, "s3transfer") {
		t.Errorf("no note that the runtime provides boto3, botocore and s3transfer; notes: %q", rep.Notes)
	}
}

func TestE2ELayerTwoRuntimes(t *testing.T) {
	t.Parallel()
	var targets []target.Target
	for _, rt := range []string{"python3.11", "python3.12"} {
		tg, err := target.New(rt, "x86_64")
		if err != nil {
			t.Fatal(err)
		}
		targets = append(targets, tg)
	}
	env := e2eEnv(t, app.EnvOptions{})
	out := filepath.Join(t.TempDir(), "layer.zip")
	rep := e2eBuild(t, env, app.ArtifactOptions{
		Kind: app.KindLayer, Deps: app.Inputs{Requirements: []string{"pydantic"}},
		Targets: targets, Output: out,
	})
	if !slices.Equal(rep.Runtimes, []string{"python3.11", "python3.12"}) {
		t.Errorf("report runtimes %v", rep.Runtimes)
	}
	dir := testutil.Unzip(t, out)
	if got := testutil.DirNames(t, filepath.Join(dir, "python")); !slices.Equal(got, []string{"lib"}) {
		t.Errorf("python/ holds %v, want only lib/ (pydantic-core differs per Python)", got)
	}
	if got := testutil.DirNames(t, filepath.Join(dir, "python", "lib")); !slices.Equal(got, []string{"python3.11", "python3.12"}) {
		t.Errorf("python/lib holds %v, want python3.11 and python3.12", got)
	}
	for _, minor := range []string{"3.11", "3.12"} {
		sp := filepath.Join(dir, "python", "lib", "python"+minor, "site-packages")
		abi := "cpython-3" + strings.TrimPrefix(minor, "3.")
		sos := e2eSharedObjects(t, sp, "pydantic_core")
		if len(sos) == 0 {
			t.Fatalf("no pydantic_core extension in %s", sp)
		}
		for _, so := range sos {
			if !strings.Contains(filepath.Base(so), abi) {
				t.Errorf("%s in the %s folder is not built for %s", so, minor, abi)
			}
		}
		got := testutil.RunPython(t, []string{testutil.Python(t, minor)}, sp, `
import os, sys, pydantic, pydantic_core
root = os.path.realpath(os.environ["PYTHONPATH"])
assert os.path.realpath(pydantic_core.__file__).startswith(root + os.sep), pydantic_core.__file__
class M(pydantic.BaseModel):
    n: int
assert M.model_validate({"n": "7"}).n == 7
print("%d.%d" % sys.version_info[:2])
`)
		if strings.TrimSpace(got) != minor {
			t.Errorf("ran %q, want %s", got, minor)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "python", "pydantic")); err == nil {
		t.Errorf("python/pydantic exists beside the per-version folders")
	}
}

var e2eManylinux = regexp.MustCompile(`^manylinux_(\d+)_(\d+)_(.+)$`)

// e2eLoadsOnGlibc reports whether a wheel file name has a platform tag that
// loads on Linux for machine with the given glibc: "any", or a manylinux tag
// (PEP 600, legacy aliases included) of that machine no newer than glibc.
// It is written here, apart from internal/tags, as a second opinion.
func e2eLoadsOnGlibc(filename, machine string, major, minor int) bool {
	parts := strings.Split(strings.TrimSuffix(filename, ".whl"), "-")
	if len(parts) < 5 {
		return false
	}
	legacy := map[string]string{"manylinux1": "manylinux_2_5", "manylinux2010": "manylinux_2_12", "manylinux2014": "manylinux_2_17"}
	for _, plat := range strings.Split(parts[len(parts)-1], ".") {
		if plat == "any" {
			return true
		}
		for old, pep600 := range legacy {
			if rest, ok := strings.CutPrefix(plat, old+"_"); ok {
				plat = pep600 + "_" + rest
			}
		}
		m := e2eManylinux.FindStringSubmatch(plat)
		if m == nil || m[3] != machine {
			continue
		}
		ma, _ := strconv.Atoi(m[1])
		mi, _ := strconv.Atoi(m[2])
		if ma < major || ma == major && mi <= minor {
			return true
		}
	}
	return false
}
