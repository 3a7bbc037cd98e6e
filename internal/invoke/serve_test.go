package invoke_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lambdapack/lambdapack/internal/app"
	"github.com/lambdapack/lambdapack/internal/invoke"
	"github.com/lambdapack/lambdapack/internal/runtimeapi"
	"github.com/lambdapack/lambdapack/internal/testutil"
)

const samProject = `AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.12
    Timeout: 10
    Environment:
      Variables:
        STAGE: local
Resources:
  Api:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: api/
      Handler: app.handler
      Events:
        Item:
          Type: HttpApi
          Properties:
            Path: /items/{id}
            Method: GET
        Legacy:
          Type: Api
          Properties:
            Path: /v1/{proxy+}
            Method: ANY
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: worker/
      Handler: app.handler
      MemorySize: 256
  Boom:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: worker/
      Handler: app.boom
  Slow:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: worker/
      Handler: app.slow
  Sleepy:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: worker/
      Handler: app.slow
      Timeout: 1
`

const apiV1 = `import json, os
def handler(event, context):
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "body": json.dumps({"id": (event.get("pathParameters") or {}).get("id"), "version": event.get("version", "1.0"),
                                "stage": os.environ["STAGE"], "edition": 1})}
`

const worker = `import os, time
def handler(event, context):
    return {"event": event, "memory": context.memory_limit_in_mb, "stage": os.environ.get("STAGE")}
def boom(event, context):
    raise KeyError("missing")
def slow(event, context):
    time.sleep(event.get("sleep", 0.5))
    return os.getpid()
`

