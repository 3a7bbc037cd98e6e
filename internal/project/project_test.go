package project

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lambdapack/lambdapack/internal/target"
)

// The serverless.yml of seed 000: no provider runtime, a Python function with
// its own runtime beside a Node.js one. The Python function must get its own
// runtime (never "undefined"), the Node.js one a note.
const seed000 = `service: my-service
frameworkVersion: '3'

plugins:
  - serverless-python-requirements

provider:
  name: aws
  region: ap-northeast-1
  logRetentionInDays: 7
  stage: dev
  # runtime: python3.11

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
`

func TestServerlessSeed000(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"serverless.yml":   seed000,
		"handler_py.py":    "def main(event, context):\n    return 1\n",
		"handler_js.js":    "exports.main = async () => 1;\n",
		"requirements.txt": "requests==2.32.4\n",
	})
	cfg := load(t, dir)
	if cfg.Kind != KindServerless {
		t.Errorf("kind = %q", cfg.Kind)
	}
	want := fnSum{Name: "main_py", Handler: "handler_py.main", Runtime: "python3.11", Arch: "x86_64", Pkg: "folder:.", Deps: "req:requirements.txt"}
	if diff := cmp.Diff(want, fn(t, cfg, "main_py")); diff != "" {
		t.Errorf("main_py (-want +got):\n%s", diff)
	}
	if f, _ := cfg.Function("main_py"); f.Pos != (Pos{File: cfg.File, Line: 19}) {
		t.Errorf("main_py at %v, want line 19", f.Pos)
	}
	if got := fn(t, cfg, "main_js").Pkg; got != "skip:runtime nodejs20.x is not a Python runtime" {
		t.Errorf("main_js: %s", got)
	}
	wantNote(t, cfg, "dockerizePip is not needed")
}

func TestServerlessDefaultsVariablesAndLayer(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"serverless.yml": `service: svc
params:
  arch: arm64
provider:
  name: aws
  runtime: ${self:custom.rt}
  architecture: ${self:params.arch}
  stage: ${opt:stage, 'dev'}
package:
  patterns:
    - '!tests/**'
    - 'src/**'
custom:
  rt: python3.12
  pythonRequirements:
    fileName: requirements-prod.txt
    layer: true
    noDeploy: [boto3, botocore]
    slim: true
    slimPatterns: ['**/*.md']
    pipCmdExtraArgs: ['--no-deps']
functions:
  api:
    handler: app.handler
    layers:
      - Ref: PythonRequirementsLambdaLayer
  worker:
    handler: ${env:WORKER_MODULE, 'jobs'}.run
    runtime: python3.13
    architecture: x86_64
`,
		"app.py":                "",
		"jobs.py":               "",
		"requirements-prod.txt": "numpy\n",
	})
	cfg := load(t, dir)
	api, _ := cfg.Function("api")
	worker, _ := cfg.Function("worker")
	if api == nil || worker == nil {
		t.Fatalf("functions: %+v", cfg.Functions)
	}
	if api.Runtime != "python3.12" || api.Arch != target.ARM64 {
		t.Errorf("api target = %s/%s, want provider defaults python3.12/arm64", api.Runtime, api.Arch)
	}
	if worker.Runtime != "python3.13" || worker.Arch != target.X86_64 || worker.Handler != "jobs.run" {
		t.Errorf("worker = %+v", worker)
	}
	if diff := cmp.Diff([]string{"pythonRequirements@arm64"}, fn(t, cfg, "api").Layers); diff != "" {
		t.Errorf("api layers: %s", diff)
	}
	if !api.Deps.Empty() {
		t.Errorf("with layer: true the function zip must not bundle requirements: %+v", api.Deps)
	}
	if got := selected(t, cfg, api.Package, []string{"app.py", "jobs.py", "tests/test_app.py", "src/x.py", "serverless.yml"}); !cmp.Equal(got, []string{"app.py", "jobs.py", "src/x.py"}) {
		t.Errorf("api selects %v", got)
	}
	if diff := cmp.Diff(Options{ExcludePackages: []string{"boto3", "botocore"}, Slim: true, StripPatterns: []string{"**/*.md"}}, api.Options); diff != "" {
		t.Errorf("options: %s", diff)
	}
	l, ok := cfg.Layer("pythonRequirements")
	if !ok {
		t.Fatal("no pythonRequirements layer")
	}
	if diff := cmp.Diff([]string{"python3.12", "python3.13"}, l.Runtimes); diff != "" {
		t.Errorf("layer runtimes: %s", diff)
	}
	if diff := cmp.Diff([]target.Arch{target.ARM64, target.X86_64}, l.Archs); diff != "" {
		t.Errorf("layer archs: %s", diff)
	}
	wantNote(t, cfg, "pipCmdExtraArgs does not carry over")
}

