package runtimeapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lambdapack/lambdapack/internal/runtimeapi"
	"github.com/lambdapack/lambdapack/internal/testutil"
)

const handlers = `
import json, os, sys, time

def ok(event, context):
    print("hello from the handler")
    return {"echo": event, "pid": os.getpid(), "request": context.aws_request_id}

def remaining(event, context):
    a = context.get_remaining_time_in_millis()
    time.sleep(0.2)
    b = context.get_remaining_time_in_millis()
    return {"a": a, "b": b}

def boom(event, context):
    raise ValueError("bad value: " + str(event.get("n")))

def slow(event, context):
    print("going to sleep", flush=True)
    time.sleep(30)
    return "late"

def leave(event, context):
    sys.exit(3)

def big(event, context):
    return "x" * (10 * 1024 * 1024)

def chatty(event, context):
    line = "y" * 1023 + "\n"
    for _ in range(10 * 1024):
        sys.stdout.write(line)
    return "done"

def spew(event, context):
    sys.stdout.write("z" * (10 * 1024 * 1024))
    return "spewed"

def nap(event, context):
    time.sleep(0.3)
    return os.getpid()
`

func newFunction(t *testing.T, handler string, cfg runtimeapi.Config) (*runtimeapi.Function, *testutil.SyncBuffer) {
	t.Helper()
	log := &testutil.SyncBuffer{}
	cfg.Name = "fn"
	cfg.Log = log
	if cfg.Start == nil {
		cfg.Start = pythonFunction(t, map[string]string{"app.py": handlers}, handler)
	}
	if cfg.InitTimeout == 0 {
		cfg.InitTimeout = 30 * time.Second // a loaded machine
	}
	fn, err := runtimeapi.NewFunction(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fn.Close() })
	return fn, log
}

func invoke(t *testing.T, fn *runtimeapi.Function, payload string) *runtimeapi.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := fn.Invoke(ctx, runtimeapi.Invocation{Payload: []byte(payload)})
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	return res
}

var reportRE = regexp.MustCompile(`REPORT RequestId: ([0-9a-f-]{36})\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB\tMax Memory Used: [1-9]\d* MB\t(Init Duration: \d+\.\d\d ms\t)?`)

func TestReturnsWarm(t *testing.T) {
	fn, log := newFunction(t, "app.ok", runtimeapi.Config{})
	first := invoke(t, fn, `{"n": 1}`)
	if first.Failed() {
		t.Fatalf("failed: %s %s", first.ErrorType, first.Payload)
	}
	var out struct {
		Echo    map[string]int `json:"echo"`
		PID     int            `json:"pid"`
		Request string         `json:"request"`
	}
	if err := json.Unmarshal(first.Payload, &out); err != nil {
		t.Fatalf("payload %s: %v", first.Payload, err)
	}
	if out.Echo["n"] != 1 || out.Request != first.RequestID {
		t.Errorf("payload %s, request id %s", first.Payload, first.RequestID)
	}
	if first.InitDuration <= 0 || first.Duration <= 0 || first.MaxMemoryUsedMB <= 0 {
		t.Errorf("cold start: init %v, duration %v, memory %d MB", first.InitDuration, first.Duration, first.MaxMemoryUsedMB)
	}
	second := invoke(t, fn, `{"n": 2}`)
	var out2 struct{ PID int }
	_ = json.Unmarshal(second.Payload, &out2)
	if out2.PID != out.PID {
		t.Errorf("the second invocation ran in process %d, the first in %d: not kept warm", out2.PID, out.PID)
	}
	if second.InitDuration != 0 {
		t.Errorf("a warm invocation reports an init duration %v", second.InitDuration)
	}
	logs := log.String()
	want := fmt.Sprintf("START RequestId: %s Version: $LATEST\nhello from the handler\nEND RequestId: %s\nREPORT RequestId: %s\t", first.RequestID, first.RequestID, first.RequestID)
	if !strings.Contains(logs, want) {
		t.Errorf("log lacks\n%q\nlog:\n%s", want, logs)
	}
	reports := reportRE.FindAllStringSubmatch(logs, -1)
	if len(reports) != 2 || reports[0][2] == "" || reports[1][2] != "" {
		t.Errorf("want two REPORT lines, the first with Init Duration:\n%s", logs)
	}
	if !strings.Contains(string(second.LogTail), "START RequestId: "+second.RequestID) || !strings.Contains(string(second.LogTail), "REPORT RequestId: "+second.RequestID) || strings.Contains(string(second.LogTail), first.RequestID) {
		t.Errorf("log tail of the second invocation:\n%s", second.LogTail)
	}
}

