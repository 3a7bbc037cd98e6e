package publish_test

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/google/go-cmp/cmp"

	"github.com/lambdapack/lambdapack/internal/publish"
	"github.com/lambdapack/lambdapack/internal/record"
	"github.com/lambdapack/lambdapack/internal/testutil"
)

func isolateAWS(t *testing.T) { testutil.IsolateAWS(t) }

func motoEnv(t *testing.T) string { return testutil.MotoEnv(t) }

type awsClients struct {
	s3     *s3.Client
	lambda *lambda.Client
}

func testClients(t *testing.T) awsClients {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return awsClients{
		s3:     s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }),
		lambda: lambda.NewFromConfig(cfg),
	}
}

// writeZip writes a real zip with the given files and archive comment.
func writeZip(t *testing.T, files map[string]string, comment string) string {
	t.Helper()
	return testutil.WriteZip(t, filepath.Join(t.TempDir(), "artifact.zip"), testutil.FileBytes(files), comment)
}

func layerZip(t *testing.T, body string, rec record.Record) string {
	t.Helper()
	c, err := rec.Format()
	if err != nil {
		t.Fatal(err)
	}
	return writeZip(t, map[string]string{"python/mod.py": body}, c)
}

func sums(t *testing.T, path string) (hexsum, code string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:]), base64.StdEncoding.EncodeToString(s[:])
}

func TestZipCommentRoundTrip(t *testing.T) {
	in := record.Record{Runtime: "python3.12", Runtimes: []string{"python3.13"}, Architecture: "arm64",
		Python: "3.12", RequirementsSHA256: strings.Repeat("ab", 32), Version: "v1.2.3"}
	s, err := in.Format()
	if err != nil {
		t.Fatal(err)
	}
	want := `lambdapack: {"runtime":"python3.12","runtimes":["python3.13"],"architecture":"arm64","python":"3.12","requirements_sha256":"` + strings.Repeat("ab", 32) + `","version":"v1.2.3"}`
	if s != want {
		t.Fatalf("FormatZipComment:\n got %s\nwant %s", s, want)
	}
	out, err := record.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(in, out); diff != "" {
		t.Fatalf("round trip (-in +out):\n%s", diff)
	}
	if got := out.CompatibleRuntimes(); !cmp.Equal(got, []string{"python3.12", "python3.13"}) {
		t.Errorf("CompatibleRuntimes = %v", got)
	}
	if _, err := record.Parse("made by zip 3.0"); !errors.Is(err, record.ErrNone) {
		t.Errorf("foreign comment: err = %v, want ErrNoZipComment", err)
	}
	if _, err := record.Parse("lambdapack: {broken"); err == nil || errors.Is(err, record.ErrNone) {
		t.Errorf("broken record: err = %v, want a parse error", err)
	}
	// The record survives a real zip.
	p := layerZip(t, "x = 1\n", in)
	got, err := record.ReadZip(p)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(in, got); diff != "" {
		t.Fatalf("ReadZipComment (-want +got):\n%s", diff)
	}
}

func TestNormalize(t *testing.T) {
	rs, err := publish.NormalizeRuntimes([]string{"python3.13,python3.12", "python3.12"})
	if err != nil || !cmp.Equal(rs, []string{"python3.12", "python3.13"}) {
		t.Errorf("NormalizeRuntimes = %v, %v", rs, err)
	}
	if _, err := publish.NormalizeRuntimes([]string{"python2.7"}); err == nil || !strings.Contains(err.Error(), "python2.7") {
		t.Errorf("python2.7: err = %v", err)
	}
	as, err := publish.NormalizeArchitectures([]string{"aarch64", "amd64"})
	if err != nil || !cmp.Equal(as, []string{"x86_64", "arm64"}) {
		t.Errorf("NormalizeArchitectures = %v, %v", as, err)
	}
	if _, err := publish.NormalizeArchitectures([]string{"riscv64"}); err == nil {
		t.Error("riscv64 accepted")
	}
}

