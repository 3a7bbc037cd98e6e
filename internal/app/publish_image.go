package app

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/lambdapack/lambdapack/internal/image/remote"
	"github.com/lambdapack/lambdapack/internal/publish"
	"github.com/lambdapack/lambdapack/internal/record"
)

// ResolveImage turns an image reference into REPOSITORY@DIGEST and the
// image's architecture (from its config, or its lambdapack record). A tag
// naming an index is an error: a Lambda function runs one image.
func ResolveImage(ro remote.Options) func(ctx context.Context, s string) (string, string, error) {
	return func(ctx context.Context, s string) (string, string, error) {
		ref, err := ro.ParseReference(s)
		if err != nil {
			return "", "", err
		}
		ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		d, err := remote.Get(ctx, ref, ro)
		if err != nil {
			return "", "", fmt.Errorf("--image %s: %w", s, err)
		}
		if d.MediaType.IsIndex() {
			return "", "", fmt.Errorf("--image %s is an image index: a Lambda function runs one single-architecture image; give the x86_64 or arm64 image (lambdapack image prints their digests)", s)
		}
		img, err := d.Image()
		if err != nil {
			return "", "", fmt.Errorf("--image %s: %w", s, err)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			return "", "", fmt.Errorf("--image %s: reading its config: %w", s, err)
		}
		arch := map[string]string{"amd64": "x86_64", "arm64": "arm64"}[cf.Architecture]
		if rec, err := record.Parse(cf.Config.Labels[record.Label]); err == nil && rec.Architecture != "" {
			arch = rec.Architecture
		}
		return ref.Context().Digest(d.Digest.String()).String(), arch, nil
	}
}

// PublishFunctionImage updates an image function's code and prints the
// result.
func PublishFunctionImage(ctx context.Context, out io.Writer, o publish.FunctionImageOptions, ro remote.Options, jsonOut bool) (*publish.FunctionImageResult, error) {
	if o.Resolve == nil {
		o.Resolve = ResolveImage(ro)
	}
	res, err := publish.FunctionImage(ctx, o)
	if err != nil {
		return res, err
	}
	if jsonOut {
		return res, WriteJSON(out, res)
	}
	verb := "updated to"
	if !res.Changed {
		verb = "already runs"
	}
	_, err = fmt.Fprintf(out, "%s %s %s (%s, %s)\n", res.FunctionARN, verb, res.ImageURI, res.Architecture, res.Status)
	return res, err
}
