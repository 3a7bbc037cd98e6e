// Command image benchmarks lambdapack image against lambdapack layer on one
// workload, without Docker: it packs Debian's CPython 3.11 (from
// scripts/setup-image.sh) as a Lambda-like base, serves it from an
// in-process registry on loopback, and times
//
//   - base fetch: pulling that base into an empty cache (in-process);
//   - layer, cold: lambdapack layer -r WORKLOAD with an empty cache;
//   - image, cold: lambdapack image -r WORKLOAD on that base, empty cache;
//   - image, warm, code-only change: the same build again after editing
//     the handler (the dependency layer must come from the cache);
//   - the dependency layer written alone, in-process, from the first cold
//     run's cache: the CPU the layer costs (most of it inflating the wheels'
//     members for the diffID; their deflated bytes are copied, not
//     compressed again).
//
// Usage: go run ./bench/image -lambdapack BIN -root DEBIAN_ROOT [-workload bench/workloads/data.txt] [-repeats 3]
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/lambdapack/lambdapack/internal/app"
	"github.com/lambdapack/lambdapack/internal/image"
	"github.com/lambdapack/lambdapack/internal/image/base"
	"github.com/lambdapack/lambdapack/internal/image/imagetest"
	"github.com/lambdapack/lambdapack/internal/image/remote"
	"github.com/lambdapack/lambdapack/internal/index"
	"github.com/lambdapack/lambdapack/internal/target"
	"github.com/lambdapack/lambdapack/internal/tree"
)

