package project

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	toml "github.com/pelletier/go-toml/v2"
	yaml "go.yaml.in/yaml/v3"
)

// SAMDeploy is what sam deploy would use from the project's samconfig
// (samconfig.toml, samconfig.yaml or samconfig.yml beside the template):
// the [ENV.deploy.parameters] values, else [ENV.global.parameters]'s, of
// the config environment ENV ("default" when "").
type SAMDeploy struct {
	File      string // the samconfig read; "" when there is none
	StackName string
	Region    string
}

// ReadSAMDeploy reads the project's samconfig for config environment env.
// No samconfig is not an error: File is then "".
func ReadSAMDeploy(dir, env string) (SAMDeploy, error) {
	if env == "" {
		env = "default"
	}
	for _, name := range []string{"samconfig.toml", "samconfig.yaml", "samconfig.yml"} {
		p := filepath.Join(dir, name)
		data, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return SAMDeploy{}, fmt.Errorf("reading %s: %w", p, err)
		}
		var doc map[string]any
		if filepath.Ext(name) == ".toml" {
			err = toml.Unmarshal(data, &doc)
		} else {
			err = yaml.Unmarshal(data, &doc)
		}
		if err != nil {
			return SAMDeploy{}, fmt.Errorf("reading %s: %w (fix it, or give the stack with --stack-name)", p, err)
		}
		d := SAMDeploy{File: p}
		for _, cmd := range []string{"global", "deploy"} { // deploy's win
			params, _ := dig(doc, env, cmd, "parameters").(map[string]any)
			if s, ok := params["stack_name"].(string); ok && s != "" {
				d.StackName = s
			}
			if s, ok := params["region"].(string); ok && s != "" {
				d.Region = s
			}
		}
		return d, nil
	}
	return SAMDeploy{}, nil
}

func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}
