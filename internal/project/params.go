package project

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	toml "github.com/pelletier/go-toml/v2"
	yaml "go.yaml.in/yaml/v3"
)

// ParseParameterOverrides reads SAM template parameter values as sam build's
// --parameter-overrides takes them: KEY=VALUE or
// ParameterKey=KEY,ParameterValue=VALUE, separated by spaces; a value in
// double or single quotes may hold spaces.
func ParseParameterOverrides(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, tok := range splitQuoted(s) {
		key, val, ok := strings.Cut(tok, "=")
		if k, rest, long := strings.Cut(tok, ","); long && strings.HasPrefix(k, "ParameterKey=") && strings.HasPrefix(rest, "ParameterValue=") {
			key, val, ok = strings.TrimPrefix(k, "ParameterKey="), strings.TrimPrefix(rest, "ParameterValue="), true
		}
		if !ok || key == "" {
			return nil, fmt.Errorf("parameter override %q: write NAME=VALUE (or ParameterKey=NAME,ParameterValue=VALUE)", tok)
		}
		out[key] = unquote(val)
	}
	return out, nil
}

// splitQuoted splits s at spaces outside quotes.
func splitQuoted(s string) []string {
	var out []string
	var cur strings.Builder
	var quote rune
	for _, c := range s {
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
			cur.WriteRune(c)
		case c == '"' || c == '\'':
			quote = c
			cur.WriteRune(c)
		case c == ' ' || c == '\t' || c == '\n':
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteRune(c)
		}
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		return v[1 : len(v)-1]
	}
	return v
}

// samconfigParams reads the parameter_overrides sam command cmd ("build",
// "local_invoke", "local_start_api") takes from the project's samconfig:
// [default.<cmd>.parameters], else [default.global.parameters]. No
// samconfig, or none there, is no error.
func samconfigParams(dir, cmd string) (map[string]string, error) {
	for _, name := range []string{"samconfig.toml", "samconfig.yaml", "samconfig.yml"} {
		p := filepath.Join(dir, name)
		data, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", p, err)
		}
		var doc map[string]any
		if filepath.Ext(name) == ".toml" {
			err = toml.Unmarshal(data, &doc)
		} else {
			err = yaml.Unmarshal(data, &doc)
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w (fix it: lambdapack reads its parameter_overrides, as sam does)", p, err)
		}
		for _, section := range []string{cmd, "global"} {
			var s string
			switch v := dig(doc, "default", section, "parameters", "parameter_overrides").(type) {
			case string:
				s = v
			case []any:
				for _, it := range v {
					if str, ok := it.(string); ok {
						s += " " + str
					}
				}
			default:
				continue
			}
			params, err := ParseParameterOverrides(s)
			if err != nil {
				return nil, fmt.Errorf("%s: default.%s.parameters.parameter_overrides: %w", p, section, err)
			}
			return params, nil
		}
		return nil, nil
	}
	return nil, nil
}
