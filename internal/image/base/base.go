package base

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/lambdapack/lambdapack/internal/atomicfile"
	"github.com/lambdapack/lambdapack/internal/cache"
	"github.com/lambdapack/lambdapack/internal/image"
	"github.com/lambdapack/lambdapack/internal/image/layout"
	"github.com/lambdapack/lambdapack/internal/image/remote"
	"github.com/lambdapack/lambdapack/internal/target"
)

// Lambda is the base spec for AWS's Lambda base images.
const Lambda = "lambda"

// LambdaRepository is the repository of AWS's Lambda Python base images.
const LambdaRepository = "public.ecr.aws/lambda/python"

// LambdaRef is the reference of AWS's base for a runtime ("python3.12").
func LambdaRef(runtime string) (string, error) {
	r, err := target.LookupRuntime(runtime)
	if err != nil {
		return "", err
	}
	return LambdaRepository + ":" + r.Python, nil
}

// Prefixes of the local sources.
const (
	OCILayoutPrefix = "oci-layout:"
	TarballPrefix   = "tarball:"
)

// Options tune Fetch.
type Options struct {
	// CacheDir is the image cache (an OCI layout); "" fetches without
	// keeping anything.
	CacheDir string
	// Offline uses the cache only.
	Offline bool
	// Remote is how to reach registries.
	Remote remote.Options
	// Log hears what Fetch did ("pulled", "cached", "offline").
	Log *slog.Logger
	// ResolveTimeout bounds resolving a tag (default 30 s).
	ResolveTimeout time.Duration
	// Mirrors redirect pulls from a repository (or every repository under
	// a prefix) to another that serves the same images: an air-gapped
	// registry, a pull-through cache (LAMBDAPACK_REGISTRY_MIRROR). The
	// base keeps its own name in the cache and the image's annotations.
	Mirrors []Mirror
}

// Mirror serves the images of the repositories under From from To
// ("public.ecr.aws/lambda" -> "registry.internal/ecr-public/lambda").
type Mirror struct{ From, To string }

// MirrorEnv is the environment variable ParseMirrors reads.
const MirrorEnv = "LAMBDAPACK_REGISTRY_MIRROR"

// ParseMirrors reads FROM=TO[,FROM=TO...], each a registry, a repository or
// a prefix of repositories ("public.ecr.aws/lambda=registry.internal/mirror/lambda",
// "public.ecr.aws=127.0.0.1:5000").
func ParseMirrors(s string) ([]Mirror, error) {
	var out []Mirror
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		from, to, ok := strings.Cut(part, "=")
		from, to = strings.Trim(strings.TrimSpace(from), "/"), strings.Trim(strings.TrimSpace(to), "/")
		_, errFrom := mirrorPrefix(from)
		_, errTo := mirrorPrefix(to)
		if !ok || errFrom != nil || errTo != nil {
			return nil, fmt.Errorf("%s: %q is not FROM=TO, two registries, repositories or prefixes of them (e.g. public.ecr.aws/lambda=registry.internal/mirror/lambda)", MirrorEnv, part)
		}
		out = append(out, Mirror{From: from, To: to})
	}
	return out, nil
}

// mirrorPrefix reads one side of a mirror: a registry alone
// ("public.ecr.aws", "127.0.0.1:5000", "localhost": every repository it
// serves) or a repository or prefix of repositories, written as a parsed
// reference writes it (docker.io is index.docker.io, python is
// index.docker.io/library/python).
func mirrorPrefix(s string) (string, error) {
	if !strings.Contains(s, "/") && (strings.ContainsAny(s, ".:") || s == "localhost") {
		r, err := name.NewRegistry(s, name.WeakValidation)
		if err != nil {
			return "", err
		}
		return r.Name(), nil
	}
	r, err := name.NewRepository(s, name.WeakValidation)
	if err != nil {
		return "", err
	}
	return r.Name(), nil
}

// mirrored returns where ref is pulled from: a mirror's repository when one
// serves it.
func (o Options) mirrored(ref name.Reference) (name.Reference, bool, error) {
	repo := ref.Context().Name()
	for _, m := range o.Mirrors {
		from := m.From
		if p, err := mirrorPrefix(m.From); err == nil {
			from = p // as a parsed reference writes it (index.docker.io/library/...)
		}
		if repo != from && !strings.HasPrefix(repo, from+"/") {
			continue
		}
		sep := ":"
		if _, ok := ref.(name.Digest); ok {
			sep = "@"
		}
		to, err := o.Remote.ParseReference(m.To + strings.TrimPrefix(repo, from) + sep + ref.Identifier())
		if err != nil {
			return nil, false, fmt.Errorf("%s: mirror %s=%s: %w", MirrorEnv, m.From, m.To, err)
		}
		return to, true, nil
	}
	return ref, false, nil
}

