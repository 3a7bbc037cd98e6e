package publish

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// AWSOptions choose the AWS account and region. The zero value uses the
// SDK's default chain: environment, shared config and credentials files
// (profiles, SSO), container and instance roles; the region from AWS_REGION,
// AWS_DEFAULT_REGION or the profile; endpoints from AWS_ENDPOINT_URL and the
// per-service AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL_LAMBDA.
type AWSOptions struct {
	Region  string // overrides the resolved region
	Profile string // a shared-config profile; empty means AWS_PROFILE or "default"
	// Config, when set, is used as is instead of loading one.
	Config *aws.Config
}

// clients are the service clients one publish uses.
type clients struct {
	cfg    aws.Config
	s3     *s3.Client
	lambda *lambda.Client
}

// newClients loads the AWS configuration and checks that a region and
// credentials are there, with errors that say how to provide them.
func newClients(ctx context.Context, o AWSOptions) (*clients, error) {
	var cfg aws.Config
	if o.Config != nil {
		cfg = o.Config.Copy()
		if o.Region != "" {
			cfg.Region = o.Region
		}
	} else {
		var lo []func(*config.LoadOptions) error
		if o.Region != "" {
			lo = append(lo, config.WithRegion(o.Region))
		}
		if o.Profile != "" {
			lo = append(lo, config.WithSharedConfigProfile(o.Profile))
		}
		var err error
		cfg, err = config.LoadDefaultConfig(ctx, lo...)
		if err != nil {
			return nil, &awsError{msg: "loading the AWS configuration: " + redactSecrets(err.Error()) + " (check AWS_PROFILE / --profile and ~/.aws/config)", err: err}
		}
	}
	if cfg.Region == "" {
		return nil, errors.New("no AWS region: pass --region, set AWS_REGION, or set region in your profile (aws configure set region us-east-1)")
	}
	if cfg.Credentials == nil {
		return nil, errNoCredentials(nil)
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := cfg.Credentials.Retrieve(cctx); err != nil {
		return nil, errNoCredentials(err)
	}
	c := &clients{cfg: cfg}
	c.s3 = s3.NewFromConfig(cfg, func(so *s3.Options) {
		// A custom endpoint (moto, MinIO, LocalStack) rarely serves
		// virtual-hosted buckets: address them by path.
		if so.BaseEndpoint != nil && *so.BaseEndpoint != "" {
			so.UsePathStyle = true
		}
	})
	c.lambda = lambda.NewFromConfig(cfg)
	return c, nil
}

func errNoCredentials(err error) error {
	msg := "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, " +
		"or choose a profile with AWS_PROFILE / --profile (aws configure, or aws sso login for SSO), " +
		"or run where a container or instance role is available"
	if err == nil {
		return errors.New(msg)
	}
	// The SDK's message names the providers it tried; a credential_process
	// that printed malformed output has that output quoted in it, so
	// anything that looks like a key or token is blanked.
	return &awsError{msg: fmt.Sprintf("%s (%s)", msg, redactSecrets(err.Error())), err: err}
}

// secretLike matches strings shaped like secret access keys (40 characters
// of base64) and session tokens (longer).
var secretLike = regexp.MustCompile(`[A-Za-z0-9/+=]{32,}`)

// redactSecrets blanks anything in an SDK message that could be a secret.
func redactSecrets(s string) string {
	return secretLike.ReplaceAllString(s, "[redacted]")
}

// callError turns an AWS error from action (e.g. "s3:PutObject") on resource
// into one that says what to do. The SDK's error stays in the chain
// (errors.As finds smithy.APIError) but only its code and message are shown.
func (c *clients) callError(ctx context.Context, action, resource string, err error) error {
	if err == nil {
		return nil
	}
	var ae smithy.APIError
	code, detail := "", ""
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
		detail = code
		if m := ae.ErrorMessage(); m != "" && m != code {
			detail += ": " + m
		}
	}
	status := 0
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
		if detail == "" {
			detail = fmt.Sprintf("HTTP %d", status)
		}
	}
	if detail == "" {
		detail = err.Error()
	}
	wrap := func(format string, args ...any) error {
		return &awsError{msg: fmt.Sprintf(format, args...) + " [" + detail + "]", err: err}
	}
	switch {
	case code == "NoSuchBucket":
		b := bucketOf(resource)
		return wrap("%s %s: bucket %s does not exist in region %s: create it (aws s3 mb s3://%s --region %s) or pass another --bucket",
			action, resource, b, c.cfg.Region, b, c.cfg.Region)
	case code == "InvalidAccessKeyId" || code == "InvalidClientTokenId" || code == "SignatureDoesNotMatch" ||
		code == "UnrecognizedClientException" || code == "ExpiredToken" || code == "ExpiredTokenException":
		return wrap("%s %s: AWS rejected the credentials: check AWS_PROFILE / AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or refresh them (aws sso login)",
			action, resource)
	case isDeniedCode(code, status):
		principal := principalFrom(err.Error())
		if principal == "" {
			principal = c.callerARN(ctx)
		}
		who := "the caller"
		if principal != "" {
			who = principal
		}
		return wrap("%s on %s was denied for %s: allow %q on %q in its IAM policy (and check bucket or resource policies, permission boundaries and SCPs)",
			action, resource, who, action, policyResource(c.cfg, action, resource, accountOf(principal)))
	}
	return wrap("%s %s failed", action, resource)
}

