// Package base finds the base image of a build and keeps it in lambdapack's
// cache, so a base is fetched once:
//
//	lambda            AWS's base for the runtime (public.ecr.aws/lambda/python:3.X),
//	                  the linux/amd64 or linux/arm64 image of its index
//	REF               any registry image (a tag or @sha256:...), e.g.
//	                  python:3.12-slim or a mirror of the Lambda base in ECR
//	oci-layout:DIR    an OCI layout on disk (the image for the platform)
//	tarball:FILE      a docker save / lambdapack --tarball file
//
// Registry bases are pulled through image/remote (ECR login, docker config)
// into one OCI layout in the cache (image/layout), keyed by reference and
// platform. A tag is resolved with one manifest request per build; when
// the registry cannot be reached (or Offline is set) the cached image for
// that tag is used and the build says so. A digest reference never asks the
// registry once cached.
//
// What image.Inspect learns of a base is cached too, by manifest digest.
package base
