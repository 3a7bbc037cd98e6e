// Command invoke benchmarks lambdapack's local Lambda runs (issue 14):
//
//   - warm invoke overhead of a no-op handler, median and p99 over N
//     invocations: the emulator alone (a minimal Go runtime client), the real
//     awslambdaric in-process (runtimeapi.Function.Invoke), and through the
//     Invoke API over HTTP (as `lambdapack serve` answers boto3);
//   - cold init of the no-op and web-api handlers, split into interpreter
//     start, imports (runtime client, handler) and lambdapack's own part;
//   - edit -> rebuild -> first response for the web-api workload under
//     serve --watch;
//   - python-lambda-local (from the index) on the same no-op handler, beside
//     `lambdapack invoke` run the same way (one process per invocation).
//
// bench/invoke.sh runs it; results go to bench/results/<date>-invoke.md.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lambdapack/lambdapack/internal/app"
	"github.com/lambdapack/lambdapack/internal/invoke"
	"github.com/lambdapack/lambdapack/internal/runtimeapi"
	"github.com/lambdapack/lambdapack/internal/tree"
)

type options struct {
	n, coldN, edits, localN int
	root, out, lambdaLocal  string
	lambdapack, cache       string
	quick                   bool
}

func main() {
	var o options
	fl := flag.NewFlagSet("invoke-bench", flag.ExitOnError)
	fl.IntVar(&o.n, "n", 1000, "warm invocations per way")
	fl.IntVar(&o.coldN, "cold", 15, "cold starts per handler")
	fl.IntVar(&o.edits, "edits", 5, "edits timed under serve --watch")
	fl.IntVar(&o.localN, "local", 50, "python-lambda-local and lambdapack invoke runs (one process each)")
	fl.StringVar(&o.root, "root", ".", "the repository")
	fl.StringVar(&o.out, "out", "", "Markdown results file (default bench/results/<date>-invoke.md)")
	fl.StringVar(&o.lambdaLocal, "lambda-local", "", "the python-lambda-local command")
	fl.StringVar(&o.lambdapack, "lambdapack", "", "a lambdapack binary (for the one-process-per-invocation row)")
	fl.StringVar(&o.cache, "cache-dir", "", "lambdapack's cache (default: the user's)")
	fl.BoolVar(&o.quick, "quick", false, "few repetitions (CI)")
	_ = fl.Parse(os.Args[1:])
	if o.quick {
		o.n, o.coldN, o.edits, o.localN = 100, 3, 1, 5
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "invoke-bench:", err)
		os.Exit(1)
	}
}

// stats are a sample's median and 99th percentile.
type stats struct{ median, p99, min time.Duration }

func summarize(ds []time.Duration) stats {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s) == 0 {
		return stats{}
	}
	p := func(q float64) time.Duration { return s[min(len(s)-1, int(q*float64(len(s))))] }
	return stats{median: s[len(s)/2], p99: p(0.99), min: s[0]}
}