const samTemplate = `AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Parameters:
  Py:
    Type: String
    Default: python3.13
Globals:
  Function:
    Runtime: python3.11
    Timeout: 10
Resources:
  OldFn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: old/
      Handler: app.handler
      Layers:
        - !Ref DepsLayer
  ArmFn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: arm/
      Handler: app.handler
      Runtime: python3.12
      Architectures: [arm64]
      Layers:
        - !Sub arn:aws:lambda:${AWS::Region}:123456789012:layer:other:1
  NewFn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: new
      Handler: pkg.main.handler
      Runtime: !Ref Py
      Events:
        Api:
          Type: Api
          Properties: {Path: /, Method: get}
  DepsLayer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: layer/
      CompatibleRuntimes: [python3.11, python3.12]
    Metadata:
      BuildMethod: python3.11
      BuildArchitecture: x86_64
  Bucket:
    Type: AWS::S3::Bucket
Outputs:
  Arn:
    Value: !GetAtt ArmFn.Arn
`

func TestSAM(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"template.yaml":          samTemplate,
		"old/app.py":             "",
		"old/requirements.txt":   "requests\n",
		"arm/app.py":             "",
		"new/pkg/__init__.py":    "",
		"new/pkg/main.py":        "",
		"layer/requirements.txt": "numpy\n",
	})
	cfg := load(t, dir)
	var got []fnSum
	for _, f := range cfg.Functions {
		got = append(got, summarize(f))
	}
	want := []fnSum{
		{Name: "OldFn", Handler: "app.handler", Runtime: "python3.11", Arch: "x86_64", Pkg: "folder:old", Deps: "req:old/requirements.txt", Layers: []string{"DepsLayer@x86_64"}},
		{Name: "ArmFn", Handler: "app.handler", Runtime: "python3.12", Arch: "arm64", Pkg: "folder:arm", External: []string{"!Sub arn:aws:lambda:${AWS::Region}:123456789012:layer:other:1"}},
		{Name: "NewFn", Handler: "pkg.main.handler", Runtime: "python3.13", Arch: "x86_64", Pkg: "folder:new"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("functions (-want +got):\n%s", diff)
	}
	// BuildMethod python3.11: built for that runtime into python/, as sam
	// build does; CompatibleRuntimes is what the template declares.
	if diff := cmp.Diff(lySum{Name: "DepsLayer", Pkg: "folder:layer>python/", Deps: "req:layer/requirements.txt", Runtimes: []string{"python3.11"}, Archs: []string{"x86_64"}}, ly(t, cfg, "DepsLayer")); diff != "" {
		t.Errorf("layer (-want +got):\n%s", diff)
	}
	l, _ := cfg.Layer("DepsLayer")
	if !cmp.Equal(l.CompatibleRuntimes, []string{"python3.11", "python3.12"}) || l.Pos.Line != 38 {
		t.Errorf("layer declares %v at line %d", l.CompatibleRuntimes, l.Pos.Line)
	}
	// The !Sub layer ARN is not static: noted, not lost silently.
	wantNote(t, cfg, "!Sub arn:aws:lambda")
}

