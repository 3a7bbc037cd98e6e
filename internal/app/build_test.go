package app

import (
	"archive/zip"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	toml "github.com/pelletier/go-toml/v2"

	"github.com/lambdapack/lambdapack/internal/index"
	"github.com/lambdapack/lambdapack/internal/testutil"
)

var distInfoRe = regexp.MustCompile(`(?:^|/)([A-Za-z0-9_.]+)-([^/-]+)\.dist-info/$`)

// distVersions lists name -> version of the dist-info folders in a zip.
func distVersions(t *testing.T, zipPath string) map[string]string {
	t.Helper()
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	out := map[string]string{}
	for _, f := range zr.File {
		if m := distInfoRe.FindStringSubmatch(f.Name); m != nil {
			out[normName(m[1])] = m[2]
		}
	}
	return out
}

func normName(s string) string {
	return strings.ToLower(regexp.MustCompile(`[-_.]+`).ReplaceAllString(s, "-"))
}

// runPy runs code with a CPython (argv prefix) and the folders of
// pythonpath on sys.path (testutil.RunPython), returning its output.
func runPy(t *testing.T, py []string, pythonpath []string, code string) string {
	t.Helper()
	return testutil.RunPython(t, py, strings.Join(pythonpath, string(os.PathListSeparator)), code)
}