func TestLayerIdempotentAndNewVersions(t *testing.T) {
	motoEnv(t)
	ctx := context.Background()
	cl := testClients(t)
	rec := record.Record{Runtime: "python3.12", Architecture: "arm64", Python: "3.12"}
	zip1 := layerZip(t, "x = 1\n", rec)
	_, code1 := sums(t, zip1)

	r1, err := publish.Layer(ctx, publish.LayerOptions{ZipPath: zip1, Name: "deps", Description: "my deps"})
	if err != nil {
		t.Fatal(err)
	}
	if !r1.Changed || r1.Version != 1 || r1.CodeSHA256 != code1 || r1.S3 != nil {
		t.Fatalf("first publish: %+v", r1)
	}
	if !cmp.Equal(r1.Runtimes, []string{"python3.12"}) || !cmp.Equal(r1.Architectures, []string{"arm64"}) {
		t.Errorf("defaults from the zip's record: runtimes %v, architectures %v", r1.Runtimes, r1.Architectures)
	}
	r2, err := publish.Layer(ctx, publish.LayerOptions{ZipPath: zip1, Name: "deps", Description: "my deps"})
	if err != nil {
		t.Fatal(err)
	}
	if r2.Changed || r2.Version != 1 || r2.LayerVersionARN != r1.LayerVersionARN {
		t.Fatalf("second publish of the same bytes: %+v, want unchanged version 1 (%s)", r2, r1.LayerVersionARN)
	}
	list, err := cl.lambda.ListLayerVersions(ctx, &lambda.ListLayerVersionsInput{LayerName: aws.String("deps")})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.LayerVersions) != 1 {
		t.Fatalf("after publishing the same zip twice: %d versions, want 1", len(list.LayerVersions))
	}

	// Changed bytes: a new version, with the runtimes and architectures
	// asked for.
	zip2 := layerZip(t, "x = 2\n", rec)
	_, code2 := sums(t, zip2)
	// Asking for what the zip's record does not say is refused...
	if _, err := publish.Layer(ctx, publish.LayerOptions{ZipPath: zip2, Name: "deps",
		Runtimes: []string{"python3.12", "python3.13"}, Architectures: []string{"x86_64", "aarch64"}, License: "MIT"}); err == nil ||
		!strings.Contains(err.Error(), "not x86_64") {
		t.Fatalf("publishing an arm64 zip as x86_64: %v", err)
	}
	// ...unless forced.
	r3, err := publish.Layer(ctx, publish.LayerOptions{ZipPath: zip2, Name: "deps", Force: true,
		Runtimes: []string{"python3.12", "python3.13"}, Architectures: []string{"x86_64", "aarch64"}, License: "MIT"})
	if err != nil {
		t.Fatal(err)
	}
	if !r3.Changed || r3.Version != 2 {
		t.Fatalf("changed bytes: %+v, want a new version 2", r3)
	}
	got, err := cl.lambda.GetLayerVersion(ctx, &lambda.GetLayerVersionInput{LayerName: aws.String("deps"), VersionNumber: aws.Int64(2)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.Content.CodeSha256) != code2 {
		t.Errorf("version 2 CodeSha256 = %s, want %s", aws.ToString(got.Content.CodeSha256), code2)
	}
	if diff := cmp.Diff([]ltypes.Runtime{"python3.12", "python3.13"}, got.CompatibleRuntimes); diff != "" {
		t.Errorf("version 2 runtimes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]ltypes.Architecture{"x86_64", "arm64"}, got.CompatibleArchitectures); diff != "" {
		t.Errorf("version 2 architectures (-want +got):\n%s", diff)
	}
	if aws.ToString(got.LicenseInfo) != "MIT" {
		t.Errorf("version 2 license = %q", aws.ToString(got.LicenseInfo))
	}

	// Same bytes as the latest, other compatible runtimes: a new version too.
	r4, err := publish.Layer(ctx, publish.LayerOptions{ZipPath: zip2, Name: "deps", Force: true,
		Runtimes: []string{"python3.13"}, Architectures: []string{"x86_64", "arm64"}})
	if err != nil {
		t.Fatal(err)
	}
	if !r4.Changed || r4.Version != 3 {
		t.Fatalf("same bytes, other runtimes: %+v, want a new version 3", r4)
	}
	// And the same again: nothing.
	r5, err := publish.Layer(ctx, publish.LayerOptions{ZipPath: zip2, Name: "deps", Force: true,
		Runtimes: []string{"python3.13"}, Architectures: []string{"arm64", "x86_64"}})
	if err != nil {
		t.Fatal(err)
	}
	if r5.Changed || r5.Version != 3 {
		t.Fatalf("republish of version 3: %+v", r5)
	}
	// The first bytes again are not the latest: a new version.
	r6, err := publish.Layer(ctx, publish.LayerOptions{ZipPath: zip1, Name: "deps"})
	if err != nil {
		t.Fatal(err)
	}
	if !r6.Changed || r6.Version != 4 {
		t.Fatalf("older bytes again: %+v, want version 4", r6)
	}
}

func TestLayerViaS3(t *testing.T) {
	motoEnv(t)
	ctx := context.Background()
	cl := testClients(t)
	if _, err := cl.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("layers")}); err != nil {
		t.Fatal(err)
	}
	rec := record.Record{Runtime: "python3.11", Architecture: "x86_64", RequirementsSHA256: strings.Repeat("cd", 32)}
	z := layerZip(t, "import json\n", rec)
	hexsum, code := sums(t, z)
	res, err := publish.Layer(ctx, publish.LayerOptions{ZipPath: z, Name: "deps", Bucket: "layers", KeyPrefix: "team/layers/", ToolVersion: "v9.9.9"})
	if err != nil {
		t.Fatal(err)
	}
	wantKey := "team/layers/deps/" + hexsum + ".zip"
	if res.S3 == nil || res.S3.Bucket != "layers" || res.S3.Key != wantKey || !res.S3.Uploaded {
		t.Fatalf("S3 location %+v, want s3://layers/%s uploaded", res.S3, wantKey)
	}
	head, err := cl.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("layers"), Key: aws.String(wantKey), ChecksumMode: s3types.ChecksumModeEnabled})
	if err != nil {
		t.Fatal(err)
	}
	wantMeta := map[string]string{
		"sha256": hexsum, "runtimes": "python3.11", "architectures": "x86_64", "layer-name": "deps",
		"lambdapack-version": "v9.9.9", "requirements-sha256": strings.Repeat("cd", 32),
	}
	if diff := cmp.Diff(wantMeta, head.Metadata); diff != "" {
		t.Errorf("object metadata (-want +got):\n%s", diff)
	}
	if aws.ToString(head.ChecksumSHA256) != code {
		t.Errorf("object ChecksumSHA256 = %q, want %q", aws.ToString(head.ChecksumSHA256), code)
	}
	got, err := cl.lambda.GetLayerVersion(ctx, &lambda.GetLayerVersionInput{LayerName: aws.String("deps"), VersionNumber: aws.Int64(res.Version)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.Content.CodeSha256) != code {
		t.Errorf("layer CodeSha256 = %s, want %s", aws.ToString(got.Content.CodeSha256), code)
	}
	// Again: nothing uploaded, nothing published.
	again, err := publish.Layer(ctx, publish.LayerOptions{ZipPath: z, Name: "deps", Bucket: "layers", KeyPrefix: "team/layers/"})
	if err != nil {
		t.Fatal(err)
	}
	if again.Changed || again.S3 != nil || again.Version != res.Version {
		t.Fatalf("republish: %+v", again)
	}
}

