package publish

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/lambdapack/lambdapack/internal/record"
)

// FunctionOptions say which function gets which code.
type FunctionOptions struct {
	ZipPath      string
	FunctionName string // name, ARN or partial ARN

	Bucket    string // upload through S3 (required over 50 MB)
	KeyPrefix string // DefaultKeyPrefix when empty; "/" for none

	// Architecture, when set, is sent with the code (switching the
	// function's architecture if it differs). Either way, a zip whose
	// lambdapack record names one architecture must match the one the
	// function will run it on, and one built with native code for a
	// runtime must match the function's runtime (GetFunctionConfiguration
	// says both).
	Architecture string

	// Force publishes a zip whose record names another architecture or
	// runtime, or that is not a function's code (a layer zip), with a
	// warning instead of an error.
	Force bool

	// Timeout bounds the wait for the update to finish (default 5 minutes);
	// PollInterval is the wait between checks (default 2 seconds).
	Timeout      time.Duration
	PollInterval time.Duration
	// NoWait returns right after the update is accepted.
	NoWait bool

	ToolVersion string
	AWS         AWSOptions
	Log         io.Writer
}

// FunctionResult is what Function did.
type FunctionResult struct {
	FunctionARN string `json:"function_arn"`
	Version     string `json:"version"`
	Changed     bool   `json:"changed"`
	CodeSHA256  string `json:"code_sha256"`
	SHA256      string `json:"sha256"`
	Size        int64  `json:"size"`
	// Status is Lambda's LastUpdateStatus at the end: Successful, Failed,
	// or InProgress when not waited for.
	Status       string      `json:"status"`
	StatusReason string      `json:"status_reason,omitempty"`
	Architecture string      `json:"architecture,omitempty"`
	Runtime      string      `json:"runtime,omitempty"`
	S3           *S3Location `json:"s3,omitempty"`
	Region       string      `json:"region"`
	Warnings     []string    `json:"warnings,omitempty"`
}

// UpdateFailedError is returned when Lambda reports the code update failed.
type UpdateFailedError struct {
	Function, Reason, ReasonCode string
}

func (e *UpdateFailedError) Error() string {
	return fmt.Sprintf("updating the code of %s failed: %s (%s)", e.Function, e.Reason, e.ReasonCode)
}