func mustBuild(t *testing.T, o BuildOptions) *BuildReport {
	t.Helper()
	rep, _, err := Build(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func byArtifact(r *BuildReport) map[string]*ArtifactReport {
	m := map[string]*ArtifactReport{}
	for _, a := range r.Artifacts {
		m[a.Name] = a.ArtifactReport
	}
	return m
}

// The serverless.yml of seed 000: runtime set per function, none on the
// provider, a Node.js function beside the Python one.
func TestBuildServerlessSeed000(t *testing.T) {
	dir := t.TempDir()
	testutil.WriteFiles(t, dir, map[string]string{
		"serverless.yml": `service: seed000
frameworkVersion: '3'
plugins:
  - serverless-python-requirements
provider:
  name: aws
  region: ap-northeast-1
  stage: dev
custom:
  pythonRequirements:
    dockerizePip: true
functions:
  main_py:
    runtime: python3.11
    handler: handler_py.main
  main_js:
    runtime: nodejs20.x
    handler: handler_js.main
`,
		"handler_py.py":    "import certifi, requests\n\ndef main(event, context):\n    return {'requests': requests.__version__, 'ok': bool(certifi.where())}\n",
		"handler_js.js":    "exports.main = async () => 1;\n",
		"requirements.txt": "requests==2.32.4\n",
	})
	var log strings.Builder
	rep, cfg, err := Build(context.Background(), BuildOptions{Dir: dir, Env: EnvOptions{CacheDir: testutil.SharedCache(t), Log: &log}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Artifacts) != 1 {
		t.Fatalf("artifacts %+v", rep.Artifacts)
	}
	a := rep.Artifacts[0]
	if a.Name != "main_py" || a.Runtime != "python3.11" || a.Architecture != "x86_64" || a.Kind != KindFunction {
		t.Errorf("main_py built as %+v", a)
	}
	if want := filepath.Join(dir, "dist", "main_py.zip"); a.Path != want {
		t.Errorf("path %s, want %s", a.Path, want)
	}
	if len(rep.Skipped) != 1 || rep.Skipped[0].Name != "main_js" || rep.Skipped[0].Reason != "runtime nodejs20.x is not a Python runtime" || rep.Skipped[0].Line != 16 {
		t.Errorf("skipped %+v", rep.Skipped)
	}
	_ = cfg
	if strings.Contains(log.String(), "undefined") {
		t.Errorf("log mentions undefined:\n%s", log.String())
	}
	fn := testutil.Unzip(t, a.Path)
	if _, err := os.Stat(filepath.Join(fn, "handler_js.js")); err != nil {
		// The Node.js file is the user's code in the same folder: it is
		// packaged like any file, but the function is not built.
		t.Logf("handler_js.js not in the zip: %v", err)
	}
	out := runPy(t, []string{testutil.Python(t, "3.11")}, []string{fn}, "import handler_py; print(handler_py.main({}, None))")
	if !strings.Contains(out, "'requests': '2.32.4'") {
		t.Errorf("handler said %s", out)
	}
}

const samE2E = `AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Timeout: 10
Resources:
  Py311Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fn311/
      Handler: app.handler
      Runtime: python3.11
      Architectures: [x86_64]
      Layers: [!Ref SharedLayer]
  Py312ArmFn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fn312/
      Handler: app.handler
      Runtime: python3.12
      Architectures: [arm64]
  Py313Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fn313/
      Handler: app.handler
      Runtime: python3.13
      Architectures: [x86_64]
  SharedLayer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: layer/
      CompatibleRuntimes: [python3.11]
      CompatibleArchitectures: [x86_64, arm64]
    Metadata:
      BuildMethod: python3.11
  ArmLayer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: layer/
      CompatibleRuntimes: [python3.11]
      CompatibleArchitectures: [arm64]
    Metadata:
      BuildMethod: python3.11
      BuildArchitecture: arm64
`

const samHandler = `import sys, orjson

def handler(event, context):
    return orjson.dumps({"python": "%d.%d" % sys.version_info[:2], "event": event}).decode()
`

// A SAM template with three functions on three runtimes and two
// architectures, and a layer built for each architecture (one zip per layer
// resource, for its Metadata.BuildArchitecture, as sam build makes): every
// artifact built for its own target, verified, and imported where an
// interpreter exists here.
func TestBuildSAMThreeRuntimes(t *testing.T) {
	dir := t.TempDir()
	testutil.WriteFiles(t, dir, map[string]string{
		"template.yaml":          samE2E,
		"fn311/app.py":           samHandler,
		"fn311/requirements.txt": "orjson==3.10.18\n",
		"fn312/app.py":           samHandler,
		"fn312/requirements.txt": "orjson==3.10.18\n",
		"fn313/app.py":           samHandler,
		"fn313/requirements.txt": "orjson==3.10.18\n",
		"layer/requirements.txt": "pydantic==2.11.7\n",
	})
	rep := mustBuild(t, BuildOptions{Dir: dir, Env: EnvOptions{CacheDir: testutil.SharedCache(t)}})
	arts := byArtifact(rep)
	want := map[string][2]string{
		"Py311Fn": {"python3.11", "x86_64"}, "Py312ArmFn": {"python3.12", "arm64"}, "Py313Fn": {"python3.13", "x86_64"},
		"SharedLayer-x86_64": {"python3.11", "x86_64"}, "ArmLayer-arm64": {"python3.11", "arm64"},
	}
	if len(arts) != len(want) {
		t.Fatalf("built %d artifacts, want %d: %v", len(arts), len(want), keys(arts))
	}
	for name, w := range want {
		a := arts[name]
		if a == nil {
			t.Fatalf("no artifact %s (have %v)", name, keys(arts))
		}
		if a.Runtime != w[0] || a.Architecture != w[1] {
			t.Errorf("%s built for %s/%s, want %s/%s", name, a.Runtime, a.Architecture, w[0], w[1])
		}
		if len(a.Findings) > 0 {
			for _, f := range a.Findings {
				if f.Severity == "error" {
					t.Errorf("%s: verify error %+v", name, f)
				}
			}
		}
	}
	// Each orjson wheel is the one for its function's Python and machine.
	for name, tag := range map[string]string{"Py311Fn": "cp311-cp311-manylinux", "Py312ArmFn": "cp312-cp312-manylinux", "Py313Fn": "cp313-cp313-manylinux"} {
		f := ""
		for _, p := range arts[name].Packages {
			if p.Name == "orjson" {
				f = p.Filename
			}
		}
		if !strings.Contains(f, tag) {
			t.Errorf("%s got orjson wheel %q, want a %s wheel", name, f, tag)
		}
		if name == "Py312ArmFn" && !strings.Contains(f, "aarch64") {
			t.Errorf("%s got %s, want aarch64", name, f)
		}
	}
	// Import: 3.11 x86_64 with its layer, 3.13 x86_64, and the arm64 layer
	// under qemu (Debian's arm64 CPython is 3.11; python3.12 arm64 has no
	// interpreter here, so verify stands in for it).
	layer := testutil.Unzip(t, arts["SharedLayer-x86_64"].Path)
	fn311 := testutil.Unzip(t, arts["Py311Fn"].Path)
	out := runPy(t, []string{testutil.Python(t, "3.11")}, []string{fn311, filepath.Join(layer, "python")},
		`import app, pydantic; print(app.handler({"a": 1}, None), pydantic.VERSION)`)
	if !strings.Contains(out, `"python":"3.11"`) || !strings.Contains(out, "2.11.7") {
		t.Errorf("3.11: %s", out)
	}
	fn313 := testutil.Unzip(t, arts["Py313Fn"].Path)
	out = runPy(t, []string{testutil.Python(t, "3.13")}, []string{fn313}, `import app; print(app.handler([1], None))`)
	if !strings.Contains(out, `"python":"3.13"`) {
		t.Errorf("3.13: %s", out)
	}
	armLayer := testutil.Unzip(t, arts["ArmLayer-arm64"].Path)
	out = runPy(t, testutil.ARM64Python(t), []string{filepath.Join(armLayer, "python")},
		"import platform, pydantic, pydantic_core\nclass M(pydantic.BaseModel):\n    a: int\nprint(platform.machine(), M.model_validate({'a': '7'}).a)")
	if out != "aarch64 7" {
		t.Errorf("arm64 layer under qemu: %s", out)
	}

	// A second build with no change reuses everything without touching the
	// network: offline on an empty cache proves it (the index settings are
	// inputs: another --index-url would rebuild).
	rep2 := mustBuild(t, BuildOptions{Dir: dir, Env: EnvOptions{CacheDir: t.TempDir(), Offline: true}})
	for _, a := range rep2.Artifacts {
		if a.Unchanged == nil || !*a.Unchanged {
			t.Errorf("%s rebuilt with no change", a.Name)
		}
		if a.SHA256 != arts[a.Name].SHA256 {
			t.Errorf("%s: sha256 changed", a.Name)
		}
	}
	// Touching one function's code rebuilds that one alone.
	testutil.WriteFiles(t, dir, map[string]string{"fn313/app.py": samHandler + "\n# changed\n"})
	rep3 := mustBuild(t, BuildOptions{Dir: dir, Env: EnvOptions{CacheDir: testutil.SharedCache(t)}})
	for _, a := range rep3.Artifacts {
		rebuilt := a.Unchanged == nil || !*a.Unchanged
		if rebuilt != (a.Name == "Py313Fn") {
			t.Errorf("%s: rebuilt=%v after changing Py313Fn's code", a.Name, rebuilt)
		}
	}
}

func keys(m map[string]*ArtifactReport) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// pytools returns the bin folder of the private venv with uv and poetry.
func pytools(t *testing.T) string {
	t.Helper()
	cmd := exec.Command("bash", filepath.Join(testutil.RepoRoot(t), "scripts", "setup-pytools.sh"))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("scripts/setup-pytools.sh: %v", err)
	}
	return strings.TrimSpace(string(out))
}

func indexURL(t *testing.T) string {
	t.Helper()
	cfg, err := index.DiscoverConfig(index.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	return cfg.IndexURL
}

// lockedVersions reads name -> version of the registry packages of a
// uv.lock or poetry.lock.
func lockedVersions(t *testing.T, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Package []struct {
			Name    string         `toml:"name"`
			Version string         `toml:"version"`
			Source  map[string]any `toml:"source"`
		} `toml:"package"`
	}
	if err := toml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, p := range doc.Package {
		if _, virtual := p.Source["virtual"]; virtual {
			continue
		}
		if _, editable := p.Source["editable"]; editable {
			continue
		}
		out[normName(p.Name)] = p.Version
	}
	return out
}

const lockProject = `[project]
name = "shop"
version = "0.1.0"
requires-python = ">=3.12"
dependencies = ["requests==2.32.4", "pydantic>=2.10,<2.12"]

[tool.lambdapack]
runtime = "python3.12"
architecture = "arm64"

[tool.lambdapack.layers.deps]
lock = "%s"
`

// A pyproject.toml project with a real uv.lock (written by uv): the layer
// holds exactly the locked versions.
func TestBuildFromUVLock(t *testing.T) {
	bin := pytools(t)
	dir := t.TempDir()
	testutil.WriteFiles(t, dir, map[string]string{"pyproject.toml": fmt.Sprintf(lockProject, "uv.lock")})
	cmd := exec.Command(filepath.Join(bin, "uv"), "lock", "--cache-dir", filepath.Join(testutil.SharedCache(t), "..", "uv-cache"))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "UV_DEFAULT_INDEX="+indexURL(t), "UV_NO_PROGRESS=1",
		"UV_PYTHON="+testutil.Python(t, "3.12"), "UV_PYTHON_DOWNLOADS=never")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("uv lock: %v\n%s", err, out)
	}
	want := lockedVersions(t, filepath.Join(dir, "uv.lock"))
	rep := mustBuild(t, BuildOptions{Dir: dir, Env: EnvOptions{CacheDir: testutil.SharedCache(t)}})
	a := byArtifact(rep)["deps-arm64"]
	if a == nil {
		t.Fatalf("no deps-arm64 layer: %v", keys(byArtifact(rep)))
	}
	got := distVersions(t, a.Path)
	if !equalMaps(got, want) {
		t.Errorf("layer holds %v, uv.lock says %v", got, want)
	}
}