func main() {
	bin := flag.String("lambdapack", "", "the lambdapack binary")
	root := flag.String("root", "", "Debian's amd64 CPython 3.11 folder (scripts/setup-image.sh prints it)")
	workload := flag.String("workload", "bench/workloads/data.txt", "requirements to build")
	repeats := flag.Int("repeats", 3, "runs of each measurement")
	flag.Parse()
	if *bin == "" || *root == "" {
		log.Fatal("need -lambdapack BIN and -root DIR")
	}
	ctx := context.Background()
	img, err := imagetest.LambdaLike(*root, "", "amd64")
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	ref := strings.TrimPrefix(srv.URL, "http://") + "/lambda/python:3.11"
	tag, _ := name.NewTag(ref)
	if err := remote.Write(ctx, tag, img, remote.Options{}); err != nil {
		log.Fatal(err)
	}
	src, _ := os.MkdirTemp("", "bench-image-src-")
	defer os.RemoveAll(src)
	writeHandler := func(n int) {
		code := fmt.Sprintf("import numpy\n\ndef handler(event, context):\n    return %d\n", n)
		if err := os.WriteFile(filepath.Join(src, "app.py"), []byte(code), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	writeHandler(0)

	discoverIndex(*bin)
	var fetch, layerCold, imageCold, imageWarm []time.Duration
	var reused []bool
	var layerWrite string
	var imageSize, layerSize int64
	for r := 0; r < *repeats; r++ {
		// Base fetch alone.
		dir, _ := os.MkdirTemp("", "bench-image-cache-")
		start := time.Now()
		if _, err := base.Fetch(ctx, ref, target.X86_64, "", base.Options{CacheDir: dir}); err != nil {
			log.Fatal(err)
		}
		fetch = append(fetch, time.Since(start))
		os.RemoveAll(dir)

		// Layer, cold.
		cache, _ := os.MkdirTemp("", "bench-image-cache-")
		out, _ := os.MkdirTemp("", "bench-image-out-")
		d, _ := run(*bin, "layer", "-q", "-r", *workload, "--runtime", "python3.11", "-o", filepath.Join(out, "layer.zip"), "--cache-dir", cache)
		layerCold = append(layerCold, d)
		if st, err := os.Stat(filepath.Join(out, "layer.zip")); err == nil {
			layerSize = st.Size()
		}
		os.RemoveAll(cache)

		// Image, cold (the base pulled from loopback included).
		cache, _ = os.MkdirTemp("", "bench-image-cache-")
		args := []string{"image", "-q", "--json", "-r", *workload, "--runtime", "python3.11", "--base", ref, "--src", src,
			"--handler", "app.handler", "--oci-layout", filepath.Join(out, "layout"), "--cache-dir", cache}
		d, stdout := run(*bin, args...)
		imageCold = append(imageCold, d)
		var rep struct{ Images []struct{ Size int64 } }
		if json.Unmarshal(stdout, &rep) == nil && len(rep.Images) == 1 {
			imageSize = rep.Images[0].Size
		}

		// The dependency layer alone, in-process, from the cache the cold
		// build filled (the layer cache left out).
		if r == 0 {
			layerWrite = measureLayerWrite(ctx, cache, *workload, src)
		}

		// Image, warm after a code-only change.
		writeHandler(r + 1)
		d, stdout = run(*bin, args...)
		imageWarm = append(imageWarm, d)
		var warm struct {
			Images []struct {
				DepsReused bool `json:"deps_layer_reused"`
			}
		}
		if err := json.Unmarshal(stdout, &warm); err != nil || len(warm.Images) != 1 {
			log.Fatalf("warm build report: %v %s", err, stdout)
		}
		reused = append(reused, warm.Images[0].DepsReused)
		os.RemoveAll(cache)
		os.RemoveAll(out)
	}
	fmt.Printf("workload %s, python3.11/x86_64, %d runs, medians (all runs)\n\n", filepath.Base(*workload), *repeats)
	fmt.Printf("| measurement | median wall | wall, all runs | median CPU (user+sys) |\n|---|---|---|---|\n")
	row := func(name, key string, ds []time.Duration) {
		c := "-"
		if len(cpu[key]) > 0 {
			c = median(cpu[key]).String()
		}
		fmt.Printf("| %s | %s | %s | %s |\n", name, median(ds), list(ds), c)
	}
	row("base fetch (loopback registry, empty cache, in-process)", "", fetch)
	row("lambdapack layer, cold", "layer", layerCold)
	row("lambdapack image, cold (base pull included)", "image", imageCold)
	row("lambdapack image, warm, code-only change", "image-warm", imageWarm)
	fmt.Printf("\nlayer zip %d bytes; image layers %d bytes compressed (base included); dependency layer reused on every warm run: %v\n",
		layerSize, imageSize, !slices.Contains(reused, false))
	fmt.Printf("dependency layer write alone (in-process, the wheels cached): %s\n", layerWrite)
	goal := median(layerCold) + median(fetch)
	fmt.Printf("goals: warm code-only rebuild < 1s: %v (%s); cold image <= layer + base fetch (%s): %v (%s)\n",
		median(imageWarm) < time.Second, median(imageWarm), goal, median(imageCold) <= goal, median(imageCold))
}

// measureLayerWrite plans the workload's tree from cacheDir and writes its
// dependency layer once, returning the CPU and wall time it took and what
// it made.
func measureLayerWrite(ctx context.Context, cacheDir, workload, src string) string {
	var settings index.Settings
	if len(indexArgs) == 2 {
		settings.IndexURL = indexArgs[1]
	}
	env, err := app.OpenEnv(app.EnvOptions{CacheDir: cacheDir, Index: settings})
	if err != nil {
		log.Fatal(err)
	}
	defer env.Close()
	tr, err := app.PlanTree(ctx, env, app.ArtifactOptions{Kind: app.KindFunction, Deps: app.Inputs{RequirementFiles: []string{workload}},
		Runtime: "python3.11", Arch: "x86_64", Src: src})
	if err != nil {
		log.Fatal(err)
	}
	defer tr.Close()
	deps := tr.Select(func(f *tree.File) bool { return f.Role == tree.RoleDeps })
	cpu0, start := cpuTime(), time.Now()
	info, err := image.WriteLayer(ctx, io.Discard, deps, image.LayerOptions{Root: "var/task"})
	if err != nil {
		log.Fatal(err)
	}
	return fmt.Sprintf("CPU %s, wall %s; %d files (%d spliced from their wheels), tar %d bytes, gzip %d bytes",
		(cpuTime() - cpu0).Round(time.Millisecond), time.Since(start).Round(time.Millisecond), info.Files, info.Spliced, info.TarSize, info.Size)
}

// cpuTime is the process's user+system time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// indexArgs passes the index lambdapack discovered on the first run to the
// others, so no run pays for asking pip again.
var indexArgs []string

// cpu collects each run's user+system time, by measurement name.
var cpu = map[string][]time.Duration{}

func run(bin string, args ...string) (time.Duration, []byte) {
	args = append(args, indexArgs...)
	cmd := exec.Command(bin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	if err := cmd.Run(); err != nil {
		log.Fatalf("lambdapack %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	d := time.Since(start)
	key := args[0]
	if args[0] == "image" && strings.Contains(out.String(), `"deps_layer_reused": true`) {
		key = "image-warm"
	}
	cpu[key] = append(cpu[key], cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime())
	return d, out.Bytes()
}

func discoverIndex(bin string) {
	cmd := exec.Command(bin, "lock", "six", "--runtime", "python3.11", "-o", os.DevNull)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	_ = cmd.Run()
	for _, l := range strings.Split(errb.String(), "\n") {
		if rest, ok := strings.CutPrefix(l, "Index: "); ok {
			if u, _, ok := strings.Cut(rest, " "); ok {
				indexArgs = []string{"--index-url", u}
			}
		}
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2].Round(time.Millisecond)
}

func list(ds []time.Duration) string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Round(time.Millisecond).String())
	}
	return strings.Join(out, ", ")
}
