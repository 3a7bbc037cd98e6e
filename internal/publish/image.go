package publish

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// FunctionImageOptions update an image function's code.
type FunctionImageOptions struct {
	// ImageURI is the image to run, by digest: REPOSITORY@sha256:... (a
	// tag is resolved to its digest by Resolve first, so the function
	// runs exactly the image that was checked).
	ImageURI     string
	FunctionName string
	// Architecture is the image's ("x86_64" or "arm64"), when known: it
	// must be the function's unless SwitchArchitecture is set.
	Architecture       string
	SwitchArchitecture bool
	// Resolve, when set, turns a tag into REPOSITORY@DIGEST and says the
	// image's architecture ("" when unknown).
	Resolve func(ctx context.Context, ref string) (digestRef, arch string, err error)

	Timeout      time.Duration
	PollInterval time.Duration
	NoWait       bool
	AWS          AWSOptions
	Log          io.Writer
}

// FunctionImageResult is what FunctionImage did.
type FunctionImageResult struct {
	FunctionARN  string   `json:"function_arn"`
	Version      string   `json:"version"`
	Changed      bool     `json:"changed"`
	ImageURI     string   `json:"image_uri"`
	Status       string   `json:"status"`
	StatusReason string   `json:"status_reason,omitempty"`
	Architecture string   `json:"architecture,omitempty"`
	Region       string   `json:"region"`
	Warnings     []string `json:"warnings,omitempty"`
}

// FunctionImage points an existing image function at an image, by digest,
// and waits until Lambda reports the update Successful or Failed. When the
// function already runs that image, it changes nothing.
func FunctionImage(ctx context.Context, o FunctionImageOptions) (*FunctionImageResult, error) {
	if _, err := functionShortName(o.FunctionName); err != nil {
		return nil, err
	}
	uri, arch := o.ImageURI, o.Architecture
	if o.Resolve != nil {
		var err error
		var a string
		if uri, a, err = o.Resolve(ctx, o.ImageURI); err != nil {
			return nil, err
		}
		if arch == "" {
			arch = a
		}
	}
	if !strings.Contains(uri, "@sha256:") {
		return nil, fmt.Errorf("--image %s: give the image by digest (REPOSITORY@sha256:...), as lambdapack image prints it, so the function runs exactly that image", o.ImageURI)
	}
	if arch != "" {
		var err error
		if arch, err = ParseArch(arch); err != nil {
			return nil, err
		}
	}
	c, err := newClients(ctx, o.AWS)
	if err != nil {
		return nil, err
	}
	res := &FunctionImageResult{ImageURI: uri, Region: c.cfg.Region}
	got, err := c.lambda.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(o.FunctionName)})
	if err != nil {
		if isNotFound(err) {
			return nil, fmt.Errorf("function %s does not exist in region %s: create it first (aws lambda create-function --package-type Image), or check --function-name and --region", o.FunctionName, c.cfg.Region)
		}
		return nil, c.callError(ctx, "lambda:GetFunction", o.FunctionName, err)
	}
	cur := got.Configuration
	if cur.PackageType != "" && cur.PackageType != ltypes.PackageTypeImage {
		return nil, fmt.Errorf("function %s is a %s function: Lambda does not switch a function between zip and image; publish a zip (lambdapack publish function ZIP) or create an image function", o.FunctionName, cur.PackageType)
	}
	curArch := "x86_64"
	if len(cur.Architectures) > 0 {
		curArch = string(cur.Architectures[0])
	}
	if arch != "" && arch != curArch && !o.SwitchArchitecture {
		return nil, fmt.Errorf("the image is for %s but function %s runs on %s: pass --arch %s to switch the function, or push the %s image", arch, o.FunctionName, curArch, arch, curArch)
	}
	if arch == "" {
		arch = curArch
	}
	res.Architecture = arch
	if got.Code != nil && (aws.ToString(got.Code.ImageUri) == uri || aws.ToString(got.Code.ResolvedImageUri) == uri) && arch == curArch {
		res.FunctionARN, res.Version = aws.ToString(cur.FunctionArn), aws.ToString(cur.Version)
		res.Status, res.StatusReason = string(cur.LastUpdateStatus), aws.ToString(cur.LastUpdateStatusReason)
		logf(o.Log, "function %s already runs %s: nothing updated", o.FunctionName, uri)
		return res, nil
	}
	wo := FunctionOptions{FunctionName: o.FunctionName, Timeout: o.Timeout, PollInterval: o.PollInterval, Log: o.Log}
	if cur.LastUpdateStatus == ltypes.LastUpdateStatusInProgress {
		logf(o.Log, "function %s is being updated by someone else: waiting for that first", o.FunctionName)
		if err := c.waitUpdated(ctx, wo, &FunctionResult{}); err != nil {
			var failed *UpdateFailedError
			if !errors.As(err, &failed) {
				return nil, err
			}
		}
	}
	in := &lambda.UpdateFunctionCodeInput{FunctionName: aws.String(o.FunctionName), ImageUri: aws.String(uri)}
	if arch != curArch {
		in.Architectures = []ltypes.Architecture{ltypes.Architecture(arch)}
	}
	logf(o.Log, "updating function %s to image %s", o.FunctionName, uri)
	out, err := c.lambda.UpdateFunctionCode(ctx, in)
	if err != nil {
		return nil, c.callError(ctx, "lambda:UpdateFunctionCode", o.FunctionName, err)
	}
	res.Changed = true
	res.FunctionARN, res.Version, res.Status = aws.ToString(out.FunctionArn), aws.ToString(out.Version), string(out.LastUpdateStatus)
	if o.NoWait {
		return res, nil
	}
	fr := &FunctionResult{}
	err = c.waitUpdated(ctx, wo, fr)
	res.Status, res.StatusReason = fr.Status, fr.StatusReason
	return res, err
}
