// Package publish ships lambdapack's artifacts to AWS: a layer zip becomes a
// Lambda layer version (PublishLayerVersion, through S3 or directly), and a
// function zip becomes a function's code (UpdateFunctionCode, then a wait
// until Lambda reports the update Successful or Failed).
//
// # Idempotence
//
// Layer lists the layer's versions and reads the newest. When its CodeSha256
// (the standard base64 of the zip's sha256) and its compatible runtimes and
// architectures (and description and license, when given) equal the zip's,
// nothing is uploaded or published and the existing version is returned with
// Changed false. Function does the same against the function's current
// CodeSha256 and architecture. S3 keys are named by content,
// <prefix>/<name>/<sha256 hex>.zip, and an object already there with the
// same sha256 metadata is not sent again.
//
// # AWS access
//
// Configuration comes from the SDK's default chain (config.LoadDefaultConfig):
// environment variables, shared config and credentials files (profiles, SSO),
// container and instance roles; the region from AWS_REGION /
// AWS_DEFAULT_REGION / the profile; endpoints from AWS_ENDPOINT_URL and the
// per-service AWS_ENDPOINT_URL_S3 and AWS_ENDPOINT_URL_LAMBDA. With a custom
// S3 endpoint, buckets are addressed by path. AWSOptions overrides region and
// profile. Secrets are never printed: errors carry AWS's codes, the action
// (s3:PutObject, lambda:PublishLayerVersion...) and the principal's ARN.
//
// # The zip's record of its target
//
// An artifact built by lambdapack carries what it was built for in its zip
// ARCHIVE COMMENT (a file would be extracted into /opt or /var/task), written
// and read by internal/record:
//
//	lambdapack: {"kind":"layer","runtime":"python3.12","runtimes":["python3.13"],
//	             "architecture":"arm64","architectures":["x86_64","arm64"],"python":"3.12",
//	             "requirements_sha256":"<hex>","version":"v1.2.3"}
//
// Every field is optional. The compatible runtimes are runtime plus runtimes;
// the compatible architectures are architecture plus architectures (a layer
// with no native code lists both). requirements_sha256 is the hex sha256 of
// the resolved requirements (the lock) and goes into the S3 object's
// metadata; version is lambdapack's. When a report from `lambdapack layer
// --json` is given instead (LayerOptions.ReportPath), its artifact entry with the zip's sha256 (else its file name)
// supplies runtime, architecture and pure (pure means both architectures).
//
// # What is refused
//
// Lambda accepts any zip as a layer or as a function's code, and the
// mistake shows only when the function fails at import. So before anything
// is uploaded:
//
//   - the kind: Layer takes only a layer and Function only a function's
//     code. The record's kind decides; a zip without one (or with a record
//     from before records carried a kind) is judged by its layout
//     (record.InferKind: python/ and no code at the root is a layer, code
//     at the root and no python/ a function, anything else unknown and let
//     through);
//   - the target: Layer refuses compatible architectures the record does not
//     name, and (unless the artifact is pure) runtimes; Function reads the
//     function's configuration and refuses a zip whose record names another
//     architecture than the one the function will run it on (--arch, else
//     its own), or, unless it is pure, another runtime than the function's
//     (a pure zip on another Python is a warning).
//
// Force (--force) turns each refusal into a warning in the result.
//
// # Publishing from other commands
//
// `lambdapack layer --publish` and `lambdapack build --publish` call Layer
// after writing the zip, passing what they know so nothing is guessed:
//
//	res, err := publish.Layer(ctx, publish.LayerOptions{
//		ZipPath:            out,              // the zip just written
//		Name:               layerName,        // --layer-name, or derived
//		Bucket:             bucket,           // optional: S3 staging
//		KeyPrefix:          prefix,           // optional
//		Runtimes:           []string{t.Runtime},
//		Architectures:      archs,            // both when every wheel is pure
//		RequirementsSHA256: lockHash,
//		ToolVersion:        app.CurrentVersion(),
//		Log:                stderr,           // step lines; nil for none
//	})
//	// res.LayerVersionARN, res.Version, res.Changed, res.S3
//
// app.PrintLayerResult prints a LayerResult the way `publish layer` does
// (text or JSON).
package publish