func isDeniedCode(code string, status int) bool {
	return code == "AccessDenied" || code == "AccessDeniedException" || code == "Forbidden" || status == http.StatusForbidden
}

// isDenied reports whether err is AWS refusing the call for lack of
// permission.
func isDenied(err error) bool {
	code, status := "", 0
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	return isDeniedCode(code, status)
}

// awsError shows a short message and keeps the SDK's error in the chain.
type awsError struct {
	msg string
	err error
}

func (e *awsError) Error() string { return e.msg }
func (e *awsError) Unwrap() error { return e.err }

var principalRE = regexp.MustCompile(`arn:aws[a-zA-Z-]*:(?:iam|sts)::\d{12}:[^\s,;"']+`)

// principalFrom finds the principal's ARN in an AccessDenied message
// ("User: arn:aws:iam::123456789012:user/x is not authorized to perform ...").
func principalFrom(msg string) string {
	return principalRE.FindString(msg)
}

// callerARN asks STS who the caller is, best effort.
func (c *clients) callerARN(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := sts.NewFromConfig(c.cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || out.Arn == nil {
		return ""
	}
	return *out.Arn
}

func bucketOf(resource string) string {
	r := strings.TrimPrefix(resource, "s3://")
	if i := strings.IndexByte(r, '/'); i >= 0 {
		return r[:i]
	}
	return r
}

// accountOf returns the account ID in an IAM or STS ARN, or "*".
func accountOf(arn string) string {
	parts := strings.Split(arn, ":")
	if len(parts) > 4 && parts[4] != "" {
		return parts[4]
	}
	return "*"
}

// policyResource is the resource an IAM statement granting action on
// resource would name: the key's prefix for S3 objects, the layer or
// function ARN for Lambda.
func policyResource(cfg aws.Config, action, resource, account string) string {
	switch {
	case strings.HasPrefix(action, "s3:"):
		r := strings.TrimPrefix(resource, "s3://")
		if action == "s3:ListBucket" || !strings.Contains(r, "/") {
			return "arn:aws:s3:::" + bucketOf(resource)
		}
		if i := strings.LastIndexByte(r, '/'); i >= 0 {
			r = r[:i+1] + "*"
		}
		return "arn:aws:s3:::" + r
	case strings.HasPrefix(resource, "arn:"):
		return resource
	case strings.HasPrefix(action, "lambda:") && strings.Contains(action, "Layer"):
		return fmt.Sprintf("arn:aws:lambda:%s:%s:layer:%s", cfg.Region, account, resource)
	case strings.HasPrefix(action, "lambda:"):
		return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", cfg.Region, account, resource)
	}
	return resource
}
