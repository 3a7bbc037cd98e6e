package publish_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lambdapack/lambdapack/internal/publish"
	"github.com/lambdapack/lambdapack/internal/record"
	"github.com/lambdapack/lambdapack/internal/testutil"
)

// createFunction creates a python3.12 x86_64 function in moto with some
// first code.
func createFunction(t *testing.T, ep string, cl awsClients, name string) {
	t.Helper()
	role := testutil.MotoLambdaRole(t, ep, name+"-role")
	first := writeZip(t, map[string]string{"app.py": "def handler(e, c):\n    return 0\n"}, "")
	code := readFile(t, first)
	_, err := cl.lambda.CreateFunction(context.Background(), &lambda.CreateFunctionInput{
		FunctionName:  aws.String(name),
		Runtime:       ltypes.RuntimePython312,
		Role:          aws.String(role),
		Handler:       aws.String("app.handler"),
		Code:          &ltypes.FunctionCode{ZipFile: code},
		Architectures: []ltypes.Architecture{ltypes.ArchitectureX8664},
	})
	if err != nil {
		t.Fatalf("CreateFunction in moto: %v", err)
	}
}

func TestFunctionUpdate(t *testing.T) {
	ep := motoEnv(t)
	ctx := context.Background()
	cl := testClients(t)
	createFunction(t, ep, cl, "api")
	z := writeZip(t, map[string]string{"app.py": "def handler(e, c):\n    return 1\n"}, "")
	_, code := sums(t, z)

	res, err := publish.Function(ctx, publish.FunctionOptions{ZipPath: z, FunctionName: "api", PollInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Changed || res.Status != "Successful" || res.CodeSHA256 != code || !strings.HasSuffix(res.FunctionARN, ":function:api") {
		t.Fatalf("update: %+v", res)
	}
	got, err := cl.lambda.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("api")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.Configuration.CodeSha256) != code {
		t.Fatalf("GetFunction CodeSha256 = %s, want the zip's %s", aws.ToString(got.Configuration.CodeSha256), code)
	}
	again, err := publish.Function(ctx, publish.FunctionOptions{ZipPath: z, FunctionName: "api"})
	if err != nil {
		t.Fatal(err)
	}
	if again.Changed {
		t.Fatalf("same code again: %+v, want unchanged", again)
	}
}

func TestFunctionUpdateViaS3(t *testing.T) {
	ep := motoEnv(t)
	ctx := context.Background()
	cl := testClients(t)
	createFunction(t, ep, cl, "worker")
	if _, err := cl.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("code")}); err != nil {
		t.Fatal(err)
	}
	rec, _ := record.Record{Runtime: "python3.12", Architecture: "arm64"}.Format()
	z := writeZip(t, map[string]string{"app.py": "def handler(e, c):\n    return 2\n"}, rec)
	hexsum, code := sums(t, z)

	// Built for arm64, function on x86_64: refused unless --arch says so.
	_, err := publish.Function(ctx, publish.FunctionOptions{ZipPath: z, FunctionName: "worker", Bucket: "code"})
	if err == nil || !strings.Contains(err.Error(), "--arch arm64") {
		t.Fatalf("architecture mismatch: err = %v", err)
	}
	res, err := publish.Function(ctx, publish.FunctionOptions{ZipPath: z, FunctionName: "worker", Bucket: "code", Architecture: "aarch64", PollInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Changed || res.Status != "Successful" || res.S3 == nil || res.S3.Key != "lambdapack/worker/"+hexsum+".zip" {
		t.Fatalf("update via S3: %+v (s3 %+v)", res, res.S3)
	}
	got, err := cl.lambda.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("worker")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.Configuration.CodeSha256) != code {
		t.Errorf("GetFunction CodeSha256 = %s, want %s", aws.ToString(got.Configuration.CodeSha256), code)
	}
	// moto 5 ignores Architectures in UpdateFunctionCode, so the switch
	// itself cannot be seen in GetFunction here; the request asked for it.
	if res.Architecture != "arm64" {
		t.Errorf("result architecture %q, want arm64", res.Architecture)
	}
	head, err := cl.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("code"), Key: aws.String(res.S3.Key)})
	if err != nil {
		t.Fatal(err)
	}
	if head.Metadata["sha256"] != hexsum || head.Metadata["function-name"] != "worker" {
		t.Errorf("object metadata %v", head.Metadata)
	}
}

func TestFunctionMissing(t *testing.T) {
	motoEnv(t)
	z := writeZip(t, map[string]string{"app.py": ""}, "")
	_, err := publish.Function(context.Background(), publish.FunctionOptions{ZipPath: z, FunctionName: "nope"})
	if err == nil || !strings.Contains(err.Error(), "function nope does not exist in region us-east-1") {
		t.Fatalf("err = %v", err)
	}
}

// TestFunctionUpdateFails covers what moto cannot show (it always reports
// Successful): Lambda answering the update with InProgress and then Failed.
// The server speaks Lambda's REST-JSON protocol for the three calls made.
func TestFunctionUpdateFails(t *testing.T) {
	isolateAWS(t)
	z := writeZip(t, map[string]string{"app.py": "import missing\n"}, "")
	polls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		arn := `"FunctionArn":"arn:aws:lambda:us-east-1:123456789012:function:api","Version":"$LATEST","Runtime":"python3.12","Architectures":["x86_64"]`
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/2015-03-31/functions/api/configuration":
			polls++
			switch polls {
			case 1: // before the update
				fmt.Fprintf(w, `{%s,"CodeSha256":"old","State":"Active","LastUpdateStatus":"Successful"}`, arn)
			case 2:
				fmt.Fprintf(w, `{%s,"State":"Active","LastUpdateStatus":"InProgress"}`, arn)
			default:
				fmt.Fprintf(w, `{%s,"State":"Active","LastUpdateStatus":"Failed","LastUpdateStatusReason":"Unzipped size must be smaller than 262144000 bytes","LastUpdateStatusReasonCode":"InvalidZipFileException"}`, arn)
			}
		case r.Method == http.MethodPut && r.URL.Path == "/2015-03-31/functions/api/code":
			fmt.Fprintf(w, `{%s,"State":"Active","LastUpdateStatus":"InProgress"}`, arn)
		default:
			http.Error(w, `{"message":"unexpected"}`, http.StatusNotFound)
		}
	}))
	defer srv.Close()
	t.Setenv("AWS_ENDPOINT_URL", srv.URL)
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	t.Setenv("AWS_REGION", "us-east-1")
	res, err := publish.Function(context.Background(), publish.FunctionOptions{ZipPath: z, FunctionName: "api", PollInterval: 10 * time.Millisecond})
	var failed *publish.UpdateFailedError
	if !errors.As(err, &failed) {
		t.Fatalf("err = %v, want an UpdateFailedError", err)
	}
	if !strings.Contains(err.Error(), "Unzipped size must be smaller") || !strings.Contains(err.Error(), "InvalidZipFileException") {
		t.Errorf("error %q does not carry Lambda's reason", err)
	}
	if res == nil || !res.Changed || res.Status != "Failed" || polls != 3 {
		t.Fatalf("result %+v after %d polls", res, polls)
	}
}
