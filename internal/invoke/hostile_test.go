package invoke_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lambdapack/lambdapack/internal/invoke"
	"github.com/lambdapack/lambdapack/internal/target"
	"github.com/lambdapack/lambdapack/internal/testutil"
)

func TestBadHandlerStrings(t *testing.T) {
	for _, h := range []string{"apphandler", "app.", ".handler", "app.handler()", "app-x.handler", "/abs/app.handler", "../app.handler", "app.1st", ""} {
		err := invoke.CheckHandler(h)
		if err == nil || !strings.Contains(err.Error(), "module.function") && !strings.Contains(err.Error(), "app.handler") {
			t.Errorf("CheckHandler(%q) = %v", h, err)
		}
	}
	for _, h := range []string{"app.handler", "src/app.handler", "pkg.mod.handler", "app.Handler_2"} {
		if err := invoke.CheckHandler(h); err != nil {
			t.Errorf("CheckHandler(%q) = %v", h, err)
		}
	}
	r, _ := testRunner(t, invoke.Options{})
	_, err := r.Open(context.Background(), invoke.Spec{Name: "f", Handler: "apphandler", Runtime: "python3.12", Code: filesTree(map[string]string{"app.py": ""})})
	if err == nil || !strings.Contains(err.Error(), `handler "apphandler" is not module.function`) {
		t.Errorf("Open with a bad handler: %v", err)
	}
}

const forker = `
import os, sys, time

def detach(event, context):
    # A child that leaves the process group and lives on.
    if os.fork() == 0:
        os.setsid()
        time.sleep(300)
        os._exit(0)
    if os.fork() == 0:
        time.sleep(300)
        os._exit(0)
    return "forked"

def leave(event, context):
    if os.fork() == 0:
        time.sleep(300)
        os._exit(0)
    os._exit(0)
`

// TestForkAndExit: a handler whose children outlive it, in or out of its
// process group, leaves nothing behind once the function stops; one that
// forks and exits gets Lambda's exit error and its child dies.
func TestForkAndExit(t *testing.T) {
	// RefreshRuntime: the runtime client is planned from the index again
	// here (the other tests reuse the cached folder).
	r, _ := testRunner(t, invoke.Options{RefreshRuntime: true})
	code := filesTree(map[string]string{"app.py": forker})
	detach := open(t, r, invoke.Spec{Name: "detach", Handler: "app.detach", Runtime: "python3.12", Code: code})
	res := call(t, detach, `{}`)
	if res.Failed() || string(res.Payload) != `"forked"` {
		t.Fatalf("%s %s", res.ErrorType, res.Payload)
	}
	tag := "AWS_LAMBDA_FUNCTION_NAME=detach\x00"
	if n := len(tagged(t, tag)); n < 3 {
		t.Fatalf("%d processes of the function while it is warm, want the runtime and two children", n)
	}
	detach.Close()
	waitGone(t, tag)

	leave := open(t, r, invoke.Spec{Name: "leave", Handler: "app.leave", Runtime: "python3.12", Code: code})
	res = call(t, leave, `{}`)
	if res.ErrorType != "Runtime.ExitError" || !strings.Contains(string(res.Payload), "Runtime exited without providing a reason") {
		t.Errorf("%s %s", res.ErrorType, res.Payload)
	}
	waitGone(t, "AWS_LAMBDA_FUNCTION_NAME=leave\x00")
}

func waitGone(t *testing.T, tag string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		left := tagged(t, tag)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("processes left behind: %v", left)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestInterpreterErrors(t *testing.T) {
	ctx := context.Background()
	py312, err := target.New("python3.12", "x86_64")
	if err != nil {
		t.Fatal(err)
	}
	// Nowhere to find one: the error says where it looked and how to get one.
	empty := t.TempDir()
	_, err = invoke.FindInterpreter(ctx, py312, invoke.FindOptions{Env: []string{"PATH=" + empty, "PYENV_ROOT=" + empty, "HOME=" + empty}})
	for _, want := range []string{"no CPython 3.12 for python3.12", "PATH (python3.12, python3)", filepath.Join(empty, "versions", "3.12.*"), "uv python install 3.12", "pyenv install 3.12", "--python PATH"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	// Another minor version is never taken, and named.
	py311 := testutil.Python(t, "3.11")
	bin := t.TempDir()
	if err := os.Symlink(py311, filepath.Join(bin, "python3")); err != nil {
		t.Fatal(err)
	}
	_, err = invoke.FindInterpreter(ctx, py312, invoke.FindOptions{Env: []string{"PATH=" + bin, "HOME=" + empty}})
	if err == nil || !strings.Contains(err.Error(), "is 3.11.") {
		t.Errorf("a 3.11 on PATH for python3.12: %v", err)
	}
	_, err = invoke.FindInterpreter(ctx, py312, invoke.FindOptions{Python: py311})
	if err == nil || !strings.Contains(err.Error(), "runtime needs 3.12 exactly") {
		t.Errorf("--python 3.11 for python3.12: %v", err)
	}
	in, err := invoke.FindInterpreter(ctx, py312, invoke.FindOptions{Env: pyenvOnly(t)})
	if err != nil || !strings.HasPrefix(in.Version, "3.12.") || in.Source != "pyenv" {
		t.Errorf("pyenv's 3.12: %+v %v", in, err)
	}
	// An arm64 function on this x86_64 machine needs a root folder, and the
	// error says how to make one.
	arm, _ := target.New("python3.11", "arm64")
	_, err = invoke.FindInterpreter(ctx, arm, invoke.FindOptions{})
	if err == nil || !strings.Contains(err.Error(), "--rootfs DIR") || !strings.Contains(err.Error(), "apt-get download") {
		t.Errorf("arm64 without --rootfs: %v", err)
	}
	_, err = invoke.FindInterpreter(ctx, arm, invoke.FindOptions{RootFS: empty})
	if err == nil || !strings.Contains(err.Error(), "holds no CPython 3.11") {
		t.Errorf("arm64 with an empty --rootfs: %v", err)
	}
	// The how-to names a release that ships the runtime's CPython, with
	// that release's package names: no Debian release has 3.12 (Ubuntu
	// 24.04 does, where libssl3 is libssl3t64); bullseye's 3.9 has libssl1.1.
	for rt, want := range map[string][]string{
		"python3.11": {"Debian 12 (bookworm), which ships CPython 3.11", " libssl3 ", "python3.11-minimal"},
		"python3.12": {"Ubuntu 24.04 (noble), which ships CPython 3.12", " libssl3t64 ", "python3.12-minimal"},
		"python3.9":  {"Debian 11 (bullseye), which ships CPython 3.9", " libssl1.1 libffi7 "},
	} {
		tg, _ := target.New(rt, "arm64")
		_, err := invoke.FindInterpreter(ctx, tg, invoke.FindOptions{})
		for _, w := range want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%s/arm64 without --rootfs: %v, want it to say %q", rt, err, w)
			}
		}
	}
}
