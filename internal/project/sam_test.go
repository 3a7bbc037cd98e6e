package project

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const samHead = "AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::Serverless-2016-10-31\n"

func TestSAMPackageShapes(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"template.yaml": samHead + `Globals:
  Function:
    Runtime: python3.12
Resources:
  Inline:
    Type: AWS::Serverless::Function
    Properties:
      Handler: index.handler
      InlineCode: |
        def handler(event, context):
            return "hi"
  Prebuilt:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: build/prebuilt.zip
      Handler: app.handler
  OneFile:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: scripts/cron.py
      Handler: cron.run
  InS3:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: s3://bucket/key.zip
      Handler: app.handler
  S3Map:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: {Bucket: b, Key: k}
      Handler: app.handler
  Image:
    Type: AWS::Serverless::Function
    Properties:
      PackageType: Image
      Architectures: [arm64]
      ImageConfig:
        Command: ["app.handler"]
        WorkingDirectory: /var/task
    Metadata:
      Dockerfile: Dockerfile.lambda
      DockerContext: ./img
      DockerTag: python3.12-v1
      DockerBuildArgs:
        STAGE: prod
        TOKEN: !Ref Token
  Pulled:
    Type: AWS::Serverless::Function
    Properties:
      PackageType: Image
      ImageUri: 123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1
  Node:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: node/
      Handler: index.handler
      Runtime: nodejs20.x
  Web:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: web/
      Handler: run.sh
      Environment:
        Variables:
          AWS_LAMBDA_EXEC_WRAPPER: /opt/bootstrap
      Layers:
        - !Sub arn:aws:lambda:${AWS::Region}:753240598075:layer:LambdaAdapterLayerX86:24
  Made:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: made/
      Handler: app.handler
    Metadata:
      BuildMethod: makefile
`,
		"img/Dockerfile.lambda": "FROM public.ecr.aws/lambda/python:3.12\nCOPY app.py ./\n",
		"img/app.py":            "def handler(e, c): pass\n",
		"build/prebuilt.zip":    "PK\x05\x06" + strings.Repeat("\x00", 18),
		"scripts/cron.py":       "def run(e, c): pass\n",
		"node/index.js":         "",
		"web/run.sh":            "#!/bin/sh\nexec python -m uvicorn main:app\n",
		"web/main.py":           "",
		"web/requirements.txt":  "six==1.16.0\n",
		"made/app.py":           "",
		"made/Makefile":         "build-Made:\n\tcp *.py $(ARTIFACTS_DIR)\n",
		"made/requirements.txt": "six==1.16.0\n",
	})
	cfg := load(t, dir)
	want := map[string]string{
		"Inline":   "skip:InlineCode: its code is written in the template, so there is nothing to package",
		"Prebuilt": "zip:build/prebuilt.zip",
		"OneFile":  "file:scripts/cron.py",
		"InS3":     "skip:CodeUri s3://bucket/key.zip is already in S3",
		"S3Map":    "skip:CodeUri is an S3 location (Bucket, Key): already packaged",
		"Image":    "none",
		"Pulled":   "skip:ImageUri 123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1: the image is built elsewhere",
		"Node":     "skip:Runtime nodejs20.x is not a Python runtime",
		"Web":      "folder:web",
		"Made":     "folder:made",
	}
	for name, w := range want {
		if got := fn(t, cfg, name).Pkg; got != w {
			t.Errorf("%s: %s, want %s", name, got, w)
		}
	}
	img, _ := cfg.Function("Image")
	wantImg := &Image{Dockerfile: "img/Dockerfile.lambda", Context: "img", Tag: "python3.12-v1",
		BuildArgs: []EnvVar{{Name: "STAGE", Value: "prod"}, {Name: "TOKEN", Expr: "!Ref Token"}},
		Command:   []string{"app.handler"}, WorkingDirectory: "/var/task"}
	if d := cmp.Diff(wantImg, img.Image); d != "" || img.Arch != "arm64" || img.Handler != "app.handler" {
		t.Errorf("image function (-want +got):\n%s arch %s handler %s", d, img.Arch, img.Handler)
	}
	web := fn(t, cfg, "Web")
	if web.Deps != "req:web/requirements.txt" || !cmp.Equal(web.Env, []string{"AWS_LAMBDA_EXEC_WRAPPER=/opt/bootstrap"}) {
		t.Errorf("web: %+v", web)
	}
	made, _ := cfg.Function("Made")
	if made.Package.Files.Match("Makefile") || !made.Package.Files.Match("app.py") || made.Deps.Requirements != "made/requirements.txt" {
		t.Errorf("makefile function: %+v", summarize(*made))
	}
	wantNote(t, cfg,
		"handler run.sh is a script, not a Python module",
		"Metadata.BuildMethod makefile: lambdapack does not run the Makefile",
		"!Sub arn:aws:lambda:${AWS::Region}:753240598075:layer:LambdaAdapterLayerX86:24 (resolved at deploy time): an external layer, used by Web")
}

