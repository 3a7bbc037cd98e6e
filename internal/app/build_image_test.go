package app

import (
	"bytes"
	"context"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/lambdapack/lambdapack/internal/image/imagetest"
	"github.com/lambdapack/lambdapack/internal/image/layout"
	"github.com/lambdapack/lambdapack/internal/image/remote"
	"github.com/lambdapack/lambdapack/internal/record"
	"github.com/lambdapack/lambdapack/internal/testutil"
)

// imageBase writes a Lambda-like base for Python 3.12 on x86_64 as an OCI
// layout and returns its oci-layout: reference.
func imageBase(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	img := imagetest.FakeBase(t, imagetest.Fake{Arch: "amd64", Python: "3.12.3", Glibc: "2.34", Lambda: true, OCI: true})
	if _, err := layout.Write(context.Background(), dir, []layout.Item{{Image: img}}, layout.Options{}); err != nil {
		t.Fatal(err)
	}
	return "oci-layout:" + dir
}

func artifactNamed(r *BuildReport, name string) *BuiltArtifact {
	for _, a := range r.Artifacts {
		if a.Name == name {
			return a
		}
	}
	return nil
}

func mustBuildHermetic(t *testing.T, dir, indexURL string, mod func(*BuildOptions)) *BuildReport {
	t.Helper()
	rep, err := buildHermetic(t, dir, indexURL, mod)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// imageFiles lists the files an image built into a layout holds under
// /var/task, and its config.
func imageFiles(t *testing.T, a *BuiltArtifact) ([]string, *v1.ConfigFile) {
	t.Helper()
	h, err := v1.NewHash(a.Image.Digest)
	if err != nil {
		t.Fatal(err)
	}
	img, err := layout.Image(a.Path, h)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(imagetest.Unpack(t, img), "var", "task")
	var files []string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			rel, _ := filepath.Rel(root, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return err
	})
	return files, cf
}

