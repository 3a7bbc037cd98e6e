package app

import (
	"archive/zip"
	"bytes"
	"context"
	"log"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/lambdapack/lambdapack/internal/project"
	"github.com/lambdapack/lambdapack/internal/testutil"
)

func tinyZip(t *testing.T, name, body string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create(name)
	w.Write([]byte(body))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// build --publish on a SAM project deployed in moto: the layer is
// published, then each function's code is updated under the name its
// deploy tool gave it (FunctionName; for one without, its physical ID in
// the stack samconfig.toml names, created here through CloudFormation), the
// image function to its pushed image by digest, and with UpdateLayers a
// function's layers become the new version then its external ARN. A second
// publish changes nothing.
func TestPublishBuildSAM(t *testing.T) {
	ep := testutil.MotoEnv(t)
	ctx := context.Background()
	cfgAWS, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	lc := lambda.NewFromConfig(cfgAWS)
	role := testutil.MotoLambdaRole(t, ep, "build-publish-role")
	ext, err := lc.PublishLayerVersion(ctx, &lambda.PublishLayerVersionInput{LayerName: aws.String("external"), Content: &ltypes.LayerVersionContentInput{ZipFile: tinyZip(t, "python/ext.py", "")}})
	if err != nil {
		t.Fatal(err)
	}
	extARN := aws.ToString(ext.LayerVersionArn)
	reg := httptest.NewServer(registry.New(registry.Logger(log.New(&bytes.Buffer{}, "", 0))))
	defer reg.Close()
	repo := strings.TrimPrefix(reg.URL, "http://") + "/project"
	if _, err := lc.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("lp-img"), Role: aws.String(role), PackageType: ltypes.PackageTypeImage,
		Code: &ltypes.FunctionCode{ImageUri: aws.String(repo + ":old")}}); err != nil {
		t.Fatal(err)
	}
	// The function without a FunctionName, as CloudFormation names it.
	cf := cloudformation.NewFromConfig(cfgAWS)
	stack := `{"Resources": {"Anon": {"Type": "AWS::Lambda::Function", "Properties": {"Runtime": "python3.12", "Handler": "app.handler", "Role": "` + role + `", "Code": {"ZipFile": "def handler(e, c): return 'old'"}}}}}`
	if _, err := cf.CreateStack(ctx, &cloudformation.CreateStackInput{StackName: aws.String("lp-stack"), TemplateBody: aws.String(stack)}); err != nil {
		t.Fatal(err)
	}
	res, err := cf.DescribeStackResource(ctx, &cloudformation.DescribeStackResourceInput{StackName: aws.String("lp-stack"), LogicalResourceId: aws.String("Anon")})
	if err != nil {
		t.Fatal(err)
	}
	anon := aws.ToString(res.StackResourceDetail.PhysicalResourceId)

	dir := t.TempDir()
	testutil.WriteFiles(t, dir, map[string]string{
		"template.yaml": samT +
			"  Deps:\n    Type: AWS::Serverless::LayerVersion\n    Properties:\n      ContentUri: deps/\n    Metadata:\n      BuildMethod: python3.12\n" +
			"  Named:\n    Type: AWS::Serverless::Function\n    Properties:\n      FunctionName: lp-named\n      CodeUri: src/\n      Handler: app.handler\n      Runtime: python3.12\n      Layers: [!Ref Deps, " + extARN + "]\n" +
			"  Anon:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: src/\n      Handler: app.handler\n      Runtime: python3.12\n" +
			"  Img:\n    Type: AWS::Serverless::Function\n    Properties:\n      FunctionName: lp-img\n      PackageType: Image\n      ImageConfig:\n        Command: [\"app.handler\"]\n" +
			"    Metadata:\n      Dockerfile: Dockerfile\n      DockerContext: ./img\n      DockerBuildArgs:\n        BASE: " + imageBase(t) + "\n",
		"samconfig.toml":        "version = 0.1\n[default.deploy.parameters]\nstack_name = \"lp-stack\"\nregion = \"us-east-1\"\n",
		"deps/requirements.txt": "six==1.16.0\n",
		"src/app.py":            "import six\ndef handler(e, c): return six.__version__\n",
		"img/Dockerfile":        "ARG BASE\nFROM ${BASE}\nCOPY app.py ${LAMBDA_TASK_ROOT}\n",
		"img/app.py":            "def handler(e, c): return 'image'\n",
	})
	idx := testutil.NewIndex(t, sixWheel)
	rep, err := buildHermetic(t, dir, idx, func(o *BuildOptions) { o.Publish, o.ImageRepo = true, repo })
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := project.Load(dir, project.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	po := PublishBuildOptions{UpdateLayers: true, PollInterval: 50 * time.Millisecond, Log: &logs}
	// A function not deployed yet: an error before anything is published.
	if err := PublishBuild(ctx, rep, cfg, po); err == nil || !strings.Contains(err.Error(), "no function lp-named in region us-east-1") {
		t.Fatalf("a function that does not exist: %v", err)
	}
	if vs, err := lc.ListLayerVersions(ctx, &lambda.ListLayerVersionsInput{LayerName: aws.String("Deps-x86_64")}); err != nil || len(vs.LayerVersions) != 0 || len(rep.Published) != 0 {
		t.Fatalf("published before failing: %+v %v", vs, err)
	}
	old := tinyZip(t, "app.py", "def handler(e, c): return 'old'\n")
	if _, err := lc.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("lp-named"), Role: aws.String(role), Runtime: ltypes.RuntimePython312,
		Handler: aws.String("app.handler"), Code: &ltypes.FunctionCode{ZipFile: old}}); err != nil {
		t.Fatal(err)
	}
	if err := PublishBuild(ctx, rep, cfg, po); err != nil {
		t.Fatalf("%v\n%s", err, logs.String())
	}
	if len(rep.Published) != 1 || !rep.Published[0].Changed {
		t.Fatalf("layers published: %+v", rep.Published)
	}
	depsARN := rep.Published[0].LayerVersionARN
	byName := map[string]*PublishedFunction{}
	for _, f := range rep.FunctionsUpdated {
		byName[f.Name] = f
	}
	if f := byName["Anon"]; f == nil || f.FunctionName != anon || f.Code == nil || !f.Code.Changed {
		t.Errorf("Anon: %+v", f)
	}
	for _, a := range rep.Artifacts {
		if a.Kind != KindFunction {
			continue
		}
		got, err := lc.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(byName[a.Name].FunctionName)})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(got.CodeSha256) != a.SHA256Base64 {
			t.Errorf("%s runs %s, the zip is %s", a.Name, aws.ToString(got.CodeSha256), a.SHA256Base64)
		}
		var layers []string
		for _, l := range got.Layers {
			layers = append(layers, aws.ToString(l.Arn))
		}
		want := []string(nil)
		if a.Name == "Named" {
			want = []string{depsARN, extARN}
		}
		if strings.Join(layers, " ") != strings.Join(want, " ") {
			t.Errorf("%s's layers %v, want %v", a.Name, layers, want)
		}
	}
	img, err := lc.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("lp-img")})
	if err != nil {
		t.Fatal(err)
	}
	var pushed string
	for _, a := range rep.Artifacts {
		if a.Name == "Img" {
			pushed = a.Image.Ref
		}
	}
	if pushed == "" || aws.ToString(img.Code.ImageUri) != pushed || !strings.Contains(pushed, "@sha256:") {
		t.Errorf("lp-img runs %s, pushed %s", aws.ToString(img.Code.ImageUri), pushed)
	}

	// Again: nothing changes.
	rep2, err := buildHermetic(t, dir, idx, func(o *BuildOptions) { o.Publish, o.ImageRepo = true, repo })
	if err != nil {
		t.Fatal(err)
	}
	if err := PublishBuild(ctx, rep2, cfg, po); err != nil {
		t.Fatal(err)
	}
	if rep2.Published[0].Changed || rep2.Published[0].LayerVersionARN != depsARN {
		t.Errorf("layer published again: %+v", rep2.Published[0])
	}
	for _, f := range rep2.FunctionsUpdated {
		if (f.Code != nil && f.Code.Changed) || (f.Image != nil && f.Image.Changed) || (f.Layers != nil && f.Layers.Changed) {
			t.Errorf("%s updated again: code %+v image %+v layers %+v", f.Name, f.Code, f.Image, f.Layers)
		}
	}

	// Without --update-layers: the layers are left, with a note.
	rep3, _ := buildHermetic(t, dir, idx, func(o *BuildOptions) { o.Publish, o.ImageRepo = true, repo })
	po.UpdateLayers = false
	if err := PublishBuild(ctx, rep3, cfg, po); err != nil {
		t.Fatal(err)
	}
	if f := rep3.FunctionsUpdated[0]; f.Layers != nil || !strings.Contains(logs.String(), "pass --update-layers") {
		t.Errorf("without --update-layers: %+v\n%s", f, logs.String())
	}

	// A stack that does not exist: an error naming it.
	if err := PublishBuild(ctx, rep3, cfg, PublishBuildOptions{StackName: "nosuch"}); err == nil || !strings.Contains(err.Error(), "stack nosuch does not exist") {
		t.Errorf("no such stack: %v", err)
	}
}

