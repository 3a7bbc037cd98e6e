package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/lambdapack/lambdapack/internal/publish"
)

// PublishLayer publishes a layer zip (see publish.Layer), filling in
// lambdapack's version for the S3 metadata, and prints the result to out as
// text or JSON. Step lines go to o.Log.
func PublishLayer(ctx context.Context, out io.Writer, o publish.LayerOptions, jsonOut bool) (*publish.LayerResult, error) {
	if o.ToolVersion == "" {
		o.ToolVersion = CurrentVersion()
	}
	res, err := publish.Layer(ctx, o)
	if err != nil {
		return res, fmt.Errorf("publishing layer %s from %s: %w", o.Name, o.ZipPath, err)
	}
	return res, PrintLayerResult(out, res, jsonOut)
}

// PrintLayerResult prints what publishing a layer did: a short summary, or
// the result as indented JSON.
func PrintLayerResult(w io.Writer, r *publish.LayerResult, jsonOut bool) error {
	if jsonOut {
		return writeJSON(w, r)
	}
	var b strings.Builder
	if r.Changed {
		fmt.Fprintf(&b, "published layer version %d: %s\n", r.Version, r.LayerVersionARN)
	} else {
		fmt.Fprintf(&b, "up to date: layer version %d has the same code, runtimes and architectures; nothing published\n  %s\n", r.Version, r.LayerVersionARN)
	}
	fmt.Fprintf(&b, "  runtimes:      %s\n  architectures: %s\n", strings.Join(r.Runtimes, ", "), strings.Join(r.Architectures, ", "))
	fmt.Fprintf(&b, "  code sha256:   %s (%d bytes)\n", r.CodeSHA256, r.Size)
	if r.S3 != nil {
		how := "uploaded to"
		if !r.S3.Uploaded {
			how = "already in"
		}
		fmt.Fprintf(&b, "  %s s3://%s/%s\n", how, r.S3.Bucket, r.S3.Key)
	}
	for _, w := range r.Warnings {
		fmt.Fprintf(&b, "  warning: %s\n", w)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// PublishFunction updates a function's code from a zip (see
// publish.Function) and prints the result. When Lambda reports the update
// Failed, the result is printed and the *publish.UpdateFailedError returned.
func PublishFunction(ctx context.Context, out io.Writer, o publish.FunctionOptions, jsonOut bool) (*publish.FunctionResult, error) {
	if o.ToolVersion == "" {
		o.ToolVersion = CurrentVersion()
	}
	res, err := publish.Function(ctx, o)
	// A failed update still changed the code: say what was done.
	if res != nil && (err == nil || res.Changed) {
		if perr := PrintFunctionResult(out, res, jsonOut); err == nil {
			err = perr
		}
	}
	if err != nil {
		return res, fmt.Errorf("publishing %s to function %s: %w", o.ZipPath, o.FunctionName, err)
	}
	return res, nil
}

// PrintFunctionResult prints what a function code update did.
func PrintFunctionResult(w io.Writer, r *publish.FunctionResult, jsonOut bool) error {
	if jsonOut {
		return writeJSON(w, r)
	}
	var b strings.Builder
	if r.Changed {
		fmt.Fprintf(&b, "updated the code of %s\n", r.FunctionARN)
	} else {
		fmt.Fprintf(&b, "up to date: %s already runs this code; nothing updated\n", r.FunctionARN)
	}
	switch r.Status {
	case "Failed":
		fmt.Fprintf(&b, "  update status: Failed: %s\n", r.StatusReason)
	case "":
	default:
		fmt.Fprintf(&b, "  update status: %s\n", r.Status)
	}
	fmt.Fprintf(&b, "  code sha256:   %s (%d bytes)\n", r.CodeSHA256, r.Size)
	if r.Architecture != "" || r.Runtime != "" {
		fmt.Fprintf(&b, "  runtime:       %s on %s\n", r.Runtime, r.Architecture)
	}
	if r.S3 != nil {
		how := "uploaded to"
		if !r.S3.Uploaded {
			how = "already in"
		}
		fmt.Fprintf(&b, "  %s s3://%s/%s\n", how, r.S3.Bucket, r.S3.Key)
	}
	for _, w := range r.Warnings {
		fmt.Fprintf(&b, "  warning: %s\n", w)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