func (o Options) logf(format string, args ...any) {
	if o.Log != nil {
		o.Log.Info(fmt.Sprintf(format, args...))
	}
}

// cacheKey is the annotation a cached base's index.json entry carries.
const cacheKey = "dev.lambdapack.base"

// Fetch returns the base spec names for arch, inspected. runtime names the
// Lambda runtime for spec "lambda" (and, for any base, must match its
// Python when given).
func Fetch(ctx context.Context, spec string, arch target.Arch, runtime string, o Options) (*image.Base, error) {
	if spec == "" {
		spec = Lambda
	}
	p := image.Platform(string(arch))
	var b *image.Base
	var err error
	switch {
	case spec == Lambda:
		if runtime == "" {
			return nil, errors.New("--base lambda needs the runtime: pass --runtime python3.X")
		}
		ref, err := LambdaRef(runtime)
		if err != nil {
			return nil, err
		}
		b, err = fromRegistry(ctx, ref, p, o)
		if err != nil {
			return nil, err
		}
	case strings.HasPrefix(spec, OCILayoutPrefix):
		b, err = fromLayout(strings.TrimPrefix(spec, OCILayoutPrefix), p)
	case strings.HasPrefix(spec, TarballPrefix):
		b, err = fromTarball(strings.TrimPrefix(spec, TarballPrefix), p)
	default:
		b, err = fromRegistry(ctx, spec, p, o)
	}
	if err != nil {
		return nil, err
	}
	b.Ref = spec
	if spec == Lambda {
		b.Ref, _ = LambdaRef(runtime)
	}
	if b.Info, err = inspect(ctx, b, o); err != nil {
		return nil, fmt.Errorf("base %s: %w", b.Ref, err)
	}
	if b.Info.Architecture != arch {
		return nil, fmt.Errorf("base %s is a %s image, not %s: give a base with a linux/%s image", b.Ref, b.Info.Architecture, arch, p.Architecture)
	}
	if spec == Lambda && !b.Info.Lambda {
		return nil, fmt.Errorf("base %s does not look like a Lambda base (no %s entrypoint)", b.Ref, image.LambdaEntrypoint)
	}
	return b, nil
}

// inspect runs image.Inspect, or reads what it found before from the cache.
func inspect(ctx context.Context, b *image.Base, o Options) (*image.Info, error) {
	var path string
	if o.CacheDir != "" {
		path = filepath.Join(o.CacheDir, "inspect", b.Digest.Hex+".json")
		if raw, err := os.ReadFile(path); err == nil {
			var info image.Info
			if json.Unmarshal(raw, &info) == nil && info.Python != "" {
				return &info, nil
			}
		}
	}
	info, err := image.Inspect(ctx, b.Image)
	if err != nil {
		return nil, err
	}
	if path != "" {
		if raw, err := json.Marshal(info); err == nil {
			if os.MkdirAll(filepath.Dir(path), 0o755) == nil {
				_ = atomicfile.WriteFile(path, raw, 0o644) // a hint: inspected again if lost
			}
		}
	}
	return info, nil
}

func fromLayout(dir string, p v1.Platform) (*image.Base, error) {
	if dir == "" {
		return nil, errors.New("oci-layout: needs a folder: --base oci-layout:DIR")
	}
	idx, err := layout.Read(dir)
	if err != nil {
		return nil, err
	}
	img, d, err := image.Select(idx, p)
	if err != nil {
		return nil, fmt.Errorf("base oci-layout:%s: %w", dir, err)
	}
	return &image.Base{Image: img, Digest: d.Digest}, nil
}

func fromTarball(file string, p v1.Platform) (*image.Base, error) {
	if file == "" {
		return nil, errors.New("tarball: needs a file: --base tarball:FILE")
	}
	if _, err := os.Stat(file); err != nil {
		return nil, fmt.Errorf("base tarball:%s: %w", file, err)
	}
	m, err := tarball.LoadManifest(func() (io.ReadCloser, error) { return os.Open(file) })
	if err != nil {
		return nil, fmt.Errorf("base tarball:%s is not a docker save tarball: %w", file, err)
	}
	var seen []string
	for _, d := range m {
		var tag *name.Tag
		if len(d.RepoTags) > 0 {
			if t, err := name.NewTag(d.RepoTags[0]); err == nil {
				tag = &t
			}
		}
		img, err := tarball.Image(func() (io.ReadCloser, error) { return os.Open(file) }, tag)
		if err != nil {
			return nil, fmt.Errorf("base tarball:%s: %w", file, err)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			return nil, fmt.Errorf("base tarball:%s: %w", file, err)
		}
		seen = append(seen, cf.OS+"/"+cf.Architecture)
		if cf.OS == p.OS && cf.Architecture == p.Architecture {
			h, err := img.Digest()
			if err != nil {
				return nil, err
			}
			return &image.Base{Image: img, Digest: h}, nil
		}
		if tag == nil && len(m) > 1 {
			break
		}
	}
	return nil, fmt.Errorf("base tarball:%s has no %s/%s image (it has %v)", file, p.OS, p.Architecture, seen)
}

