// Package project reads a whole Lambda project's description into one model:
// functions and layers, each with its own runtime and architecture, from
// lambdapack's own config ([tool.lambdapack] in pyproject.toml or
// lambdapack.toml), a Serverless Framework serverless.yml, or an AWS SAM
// template.
//
// Load finds the config in this order: [tool.lambdapack] in pyproject.toml,
// lambdapack.toml, serverless.yml / serverless.yaml, template.yaml /
// template.yml. Every importer fills the same Config, and every function's
// own runtime and architecture decide its target: a provider- or
// Globals-level value is only a default (the sam/build-undefined failure of
// serverless-python-requirements came from taking the runtime from the wrong
// level).
//
// A function is a zip, or a container image when Function.Image is set
// (SAM PackageType Image, a Serverless image, package = "image"): the
// model says how the image is built (a Dockerfile and its context, or a
// base for the function's own code and dependencies) for lambdapack image.
//
// Each function also says how Lambda runs it (run.go): its Timeout,
// MemorySize and EphemeralStorage with the deploy tool's defaults, its API
// Gateway events as Routes and its function URL, which lambdapack invoke and
// serve use; this package is the one reader of the config for them too.
//
// Mistakes in a config are *Error values that name the file and line and say
// what to write instead. The package does no network I/O; it reads the
// config and checks that the files it names exist.
package project
