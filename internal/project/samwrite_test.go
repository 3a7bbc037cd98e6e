package project

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	yaml "go.yaml.in/yaml/v3"
)

func TestSAMBuildTemplate(t *testing.T) {
	tpl := samHead + `# the project's own comment
Globals:
  Function:
    CodeUri: src/
    Runtime: python3.12
Resources:
  Api:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      Role: !GetAtt Role.Arn
  Node:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: node/
      Handler: index.handler
      Runtime: nodejs20.x
  Deps:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: layer/
    Metadata:
      BuildMethod: python3.12
  Img:
    Type: AWS::Serverless::Function
    Properties:
      PackageType: Image
    Metadata:
      Dockerfile: Dockerfile
      DockerContext: ./img
  Img2:
    Type: AWS::Serverless::Function
    Properties:
      PackageType: Image
    Metadata:
      Dockerfile: Dockerfile
      DockerContext: ./img
  Rest:
    Type: AWS::Serverless::Api
    Properties:
      StageName: prod
      DefinitionUri: api/openapi.yaml
  Remote:
    Type: AWS::Serverless::Application
    Properties:
      Location:
        ApplicationId: arn:aws:serverlessrepo:us-east-1:123456789012:applications/x
        SemanticVersion: 1.0.0
`
	dir := writeTree(t, map[string]string{
		"template.yaml": tpl, "src/app.py": "", "node/index.js": "", "layer/requirements.txt": "six\n", "api/openapi.yaml": "openapi: 3.0.0\n", "img/Dockerfile": "FROM scratch\n",
	})
	cfg := load(t, dir)
	out, err := SAMBuildTemplate(cfg, []byte(tpl), map[string]string{
		"Api":  filepath.Join(dir, "dist", "Api.zip"),
		"Deps": filepath.Join(dir, "dist", "Deps-x86_64.zip"),
	}, SAMImage{Function: "Img", ImageURI: "123456789012.dkr.ecr.us-east-1.amazonaws.com/app@sha256:" + strings.Repeat("ab", 32)}, SAMImage{Function: "Img2"})
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(out, &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	res := doc["Resources"].(map[string]any)
	get := func(r, k string) any { return res[r].(map[string]any)["Properties"].(map[string]any)[k] }
	for _, c := range []struct{ res, key, want string }{
		{"Api", "CodeUri", "../../dist/Api.zip"},
		{"Deps", "ContentUri", "../../dist/Deps-x86_64.zip"},
		{"Node", "CodeUri", "../../node"},
		{"Rest", "DefinitionUri", "../../api/openapi.yaml"},
	} {
		if got := get(c.res, c.key); got != c.want {
			t.Errorf("%s.%s = %v, want %s", c.res, c.key, got, c.want)
		}
		// Each path names the same file from the build folder.
		if p := filepath.Join(dir, SAMBuildDir, filepath.FromSlash(c.want)); !strings.HasSuffix(c.want, ".zip") {
			if _, err := os.Stat(p); err != nil {
				t.Errorf("%s: %v", c.want, err)
			}
		}
	}
	if dc := res["Img"].(map[string]any)["Metadata"].(map[string]any)["DockerContext"]; dc != "../../img" {
		t.Errorf("Img's DockerContext = %v, want ../../img", dc)
	}
	// A pushed image function takes its ImageUri by digest (sam deploy
	// leaves an ECR reference as it is); one not pushed says so.
	if uri := get("Img", "ImageUri"); uri != "123456789012.dkr.ecr.us-east-1.amazonaws.com/app@sha256:"+strings.Repeat("ab", 32) {
		t.Errorf("Img's ImageUri = %v", uri)
	}
	if uri := get("Img2", "ImageUri"); uri != nil {
		t.Errorf("Img2, not pushed, has ImageUri %v", uri)
	}
	if !strings.Contains(string(out), "# lambdapack built this image function but did not push it, so sam deploy cannot deploy it from here:\n  # build with lambdapack build --publish --image-repo REGISTRY/REPOSITORY, which pushes it and sets its ImageUri\n  Img2:") {
		t.Errorf("Img2 has no comment saying it was not pushed:\n%s", out)
	}
	if g := doc["Globals"].(map[string]any)["Function"].(map[string]any)["CodeUri"]; g != "../../src" {
		t.Errorf("Globals CodeUri = %v", g)
	}
	s := string(out)
	for _, want := range []string{"# the project's own comment", "Role: !GetAtt Role.Arn", "BuildMethod: python3.12", "ApplicationId: arn:aws:serverlessrepo"} {
		if !strings.Contains(s, want) {
			t.Errorf("build template lacks %q:\n%s", want, s)
		}
	}
}