// A pyproject.toml project with a real poetry.lock (written by poetry).
func TestBuildFromPoetryLock(t *testing.T) {
	bin := pytools(t)
	dir := t.TempDir()
	// poetry reads the index from its own config: name the one the product
	// discovers as the primary source.
	testutil.WriteFiles(t, dir, map[string]string{"pyproject.toml": fmt.Sprintf(lockProject, "poetry.lock") +
		fmt.Sprintf("\n[tool.poetry]\npackage-mode = false\n\n[[tool.poetry.source]]\nname = \"index\"\nurl = %q\npriority = \"primary\"\n", indexURL(t))})
	cmd := exec.Command(filepath.Join(bin, "poetry"), "lock", "--no-interaction")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "POETRY_CACHE_DIR="+filepath.Join(testutil.SharedCache(t), "..", "poetry-cache"), "POETRY_VIRTUALENVS_CREATE=false")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("poetry lock: %v\n%s", err, out)
	}
	want := lockedVersions(t, filepath.Join(dir, "poetry.lock"))
	rep := mustBuild(t, BuildOptions{Dir: dir, Env: EnvOptions{CacheDir: testutil.SharedCache(t)}})
	a := byArtifact(rep)["deps-arm64"]
	if a == nil {
		t.Fatalf("no deps-arm64 layer: %v", keys(byArtifact(rep)))
	}
	got := distVersions(t, a.Path)
	if !equalMaps(got, want) {
		t.Errorf("layer holds %v, poetry.lock says %v", got, want)
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