// fromRegistry resolves ref for platform p, from the cache when it holds
// the image, else from the registry into the cache.
func fromRegistry(ctx context.Context, spec string, p v1.Platform, o Options) (*image.Base, error) {
	ref, err := o.Remote.ParseReference(spec)
	if err != nil {
		return nil, err
	}
	key := ref.Name() + " " + p.OS + "/" + p.Architecture
	pull, isMirror, err := o.mirrored(ref)
	if err != nil {
		return nil, err
	}
	if isMirror {
		o.logf("Base %s is pulled from the mirror %s", spec, pull)
	}
	cached := func() (*image.Base, bool) {
		if o.CacheDir == "" {
			return nil, false
		}
		d, ok := layout.Find(o.CacheDir, cacheKey, key)
		if dg, isDigest := ref.(name.Digest); !ok && isDigest {
			// An image's own digest names it on every platform.
			d.Digest, _ = v1.NewHash(dg.DigestStr())
			ok = d.Digest.Hex != ""
		}
		if !ok || !layout.Has(o.CacheDir, d.Digest) {
			return nil, false
		}
		img, err := layout.Image(o.CacheDir, d.Digest)
		if err != nil {
			return nil, false
		}
		markUsed(o.CacheDir, d.Digest)
		return &image.Base{Image: img, Digest: d.Digest, Remote: true}, true
	}
	_, isDigest := ref.(name.Digest)
	if isDigest || o.Offline {
		if b, ok := cached(); ok {
			return b, nil
		}
		if o.Offline {
			return nil, fmt.Errorf("base %s (%s/%s) is not in the cache and --offline is set: build once online, or use --base oci-layout:DIR", spec, p.OS, p.Architecture)
		}
	}
	timeout := o.ResolveTimeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	desc, err := remote.Get(rctx, pull, o.Remote)
	if err != nil {
		if b, ok := cached(); ok {
			o.logf("warning: base %s: the registry did not answer (%v); using the cached image %s", spec, err, b.Digest)
			return b, nil
		}
		return nil, fmt.Errorf("base %s: %w", spec, err)
	}
	digest := desc.Digest
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return nil, fmt.Errorf("base %s: %w", spec, err)
		}
		_, d, err := image.SelectDescriptor(idx, p)
		if err != nil {
			return nil, fmt.Errorf("base %s: %w", spec, err)
		}
		digest = d.Digest
	} else if !desc.MediaType.IsImage() {
		return nil, fmt.Errorf("base %s is a %s, not an image", spec, desc.MediaType)
	}
	// The image for this digest may be cached under another tag.
	if o.CacheDir != "" && layout.Has(o.CacheDir, digest) {
		img, err := layout.Image(o.CacheDir, digest)
		if err == nil {
			markUsed(o.CacheDir, digest)
			if _, err := layout.Write(ctx, o.CacheDir, []layout.Item{{Image: img, Annotations: map[string]string{cacheKey: key}}}, layout.Options{ReplaceBy: cacheKey}); err != nil {
				return nil, fmt.Errorf("caching base %s: %w", spec, err)
			}
			return &image.Base{Image: img, Digest: digest, Remote: true}, nil
		}
	}
	img, err := remote.Image(ctx, pull.Context().Digest(digest.String()), o.Remote)
	if err != nil {
		return nil, fmt.Errorf("base %s: %w", spec, err)
	}
	if o.CacheDir == "" {
		return &image.Base{Image: img, Digest: digest, Remote: true}, nil
	}
	start := time.Now()
	if _, err := layout.Write(ctx, o.CacheDir, []layout.Item{{Image: img, Annotations: map[string]string{cacheKey: key}}}, layout.Options{ReplaceBy: cacheKey}); err != nil {
		return nil, fmt.Errorf("pulling base %s into the cache: %w", spec, err)
	}
	o.logf("Pulled base %s (%s/%s, %s) in %s", spec, p.OS, p.Architecture, digest, time.Since(start).Round(time.Millisecond))
	img, err = layout.Image(o.CacheDir, digest)
	if err != nil {
		return nil, fmt.Errorf("reading base %s from the cache: %w", spec, err)
	}
	return &image.Base{Image: img, Digest: digest, Remote: true}, nil
}

// markUsed records a use of the cached base with manifest digest h, which
// lambdapack cache prune goes by (it keeps or removes a base whole).
func markUsed(dir string, h v1.Hash) {
	cache.MarkUsed(filepath.Join(dir, "blobs", h.Algorithm, h.Hex))
}
