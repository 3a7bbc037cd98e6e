package invoke_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lambdapack/lambdapack/internal/invoke"
	"github.com/lambdapack/lambdapack/internal/testutil"
	"github.com/lambdapack/lambdapack/internal/tree"
)

const reporter = `
import os, sys, time
import shadow, fromopt, fromsite

def handler(event, context):
    a = context.get_remaining_time_in_millis()
    time.sleep(0.3)
    b = context.get_remaining_time_in_millis()
    return {
        "sys_path": sys.path,
        "cwd": os.getcwd(),
        "env": dict(os.environ),
        "shadow": shadow.WHERE,
        "fromopt": fromopt.WHERE,
        "fromsite": fromsite.WHERE,
        "executable": sys.executable,
        "context": {
            "function_name": context.function_name,
            "function_version": context.function_version,
            "invoked_function_arn": context.invoked_function_arn,
            "memory_limit_in_mb": context.memory_limit_in_mb,
            "aws_request_id": context.aws_request_id,
            "log_group_name": context.log_group_name,
            "log_stream_name": context.log_stream_name,
            "identity": [context.identity.cognito_identity_id, context.identity.cognito_identity_pool_id],
            "client_context": context.client_context,
        },
        "remaining": [a, b],
    }
`

// TestWhatTheHandlerSees runs a handler that reports sys.path, its
// environment, cwd and context through the real runtime client, with a
// layer, and checks them against Lambda's documented values.
func TestWhatTheHandlerSees(t *testing.T) {
	r, _ := testRunner(t, invoke.Options{Region: "eu-west-1"})
	code := filesTree(map[string]string{
		"app.py":    reporter,
		"shadow.py": `WHERE = "task"`,
	})
	layer1 := filesTree(map[string]string{
		"python/shadow.py":  `WHERE = "opt"`,
		"python/fromopt.py": `WHERE = "layer1"`,
		"python/lib/python3.12/site-packages/fromsite.py": `WHERE = "site"`,
		"bin/tool*": "#!/bin/sh\necho tool\n",
	})
	layer2 := filesTree(map[string]string{
		"python/fromopt.py":  `WHERE = "layer2"`, // a later layer wins
		"python/fromsite.py": `WHERE = "opt"`,    // site-packages comes first
	})
	fn := open(t, r, invoke.Spec{
		Name: "reporter", Handler: "app.handler", Runtime: "python3.12", Arch: "x86_64",
		Code: code, Layers: []*tree.Tree{layer1, layer2}, Timeout: 5 * time.Second, MemoryMB: 256,
		Env: map[string]string{"GREETING": "hello", "TZ": "Europe/Paris"},
	})
	res := call(t, fn, `{}`)
	if res.Failed() {
		t.Fatalf("%s: %s", res.ErrorType, res.Payload)
	}
	var got struct {
		SysPath    []string          `json:"sys_path"`
		Cwd        string            `json:"cwd"`
		Env        map[string]string `json:"env"`
		Shadow     string            `json:"shadow"`
		FromOpt    string            `json:"fromopt"`
		FromSite   string            `json:"fromsite"`
		Executable string            `json:"executable"`
		Context    map[string]any    `json:"context"`
		Remaining  []int             `json:"remaining"`
	}
	if err := json.Unmarshal(res.Payload, &got); err != nil {
		t.Fatalf("%s: %v", res.Payload, err)
	}
	task, opt := fn.TaskRoot(), fn.OptDir()
	runtimeDir := got.Env["LAMBDA_RUNTIME_DIR"]
	want := []string{task, filepath.Join(opt, "python/lib/python3.12/site-packages"), filepath.Join(opt, "python"), runtimeDir}
	if len(got.SysPath) < 5 || strings.Join(got.SysPath[:4], "\n") != strings.Join(want, "\n") {
		t.Errorf("sys.path starts\n%s\nwant\n%s", strings.Join(got.SysPath, "\n"), strings.Join(want, "\n"))
	}
	// Then the interpreter's standard library and the empty site-packages
	// of its environment: never the machine's own site-packages.
	base := filepath.Dir(filepath.Dir(testutil.Python(t, "3.12")))
	venv := filepath.Dir(filepath.Dir(got.Executable))
	for _, p := range got.SysPath[4:] {
		std := strings.HasPrefix(p, base+"/lib/python3") && !strings.Contains(p, "site-packages")
		if !std && p != filepath.Join(venv, "lib/python3.12/site-packages") {
			t.Errorf("sys.path holds %s, which is neither the standard library nor the environment's empty site-packages", p)
		}
	}
	if got.Cwd != task {
		t.Errorf("cwd %s, want the task root %s", got.Cwd, task)
	}
	if got.Shadow != "task" || got.FromOpt != "layer2" || got.FromSite != "site" {
		t.Errorf("imports: shadow from %s (want task), fromopt from %s (want layer2), fromsite from %s (want site)", got.Shadow, got.FromOpt, got.FromSite)
	}
	if !strings.HasPrefix(got.Executable, testutil.SharedCache(t)) || !strings.Contains(got.Executable, "/invoke/python/") {
		t.Errorf("sys.executable %s: not the environment without site-packages", got.Executable)
	}

	env := got.Env
	exact := map[string]string{
		"AWS_LAMBDA_FUNCTION_NAME":        "reporter",
		"_HANDLER":                        "app.handler",
		"LAMBDA_TASK_ROOT":                task,
		"AWS_REGION":                      "eu-west-1",
		"AWS_DEFAULT_REGION":              "eu-west-1",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/reporter",
		"AWS_EXECUTION_ENV":               "AWS_Lambda_python3.12",
		"AWS_LAMBDA_INITIALIZATION_TYPE":  "on-demand",
		"LANG":                            "en_US.UTF-8",
		"TZ":                              "Europe/Paris", // the function's own wins over Lambda's :UTC
		"GREETING":                        "hello",
	}
	for k, v := range exact {
		if env[k] != v {
			t.Errorf("%s=%q, want %q", k, env[k], v)
		}
	}
	if !regexp.MustCompile(`^\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}$`).MatchString(env["AWS_LAMBDA_LOG_STREAM_NAME"]) {
		t.Errorf("AWS_LAMBDA_LOG_STREAM_NAME=%q", env["AWS_LAMBDA_LOG_STREAM_NAME"])
	}
	if !regexp.MustCompile(`^127\.0\.0\.1:\d+$`).MatchString(env["AWS_LAMBDA_RUNTIME_API"]) {
		t.Errorf("AWS_LAMBDA_RUNTIME_API=%q", env["AWS_LAMBDA_RUNTIME_API"])
	}
	if !strings.HasSuffix(env["PATH"], ":/usr/local/bin:/usr/bin:/bin:"+filepath.Join(opt, "bin")) {
		t.Errorf("PATH=%q", env["PATH"])
	}
	if !strings.Contains(env["LD_LIBRARY_PATH"], ":"+filepath.Join(opt, "lib")) || !strings.Contains(env["LD_LIBRARY_PATH"], task+":") {
		t.Errorf("LD_LIBRARY_PATH=%q", env["LD_LIBRARY_PATH"])
	}
	if !regexp.MustCompile(`^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$`).MatchString(env["_X_AMZN_TRACE_ID"]) {
		t.Errorf("_X_AMZN_TRACE_ID=%q", env["_X_AMZN_TRACE_ID"])
	}
	if st, err := os.Stat(filepath.Join(opt, "bin", "tool")); err != nil || st.Mode().Perm() != 0o755 {
		t.Errorf("opt/bin/tool: %v %v", st, err)
	}

	c := got.Context
	ctxWant := map[string]any{
		"function_name": "reporter", "function_version": "$LATEST", "memory_limit_in_mb": "256",
		"invoked_function_arn": "arn:aws:lambda:eu-west-1:123456789012:function:reporter",
		"aws_request_id":       res.RequestID, "log_group_name": "/aws/lambda/reporter",
		"log_stream_name": env["AWS_LAMBDA_LOG_STREAM_NAME"], "client_context": nil,
	}
	for k, v := range ctxWant {
		if c[k] != v {
			t.Errorf("context.%s = %v, want %v", k, c[k], v)
		}
	}
	if id, _ := c["identity"].([]any); len(id) != 2 || id[0] != nil || id[1] != nil {
		t.Errorf("context.identity = %v", c["identity"])
	}
	a, b := got.Remaining[0], got.Remaining[1]
	if a > 5000 || a < 3500 || b > a-250 || b < a-3000 {
		t.Errorf("get_remaining_time_in_millis: %d, then %d 0.3 s later (timeout 5 s)", a, b)
	}
}
