package imagetest

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// Unpack writes img's flattened filesystem into a new folder and returns
// it. Paths stay inside the folder; links are kept as links.
func Unpack(t testing.TB, img v1.Image) string {
	t.Helper()
	root := t.TempDir()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	type link struct{ name, target string }
	var hardlinks []link
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		name := path.Clean("/" + h.Name)
		dst := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(dst, 0o755); err != nil {
				t.Fatal(err)
			}
			os.Chmod(dst, os.FileMode(h.Mode).Perm()|0o700)
		case tar.TypeSymlink:
			os.RemoveAll(dst)
			if err := os.Symlink(h.Linkname, dst); err != nil {
				t.Fatal(err)
			}
		case tar.TypeLink:
			hardlinks = append(hardlinks, link{dst, filepath.Join(root, filepath.FromSlash(path.Clean("/"+h.Linkname)))})
		case tar.TypeReg:
			os.RemoveAll(dst)
			f, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, os.FileMode(h.Mode).Perm())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(f, tr); err != nil {
				t.Fatal(err)
			}
			f.Close()
		}
	}
	for _, l := range hardlinks {
		os.RemoveAll(l.name)
		if err := os.Link(l.target, l.name); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// RuntimeAPI is a minimal Lambda Runtime API on loopback: it hands one
// event to the first /next and records the answer.
type RuntimeAPI struct {
	*httptest.Server
	event []byte

	mu       sync.Mutex
	served   bool
	done     chan struct{}
	response []byte
	errBody  []byte
}

// NewRuntimeAPI serves event to the runtime client.
func NewRuntimeAPI(t testing.TB, event string) *RuntimeAPI {
	r := &RuntimeAPI{event: []byte(event), done: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		served := r.served
		r.served = true
		r.mu.Unlock()
		if served {
			// One event per test: a second /next waits for the end.
			select {
			case <-req.Context().Done():
			case <-time.After(2 * time.Minute):
			}
			return
		}
		h := w.Header()
		h.Set("Lambda-Runtime-Aws-Request-Id", "8476a536-e9f4-11e8-9739-2dfe598c3fcd")
		h.Set("Lambda-Runtime-Deadline-Ms", fmt.Sprint(time.Now().Add(time.Minute).UnixMilli()))
		h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:test")
		h.Set("Lambda-Runtime-Trace-Id", "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1")
		h.Set("Content-Type", "application/json")
		w.Write(r.event)
	})
	answer := func(isErr bool) http.HandlerFunc {
		return func(w http.ResponseWriter, req *http.Request) {
			b, _ := io.ReadAll(io.LimitReader(req.Body, 6<<20))
			r.mu.Lock()
			if isErr {
				r.errBody = b
			} else {
				r.response = b
			}
			select {
			case <-r.done:
			default:
				close(r.done)
			}
			r.mu.Unlock()
			w.WriteHeader(http.StatusAccepted)
		}
	}
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", answer(false))
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", answer(true))
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", answer(true))
	r.Server = httptest.NewServer(mux)
	t.Cleanup(r.Close)
	return r
}

// Invoke unpacks img, starts its entrypoint and CMD in the unpacked folder
// (chroot for amd64, qemu-aarch64-static -L for arm64) with the image's
// environment and working directory, hands it event through a Runtime API
// and returns the handler's response. A function error or a process that
// exits first is an error carrying its output.
func Invoke(t testing.TB, img v1.Image, event string) (string, error) {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	root := Unpack(t, img)
	api := NewRuntimeAPI(t, event)
	argv := append(append([]string{}, cf.Config.Entrypoint...), cf.Config.Cmd...)
	if len(argv) == 0 {
		return "", errors.New("the image has neither entrypoint nor CMD")
	}
	env := append(append([]string{}, cf.Config.Env...), "AWS_LAMBDA_RUNTIME_API="+strings.TrimPrefix(api.URL, "http://"),
		"AWS_LAMBDA_FUNCTION_NAME=test", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128", "AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/test", "AWS_LAMBDA_LOG_STREAM_NAME=test", "AWS_REGION=us-east-1")
	wd := cf.Config.WorkingDir
	if wd == "" {
		wd = "/"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var cmd *exec.Cmd
	switch cf.Architecture {
	case "amd64":
		cmd = &exec.Cmd{Path: argv[0], Args: argv, Dir: wd}
		cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: root, Setpgid: true}
	case "arm64":
		qemu, err := exec.LookPath("qemu-aarch64-static")
		if err != nil {
			t.Fatalf("qemu-aarch64-static: %v (run scripts/setup-arm64.sh)", err)
		}
		prog, err := hostPath(root, argv[0])
		if err != nil {
			return "", err
		}
		args := []string{"-L", root}
		// A script: run its interpreter as the kernel would.
		if head, _ := readHead(prog); strings.HasPrefix(head, "#!") {
			fields := strings.Fields(strings.TrimPrefix(strings.SplitN(head, "\n", 2)[0], "#!"))
			interp, err := hostPath(root, fields[0])
			if err != nil {
				return "", err
			}
			args = append(append(append(args, interp), fields[1:]...), argv[0])
		} else {
			args = append(args, prog)
		}
		args = append(args, argv[1:]...)
		cmd = &exec.Cmd{Path: qemu, Args: append([]string{qemu}, args...)}
		cmd.Dir = filepath.Join(root, wd)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	default:
		t.Fatalf("cannot run a %s image", cf.Architecture)
	}
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("starting %q: %w", argv, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	}()
	select {
	case <-api.done:
	case err := <-exited:
		exited <- err
		return "", fmt.Errorf("%q exited before answering (%v):\n%s", argv, err, out.String())
	case <-ctx.Done():
		return "", fmt.Errorf("%q gave no answer in time:\n%s", argv, out.String())
	}
	api.mu.Lock()
	defer api.mu.Unlock()
	if api.errBody != nil {
		return "", fmt.Errorf("the function failed: %s\n%s", api.errBody, out.String())
	}
	return string(api.response), nil
}

func readHead(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b := make([]byte, 256)
	n, _ := f.Read(b)
	return string(b[:n]), nil
}

// hostPath resolves an absolute path of the image to the file under root,
// following links inside root.
func hostPath(root, p string) (string, error) {
	cur := "/"
	parts := strings.Split(strings.Trim(p, "/"), "/")
	for hops := 0; len(parts) > 0; {
		next := path.Join(cur, parts[0])
		parts = parts[1:]
		fi, err := os.Lstat(filepath.Join(root, next))
		if err != nil {
			return "", fmt.Errorf("%s is not in the image: %w", p, err)
		}
		if fi.Mode()&os.ModeSymlink != 0 {
			if hops++; hops > 40 {
				return "", fmt.Errorf("%s: too many links", p)
			}
			target, _ := os.Readlink(filepath.Join(root, next))
			if !strings.HasPrefix(target, "/") {
				target = path.Join(cur, target)
			}
			parts = append(strings.Split(strings.Trim(path.Clean(target), "/"), "/"), parts...)
			cur = "/"
			continue
		}
		cur = next
	}
	return filepath.Join(root, cur), nil
}