// Function uploads the zip as the code of an existing Lambda function and
// waits until Lambda reports the update Successful or Failed. When the
// function already runs code with the zip's sha256 (on the requested
// architecture), it changes nothing.
func Function(ctx context.Context, o FunctionOptions) (*FunctionResult, error) {
	short, err := functionShortName(o.FunctionName)
	if err != nil {
		return nil, err
	}
	art, err := openArtifact(o.ZipPath)
	if err != nil {
		return nil, err
	}
	var warnings []string
	if w, err := art.checkKind(record.KindFunction, o.Force); err != nil {
		return nil, err
	} else if w != "" {
		warnings = append(warnings, w)
	}
	arch := ""
	if o.Architecture != "" {
		if arch, err = ParseArch(o.Architecture); err != nil {
			return nil, err
		}
	}
	if o.Bucket == "" && art.size > MaxDirectUpload {
		return nil, fmt.Errorf("%s is %d bytes, over Lambda's %d-byte limit for a direct upload: pass --bucket to upload it through S3", o.ZipPath, art.size, MaxDirectUpload)
	}
	c, err := newClients(ctx, o.AWS)
	if err != nil {
		return nil, err
	}
	res := &FunctionResult{CodeSHA256: art.code, SHA256: art.hex, Size: art.size, Region: c.cfg.Region}

	cur, err := c.lambda.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(o.FunctionName)})
	if err != nil {
		if isNotFound(err) {
			return nil, fmt.Errorf("function %s does not exist in region %s: create it first (aws lambda create-function), or check --function-name and --region", o.FunctionName, c.cfg.Region)
		}
		return nil, c.callError(ctx, "lambda:GetFunctionConfiguration", o.FunctionName, err)
	}
	curArch := "x86_64"
	if len(cur.Architectures) > 0 {
		curArch = string(cur.Architectures[0])
	}
	res.Runtime = string(cur.Runtime)
	archFrom := "flag"
	if arch == "" {
		arch, archFrom = curArch, "function"
	}
	res.Architecture = arch
	if art.hasRec {
		ws, err := checkFunctionTarget(o, art.record, arch, archFrom, string(cur.Runtime))
		if err != nil {
			return nil, err
		}
		warnings = append(warnings, ws...)
	}
	for _, w := range warnings {
		res.Warnings = append(res.Warnings, w)
		logf(o.Log, "warning: %s", w)
	}

	if aws.ToString(cur.CodeSha256) == art.code && arch == curArch {
		res.FunctionARN = aws.ToString(cur.FunctionArn)
		res.Version = aws.ToString(cur.Version)
		logf(o.Log, "function %s already runs this code (sha256 %s): nothing updated", o.FunctionName, art.hex)
		if cur.LastUpdateStatus == ltypes.LastUpdateStatusInProgress && !o.NoWait {
			if err := c.waitUpdated(ctx, o, res); err != nil {
				return res, err
			}
		} else {
			res.Status = string(cur.LastUpdateStatus)
			res.StatusReason = aws.ToString(cur.LastUpdateStatusReason)
		}
		return res, nil
	}

	// Lambda refuses a code update while another update is in progress
	// (ResourceConflictException): let that one finish first.
	if cur.LastUpdateStatus == ltypes.LastUpdateStatusInProgress {
		logf(o.Log, "function %s is being updated by someone else: waiting for that first", o.FunctionName)
		prev := &FunctionResult{}
		if err := c.waitUpdated(ctx, o, prev); err != nil {
			var failed *UpdateFailedError
			if !errors.As(err, &failed) {
				return nil, err
			}
		}
	}

	in := &lambda.UpdateFunctionCodeInput{FunctionName: aws.String(o.FunctionName)}
	if o.Architecture != "" {
		in.Architectures = []ltypes.Architecture{ltypes.Architecture(arch)}
	}
	if o.Bucket != "" {
		meta := map[string]string{"sha256": art.hex, "function-name": short, "architecture": arch}
		if o.ToolVersion != "" {
			meta["lambdapack-version"] = o.ToolVersion
		}
		if art.hasRec {
			if rts := art.record.CompatibleRuntimes(); len(rts) > 0 {
				meta["runtimes"] = strings.Join(rts, ",")
			}
			if art.record.RequirementsSHA256 != "" {
				meta["requirements-sha256"] = art.record.RequirementsSHA256
			}
		}
		loc, err := c.upload(ctx, art, o.Bucket, s3Key(o.KeyPrefix, short, art.hex), meta, o.Log)
		if err != nil {
			return nil, err
		}
		res.S3 = loc
		in.S3Bucket, in.S3Key = aws.String(loc.Bucket), aws.String(loc.Key)
	} else {
		data, err := os.ReadFile(art.path)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", art.path, err)
		}
		in.ZipFile = data
	}
	logf(o.Log, "updating the code of function %s", o.FunctionName)
	out, err := c.lambda.UpdateFunctionCode(ctx, in)
	if err != nil {
		return nil, c.callError(ctx, "lambda:UpdateFunctionCode", o.FunctionName, err)
	}
	res.Changed = true
	res.FunctionARN = aws.ToString(out.FunctionArn)
	res.Version = aws.ToString(out.Version)
	res.Status = string(out.LastUpdateStatus)
	if got := aws.ToString(out.CodeSha256); got != "" && got != art.code {
		return res, fmt.Errorf("updated %s, but Lambda reports CodeSha256 %s where the zip's is %s: the upload was altered; publish again", res.FunctionARN, got, art.code)
	}
	if o.NoWait {
		return res, nil
	}
	if err := c.waitUpdated(ctx, o, res); err != nil {
		return res, err
	}
	return res, nil
}

// waitUpdated polls GetFunctionConfiguration until LastUpdateStatus leaves
// InProgress (and State leaves Pending), recording the outcome in res.
func (c *clients) waitUpdated(ctx context.Context, o FunctionOptions, res *FunctionResult) error {
	timeout, every := o.Timeout, o.PollInterval
	if timeout <= 0 {
		timeout = 5 * time.Minute
	}
	if every <= 0 {
		every = 2 * time.Second
	}
	deadline := time.Now().Add(timeout)
	logf(o.Log, "waiting for the update of %s to finish", o.FunctionName)
	for {
		cur, err := c.lambda.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(o.FunctionName)})
		if err != nil {
			return c.callError(ctx, "lambda:GetFunctionConfiguration", o.FunctionName, err)
		}
		res.Status = string(cur.LastUpdateStatus)
		res.StatusReason = aws.ToString(cur.LastUpdateStatusReason)
		switch {
		case cur.LastUpdateStatus == ltypes.LastUpdateStatusFailed:
			return &UpdateFailedError{Function: o.FunctionName, Reason: res.StatusReason, ReasonCode: string(cur.LastUpdateStatusReasonCode)}
		case cur.State == ltypes.StateFailed:
			res.Status = string(ltypes.LastUpdateStatusFailed)
			res.StatusReason = aws.ToString(cur.StateReason)
			return &UpdateFailedError{Function: o.FunctionName, Reason: res.StatusReason, ReasonCode: string(cur.StateReasonCode)}
		case cur.LastUpdateStatus == ltypes.LastUpdateStatusInProgress || cur.State == ltypes.StatePending:
		default:
			// Successful, or no status at all (older functions): done.
			if res.Status == "" {
				res.Status = string(ltypes.LastUpdateStatusSuccessful)
			}
			return nil
		}
		if time.Now().Add(every).After(deadline) {
			return fmt.Errorf("the update of %s is still %s after %s: check it with aws lambda get-function-configuration --function-name %s, or wait longer with --timeout",
				o.FunctionName, res.Status, timeout, o.FunctionName)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for the update of %s: %w", o.FunctionName, ctx.Err())
		case <-time.After(every):
		}
	}
}
