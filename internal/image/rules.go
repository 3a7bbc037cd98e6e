package image

import (
	"fmt"
	"slices"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/lambdapack/lambdapack/internal/verify"
)

// MaxImageBytes is Lambda's limit on a function image's uncompressed size.
const MaxImageBytes = verify.ImageLimit

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

// Select returns the image of idx for platform p (linux/amd64 or
// linux/arm64), looking into nested indexes; attestation manifests
// (platform unknown/unknown) never match.
func Select(idx v1.ImageIndex, p v1.Platform) (v1.Image, v1.Descriptor, error) {
	holder, d, err := SelectDescriptor(idx, p)
	if err != nil {
		return nil, d, err
	}
	img, err := holder.Image(d.Digest)
	return img, d, err
}

// SelectDescriptor finds the descriptor Select would open, and the index
// (idx or one nested in it) that lists it, without reading the image's
// manifest unless the index does not say its platform.
func SelectDescriptor(idx v1.ImageIndex, p v1.Platform) (v1.ImageIndex, v1.Descriptor, error) {
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, v1.Descriptor{}, fmt.Errorf("reading the image index: %w", err)
	}
	var seen []string
	for _, d := range m.Manifests {
		switch {
		case d.MediaType.IsIndex():
			child, err := idx.ImageIndex(d.Digest)
			if err != nil {
				return nil, d, err
			}
			if h, cd, err := SelectDescriptor(child, p); err == nil {
				return h, cd, nil
			}
		case d.MediaType.IsImage():
			dp := d.Platform
			if dp == nil {
				img, err := idx.Image(d.Digest)
				if err != nil {
					return nil, d, err
				}
				cf, err := img.ConfigFile()
				if err != nil {
					return nil, d, err
				}
				dp = cf.Platform()
			}
			if dp == nil {
				continue
			}
			seen = append(seen, dp.OS+"/"+dp.Architecture)
			if dp.OS == p.OS && dp.Architecture == p.Architecture {
				return idx, d, nil
			}
		}
	}
	return nil, v1.Descriptor{}, fmt.Errorf("no %s/%s image in the index (it has %v)", p.OS, p.Architecture, seen)
}