func TestLayerMissingBucket(t *testing.T) {
	motoEnv(t)
	z := layerZip(t, "x = 1\n", record.Record{Runtime: "python3.12", Architecture: "x86_64"})
	_, err := publish.Layer(context.Background(), publish.LayerOptions{ZipPath: z, Name: "deps", Bucket: "no-such-bucket"})
	if err == nil {
		t.Fatal("publishing through a missing bucket succeeded")
	}
	want := "bucket no-such-bucket does not exist in region us-east-1: create it"
	if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "--bucket") {
		t.Fatalf("error %q does not say %q and mention --bucket", err, want)
	}
}

func TestLayerDenied(t *testing.T) {
	ep := motoEnv(t)
	ctx := context.Background()
	cl := testClients(t)
	if _, err := cl.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("layers")}); err != nil {
		t.Fatal(err)
	}
	// May read layers and use S3, may not publish.
	noPublish := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*","lambda:ListLayerVersions","lambda:GetLayerVersion","sts:GetCallerIdentity"],"Resource":"*"}]}`
	id1, secret1 := testutil.MotoIAMUser(t, ep, "no-publish", noPublish)
	// May do everything in Lambda, may not write to S3.
	noPut := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["lambda:*","s3:GetObject","s3:ListBucket","sts:GetCallerIdentity"],"Resource":"*"}]}`
	id2, secret2 := testutil.MotoIAMUser(t, ep, "no-put", noPut)
	z := layerZip(t, "x = 1\n", record.Record{Runtime: "python3.12", Architecture: "x86_64"})

	// moto cannot check the signature of Lambda GETs (see MotoEnforceAuth):
	// let ListLayerVersions through unchecked, enforce from the next call.
	testutil.MotoEnforceAuth(t, ep, 1)
	t.Setenv("AWS_ACCESS_KEY_ID", id1)
	t.Setenv("AWS_SECRET_ACCESS_KEY", secret1)
	_, err := publish.Layer(ctx, publish.LayerOptions{ZipPath: z, Name: "deps"})
	if err == nil {
		t.Fatal("a user without lambda:PublishLayerVersion published")
	}
	for _, want := range []string{"lambda:PublishLayerVersion", "denied", "user/no-publish", `allow "lambda:PublishLayerVersion" on "arn:aws:lambda:us-east-1:123456789012:layer:deps"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("denied publish: error %q does not mention %q", err, want)
		}
	}
	t.Log(err)
	if strings.Contains(err.Error(), secret1) {
		t.Errorf("the error shows the secret key: %q", err)
	}

	testutil.MotoEnforceAuth(t, ep, 1)
	t.Setenv("AWS_ACCESS_KEY_ID", id2)
	t.Setenv("AWS_SECRET_ACCESS_KEY", secret2)
	_, err = publish.Layer(ctx, publish.LayerOptions{ZipPath: z, Name: "deps", Bucket: "layers"})
	if err == nil {
		t.Fatal("a user without s3:PutObject uploaded")
	}
	t.Log(err)
	for _, want := range []string{"s3:PutObject", "denied", "user/no-put", `allow "s3:PutObject" on "arn:aws:s3:::layers/lambdapack/deps/*"`, "AccessDenied"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("denied upload: error %q does not mention %q", err, want)
		}
	}
}

