package runtimeapi_test

import (
	"context"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lambdapack/lambdapack/internal/runtimeapi"
)

// TestProtocol speaks the Runtime API from the test itself, for what the
// Python client never does: an error type in the header, an unknown request
// id, a body that is not an error document.
func TestProtocol(t *testing.T) {
	apis := make(chan string, 1)
	start := func(ctx context.Context, s runtimeapi.Spawn) (runtimeapi.Process, error) {
		cmd := exec.Command("sleep", "60")
		cmd.Stdout, cmd.Stderr = s.Output, s.Output
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		apis <- s.RuntimeAPI
		return &proc{cmd: cmd}, nil
	}
	fn, _ := newFunction(t, "", runtimeapi.Config{Start: start, Timeout: 10 * time.Second})
	base := ""
	call := func(method, path, body string, hdr map[string]string) (int, string, http.Header) {
		req, _ := http.NewRequest(method, "http://"+base+"/2018-06-01"+path, strings.NewReader(body))
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}
	type answer struct {
		res *runtimeapi.Result
		err error
	}
	results := make(chan answer, 1)
	run := func(payload string) {
		go func() {
			res, err := fn.Invoke(context.Background(), runtimeapi.Invocation{Payload: []byte(payload), ClientContext: `{"client":{}}`})
			results <- answer{res, err}
		}()
	}

	run(`{"k":1}`)
	base = <-apis
	code, body, h := call("GET", "/runtime/invocation/next", "", nil)
	id := h.Get("Lambda-Runtime-Aws-Request-Id")
	deadline := h.Get("Lambda-Runtime-Deadline-Ms")
	if code != 200 || body != `{"k":1}` || id == "" || deadline == "" ||
		h.Get("Lambda-Runtime-Invoked-Function-Arn") != "arn:aws:lambda:us-east-1:123456789012:function:fn" ||
		!strings.HasPrefix(h.Get("Lambda-Runtime-Trace-Id"), "Root=1-") || h.Get("Lambda-Runtime-Client-Context") != `{"client":{}}` {
		t.Fatalf("next: %d %q %v", code, body, h)
	}
	if code, _, _ := call("POST", "/runtime/invocation/not-it/response", `1`, nil); code != 400 {
		t.Errorf("a response for an unknown request id: %d", code)
	}
	if code, _, _ := call("POST", "/runtime/init/error", `{}`, nil); code != 403 {
		t.Errorf("init/error after init: %d", code)
	}
	// The header wins over the body.
	if code, _, _ := call("POST", "/runtime/invocation/"+id+"/error", `{"errorType":"FromBody","errorMessage":"m"}`, map[string]string{"Lambda-Runtime-Function-Error-Type": "FromHeader"}); code != 202 {
		t.Errorf("error: %d", code)
	}
	a := <-results
	if a.err != nil || a.res.ErrorType != "FromHeader" {
		t.Errorf("error type %v %v", a.res, a.err)
	}

	// No header, a body that is not an error document.
	run(`{}`)
	_, _, h = call("GET", "/runtime/invocation/next", "", nil)
	id = h.Get("Lambda-Runtime-Aws-Request-Id")
	call("POST", "/runtime/invocation/"+id+"/error", `oops`, nil)
	a = <-results
	if a.res.ErrorType != "Unhandled" || string(a.res.Payload) != `{"errorMessage":"oops","errorType":"Unhandled"}` {
		t.Errorf("a bare error body: %q %s", a.res.ErrorType, a.res.Payload)
	}
	// A second answer for the same id is refused.
	if code, _, _ := call("POST", "/runtime/invocation/"+id+"/response", `1`, nil); code != 400 {
		t.Errorf("a second answer: %d", code)
	}
}
