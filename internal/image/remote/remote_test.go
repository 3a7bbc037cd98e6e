package remote_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/lambdapack/lambdapack/internal/image/imagetest"
	"github.com/lambdapack/lambdapack/internal/image/remote"
	"github.com/lambdapack/lambdapack/internal/testutil"
)

func TestECRRegion(t *testing.T) {
	for host, want := range map[string]string{
		"123456789012.dkr.ecr.us-east-1.amazonaws.com":          "us-east-1",
		"123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com": "us-gov-west-1",
		"123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn":      "cn-north-1",
		"public.ecr.aws":                        "",
		"12345.dkr.ecr.us-east-1.amazonaws.com": "",
		"index.docker.io":                       "",
	} {
		got, ok := remote.ECRRegion(host)
		if got != want || ok != (want != "") {
			t.Errorf("ECRRegion(%q) = %q %v, want %q", host, got, ok, want)
		}
	}
}

// TestECRLogin pushes to a registry that takes only the credentials ECR's
// GetAuthorizationToken (moto's) hands out, logging in through the AWS SDK's
// default chain as a user's machine would.
func TestECRLogin(t *testing.T) {
	testutil.MotoEnv(t)
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out, err := ecr.NewFromConfig(cfg).GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		t.Fatal(err)
	}
	want := "Basic " + *out.AuthorizationData[0].AuthorizationToken
	if raw, _ := base64.StdEncoding.DecodeString(*out.AuthorizationData[0].AuthorizationToken); !strings.HasPrefix(string(raw), "AWS:") {
		t.Fatalf("moto's token %q is not AWS:password", raw)
	}
	reg := registry.New(registry.Logger(log.New(&bytes.Buffer{}, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != want {
			w.Header().Set("WWW-Authenticate", `Basic realm="ecr"`)
			http.Error(w, "no basic auth credentials", http.StatusUnauthorized)
			return
		}
		reg.ServeHTTP(w, r)
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	ref, _ := name.NewTag(host + "/fn:v1")
	img := imagetest.FakeBase(t, imagetest.Fake{Arch: "arm64", Python: "3.12.1", Glibc: "2.34", OCI: true})

	if err := remote.Write(ctx, ref, img, remote.Options{Keychain: authn.DefaultKeychain}); err == nil || !strings.Contains(err.Error(), "pushing "+ref.String()) {
		t.Fatalf("push without ECR login: %v", err)
	}
	kc := &remote.ECRKeychain{Region: func(h string) (string, bool) { return "us-east-1", h == host }}
	o := remote.Options{Keychain: authn.NewMultiKeychain(kc, authn.DefaultKeychain)}
	if err := remote.Write(ctx, ref, img, o); err != nil {
		t.Fatal(err)
	}
	d, err := remote.Get(ctx, ref, o)
	if err != nil {
		t.Fatal(err)
	}
	if h, _ := img.Digest(); d.Digest != h || d.MediaType != types.OCIManifestSchema1 {
		t.Errorf("pulled %s %s", d.Digest, d.MediaType)
	}
	// Another registry is none of ECR's business.
	if a, err := kc.Resolve(mustRegistry(t, "index.docker.io")); err != nil || a != authn.Anonymous {
		t.Errorf("ECR keychain for Docker Hub: %v %v", a, err)
	}
}

func mustRegistry(t *testing.T, s string) name.Registry {
	r, err := name.NewRegistry(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