func msf(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

const noop = "def handler(event, context):\n    return None\n"

const webAPI = `from fastapi import FastAPI
from mangum import Mangum

app = FastAPI()

@app.get("/hello")
def hello():
    return {"version": VERSION}

handler = Mangum(app, lifespan="off")
`

type report struct {
	mu    sync.Mutex
	lines []string
}

func (r *report) add(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	line := fmt.Sprintf(format, args...)
	r.lines = append(r.lines, line)
	fmt.Println(line)
}

func run(o options) error {
	ctx := context.Background()
	work, err := os.MkdirTemp("", "lambdapack-invoke-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	r := &report{}
	host, _ := os.Hostname()
	r.add("# Local invoke benchmarks (%s)\n", time.Now().UTC().Format("2006-01-02"))
	r.add("Machine: %s, %d CPUs (shared with other work), %s. Handler: `%s`.\n", host, cpus(), goVersion(), strings.TrimSpace(strings.SplitN(noop, "\n", 2)[0]))

	packages, closeEnv := app.RuntimePackages(app.EnvOptions{CacheDir: o.cache})
	defer closeEnv()
	runner, err := invoke.NewRunner(invoke.Options{CacheDir: o.cache, Packages: packages, WorkDir: filepath.Join(work, "fns"), Notes: os.Stderr})
	if err != nil {
		return err
	}

	// 1. Warm overhead.
	r.add("## Warm invoke, no-op handler (%d invocations each, after one warm-up)\n", o.n)
	r.add("| way | median | p99 | min |")
	r.add("| --- | --- | --- | --- |")
	emu, err := emulatorAlone(ctx, o.n)
	if err != nil {
		return err
	}
	r.add("| emulator alone (Runtime API + Invoke, a Go runtime client on loopback) | %s | %s | %s |", msf(emu.median), msf(emu.p99), msf(emu.min))
	fn, err := runner.Open(ctx, invoke.Spec{Name: "noop", Handler: "app.handler", Runtime: "python3.12", Code: files(map[string]string{"app.py": noop})})
	if err != nil {
		return err
	}
	defer fn.Close()
	direct, err := warm(ctx, o.n, func() error {
		res, err := fn.Invoke(ctx, runtimeapi.Invocation{Payload: []byte("{}")})
		if err == nil && res.Failed() {
			err = fmt.Errorf("%s", res.Payload)
		}
		return err
	})
	if err != nil {
		return err
	}
	r.add("| awslambdaric, in process (Function.Invoke) | %s | %s | %s |", msf(direct.median), msf(direct.p99), msf(direct.min))
	viaHTTP, err := warmHTTP(ctx, fn, o.n)
	if err != nil {
		return err
	}
	r.add("| awslambdaric, through the Invoke API over HTTP (serve) | %s | %s | %s |", msf(viaHTTP.median), msf(viaHTTP.p99), msf(viaHTTP.min))
	r.add("\nThe emulator's own cost is the first row; the others add awslambdaric's Python loop (HTTP client, JSON) and, for the last, an HTTP client and server in front.\n")

	// 2. Cold init split.
	r.add("## Cold init (median of %d starts; folders laid out, bytecode cached)\n", o.coldN)
	r.add("| handler | interpreter start | runtime client import | handler imports | lambdapack's own | cold invoke total | REPORT Init Duration |")
	r.add("| --- | --- | --- | --- | --- | --- | --- |")
	if err := coldSplit(ctx, runner, r, "no-op", map[string]string{"app.py": noop}, nil, o.coldN); err != nil {
		return err
	}
	webLayer, err := buildWebLayer(ctx, o, work)
	if err != nil {
		return err
	}
	if err := coldSplit(ctx, runner, r, "web-api (fastapi, mangum, pydantic; layer)", map[string]string{"app.py": strings.Replace(webAPI, "VERSION", `"v0"`, 1)}, webLayer, o.coldN); err != nil {
		return err
	}
	r.add("\nInterpreter start: `python -c pass` in the function's environment (site on, as Lambda's). Runtime client import: `import awslambdaric.bootstrap` on top. Handler imports: importing the handler's module on top. lambdapack's own: the rest of the cold invoke, measured from Function.Invoke on a new process to its answer (process spawn, endpoint, first request, event delivery, our bookkeeping).\n")

	// 3. Edit -> rebuild -> first response.
	if err := editLoop(ctx, o, r, runner, work); err != nil {
		return err
	}

	// 4. python-lambda-local beside lambdapack invoke.
	if o.lambdaLocal != "" && o.lambdapack != "" {
		if err := lambdaLocal(ctx, o, r, work); err != nil {
			return err
		}
	}

	out := o.out
	if out == "" {
		out = filepath.Join(o.root, "bench", "results", time.Now().UTC().Format("2006-01-02")+"-invoke.md")
	}
	return os.WriteFile(out, []byte(strings.Join(r.lines, "\n")+"\n"), 0o644)
}

func files(m map[string]string) *tree.Tree {
	t := &tree.Tree{}
	for p, c := range m {
		t.Files = append(t.Files, tree.File{Path: p, Mode: 0o644, Size: int64(len(c)), Origin: tree.FromBytes, Data: []byte(c)})
	}
	_ = t.Sort()
	return t
}

func warm(ctx context.Context, n int, call func() error) (stats, error) {
	if err := call(); err != nil {
		return stats{}, err
	}
	ds := make([]time.Duration, 0, n)
	for range n {
		start := time.Now()
		if err := call(); err != nil {
			return stats{}, err
		}
		ds = append(ds, time.Since(start))
	}
	return summarize(ds), nil
}

// emulatorAlone measures runtimeapi with a minimal runtime client written in
// Go: the emulator's own cost, with nothing of Python in it.
func emulatorAlone(ctx context.Context, n int) (stats, error) {
	fn, err := runtimeapi.NewFunction(runtimeapi.Config{Name: "emu", Start: func(ctx context.Context, s runtimeapi.Spawn) (runtimeapi.Process, error) {
		p := &goRuntime{api: s.RuntimeAPI, done: make(chan struct{})}
		go p.loop()
		return p, nil
	}})
	if err != nil {
		return stats{}, err
	}
	defer fn.Close()
	return warm(ctx, n, func() error {
		_, err := fn.Invoke(ctx, runtimeapi.Invocation{Payload: []byte("{}")})
		return err
	})
}

type goRuntime struct {
	api  string
	done chan struct{}
	once sync.Once
}

func (p *goRuntime) loop() {
	c := &http.Client{}
	for {
		resp, err := c.Get("http://" + p.api + "/2018-06-01/runtime/invocation/next")
		if err != nil {
			p.Kill()
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		id := resp.Header.Get("Lambda-Runtime-Aws-Request-Id")
		r2, err := c.Post("http://"+p.api+"/2018-06-01/runtime/invocation/"+id+"/response", "application/json", strings.NewReader("null"))
		if err != nil {
			p.Kill()
			return
		}
		io.Copy(io.Discard, r2.Body)
		r2.Body.Close()
	}
}
func (p *goRuntime) Wait() error   { <-p.done; return nil }
func (p *goRuntime) Kill()         { p.once.Do(func() { close(p.done) }) }
func (p *goRuntime) MaxRSS() int64 { return 0 }

// warmHTTP invokes through the Invoke API over loopback HTTP.
func warmHTTP(ctx context.Context, fn *invoke.Function, n int) (stats, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return stats{}, err
	}
	srv := &http.Server{Handler: &runtimeapi.InvokeAPI{Lookup: func(string) (*runtimeapi.Function, bool) { return fn.Function, true }}}
	go srv.Serve(ln)
	defer srv.Close()
	url := "http://" + ln.Addr().String() + "/2015-03-31/functions/noop/invocations"
	c := &http.Client{}
	return warm(ctx, n, func() error {
		resp, err := c.Post(url, "application/json", strings.NewReader("{}"))
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("X-Amz-Function-Error") != "" {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	})
}

// pyTime is the median wall time of running the function's python with args
// and env.
func pyTime(argv []string, env []string, dir string, n int) (time.Duration, error) {
	env = append(env, "PYTHONDONTWRITEBYTECODE=") // as a function runs: bytecode cached
	var ds []time.Duration
	for range n + 1 {
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Env, cmd.Dir = env, dir
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			return 0, fmt.Errorf("%s: %v\n%s", strings.Join(argv, " "), err, out)
		}
		ds = append(ds, time.Since(start))
	}
	return summarize(ds[1:]).median, nil
}

func coldSplit(ctx context.Context, runner *invoke.Runner, r *report, label string, code map[string]string, layer *tree.Tree, n int) error {
	var layers []*tree.Tree
	if layer != nil {
		layers = []*tree.Tree{layer}
	}
	spec := invoke.Spec{Name: "cold-" + strings.Fields(label)[0], Handler: "app.handler", Runtime: "python3.12", Code: files(code), Layers: layers, Timeout: 30 * time.Second}
	fn, err := runner.Open(ctx, spec)
	if err != nil {
		return err
	}
	defer fn.Close()
	// Warm the bytecode caches once.
	if _, err := fn.Invoke(ctx, runtimeapi.Invocation{Payload: []byte(`{}`)}); err != nil {
		return err
	}
	in := fn.Interpreter()
	env := []string{
		"PYTHONPATH=" + strings.Join([]string{filepath.Join(fn.OptDir(), "python/lib/python3.12/site-packages"), filepath.Join(fn.OptDir(), "python"), fn.RuntimeDir()}, ":"),
		"PATH=/usr/bin:/bin", "LANG=en_US.UTF-8", "TZ=:UTC",
	}
	// One process times its own stages; the cold invokes alternate with
	// it, so both see the same load.
	probe := in.Command(fn.Python(), "-c", "import time; t0 = time.time(); import awslambdaric.bootstrap; t1 = time.time(); import app; t2 = time.time(); print(t0, t1, t2)")
	var starts, rics, apps, ours, totals, inits []time.Duration
	for range n {
		fn.Restart()
		start := time.Now()
		res, err := fn.Invoke(ctx, runtimeapi.Invocation{Payload: []byte(`{}`)})
		if err != nil {
			return err
		}
		total := time.Since(start)
		totals = append(totals, total)
		inits = append(inits, res.InitDuration)

		cmd := exec.Command(probe[0], probe[1:]...)
		cmd.Env, cmd.Dir = env, fn.TaskRoot()
		spawn := time.Now()
		out, err := cmd.Output()
		if err != nil {
			return fmt.Errorf("timing the imports: %v", err)
		}
		var t0, t1, t2 float64
		if _, err := fmt.Sscan(string(out), &t0, &t1, &t2); err != nil {
			return fmt.Errorf("timing the imports: %q", out)
		}
		at := func(f float64) time.Time { return time.Unix(0, int64(f*1e9)) }
		st, ric, ap := at(t0).Sub(spawn), at(t1).Sub(at(t0)), at(t2).Sub(at(t1))
		starts, rics, apps = append(starts, st), append(rics, ric), append(apps, ap)
		ours = append(ours, total-st-ric-ap)
	}
	r.add("| %s | %s | %s | %s | %s | %s | %s |", label, msf(summarize(starts).median), msf(summarize(rics).median), msf(summarize(apps).median),
		msf(summarize(ours).median), msf(summarize(totals).median), msf(summarize(inits).median))
	return nil
}

// buildWebLayer builds the web-api workload as a layer for python3.12.
func buildWebLayer(ctx context.Context, o options, work string) (*tree.Tree, error) {
	env, err := app.OpenEnv(app.EnvOptions{CacheDir: o.cache})
	if err != nil {
		return nil, err
	}
	defer env.Close()
	out := filepath.Join(work, "web-api-layer.zip")
	if _, err := app.BuildArtifact(ctx, env, app.ArtifactOptions{
		Kind: app.KindLayer, Deps: app.Inputs{RequirementFiles: []string{filepath.Join(o.root, "bench", "workloads", "web-api.txt")}},
		Runtime: "python3.12", Arch: "x86_64", Output: out,
	}); err != nil {
		return nil, err
	}
	return invoke.ZipTree(out)
}

// editLoop serves a web-api project with --watch and times edits until the
// first response that shows them.
func editLoop(ctx context.Context, o options, r *report, runner *invoke.Runner, work string) error {
	dir := filepath.Join(work, "web-api")
	req, err := os.ReadFile(filepath.Join(o.root, "bench", "workloads", "web-api.txt"))
	if err != nil {
		return err
	}
	for p, c := range map[string]string{
		"lambdapack.toml": `runtime = "python3.12"
[layers.deps]
requirements = "requirements.txt"
[functions.api]
handler = "app.handler"
source = "src"
layers = ["deps"]
`,
		"requirements.txt": string(req),
		"src/app.py":       strings.Replace(webAPI, "VERSION", `"v0"`, 1),
	} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte(c), 0o644); err != nil {
			return err
		}
	}
	p, err := app.OpenProjectRun(ctx, runner, app.ProjectRunOptions{Dir: dir, Notes: io.Discard, Env: app.EnvOptions{CacheDir: o.cache}})
	if err != nil {
		return err
	}
	defer p.Close()
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ln, err := invoke.Listen("127.0.0.1:0")
	if err != nil {
		return err
	}
	go func() {
		_ = invoke.Serve(sctx, p, ln, invoke.ServeOptions{Watch: func(ctx context.Context) { p.Watch(ctx, 100*time.Millisecond, io.Discard) }, Log: io.Discard})
	}()
	url := "http://" + ln.Addr().String() + "/2015-03-31/functions/api/invocations"
	event := []byte(`{"version":"2.0","routeKey":"$default","rawPath":"/hello","rawQueryString":"","headers":{"host":"x"},"requestContext":{"http":{"method":"GET","path":"/hello","protocol":"HTTP/1.1","sourceIp":"127.0.0.1","userAgent":"bench"},"requestId":"x","routeKey":"$default","stage":"$default","time":"","timeEpoch":0,"accountId":"1","apiId":"x","domainName":"x","domainPrefix":"x"},"isBase64Encoded":false}`)
	get := func() (string, error) {
		resp, err := http.Post(url, "application/json", bytes.NewReader(event))
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}
	if _, err := get(); err != nil {
		return err
	}
	var ds, builds []time.Duration
	for i := 1; i <= o.edits; i++ {
		want := fmt.Sprintf("v%d", i)
		src := strings.Replace(webAPI, "VERSION", fmt.Sprintf("%q", want), 1)
		start := time.Now()
		if err := os.WriteFile(filepath.Join(dir, "src", "app.py"), []byte(src), 0o644); err != nil {
			return err
		}
		for {
			body, err := get()
			if err != nil {
				return err
			}
			if strings.Contains(body, want) {
				break
			}
			if time.Since(start) > time.Minute {
				return fmt.Errorf("edit %d not picked up: %s", i, body)
			}
			time.Sleep(5 * time.Millisecond)
		}
		ds = append(ds, time.Since(start))
		// The rebuild alone, for the split.
		bstart := time.Now()
		if _, err := p.Rebuild(ctx); err != nil {
			return err
		}
		builds = append(builds, time.Since(bstart))
		time.Sleep(300 * time.Millisecond)
	}
	s := summarize(ds)
	r.add("\n## Edit -> rebuild -> first response, web-api workload under serve --watch (%d edits)\n", o.edits)
	r.add("| measure | median | max |")
	r.add("| --- | --- | --- |")
	slices.Sort(ds)
	r.add("| edit to the first response showing it (poll 100 ms, build, layout, cold init of fastapi, request) | %s | %s |", msf(s.median), msf(ds[len(ds)-1]))
	r.add("| incremental build of an unchanged project (the floor of every rebuild) | %s | - |", msf(summarize(builds).median))
	return nil
}