// A function whose deployed name cannot be found is an error naming it and
// saying how to give it, before anything is published: [tool.lambdapack]
// without function-name, SAM without FunctionName or a stack, a Serverless
// name with a variable lambdapack cannot resolve. Serverless names a
// function service-stage-key; --update-layers refuses an external layer it
// cannot write.
func TestPublishBuildNames(t *testing.T) {
	ctx := context.Background()
	load := func(files map[string]string, stage string) *project.Config {
		dir := t.TempDir()
		testutil.WriteFiles(t, dir, files)
		cfg, err := project.Load(dir, project.LoadOptions{Stage: stage})
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	fn := func(names ...string) []*BuiltArtifact {
		var out []*BuiltArtifact
		for _, n := range names {
			out = append(out, &BuiltArtifact{ArtifactReport: &ArtifactReport{Name: n, Kind: KindFunction}})
		}
		return out
	}
	src := map[string]string{"src/app.py": "def handler(e, c): pass\n"}
	with := func(k, v string) map[string]string {
		m := map[string]string{k: v}
		for a, b := range src {
			m[a] = b
		}
		return m
	}

	toml := load(with("pyproject.toml", "[project]\nname = \"x\"\n[tool.lambdapack.functions.api]\nhandler = \"app.handler\"\nsource = \"src\"\nruntime = \"python3.12\"\n"+
		"[tool.lambdapack.functions.named]\nhandler = \"app.handler\"\nsource = \"src\"\nruntime = \"python3.12\"\nfunction-name = \"arn:aws:lambda:us-east-1:123456789012:function:prod-api\"\n"), "")
	_, err := deployedNames(ctx, toml, fn("api", "named"), PublishBuildOptions{})
	if err == nil || !strings.Contains(err.Error(), `function api has no deployed name: add function-name = "NAME" (the Lambda function's name or ARN) under [tool.lambdapack.functions.api] in pyproject.toml`) {
		t.Errorf("toml: %v", err)
	}
	if n, err := deployedNames(ctx, toml, fn("named"), PublishBuildOptions{}); err != nil || n["named"] != "arn:aws:lambda:us-east-1:123456789012:function:prod-api" {
		t.Errorf("toml function-name: %v %v", n, err)
	}
	if _, err := project.Load(filepath.Dir(writeTmp(t, "lambdapack.toml", "[functions.api]\nhandler = \"app.handler\"\nruntime = \"python3.12\"\nfunction-name = \"no spaces allowed\"\n")), project.LoadOptions{}); err == nil || !strings.Contains(err.Error(), "is not a Lambda function name or ARN") {
		t.Errorf("a bad function-name: %v", err)
	}

	sam := load(with("template.yaml", samT+"  Api:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: src/\n      Handler: app.handler\n      Runtime: python3.12\n"+
		"      Layers: [!Ref LayerParam]\nParameters:\n  LayerParam:\n    Type: String\n"), "")
	_, err = deployedNames(ctx, sam, fn("Api"), PublishBuildOptions{})
	if err == nil || !strings.Contains(err.Error(), "function Api has no FunctionName, so CloudFormation named it when the stack was deployed: give the stack with --stack-name (or stack_name in samconfig.toml)") {
		t.Errorf("sam without a stack: %v", err)
	}
	rep := &BuildReport{Artifacts: fn("Api")}
	if _, err := functionLayers(sam, rep, rep.Artifacts, PublishBuildOptions{UpdateLayers: true}); err != nil {
		t.Errorf("a function without project layers: %v", err)
	}

	sls := load(with("serverless.yml", "service: shop\nprovider:\n  name: aws\n  runtime: python3.12\n  stage: ${opt:stage, 'dev'}\nfunctions:\n  api:\n    handler: src/app.handler\n"+
		"  cron:\n    handler: src/app.handler\n    name: ${env:LP_UNSET_NAME_FOR_TEST, 'shop-cron'}\n  odd:\n    handler: src/app.handler\n    name: ${ssm:/x}\n"), "qa")
	_, err = deployedNames(ctx, sls, fn("api", "cron", "odd"), PublishBuildOptions{})
	if err == nil || !strings.Contains(err.Error(), "function odd: its deployed name (name:, else ${service}-${stage}-odd) is not known here: set functions.odd.name") {
		t.Errorf("serverless: %v", err)
	}
	if n, err := deployedNames(ctx, sls, fn("api", "cron"), PublishBuildOptions{}); err != nil || n["api"] != "shop-qa-api" || n["cron"] != "shop-cron" {
		t.Errorf("serverless names: %v %v", n, err)
	}

	// --update-layers with a layer only the deploy tool resolves.
	withLayer := load(map[string]string{
		"template.yaml": samT + "  Deps:\n    Type: AWS::Serverless::LayerVersion\n    Properties:\n      ContentUri: deps/\n    Metadata:\n      BuildMethod: python3.12\n" +
			"  Api:\n    Type: AWS::Serverless::Function\n    Properties:\n      FunctionName: api\n      CodeUri: src/\n      Handler: app.handler\n      Runtime: python3.12\n      Layers: [!Ref Deps, !Ref OtherLayer]\n" +
			"Parameters:\n  OtherLayer:\n    Type: String\n",
		"deps/requirements.txt": "six\n", "src/app.py": "",
	}, "")
	rep = &BuildReport{Artifacts: append(fn("Api"), &BuiltArtifact{ArtifactReport: &ArtifactReport{Name: "Deps-x86_64", Kind: KindLayer}})}
	if _, err := functionLayers(withLayer, rep, fn("Api"), PublishBuildOptions{UpdateLayers: true}); err == nil || !strings.Contains(err.Error(), "is resolved by the deploy tool, so --update-layers cannot set the function's layers") {
		t.Errorf("an unresolvable layer: %v", err)
	}
}

func writeTmp(t *testing.T, name, body string) string {
	t.Helper()
	dir := t.TempDir()
	testutil.WriteFiles(t, dir, map[string]string{name: body})
	return filepath.Join(dir, name)
}