func TestDeadlineFalls(t *testing.T) {
	fn, _ := newFunction(t, "app.remaining", runtimeapi.Config{Timeout: 5 * time.Second})
	res := invoke(t, fn, `{}`)
	var r struct{ A, B int }
	if err := json.Unmarshal(res.Payload, &r); err != nil {
		t.Fatalf("%s: %v", res.Payload, err)
	}
	if r.A > 5000 || r.A < 4000 || r.B > r.A-150 || r.B < r.A-2000 {
		t.Errorf("get_remaining_time_in_millis: %d then %d after 0.2 s, with a 5 s timeout", r.A, r.B)
	}
}

func TestRaises(t *testing.T) {
	fn, log := newFunction(t, "app.boom", runtimeapi.Config{})
	res := invoke(t, fn, `{"n": 7}`)
	if res.ErrorType != "ValueError" || res.Status != runtimeapi.StatusError {
		t.Fatalf("error type %q status %q: %s", res.ErrorType, res.Status, res.Payload)
	}
	doc, ok := runtimeapi.ParseError(res.Payload)
	if !ok || doc.ErrorMessage != "bad value: 7" || doc.RequestID != res.RequestID || len(doc.StackTrace) == 0 || !strings.Contains(doc.StackTrace[0], "app.py") {
		t.Errorf("error document %s", res.Payload)
	}
	if !strings.Contains(log.String(), "[ERROR] ValueError: bad value: 7") {
		t.Errorf("the runtime's error line is not in the log:\n%s", log.String())
	}
	// A function error leaves the process warm.
	again := invoke(t, fn, `{"n": 8}`)
	if again.InitDuration != 0 || again.ErrorType != "ValueError" {
		t.Errorf("after a function error: init %v, %s", again.InitDuration, again.Payload)
	}
}

func TestTimeout(t *testing.T) {
	fn, log := newFunction(t, "app.slow", runtimeapi.Config{Timeout: time.Second})
	start := time.Now()
	res := invoke(t, fn, `{}`)
	if took := time.Since(start); took > 15*time.Second {
		t.Errorf("the timeout took %v", took)
	}
	if res.Status != runtimeapi.StatusTimeout || res.ErrorType != "Sandbox.Timedout" {
		t.Fatalf("status %q type %q", res.Status, res.ErrorType)
	}
	want := fmt.Sprintf(`{"errorType":"Sandbox.Timedout","errorMessage":"RequestId: %s Error: Task timed out after 1.00 seconds"}`, res.RequestID)
	if string(res.Payload) != want {
		t.Errorf("payload\n%s\nwant\n%s", res.Payload, want)
	}
	logs := log.String()
	if !regexp.MustCompile(`going to sleep\n\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ` + res.RequestID + ` Task timed out after 1\.00 seconds\nEND RequestId`).MatchString(logs) {
		t.Errorf("log:\n%s", logs)
	}
	if !strings.Contains(logs, "Duration: 1000.00 ms\tBilled Duration: ") || !strings.Contains(logs, "Status: timeout") {
		t.Errorf("REPORT of a timeout:\n%s", logs)
	}
	if n := fn.Processes(); n != 0 {
		t.Errorf("%d processes after a timeout, want the timed-out one gone", n)
	}
}

