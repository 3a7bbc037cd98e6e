package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"log"
	"maps"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/lambdapack/lambdapack/internal/app"
	"github.com/lambdapack/lambdapack/internal/cache"
	"github.com/lambdapack/lambdapack/internal/image/base"
	"github.com/lambdapack/lambdapack/internal/image/imagetest"
	"github.com/lambdapack/lambdapack/internal/image/layout"
	"github.com/lambdapack/lambdapack/internal/image/remote"
	"github.com/lambdapack/lambdapack/internal/index"
	"github.com/lambdapack/lambdapack/internal/testutil"
)

// The handler imports a compiled dependency (markupsafe's C speedups) and
// says where it was loaded from and on which machine.
const imgHandler = `import platform, sys
import markupsafe._speedups as speedups

def handler(event, context):
    return {"echo": event, "speedups": speedups.__file__, "machine": platform.machine(),
            "python": sys.version.split()[0], "request": context.aws_request_id}
`

var (
	imgRuntimeOnce sync.Map // arch -> string (folder with awslambdaric)
)

// imgRuntimeDir installs awslambdaric (from the index, with lambdapack) for
// Debian's CPython 3.11 on arch: the /var/runtime of the Lambda-like base.
func imgRuntimeDir(t *testing.T, env *app.Env, arch string) string {
	t.Helper()
	if v, ok := imgRuntimeOnce.Load(arch); ok {
		return v.(string)
	}
	dir := t.TempDir()
	zip := filepath.Join(dir, "ric.zip")
	e2eBuild(t, env, app.ArtifactOptions{Kind: app.KindLayer, Deps: app.Inputs{Requirements: []string{"awslambdaric"}},
		Runtime: "python3.11", Arch: arch, Output: zip})
	root := testutil.Unzip(t, zip)
	imgRuntimeOnce.Store(arch, filepath.Join(root, "python"))
	return filepath.Join(root, "python")
}

// imgBases makes the two test bases for both architectures: a Lambda-like
// one in a two-platform index, and a distroless-like one.
func imgBases(t *testing.T, env *app.Env) (lambda v1.ImageIndex, distroless v1.ImageIndex) {
	t.Helper()
	cache := filepath.Join(testutil.SharedCache(t), "image-bases")
	var ladds, dadds []mutate.IndexAddendum
	for _, arch := range []string{"amd64", "arm64"} {
		ric := imgRuntimeDir(t, env, map[string]string{"amd64": "x86_64", "arm64": "arm64"}[arch])
		key := e2eSHA256([]byte(strings.Join(testutil.DirNames(t, ric), "\n")))[:12]
		p := v1.Platform{OS: "linux", Architecture: arch}
		ladds = append(ladds, mutate.IndexAddendum{Add: imagetest.LambdaBase(t, arch, ric, cache, key), Descriptor: v1.Descriptor{Platform: &p}})
		dadds = append(dadds, mutate.IndexAddendum{Add: imagetest.DistrolessBase(t, arch, cache), Descriptor: v1.Descriptor{Platform: &p}})
	}
	idx := func(adds []mutate.IndexAddendum) v1.ImageIndex {
		return mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), adds...)
	}
	return idx(ladds), idx(dadds)
}

func imgSrc(t *testing.T, code string) string {
	dir := t.TempDir()
	testutil.WriteFiles(t, dir, map[string]string{"app.py": code, "requirements.txt": "markupsafe==2.1.5\n"})
	return dir
}

type imgAnswer struct {
	Echo     map[string]any `json:"echo"`
	Speedups string         `json:"speedups"`
	Machine  string         `json:"machine"`
	Python   string         `json:"python"`
	Request  string         `json:"request"`
}

// imgInvoke runs img against the Runtime API and checks the handler's
// answer: the compiled module loaded from the task root, on arch.
func imgInvoke(t *testing.T, img v1.Image, arch string) {
	t.Helper()
	out, err := imagetest.Invoke(t, img, `{"hello":"image"}`)
	if err != nil {
		t.Fatalf("%s image: %v", arch, err)
	}
	var a imgAnswer
	if err := json.Unmarshal([]byte(out), &a); err != nil {
		t.Fatalf("%s image answered %s: %v", arch, out, err)
	}
	machine := map[string]string{"x86_64": "x86_64", "arm64": "aarch64"}[arch]
	if a.Machine != machine || a.Echo["hello"] != "image" || !strings.Contains(a.Speedups, "/var/task/markupsafe/_speedups.cpython-311-") ||
		a.Python != "3.11.2" || a.Request == "" {
		t.Fatalf("%s image answered %+v", arch, a)
	}
}