func TestSAMLayers(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"template.yaml": samHead + `Parameters:
  SharedLayerArn:
    Type: String
  PowertoolsArn:
    Type: String
    Default: arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-x86_64:7
Globals:
  Function:
    Runtime: python3.12
    Layers:
      - !Ref PowertoolsArn
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fn/
      Handler: app.handler
      Architectures: [arm64]
      Layers:
        - !Ref BuiltLayer
        - !Ref ReadyLayer
        - !Ref SharedLayerArn
        - !Ref PlainLayer
        - arn:aws:lambda:us-east-1:123456789012:layer:ext:3
  Other:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fn/
      Handler: app.handler
      Runtime: python3.11
      Layers:
        - !Ref ZipLayer
        - !Ref CodeOnlyLayer
  BuiltLayer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: layers/built/
      CompatibleRuntimes: [python3.12]
      CompatibleArchitectures: [x86_64]
    Metadata:
      BuildMethod: python3.12
  ReadyLayer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: layers/ready
  ZipLayer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: layers/deps.zip
      CompatibleRuntimes: [python3.11]
  CodeOnlyLayer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: layers/common
      CompatibleRuntimes: [python3.11]
    Metadata:
      BuildMethod: python3.11
      BuildArchitecture: x86_64
  PlainLayer:
    Type: AWS::Lambda::LayerVersion
    Properties:
      Content: {S3Bucket: b, S3Key: k}
`,
		"fn/app.py":                              "",
		"layers/built/requirements.txt":          "six==1.16.0\n",
		"layers/built/shared/helpers.py":         "",
		"layers/ready/python/common/__init__.py": "",
		"layers/deps.zip":                        "PK\x05\x06" + strings.Repeat("\x00", 18),
		"layers/common/common/util.py":           "",
	})
	cfg := load(t, dir)
	want := fnSum{Name: "Fn", Handler: "app.handler", Runtime: "python3.12", Arch: "arm64", Pkg: "folder:fn",
		Layers: []string{"BuiltLayer@x86_64", "ReadyLayer@x86_64"},
		// Layers given by a parameter (its Default when it has one) or an
		// AWS::Lambda::LayerVersion are external too, in the config's order.
		External: []string{"arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-x86_64:7", "!Ref SharedLayerArn", "!Ref PlainLayer", "arn:aws:lambda:us-east-1:123456789012:layer:ext:3"}}
	if diff := cmp.Diff(want, fn(t, cfg, "Fn")); diff != "" {
		t.Errorf("Fn (-want +got):\n%s", diff)
	}
	for _, w := range []lySum{
		{Name: "BuiltLayer", Pkg: "folder:layers/built>python/", Deps: "req:layers/built/requirements.txt", Runtimes: []string{"python3.12"}, Archs: []string{"x86_64"}},
		// No BuildMethod, a ready python/ folder: zipped as it is, verified
		// for the runtimes of the functions that use it.
		{Name: "ReadyLayer", Pkg: "folder:layers/ready", Runtimes: []string{"python3.12"}, Archs: []string{"x86_64"}},
		{Name: "ZipLayer", Pkg: "zip:layers/deps.zip", Runtimes: []string{"python3.11"}, Archs: []string{"x86_64"}},
		// BuildMethod without requirements: the layer is its own modules.
		{Name: "CodeOnlyLayer", Pkg: "folder:layers/common>python/", Runtimes: []string{"python3.11"}, Archs: []string{"x86_64"}},
	} {
		if diff := cmp.Diff(w, ly(t, cfg, w.Name)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", w.Name, diff)
		}
	}
	// The arm64 function on an x86_64-only layer is a warning that says
	// what the build verifies, in the template's own words.
	var warned bool
	for _, n := range cfg.Notes {
		if n.Level == LevelWarning && strings.Contains(n.Msg, "function Fn runs on arm64 but layer BuiltLayer's CompatibleArchitectures lists x86_64: Lambda runs it anyway, so lambdapack verifies the layer's files (built for x86_64) for python3.12/arm64") {
			warned = true
		}
	}
	if !warned {
		t.Errorf("no CompatibleArchitectures warning:\n%s", joinNotes(cfg.Notes))
	}
	wantNote(t, cfg,
		"arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-x86_64:7 (the Default of parameter PowertoolsArn): an external layer, used by Fn, Other",
		"!Ref SharedLayerArn (a parameter given at deploy time): an external layer, used by Fn",
		"!Ref PlainLayer (an AWS::Lambda::LayerVersion, which CloudFormation makes from its Content): an external layer, used by Fn")
	// Notes are said once per project.
	seen := map[string]bool{}
	for _, n := range cfg.Notes {
		if seen[n.Msg] {
			t.Errorf("note said twice: %s", n.Msg)
		}
		seen[n.Msg] = true
	}
}