// lambdaLocal runs python-lambda-local and `lambdapack invoke` the same way:
// one process per invocation, the no-op handler.
func lambdaLocal(ctx context.Context, o options, r *report, work string) error {
	dir := filepath.Join(work, "local")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "app.py"), []byte(noop), 0o644)
	os.WriteFile(filepath.Join(dir, "event.json"), []byte("{}"), 0o644)
	fnZip := filepath.Join(work, "noop.zip")
	build := exec.Command(o.lambdapack, "function", "--src", dir, "--runtime", "python3.12", "-o", fnZip, "--cache-dir", o.cache)
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("building the no-op zip: %v\n%s", err, out)
	}
	time1 := func(argv []string) (time.Duration, error) {
		return pyTime(argv, os.Environ(), dir, o.localN)
	}
	tl, err := time1([]string{o.lambdaLocal, "-f", "handler", "-t", "3", "app.py", "event.json"})
	if err != nil {
		return err
	}
	tp, err := time1([]string{o.lambdapack, "invoke", "--zip", fnZip, "--handler", "app.handler", "--cache-dir", o.cache})
	if err != nil {
		return err
	}
	r.add("\n## Beside python-lambda-local, no-op handler (median of %d runs, one process per invocation)\n", o.localN)
	r.add("| way | per invocation | ratio |")
	r.add("| --- | --- | --- |")
	r.add("| python-lambda-local -f handler app.py event.json (its own context object, in-process) | %s | 1.00 |", msf(tl))
	r.add("| lambdapack invoke --zip noop.zip (real awslambdaric, Runtime API, exact CPython) | %s | %.2f |", msf(tp), float64(tp)/float64(tl))
	return nil
}

func cpus() int {
	b, _ := os.ReadFile("/proc/cpuinfo")
	return strings.Count(string(b), "processor\t:")
}

func goVersion() string {
	out, _ := exec.Command("go", "version").Output()
	return strings.TrimSpace(strings.TrimPrefix(string(out), "go version "))
}
