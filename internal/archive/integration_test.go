package archive_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lambdapack/lambdapack/internal/archive"
	"github.com/lambdapack/lambdapack/internal/cache"
	"github.com/lambdapack/lambdapack/internal/install"
	"github.com/lambdapack/lambdapack/internal/testutil"
	"github.com/lambdapack/lambdapack/internal/zipsink"
)

// synthWheels returns wheels shaped like real ones: many Python sources
// (compressible text) and a few native libraries (half random, half
// repeats), scale MiB of native code in all.
func synthWheels(scale int) []testutil.Wheel {
	r := rand.New(rand.NewPCG(42, 7))
	words := []string{"def ", "return ", "self", ".value", " = ", "(", ")", ":\n    ", "import ", "numpy", "class ", "\n", "if ", "else", "x", "y", "0", "1", ", ", "None", "array", "dtype"}
	src := func(n int) []byte {
		var b bytes.Buffer
		for b.Len() < n {
			b.WriteString(words[r.IntN(len(words))])
		}
		return b.Bytes()
	}
	native := func(n int) []byte {
		b := make([]byte, 0, n)
		for len(b) < n {
			if len(b) > 4096 && r.IntN(2) == 0 {
				off := r.IntN(len(b) - 4096)
				b = append(b, b[off:off+4096]...)
				continue
			}
			for range 4096 {
				b = append(b, byte(r.Uint32()>>r.IntN(8)))
			}
		}
		return b[:n]
	}
	num := testutil.Wheel{Name: "synthnum", Version: "2.1.0", Tags: []string{"cp312-cp312-manylinux_2_17_x86_64"}, Files: map[string][]byte{}}
	for i := range 60 {
		num.Files[fmt.Sprintf("synthnum/mod%02d/__init__.py", i)] = src(40_000 + i*1000)
	}
	for i := range 4 {
		num.Files[fmt.Sprintf("synthnum/_core%d.cpython-312-x86_64-linux-gnu.so", i)] = native(scale << 20 / 4)
	}
	pyd := testutil.Wheel{Name: "synthcore", Version: "0.9", Tags: []string{"cp312-cp312-manylinux_2_17_x86_64"}, Files: map[string][]byte{
		"synthcore/__init__.py":                           src(20_000),
		"synthcore/_core.cpython-312-x86_64-linux-gnu.so": native(scale << 20 / 2),
		"synthcore-0.9.data/scripts/synth":                []byte("#!python\nprint('synth')\n"),
		"synthcore/py.typed":                              {},
	}}
	pure := testutil.Wheel{Name: "synthpure", Version: "1.0", Files: map[string][]byte{"synthpure.py": src(5000)}}
	return []testutil.Wheel{num, pyd, pure}
}

