package app_test

import (
	"bytes"
	"context"
	"log"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/lambdapack/lambdapack/internal/app"
	"github.com/lambdapack/lambdapack/internal/image/imagetest"
	"github.com/lambdapack/lambdapack/internal/image/remote"
	"github.com/lambdapack/lambdapack/internal/publish"
	"github.com/lambdapack/lambdapack/internal/testutil"
)

// TestPublishFunctionImage points an image function (in moto) at images in
// a registry: by digest, after resolving a tag; refusing an index, another
// architecture and a zip function.
func TestPublishFunctionImage(t *testing.T) {
	ep := testutil.MotoEnv(t)
	ctx := context.Background()
	reg := httptest.NewServer(registry.New(registry.Logger(log.New(&bytes.Buffer{}, "", 0))))
	defer reg.Close()
	host := strings.TrimPrefix(reg.URL, "http://")
	push := func(tag string, img v1.Image) string {
		ref, _ := name.NewTag(host + "/fn:" + tag)
		if err := remote.Write(ctx, ref, img, remote.Options{}); err != nil {
			t.Fatal(err)
		}
		d, _ := img.Digest()
		return host + "/fn@" + d.String()
	}
	amd := push("v1-x86_64", imagetest.FakeBase(t, imagetest.Fake{Arch: "amd64", Python: "3.12.1", Glibc: "2.34", Lambda: true, OCI: true}))
	arm := imagetest.FakeBase(t, imagetest.Fake{Arch: "arm64", Python: "3.12.1", Glibc: "2.34", Lambda: true, OCI: true})
	push("v1-arm64", arm)
	idx, _ := name.NewTag(host + "/fn:v1")
	if err := remote.WriteIndex(ctx, idx, mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: arm}), remote.Options{}); err != nil {
		t.Fatal(err)
	}

	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	lc := lambda.NewFromConfig(cfg)
	role := testutil.MotoLambdaRole(t, ep, "img-role")
	if _, err := lc.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String("imgfn"), Role: aws.String(role), PackageType: ltypes.PackageTypeImage,
		Code: &ltypes.FunctionCode{ImageUri: aws.String(host + "/fn:old")}, Architectures: []ltypes.Architecture{ltypes.ArchitectureX8664},
	}); err != nil {
		t.Fatalf("CreateFunction (image) in moto: %v", err)
	}
	o := publish.FunctionImageOptions{ImageURI: host + "/fn:v1-x86_64", FunctionName: "imgfn", PollInterval: 50_000_000}
	var out bytes.Buffer
	res, err := app.PublishFunctionImage(ctx, &out, o, remote.Options{}, false)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Changed || res.ImageURI != amd || res.Status != "Successful" || res.Architecture != "x86_64" || !strings.Contains(out.String(), amd) {
		t.Fatalf("result %+v, printed %s", res, out.String())
	}
	got, err := lc.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("imgfn")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.Code.ImageUri) != amd {
		t.Errorf("ImageUri = %s, want %s", aws.ToString(got.Code.ImageUri), amd)
	}
	// Again: nothing to do.
	if res, err := app.PublishFunctionImage(ctx, &out, o, remote.Options{}, false); err != nil || res.Changed {
		t.Errorf("second publish: %+v %v", res, err)
	}
	for _, tc := range []struct{ image, fn, want string }{
		{host + "/fn:v1-arm64", "imgfn", "the image is for arm64 but function imgfn runs on x86_64"},
		{host + "/fn:v1", "imgfn", "is an image index"},
		{host + "/fn:missing", "imgfn", "fn:missing"},
		{host + "/fn:v1-x86_64", "nosuch", "does not exist"},
	} {
		o := o
		o.ImageURI, o.FunctionName = tc.image, tc.fn
		if _, err := app.PublishFunctionImage(ctx, &out, o, remote.Options{}, false); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s -> %s: %v, want %q", tc.image, tc.fn, err, tc.want)
		}
	}
	// A digest without a registry to ask: taken as it is.
	o.Resolve = func(ctx context.Context, s string) (string, string, error) { return s, "", nil }
	o.ImageURI = "123456789012.dkr.ecr.us-east-1.amazonaws.com/fn:v2"
	if _, err := publish.FunctionImage(ctx, o); err == nil || !strings.Contains(err.Error(), "by digest") {
		t.Errorf("a tag that was not resolved: %v", err)
	}
}
