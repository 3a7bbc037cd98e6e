package imagetest

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/lambdapack/lambdapack/internal/runtimeapi"
	"github.com/lambdapack/lambdapack/internal/testutil"
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

// Invoke unpacks img, and serves event to it through lambdapack's Runtime
// API (internal/runtimeapi, as lambdapack invoke does): the image's
// entrypoint and CMD start in the unpacked folder (chroot for amd64,
// qemu-aarch64-static -L for arm64) with the image's environment and
// working directory, pointed at the API. It returns the handler's
// response; a function error, a timeout or a process that exits first is
// an error carrying Lambda's error document and the log.
func Invoke(t testing.TB, img v1.Image, event string) (string, error) {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	root := Unpack(t, img)
	argv := append(append([]string{}, cf.Config.Entrypoint...), cf.Config.Cmd...)
	if len(argv) == 0 {
		return "", errors.New("the image has neither entrypoint nor CMD")
	}
	wd := cf.Config.WorkingDir
	if wd == "" {
		wd = "/"
	}
	var qemu string
	if cf.Architecture == "arm64" {
		if qemu, err = exec.LookPath("qemu-aarch64-static"); err != nil {
			t.Fatalf("qemu-aarch64-static: %v (run scripts/setup-arm64.sh)", err)
		}
	} else if cf.Architecture != "amd64" {
		t.Fatalf("cannot run a %s image", cf.Architecture)
	}
	start := func(ctx context.Context, s runtimeapi.Spawn) (runtimeapi.Process, error) {
		env := append(append([]string{}, cf.Config.Env...), "AWS_LAMBDA_RUNTIME_API="+s.RuntimeAPI,
			"AWS_LAMBDA_FUNCTION_NAME=test", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128", "AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
			"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/test", "AWS_LAMBDA_LOG_STREAM_NAME=test", "AWS_REGION=us-east-1")
		var cmd *exec.Cmd
		if qemu == "" {
			cmd = &exec.Cmd{Path: argv[0], Args: argv, Dir: wd}
			cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: root, Setpgid: true}
		} else {
			prog, err := hostPath(root, argv[0])
			if err != nil {
				return nil, err
			}
			args := []string{"-L", root}
			// A script: run its interpreter as the kernel would.
			if head, _ := readHead(prog); strings.HasPrefix(head, "#!") {
				fields := strings.Fields(strings.TrimPrefix(strings.SplitN(head, "\n", 2)[0], "#!"))
				interp, err := hostPath(root, fields[0])
				if err != nil {
					return nil, err
				}
				args = append(append(append(args, interp), fields[1:]...), argv[0])
			} else {
				args = append(args, prog)
			}
			args = append(args, argv[1:]...)
			cmd = &exec.Cmd{Path: qemu, Args: append([]string{qemu}, args...), Dir: filepath.Join(root, wd)}
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		}
		cmd.Env = env
		cmd.Stdout, cmd.Stderr = s.Output, s.Output
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("starting %q: %w", argv, err)
		}
		return &process{cmd: cmd}, nil
	}
	var log testutil.SyncBuffer // the function's log
	// Generous deadlines: an arm64 image runs under qemu on a shared machine.
	fn, err := runtimeapi.NewFunction(runtimeapi.Config{Name: "test", Start: start, Log: &log, Timeout: time.Minute, InitTimeout: 2 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer fn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := fn.Invoke(ctx, runtimeapi.Invocation{Payload: []byte(event)})
	if err != nil {
		return "", fmt.Errorf("invoking %q: %w\n%s", argv, err, log.String())
	}
	if res.Failed() {
		return "", fmt.Errorf("the function failed (%s): %s\n%s", res.ErrorType, res.Payload, log.String())
	}
	return string(res.Payload), nil
}

// process is a runtime process started from an image.
type process struct{ cmd *exec.Cmd }

func (p *process) Wait() error { return p.cmd.Wait() }

func (p *process) Kill() {
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
}

func (p *process) MaxRSS() int64 {
	if st := p.cmd.ProcessState; st != nil {
		if ru, ok := st.SysUsage().(*syscall.Rusage); ok {
			return ru.Maxrss * 1024
		}
	}
	return 0
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