const pyprojectTOML = `[project]
name = "shop"
version = "0.1.0"
dependencies = ["requests"]

[tool.lambdapack]
runtime = "python3.12"
architecture = "arm64"

[tool.lambdapack.layers.deps]
lock = "uv.lock"
runtimes = ["python3.12"]
architectures = ["arm64", "x86_64"]
exclude-packages = ["boto3"]

[tool.lambdapack.functions.api]
handler = "app.handler"
source = "src"
layers = ["deps", "arn:aws:lambda:us-east-1:123456789012:layer:x:3"]
exclude = ["tests/**"]

[tool.lambdapack.functions.batch]
handler = "batch.run"
source = "src"
runtime = "python3.13"
architecture = "amd64"
requirements = "batch-requirements.txt"
`

func TestPyproject(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"pyproject.toml":         pyprojectTOML,
		"uv.lock":                "version = 1\n",
		"src/app.py":             "",
		"src/batch.py":           "",
		"batch-requirements.txt": "numpy\n",
	})
	cfg := load(t, dir)
	if cfg.Kind != KindPyproject {
		t.Errorf("kind %q", cfg.Kind)
	}
	want := fnSum{Name: "api", Handler: "app.handler", Runtime: "python3.12", Arch: "arm64", Pkg: "folder:src", Layers: []string{"deps@arm64"}, External: []string{"arn:aws:lambda:us-east-1:123456789012:layer:x:3"}}
	if diff := cmp.Diff(want, fn(t, cfg, "api")); diff != "" {
		t.Errorf("api (-want +got):\n%s", diff)
	}
	want = fnSum{Name: "batch", Handler: "batch.run", Runtime: "python3.13", Arch: "x86_64", Pkg: "folder:src", Deps: "req:batch-requirements.txt"}
	if diff := cmp.Diff(want, fn(t, cfg, "batch")); diff != "" {
		t.Errorf("batch (-want +got):\n%s", diff)
	}
	l, _ := cfg.Layer("deps")
	if l == nil || l.Deps.Lock != "uv.lock" || len(l.Archs) != 2 || l.Options.ExcludePackages[0] != "boto3" {
		t.Errorf("layer %+v", l)
	}
	api, _ := cfg.Function("api")
	if api.Pos.Line != 16 {
		t.Errorf("api defined at line %d, want 16", api.Pos.Line)
	}
	if got := selected(t, cfg, api.Package, []string{"app.py", "tests/t.py", "__pycache__/app.cpython-312.pyc", "lib/x.pyc"}); !cmp.Equal(got, []string{"app.py"}) {
		t.Errorf("api selects %v", got)
	}
}

func TestPrereleaseKey(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"pyproject.toml": "[tool.lambdapack]\nruntime = \"python3.12\"\nprerelease = \"allow\"\n[tool.lambdapack.functions.f]\nhandler = \"app.h\"\n",
		"app.py":         "",
	})
	cfg, err := Load(dir, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Prerelease != "allow" {
		t.Errorf("prerelease %q, want allow", cfg.Prerelease)
	}
}

func TestDiscoverOrder(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"pyproject.toml":  "[project]\nname='x'\n", // no [tool.lambdapack]: not a lambdapack config
		"lambdapack.toml": "[functions.f]\nhandler='a.b'\nruntime='python3.12'\n",
		"serverless.yml":  "functions: {}\n",
		"a.py":            "",
	})
	file, kind, err := Discover(dir)
	if err != nil || kind != KindLambdapack || filepath.Base(file) != "lambdapack.toml" {
		t.Errorf("Discover = %s %s %v", file, kind, err)
	}
	if _, _, err := Discover(t.TempDir()); !errors.Is(err, ErrNoConfig) {
		t.Errorf("empty folder: %v", err)
	}
}

