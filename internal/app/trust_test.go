package app

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lambdapack/lambdapack/internal/index"
	"github.com/lambdapack/lambdapack/internal/install"
	"github.com/lambdapack/lambdapack/internal/testutil"
)

// emptyDir fails the test when dir holds anything.
func emptyDir(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	for _, e := range ents {
		t.Errorf("%s holds %s", dir, e.Name())
	}
}

// A PEP 658 metadata file that leaves out a dependency of its wheel (its
// hash on the page matching what is served) resolves without it; the
// layer is refused when the wheel is installed, naming the package, both
// files and the difference, and nothing is written.
func TestLyingMetadataFileRefused(t *testing.T) {
	ix := testutil.StartIndex(t, testutil.IndexOptions{})
	app := testutil.Wheel{Name: "app", Version: "1.0", RequiresDist: []string{"dep>=1"}, Files: map[string][]byte{"app/__init__.py": []byte("import dep\n")}}
	ix.AddWheel(app, testutil.ServedMetadata("Metadata-Version: 2.1\nName: app\nVersion: 1.0\n"))
	ix.AddWheel(testutil.Wheel{Name: "dep", Version: "1.0", Files: map[string][]byte{"dep/__init__.py": []byte("\n")}})
	// A second package whose metadata file is honest installs as before.
	ix.AddWheel(testutil.Wheel{Name: "fine", Version: "1.0", RequiresDist: []string{"dep"}, Files: map[string][]byte{"fine/__init__.py": []byte("\n")}})

	env, err := OpenEnv(EnvOptions{CacheDir: t.TempDir(), Index: index.Settings{IndexURL: ix.URL}})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	outDir := t.TempDir()
	_, err = BuildArtifact(context.Background(), env, ArtifactOptions{Kind: KindLayer, Deps: Inputs{Requirements: []string{"app"}}, Runtime: "python3.12", Output: filepath.Join(outDir, "layer.zip")})
	var mm *install.MetadataMismatchError
	if !errors.As(err, &mm) {
		t.Fatalf("err = %v, want a MetadataMismatchError", err)
	}
	if ix.Hits("/files/"+app.Filename()+".metadata") == 0 {
		t.Fatal("the resolver did not use the metadata file: the test proves nothing")
	}
	for _, want := range []string{"app 1.0", app.Filename(), "app-1.0.dist-info/METADATA", ix.FileURL(app.Filename()) + ".metadata",
		"Requires-Dist: dep>=1 is in the wheel's METADATA only"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
	emptyDir(t, outDir)

	out := filepath.Join(outDir, "fine.zip")
	rep, err := BuildArtifact(context.Background(), env, ArtifactOptions{Kind: KindLayer, Deps: Inputs{Requirements: []string{"fine"}}, Runtime: "python3.12", Output: out})
	if err != nil || len(rep.Packages) != 2 {
		t.Fatalf("an honest metadata file: %+v %v", rep, err)
	}
}

// An artifact whose wheels the index lists as too large to fit is refused
// before anything is downloaded, with a verification error (exit 1) that
// names the largest; --force warns and goes on, --no-verify skips the
// check, and --exclude-package, --slim and --strip-pattern are taken into
// account.
func TestSizeFromIndexRefusedBeforeDownload(t *testing.T) {
	ix := testutil.StartIndex(t, testutil.IndexOptions{})
	torch := testutil.Wheel{Name: "torch", Version: "2.5.1", RequiresDist: []string{"nvidia-cudnn"}, Tags: []string{"cp312-cp312-manylinux_2_17_x86_64"}, Files: map[string][]byte{"torch/__init__.py": []byte("\n")}}
	cudnn := testutil.Wheel{Name: "nvidia-cudnn", Version: "9.1", Tags: []string{"py3-none-manylinux_2_17_x86_64"}, Files: map[string][]byte{"nvidia/cudnn/__init__.py": []byte("\n")}}
	ix.AddWheel(torch, testutil.ListedSize(200_000_000))
	ix.AddWheel(cudnn, testutil.ListedSize(150_000_000))

	var log strings.Builder
	env, err := OpenEnv(EnvOptions{CacheDir: t.TempDir(), Index: index.Settings{IndexURL: ix.URL}, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	outDir := t.TempDir()
	o := ArtifactOptions{Kind: KindLayer, Deps: Inputs{Requirements: []string{"torch"}}, Runtime: "python3.12", Output: filepath.Join(outDir, "layer.zip")}
	_, err = BuildArtifact(context.Background(), env, o)
	var ve *VerifyError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v, want a VerifyError", err)
	}
	for _, want := range []string{"error   size", "the wheels to install are 333.8 MiB as downloaded", "torch 2.5.1 190.7 MiB, nvidia-cudnn 9.1 143.1 MiB",
		"refused before downloading anything", "--exclude-package", "--force"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
	for _, w := range []testutil.Wheel{torch, cudnn} {
		if n := ix.Hits(testutil.FilePath(w.Filename())); n != 0 {
			t.Errorf("%s was requested %d times", w.Filename(), n)
		}
	}
	emptyDir(t, outDir)

	// The other options, at the step itself (the index's sizes are made
	// up, so a download after it would fail on them).
	targets, err := env.targets(o)
	if err != nil {
		t.Fatal(err)
	}
	parts, err := env.pinParts(context.Background(), o, targets)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		change func(*ArtifactOptions)
		refuse bool
	}{
		{"as built", func(*ArtifactOptions) {}, true},
		{"--force", func(o *ArtifactOptions) { o.Force = true }, false},
		{"--no-verify", func(o *ArtifactOptions) { o.NoVerify = true }, false},
		{"--slim", func(o *ArtifactOptions) { o.Slim = true }, false},
		{"--strip-pattern", func(o *ArtifactOptions) { o.StripPatterns = []string{"**/*.so"} }, false},
		{"--exclude-package nvidia-cudnn (200 MB left)", func(o *ArtifactOptions) { o.ExcludePackages = []string{"NVIDIA_cudnn"} }, false},
	} {
		co := o
		c.change(&co)
		log.Reset()
		_, err := env.checkSizes(co, parts)
		if refused := errors.As(err, &ve); refused != c.refuse || (!c.refuse && err != nil) {
			t.Errorf("%s: err = %v, want refused %v", c.name, err, c.refuse)
		}
		if c.name == "--force" && !strings.Contains(log.String(), "going on because of --force") {
			t.Errorf("--force: no warning in the log:\n%s", log.String())
		}
	}
}

// An index that lists no sizes (PEP 503 HTML): the fetch counts each
// wheel by the length its server announces and stops as soon as the sum
// cannot fit, before reading the bodies.
func TestSizeFromContentLengthStopsTheFetch(t *testing.T) {
	// Were the fetch to read the bodies, they would stall: fail soon.
	t.Setenv("LAMBDAPACK_HTTP_TIMEOUT", "1s")
	ix := testutil.StartIndex(t, testutil.IndexOptions{Format: testutil.FormatHTML})
	torch := testutil.Wheel{Name: "torch", Version: "2.5.1", RequiresDist: []string{"nvidia-cudnn"}, Files: map[string][]byte{"torch/__init__.py": []byte("\n")}}
	cudnn := testutil.Wheel{Name: "nvidia-cudnn", Version: "9.1", Files: map[string][]byte{"nvidia/cudnn/__init__.py": []byte("\n")}}
	ix.AddWheel(torch, testutil.AnnouncedLength(200_000_000))
	ix.AddWheel(cudnn, testutil.AnnouncedLength(150_000_000))
	cacheDir := t.TempDir()
	env, err := OpenEnv(EnvOptions{CacheDir: cacheDir, Index: index.Settings{IndexURL: ix.URL}})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	outDir := t.TempDir()
	_, err = BuildArtifact(context.Background(), env, ArtifactOptions{Kind: KindLayer, Deps: Inputs{Requirements: []string{"torch"}}, Runtime: "python3.12", Output: filepath.Join(outDir, "layer.zip")})
	var ve *VerifyError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v, want a VerifyError", err)
	}
	for _, want := range []string{"error   size: (the wheels, by the sizes the index lists and the lengths its servers announce)", "333.8 MiB", "refused as the downloads started"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
	emptyDir(t, outDir)
	if b, ok := env.Cache.Lookup(ix.SHA256(torch.Filename())); ok {
		t.Errorf("torch is in the cache: %+v", b)
	}
}
