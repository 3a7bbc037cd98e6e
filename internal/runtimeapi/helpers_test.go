package runtimeapi_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lambdapack/lambdapack/internal/app"
	lpinvoke "github.com/lambdapack/lambdapack/internal/invoke"
	"github.com/lambdapack/lambdapack/internal/runtimeapi"
	"github.com/lambdapack/lambdapack/internal/testutil"
)

// The tests run the real runtime client, awslambdaric from the index, on
// pyenv's CPython, against the server.

const testMinor = "3.12"

var (
	ricOnce sync.Once
	ricDir  string
	ricErr  error
)

// awslambdaric installs awslambdaric for python3.12/x86_64 with lambdapack's
// pipeline (PlanTree) and invoke's folder sink, and returns the folder to put
// on PYTHONPATH.
func awslambdaric(t *testing.T) string {
	t.Helper()
	ricOnce.Do(func() {
		dir, err := os.MkdirTemp("", "lambdapack-ric-")
		if err != nil {
			ricErr = err
			return
		}
		cleanups = append(cleanups, func() { os.RemoveAll(dir) })
		env, err := app.OpenEnv(app.EnvOptions{CacheDir: testutil.SharedCache(t)})
		if err != nil {
			ricErr = err
			return
		}
		defer env.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		tr, err := app.PlanTree(ctx, env, app.ArtifactOptions{
			Kind: app.KindLayer, Deps: app.Inputs{Requirements: []string{"awslambdaric"}},
			Runtime: "python" + testMinor, Arch: "x86_64",
		})
		if err != nil {
			ricErr = err
			return
		}
		defer tr.Close()
		ricDir = filepath.Join(dir, "python")
		_, ricErr = (&lpinvoke.FolderSink{Dir: ricDir}).Write(ctx, lpinvoke.Sub(tr, "python/"))
	})
	if ricErr != nil {
		t.Fatalf("installing awslambdaric: %v", ricErr)
	}
	return ricDir
}

var cleanups []func()

func TestMain(m *testing.M) {
	code := m.Run()
	for _, f := range cleanups {
		f()
	}
	os.Exit(code)
}

// proc is a runtime process in its own process group.
type proc struct{ cmd *exec.Cmd }

func (p *proc) Wait() error { return p.cmd.Wait() }
func (p *proc) Kill() {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
}
func (p *proc) MaxRSS() int64 {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(p.cmd.Process.Pid), "status"))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// pythonFunction returns a StartFunc running handler from a task folder
// holding files, with awslambdaric.
func pythonFunction(t *testing.T, files map[string]string, handler string) runtimeapi.StartFunc {
	t.Helper()
	py := testutil.Python(t, testMinor)
	ric := awslambdaric(t)
	task := t.TempDir()
	testutil.WriteFiles(t, task, files)
	return func(ctx context.Context, s runtimeapi.Spawn) (runtimeapi.Process, error) {
		cmd := exec.Command(py, "-m", "awslambdaric", handler)
		cmd.Dir = task
		cmd.Env = []string{
			"PYTHONPATH=" + task + ":" + ric,
			"AWS_LAMBDA_RUNTIME_API=" + s.RuntimeAPI,
			"AWS_LAMBDA_FUNCTION_NAME=fn",
			"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128",
			"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
			"LAMBDA_TASK_ROOT=" + task,
			"_HANDLER=" + handler,
			"PATH=/usr/bin:/bin",
		}
		cmd.Stdout, cmd.Stderr = s.Output, s.Output
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		return &proc{cmd: cmd}, nil
	}
}
