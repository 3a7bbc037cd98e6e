package project

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lambdapack/lambdapack/internal/target"
	"github.com/lambdapack/lambdapack/internal/testutil"
)

// writeTree writes files (slash paths -> contents) under a temp folder.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	testutil.WriteFiles(t, dir, files)
	return dir
}

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
	cfg, err := Load(dir, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Kind != KindServerless {
		t.Errorf("kind = %q", cfg.Kind)
	}
	if len(cfg.Functions) != 1 {
		t.Fatalf("functions = %+v, want only main_py", cfg.Functions)
	}
	f := cfg.Functions[0]
	want := Function{Name: "main_py", Handler: "handler_py.main", Source: ".", Runtime: "python3.11", Arch: target.X86_64,
		Deps: Deps{Requirements: "requirements.txt"}, Pos: Pos{File: cfg.File, Line: 19}}
	if diff := cmp.Diff(want, f); diff != "" {
		t.Errorf("main_py (-want +got):\n%s", diff)
	}
	notes := joinNotes(cfg.Notes)
	for _, s := range []string{"main_js skipped: runtime nodejs20.x is not a Python runtime", "dockerizePip is not needed"} {
		if !strings.Contains(notes, s) {
			t.Errorf("notes %q lack %q", notes, s)
		}
	}
}

func joinNotes(ns []Note) string {
	var b strings.Builder
	for _, n := range ns {
		b.WriteString(n.String() + "\n")
	}
	return b.String()
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
	cfg, err := Load(dir, LoadOptions{Env: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
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
	if diff := cmp.Diff([]string{"pythonRequirements"}, api.Layers); diff != "" {
		t.Errorf("api layers: %s", diff)
	}
	if !api.Deps.Empty() {
		t.Errorf("with layer: true the function zip must not bundle requirements: %+v", api.Deps)
	}
	if diff := cmp.Diff([]string{"tests/**"}, api.Excludes); diff != "" {
		t.Errorf("excludes: %s", diff)
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
	if !strings.Contains(joinNotes(cfg.Notes), "pipCmdExtraArgs does not carry over") {
		t.Errorf("notes: %s", joinNotes(cfg.Notes))
	}
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
	cfg, err := Load(dir, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	type fnSum struct {
		Name, Runtime, Source, Req string
		Arch                       target.Arch
		Layers, Ext                []string
	}
	var got []fnSum
	for _, f := range cfg.Functions {
		got = append(got, fnSum{f.Name, f.Runtime, f.Source, f.Deps.Requirements, f.Arch, f.Layers, f.ExternalLayers})
	}
	want := []fnSum{
		{"OldFn", "python3.11", "old", "old/requirements.txt", target.X86_64, []string{"DepsLayer"}, nil},
		{"ArmFn", "python3.12", "arm", "", target.ARM64, nil, nil},
		{"NewFn", "python3.13", "new", "", target.X86_64, nil, nil},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("functions (-want +got):\n%s", diff)
	}
	l, ok := cfg.Layer("DepsLayer")
	if !ok {
		t.Fatal("no DepsLayer")
	}
	if diff := cmp.Diff(Layer{Name: "DepsLayer", Deps: Deps{Requirements: "layer/requirements.txt"}, Runtimes: []string{"python3.11", "python3.12"},
		Archs: []target.Arch{target.X86_64}, Pos: Pos{File: cfg.File, Line: 38}}, *l); diff != "" {
		t.Errorf("layer (-want +got):\n%s", diff)
	}
	// The !Sub layer ARN is not static: noted, not lost silently.
	if !strings.Contains(joinNotes(cfg.Notes), "!Sub arn:aws:lambda") {
		t.Errorf("notes: %s", joinNotes(cfg.Notes))
	}
}

const pyproject = `[project]
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
		"pyproject.toml":         pyproject,
		"uv.lock":                "version = 1\n",
		"src/app.py":             "",
		"src/batch.py":           "",
		"batch-requirements.txt": "numpy\n",
	})
	cfg, err := Load(dir, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Kind != KindPyproject {
		t.Errorf("kind %q", cfg.Kind)
	}
	api, _ := cfg.Function("api")
	batch, _ := cfg.Function("batch")
	if api == nil || batch == nil {
		t.Fatalf("functions %+v", cfg.Functions)
	}
	if api.Runtime != "python3.12" || api.Arch != target.ARM64 || batch.Runtime != "python3.13" || batch.Arch != target.X86_64 {
		t.Errorf("targets: api %s/%s batch %s/%s", api.Runtime, api.Arch, batch.Runtime, batch.Arch)
	}
	if diff := cmp.Diff([]string{"arn:aws:lambda:us-east-1:123456789012:layer:x:3"}, api.ExternalLayers); diff != "" {
		t.Error(diff)
	}
	l, _ := cfg.Layer("deps")
	if l == nil || l.Deps.Lock != "uv.lock" || len(l.Archs) != 2 || l.Options.ExcludePackages[0] != "boto3" {
		t.Errorf("layer %+v", l)
	}
	if api.Pos.Line != 16 {
		t.Errorf("api defined at line %d, want 16", api.Pos.Line)
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
		}, []string{"lambdapack.toml:3:", "python3.8"}},
		{"missing handler file", map[string]string{
			"lambdapack.toml": "runtime = \"python3.12\"\n[functions.f]\nhandler = \"missing.handler\"\n",
		}, []string{"lambdapack.toml:2:", `needs missing.py`, "create missing.py"}},
		{"undefined layer", map[string]string{
			"lambdapack.toml": "runtime = \"python3.12\"\n[functions.f]\nhandler = \"app.h\"\nlayers = [\"nope\"]\n",
			"app.py":          "",
		}, []string{"lambdapack.toml:2:", `layer "nope"`, "define it under layers"}},
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
		{"layer for another architecture", map[string]string{
			"lambdapack.toml": "runtime = \"python3.12\"\n[layers.deps]\ndependencies = [\"six\"]\narchitectures = [\"x86_64\"]\n[functions.f]\nhandler = \"app.h\"\narchitecture = \"arm64\"\nlayers = [\"deps\"]\n",
			"app.py":          "",
		}, []string{"lambdapack.toml:5:", "runs on arm64 but its layer deps is built for [x86_64]", "add arm64 to layer deps's architectures"}},
		{"layer for another runtime", map[string]string{
			"lambdapack.toml": "[layers.deps]\ndependencies = [\"six\"]\nruntimes = [\"python3.13\"]\n[functions.f]\nhandler = \"app.h\"\nruntime = \"python3.12\"\nlayers = [\"deps\"]\n",
			"app.py":          "",
		}, []string{"runs on python3.12 but its layer deps is built for python3.13"}},
		{"serverless no runtime", map[string]string{
			"serverless.yml": "provider:\n  name: aws\nfunctions:\n  f:\n    handler: app.h\n",
			"app.py":         "",
		}, []string{"serverless.yml:4:", "has no runtime"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := writeTree(t, c.files)
			_, err := Load(dir, LoadOptions{})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}
