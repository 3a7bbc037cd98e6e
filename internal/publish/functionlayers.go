package publish

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// FunctionLayersOptions set the layers of a function.
type FunctionLayersOptions struct {
	FunctionName string
	// Layers are layer version ARNs, in the order Lambda extracts them.
	Layers []string

	Timeout      time.Duration
	PollInterval time.Duration
	AWS          AWSOptions
	Log          io.Writer
}

// FunctionLayersResult is what FunctionLayers did.
type FunctionLayersResult struct {
	FunctionARN string   `json:"function_arn"`
	Changed     bool     `json:"changed"`
	Layers      []string `json:"layers"`
	// Previous are the layers the function had, when they changed.
	Previous     []string `json:"previous,omitempty"`
	Status       string   `json:"status"`
	StatusReason string   `json:"status_reason,omitempty"`
}

// FunctionLayers makes a function's layers exactly o.Layers
// (UpdateFunctionConfiguration) and waits until Lambda reports the update
// Successful or Failed. A function that already has them, in that order,
// is left as it is.
func FunctionLayers(ctx context.Context, o FunctionLayersOptions) (*FunctionLayersResult, error) {
	if _, err := functionShortName(o.FunctionName); err != nil {
		return nil, err
	}
	c, err := newClients(ctx, o.AWS)
	if err != nil {
		return nil, err
	}
	cur, err := c.lambda.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(o.FunctionName)})
	if err != nil {
		if isNotFound(err) {
			return nil, fmt.Errorf("function %s does not exist in region %s: deploy it first, or check its name and the region", o.FunctionName, c.cfg.Region)
		}
		return nil, c.callError(ctx, "lambda:GetFunctionConfiguration", o.FunctionName, err)
	}
	if cur.PackageType == ltypes.PackageTypeImage {
		return nil, fmt.Errorf("function %s runs a container image, which takes no layers: put the layers' files in the image", o.FunctionName)
	}
	res := &FunctionLayersResult{FunctionARN: aws.ToString(cur.FunctionArn), Layers: o.Layers}
	var have []string
	for _, l := range cur.Layers {
		have = append(have, aws.ToString(l.Arn))
	}
	if slices.Equal(have, o.Layers) {
		res.Status = string(cur.LastUpdateStatus)
		logf(o.Log, "function %s already has these layers: nothing updated", o.FunctionName)
		return res, nil
	}
	wo := FunctionOptions{FunctionName: o.FunctionName, Timeout: o.Timeout, PollInterval: o.PollInterval, Log: o.Log}
	if cur.LastUpdateStatus == ltypes.LastUpdateStatusInProgress {
		logf(o.Log, "function %s is being updated: waiting for that first", o.FunctionName)
		if err := c.waitUpdated(ctx, wo, &FunctionResult{}); err != nil {
			var failed *UpdateFailedError
			if !errors.As(err, &failed) {
				return nil, err
			}
		}
	}
	logf(o.Log, "setting the layers of function %s", o.FunctionName)
	layers := o.Layers
	if layers == nil {
		layers = []string{} // none: sent as an empty list, which removes them
	}
	if _, err := c.lambda.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String(o.FunctionName), Layers: layers}); err != nil {
		return nil, c.callError(ctx, "lambda:UpdateFunctionConfiguration", o.FunctionName, err)
	}
	res.Changed, res.Previous = true, have
	fr := &FunctionResult{}
	err = c.waitUpdated(ctx, wo, fr)
	res.Status, res.StatusReason = fr.Status, fr.StatusReason
	return res, err
}

// FunctionsExist checks that each function (by name or ARN) exists, before
// anything is published for them; the error lists every one missing.
func FunctionsExist(ctx context.Context, o AWSOptions, names []string) error {
	if len(names) == 0 {
		return nil
	}
	c, err := newClients(ctx, o)
	if err != nil {
		return err
	}
	var missing []string
	for _, n := range names {
		_, err := c.lambda.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(n)})
		switch {
		case isNotFound(err):
			missing = append(missing, n)
		case err != nil:
			return c.callError(ctx, "lambda:GetFunctionConfiguration", n, err)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("no function %s in region %s: deploy the project first (the deploy tool creates them), or check the names and the region", strings.Join(missing, ", "), c.cfg.Region)
	}
	return nil
}