func TestLayerNeedsBucketOver50MB(t *testing.T) {
	isolateAWS(t)
	// A real zip just over the direct-upload limit (stored, not deflated).
	p := filepath.Join(t.TempDir(), "big.zip")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "python/blob.bin", Method: zip.Store})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(make([]byte, publish.MaxDirectUpload))
	zw.Close()
	f.Close()
	_, err = publish.Layer(context.Background(), publish.LayerOptions{ZipPath: p, Name: "big", Runtimes: []string{"python3.12"}, Architectures: []string{"arm64"}})
	if err == nil || !strings.Contains(err.Error(), "pass --bucket") || !strings.Contains(err.Error(), "52428800") {
		t.Fatalf("err = %v, want one that says to pass --bucket", err)
	}
}

func TestLayerNeedsTarget(t *testing.T) {
	isolateAWS(t)
	z := writeZip(t, map[string]string{"python/m.py": ""}, "")
	_, err := publish.Layer(context.Background(), publish.LayerOptions{ZipPath: z, Name: "deps"})
	if err == nil || !strings.Contains(err.Error(), "--runtime") {
		t.Fatalf("err = %v, want one that asks for --runtime and --arch", err)
	}
	_, err = publish.Layer(context.Background(), publish.LayerOptions{ZipPath: z, Name: "deps", Runtimes: []string{"python3.12"}, Architectures: []string{"arm64"},
		Description: strings.Repeat("d", 257)})
	if err == nil || !strings.Contains(err.Error(), "256") {
		t.Fatalf("err = %v, want one about the 256-character description", err)
	}
	_, err = publish.Layer(context.Background(), publish.LayerOptions{ZipPath: z, Name: "bad name!", Runtimes: []string{"python3.12"}, Architectures: []string{"arm64"}})
	if err == nil || !strings.Contains(err.Error(), "bad name!") {
		t.Fatalf("err = %v, want one about the layer name", err)
	}
}