// lambdapack build builds a project's image functions as lambdapack image
// does: a SAM PackageType Image function from its Dockerfile (DockerContext,
// DockerBuildArgs, ImageConfig's Command as the CMD) and a [tool.lambdapack]
// package = "image" function on a base, each into <out>/<name>.oci, reported
// in --json beside the zips with the image's digest as its SHA256; a
// rebuild gives the same digests; --publish pushes them to --image-repo,
// and without one fails before anything is built.
func TestBuildImageFunctions(t *testing.T) {
	base := imageBase(t)
	idx := testutil.NewIndex(t, sixWheel)

	t.Run("sam", func(t *testing.T) {
		dir := t.TempDir()
		testutil.WriteFiles(t, dir, map[string]string{
			"template.yaml": samT + "  Img:\n    Type: AWS::Serverless::Function\n    Properties:\n      PackageType: Image\n      ImageConfig:\n        Command: [\"app.handler\"]\n" +
				"    Metadata:\n      Dockerfile: Dockerfile\n      DockerContext: ./img\n      DockerTag: v1\n      DockerBuildArgs:\n        BASE: " + base + "\n" +
				"  Zip:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: src/\n      Handler: app.handler\n      Runtime: python3.12\n",
			"img/Dockerfile":       "ARG BASE\nFROM ${BASE}\nCOPY requirements.txt .\nRUN pip install -r requirements.txt --target ${LAMBDA_TASK_ROOT}\nCOPY app.py ${LAMBDA_TASK_ROOT}\n",
			"img/requirements.txt": "six==1.16.0\n",
			"img/app.py":           "import six\ndef handler(e, c): return six.__version__\n",
			"src/app.py":           "def handler(e, c): pass\n",
		})
		cache := t.TempDir()
		withCache := func(o *BuildOptions) { o.Env.CacheDir = cache }
		rep, err := buildHermetic(t, dir, idx, withCache)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Skipped) != 0 {
			t.Errorf("skipped %+v", rep.Skipped)
		}
		wantZip(t, rep, "Zip", "app.py")
		var img *BuiltArtifact
		for _, a := range rep.Artifacts {
			if a.Name == "Img" {
				img = a
			}
		}
		if img == nil || img.Kind != record.KindImage || img.Path != filepath.Join(dir, "dist", "Img.oci") || img.Image == nil ||
			"sha256:"+img.SHA256 != img.Image.Digest || img.Architecture != "x86_64" || img.Handler != "app.handler" || img.SHA256Base64 == "" {
			t.Fatalf("image artifact %+v", img)
		}
		files, cf := imageFiles(t, img)
		for _, want := range []string{"app.py", "requirements.txt", "six.py"} {
			if !slices.Contains(files, want) {
				t.Errorf("the image's /var/task lacks %s: %v", want, files)
			}
		}
		if !slices.Equal(cf.Config.Cmd, []string{"app.handler"}) || !slices.Equal(cf.Config.Entrypoint, []string{"/lambda-entrypoint.sh"}) {
			t.Errorf("config %+v", cf.Config)
		}

		// SAM's build template: the zip function by its zip; the image
		// function, not pushed, as written, with a note and a comment.
		samTpl := func() string {
			data, err := os.ReadFile(filepath.Join(dir, ".aws-sam", "build", "template.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			return string(data)
		}
		if tpl := samTpl(); strings.Contains(tpl, "ImageUri:") || !strings.Contains(tpl, "did not push it") || !strings.Contains(tpl, "CodeUri: ../../dist/Zip.zip") {
			t.Errorf("build template:\n%s", tpl)
		}
		if !slices.ContainsFunc(rep.Notes, func(n BuildNote) bool {
			return strings.Contains(n.Message, "function Img is an image, which sam deploy takes from .aws-sam/build/template.yaml only once it is pushed")
		}) {
			t.Errorf("no note on the unpushed image: %+v", rep.Notes)
		}

		// Built again: unchanged, from the build state, with its digest.
		again, err := buildHermetic(t, dir, idx, withCache)
		if err != nil {
			t.Fatal(err)
		}
		if a := artifactNamed(again, "Img"); a == nil || a.Unchanged == nil || !*a.Unchanged || a.SHA256 != img.SHA256 || a.Image.Digest != img.Image.Digest || a.Image.Tag != "img-v1" {
			t.Errorf("an unchanged image: %+v", a)
		}
		// --rebuild builds it: the same image, its dependency layer from the
		// cache.
		again, err = buildHermetic(t, dir, idx, func(o *BuildOptions) { withCache(o); o.Rebuild = true })
		if err != nil {
			t.Fatal(err)
		}
		if a := artifactNamed(again, "Img"); a == nil || *a.Unchanged || a.SHA256 != img.SHA256 || !a.Image.DepsReused {
			t.Errorf("rebuilt image %+v, first %s", a, img.SHA256)
		}
		// A change in the context (or the Dockerfile) builds it again; one
		// the .dockerignore leaves out does not.
		testutil.WriteFiles(t, dir, map[string]string{"img/.dockerignore": "notes.txt\n"})
		changed, err := buildHermetic(t, dir, idx, withCache)
		if err != nil {
			t.Fatal(err)
		}
		if a := artifactNamed(changed, "Img"); a == nil || *a.Unchanged {
			t.Errorf("a new .dockerignore: %+v", a)
		}
		testutil.WriteFiles(t, dir, map[string]string{"img/notes.txt": "ignored\n"})
		if a := artifactNamed(mustBuildHermetic(t, dir, idx, withCache), "Img"); a == nil || !*a.Unchanged {
			t.Errorf("an ignored file changed: %+v", a)
		}
		testutil.WriteFiles(t, dir, map[string]string{"img/app.py": "import six\ndef handler(e, c): return 2\n"})
		if a := artifactNamed(mustBuildHermetic(t, dir, idx, withCache), "Img"); a == nil || *a.Unchanged || a.SHA256 == img.SHA256 {
			t.Errorf("the handler changed: %+v", a)
		}

		// --publish without a repository: refused before anything is built.
		os.RemoveAll(filepath.Join(dir, "dist"))
		if _, err := buildHermetic(t, dir, idx, func(o *BuildOptions) { o.Publish = true }); err == nil || !strings.Contains(err.Error(), "--image-repo") {
			t.Errorf("--publish without --image-repo: %v", err)
		}
		if _, err := os.Stat(filepath.Join(dir, "dist")); err == nil {
			t.Error("a refused --publish built something")
		}
		testutil.WriteFiles(t, dir, map[string]string{"img/app.py": "import six\ndef handler(e, c): return six.__version__\n"})

		// --publish --image-repo pushes, by digest.
		reg := httptest.NewServer(registry.New(registry.Logger(log.New(&bytes.Buffer{}, "", 0))))
		defer reg.Close()
		repo := strings.TrimPrefix(reg.URL, "http://") + "/project"
		pub, err := buildHermetic(t, dir, idx, func(o *BuildOptions) { o.Publish, o.ImageRepo = true, repo })
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range pub.Artifacts {
			if a.Name != "Img" {
				continue
			}
			if a.Image.Ref != repo+"@"+a.Image.Digest || a.Image.Tag != "img-v1" {
				t.Errorf("pushed %+v", a.Image)
			}
			if tpl := samTpl(); !strings.Contains(tpl, "ImageUri: "+a.Image.Ref) || strings.Contains(tpl, "did not push it") {
				t.Errorf("the build template does not point at the pushed image:\n%s", tpl)
			}
			ref, _ := name.ParseReference(a.Image.Ref)
			if d, err := remote.Get(context.Background(), ref, remote.Options{}); err != nil || d.Digest.String() != a.Image.Digest {
				t.Errorf("the registry has %v (%v)", d, err)
			}
		}
		// Unchanged and published again (to another repository): pushed
		// from the layout, not rebuilt.
		repo2 := strings.TrimPrefix(reg.URL, "http://") + "/other"
		again, err = buildHermetic(t, dir, idx, func(o *BuildOptions) { o.Publish, o.ImageRepo = true, repo2 })
		if err != nil {
			t.Fatal(err)
		}
		a := artifactNamed(again, "Img")
		if a == nil || !*a.Unchanged || a.Image.Ref != repo2+"@"+a.Image.Digest {
			t.Fatalf("an unchanged image published: %+v", a)
		}
		ref, _ := name.ParseReference(repo2 + ":img-v1")
		if d, err := remote.Get(context.Background(), ref, remote.Options{}); err != nil || d.Digest.String() != a.Image.Digest {
			t.Errorf("the registry has %v (%v)", d, err)
		}
		// Not published: no reference is claimed.
		if a := artifactNamed(mustBuildHermetic(t, dir, idx, nil), "Img"); a == nil || !*a.Unchanged || a.Image.Ref != "" {
			t.Errorf("unchanged, not pushed: %+v", a.Image)
		}
	})

	t.Run("pyproject", func(t *testing.T) {
		dir := t.TempDir()
		testutil.WriteFiles(t, dir, map[string]string{
			"pyproject.toml": "[project]\nname = \"svc\"\n[tool.lambdapack]\nruntime = \"python3.12\"\n[tool.lambdapack.functions.worker]\nhandler = \"app.handler\"\nsource = \"src\"\n" +
				"package = \"image\"\nbase = \"" + base + "\"\ndependencies = [\"six==1.16.0\"]\n",
			"src/app.py": "import six\ndef handler(e, c): return six.__version__\n",
		})
		rep, err := buildHermetic(t, dir, idx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Artifacts) != 1 || rep.Artifacts[0].Kind != record.KindImage || rep.Artifacts[0].Runtime != "python3.12" {
			t.Fatalf("artifacts %+v", rep.Artifacts)
		}
		files, cf := imageFiles(t, rep.Artifacts[0])
		if !slices.Contains(files, "app.py") || !slices.Contains(files, "six.py") || !slices.Equal(cf.Config.Cmd, []string{"app.handler"}) {
			t.Errorf("files %v, cmd %v", files, cf.Config.Cmd)
		}
		// Unchanged, then changed by its code or its base.
		if a := mustBuildHermetic(t, dir, idx, nil).Artifacts[0]; !*a.Unchanged || a.SHA256 != rep.Artifacts[0].SHA256 {
			t.Errorf("unchanged: %+v", a)
		}
		testutil.WriteFiles(t, dir, map[string]string{"src/app.py": "import six\ndef handler(e, c): return 3\n"})
		if a := mustBuildHermetic(t, dir, idx, nil).Artifacts[0]; *a.Unchanged || a.SHA256 == rep.Artifacts[0].SHA256 {
			t.Errorf("a code change: %+v", a)
		}
		var b strings.Builder
		if err := WriteBuildSummary(&b, rep); err != nil || !strings.Contains(b.String(), "image") || !strings.Contains(b.String(), "python3.12/x86_64") || !strings.Contains(b.String(), "worker.oci") {
			t.Errorf("summary:\n%s", b.String())
		}
	})
}
