// Package image builds AWS Lambda container images from the pipeline's
// sink-neutral tree (internal/tree), without a Docker daemon, the way ko
// builds Go images: a base image, plus layers lambdapack writes itself.
//
// The pieces, each usable alone:
//
//   - Inspect reads a base image's own files to learn what it runs: the
//     CPython version from its interpreter, libpython and sysconfigdata (never
//     by running it), the glibc version from its libc, the architecture from
//     the config, and whether it is an AWS Lambda base (its
//     /lambda-entrypoint.sh and LAMBDA_TASK_ROOT). Base.Target turns that
//     into the target the wheels are chosen for.
//   - WriteLayer writes files as one deterministic layer: a tar sorted by
//     path with every parent folder, uid/gid 0, modes 0644/0755, one mtime
//     (SOURCE_DATE_EPOCH, else 0), one gzip member. A wheel member already
//     deflated is not compressed again: its raw deflate data is spliced into
//     the gzip stream (zlib's gzjoin technique, splice.go), and only tar
//     headers, small and generated files and code are compressed, at a
//     fixed level; members are inflated in parallel for the diffID.
//     LayerCache keeps dependency layers by a key of their content, so a
//     rebuild reuses the compressed bytes instead of writing them again;
//     PrepareDeps writes a tree's dependency layer into it ahead of Build
//     (a cold build does it while its base is still being inspected).
//   - Build puts a tree on a base: the dependencies in one layer, the
//     function's code in another (so a code change never changes the
//     dependency layer's digest), one history entry each, the config Lambda
//     expects (WorkingDir /var/task, the base's Env plus the function's, the
//     handler as the only CMD element on a Lambda base; on any other base
//     the entrypoint python -m awslambdaric and PYTHONPATH=/var/task), and
//     the artifact record in the record.Label label.
//   - Sink is Build as a tree.Sink: the pipeline (app.WriteTree) verifies a
//     planned tree, then hands it to the sink, which builds the image in
//     memory (its dependency layer in the cache) for the caller to ship.
//   - CheckLambda holds an image to Lambda's rules for function images
//     (linux, one architecture, gzip or uncompressed layers, at most 10 GB
//     uncompressed, every file readable by others, exactly one CMD element
//     on a Lambda base).
//
// Sources and sinks live in subpackages, as in go-containerregistry:
// image/base finds and caches bases (a registry, "lambda", oci-layout:DIR,
// tarball:FILE), image/remote pushes (with ECR login through the AWS SDK),
// image/layout writes OCI layouts, image/tarball writes docker-load
// tarballs, and image/dockerfile reads the Dockerfile subset lambdapack
// builds without a container.
package image