func TestInitError(t *testing.T) {
	start := pythonFunction(t, map[string]string{"app.py": "import not_there\n"}, "app.handler")
	fn, log := newFunction(t, "", runtimeapi.Config{Start: start})
	res := invoke(t, fn, `{}`)
	doc, _ := runtimeapi.ParseError(res.Payload)
	if res.ErrorType != "Runtime.ImportModuleError" || doc.ErrorMessage != "Unable to import module 'app': No module named 'not_there'" {
		t.Fatalf("type %q: %s", res.ErrorType, res.Payload)
	}
	logs := log.String()
	for _, want := range []string{"INIT_REPORT Init Duration: ", "\tPhase: init\tStatus: error\tError Type: Runtime.ImportModuleError", "Status: error\tError Type: Runtime.ImportModuleError\t"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
}

func TestExit(t *testing.T) {
	fn, _ := newFunction(t, "app.leave", runtimeapi.Config{})
	res := invoke(t, fn, `{}`)
	want := fmt.Sprintf(`{"errorType":"Runtime.ExitError","errorMessage":"RequestId: %s Error: Runtime exited with error: exit status 3"}`, res.RequestID)
	if string(res.Payload) != want {
		t.Errorf("payload\n%s\nwant\n%s", res.Payload, want)
	}
	// The next invocation starts a new process.
	again := invoke(t, fn, `{}`)
	if again.InitDuration == 0 || again.ErrorType != "Runtime.ExitError" {
		t.Errorf("after an exit: init %v, %s", again.InitDuration, again.Payload)
	}
}

func TestResponseTooLarge(t *testing.T) {
	fn, _ := newFunction(t, "app.big", runtimeapi.Config{Timeout: 20 * time.Second})
	res := invoke(t, fn, `{}`)
	doc, _ := runtimeapi.ParseError(res.Payload)
	if res.ErrorType != "Function.ResponseSizeTooLarge" || !strings.Contains(doc.ErrorMessage, "exceeded maximum allowed payload size (6291556 bytes)") || !strings.HasPrefix(doc.ErrorMessage, "Response payload size (1048576") {
		t.Errorf("type %q: %s", res.ErrorType, res.Payload)
	}
}

func TestChattyOutputStreams(t *testing.T) {
	fn, log := newFunction(t, "app.chatty", runtimeapi.Config{Timeout: 20 * time.Second})
	res := invoke(t, fn, `{}`)
	if res.Failed() || string(res.Payload) != `"done"` {
		t.Fatalf("%s %s", res.ErrorType, res.Payload)
	}
	logs := log.String()
	if n := strings.Count(logs, strings.Repeat("y", 1023)+"\n"); n != 10*1024 {
		t.Errorf("%d of 10240 lines logged", n)
	}
	if !strings.HasSuffix(strings.TrimRight(logs, "\t\n"), "") || !strings.Contains(logs, strings.Repeat("y", 1023)+"\nEND RequestId: "+res.RequestID) {
		t.Errorf("END does not follow the last line of output")
	}
	if len(res.LogTail) > runtimeapi.LogTailBytes {
		t.Errorf("log tail of %d bytes", len(res.LogTail))
	}
}

func TestConcurrency(t *testing.T) {
	fn, _ := newFunction(t, "app.nap", runtimeapi.Config{Concurrency: 3, Timeout: 30 * time.Second})
	var wg sync.WaitGroup
	var mu sync.Mutex
	pids := map[string]int{}
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := invoke(t, fn, `{}`)
			if res.Failed() {
				t.Errorf("%s %s", res.ErrorType, res.Payload)
				return
			}
			mu.Lock()
			pids[string(res.Payload)]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	total := 0
	for _, n := range pids {
		total += n
	}
	if total != 8 || len(pids) > 3 || len(pids) < 2 {
		t.Errorf("8 invocations ran in processes %v (concurrency 3)", pids)
	}
	if n := fn.Processes(); n > 3 {
		t.Errorf("%d processes for concurrency 3", n)
	}
}

func TestInvokeAPI(t *testing.T) {
	ok, _ := newFunction(t, "app.ok", runtimeapi.Config{})
	boom, _ := newFunction(t, "app.boom", runtimeapi.Config{})
	fns := map[string]*runtimeapi.Function{"ok": ok, "boom": boom}
	srv := httptest.NewServer(&runtimeapi.InvokeAPI{Lookup: func(n string) (*runtimeapi.Function, bool) {
		f, found := fns[n]
		return f, found
	}, Names: func() []string { return []string{"boom", "ok"} }})
	defer srv.Close()

	post := func(path, body string, hdr map[string]string) (*http.Response, []byte) {
		req, _ := http.NewRequest("POST", srv.URL+path, strings.NewReader(body))
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}

	resp, body := post("/2015-03-31/functions/ok/invocations", `{"a":1}`, map[string]string{"X-Amz-Log-Type": "Tail", "X-Amz-Client-Context": base64.StdEncoding.EncodeToString([]byte(`{"custom":{"k":"v"}}`))})
	if resp.StatusCode != 200 || resp.Header.Get("X-Amz-Function-Error") != "" || !bytes.Contains(body, []byte(`"echo": {"a": 1}`)) {
		t.Errorf("ok: %d %s", resp.StatusCode, body)
	}
	tail, _ := base64.StdEncoding.DecodeString(resp.Header.Get("X-Amz-Log-Result"))
	if !bytes.Contains(tail, []byte("hello from the handler")) || !bytes.Contains(tail, []byte("REPORT RequestId: ")) {
		t.Errorf("log tail %q", tail)
	}
	if resp.Header.Get("X-Amz-Executed-Version") != "$LATEST" {
		t.Errorf("headers %v", resp.Header)
	}

	resp, body = post("/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Aboom/invocations", `{"n":2}`, nil)
	if resp.StatusCode != 200 || resp.Header.Get("X-Amz-Function-Error") != "Unhandled" || !bytes.Contains(body, []byte(`"errorType": "ValueError"`)) {
		t.Errorf("boom by ARN: %d %v %s", resp.StatusCode, resp.Header, body)
	}

	resp, body = post("/2015-03-31/functions/nope/invocations", `{}`, nil)
	if resp.StatusCode != 404 || resp.Header.Get("X-Amzn-Errortype") != "ResourceNotFoundException" || !bytes.Contains(body, []byte("this endpoint serves boom, ok")) {
		t.Errorf("unknown function: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	resp, body = post("/2015-03-31/functions/ok/invocations", `{"a":`, nil)
	if resp.StatusCode != 400 || resp.Header.Get("X-Amzn-Errortype") != "InvalidRequestContentException" || !bytes.Contains(body, []byte("Could not parse request body into json")) {
		t.Errorf("non-JSON event: %d %s", resp.StatusCode, body)
	}
	resp, body = post("/2015-03-31/functions/ok/invocations", `"`+strings.Repeat("z", runtimeapi.MaxRequestPayload)+`"`, nil)
	if resp.StatusCode != 413 || !bytes.Contains(body, []byte("Request must be smaller than 6291456 bytes")) {
		t.Errorf("oversized event: %d %s", resp.StatusCode, body)
	}
	resp, _ = post("/2015-03-31/functions/ok/invocations", `{}`, map[string]string{"X-Amz-Invocation-Type": "DryRun"})
	if resp.StatusCode != 204 {
		t.Errorf("DryRun: %d", resp.StatusCode)
	}
	resp, _ = post("/2015-03-31/functions/ok/invocations", `{}`, map[string]string{"X-Amz-Invocation-Type": "Event"})
	if resp.StatusCode != 202 || resp.Header.Get("X-Amzn-Requestid") == "" {
		t.Errorf("Event: %d", resp.StatusCode)
	}
}

func TestOverMemorySaysSo(t *testing.T) {
	fn, log := newFunction(t, "app.ok", runtimeapi.Config{MemoryMB: 1})
	res := invoke(t, fn, `{}`)
	if res.Failed() || res.MaxMemoryUsedMB <= 1 {
		t.Fatalf("%s %s, %d MB", res.ErrorType, res.Payload, res.MaxMemoryUsedMB)
	}
	if want := fmt.Sprintf("lambdapack: fn used %d MB, more than its 1 MB: Lambda would stop it (Runtime.OutOfMemory)", res.MaxMemoryUsedMB); !strings.Contains(log.String(), want) {
		t.Errorf("log lacks %q:\n%s", want, log.String())
	}
}

// TestLongLine: 10 MB without a newline reaches the log whole, in bounded
// pieces, and END starts a line of its own.
func TestLongLine(t *testing.T) {
	fn, log := newFunction(t, "app.spew", runtimeapi.Config{Timeout: 20 * time.Second})
	res := invoke(t, fn, `{}`)
	if res.Failed() {
		t.Fatalf("%s %s", res.ErrorType, res.Payload)
	}
	logs := log.String()
	if n := strings.Count(logs, "z") - strings.Count(logs, "Size"); n != 10*1024*1024 {
		t.Errorf("%d of 10485760 bytes logged", n)
	}
	if !strings.Contains(logs, "zzz\nEND RequestId: "+res.RequestID) {
		t.Errorf("END does not start its own line")
	}
}
