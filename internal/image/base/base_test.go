package base_test

import (
	"bytes"
	"context"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	ggcr "github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/lambdapack/lambdapack/internal/image"
	"github.com/lambdapack/lambdapack/internal/image/base"
	"github.com/lambdapack/lambdapack/internal/image/imagetest"
	"github.com/lambdapack/lambdapack/internal/image/layout"
	"github.com/lambdapack/lambdapack/internal/image/remote"
	"github.com/lambdapack/lambdapack/internal/image/tarball"
	"github.com/lambdapack/lambdapack/internal/target"
)

// countingRegistry is registry.New behind a counter of blob and manifest
// requests, and a switch that makes it answer 503.
type countingRegistry struct {
	*httptest.Server
	mu               sync.Mutex
	blobs, manifests int
	down             bool
}

func newRegistry(t *testing.T) *countingRegistry {
	r := &countingRegistry{}
	h := registry.New(registry.Logger(log.New(&bytes.Buffer{}, "", 0)))
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		down := r.down
		if req.Method == http.MethodGet && strings.Contains(req.URL.Path, "/blobs/") {
			r.blobs++
		}
		if strings.Contains(req.URL.Path, "/manifests/") {
			r.manifests++
		}
		r.mu.Unlock()
		if down {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, req)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *countingRegistry) host() string { return strings.TrimPrefix(r.URL, "http://") }

func (r *countingRegistry) counts() (int, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	b, m := r.blobs, r.manifests
	r.blobs, r.manifests = 0, 0
	return b, m
}

// lambdaIndex is a two-platform index of Lambda-like fake bases.
func lambdaIndex(t *testing.T) v1.ImageIndex {
	var adds []mutate.IndexAddendum
	for _, arch := range []string{"amd64", "arm64"} {
		img := imagetest.FakeBase(t, imagetest.Fake{Arch: arch, Python: "3.11.9", Glibc: "2.26", Lambda: true, OCI: true})
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: arch}}})
	}
	// An attestation manifest, as buildx pushes: never chosen.
	att := imagetest.Image(t, "unknown", v1.Config{}, true)
	adds = append(adds, mutate.IndexAddendum{Add: att, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "unknown", Architecture: "unknown"}}})
	return mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), adds...)
}

