package image

import (
	"fmt"
	"slices"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/lambdapack/lambdapack/internal/verify"
)

// MaxImageBytes is Lambda's limit on a function image's uncompressed size.
const MaxImageBytes = 10 << 30

// RuleImage names the findings of CheckLambda.
const RuleImage = "image"

// CheckLambda holds a built image to Lambda's rules for function images:
// linux on one of Lambda's architectures, a single-platform image manifest
// (never an index), gzip or uncompressed layers of distributable media
// types, at most MaxImageBytes uncompressed, every file readable by others
// (Lambda runs the function as a non-root user), an entrypoint, and on a
// Lambda base exactly one CMD element (the handler).
func CheckLambda(r *Result, base *Base) []verify.Finding {
	var out []verify.Finding
	add := func(sev verify.Severity, msg, fix string) {
		out = append(out, verify.Finding{Severity: sev, Rule: RuleImage, Message: msg, Fix: fix})
	}
	img := r.Image
	cf, err := img.ConfigFile()
	if err != nil {
		add(verify.Error, fmt.Sprintf("the image config cannot be read: %v", err), "rebuild the image")
		return out
	}
	if cf.OS != "linux" {
		add(verify.Error, fmt.Sprintf("the image is for %q: Lambda runs linux images", cf.OS), "use a linux base image")
	}
	if !slices.Contains([]string{"amd64", "arm64"}, cf.Architecture) {
		add(verify.Error, fmt.Sprintf("the image is for %q: Lambda runs amd64 (x86_64) and arm64", cf.Architecture), "pick the base's linux/amd64 or linux/arm64 image")
	}
	mt, err := img.MediaType()
	if err == nil && mt != types.DockerManifestSchema2 && mt != types.OCIManifestSchema1 {
		add(verify.Error, fmt.Sprintf("the image's manifest is a %s: Lambda takes one single-platform image manifest per function", mt), "push one image per architecture")
	}
	m, err := img.Manifest()
	if err != nil {
		add(verify.Error, fmt.Sprintf("the image manifest cannot be read: %v", err), "rebuild the image")
		return out
	}
	for i, l := range m.Layers {
		switch l.MediaType {
		case types.DockerLayer, types.OCILayer, types.OCIUncompressedLayer, types.DockerUncompressedLayer:
		default:
			add(verify.Error, fmt.Sprintf("layer %d (%s) has media type %s: Lambda takes gzip or uncompressed tar layers", i+1, l.Digest, l.MediaType),
				"rebuild the base without zstd or foreign layers")
		}
	}
	if r.TarSize > MaxImageBytes {
		add(verify.Error, fmt.Sprintf("the image is %d bytes uncompressed, over Lambda's %d (10 GB)", r.TarSize, int64(MaxImageBytes)),
			"leave packages out (--exclude-package, --slim) or use a smaller base")
	}
	if base != nil && base.Info.Unreadable > 0 {
		add(verify.Warning, fmt.Sprintf("%d files of the base are not readable by others (%v): Lambda runs the function as a non-root user, which cannot read them",
			base.Info.Unreadable, base.Info.UnreadableExamples), "if the function needs them, make them world-readable in the base")
	}
	c := cf.Config
	if len(c.Entrypoint) == 0 && len(c.Cmd) == 0 {
		add(verify.Error, "the image has neither ENTRYPOINT nor CMD: Lambda has nothing to start", "set the entrypoint (python -m awslambdaric) and the handler as CMD")
	}
	if base != nil && base.Info.Lambda {
		if len(c.Cmd) != 1 {
			add(verify.Error, fmt.Sprintf("on a Lambda base the CMD must be exactly the handler, one element; it is %q", c.Cmd),
				`set CMD ["module.function"]`)
		}
		if !slices.Equal(c.Entrypoint, []string{LambdaEntrypoint}) {
			add(verify.Warning, fmt.Sprintf("the entrypoint %q replaces the Lambda base's %s", c.Entrypoint, LambdaEntrypoint), "keep the base's entrypoint unless you start the runtime client yourself")
		}
	}
	return out
}

// Platform names a target architecture as an image index does.
func Platform(arch string) v1.Platform {
	if arch == "arm64" || arch == "aarch64" {
		return v1.Platform{OS: "linux", Architecture: "arm64"}
	}
	return v1.Platform{OS: "linux", Architecture: "amd64"}
}
