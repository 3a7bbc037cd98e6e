package publish

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func TestPrincipalAndPolicyResource(t *testing.T) {
	// The message real Lambda sends with AccessDeniedException.
	msg := "User: arn:aws:sts::123456789012:assumed-role/deployer/ci-session is not authorized to perform: lambda:PublishLayerVersion on resource: arn:aws:lambda:eu-west-1:123456789012:layer:deps because no identity-based policy allows the lambda:PublishLayerVersion action"
	p := principalFrom(msg)
	if p != "arn:aws:sts::123456789012:assumed-role/deployer/ci-session" {
		t.Fatalf("principalFrom = %q", p)
	}
	cfg := aws.Config{Region: "eu-west-1"}
	for _, c := range []struct{ action, resource, account, want string }{
		{"lambda:PublishLayerVersion", "deps", accountOf(p), "arn:aws:lambda:eu-west-1:123456789012:layer:deps"},
		{"lambda:UpdateFunctionCode", "api", "*", "arn:aws:lambda:eu-west-1:*:function:api"},
		{"lambda:UpdateFunctionCode", "arn:aws:lambda:eu-west-1:1:function:api", "*", "arn:aws:lambda:eu-west-1:1:function:api"},
		{"s3:PutObject", "s3://b/p/deps/abc.zip", "*", "arn:aws:s3:::b/p/deps/*"},
		{"s3:ListBucket", "s3://b/p/deps/abc.zip", "*", "arn:aws:s3:::b"},
	} {
		if got := policyResource(cfg, c.action, c.resource, c.account); got != c.want {
			t.Errorf("policyResource(%s, %s) = %s, want %s", c.action, c.resource, got, c.want)
		}
	}
	leak := `parse failed of process output: {"Version":1,"AccessKeyId":"AKIAEXAMPLE","SecretAccessKey":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"`
	if got := errNoCredentials(errString(leak)).Error(); strings.Contains(got, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY") {
		t.Errorf("the secret survives in %q", got)
	}
	if accountOf("") != "*" {
		t.Error(`accountOf("") != "*"`)
	}
	for _, c := range []struct{ in, want string }{
		{"deps", "deps"}, {"arn:aws:lambda:us-east-1:123456789012:layer:deps", "deps"},
	} {
		if got, err := layerShortName(c.in); err != nil || got != c.want {
			t.Errorf("layerShortName(%q) = %q, %v", c.in, got, err)
		}
	}
	for _, c := range []struct{ in, want string }{
		{"api", "api"}, {"arn:aws:lambda:us-east-1:123456789012:function:api", "api"},
		{"arn:aws:lambda:us-east-1:123456789012:function:api:prod", "api"}, {"123456789012:function:api", "api"},
	} {
		if got, err := functionShortName(c.in); err != nil || got != c.want {
			t.Errorf("functionShortName(%q) = %q, %v", c.in, got, err)
		}
	}
}

type errString string

func (e errString) Error() string { return string(e) }
