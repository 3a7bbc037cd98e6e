package project

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestServerlessPackagePatterns(t *testing.T) {
	files := map[string]string{
		"serverless.yml": `service: s
provider: {name: aws, runtime: python3.12}
package:
  individually: true
  patterns:
    - '!**/*'
    - handler.py
    - 'lib/**'
    - '!lib/**/*_test.py'
functions:
  api:
    handler: handler.main
  legacy:
    handler: handler.main
    package:
      patterns: ['tests/fixtures/**']
      exclude: ['lib/**']
      include: ['lib/keep.py']
`,
		"handler.py":              "",
		"lib/util.py":             "",
		"lib/keep.py":             "",
		"lib/util_test.py":        "",
		"tests/test_handler.py":   "",
		"tests/fixtures/a.json":   "",
		"README.md":               "",
		"__pycache__/handler.pyc": "",
	}
	all := []string{"handler.py", "lib/util.py", "lib/keep.py", "lib/util_test.py", "tests/test_handler.py", "tests/fixtures/a.json", "README.md", "__pycache__/handler.pyc", "serverless.yml"}
	cfg := load(t, writeTree(t, files))
	api, _ := cfg.Function("api")
	if diff := cmp.Diff([]string{"handler.py", "lib/util.py", "lib/keep.py"}, selected(t, cfg, api.Package, all)); diff != "" {
		t.Errorf("api (-want +got):\n%s", diff)
	}
	// Serverless puts every exclude first, then every include and pattern:
	// the function's exclude of lib/** comes before the service's lib/**
	// pattern, which re-includes it; its own include re-includes keep.py.
	legacy, _ := cfg.Function("legacy")
	if diff := cmp.Diff([]string{"handler.py", "lib/util.py", "lib/keep.py", "tests/fixtures/a.json"}, selected(t, cfg, legacy.Package, all)); diff != "" {
		t.Errorf("legacy (-want +got):\n%s", diff)
	}
	// A pattern set that leaves out the handler is an error naming it.
	files["serverless.yml"] = "service: s\nprovider: {name: aws, runtime: python3.12}\npackage:\n  patterns: ['!**', 'lib/**']\nfunctions:\n  api:\n    handler: handler.main\n"
	wantErr(t, loadErr(t, files), "serverless.yml:6:", `handler "handler.main" needs handler.py, which is excluded by "!**" (package.patterns)`)
}