// A layer without BuildMethod that holds a requirements.txt and no python/
// folder would deploy without its packages: built, with a warning.
func TestSAMLayerRequirementsWithoutBuildMethod(t *testing.T) {
	cfg := load(t, writeTree(t, map[string]string{
		"template.yaml":         samHead + "Resources:\n  L:\n    Type: AWS::Serverless::LayerVersion\n    Properties:\n      ContentUri: deps\n      CompatibleRuntimes: [python3.13]\n",
		"deps/requirements.txt": "six==1.16.0\n",
	}))
	if diff := cmp.Diff(lySum{Name: "L", Pkg: "folder:deps>python/", Deps: "req:deps/requirements.txt", Runtimes: []string{"python3.13"}, Archs: []string{"x86_64"}}, ly(t, cfg, "L")); diff != "" {
		t.Error(diff)
	}
	wantNote(t, cfg, "layer L has no Metadata.BuildMethod, so sam build would deploy deps as it is")
}

func TestSAMEnvironment(t *testing.T) {
	cfg := load(t, writeTree(t, map[string]string{
		"template.yaml": samHead + `Parameters:
  Stage: {Type: String, Default: prod}
Globals:
  Function:
    Runtime: python3.12
    Environment:
      Variables:
        LOG_LEVEL: INFO
        STAGE: !Ref Stage
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: .
      Handler: app.handler
      Environment:
        Variables:
          LOG_LEVEL: DEBUG
          TABLE: !Ref Table
          TABLE_ARN: !GetAtt Table.Arn
          GREETING: !Sub "hello-${Stage}"
  Table:
    Type: AWS::DynamoDB::Table
`,
		"app.py": "",
	}))
	want := []string{"GREETING=hello-prod", "LOG_LEVEL=DEBUG", "STAGE=prod", "TABLE~Ref: Table", "TABLE_ARN~!GetAtt Table.Arn"}
	got := fn(t, cfg, "Fn").Env
	// !Ref of a resource is not static: kept as written.
	if len(got) != 5 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] || !strings.HasPrefix(got[3], "TABLE~") || got[4] != want[4] {
		t.Errorf("env = %q, want %q", got, want)
	}
}

func TestSAMErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		tpl  string
		want []string
	}{
		{"duplicate key", "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: app.handler\n      Runtime: python3.12\n      Runtime: python3.11\n",
			[]string{"template.yaml:7:", `key "Runtime" is written twice in the same mapping (lines 8 and 9)`}},
		{"mapping as a key", "Mappings:\n  common:\n    { your_region }:\n      layer: { arn_for_layer }\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: app.handler\n      Runtime: python3.12\n",
			[]string{"template.yaml:3:", "a key is a mapping, not a name", "found unhashable key"}},
		{"deprecated runtime", "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: app.handler\n      Runtime: python3.8\n",
			[]string{"template.yaml:2:", "runtime python3.8 is deprecated and Lambda no longer accepts creating or updating functions on it", "use a supported runtime: python3.14, python3.13, python3.12, python3.11"}},
		{"bad logical ID", "Resources:\n  Api-Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: app.handler\n      Runtime: python3.12\n",
			[]string{"template.yaml:2:", `function "Api-Fn" is not a valid logical ID`}},
		{"zip CodeUri missing", "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: app.handler\n      Runtime: python3.12\n      CodeUri: src/index.zip\n",
			[]string{"template.yaml:7:", "CodeUri src/index.zip does not exist"}},
		{"non-static runtime", "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: app.handler\n      Runtime: !FindInMap [M, a, b]\n",
			[]string{"template.yaml:6:", "Runtime is not static"}},
		{"BuildArchitecture not compatible", "Resources:\n  L:\n    Type: AWS::Serverless::LayerVersion\n    Properties:\n      ContentUri: .\n      CompatibleArchitectures: [x86_64]\n    Metadata:\n      BuildMethod: python3.12\n      BuildArchitecture: arm64\n",
			[]string{"template.yaml:9:", "Metadata.BuildArchitecture arm64 is not in CompatibleArchitectures x86_64"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := loadErr(t, map[string]string{"template.yaml": samHead + strings.Repeat("\n", 0) + c.tpl, "app.py": ""})
			// samHead adds two lines.
			want := append([]string(nil), c.want...)
			for i, w := range want {
				if strings.HasPrefix(w, "template.yaml:") {
					var n int
					if _, e := fmtSscanf(strings.TrimPrefix(w, "template.yaml:"), &n); e == nil {
						want[i] = "template.yaml:" + itoa(n+2) + ":"
					}
				}
			}
			wantErr(t, err, want...)
		})
	}
}

// Location gives the file and line a --json error object carries, through
// joined errors.
func TestLocation(t *testing.T) {
	err := loadErr(t, map[string]string{
		"template.yaml": samHead + "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: app.handler\n      Runtime: python3.7\n  Gn:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: app.handler\n      Runtime: python3.6\n",
		"app.py":        "",
	})
	pos, ok := Location(errors.Join(errors.New("context"), err))
	if !ok || !strings.HasSuffix(pos.File, "template.yaml") || pos.Line != 4 {
		t.Errorf("Location = %v, %v", pos, ok)
	}
	if _, ok := Location(errors.New("plain")); ok {
		t.Error("a plain error has a location")
	}
}

