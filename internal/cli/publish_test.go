package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lambdapack/lambdapack/internal/cli"
	"github.com/lambdapack/lambdapack/internal/record"
	"github.com/lambdapack/lambdapack/internal/testutil"
)

// publishEnv starts moto and points the AWS SDK's default chain at it
// through the environment only, as a user would.
func publishEnv(t *testing.T) string { return testutil.MotoEnv(t) }

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = cli.Main(args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func smallZip(t *testing.T, name, body, comment string) string {
	t.Helper()
	return testutil.WriteZip(t, filepath.Join(t.TempDir(), "a.zip"), map[string][]byte{name: []byte(body)}, comment)
}

func TestPublishLayerCLI(t *testing.T) {
	publishEnv(t)
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("artifacts")}); err != nil {
		t.Fatal(err)
	}
	rec, _ := record.Record{Runtime: "python3.13", Architecture: "arm64"}.Format()
	z := smallZip(t, "python/m.py", "v = 1\n", rec)

	type result struct {
		LayerVersionARN string   `json:"layer_version_arn"`
		Version         int64    `json:"version"`
		Changed         bool     `json:"changed"`
		CodeSHA256      string   `json:"code_sha256"`
		Runtimes        []string `json:"compatible_runtimes"`
		Architectures   []string `json:"compatible_architectures"`
		S3              *struct {
			Bucket, Key string
		} `json:"s3"`
	}
	var first, second result
	code, out, errOut := run(t, "publish", "layer", z, "--name", "deps", "--bucket", "artifacts", "--json")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	if err := json.Unmarshal([]byte(out), &first); err != nil {
		t.Fatalf("--json output %q: %v", out, err)
	}
	if !first.Changed || first.Version != 1 || first.S3 == nil || first.S3.Bucket != "artifacts" || !strings.HasPrefix(first.S3.Key, "lambdapack/deps/") ||
		strings.Join(first.Runtimes, ",") != "python3.13" || strings.Join(first.Architectures, ",") != "arm64" || first.CodeSHA256 == "" {
		t.Fatalf("first publish: %+v", first)
	}
	if !strings.Contains(errOut, "uploading") {
		t.Errorf("no progress line on stderr: %q", errOut)
	}
	code, out, errOut = run(t, "publish", "layer", z, "--name", "deps", "--bucket", "artifacts", "--json")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	json.Unmarshal([]byte(out), &second)
	if second.Changed || second.LayerVersionARN != first.LayerVersionARN {
		t.Fatalf("second publish: %+v, want unchanged %s", second, first.LayerVersionARN)
	}
	// Human output says nothing was published.
	code, out, _ = run(t, "publish", "layer", z, "--name", "deps")
	if code != 0 || !strings.Contains(out, "up to date") || !strings.Contains(out, first.LayerVersionARN) {
		t.Fatalf("text output (exit %d): %q", code, out)
	}

	// A missing bucket: exit 2 and a message that says what to do.
	z2 := smallZip(t, "python/m.py", "v = 2\n", rec)
	code, out, errOut = run(t, "publish", "layer", z2, "--name", "deps", "--bucket", "missing-bucket")
	if code != 2 || out != "" || !strings.Contains(errOut, "bucket missing-bucket does not exist in region us-east-1") {
		t.Fatalf("missing bucket: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	for _, o := range []string{out, errOut} {
		if strings.Contains(o, testutil.MotoSecret) {
			t.Fatalf("the secret key was printed: %q", o)
		}
	}
	// An unknown runtime is refused before any call.
	code, _, errOut = run(t, "publish", "layer", z2, "--name", "deps", "--runtime", "python2.7")
	if code != 2 || !strings.Contains(errOut, "python2.7") {
		t.Fatalf("python2.7: exit %d, %q", code, errOut)
	}
}

func TestPublishFunctionCLI(t *testing.T) {
	ep := publishEnv(t)
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	lc := lambda.NewFromConfig(cfg)
	role := testutil.MotoLambdaRole(t, ep, "fn-role")
	firstZip, _ := os.ReadFile(smallZip(t, "app.py", "def handler(e, c):\n    return 0\n", ""))
	if _, err := lc.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("api"), Runtime: ltypes.RuntimePython313,
		Role: aws.String(role), Handler: aws.String("app.handler"), Code: &ltypes.FunctionCode{ZipFile: firstZip}}); err != nil {
		t.Fatal(err)
	}
	z := smallZip(t, "app.py", "def handler(e, c):\n    return 1\n", "")
	code, out, errOut := run(t, "publish", "function", z, "--function-name", "api", "--json")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	var res struct {
		FunctionARN string `json:"function_arn"`
		Version     string `json:"version"`
		Changed     bool   `json:"changed"`
		CodeSHA256  string `json:"code_sha256"`
		Status      string `json:"status"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("--json output %q: %v", out, err)
	}
	if !res.Changed || res.Status != "Successful" || !strings.HasSuffix(res.FunctionARN, ":function:api") || res.Version != "$LATEST" {
		t.Fatalf("result %+v", res)
	}
	got, err := lc.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("api")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.Configuration.CodeSha256) != res.CodeSHA256 {
		t.Fatalf("GetFunction CodeSha256 %s, reported %s", aws.ToString(got.Configuration.CodeSha256), res.CodeSHA256)
	}
	code, out, _ = run(t, "publish", "function", z, "--function-name", "api")
	if code != 0 || !strings.Contains(out, "up to date") {
		t.Fatalf("second update (exit %d): %q", code, out)
	}
}
