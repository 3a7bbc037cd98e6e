package project

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The generated plugin, run by Node.js against the objects the Serverless
// Framework hands a plugin: each built function and layer gets its
// package.artifact, the requirements layer is defined, and
// serverless-python-requirements' hooks are gone.
func TestServerlessPluginRuns(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is needed (scripts/test.sh installs it): ", err)
	}
	dir := writeTree(t, map[string]string{
		"serverless.yml": "service: svc\nprovider: {name: aws, runtime: python3.12}\nlayers:\n  common:\n    path: common\nfunctions:\n  api:\n    handler: app.h\n  other:\n    handler: app.h\n",
		"app.py":         "", "common/python/c.py": "",
	})
	cfg := load(t, dir)
	js, err := ServerlessPlugin(cfg, ServerlessArtifacts{
		Functions:         map[string]string{"api": filepath.Join(dir, "dist", "api.zip")},
		Layers:            map[string]string{"common": filepath.Join(dir, "dist", "common-x86_64.zip")},
		RequirementsLayer: filepath.Join(dir, "dist", "pythonRequirements-x86_64.zip"), RequirementsRuntimes: []string{"python3.12"}, RequirementsArchitecture: "x86_64",
	})
	if err != nil {
		t.Fatal(err)
	}
	plugin := filepath.Join(dir, ServerlessPluginPath)
	if err := os.MkdirAll(filepath.Dir(plugin), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(plugin, js, 0o644); err != nil {
		t.Fatal(err)
	}
	script := `
const Plugin = require(process.argv[1]);
const pyreq = () => {};
const other = () => {};
const serverless = {
  service: { service: 'svc', provider: { stage: 'prod' }, functions: { api: { handler: 'app.h' }, other: { handler: 'app.h', package: { patterns: ['x'] } } }, layers: { common: { path: 'common' } } },
  pluginManager: { hooks: { 'after:package:createDeploymentArtifacts': [{ pluginName: 'ServerlessPythonRequirements', hook: pyreq }, { pluginName: 'Other', hook: other }] } },
};
const p = new Plugin(serverless, {});
p.hooks.initialize();
p.hooks['before:package:createDeploymentArtifacts']();
console.log(JSON.stringify({ service: serverless.service, hooks: serverless.pluginManager.hooks['after:package:createDeploymentArtifacts'].map((h) => h.pluginName) }));
`
	out, err := exec.Command(node, "-e", script, plugin).CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var got struct {
		Service struct {
			Functions map[string]struct {
				Package map[string]any `json:"package"`
			} `json:"functions"`
			Layers map[string]map[string]any `json:"layers"`
		} `json:"service"`
		Hooks []string `json:"hooks"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if a := got.Service.Functions["api"].Package["artifact"]; a != "dist/api.zip" {
		t.Errorf("api artifact %v", a)
	}
	if _, ok := got.Service.Functions["other"].Package["artifact"]; ok {
		t.Error("a function lambdapack did not build got an artifact")
	}
	if a := got.Service.Layers["common"]["package"].(map[string]any)["artifact"]; a != "dist/common-x86_64.zip" {
		t.Errorf("layer artifact %v", a)
	}
	req := got.Service.Layers["pythonRequirements"]
	if req["package"].(map[string]any)["artifact"] != "dist/pythonRequirements-x86_64.zip" || req["name"] != "svc-prod-python-requirements" {
		t.Errorf("requirements layer %v", req)
	}
	if diff := cmp.Diff([]string{"Other"}, got.Hooks); diff != "" {
		t.Errorf("hooks left: %s", diff)
	}
}