// Deprecated but still accepted runtimes are one warning per project.
func TestDeprecationNotedOnce(t *testing.T) {
	cfg := load(t, writeTree(t, map[string]string{
		"template.yaml": samHead + "Globals:\n  Function:\n    Runtime: python3.9\n    Handler: app.handler\nResources:\n  A:\n    Type: AWS::Serverless::Function\n  B:\n    Type: AWS::Serverless::Function\n  C:\n    Type: AWS::Serverless::Function\n",
		"app.py":        "",
	}))
	n := 0
	for _, x := range cfg.Notes {
		if strings.Contains(x.Msg, "python3.9 is deprecated") {
			n++
			if !strings.Contains(x.Msg, "used by A, B, C") || !strings.Contains(x.Msg, "python3.14, python3.13, python3.12, python3.11") || strings.Contains(x.Msg, "python3.10") {
				t.Errorf("note: %s", x.Msg)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d deprecation notes:\n%s", n, joinNotes(cfg.Notes))
	}
}

// A layer's CompatibleRuntimes is metadata: one that lists a retired runtime
// beside supported ones (as many real templates still do) is built and
// verified for the supported ones with a warning, not refused; a layer whose
// own build runtime is retired still is.
func TestSAMLayerListsRetiredRuntime(t *testing.T) {
	cfg := load(t, writeTree(t, map[string]string{
		"template.yaml": samHead + `Resources:
  Ready:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: ready/
      CompatibleRuntimes: [python3.7, python3.8, python3.11, python3.12]
  Made:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: made/
      CompatibleRuntimes: [python3.8, python3.12]
    Metadata:
      BuildMethod: makefile
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: python3.12
      Layers: [!Ref Ready, !Ref Made]
`,
		"ready/python/shared.py": "",
		"made/requirements.txt":  "six==1.16.0\n",
		"made/Makefile":          "build-Made:\n\tpip install -r requirements.txt -t \"$(ARTIFACTS_DIR)/python\"\n",
		"src/app.py":             "",
	}))
	if diff := cmp.Diff(lySum{Name: "Ready", Pkg: "folder:ready", Runtimes: []string{"python3.11", "python3.12"}, Archs: []string{"x86_64"}}, ly(t, cfg, "Ready")); diff != "" {
		t.Error(diff)
	}
	// makefile builds for the first runtime of the list: the first supported one.
	if diff := cmp.Diff(lySum{Name: "Made", Pkg: "none", Deps: "req:made/requirements.txt", Runtimes: []string{"python3.12"}, Archs: []string{"x86_64"}}, ly(t, cfg, "Made")); diff != "" {
		t.Error(diff)
	}
	wantNote(t, cfg,
		"layer Ready: CompatibleRuntimes lists python3.7, python3.8, which Lambda no longer accepts for functions; lambdapack builds and verifies the layer for python3.11, python3.12",
		"layer Made: CompatibleRuntimes lists python3.8")

	_, err := Load(writeTree(t, map[string]string{
		"template.yaml":        samHead + "Resources:\n  Old:\n    Type: AWS::Serverless::LayerVersion\n    Properties:\n      ContentUri: old/\n      CompatibleRuntimes: [python3.8, python3.12]\n    Metadata:\n      BuildMethod: python3.8\n",
		"old/requirements.txt": "six==1.16.0\n",
	}), LoadOptions{})
	if err == nil || !strings.Contains(err.Error(), "layer Old: runtime python3.8 is deprecated") {
		t.Errorf("a layer built for python3.8: %v", err)
	}
	_, err = Load(writeTree(t, map[string]string{
		"template.yaml":   samHead + "Resources:\n  Old:\n    Type: AWS::Serverless::LayerVersion\n    Properties:\n      ContentUri: old/\n      CompatibleRuntimes: [python3.7, python3.8]\n",
		"old/python/x.py": "",
	}), LoadOptions{})
	if err == nil || !strings.Contains(err.Error(), "layer Old: runtime python3.7 is deprecated") {
		t.Errorf("a layer for retired runtimes only: %v", err)
	}
}

// A BuildMethod python3.X layer whose ContentUri holds a python/ folder is
// built as sam builds it (everything under python/, so python/python/) with
// a warning that says where the modules land and what to change.
func TestSAMLayerPythonFolderUnderBuildMethod(t *testing.T) {
	cfg := load(t, writeTree(t, map[string]string{
		"template.yaml":          samHead + "Resources:\n  L:\n    Type: AWS::Serverless::LayerVersion\n    Properties:\n      ContentUri: deps/\n      CompatibleRuntimes: [python3.12]\n    Metadata:\n      BuildMethod: python3.12\n",
		"deps/requirements.txt":  "six==1.16.0\n",
		"deps/python/printer.py": "",
	}))
	if diff := cmp.Diff(lySum{Name: "L", Pkg: "folder:deps>python/", Deps: "req:deps/requirements.txt", Runtimes: []string{"python3.12"}, Archs: []string{"x86_64"}}, ly(t, cfg, "L")); diff != "" {
		t.Error(diff)
	}
	wantNote(t, cfg, "layer L: deps has a python/ folder, and Metadata.BuildMethod python3.12 puts the whole ContentUri under python/, so its modules land in python/python/ where Python does not import them")
}