// Each mistake gets the file, the line and what to write instead.
func TestConfigErrors(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"unknown runtime", map[string]string{
			"lambdapack.toml": "runtime = \"python3.12\"\n\n[functions.f]\nhandler = \"app.h\"\nruntime = \"python3.8\"\n",
			"app.py":          "",
		}, []string{"lambdapack.toml:3:", "python3.8", "no longer accepts", "use a supported runtime: python3.14, python3.13, python3.12, python3.11"}},
		{"missing handler file", map[string]string{
			"lambdapack.toml": "runtime = \"python3.12\"\n[functions.f]\nhandler = \"missing.handler\"\n",
		}, []string{"lambdapack.toml:2:", `needs missing.py`, "create missing.py"}},
		{"undefined layer", map[string]string{
			"lambdapack.toml": "runtime = \"python3.12\"\n[functions.f]\nhandler = \"app.h\"\nlayers = [\"nope\"]\n",
			"app.py":          "",
		}, []string{"lambdapack.toml:4:", `layer "nope"`, "define it under layers"}},
		{"unknown key", map[string]string{
			"lambdapack.toml": "runtime = \"python3.12\"\n[functions.f]\nhandler = \"app.h\"\nrequirement = \"r.txt\"\n",
			"app.py":          "",
		}, []string{"lambdapack.toml:4:", `unknown key "requirement"`, `did you mean "requirements"?`}},
		{"unknown prerelease mode", map[string]string{
			"lambdapack.toml": "runtime = \"python3.12\"\nprerelease = \"sometimes\"\n[functions.f]\nhandler = \"app.h\"\n",
			"app.py":          "",
		}, []string{"lambdapack.toml:2:", `unknown pre-release mode "sometimes"`, "use one of if-necessary-or-explicit, allow"}},
		{"toml syntax", map[string]string{
			"lambdapack.toml": "runtime = \"python3.12\"\n[functions.f]\nhandler = \n",
		}, []string{"lambdapack.toml:3:", "TOML syntax error"}},
		{"yaml syntax", map[string]string{
			"serverless.yml": "provider:\n  runtime: python3.12\nfunctions:\n  f:\n    handler: app.h\n   bad: [\n",
		}, []string{"serverless.yml:", "YAML syntax error"}},
		{"sam unknown runtime", map[string]string{
			"template.yaml": "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Runtime: python3.99\n      Handler: app.h\n      CodeUri: .\n",
			"app.py":        "",
		}, []string{"template.yaml:2:", "python3.99"}},
		{"sam undefined layer", map[string]string{
			"template.yaml": "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Runtime: python3.12\n      Handler: app.h\n      Layers: [!Ref Missing]\n",
			"app.py":        "",
		}, []string{"template.yaml:7:", "!Ref Missing"}},
		{"serverless no runtime", map[string]string{
			"serverless.yml": "provider:\n  name: aws\nfunctions:\n  f:\n    handler: app.h\n",
			"app.py":         "",
		}, []string{"serverless.yml:4:", "has no runtime"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantErr(t, loadErr(t, c.files), c.want...)
		})
	}
}

// A SAM template kept as serverless.yaml (built with sam build -t
// serverless.yaml) is read as the SAM template it is, found and named with
// --config alike; a serverless.yml that mentions no SAM key stays one.
func TestServerlessNamedSAMTemplate(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"serverless.yaml": "AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: src/\n      Handler: app.handler\n      Runtime: python3.12\n",
		"src/app.py":      "",
	})
	for _, config := range []string{"", "serverless.yaml"} {
		cfg, err := Load(dir, LoadOptions{Config: config})
		if err != nil {
			t.Fatalf("config %q: %v", config, err)
		}
		if cfg.Kind != KindSAM || len(cfg.Functions) != 1 || cfg.Functions[0].Name != "Fn" {
			t.Errorf("config %q: kind %s, functions %v", config, cfg.Kind, cfg.Functions)
		}
	}
	sls := writeTree(t, map[string]string{
		"serverless.yml": "service: s\n# Transform: in a comment is no SAM key\nprovider: {name: aws, runtime: python3.12}\nfunctions:\n  f:\n    handler: app.handler\n",
		"app.py":         "",
	})
	if _, kind, err := Discover(sls); err != nil || kind != KindServerless {
		t.Errorf("serverless.yml: kind %s, %v", kind, err)
	}
}
