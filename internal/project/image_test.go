package project

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Image functions are in the model for lambdapack image: [tool.lambdapack]
// package = "image" with its base (or a Dockerfile), and a Serverless
// image from provider.ecr.images; an image given by URI is skipped.
func TestImageFunctions(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"pyproject.toml": `[project]
name = "svc"
[tool.lambdapack]
runtime = "python3.12"
[tool.lambdapack.functions.api]
handler = "app.handler"
source = "src"
package = "image"
architecture = "arm64"
requirements = "src/requirements.txt"
[tool.lambdapack.functions.distroless]
handler = "app.handler"
source = "src"
package = "image"
base = "oci-layout:bases/distroless"
[tool.lambdapack.functions.docker]
package = "image"
dockerfile = "docker/Dockerfile"
[tool.lambdapack.functions.zipped]
handler = "app.handler"
source = "src"
`,
		"src/app.py":           "def handler(e, c): pass\n",
		"src/requirements.txt": "six==1.16.0\n",
		"docker/Dockerfile":    "FROM public.ecr.aws/lambda/python:3.12\n",
	})
	cfg := load(t, dir)
	api, _ := cfg.Function("api")
	if d := cmp.Diff(&Image{Base: "lambda"}, api.Image); d != "" || api.Package.Kind != PackageFolder || api.Deps.Requirements != "src/requirements.txt" || api.Arch != "arm64" {
		t.Errorf("api: %s %+v", d, summarize(*api))
	}
	dl, _ := cfg.Function("distroless")
	if d := cmp.Diff(&Image{Base: "oci-layout:bases/distroless"}, dl.Image); d != "" {
		t.Errorf("distroless: %s", d)
	}
	dk, _ := cfg.Function("docker")
	if d := cmp.Diff(&Image{Dockerfile: "docker/Dockerfile", Context: "docker"}, dk.Image); d != "" || dk.Package.Kind != PackageNone {
		t.Errorf("docker: %s %v", d, dk.Package.Kind)
	}
	if z, _ := cfg.Function("zipped"); z.Image != nil {
		t.Errorf("zipped: %+v", z.Image)
	}

	wantErr(t, loadErr(t, map[string]string{
		"lambdapack.toml": "runtime = \"python3.12\"\n[functions.f]\nhandler = \"app.h\"\nbase = \"lambda\"\n",
		"app.py":          "",
	}), `functions.f.base applies to image functions only`, `set package = "image"`)
	wantErr(t, loadErr(t, map[string]string{
		"lambdapack.toml": "runtime = \"python3.12\"\n[layers.l]\ndependencies = [\"six\"]\n[functions.f]\nhandler = \"app.h\"\npackage = \"image\"\nlayers = [\"l\"]\n",
		"app.py":          "",
	}), "functions.f: an image function cannot use layers")
	wantErr(t, loadErr(t, map[string]string{
		"lambdapack.toml": "[functions.f]\nhandler = \"app.h\"\npackage = \"image\"\n",
		"app.py":          "",
	}), "image function f on the lambda base has no runtime")
}

func TestServerlessImageFunctions(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"serverless.yml": `service: svc
provider:
  name: aws
  runtime: python3.12
  architecture: arm64
  ecr:
    images:
      appimage:
        path: ./img
        file: Dockerfile.prod
        platform: linux/arm64
        buildArgs:
          STAGE: ${sls:stage}
functions:
  api:
    image:
      name: appimage
      command: ["app.handler"]
      workingDirectory: /var/task
  short:
    image: appimage
  pulled:
    image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/app@sha256:abcd
`,
		"img/Dockerfile.prod": "FROM public.ecr.aws/lambda/python:3.12\n",
	})
	cfg := load(t, dir)
	api, _ := cfg.Function("api")
	want := &Image{Dockerfile: "img/Dockerfile.prod", Context: "img", Tag: "appimage", Platform: "linux/arm64",
		BuildArgs: []EnvVar{{Name: "STAGE", Value: "dev"}}, Command: []string{"app.handler"}, WorkingDirectory: "/var/task"}
	if d := cmp.Diff(want, api.Image); d != "" || api.Arch != "arm64" || api.Handler != "app.handler" {
		t.Errorf("api (-want +got):\n%s", d)
	}
	if s, _ := cfg.Function("short"); s.Image == nil || s.Image.Dockerfile != "img/Dockerfile.prod" {
		t.Errorf("short: %+v", s.Image)
	}
	if p := fn(t, cfg, "pulled").Pkg; p != "skip:image 123456789012.dkr.ecr.us-east-1.amazonaws.com/app@sha256:abcd: the image is built elsewhere" {
		t.Errorf("pulled: %s", p)
	}
	wantErr(t, loadErr(t, map[string]string{
		"serverless.yml": "service: s\nprovider:\n  name: aws\n  runtime: python3.12\nfunctions:\n  f:\n    image: missing\n",
	}), `serverless.yml:7`, `functions.f.image: no image "missing" in provider.ecr.images`)
}
