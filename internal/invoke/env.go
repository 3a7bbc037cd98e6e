package invoke

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// reserved are the variables Lambda sets itself and refuses in a function's
// configuration.
var reserved = []string{
	"_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
	"AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
	"AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
	"AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
	"AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
}

// credentials may come from --env-file (Lambda gives a function its role's;
// locally they are the caller's to give).
var credentials = []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}

// passThrough are taken from lambdapack's own environment, so that the
// function's AWS calls have the caller's credentials and endpoints, as
// `sam local invoke` gives them.
var passThrough = []string{
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
	"AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CA_BUNDLE", "AWS_ENDPOINT_URL",
	"HOME",
}

// CheckVariables refuses variables Lambda reserves; from names where they
// came from ("template.yaml: ApiFunction", "--env-file .env").
func CheckVariables(vars map[string]string, from string, allowCredentials bool) error {
	for _, k := range sortedKeys(vars) {
		if k == "" || strings.ContainsAny(k, "=\x00") {
			return fmt.Errorf("%s: %q is not a variable name", from, k)
		}
		if slices.Contains(reserved, k) && !(allowCredentials && slices.Contains(credentials, k)) {
			return fmt.Errorf("%s: %s is reserved: Lambda sets it itself and refuses it in a function's configuration", from, k)
		}
		if strings.ContainsRune(vars[k], 0) {
			return fmt.Errorf("%s: %s holds a NUL byte", from, k)
		}
	}
	return nil
}

// ReadEnvFile reads variables from a dotenv file (KEY=VALUE lines, # comments,
// optional `export ` and quotes) or from SAM's --env-vars JSON ({"Function":
// {"KEY": "value"}, "Parameters": {...}}: Parameters for every function,
// then the function's own).
func ReadEnvFile(path, function string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading --env-file: %w", err)
	}
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' {
		var doc map[string]map[string]any
		if err := json.Unmarshal(t, &doc); err != nil {
			return nil, fmt.Errorf("--env-file %s: a JSON env file maps function names (or Parameters) to variables: %w", path, err)
		}
		out := map[string]string{}
		for _, section := range []string{"Parameters", function} {
			for k, v := range doc[section] {
				switch v := v.(type) {
				case string:
					out[k] = v
				case nil:
					out[k] = ""
				default:
					b, _ := json.Marshal(v)
					out[k] = string(b)
				}
			}
		}
		return out, nil
	}
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		k, v, ok := strings.Cut(line, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" || strings.ContainsAny(k, " \t\"'") {
			return nil, fmt.Errorf("--env-file %s:%d: write KEY=VALUE (got %q)", path, n, truncate(line, 60))
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' && v[len(v)-1] == '"' || v[0] == '\'' && v[len(v)-1] == '\'') {
			q := v[0]
			v = v[1 : len(v)-1]
			if q == '"' {
				v = strings.NewReplacer(`\n`, "\n", `\"`, `"`, `\\`, `\`).Replace(v)
			}
		} else if i := strings.Index(v, " #"); i >= 0 {
			v = strings.TrimSpace(v[:i])
		}
		out[k] = v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("--env-file %s: %w", path, err)
	}
	return out, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// layout is where a function's folders are.
type layout struct {
	task, opt, runtime string
	venvBin            string // the interpreter environment's bin folder
}

// lambdaEnv is the environment Lambda gives a function, with the function's
// own variables (which may not replace Lambda's) and the pass-through ones.
func lambdaEnv(s *Spec, l layout, region, api string, host func(string) string) []string {
	minor := s.target.Python()
	env := map[string]string{
		// Lambda's defaults, which a function's own variables may replace.
		"TZ":              ":UTC",
		"LANG":            "en_US.UTF-8",
		"PATH":            strings.Join([]string{l.venvBin, "/usr/local/bin", "/usr/bin", "/bin", filepath.Join(l.opt, "bin")}, ":"),
		"LD_LIBRARY_PATH": strings.Join([]string{filepath.Join(l.runtime, "lib"), l.task, filepath.Join(l.task, "lib"), filepath.Join(l.opt, "lib")}, ":"),
	}
	for _, k := range passThrough {
		if v := host(k); v != "" {
			env[k] = v
		}
	}
	for k, v := range s.Env {
		env[k] = v
	}
	// sys.path after the task root (the working directory, which `python -m`
	// puts first): the layers' folders, then the runtime's; a PYTHONPATH of
	// the function's own goes before them.
	pythonPath := []string{
		filepath.Join(l.opt, "python", "lib", "python"+minor, "site-packages"),
		filepath.Join(l.opt, "python"),
		l.runtime,
	}
	if own := s.Env["PYTHONPATH"]; own != "" {
		pythonPath = append([]string{own}, pythonPath...)
	}
	env["PYTHONPATH"] = strings.Join(pythonPath, ":")
	var stream [16]byte
	_, _ = rand.Read(stream[:])
	now := time.Now().UTC()
	// Lambda's own, which nothing replaces.
	lambda := map[string]string{
		"_HANDLER":                        s.Handler,
		"AWS_REGION":                      region,
		"AWS_DEFAULT_REGION":              region,
		"AWS_EXECUTION_ENV":               "AWS_Lambda_" + s.target.Runtime,
		"AWS_LAMBDA_FUNCTION_NAME":        s.Name,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": fmt.Sprint(s.memoryMB()),
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_INITIALIZATION_TYPE":  "on-demand",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/" + s.Name,
		"AWS_LAMBDA_LOG_STREAM_NAME":      now.Format("2006/01/02") + "/[$LATEST]" + hex.EncodeToString(stream[:]),
		"AWS_LAMBDA_RUNTIME_API":          api,
		"LAMBDA_TASK_ROOT":                l.task,
		"LAMBDA_RUNTIME_DIR":              l.runtime,
	}
	for k, v := range lambda {
		env[k] = v
	}
	out := make([]string, 0, len(env))
	for _, k := range sortedKeys(env) {
		out = append(out, k+"="+env[k])
	}
	return out
}