func TestLayerFromReport(t *testing.T) {
	motoEnv(t)
	z := writeZip(t, map[string]string{"python/m.py": "y = 1\n"}, "")
	hexsum, _ := sums(t, z)
	report := filepath.Join(t.TempDir(), "report.json")
	os.WriteFile(report, []byte(`{"artifacts":[{"kind":"layer","path":"elsewhere/other.zip","sha256":"00","runtime":"python3.9","architecture":"x86_64"},
{"kind":"layer","path":"out/layer.zip","sha256":"`+hexsum+`","runtime":"python3.13","architecture":"arm64","python":"3.13","pure":true}]}`), 0o644)
	res, err := publish.Layer(context.Background(), publish.LayerOptions{ZipPath: z, Name: "deps", ReportPath: report})
	if err != nil {
		t.Fatal(err)
	}
	if !cmp.Equal(res.Runtimes, []string{"python3.13"}) || !cmp.Equal(res.Architectures, []string{"x86_64", "arm64"}) {
		t.Fatalf("from the report: runtimes %v architectures %v, want [python3.13] and both (pure)", res.Runtimes, res.Architectures)
	}
}

func TestNoCredentialsNoRegion(t *testing.T) {
	isolateAWS(t)
	z := layerZip(t, "x = 1\n", record.Record{Runtime: "python3.12", Architecture: "x86_64"})
	t.Setenv("AWS_REGION", "us-east-1")
	_, err := publish.Layer(context.Background(), publish.LayerOptions{ZipPath: z, Name: "deps"})
	if err == nil || !strings.Contains(err.Error(), "no AWS credentials found") || !strings.Contains(err.Error(), "AWS_PROFILE") {
		t.Fatalf("without credentials: err = %v", err)
	}
	os.Unsetenv("AWS_REGION")
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	_, err = publish.Layer(context.Background(), publish.LayerOptions{ZipPath: z, Name: "deps"})
	if err == nil || !strings.Contains(err.Error(), "no AWS region") || !strings.Contains(err.Error(), "AWS_REGION") {
		t.Fatalf("without a region: err = %v", err)
	}
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestLayerPublishesWhenReadingIsDenied: seed 001's policy allows
// lambda:PublishLayerVersion but not reading versions. Publishing still
// works, with a warning; the error text is real Lambda's. (moto cannot check
// Lambda GETs under IAM, see testutil.MotoEnforceAuth, so a small server
// speaks the two calls here.)
func TestLayerPublishesWhenReadingIsDenied(t *testing.T) {
	isolateAWS(t)
	z := layerZip(t, "x = 1\n", record.Record{Runtime: "python3.12", Architecture: "x86_64"})
	_, code := sums(t, z)
	published := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/2018-10-31/layers/deps/versions":
			w.Header().Set("X-Amzn-Errortype", "AccessDeniedException")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"Type":"User","Message":"User: arn:aws:iam::123456789012:user/ci is not authorized to perform: lambda:ListLayerVersions on resource: arn:aws:lambda:us-east-1:123456789012:layer:deps"}`)
		case r.Method == http.MethodPost && r.URL.Path == "/2018-10-31/layers/deps/versions":
			published++
			w.WriteHeader(http.StatusCreated)
			fmt.Fprintf(w, `{"LayerArn":"arn:aws:lambda:us-east-1:123456789012:layer:deps","LayerVersionArn":"arn:aws:lambda:us-east-1:123456789012:layer:deps:7","Version":7,"Content":{"CodeSha256":%q},"CompatibleRuntimes":["python3.12"],"CompatibleArchitectures":["x86_64"]}`, code)
		default:
			http.Error(w, `{"message":"unexpected"}`, http.StatusNotFound)
		}
	}))
	defer srv.Close()
	t.Setenv("AWS_ENDPOINT_URL", srv.URL)
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	t.Setenv("AWS_REGION", "us-east-1")
	res, err := publish.Layer(context.Background(), publish.LayerOptions{ZipPath: z, Name: "deps"})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res.Warnings)
	if published != 1 || !res.Changed || res.Version != 7 || len(res.Warnings) != 1 {
		t.Fatalf("result %+v after %d publishes", res, published)
	}
	for _, want := range []string{"lambda:ListLayerVersions", "arn:aws:iam::123456789012:user/ci", "duplicate"} {
		if !strings.Contains(res.Warnings[0], want) {
			t.Errorf("warning %q does not mention %q", res.Warnings[0], want)
		}
	}
}
