package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lambdapack/lambdapack/internal/atomicfile"
	"github.com/lambdapack/lambdapack/internal/cache"
	"github.com/lambdapack/lambdapack/internal/testutil"
)

// The real binary, built once by the tests, is started against a hermetic
// index, stopped with a signal at a known point, and the output folder and
// the cache are checked afterwards.

var (
	binOnce sync.Once
	binPath string
	binErr  error
	binDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// binary builds lambdapack from this package.
func binary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "lambdapack-signal-test-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "lambdapack")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// proc is one started lambdapack process.
type proc struct {
	cmd    *exec.Cmd
	stderr bytes.Buffer
	done   chan struct{}
	err    error
}

// start starts lambdapack with args, in a fresh HOME and TMPDIR (tmp).
func start(t *testing.T, tmp string, args ...string) *proc {
	t.Helper()
	r := &proc{cmd: exec.Command(binary(t), args...), done: make(chan struct{})}
	r.cmd.Env = append(os.Environ(), "HOME="+tmp, "TMPDIR="+tmp, "LAMBDAPACK_CACHE_DIR=", "CI=1")
	r.cmd.Stderr = &r.stderr
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.err = r.cmd.Wait(); close(r.done) }()
	t.Cleanup(func() {
		select {
		case <-r.done:
		default:
			r.cmd.Process.Kill()
			<-r.done
		}
	})
	return r
}

// wait waits for the process to end (failing the test after d) and returns
// its exit status, -1 when a signal ended it.
func (r *proc) wait(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(d):
		r.cmd.Process.Kill()
		<-r.done
		t.Fatalf("lambdapack still running after %s; stderr:\n%s", d, r.stderr.String())
	}
	var ee *exec.ExitError
	if errors.As(r.err, &ee) {
		return ee.ExitCode()
	}
	if r.err != nil {
		t.Fatal(r.err)
	}
	return 0
}

// until polls cond every few milliseconds for up to d.
func until(t *testing.T, r *proc, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		select {
		case <-r.done:
			t.Fatalf("lambdapack ended before %s: %v\n%s", what, r.err, r.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s after %s; stderr:\n%s", what, d, r.stderr.String())
		}
		time.Sleep(3 * time.Millisecond)
	}
}

