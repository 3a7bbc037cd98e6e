package cli_test

import (
	"bytes"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lambdapack/lambdapack/internal/cli"
	"github.com/lambdapack/lambdapack/internal/testutil"
)

// invokeMain runs lambdapack with stdin.
func invokeMain(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Main(args, strings.NewReader(stdin), &out, &errb)
	t.Logf("lambdapack %s -> %d\n%s", strings.Join(args, " "), code, errb.String())
	return code, out.String(), errb.String()
}

const invokeApp = `import os, sys, time
import six

def handler(event, context):
    print("handling", event)
    return {"six": six.__version__, "event": event, "greeting": os.environ.get("GREETING")}

def boom(event, context):
    raise ValueError("no good")

def slow(event, context):
    time.sleep(30)
`

// TestInvokeZip runs `lambdapack invoke --zip --layer` on zips lambdapack
// built: the result on stdout, Lambda's log lines on stderr, the error
// document and exit 1 for a function error or a timeout, exit 2 for input
// that cannot run.
func TestInvokeZip(t *testing.T) {
	cache := cliSharedCache(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	testutil.WriteFiles(t, src, map[string]string{"app.py": invokeApp})
	fn, layer := filepath.Join(dir, "fn.zip"), filepath.Join(dir, "layer.zip")
	if code, _, _ := cliMain(t, "function", "--src", src, "--runtime", "python3.12", "-o", fn, "--cache-dir", cache); code != 0 {
		t.Fatal("building the function")
	}
	if code, _, _ := cliMain(t, "layer", "six==1.17.0", "--runtime", "python3.12", "-o", layer, "--cache-dir", cache); code != 0 {
		t.Fatal("building the layer")
	}
	envFile := filepath.Join(dir, ".env")
	os.WriteFile(envFile, []byte("# local\nexport GREETING=\"hi there\"\n"), 0o644)
	base := []string{"invoke", "--zip", fn, "--layer", layer, "--cache-dir", cache}

	code, out, errOut := invokeMain(t, `{"k": [1, 2]}`, append(base, "--handler", "app.handler", "--event", "-", "--env-file", envFile)...)
	if code != 0 || strings.TrimSpace(out) != `{"six": "1.17.0", "event": {"k": [1, 2]}, "greeting": "hi there"}` {
		t.Errorf("exit %d, stdout %s", code, out)
	}
	for _, want := range []string{"START RequestId: ", "handling {'k': [1, 2]}\nEND RequestId: ", "REPORT RequestId: ", "\tInit Duration: "} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q", want)
		}
	}

	code, out, _ = invokeMain(t, "", append(base, "--handler", "app.boom")...)
	var doc map[string]any
	if code != 1 || json.Unmarshal([]byte(out), &doc) != nil || doc["errorType"] != "ValueError" || doc["errorMessage"] != "no good" || doc["requestId"] == "" || doc["stackTrace"] == nil {
		t.Errorf("a function error: exit %d, stdout %s", code, out)
	}

	start := time.Now()
	code, out, errOut = invokeMain(t, "", append(base, "--handler", "app.slow", "--timeout", "1")...)
	if code != 1 || !strings.Contains(out, `"errorType":"Sandbox.Timedout"`) || !strings.Contains(out, "Task timed out after 1.00 seconds") ||
		!strings.Contains(errOut, "Status: timeout") || time.Since(start) > 25*time.Second {
		t.Errorf("a timeout: exit %d, stdout %s, %v", code, out, time.Since(start))
	}

	code, out, _ = invokeMain(t, "", append(base, "--handler", "missing.handler")...)
	if code != 1 || !strings.Contains(out, `"errorType": "Runtime.ImportModuleError"`) || !strings.Contains(out, "Unable to import module 'missing': No module named 'missing'") {
		t.Errorf("an import error: exit %d, stdout %s", code, out)
	}

	for _, c := range []struct {
		stdin string
		args  []string
		want  string
	}{
		{"", []string{"--handler", "apphandler"}, `handler "apphandler" is not module.function`},
		{"{oops", []string{"--handler", "app.handler", "--event", "-"}, "the event on stdin is not JSON: line 1"},
		{"", []string{"--handler", "app.handler", "--timeout", "2000"}, "Lambda's timeout is 1 to 900 seconds"},
		{"", []string{"--handler", "app.handler", "--env-file", filepath.Join(dir, "missing.env")}, "reading --env-file"},
		{"", []string{"--handler", "app.handler", "--layer", fn}, "is a function zip"},
	} {
		code, out, errOut := invokeMain(t, c.stdin, append(base, c.args...)...)
		if code != 2 || out != "" || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr lacks %q", c.args, code, out, c.want)
		}
	}
	if left := testutil.ProcessesWith("AWS_LAMBDA_FUNCTION_NAME=fn\x00"); len(left) > 0 {
		t.Errorf("processes left behind: %v", left)
	}
}

