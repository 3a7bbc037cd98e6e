package sdist

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lambdapack/lambdapack/internal/cache"
	"github.com/lambdapack/lambdapack/internal/index"
	"github.com/lambdapack/lambdapack/internal/target"
	"github.com/lambdapack/lambdapack/internal/testutil"
)

// writeSdist writes a .tar.gz sdist holding files under name-version/.
func writeSdist(t testing.TB, dir, name, version string, files map[string]string) Sdist {
	t.Helper()
	stem := strings.ReplaceAll(strings.ToLower(name), "-", "_") + "-" + version
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	// A nonce makes each run's sdist new, so its build runs again rather
	// than coming from the (shared) cache of built wheels.
	// A test may fix it ("fixed") to reuse a slow build across runs.
	if files["lambdapack-test-nonce.txt"] == "" {
		files["lambdapack-test-nonce.txt"] = strconv.FormatInt(time.Now().UnixNano(), 10)
	}
	var paths []string
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		body := files[p]
		mode := int64(0o644)
		if strings.HasSuffix(p, ".sh") {
			mode = 0o755
		}
		if err := tw.WriteHeader(&tar.Header{Name: stem + "/" + p, Mode: mode, Size: int64(len(body)), ModTime: time.Unix(0, 0), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(body))
	}
	tw.Close()
	gz.Close()
	p := filepath.Join(dir, stem+".tar.gz")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return Sdist{Path: p}
}

var (
	realIndexOnce sync.Once
	realIndex     *index.Client
	realIndexErr  error
)

// realBuilder is a Builder on the real package index (configured the way
// lambdapack finds it) with the test cache shared between runs, so zig and
// the build environments are fetched once per machine.
func realBuilder(t testing.TB) *Builder {
	t.Helper()
	c, err := cache.Open(filepath.Join(testutil.SharedCache(t), "..", "sdist-cache"))
	if err != nil {
		t.Fatal(err)
	}
	realIndexOnce.Do(func() {
		cfg, err := index.DiscoverConfig(index.Overrides{})
		if err != nil {
			realIndexErr = err
			return
		}
		pages, err := c.Dir("index")
		if err != nil {
			realIndexErr = err
			return
		}
		realIndex, realIndexErr = index.NewClient(cfg, index.WithCacheDir(pages))
	})
	if realIndexErr != nil {
		t.Fatalf("the package index: %v", realIndexErr)
	}
	b := &Builder{Cache: c, Index: realIndex, Log: testLog{t}, Timeout: 5 * time.Minute,
		FindPython: func(minor string) (string, error) { return testutil.FindPython(minor) }}
	return b
}

type testLog struct{ t testing.TB }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func mustTarget(t testing.TB, runtime, arch string) target.Target {
	t.Helper()
	tg, err := target.New(runtime, arch)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

// fetchSdist fetches a real project's sdist of version from the index.
func fetchSdist(t testing.TB, b *Builder, project, version string) Sdist {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p, err := b.Index.Project(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range p.Files {
		if strings.HasSuffix(f.Filename, ".tar.gz") && strings.HasSuffix(strings.TrimSuffix(f.Filename, ".tar.gz"), "-"+version) {
			s, err := b.Fetch(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
	}
	t.Fatalf("the index has no sdist of %s %s", project, version)
	return Sdist{}
}