// TestServe serves a SAM project and talks to it as users do: boto3 and the
// aws CLI through the Invoke API, curl on its HTTP routes, eight invocations
// at once, an edit picked up by --watch; and once it stops, no process is
// left.
func TestServe(t *testing.T) {
	dir := t.TempDir()
	testutil.WriteFiles(t, dir, map[string]string{"template.yaml": samProject, "api/app.py": apiV1, "worker/app.py": worker})
	work := t.TempDir()
	r, _ := testRunner(t, invoke.Options{WorkDir: work})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p, err := app.OpenProjectRun(ctx, r, app.ProjectRunOptions{Dir: dir, Concurrency: 4, Notes: &testLog{t: t}, Env: app.EnvOptions{CacheDir: testutil.SharedCache(t)}})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := invoke.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() {
		served <- invoke.Serve(ctx, p, ln, invoke.ServeOptions{
			Watch: func(ctx context.Context) { p.Watch(ctx, 100*time.Millisecond, &testLog{t: t}) },
			Log:   &testLog{t: t},
		})
	}()
	base := "http://" + ln.Addr().String()

	// A second server on the same port is refused, saying what to do.
	if _, err := invoke.Listen(ln.Addr().String()); err == nil || !strings.Contains(err.Error(), "is in use") || !strings.Contains(err.Error(), "--port") {
		t.Errorf("a port in use: %v", err)
	}

	// boto3.
	py := testutil.MotoPython(t) // an interpreter with boto3
	script := `
import base64, json, sys, boto3
c = boto3.client("lambda", endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
r = c.invoke(FunctionName="Worker", Payload=json.dumps({"n": 1}).encode(), LogType="Tail")
out = {"status": r["StatusCode"], "payload": json.loads(r["Payload"].read()), "log": base64.b64decode(r["LogResult"]).decode(), "error": r.get("FunctionError")}
r = c.invoke(FunctionName="arn:aws:lambda:us-east-1:123456789012:function:Boom", Payload=b"{}")
out["boom"] = [r.get("FunctionError"), json.loads(r["Payload"].read())["errorType"]]
try:
    c.invoke(FunctionName="Nope", Payload=b"{}")
except c.exceptions.ResourceNotFoundException as e:
    out["missing"] = str(e)
print(json.dumps(out))
`
	cmd := exec.Command(py, "-c", script, base)
	cmd.Env = append(os.Environ(), "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("boto3: %v\n%s", err, b)
	}
	var got struct {
		Status  int
		Payload struct {
			Event  map[string]int
			Memory string
			Stage  string
		}
		Log, Error, Missing string
		Boom                []string
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("boto3 printed %s: %v", b, err)
	}
	if got.Status != 200 || got.Payload.Event["n"] != 1 || got.Payload.Memory != "256" || got.Payload.Stage != "local" || got.Error != "" ||
		!strings.Contains(got.Log, "REPORT RequestId: ") {
		t.Errorf("boto3 invoke: %+v", got)
	}
	if strings.Join(got.Boom, " ") != "Unhandled KeyError" || !strings.Contains(got.Missing, "Function not found") {
		t.Errorf("boto3 errors: %v, %q", got.Boom, got.Missing)
	}

	// The aws CLI.
	awsOut, err := exec.Command("bash", filepath.Join(testutil.RepoRoot(t), "scripts", "setup-awscli.sh")).Output()
	if err != nil {
		t.Fatalf("scripts/setup-awscli.sh: %v", err)
	}
	event := filepath.Join(t.TempDir(), "event.json")
	os.WriteFile(event, []byte(`{"from": "cli"}`), 0o644)
	outFile := filepath.Join(t.TempDir(), "out.json")
	cmd = exec.Command(strings.TrimSpace(string(awsOut)), "lambda", "invoke", "--endpoint-url", base, "--region", "us-east-1",
		"--function-name", "Worker", "--payload", "fileb://"+event, outFile)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=x", "AWS_SECRET_ACCESS_KEY=y", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	if b, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(b), `"StatusCode": 200`) {
		t.Errorf("aws lambda invoke: %v\n%s", err, b)
	}
	if b, _ := os.ReadFile(outFile); !strings.Contains(string(b), `"from": "cli"`) {
		t.Errorf("aws lambda invoke wrote %s", b)
	}

	// curl on the HTTP API route (payload 2.0) and the REST route (1.0).
	curl := func(path string) string {
		t.Helper()
		b, err := exec.Command("curl", "-s", "-S", "--max-time", "60", base+path).CombinedOutput()
		if err != nil {
			t.Fatalf("curl %s: %v\n%s", path, err, b)
		}
		return string(b)
	}
	if out := curl("/items/42"); out != `{"id": "42", "version": "2.0", "stage": "local", "edition": 1}` {
		t.Errorf("curl /items/42: %s", out)
	}
	if out := curl("/v1/a/b"); !strings.Contains(out, `"version": "1.0"`) {
		t.Errorf("curl /v1/a/b: %s", out)
	}
	if out := curl("/elsewhere"); out != `{"message":"Not Found"}`+"\n" {
		t.Errorf("curl /elsewhere: %q", out)
	}

	// The template's Timeout holds: Sleepy's 1 s, not Globals' 10 s.
	resp, err := http.Post(base+"/2015-03-31/functions/Sleepy/invocations", "application/json", strings.NewReader(`{"sleep": 3}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Header.Get("X-Amz-Function-Error") != "Unhandled" || !strings.Contains(string(b), "Task timed out after 1.00 seconds") {
		t.Errorf("Sleepy: %s %s", resp.Header.Get("X-Amz-Function-Error"), b)
	}

	// Eight invocations at once are all answered, by at most four processes.
	var wg sync.WaitGroup
	var mu sync.Mutex
	pids := map[string]int{}
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Post(base+"/2015-03-31/functions/Slow/invocations", "application/json", strings.NewReader("{}"))
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 || resp.Header.Get("X-Amz-Function-Error") != "" {
				t.Errorf("concurrent invoke: %d %s", resp.StatusCode, b)
				return
			}
			mu.Lock()
			pids[string(b)]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if n := 0; true {
		for _, c := range pids {
			n += c
		}
		if n != 8 || len(pids) > 4 {
			t.Errorf("8 invocations answered by processes %v (concurrency 4)", pids)
		}
	}

	// --watch: an edit is rebuilt and the next request runs it.
	os.WriteFile(filepath.Join(dir, "api", "app.py"), []byte(strings.Replace(apiV1, `"edition": 1`, `"edition": 2`, 1)), 0o644)
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(curl("/items/1"), `"edition": 2`) {
		if time.Now().After(deadline) {
			t.Fatal("the edit was not picked up")
		}
		time.Sleep(100 * time.Millisecond)
	}

	// An edit of the template: a new HttpApi route for Worker and a new
	// MemorySize. The watch reads the config again, serves the route and
	// opens Worker afresh with its new memory.
	edited := strings.Replace(samProject, "      MemorySize: 256\n", "      MemorySize: 512\n      Events:\n        Get:\n          Type: HttpApi\n          Properties:\n            Path: /worker\n            Method: GET\n", 1)
	os.WriteFile(filepath.Join(dir, "template.yaml"), []byte(edited), 0o644)
	for out := ""; !strings.Contains(out, `"memory": "512"`); out = curl("/worker") {
		if time.Now().After(deadline) {
			t.Fatalf("the template's edit was not picked up: /worker answers %s", out)
		}
		time.Sleep(100 * time.Millisecond)
	}

	cancel()
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
	p.Close()
	waitGone(t, "LAMBDA_TASK_ROOT="+work)
}

// A serverless function runs under the name Lambda gives it
// (service-stage-key): its context, environment and log group say so, and
// the Invoke API answers to that name as well as to the config's key, as
// boto3 code that calls a sibling function by its deployed name expects.
func TestProjectFunctionNames(t *testing.T) {
	dir := t.TempDir()
	testutil.WriteFiles(t, dir, map[string]string{
		"serverless.yml": `service: shop
provider:
  name: aws
  runtime: python3.12
  timeout: 2
functions:
  hello:
    handler: app.handler
`,
		"app.py": `import os
def handler(event, context):
    return [context.function_name, os.environ["AWS_LAMBDA_FUNCTION_NAME"], context.log_group_name, context.get_remaining_time_in_millis() <= 2000]
`,
	})
	r, _ := testRunner(t, invoke.Options{})
	ctx := context.Background()
	p, err := app.OpenProjectRun(ctx, r, app.ProjectRunOptions{Dir: dir, Stage: "qa", Notes: &testLog{t: t}, Env: app.EnvOptions{CacheDir: testutil.SharedCache(t)}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for _, name := range []string{"hello", "shop-qa-hello"} {
		f, ok := p.Function(name)
		if !ok {
			t.Fatalf("no function %s", name)
		}
		res, err := f.Invoke(ctx, runtimeapi.Invocation{Payload: []byte("{}")})
		if err != nil {
			t.Fatal(err)
		}
		if got := string(res.Payload); got != `["shop-qa-hello", "shop-qa-hello", "/aws/lambda/shop-qa-hello", true]` {
			t.Errorf("%s answered %s", name, got)
		}
	}
	if _, ok := p.Function("shop-dev-hello"); ok {
		t.Error("another stage's name found the function")
	}
}