func TestServerlessVariables(t *testing.T) {
	cfg, err := Load(writeTree(t, map[string]string{
		"serverless.yml": `service: vars
params:
  default: {memory: 256}
  prod: {arch: arm64}
custom:
  rt: python3.13
  stages:
    prod: {module: svc}
provider:
  name: aws
  stage: ${opt:stage, 'dev'}
  runtime: ${env:PY_RUNTIME, self:custom.rt}
  architecture: ${param:arch, 'x86_64'}
  environment:
    TABLE: ${self:service}-${sls:stage}-items
    SECRET: ${ssm:/vars/${sls:stage}/secret}
    BUCKET: !Ref Bucket
functions:
  api:
    handler: app.handler
    module: ${self:custom.stages.${sls:stage}.module}
    environment:
      MEMORY: ${param:memory}
`,
		"svc/app.py": "",
	}), LoadOptions{Stage: "prod", Env: noEnv, Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	want := fnSum{Name: "api", Handler: "app.handler", Runtime: "python3.13", Arch: "arm64", Pkg: "folder:svc",
		Env: []string{"BUCKET~!Ref Bucket", "MEMORY=256", "SECRET~${ssm:/vars/${sls:stage}/secret}", "TABLE=vars-prod-items"}}
	if diff := cmp.Diff(want, fn(t, cfg, "api")); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// A value that decides what is built and cannot be resolved fails the build
// with the variable and its line; nothing is skipped silently.
func TestServerlessUnresolvableVariables(t *testing.T) {
	for _, c := range []struct {
		name string
		yml  string
		want []string
	}{
		{"ssm runtime", "provider:\n  name: aws\n  runtime: ${ssm:/cfg/runtime}\nfunctions:\n  f:\n    handler: app.h\n",
			[]string{"serverless.yml:3:", "provider.runtime", "${ssm:/cfg/runtime} is only known at deploy time"}},
		{"self cycle", "provider:\n  name: aws\n  runtime: ${self:custom.a}\ncustom:\n  a: ${self:custom.b}\n  b: ${self:custom.a}\nfunctions:\n  f:\n    handler: app.h\n",
			[]string{"serverless.yml:3:", "refers back to itself", "${self:custom.a} -> ${self:custom.b} -> ${self:custom.a}"}},
		{"undefined self", "provider:\n  name: aws\n  runtime: python3.12\nfunctions:\n  f:\n    handler: ${self:custom.handler}\n",
			[]string{"serverless.yml:6:", "functions.f.handler", "self has no custom.handler"}},
		{"env without fallback", "provider:\n  name: aws\n  runtime: python3.12\nfunctions:\n  f:\n    handler: app.h\n    module: ${env:MODULE}\n",
			[]string{"serverless.yml:7:", "environment variable MODULE is not set"}},
		{"file outside", "provider: ${file(../common/provider.yml)}\nfunctions:\n  f:\n    handler: app.h\n",
			[]string{"serverless.yml:1:", "${file(../common/provider.yml)} is outside the project folder"}},
		{"missing functions file", "provider:\n  name: aws\n  runtime: python3.12\nfunctions: ${file(./functions.yml)}\n",
			[]string{"serverless.yml:4:", "functions.yml does not exist"}},
		{"module outside", "provider:\n  name: aws\n  runtime: python3.12\nfunctions:\n  f:\n    handler: app.h\n    module: ../../x\n",
			[]string{"serverless.yml:7:", "functions.f.module ../../x is outside the service folder"}},
		{"function name escapes", "provider:\n  name: aws\n  runtime: python3.12\nfunctions:\n  ../../evil:\n    handler: app.h\n",
			[]string{"serverless.yml:5:", `function name "../../evil" is not a valid Lambda name`}},
		{"layer name escapes", "provider:\n  name: aws\n  runtime: python3.12\nlayers:\n  ../x:\n    path: layer\n",
			[]string{"serverless.yml:5:", `layer name "../x" is not a valid Lambda name`}},
		{"duplicate function", "provider:\n  name: aws\n  runtime: python3.12\nfunctions:\n  f:\n    handler: app.h\n  f:\n    handler: app.g\n",
			[]string{"serverless.yml:7:", `key "f" is written twice in the same mapping (lines 5 and 7)`}},
		{"deprecated", "provider:\n  name: aws\n  runtime: python3.7\nfunctions:\n  f:\n    handler: app.h\n",
			[]string{"serverless.yml:5:", "python3.7 is deprecated and Lambda no longer accepts", "python3.11"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			wantErr(t, loadErr(t, map[string]string{"serverless.yml": c.yml, "app.py": "", "layer/python/x.py": ""}), c.want...)
		})
	}
}

func TestServerlessFileVariables(t *testing.T) {
	cfg := load(t, writeTree(t, map[string]string{
		"serverless.yml": `service: files
provider: ${file(./config/provider.yml)}
custom: ${file(./config/custom.json)}
functions:
  - ${file(./functions/api.yml)}
  - ${file(./functions/jobs.yml):functions}
`,
		"config/provider.yml": "name: aws\nruntime: python3.12\narchitecture: ${file(./config/custom.json):arch}\n",
		"config/custom.json":  `{"arch": "arm64", "pythonRequirements": {"slim": true}}`,
		"functions/api.yml":   "api:\n  handler: api.handler\n",
		"functions/jobs.yml":  "functions:\n  nightly:\n    handler: jobs.nightly\n    runtime: python3.11\n",
		"api.py":              "",
		"jobs.py":             "",
	}))
	if got := fn(t, cfg, "api"); got.Runtime != "python3.12" || got.Arch != "arm64" {
		t.Errorf("api %+v", got)
	}
	if got := fn(t, cfg, "nightly"); got.Runtime != "python3.11" || got.Handler != "jobs.nightly" {
		t.Errorf("nightly %+v", got)
	}
	if f, _ := cfg.Function("nightly"); !f.Options.Slim || !strings.HasSuffix(f.Pos.File, "functions/jobs.yml") || f.Pos.Line != 2 {
		t.Errorf("nightly options %+v at %v", f.Options, f.Pos)
	}
}

// A service that only publishes layers builds them.
func TestServerlessLayersOnly(t *testing.T) {
	cfg := load(t, writeTree(t, map[string]string{
		"serverless.yml": `service: shared-layers
provider: {name: aws}
layers:
  common-utils:
    path: layers/common
    compatibleRuntimes: [python3.12, python3.13]
    compatibleArchitectures: [arm64, x86_64]
    package:
      patterns: ['!python/**/tests/**']
  vendored:
    package:
      artifact: dist/vendored.zip
`,
		"layers/common/python/common_utils/__init__.py": "",
		"layers/common/python/common_utils/tests/t.py":  "",
		"dist/vendored.zip":                             "PK\x05\x06" + strings.Repeat("\x00", 18),
	}))
	if len(cfg.Functions) != 0 {
		t.Errorf("functions %v", cfg.Functions)
	}
	if diff := cmp.Diff(lySum{Name: "common-utils", Pkg: "folder:layers/common", Runtimes: []string{"python3.12", "python3.13"}, Archs: []string{"arm64"}}, ly(t, cfg, "common-utils")); diff != "" {
		t.Error(diff)
	}
	l, _ := cfg.Layer("common-utils")
	if l.Package.Files.Match("python/common_utils/tests/t.py") || !l.Package.Files.Match("python/common_utils/__init__.py") {
		t.Error("layer patterns")
	}
	if got := ly(t, cfg, "vendored").Pkg; got != "skip:it names no Python runtime (compatibleRuntimes) and no Python function of the project uses it" {
		t.Errorf("vendored: %s", got)
	}
}

func TestServerlessLayersAndPlugins(t *testing.T) {
	cfg := load(t, writeTree(t, map[string]string{
		"serverless.yml": `service: app
plugins:
  - serverless-python-requirements
  - serverless-plugin-warmup
  - serverless-wsgi
  - serverless-custom-thing
provider:
  name: aws
  runtime: python3.12
  layers:
    - arn:aws:lambda:us-east-1:123456789012:layer:shared:4
custom:
  wsgi:
    app: app.app
layers:
  my-deps:
    path: deps
    compatibleRuntimes: [python3.12]
functions:
  web:
    handler: wsgi_handler.handler
  worker:
    handler: worker.run
    layers:
      - {Ref: MyDashdepsLambdaLayer}
      - ${cf:infra.SharedLayerArn}
`,
		"app.py":                 "",
		"worker.py":              "",
		"requirements.txt":       "flask==3.0.3\n",
		"deps/python/helpers.py": "",
	}))
	web, _ := cfg.Function("web")
	if diff := cmp.Diff(fnSum{Name: "web", Handler: "wsgi_handler.handler", Runtime: "python3.12", Arch: "x86_64", Pkg: "folder:.",
		Deps: "req:requirements.txt inline:serverless-wsgi", External: []string{"arn:aws:lambda:us-east-1:123456789012:layer:shared:4"}}, summarize(*web)); diff != "" {
		t.Errorf("web (-want +got):\n%s", diff)
	}
	if len(web.Extra) != 2 || web.Extra[0].Path != ".serverless-wsgi" || string(web.Extra[0].Data) != "{\"app\":\"app.app\"}\n" || web.Extra[1].Path != "wsgi_handler.py" {
		t.Errorf("web extra files: %+v", web.Extra)
	}
	// The layer folder is not part of the functions (Serverless excludes
	// layer paths from function packages).
	if web.Package.Files.Match("deps/python/helpers.py") {
		t.Error("layer path packaged into the function")
	}
	worker := fn(t, cfg, "worker")
	if !cmp.Equal(worker.Layers, []string{"my-deps@x86_64"}) || !cmp.Equal(worker.External, []string{"${cf:infra.SharedLayerArn}"}) {
		t.Errorf("worker layers %v external %v", worker.Layers, worker.External)
	}
	wantNote(t, cfg,
		"plugin serverless-plugin-warmup adds a warmer function (Node.js) per warmer in custom.warmup, which serverless.yml does not show",
		"plugins serverless-custom-thing are not run by lambdapack",
		"serverless-wsgi's handler wsgi_handler.handler: lambdapack adds what the plugin would",
		"layer ${cf:infra.SharedLayerArn} is only known at deploy time")
}

func TestServerlessModuleAndArtifact(t *testing.T) {
	cfg := load(t, writeTree(t, map[string]string{
		"serverless.yml": `service: mono
provider: {name: aws, runtime: python3.12}
package:
  individually: true
  patterns: ['!**/tests/**']
functions:
  users:
    handler: handler.main
    module: services/users
  orders:
    handler: handler.main
    package:
      artifact: build/orders.zip
`,
		"services/users/handler.py":       "",
		"services/users/requirements.txt": "six==1.16.0\n",
		"services/users/tests/test_h.py":  "",
		"build/orders.zip":                "PK\x05\x06" + strings.Repeat("\x00", 18),
	}))
	users, _ := cfg.Function("users")
	if got := summarize(*users); got.Pkg != "folder:services/users" || got.Deps != "req:services/users/requirements.txt" {
		t.Errorf("users %+v", got)
	}
	// Patterns are matched from the service folder.
	if users.Package.Files.Match("tests/test_h.py") || !users.Package.Files.Match("handler.py") {
		t.Error("module patterns")
	}
	if got := fn(t, cfg, "orders").Pkg; got != "zip:build/orders.zip" {
		t.Errorf("orders %s", got)
	}
}

func TestYAMLAnchorsAndMergeKeys(t *testing.T) {
	cfg := load(t, writeTree(t, map[string]string{
		"serverless.yml": `service: anchors
provider: {name: aws, runtime: python3.12}
x-common: &common
  handler: app.handler
  architecture: arm64
functions:
  a:
    <<: *common
  b:
    <<: *common
    architecture: x86_64
`,
		"app.py": "",
	}))
	if a, b := fn(t, cfg, "a"), fn(t, cfg, "b"); a.Arch != "arm64" || b.Arch != "x86_64" || a.Handler != "app.handler" || b.Handler != "app.handler" {
		t.Errorf("a %+v b %+v", a, b)
	}
}

// Function-level patterns count only when packaging individually, as the
// framework has it.
func TestServerlessFunctionPatternsNeedIndividually(t *testing.T) {
	cfg := load(t, writeTree(t, map[string]string{
		"serverless.yml": "service: s\nprovider: {name: aws, runtime: python3.12}\nfunctions:\n  api:\n    handler: handler.main\n    package:\n      patterns: ['!lib/**']\n",
		"handler.py":     "", "lib/x.py": "",
	}))
	api, _ := cfg.Function("api")
	if !api.Package.Files.Match("lib/x.py") {
		t.Error("function patterns applied without package.individually")
	}
	wantNote(t, cfg, "functions.api.package patterns apply only with package.individually: true")
}

// Serverless' compatibleRuntimes is metadata too: a retired runtime beside
// supported ones is left out of the build with a warning.
func TestServerlessLayerListsRetiredRuntime(t *testing.T) {
	cfg := load(t, writeTree(t, map[string]string{
		"serverless.yml": `service: s
provider: {name: aws, runtime: python3.12}
layers:
  common:
    path: layers/common
    compatibleRuntimes: [python3.8, python3.12]
functions:
  api:
    handler: handler.main
    layers: [{Ref: CommonLambdaLayer}]
`,
		"layers/common/python/common.py": "",
		"handler.py":                     "",
	}))
	if diff := cmp.Diff(lySum{Name: "common", Pkg: "folder:layers/common", Runtimes: []string{"python3.12"}, Archs: []string{"x86_64"}}, ly(t, cfg, "common")); diff != "" {
		t.Error(diff)
	}
	wantNote(t, cfg, "layer common: compatibleRuntimes lists python3.8, which Lambda no longer accepts for functions; lambdapack builds and verifies the layer for python3.12")
}

// A service whose functions a plugin defines (here in its own custom:
// section) is not told to "add a functions: section": the error names the
// plugin as the reason nothing is built.
func TestServerlessFunctionsOnlyFromPlugin(t *testing.T) {
	_, err := Load(writeTree(t, map[string]string{
		"serverless.yml": "service: s\nframeworkVersion: '4'\nplugins:\n  - serverless-mcp-servers\nprovider: {name: aws, runtime: python3.12}\ncustom:\n  mcp:\n    servers:\n      example: {handler: app.handler}\n",
		"app.py":         "",
	}), LoadOptions{})
	if err == nil || !strings.Contains(err.Error(), "serverless.yml defines no functions and no layers itself; plugin serverless-mcp-servers, which lambdapack does not run, may define them") {
		t.Errorf("got %v", err)
	}
	if strings.Contains(err.Error(), "add a functions: section") {
		t.Errorf("still tells the user to add a functions: section: %v", err)
	}
	// Without plugins the old hint stays.
	_, err = Load(writeTree(t, map[string]string{"serverless.yml": "service: s\nprovider: {name: aws, runtime: python3.12}\n"}), LoadOptions{})
	if err == nil || !strings.Contains(err.Error(), "add a functions: section") {
		t.Errorf("got %v", err)
	}
}

// serverless-lift's queue construct deploys its worker as a function named
// <id>Worker, packaged like the service's own functions: it is built, not
// silently left out.
func TestServerlessLiftQueueWorker(t *testing.T) {
	cfg := load(t, writeTree(t, map[string]string{
		"serverless.yml": `service: s
provider: {name: aws, runtime: python3.12}
constructs:
  jobs:
    type: queue
    worker:
      handler: handler.consumer
      architecture: arm64
  site:
    type: static-website
    path: public
functions:
  producer:
    handler: handler.producer
plugins:
  - serverless-lift
`,
		"handler.py": "",
	}))
	if got := cfg.Names(); !slices.Contains(got, "jobsWorker") || !slices.Contains(got, "producer") || len(cfg.Functions) != 2 {
		t.Fatalf("functions %v", got)
	}
	if diff := cmp.Diff(fnSum{Name: "jobsWorker", Handler: "handler.consumer", Runtime: "python3.12", Arch: "arm64", Pkg: "folder:."}, fn(t, cfg, "jobsWorker")); diff != "" {
		t.Error(diff)
	}
	wantNote(t, cfg, "serverless-lift's queue construct jobs has a worker: built as function jobsWorker")
}