// list returns the names in dir, sorted, walking every folder under it.
func list(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		if p != dir && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// temps returns the temporary files (any ".tmp-" name) under dir.
func temps(t *testing.T, dir string) []string {
	var out []string
	for _, p := range list(t, dir) {
		if strings.HasPrefix(filepath.Base(p), ".tmp-") {
			out = append(out, p)
		}
	}
	return out
}

// stallingIndex serves one wheel, "slow", whose download stalls after
// 64 KiB until the client goes away.
func stallingIndex(t *testing.T) (*testutil.Index, string) {
	t.Helper()
	ix := testutil.StartIndex(t, testutil.IndexOptions{})
	data := make([]byte, 256<<10)
	rand.Read(data)
	w := testutil.Wheel{Name: "slow", Version: "1.0", Files: map[string][]byte{"slow/__init__.py": []byte("\n"), "slow/blob.bin": data}}
	ix.AddWheel(w)
	path := testutil.FilePath(w.Filename())
	ix.Inject(path, testutil.Fault{StallBody: true, At: 64 << 10, MaxStall: 2 * time.Minute})
	return ix, path
}

// SIGTERM and SIGINT in the middle of a download: the run stops at once
// with 143 or 130, leaves nothing beside -o, no temporary file in the
// cache, and (with --no-cache) no temporary cache.
func TestSignalDuringDownload(t *testing.T) {
	for _, c := range []struct {
		sig     syscall.Signal
		code    int
		noCache bool
	}{
		{syscall.SIGTERM, 143, false},
		{syscall.SIGINT, 130, true},
		{syscall.SIGTERM, 143, true},
	} {
		name := map[syscall.Signal]string{syscall.SIGTERM: "SIGTERM", syscall.SIGINT: "SIGINT"}[c.sig]
		t.Run(fmt.Sprintf("%s/no-cache=%v", name, c.noCache), func(t *testing.T) {
			ix, path := stallingIndex(t)
			tmp := t.TempDir()
			out := filepath.Join(tmp, "out")
			cacheDir := filepath.Join(tmp, "cache")
			args := []string{"layer", "slow", "--runtime", "python3.12", "--index-url", ix.URL, "-o", filepath.Join(out, "layer.zip")}
			if c.noCache {
				args = append(args, "--no-cache")
			} else {
				args = append(args, "--cache-dir", cacheDir)
			}
			r := start(t, tmp, args...)
			until(t, r, 60*time.Second, "stalled download", func() bool { return ix.BytesServed(path) >= 64<<10 })
			if c.noCache {
				ms, _ := filepath.Glob(filepath.Join(tmp, cache.TempCachePrefix+"*"))
				if len(ms) != 1 {
					t.Fatalf("no temporary cache in TMPDIR while running: %v", list(t, tmp))
				}
			} else if len(temps(t, cacheDir)) == 0 {
				t.Fatalf("no partial download in the cache while running: %v", list(t, cacheDir))
			}
			start := time.Now()
			r.cmd.Process.Signal(c.sig)
			if got := r.wait(t, 20*time.Second); got != c.code {
				t.Fatalf("exit status %d, want %d; stderr:\n%s", got, c.code, r.stderr.String())
			}
			if took := time.Since(start); took > 10*time.Second {
				t.Errorf("took %s to stop", took)
			}
			if !strings.Contains(r.stderr.String(), "interrupted by "+name) {
				t.Errorf("stderr does not say it was interrupted by %s:\n%s", name, r.stderr.String())
			}
			if got := list(t, out); len(got) != 0 {
				t.Errorf("the output folder holds %v", got)
			}
			if c.noCache {
				if ms, _ := filepath.Glob(filepath.Join(tmp, cache.TempCachePrefix+"*")); len(ms) != 0 {
					t.Errorf("the temporary cache is still there: %v", ms)
				}
			} else if got := temps(t, cacheDir); len(got) != 0 {
				t.Errorf("temporary files left in the cache: %v", got)
			}
		})
	}
}

// bigSource writes a function's code that takes a while to compress: n
// files of 8 MiB of hex text.
func bigSource(t *testing.T, dir string, n int) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "app.py"), []byte("def handler(e, c):\n    return 1\n"), 0o644)
	raw := make([]byte, 4<<20)
	for i := range n {
		rand.Read(raw)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("data%d.txt", i)), []byte(hex.EncodeToString(raw)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// lambdapackTemps returns lambdapack's temporary files in dir.
func lambdapackTemps(t *testing.T, dir string) []string {
	var out []string
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if atomicfile.IsTemp(e.Name()) {
			out = append(out, e.Name())
		}
	}
	return out
}

// SIGTERM while the zip is written: the temporary zip (and spill files)
// beside -o are removed and the status is 143.
func TestSIGTERMWhileWritingTheZip(t *testing.T) {
	tmp := t.TempDir()
	src, out := filepath.Join(tmp, "src"), filepath.Join(tmp, "out")
	bigSource(t, src, 6)
	os.MkdirAll(out, 0o755)
	r := start(t, tmp, "function", "--src", src, "--runtime", "python3.12", "-o", filepath.Join(out, "function.zip"), "--cache-dir", filepath.Join(tmp, "cache"))
	until(t, r, 60*time.Second, "temporary zip", func() bool { return len(lambdapackTemps(t, out)) > 0 })
	r.cmd.Process.Signal(syscall.SIGTERM)
	if got := r.wait(t, 20*time.Second); got != 143 {
		t.Fatalf("exit status %d, want 143; stderr:\n%s", got, r.stderr.String())
	}
	if got := list(t, out); len(got) != 0 {
		t.Errorf("the output folder holds %v after SIGTERM", got)
	}
}