// serve puts the wheels on an httptest server and returns fetch requests.
func serve(t testing.TB, wheels []testutil.Wheel) []cache.Request {
	files := map[string][]byte{}
	var reqs []cache.Request
	for _, w := range wheels {
		b := w.Bytes()
		files[w.Filename()] = b
		sum := sha256.Sum256(b)
		reqs = append(reqs, cache.Request{Name: w.Filename(), SHA256: hex.EncodeToString(sum[:]), Size: int64(len(b))})
	}
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := files[strings.TrimPrefix(r.URL.Path, "/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	}))
	t.Cleanup(s.Close)
	for i := range reqs {
		reqs[i].URL = s.URL + "/" + reqs[i].Name
	}
	return reqs
}

// buildLayer is the assembly path: fetch into a cache, plan, write.
func buildLayer(t testing.TB, cacheDir string, reqs []cache.Request, out string, opts archive.Options) *archive.Result {
	t.Helper()
	c, err := cache.Open(cacheDir)
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := c.Fetch(context.Background(), reqs)
	if err != nil {
		t.Fatal(err)
	}
	memo, err := c.Memo("install")
	if err != nil {
		t.Fatal(err)
	}
	var wheels []install.Wheel
	for _, b := range blobs {
		wheels = append(wheels, install.Wheel{Path: b.Path, Filename: b.Name, SHA256: b.SHA256})
	}
	plan, err := install.Build(context.Background(), wheels, install.Options{Layout: install.LayerLayout(), Memo: memo})
	if err != nil {
		t.Fatal(err)
	}
	defer plan.Close()
	opts.Root = plan.Layout.Root
	res, err := archive.Write(context.Background(), out, zipsink.Entries(plan.Files()), opts)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestLayerIsReproducibleAcrossCaches(t *testing.T) {
	reqs := serve(t, synthWheels(2))
	dir := t.TempDir()
	a := buildLayer(t, filepath.Join(dir, "cache-a"), reqs, filepath.Join(dir, "a.zip"), archive.Options{})
	b := buildLayer(t, filepath.Join(dir, "cache-b"), reqs, filepath.Join(dir, "b.zip"), archive.Options{Concurrency: 1})
	// Warm: the same cache again (wheels memoised as checked).
	c := buildLayer(t, filepath.Join(dir, "cache-a"), reqs, filepath.Join(dir, "c.zip"), archive.Options{})
	if a.SHA256 != b.SHA256 || a.SHA256 != c.SHA256 {
		t.Fatalf("builds differ: %s %s %s", a.SHA256, b.SHA256, c.SHA256)
	}
	if a.RawCopied == 0 {
		t.Error("nothing was copied raw")
	}
	t.Logf("layer: %d bytes zipped, %d unzipped, %d files (%d raw, %d deflated, %d stored), top level %v",
		a.Size, a.UnzippedSize, a.Files, a.RawCopied, a.Deflated, a.Stored, a.TopLevel)
	for _, cmd := range [][]string{{"unzip", "-t", filepath.Join(dir, "a.zip")}, {"python3", "-m", "zipfile", "-t", filepath.Join(dir, "a.zip")}} {
		if out, err := exec.Command(cmd[0], cmd[1:]...).CombinedOutput(); err != nil {
			t.Errorf("%v: %v\n%s", cmd, err, out)
		}
	}
	// Python sees every installed file RECORD lists, with the right hash.
	py := testutil.Python(t, "3.12")
	root := filepath.Join(dir, "opt")
	if out, err := exec.Command(py, "-m", "zipfile", "-e", filepath.Join(dir, "a.zip"), root).CombinedOutput(); err != nil {
		t.Fatalf("extracting: %v\n%s", err, out)
	}
	check := `
import base64, hashlib, importlib.metadata as m, sys
n = 0
for name in ("synthnum", "synthcore", "synthpure"):
    d = m.distribution(name)
    for f in d.files:
        if f.hash is None:
            continue
        data = f.locate().read_bytes()
        assert f.hash.value == base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode(), f
        assert f.size == len(data), f
        n += 1
print(n)
`
	cmd := exec.Command(py, "-S", "-c", check)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+filepath.Join(root, "python"))
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) == "0" {
		t.Errorf("RECORD check in Python: %v\n%s", err, out)
	}
}

// BenchmarkArchive writes a layer of synthetic wheels (about 60 MiB of
// native code plus sources) from a warm cache: raw copy of the wheels'
// deflated members against inflating and deflating everything again.
func BenchmarkArchive(b *testing.B) {
	reqs := serve(b, synthWheels(60))
	dir := b.TempDir()
	c, err := cache.Open(filepath.Join(dir, "cache"))
	if err != nil {
		b.Fatal(err)
	}
	blobs, err := c.Fetch(context.Background(), reqs)
	if err != nil {
		b.Fatal(err)
	}
	var wheels []install.Wheel
	for _, bl := range blobs {
		wheels = append(wheels, install.Wheel{Path: bl.Path, Filename: bl.Name, SHA256: bl.SHA256})
	}
	memo, _ := c.Memo("install")
	plan, err := install.Build(context.Background(), wheels, install.Options{Layout: install.LayerLayout(), Memo: memo})
	if err != nil {
		b.Fatal(err)
	}
	defer plan.Close()
	entries := zipsink.Entries(plan.Files())
	var unzipped int64
	for _, e := range plan.Entries {
		unzipped += e.Size
	}
	for _, mode := range []struct {
		name       string
		recompress bool
	}{{"raw-copy", false}, {"recompress", true}} {
		b.Run(mode.name, func(b *testing.B) {
			b.SetBytes(unzipped)
			var res *archive.Result
			peak := heapPeak()
			for b.Loop() {
				res, err = archive.Write(context.Background(), filepath.Join(dir, "out.zip"), entries, archive.Options{Recompress: mode.recompress})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(peak())/(1<<20), "peakHeapMiB")
			b.ReportMetric(float64(res.Size)/(1<<20), "zipMiB")
		})
	}
	b.Run("plan-warm", func(b *testing.B) {
		for b.Loop() {
			p, err := install.Build(context.Background(), wheels, install.Options{Layout: install.LayerLayout(), Memo: memo})
			if err != nil {
				b.Fatal(err)
			}
			p.Close()
		}
	})
	b.Run("plan-cold", func(b *testing.B) {
		b.SetBytes(unzipped)
		for b.Loop() {
			p, err := install.Build(context.Background(), wheels, install.Options{Layout: install.LayerLayout()})
			if err != nil {
				b.Fatal(err)
			}
			p.Close()
		}
	})
}

// heapPeak samples the heap in use (above what it is now) until the
// returned function is called, which reports the peak.
func heapPeak() func() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > base && ms.HeapInuse-base > peak.Load() {
					peak.Store(ms.HeapInuse - base)
				}
			}
		}
	}()
	return func() uint64 {
		close(stop)
		<-done
		return peak.Load()
	}
}