func TestFetchRegistry(t *testing.T) {
	ctx := context.Background()
	reg := newRegistry(t)
	ref := reg.host() + "/lambda/python:3.11"
	tag, _ := name.NewTag(ref)
	if err := remote.WriteIndex(ctx, tag, lambdaIndex(t), remote.Options{}); err != nil {
		t.Fatal(err)
	}
	reg.counts()
	var logs bytes.Buffer
	o := base.Options{CacheDir: t.TempDir(), Log: slog.New(slog.NewTextHandler(&logs, nil)), Remote: remote.Options{Backoff: &ggcr.Backoff{Steps: 1}}}

	b, err := base.Fetch(ctx, ref, target.ARM64, "", o)
	if err != nil {
		t.Fatal(err)
	}
	if !b.Info.Lambda || b.Info.Architecture != target.ARM64 || b.Info.Python != "3.11.9" || !b.Remote {
		t.Fatalf("base %+v info %+v", b, b.Info)
	}
	if tg, err := b.Info.Target("python3.11"); err != nil || tg.String() != "python3.11/arm64" {
		t.Fatalf("target %v %v", tg, err)
	}
	if blobs, _ := reg.counts(); blobs == 0 {
		t.Fatal("the first fetch read no blob")
	}
	// Fetched once: the second build asks for the tag's manifest only.
	b2, err := base.Fetch(ctx, ref, target.ARM64, "", o)
	if err != nil || b2.Digest != b.Digest {
		t.Fatalf("second fetch %v %v", b2, err)
	}
	if blobs, manifests := reg.counts(); blobs != 0 || manifests != 1 {
		t.Errorf("second fetch: %d blob and %d manifest requests, want 0 and 1", blobs, manifests)
	}
	// By digest: no request at all.
	if _, err := base.Fetch(ctx, reg.host()+"/lambda/python@"+b.Digest.String(), target.ARM64, "", o); err != nil {
		t.Fatal(err)
	}
	if blobs, manifests := reg.counts(); blobs+manifests != 0 {
		t.Errorf("digest fetch from the cache made %d requests", blobs+manifests)
	}
	// The registry is down: the cached image for the tag, with a warning.
	reg.mu.Lock()
	reg.down = true
	reg.mu.Unlock()
	b3, err := base.Fetch(ctx, ref, target.ARM64, "", o)
	if err != nil || b3.Digest != b.Digest || !strings.Contains(logs.String(), "using the cached image") {
		t.Fatalf("registry down: %v %v; log %s", b3, err, logs.String())
	}
	o.Offline = true
	if _, err := base.Fetch(ctx, ref, target.ARM64, "", o); err != nil {
		t.Errorf("offline with the base cached: %v", err)
	}
	if _, err := base.Fetch(ctx, ref, target.X86_64, "", o); err == nil || !strings.Contains(err.Error(), "not in the cache") {
		t.Errorf("offline without the base: %v", err)
	}
	o.Offline = false
	reg.mu.Lock()
	reg.down = false
	reg.mu.Unlock()
	// The same image under another tag is not fetched again.
	other, _ := name.NewTag(reg.host() + "/mirror/python:3.11")
	idx := lambdaIndex(t)
	if err := remote.WriteIndex(ctx, other, idx, remote.Options{}); err != nil {
		t.Fatal(err)
	}
	reg.counts()
	if _, err := base.Fetch(ctx, other.String(), target.ARM64, "", o); err != nil {
		t.Fatal(err)
	}
	if blobs, _ := reg.counts(); blobs != 0 {
		t.Errorf("a cached image under another tag: %d blob requests", blobs)
	}
	// A single-platform base cannot serve another architecture.
	single, _ := name.NewTag(reg.host() + "/single:1")
	if err := remote.Write(ctx, single, imagetest.FakeBase(t, imagetest.Fake{Arch: "amd64", Python: "3.12.1", Glibc: "2.36"}), remote.Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := base.Fetch(ctx, single.String(), target.ARM64, "", o); err == nil || !strings.Contains(err.Error(), "not arm64") {
		t.Errorf("single-arch base for another arch: %v", err)
	}
	if _, err := base.Fetch(ctx, reg.host()+"/missing:1", target.ARM64, "", o); err == nil || !strings.Contains(err.Error(), "missing:1") {
		t.Errorf("missing base: %v", err)
	}
	// Without a cache, a fetch still works (and keeps nothing).
	if _, err := base.Fetch(ctx, ref, target.X86_64, "", base.Options{}); err != nil {
		t.Errorf("no cache: %v", err)
	}
}

func TestFetchLocal(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := layout.Write(ctx, dir, []layout.Item{{Index: lambdaIndex(t), Annotations: map[string]string{layout.RefName: "3.11"}}}, layout.Options{}); err != nil {
		t.Fatal(err)
	}
	for _, arch := range []target.Arch{target.X86_64, target.ARM64} {
		b, err := base.Fetch(ctx, "oci-layout:"+dir, arch, "python3.11", base.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if b.Info.Architecture != arch || !b.Info.Lambda || b.Remote {
			t.Errorf("oci-layout %s: %+v", arch, b.Info)
		}
	}
	if _, err := base.Fetch(ctx, "oci-layout:"+dir, target.X86_64, "python3.12", base.Options{}); err != nil {
		// The runtime is checked by Target, not Fetch.
		t.Errorf("fetch with another runtime: %v", err)
	}

	file := filepath.Join(t.TempDir(), "base.tar")
	img := imagetest.FakeBase(t, imagetest.Fake{Arch: "arm64", Python: "3.13.5", Glibc: "2.41"})
	if err := tarball.Write(file, []tarball.Tagged{{Tag: "distroless/python3:latest", Image: img}}); err != nil {
		t.Fatal(err)
	}
	b, err := base.Fetch(ctx, "tarball:"+file, target.ARM64, "", base.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if tg, _ := b.Info.Target(""); tg.String() != "python3.13+glibc2.41/arm64" || b.Info.Lambda {
		t.Errorf("tarball base target %v", tg)
	}
	if _, err := base.Fetch(ctx, "tarball:"+file, target.X86_64, "", base.Options{}); err == nil || !strings.Contains(err.Error(), "no linux/amd64") {
		t.Errorf("tarball for another arch: %v", err)
	}
	for _, spec := range []string{"oci-layout:" + t.TempDir(), "tarball:/nonexistent.tar", "lambda", "Not A Ref!"} {
		if _, err := base.Fetch(ctx, spec, target.X86_64, "", base.Options{}); err == nil {
			t.Errorf("Fetch(%q) succeeded", spec)
		}
	}
	if ref, err := base.LambdaRef("python3.12"); err != nil || ref != "public.ecr.aws/lambda/python:3.12" {
		t.Errorf("LambdaRef = %q %v", ref, err)
	}
	if _, err := base.LambdaRef("python2.7"); err == nil {
		t.Error("LambdaRef(python2.7) accepted")
	}
	_ = image.TaskRoot
}

// A mirror serves a registry's bases: the pull goes to it, the base keeps
// its own name (in the cache, offline), and a bad setting says its form.
func TestFetchMirror(t *testing.T) {
	ctx := context.Background()
	mirror := newRegistry(t)
	tag, _ := name.NewTag(mirror.host() + "/mirror/lambda/python:3.11")
	if err := remote.WriteIndex(ctx, tag, lambdaIndex(t), remote.Options{}); err != nil {
		t.Fatal(err)
	}
	ms, err := base.ParseMirrors("public.ecr.aws/lambda=" + mirror.host() + "/mirror/lambda, docker.io/library=" + mirror.host() + "/hub")
	if err != nil || len(ms) != 2 {
		t.Fatalf("ParseMirrors: %v %v", ms, err)
	}
	var logs bytes.Buffer
	o := base.Options{CacheDir: t.TempDir(), Mirrors: ms, Log: slog.New(slog.NewTextHandler(&logs, nil))}
	b, err := base.Fetch(ctx, base.Lambda, target.ARM64, "python3.11", o)
	if err != nil {
		t.Fatal(err)
	}
	if b.Ref != "public.ecr.aws/lambda/python:3.11" || !b.Info.Lambda || !strings.Contains(logs.String(), "mirror") {
		t.Fatalf("base %s %+v\n%s", b.Ref, b.Info, logs.String())
	}
	// Offline, the base is found under its own name.
	o.Offline = true
	if b2, err := base.Fetch(ctx, base.Lambda, target.ARM64, "python3.11", o); err != nil || b2.Digest != b.Digest {
		t.Fatalf("offline: %v %v", b2, err)
	}
	// A whole registry mirrored by another's root (a pull-through cache):
	// "public.ecr.aws" was read as a Docker Hub repository and never
	// matched, and a registry alone as TO was refused.
	whole := newRegistry(t)
	tag, _ = name.NewTag(whole.host() + "/lambda/python:3.11")
	if err := remote.WriteIndex(ctx, tag, lambdaIndex(t), remote.Options{}); err != nil {
		t.Fatal(err)
	}
	ms, err = base.ParseMirrors("public.ecr.aws=" + whole.host())
	if err != nil {
		t.Fatalf("ParseMirrors of registries: %v", err)
	}
	logs.Reset()
	o = base.Options{CacheDir: t.TempDir(), Mirrors: ms, Log: slog.New(slog.NewTextHandler(&logs, nil))}
	if b3, err := base.Fetch(ctx, base.Lambda, target.ARM64, "python3.11", o); err != nil || b3.Digest != b.Digest || !strings.Contains(logs.String(), whole.host()+"/lambda/python") {
		t.Fatalf("whole-registry mirror: %v %v\n%s", b3, err, logs.String())
	}
	for _, bad := range []string{"public.ecr.aws/lambda", "=x", "UPPER/Case=x/y"} {
		if _, err := base.ParseMirrors(bad); err == nil || !strings.Contains(err.Error(), "FROM=TO") {
			t.Errorf("ParseMirrors(%q): %v", bad, err)
		}
	}
}