// TestE2EImage builds function images on a Lambda-like base (from a
// registry) and a distroless-like base (from an OCI layout), for both
// architectures, pushes them and writes a layout and a tarball, reads them
// back with skopeo, runs each one's entrypoint against a Runtime API, and
// rebuilds from another cache for the same digests.
func TestE2EImage(t *testing.T) {
	ctx := context.Background()
	env := e2eEnv(t, app.EnvOptions{})
	lambdaIdx, distrolessIdx := imgBases(t, env)
	reg := httptest.NewServer(registry.New(registry.Logger(log.New(&bytes.Buffer{}, "", 0))))
	defer reg.Close()
	host := strings.TrimPrefix(reg.URL, "http://")
	baseTag, _ := name.NewTag(host + "/lambda/python:3.11")
	if err := remote.WriteIndex(ctx, baseTag, lambdaIdx, remote.Options{}); err != nil {
		t.Fatal(err)
	}
	distrolessDir := t.TempDir()
	if _, err := layout.Write(ctx, distrolessDir, []layout.Item{{Index: distrolessIdx, Annotations: map[string]string{layout.RefName: "nonroot"}}}, layout.Options{}); err != nil {
		t.Fatal(err)
	}
	src := imgSrc(t, imgHandler)
	skopeo := imagetest.Skopeo(t)

	t.Run("lambda base", func(t *testing.T) {
		// --base lambda, AWS's base for the runtime, comes from the
		// registry on loopback as from a mirror of AWS's.
		t.Setenv(base.MirrorEnv, "public.ecr.aws/lambda="+host+"/lambda")
		out := t.TempDir()
		o := app.ImageOptions{
			Deps: app.Inputs{RequirementFiles: []string{filepath.Join(src, "requirements.txt")}}, Runtime: "python3.11",
			Archs: []string{"x86_64", "arm64"}, Base: "lambda", Src: src, Handler: "app.handler",
			Excludes: []string{"requirements.txt"}, Env: []string{"STAGE=test"},
			Push: host + "/fn:v1", OCILayout: filepath.Join(out, "layout"), Tarball: filepath.Join(out, "image.tar"), Index: true,
		}
		rep, err := app.BuildImage(ctx, env, o)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Images) != 2 || rep.Index == nil {
			t.Fatalf("report %+v", rep)
		}
		for _, im := range rep.Images {
			if im.Runtime != "python3.11" || im.Target != "python3.11/"+im.Architecture || im.Handler != "app.handler" ||
				!slices.ContainsFunc(im.Packages, func(p app.PackageReport) bool { return p.Name == "markupsafe" }) ||
				slices.ContainsFunc(im.Packages, func(p app.PackageReport) bool { return p.Name == "awslambdaric" }) {
				t.Errorf("image %+v", im)
			}
			// The pushed image by digest: one platform's manifest, never
			// an index.
			ref, err := name.ParseReference(im.Ref)
			if err != nil {
				t.Fatal(err)
			}
			d, err := remote.Get(ctx, ref, remote.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if d.MediaType != types.OCIManifestSchema1 || d.Digest.String() != im.Digest {
				t.Errorf("%s: media type %s digest %s", im.Ref, d.MediaType, d.Digest)
			}
			img, err := d.Image()
			if err != nil {
				t.Fatal(err)
			}
			if m, _ := img.Manifest(); m.Annotations["org.opencontainers.image.base.name"] != "public.ecr.aws/lambda/python:3.11" {
				t.Errorf("%s: base annotations %v", im.Architecture, m.Annotations)
			}
			cf, _ := img.ConfigFile()
			if !slices.Equal(cf.Config.Entrypoint, []string{"/lambda-entrypoint.sh"}) || !slices.Equal(cf.Config.Cmd, []string{"app.handler"}) ||
				cf.Config.WorkingDir != "/var/task" || !slices.Contains(cf.Config.Env, "STAGE=test") || !slices.Contains(cf.Config.Env, "LAMBDA_TASK_ROOT=/var/task") {
				t.Errorf("%s config %+v", im.Architecture, cf.Config)
			}
			imgInvoke(t, img, im.Architecture)

			// A third-party client reads the registry, the layout and
			// the tarball alike.
			for _, loc := range []string{"docker://" + host + "/fn:v1-" + im.Architecture, "oci:" + o.OCILayout + ":v1-" + im.Architecture, "docker-archive:" + o.Tarball + ":" + host + "/fn:v1-" + im.Architecture} {
				args := []string{"inspect", "--tls-verify=false", loc}
				if !strings.HasPrefix(loc, "docker://") {
					args = []string{"inspect", loc}
				}
				cmd := exec.Command(skopeo, args...)
				outb, err := cmd.CombinedOutput()
				if err != nil {
					t.Fatalf("skopeo %v: %v\n%s", args, err, outb)
				}
				var si struct {
					Digest       string
					Architecture string
					Os           string
					Layers       []string
				}
				if err := json.Unmarshal(outb, &si); err != nil {
					t.Fatalf("skopeo %v: %v\n%s", args, err, outb)
				}
				want := map[string]string{"x86_64": "amd64", "arm64": "arm64"}[im.Architecture]
				if si.Architecture != want || si.Os != "linux" || len(si.Layers) != 4 {
					t.Errorf("skopeo %s: %+v", loc, si)
				}
				if !strings.HasPrefix(loc, "docker-archive:") && si.Digest != im.Digest {
					t.Errorf("skopeo %s: digest %s, want %s", loc, si.Digest, im.Digest)
				}
			}
		}
		// The image's task root holds exactly what a function zip of the
		// same inputs holds (the same planned tree), byte for byte.
		for _, im := range rep.Images {
			zip := filepath.Join(out, "function-"+im.Architecture+".zip")
			e2eBuild(t, env, app.ArtifactOptions{Kind: app.KindFunction, Deps: o.Deps, Runtime: o.Runtime, Arch: im.Architecture,
				Src: src, Excludes: o.Excludes, Output: zip})
			h, _ := v1.NewHash(im.Digest)
			img, err := layout.Image(o.OCILayout, h)
			if err != nil {
				t.Fatal(err)
			}
			got, want := imgFiles(t, filepath.Join(imagetest.Unpack(t, img), "var", "task")), imgFiles(t, testutil.Unzip(t, zip))
			if len(got) == 0 || !maps.Equal(got, want) {
				t.Errorf("%s: the image's /var/task and the function zip differ:\nimage %v\nzip   %v", im.Architecture, got, want)
			}
		}
		// A third-party gzip reader (skopeo's, decompressing into a dir:
		// copy) inflates every layer to the tar its diffID names.
		dir := filepath.Join(out, "skopeo-dir")
		cmd := exec.Command(skopeo, "copy", "--dest-decompress", "oci:"+o.OCILayout+":v1-x86_64", "dir:"+dir)
		if outb, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("skopeo copy --dest-decompress: %v\n%s", err, outb)
		}
		h, _ := v1.NewHash(rep.Images[0].Digest)
		img, _ := layout.Image(o.OCILayout, h)
		cf, _ := img.ConfigFile()
		for _, d := range cf.RootFS.DiffIDs[len(cf.RootFS.DiffIDs)-2:] {
			if got := e2eSHA256File(t, filepath.Join(dir, d.Hex)); got != d.Hex {
				t.Errorf("skopeo's inflated layer %s has sha256 %s", d, got)
			}
		}

		// The tag names the index, for other consumers.
		it, _ := name.NewTag(host + "/fn:v1")
		d, err := remote.Get(ctx, it, remote.Options{})
		if err != nil || d.MediaType != types.OCIImageIndex || d.Digest.String() != rep.Index.Digest {
			t.Errorf("index: %v %v", d, err)
		}

		// Reproducible: another cache, the same digests.
		env2 := e2eEnv(t, app.EnvOptions{CacheDir: t.TempDir()})
		o2 := o
		o2.Push, o2.OCILayout, o2.Tarball, o2.Index = "", "", "", false
		rep2, err := app.BuildImage(ctx, env2, o2)
		if err != nil {
			t.Fatal(err)
		}
		for i, im := range rep2.Images {
			if im.Digest != rep.Images[i].Digest || im.DepsReused {
				t.Errorf("rebuild from another cache: %s %s (reused %v), first %s", im.Architecture, im.Digest, im.DepsReused, rep.Images[i].Digest)
			}
		}
		// A code change leaves the dependency layer as it was, reused.
		o2.Src = imgSrc(t, imgHandler+"\n# changed\n")
		rep3, err := app.BuildImage(ctx, env2, o2)
		if err != nil {
			t.Fatal(err)
		}
		for i, im := range rep3.Images {
			if im.DepsLayer != rep.Images[i].DepsLayer || !im.DepsReused || im.CodeLayer == rep.Images[i].CodeLayer || im.Digest == rep.Images[i].Digest {
				t.Errorf("code change, %s: deps %s reused %v (was %s), code %s (was %s)", im.Architecture, im.DepsLayer, im.DepsReused, rep.Images[i].DepsLayer, im.CodeLayer, rep.Images[i].CodeLayer)
			}
		}
		// lambdapack cache info tells the bases and layers apart; a prune
		// of what went unused for an hour keeps them (just used).
		u, err := cache.Inspect(env2.Cache.Root(), false)
		if err != nil {
			t.Fatal(err)
		}
		kinds := map[cache.Kind]int{}
		for _, k := range u.Kinds {
			kinds[k.Kind] = k.Files
		}
		// Two dependency layers (one per architecture): entries and blobs.
		if kinds[cache.KindImageBases] == 0 || kinds[cache.KindImageLayers] != 4 {
			t.Errorf("cache info kinds %v", kinds)
		}
		rm, err := cache.Prune(env2.Cache.Root(), time.Now().Add(-time.Hour))
		if err != nil || slices.ContainsFunc(rm.Kinds, func(k cache.KindUsage) bool {
			return k.Kind == cache.KindImageBases || k.Kind == cache.KindImageLayers
		}) {
			t.Errorf("prune of an hour removed %+v (%v)", rm, err)
		}
	})

	t.Run("distroless base", func(t *testing.T) {
		out := t.TempDir()
		o := app.ImageOptions{
			Deps:  app.Inputs{RequirementFiles: []string{filepath.Join(src, "requirements.txt")}},
			Archs: []string{"arm64", "x86_64"}, Base: "oci-layout:" + distrolessDir, Src: src, Handler: "app.handler",
			OCILayout: filepath.Join(out, "layout"),
		}
		rep, err := app.BuildImage(ctx, env, o)
		if err != nil {
			t.Fatal(err)
		}
		for _, im := range rep.Images {
			if im.Runtime != "" || im.Target != "python3.11+glibc2.36/"+im.Architecture ||
				!slices.ContainsFunc(im.Packages, func(p app.PackageReport) bool { return p.Name == "awslambdaric" }) {
				t.Errorf("image %+v", im)
			}
			h, _ := v1.NewHash(im.Digest)
			img, err := layout.Image(o.OCILayout, h)
			if err != nil {
				t.Fatal(err)
			}
			cf, _ := img.ConfigFile()
			if !slices.Equal(cf.Config.Entrypoint, []string{"/usr/bin/python3.11", "-m", "awslambdaric"}) || !slices.Contains(cf.Config.Env, "PYTHONPATH=/var/task") {
				t.Errorf("%s config %+v", im.Architecture, cf.Config)
			}
			imgInvoke(t, img, im.Architecture)
		}
	})

	// Seed 002's Dockerfile, one file for both architectures, built from
	// this x86_64 machine without a container; its base comes in an ARG.
	t.Run("dockerfile", func(t *testing.T) {
		ctxDir := t.TempDir()
		testutil.WriteFiles(t, ctxDir, map[string]string{
			"Dockerfile": `ARG BASE=public.ecr.aws/lambda/python:3.11
# M1 Mac: build with --platform linux/amd64
FROM ${BASE}

# Install the function's dependencies using file requirements.txt
# from your project folder.
COPY requirements.txt  .
RUN  pip3 install -r requirements.txt --target "${LAMBDA_TASK_ROOT}" --verbose
COPY . ${LAMBDA_TASK_ROOT}
ENV STAGE=dockerfile
CMD [ "app.handler" ]
`,
			"requirements.txt": "markupsafe==2.1.5\n",
			"app.py":           imgHandler,
			".dockerignore":    "*.md\n",
			"README.md":        "left out\n",
		})
		layoutDir := filepath.Join(t.TempDir(), "layout")
		rep, err := app.BuildDockerfile(ctx, env, app.DockerfileOptions{
			Dockerfile: filepath.Join(ctxDir, "Dockerfile"), BuildArgs: []string{"BASE=" + baseTag.String()},
			Image: app.ImageOptions{Archs: []string{"arm64", "x86_64"}, OCILayout: layoutDir},
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, im := range rep.Images {
			h, _ := v1.NewHash(im.Digest)
			img, err := layout.Image(layoutDir, h)
			if err != nil {
				t.Fatal(err)
			}
			cf, _ := img.ConfigFile()
			if !slices.Equal(cf.Config.Cmd, []string{"app.handler"}) || !slices.Equal(cf.Config.Entrypoint, []string{"/lambda-entrypoint.sh"}) ||
				!slices.Contains(cf.Config.Env, "STAGE=dockerfile") || im.Handler != "app.handler" {
				t.Errorf("%s config %+v", im.Architecture, cf.Config)
			}
			root := imagetest.Unpack(t, img)
			for _, p := range []string{"var/task/Dockerfile", "var/task/requirements.txt", "var/task/app.py", "var/task/markupsafe/__init__.py"} {
				if _, err := os.Stat(filepath.Join(root, p)); err != nil {
					t.Errorf("%s image: %v", im.Architecture, err)
				}
			}
			if _, err := os.Stat(filepath.Join(root, "var/task/README.md")); err == nil {
				t.Error(".dockerignore was not honoured")
			}
			imgInvoke(t, img, im.Architecture)
		}

		// The original two-stage form: the default stage is amd64's and
		// builds; asking it for arm64 says why not, naming the line.
		two := filepath.Join(ctxDir, "Dockerfile.two")
		testutil.WriteFiles(t, ctxDir, map[string]string{"Dockerfile.two": "ARG BASE\nFROM --platform=linux/arm64 ${BASE} AS build-arm64\nCOPY app.py .\n" +
			"FROM --platform=linux/amd64 ${BASE}\nCOPY requirements.txt .\nRUN pip install -r requirements.txt -t ${LAMBDA_TASK_ROOT}\nCOPY app.py ${LAMBDA_TASK_ROOT}\nCMD [\"app.handler\"]\n"})
		o := app.DockerfileOptions{Dockerfile: two, BuildArgs: []string{"BASE=" + baseTag.String()}, Image: app.ImageOptions{Archs: []string{"x86_64"}}}
		if _, err := app.BuildDockerfile(ctx, env, o); err != nil {
			t.Errorf("two-stage, default stage for x86_64: %v", err)
		}
		o.Image.Archs = []string{"arm64"}
		if _, err := app.BuildDockerfile(ctx, env, o); err == nil || !strings.Contains(err.Error(), "Dockerfile.two:4: FROM --platform=linux/amd64, but building for arm64") {
			t.Errorf("two-stage for arm64: %v", err)
		}
		// That stage has no CMD: the handler comes as CDK passes it.
		o.Target, o.Image.Handler = "build-arm64", "app.handler"
		if _, err := app.BuildDockerfile(ctx, env, o); err != nil {
			t.Errorf("two-stage, --target build-arm64 for arm64: %v", err)
		}
	})
}

// imgFiles maps each regular file under root to its mode and sha256.
func imgFiles(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		st, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		out[filepath.ToSlash(rel)] = fmt.Sprintf("%v %s", st.Mode().Perm()&0o111 != 0, e2eSHA256File(t, p))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestImageDockerfileRefusals: what lambdapack cannot do without a
// container is an error naming the line.
func TestImageDockerfileRefusals(t *testing.T) {
	ctx := context.Background()
	env := e2eEnv(t, app.EnvOptions{CacheDir: t.TempDir()})
	baseDir := t.TempDir()
	img := imagetest.FakeBase(t, imagetest.Fake{Arch: "amd64", Python: "3.12.3", Glibc: "2.34", Lambda: true})
	if _, err := layout.Write(ctx, baseDir, []layout.Item{{Image: img}}, layout.Options{}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ body, want string }{
		{"RUN apt-get update && apt-get install -y gcc\n", "Dockerfile:2: RUN apt-get update"},
		{"RUN yum install -y gcc\n", "not a package install"},
		{"COPY requirements.txt .\nRUN pip install -r requirements.txt\n", "without --target"},
		{"RUN pip install -r requirements.txt -t /var/task\n", "/var/task/requirements.txt is not in the image at this point: COPY it in before this RUN"},
		{"COPY --from=builder /x /y\n", "needs a real container build"},
		{"ADD https://example.invalid/x.tgz /tmp/\n", "of a URL"},
		{"ADD vendor.tar.gz /opt/\n", "ADD of an archive"},
		{"COPY missing.txt .\n", "no such file in the context"},
		{"CMD app.handler\n", "shell form"},
		{"COPY app.py .\n", "has no CMD"},
		{"COPY requirements.txt .\nRUN pip install -e . -t /var/task\n", "local project"},
		{"COPY requirements.txt .\nRUN pip install -r requirements.txt -t /var/task --index-url http://127.0.0.1:9/simple\n", "give the index to lambdapack"},
	} {
		dir := t.TempDir()
		testutil.WriteFiles(t, dir, map[string]string{"Dockerfile": "FROM base\n" + tc.body, "app.py": "x = 1\n", "requirements.txt": "six\n", "vendor.tar.gz": "x"})
		// The base comes from the layout whatever FROM says.
		testutil.WriteFiles(t, dir, map[string]string{"Dockerfile": "ARG B\nFROM ${B}\n" + tc.body})
		_, err := app.BuildDockerfile(ctx, env, app.DockerfileOptions{Dockerfile: filepath.Join(dir, "Dockerfile"), BuildArgs: []string{"B=oci-layout:" + baseDir}})
		want := strings.Replace(tc.want, "Dockerfile:2:", "Dockerfile:3:", 1)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", tc.body, err, want)
		}
	}
}

// On a base that is not Lambda's (distroless python3, python:3.X-slim), a
// Dockerfile whose CMD is a handler must start a runtime client: one that
// keeps the base's interpreter (or nothing) as the entrypoint made an image
// that runs "python3 app.handler" and exited 0; it is refused with what to
// add. An ENTRYPOINT that starts awslambdaric passes.
func TestImageDockerfileNeedsRuntimeClient(t *testing.T) {
	ctx := context.Background()
	env := e2eEnv(t, app.EnvOptions{CacheDir: t.TempDir(), Index: index.Settings{IndexURL: testutil.NewIndex(t)}})
	baseDir := t.TempDir()
	img := imagetest.FakeBase(t, imagetest.Fake{Arch: "amd64", Python: "3.12.3", Glibc: "2.36"})
	if _, err := layout.Write(ctx, baseDir, []layout.Item{{Image: img}}, layout.Options{}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ body, want string }{
		{"CMD [\"app.handler\"]\n", "nothing in the image starts a Lambda runtime client"},
		{"ENTRYPOINT [\"/usr/bin/python3\"]\nCMD [\"app.handler\"]\n", "ENTRYPOINT [\"/usr/bin/python3\", \"-m\", \"awslambdaric\"]"},
		{"ENTRYPOINT [\"/usr/bin/python3\", \"-m\", \"awslambdaric\"]\nCMD [\"app.handler\"]\n", ""},
		{"ENTRYPOINT [\"/var/task/bootstrap.sh\"]\nCMD [\"app.handler\"]\n", ""},
	} {
		dir := t.TempDir()
		testutil.WriteFiles(t, dir, map[string]string{"Dockerfile": "ARG B\nFROM ${B}\nCOPY app.py /var/task/\n" + tc.body, "app.py": "def handler(e, c):\n    return 1\n"})
		_, err := app.BuildDockerfile(ctx, env, app.DockerfileOptions{Dockerfile: filepath.Join(dir, "Dockerfile"), BuildArgs: []string{"B=oci-layout:" + baseDir},
			Image: app.ImageOptions{OCILayout: filepath.Join(dir, "out")}})
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%q: %v, want it built", tc.body, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%q: %v, want %q", tc.body, err, tc.want)
		}
	}
}