// SIGKILL cannot be caught: the temporary files it leaves beside -o and in
// the cache are removed by the next run that finds them stale, and nothing
// else is: not another program's temporary files, not a fresh one of ours.
func TestLeftoversOfSIGKILL(t *testing.T) {
	tmp := t.TempDir()
	src, out, cacheDir := filepath.Join(tmp, "src"), filepath.Join(tmp, "out"), filepath.Join(tmp, "cache")
	bigSource(t, src, 6)
	os.MkdirAll(out, 0o755)
	dest := filepath.Join(out, "function.zip")
	args := []string{"function", "--src", src, "--runtime", "python3.12", "-o", dest, "--cache-dir", cacheDir}

	// Killed while writing the zip.
	r := start(t, tmp, args...)
	until(t, r, 60*time.Second, "temporary zip", func() bool { return len(lambdapackTemps(t, out)) > 0 })
	r.cmd.Process.Signal(syscall.SIGKILL)
	if got := r.wait(t, 20*time.Second); got != -1 {
		t.Fatalf("exit status %d after SIGKILL", got)
	}
	left := lambdapackTemps(t, out)
	if len(left) == 0 {
		t.Fatalf("SIGKILL left nothing to clean up: %v (the test proves nothing)", list(t, out))
	}
	if _, err := os.Stat(dest); err == nil {
		t.Fatal("a zip is at -o after SIGKILL")
	}
	// Killed in the middle of a download: a partial file in the cache.
	ix, path := stallingIndex(t)
	layerOut := filepath.Join(out, "layer.zip")
	lr := start(t, tmp, "layer", "slow", "--runtime", "python3.12", "--index-url", ix.URL, "-o", layerOut, "--cache-dir", cacheDir)
	until(t, lr, 60*time.Second, "stalled download", func() bool { return ix.BytesServed(path) >= 64<<10 })
	lr.cmd.Process.Signal(syscall.SIGKILL)
	lr.wait(t, 20*time.Second)
	cacheLeft := temps(t, cacheDir)
	if len(cacheLeft) == 0 {
		t.Fatalf("SIGKILL left no partial download in the cache: %v", list(t, cacheDir))
	}

	// An hour later: the leftovers are stale. Beside them, files that are
	// not lambdapack's, and one of ours still fresh (another run writing).
	old := time.Now().Add(-2 * time.Hour)
	for _, n := range left {
		os.Chtimes(filepath.Join(out, n), old, old)
	}
	for _, p := range cacheLeft {
		os.Chtimes(filepath.Join(cacheDir, p), old, old)
	}
	others := map[string]time.Time{
		".tmp-notes":                                 old,
		".tmp-function.zip-1234567890":               old,
		"function.zip.bak":                           old,
		".tmp-lambdapack-other.zip-0123456789abcdef": time.Now(),
	}
	for n, mt := range others {
		p := filepath.Join(out, n)
		os.WriteFile(p, []byte("keep"), 0o644)
		os.Chtimes(p, mt, mt)
	}

	r = start(t, tmp, args...)
	if got := r.wait(t, 120*time.Second); got != 0 {
		t.Fatalf("the next run: exit status %d; stderr:\n%s", got, r.stderr.String())
	}
	said := fmt.Sprintf("removed %d temporary files a killed run left beside it: %s", len(left), strings.Join(left, ", "))
	if len(left) == 1 {
		said = "removed 1 temporary file a killed run left beside it: " + left[0]
	}
	if !strings.Contains(r.stderr.String(), said) {
		t.Errorf("the next run does not say what it removed:\n%s", r.stderr.String())
	}
	var want []string
	for n := range others {
		want = append(want, n)
	}
	want = append(want, "function.zip")
	slices.Sort(want)
	got := list(t, out)
	if !slices.Equal(got, want) {
		t.Errorf("the output folder holds %v, want %v", got, want)
	}
	ix.ClearFaults()
	lr = start(t, tmp, "layer", "slow", "--runtime", "python3.12", "--index-url", ix.URL, "-o", layerOut, "--cache-dir", cacheDir)
	if got := lr.wait(t, 60*time.Second); got != 0 {
		t.Fatalf("the next layer run: exit status %d; stderr:\n%s", got, lr.stderr.String())
	}
	if got := temps(t, cacheDir); len(got) != 0 {
		t.Errorf("stale temporary files still in the cache: %v", got)
	}
}

