package project

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lambdapack/lambdapack/internal/testutil"
)

func TestParseParameterOverrides(t *testing.T) {
	got, err := ParseParameterOverrides(`PythonRuntime=python3.13 ParameterKey=Stage,ParameterValue=prod  Msg="a b" Empty=`)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"PythonRuntime": "python3.13", "Stage": "prod", "Msg": "a b", "Empty": ""}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if _, err := ParseParameterOverrides("python3.13"); err == nil || !strings.Contains(err.Error(), "NAME=VALUE") {
		t.Errorf("a value without a name: %v", err)
	}
}

// A SAM parameter without a Default (its value given at build time, found
// as Runtime: !Ref PythonRuntime in a public project) takes the value of
// --parameter-overrides, else of samconfig's [default.build.parameters]
// parameter_overrides, as sam build does; without either the error says how
// to give it.
func TestSAMParameterOverrides(t *testing.T) {
	tmpl := "AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::Serverless-2016-10-31\nParameters:\n  PythonRuntime:\n    Type: String\n  Arch:\n    Type: String\n    Default: x86_64\nGlobals:\n  Function:\n    Runtime: !Ref PythonRuntime\n    Architectures: [!Ref Arch]\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: src/\n      Handler: app.handler\n"
	dir := writeTree(t, map[string]string{"template.yaml": tmpl, "src/app.py": ""})
	if _, err := Load(dir, LoadOptions{Env: noEnv, Now: testNow}); err == nil || !strings.Contains(err.Error(), "--parameter-overrides PythonRuntime=VALUE") || !strings.Contains(err.Error(), "template.yaml:") {
		t.Errorf("no value: %v", err)
	}
	cfg, err := Load(dir, LoadOptions{Env: noEnv, Now: testNow, Params: map[string]string{"PythonRuntime": "python3.13", "Arch": "arm64"}})
	if err != nil {
		t.Fatal(err)
	}
	if f := cfg.Functions[0]; f.Runtime != "python3.13" || f.Arch != "arm64" {
		t.Errorf("flags: runtime %s arch %s", f.Runtime, f.Arch)
	}
	testutil.WriteFiles(t, dir, map[string]string{"samconfig.toml": "version = 0.1\n[default.build.parameters]\nparameter_overrides = \"PythonRuntime=python3.12\"\n"})
	cfg, err = Load(dir, LoadOptions{Env: noEnv, Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	if f := cfg.Functions[0]; f.Runtime != "python3.12" || f.Arch != "x86_64" {
		t.Errorf("samconfig: runtime %s arch %s", f.Runtime, f.Arch)
	}
	cfg, err = Load(dir, LoadOptions{Env: noEnv, Now: testNow, Params: map[string]string{"PythonRuntime": "python3.13"}})
	if err != nil || cfg.Functions[0].Runtime != "python3.13" {
		t.Errorf("the flag wins over samconfig: %v %v", cfg, err)
	}
}

// samconfig's parameter_overrides are read from the section of the sam
// command lambdapack stands in for, else from the global one, as sam reads
// them: build reads [default.build.parameters], invoke `sam local invoke`'s
// [default.local_invoke.parameters], serve `sam local start-api`'s
// [default.local_start_api.parameters]. A local command does not read
// build's section; the flag still wins.
func TestSAMParameterOverridesCommandSection(t *testing.T) {
	tmpl := "Transform: AWS::Serverless-2016-10-31\nParameters:\n  PythonRuntime:\n    Type: String\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: src/\n      Handler: app.handler\n      Runtime: !Ref PythonRuntime\n"
	dir := writeTree(t, map[string]string{"template.yaml": tmpl, "src/app.py": "", "samconfig.toml": `version = 0.1
[default.build.parameters]
parameter_overrides = "PythonRuntime=python3.12"
[default.local_invoke.parameters]
parameter_overrides = "PythonRuntime=python3.11"
[default.global.parameters]
parameter_overrides = "PythonRuntime=python3.13"
`})
	for cmd, want := range map[string]string{"": "python3.12", "build": "python3.12", "local_invoke": "python3.11", "local_start_api": "python3.13"} {
		cfg, err := Load(dir, LoadOptions{Env: noEnv, Now: testNow, SamconfigCommand: cmd})
		if err != nil {
			t.Errorf("%q: %v", cmd, err)
			continue
		}
		if got := cfg.Functions[0].Runtime; got != want {
			t.Errorf("%q: runtime %s, want %s", cmd, got, want)
		}
	}
	cfg, err := Load(dir, LoadOptions{Env: noEnv, Now: testNow, SamconfigCommand: "local_invoke", Params: map[string]string{"PythonRuntime": "python3.10"}})
	if err != nil || cfg.Functions[0].Runtime != "python3.10" {
		t.Errorf("the flag wins over samconfig: %v %v", cfg, err)
	}
	testutil.WriteFiles(t, dir, map[string]string{"samconfig.toml": "version = 0.1\n[default.build.parameters]\nparameter_overrides = \"PythonRuntime=python3.12\"\n"})
	if _, err := Load(dir, LoadOptions{Env: noEnv, Now: testNow, SamconfigCommand: "local_invoke"}); err == nil || !strings.Contains(err.Error(), "--parameter-overrides PythonRuntime=VALUE") || !strings.Contains(err.Error(), "[default.local_invoke.parameters]") {
		t.Errorf("sam local invoke does not read build's section: %v", err)
	}
	testutil.WriteFiles(t, dir, map[string]string{"samconfig.toml": "version = 0.1\n[default.local_start_api.parameters]\nparameter_overrides = \"PythonRuntime\"\n"})
	if _, err := Load(dir, LoadOptions{Env: noEnv, Now: testNow, SamconfigCommand: "local_start_api"}); err == nil || !strings.Contains(err.Error(), "default.local_start_api.parameters.parameter_overrides") {
		t.Errorf("a malformed value names its section: %v", err)
	}
}
