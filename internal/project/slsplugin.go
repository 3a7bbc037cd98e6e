package project

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
)

// ServerlessPluginPath is where lambdapack writes its Serverless Framework
// plugin, relative to the service: the framework looks up a plugin listed by
// name in .serverless_plugins/ first, so the one line a user adds is
// "- lambdapack" under plugins:.
const ServerlessPluginPath = ".serverless_plugins/lambdapack.js"

// ServerlessPluginName is the name a user lists under plugins:.
const ServerlessPluginName = "lambdapack"

// ServerlessArtifacts are the zips a build made for a Serverless service:
// functions and layers by name, each an absolute path.
type ServerlessArtifacts struct {
	Functions map[string]string
	Layers    map[string]string
	// Layers the serverless-python-requirements plugin would have made
	// (pythonRequirements), with the runtimes and architectures they are
	// for.
	RequirementsLayer        string
	RequirementsRuntimes     []string
	RequirementsArchitecture string
}

// ServerlessPlugin returns the plugin that makes the framework deploy the
// zips lambdapack built, through its own mechanism for prebuilt artifacts
// (package.artifact): each built function and layer gets its artifact
// before the framework packages anything, so `sls package` and `sls
// deploy` use them as they are. serverless-python-requirements' hooks are
// removed (lambdapack did its work; left on, it would inject the
// requirements a second time into the prebuilt zips), and the
// pythonRequirements layer it would make is defined from lambdapack's zip.
func ServerlessPlugin(cfg *Config, a ServerlessArtifacts) ([]byte, error) {
	rel := func(p string) string {
		r, err := filepath.Rel(cfg.Dir, p)
		if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
			return p
		}
		return filepath.ToSlash(r)
	}
	fns := map[string]string{}
	for n, p := range a.Functions {
		fns[n] = rel(p)
	}
	layers := map[string]string{}
	for n, p := range a.Layers {
		layers[n] = rel(p)
	}
	conf := map[string]any{"functions": fns, "layers": layers}
	if a.RequirementsLayer != "" {
		rts := append([]string(nil), a.RequirementsRuntimes...)
		sort.Strings(rts)
		conf["requirementsLayer"] = map[string]any{"artifact": rel(a.RequirementsLayer), "compatibleRuntimes": rts, "compatibleArchitectures": []string{a.RequirementsArchitecture}}
	}
	data, err := json.MarshalIndent(conf, "", "  ")
	if err != nil {
		return nil, err
	}
	return []byte(fmt.Sprintf(serverlessPluginJS, filepath.Base(cfg.File), data)), nil
}

const serverlessPluginJS = `'use strict';
// Written by lambdapack build for %s: do not edit (the next build rewrites
// it). List it under plugins: as "- lambdapack" to deploy the zips lambdapack
// built instead of packaging the functions again.
const built = %s;

class Lambdapack {
  constructor(serverless) {
    this.serverless = serverless;
    this.applied = false;
    this.hooks = {
      initialize: () => this.apply(),
      'before:package:createDeploymentArtifacts': () => this.apply(),
      'before:deploy:function:packageFunction': () => this.apply(),
    };
  }

  apply() {
    if (this.applied) return;
    this.applied = true;
    const service = this.serverless.service;
    for (const [name, artifact] of Object.entries(built.functions)) {
      const fn = service.functions && service.functions[name];
      if (!fn) continue;
      fn.package = Object.assign({}, fn.package, { artifact });
    }
    service.layers = service.layers || {};
    for (const [name, artifact] of Object.entries(built.layers)) {
      const layer = service.layers[name];
      if (!layer) continue;
      layer.package = Object.assign({}, layer.package, { artifact });
    }
    if (built.requirementsLayer) {
      service.layers.pythonRequirements = Object.assign(
        { name: service.service + '-' + (service.provider.stage || 'dev') + '-python-requirements' },
        service.layers.pythonRequirements,
        {
          package: { artifact: built.requirementsLayer.artifact },
          compatibleRuntimes: built.requirementsLayer.compatibleRuntimes,
          compatibleArchitectures: built.requirementsLayer.compatibleArchitectures,
        }
      );
    }
    // serverless-python-requirements would install the requirements again
    // into the prebuilt zips: its work is done.
    const hooks = this.serverless.pluginManager && this.serverless.pluginManager.hooks;
    if (hooks) {
      for (const event of Object.keys(hooks)) {
        if (Array.isArray(hooks[event])) {
          hooks[event] = hooks[event].filter((h) => !h || h.pluginName !== 'ServerlessPythonRequirements');
        }
      }
    }
  }
}

module.exports = Lambdapack;
`