// A --no-cache run killed with SIGKILL leaves its temporary cache in
// TMPDIR; a later run removes it once it is stale (its lock free and older
// than an hour) and says so, and never removes a live run's, however old.
func TestNoCacheLeftoverOfSIGKILL(t *testing.T) {
	ix, path := stallingIndex(t)
	tmp := t.TempDir()
	out := filepath.Join(tmp, "out")
	args := []string{"layer", "slow", "--runtime", "python3.12", "--index-url", ix.URL, "-o", filepath.Join(out, "layer.zip"), "--no-cache"}
	tempCaches := func() []string {
		ms, _ := filepath.Glob(filepath.Join(tmp, cache.TempCachePrefix+"*"))
		return ms
	}
	age := func(dir string) {
		old := time.Now().Add(-2 * cache.TempCacheStaleAge)
		if err := os.Chtimes(filepath.Join(dir, "nocache.lock"), old, old); err != nil {
			t.Fatalf("the temporary cache has no lock file: %v", err)
		}
	}

	killed := start(t, tmp, args...)
	until(t, killed, 60*time.Second, "stalled download", func() bool { return ix.BytesServed(path) >= 64<<10 })
	left := tempCaches()
	if len(left) != 1 {
		t.Fatalf("want one temporary cache in TMPDIR while running, have %v", left)
	}
	killed.cmd.Process.Signal(syscall.SIGKILL)
	if got := killed.wait(t, 20*time.Second); got != -1 {
		t.Fatalf("exit status %d after SIGKILL", got)
	}
	if got := tempCaches(); !slices.Equal(got, left) {
		t.Fatalf("after SIGKILL TMPDIR holds %v, want the killed run's %v (the test proves nothing)", got, left)
	}

	// A live run whose lock is old: a run beside it must leave its cache.
	before := ix.BytesServed(path)
	live := start(t, tmp, args...)
	until(t, live, 60*time.Second, "second stalled download", func() bool { return ix.BytesServed(path) >= before+64<<10 })
	var liveDir string
	for _, d := range tempCaches() {
		if d != left[0] {
			liveDir = d
		}
	}
	if liveDir == "" {
		t.Fatalf("no temporary cache of the live run: %v", tempCaches())
	}
	age(liveDir)

	// The killed run's leftover is young: the next run leaves it.
	ix.ClearFaults()
	next := func() string {
		r := start(t, tmp, args...)
		if got := r.wait(t, 60*time.Second); got != 0 {
			t.Fatalf("the next run: exit status %d; stderr:\n%s", got, r.stderr.String())
		}
		return r.stderr.String()
	}
	next()
	if got := tempCaches(); !slices.Contains(got, left[0]) || !slices.Contains(got, liveDir) || len(got) != 2 {
		t.Fatalf("TMPDIR holds %v, want the killed run's %s (not yet an hour old) and the live run's %s", got, left[0], liveDir)
	}

	// An hour later it is stale: the next run removes it and says so; the
	// live run's stays.
	age(left[0])
	stderr := next()
	if got := tempCaches(); len(got) != 1 || got[0] != liveDir {
		t.Errorf("TMPDIR holds %v, want only the live run's %s", got, liveDir)
	}
	if !strings.Contains(stderr, "removed "+left[0]+": the temporary cache of a --no-cache run that was killed") {
		t.Errorf("the next run does not say what it removed:\n%s", stderr)
	}

	// The live run ends normally and takes its cache with it.
	live.cmd.Process.Signal(syscall.SIGTERM)
	if got := live.wait(t, 20*time.Second); got != 143 {
		t.Fatalf("the live run: exit status %d, want 143; stderr:\n%s", got, live.stderr.String())
	}
	if got := tempCaches(); len(got) != 0 {
		t.Errorf("TMPDIR still holds %v", got)
	}
}