// TestInvokeProject runs a SAM project's function by name, built first, with
// its Globals environment, and refuses a port in use for serve.
func TestInvokeProject(t *testing.T) {
	cache := cliSharedCache(t)
	dir := t.TempDir()
	testutil.WriteFiles(t, dir, map[string]string{
		"template.yaml": `Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.12
    Environment:
      Variables:
        GREETING: from the template
Resources:
  Hello:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: hello/
      Handler: app.handler
  Other:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: hello/
      Handler: app.handler
`,
		"hello/app.py": "import os\ndef handler(event, context):\n    return os.environ['GREETING'] + ' ' + context.function_name\n",
	})
	code, out, errOut := invokeMain(t, "", "invoke", "Hello", "--project", dir, "--cache-dir", cache)
	if code != 0 || strings.TrimSpace(out) != `"from the template Hello"` {
		t.Errorf("exit %d, stdout %s", code, out)
	}
	if !strings.Contains(errOut, "Built ") {
		t.Errorf("the project was not built first:\n%s", errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "dist", "Hello.zip")); err != nil {
		t.Errorf("no build output: %v", err)
	}
	code, _, errOut = invokeMain(t, "", "invoke", "--project", dir, "--cache-dir", cache)
	if code != 2 || !strings.Contains(errOut, "the project has 2 functions (Hello, Other): name the one to invoke") {
		t.Errorf("no name: exit %d", code)
	}
	code, _, errOut = invokeMain(t, "", "invoke", "Nope", "--project", dir, "--cache-dir", cache)
	if code != 2 || !strings.Contains(errOut, "has no function Nope (it has Hello, Other)") {
		t.Errorf("unknown name: exit %d", code)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	code, _, errOut = invokeMain(t, "", "serve", "--project", dir, "--port", port, "--cache-dir", cache)
	if code != 2 || !strings.Contains(errOut, "port "+port+" is in use") {
		t.Errorf("serve on a port in use: exit %d", code)
	}
}

// TestInvokeParameterOverrides: a template whose runtime is a parameter
// with no default runs with --parameter-overrides, as `sam local invoke`
// takes it, and says how to give the value without it.
func TestInvokeParameterOverrides(t *testing.T) {
	cache := cliSharedCache(t)
	dir := t.TempDir()
	testutil.WriteFiles(t, dir, map[string]string{
		"template.yaml": `Transform: AWS::Serverless-2016-10-31
Parameters:
  PythonRuntime:
    Type: String
  Greeting:
    Type: String
    Default: from the default
Resources:
  Hello:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: hello/
      Handler: app.handler
      Runtime: !Ref PythonRuntime
      Environment:
        Variables:
          GREETING: !Ref Greeting
`,
		"hello/app.py": "import os, sys\ndef handler(event, context):\n    return '%s %d.%d' % (os.environ['GREETING'], *sys.version_info[:2])\n",
	})
	code, _, errOut := invokeMain(t, "", "invoke", "Hello", "--project", dir, "--cache-dir", cache)
	if code != 2 || !strings.Contains(errOut, "--parameter-overrides PythonRuntime=VALUE") {
		t.Errorf("without a value: exit %d\n%s", code, errOut)
	}
	code, out, errOut := invokeMain(t, "", "invoke", "Hello", "--project", dir, "--cache-dir", cache,
		"--parameter-overrides", "PythonRuntime=python3.12 Greeting=overridden")
	if code != 0 || strings.TrimSpace(out) != `"overridden 3.12"` {
		t.Errorf("exit %d, stdout %s\n%s", code, out, errOut)
	}
	code, _, errOut = invokeMain(t, "", "invoke", "Hello", "--project", dir, "--cache-dir", cache, "--parameter-overrides", "PythonRuntime")
	if code != 2 || !strings.Contains(errOut, "--parameter-overrides") {
		t.Errorf("a malformed value: exit %d\n%s", code, errOut)
	}
}

// TestInvokeSamconfigLocalInvoke: invoke reads samconfig's parameter
// values where `sam local invoke` does, [default.local_invoke.parameters]
// (not build's section), for the run and for the build it runs first.
func TestInvokeSamconfigLocalInvoke(t *testing.T) {
	cache := cliSharedCache(t)
	dir := t.TempDir()
	testutil.WriteFiles(t, dir, map[string]string{
		"template.yaml": `Transform: AWS::Serverless-2016-10-31
Parameters:
  PythonRuntime:
    Type: String
  Stage:
    Type: String
    Default: prod
Resources:
  Hello:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: hello/
      Handler: app.handler
      Runtime: !Ref PythonRuntime
      Environment:
        Variables:
          STAGE: !Ref Stage
`,
		"samconfig.toml": `version = 0.1
[default.build.parameters]
parameter_overrides = "Stage=from-build"
[default.local_invoke.parameters]
parameter_overrides = "PythonRuntime=python3.12 Stage=local"
`,
		"hello/app.py": "import os, sys\ndef handler(event, context):\n    return '%s %d.%d' % (os.environ['STAGE'], *sys.version_info[:2])\n",
	})
	code, out, errOut := invokeMain(t, "", "invoke", "Hello", "--project", dir, "--cache-dir", cache)
	if code != 0 || strings.TrimSpace(out) != `"local 3.12"` {
		t.Errorf("exit %d, stdout %s\n%s", code, out, errOut)
	}
	code, out, errOut = invokeMain(t, "", "invoke", "Hello", "--project", dir, "--cache-dir", cache, "--parameter-overrides", "Stage=flag")
	if code != 0 || strings.TrimSpace(out) != `"flag 3.12"` {
		t.Errorf("the flag wins: exit %d, stdout %s\n%s", code, out, errOut)
	}
}

// TestServeSamconfigLocalStartAPI: serve reads samconfig's parameter
// values where `sam local start-api` does, [default.local_start_api.parameters]
// (a malformed value there is the error that names it), not invoke's.
func TestServeSamconfigLocalStartAPI(t *testing.T) {
	cache := cliSharedCache(t)
	dir := t.TempDir()
	testutil.WriteFiles(t, dir, map[string]string{
		"template.yaml":  "Transform: AWS::Serverless-2016-10-31\nParameters:\n  PythonRuntime:\n    Type: String\nResources:\n  Hello:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: hello/\n      Handler: app.handler\n      Runtime: !Ref PythonRuntime\n",
		"samconfig.toml": "version = 0.1\n[default.local_invoke.parameters]\nparameter_overrides = \"PythonRuntime=python3.12\"\n[default.local_start_api.parameters]\nparameter_overrides = \"PythonRuntime\"\n",
		"hello/app.py":   "def handler(event, context):\n    return 1\n",
	})
	code, _, errOut := invokeMain(t, "", "serve", "--project", dir, "--port", "0", "--cache-dir", cache)
	if code != 2 || !strings.Contains(errOut, "default.local_start_api.parameters.parameter_overrides") {
		t.Errorf("exit %d:\n%s", code, errOut)
	}
}

// TestInvokeExample runs the examples' function with its layer (numpy,
// pydantic, requests) as the README shows it, on x86_64 and, under qemu
// with Debian's arm64 CPython 3.11, on arm64.
func TestInvokeExample(t *testing.T) {
	cache := cliSharedCache(t)
	repo := testutil.RepoRoot(t)
	example := filepath.Join(repo, "examples", "hello")
	root := testutil.ARM64Python(t)[2]
	for _, c := range []struct{ runtime, arch string }{{"python3.12", "x86_64"}, {"python3.11", "arm64"}} {
		t.Run(c.arch, func(t *testing.T) {
			dir := t.TempDir()
			code := filepath.Join(dir, "code")
			testutil.WriteFiles(t, code, map[string]string{"handler.py": readFile(t, filepath.Join(example, "handler.py"))})
			fn, layer := filepath.Join(dir, "fn.zip"), filepath.Join(dir, "layer.zip")
			if rc, _, _ := cliMain(t, "function", "--src", code, "--runtime", c.runtime, "--arch", c.arch, "-o", fn, "--cache-dir", cache); rc != 0 {
				t.Fatal("building the function")
			}
			if rc, _, _ := cliMain(t, "layer", "-r", filepath.Join(example, "requirements.txt"), "--runtime", c.runtime, "--arch", c.arch, "-o", layer, "--cache-dir", cache); rc != 0 {
				t.Fatal("building the layer")
			}
			args := []string{"invoke", "--zip", fn, "--layer", layer, "--handler", "handler.handler", "--event", "-", "--timeout", "120", "--cache-dir", cache}
			if c.arch == "arm64" {
				args = append(args, "--rootfs", root)
			}
			rc, out, errOut := invokeMain(t, `{"name": "lambda", "values": [1, 2, 3]}`, args...)
			var res struct {
				StatusCode int
				Body       string
			}
			if rc != 0 || json.Unmarshal([]byte(out), &res) != nil || res.StatusCode != 200 ||
				!strings.Contains(res.Body, `"greeting": "hello, lambda"`) || !strings.Contains(res.Body, `"mean": 2.0`) {
				t.Errorf("exit %d, stdout %s", rc, out)
			}
			if !strings.Contains(errOut, "REPORT RequestId: ") || (c.arch == "arm64") != strings.Contains(errOut, "under qemu-aarch64") {
				t.Errorf("stderr:\n%s", errOut)
			}
		})
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestServeNamesFunctionWithoutInterpreter: serve of a project with one
// function whose interpreter is missing (arm64 on this machine, no
// --rootfs) said how to make a root folder but not which function needed
// it, nor how to serve the others.
func TestServeNamesFunctionWithoutInterpreter(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the arm64 function needs --rootfs only on an x86_64 machine")
	}
	cache := cliSharedCache(t)
	dir := t.TempDir()
	testutil.WriteFiles(t, dir, map[string]string{
		"template.yaml": `Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.12
    Handler: app.handler
    CodeUri: hello/
Resources:
  Hello:
    Type: AWS::Serverless::Function
  Arm:
    Type: AWS::Serverless::Function
    Properties:
      Architectures: [arm64]
`,
		"hello/app.py": "def handler(event, context):\n    return 1\n",
	})
	code, _, errOut := invokeMain(t, "", "serve", "--project", dir, "--port", "0", "--cache-dir", cache)
	if code != 2 || !strings.Contains(errOut, "function Arm: ") || !strings.Contains(errOut, "--rootfs") || !strings.Contains(errOut, "(to run the others meanwhile: --only Hello)") {
		t.Errorf("exit %d:\n%s", code, errOut)
	}
}
