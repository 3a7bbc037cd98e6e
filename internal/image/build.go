package image

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/lambdapack/lambdapack/internal/record"
	"github.com/lambdapack/lambdapack/internal/tree"
)

// Base is a base image and what Inspect learnt of it.
type Base struct {
	Image v1.Image
	Info  *Info
	// Ref names the base as the user gave it ("public.ecr.aws/lambda/python:3.12",
	// "oci-layout:./base"); Digest is its manifest's digest.
	Ref    string
	Digest v1.Hash
	// Remote says Ref names a registry image: only then does the built
	// image carry it in the OCI base-image annotations (a local path
	// would make digests depend on where the base sits).
	Remote bool
}

// BuildOptions tune Build.
type BuildOptions struct {
	// Handler is the function's handler ("app.handler"): the image's CMD.
	Handler string
	// Env holds the function's own KEY=VALUE variables, set over the
	// base's.
	Env []string
	// Root is the image folder the tree's paths are relative to; ""
	// means TaskRoot. Dockerfile builds use "/" with absolute trees.
	Root string
	// WorkingDir overrides TaskRoot as the working directory.
	WorkingDir string
	// Entrypoint and Cmd, when not nil, replace what Build would set
	// (a Dockerfile's ENTRYPOINT and CMD).
	Entrypoint, Cmd []string
	// Labels are added to the config's labels.
	Labels map[string]string
	// Verbatim keeps the base's entrypoint and environment as they are
	// (a Dockerfile build says itself what runs); otherwise a base that
	// is not Lambda's gets python -m awslambdaric and PYTHONPATH.
	Verbatim bool
	// Epoch stamps the layers, history and config; zero means Epoch().
	Epoch time.Time
	// Cache keeps the dependency layer by its content; nil writes it anew.
	Cache *LayerCache
}

// Result is a built image.
type Result struct {
	Image  v1.Image
	Digest v1.Hash
	// Platform is the image's os/architecture as an index names it.
	Platform v1.Platform
	// Deps and Code are the layers lambdapack added (zero when a role had
	// no files); DepsReused says the dependency layer came from the cache.
	Deps, Code LayerInfo
	DepsReused bool
	// Checked: every tree.File of the tree that was Unchecked went into a
	// layer written now, which hashed it and found it as its RECORD says
	// (a layer from the cache was checked when it was written).
	Checked bool
	// Size is the compressed size of the whole image (its layers);
	// TarSize the uncompressed size (the base's filesystem plus ours).
	Size, TarSize int64
	// Record is the record stored in the record.Label label.
	Record record.Record
}

// codeInMemory bounds the code layer kept in memory; a larger one goes
// through the cache.
const codeInMemory = 64 << 20

// Build puts t on base: its RoleDeps files in one layer, its RoleCode files
// in another, each with one history entry, and the config a Lambda function
// image needs. It writes nothing but (with o.Cache) the dependency layer
// into the cache.
func Build(ctx context.Context, base *Base, t *tree.Tree, o BuildOptions) (*Result, error) {
	if base == nil || base.Image == nil || base.Info == nil {
		return nil, errors.New("building an image: no base image")
	}
	if o.Handler == "" && o.Cmd == nil {
		return nil, errors.New("building an image: no handler: pass --handler module.function (the CMD Lambda runs)")
	}
	lo, root, err := layerOptions(o)
	if err != nil {
		return nil, err
	}
	epoch := lo.Epoch
	baseImg, err := asOCI(base.Image)
	if err != nil {
		return nil, fmt.Errorf("the base image %s: %w", base.Ref, err)
	}
	deps := t.Select(func(f *tree.File) bool { return f.Role == tree.RoleDeps })
	code := t.Select(func(f *tree.File) bool { return f.Role == tree.RoleCode })

	res := &Result{Checked: true}
	var adds []mutate.Addendum
	if len(deps) > 0 {
		var l v1.Layer
		if o.Cache != nil {
			l, res.Deps, res.DepsReused, err = o.Cache.Layer(ctx, deps, lo)
			res.Checked = !res.DepsReused || !slices.ContainsFunc(deps, func(f *tree.File) bool { return f.Unchecked })
		} else {
			var buf bytes.Buffer
			res.Deps, err = WriteLayer(ctx, &buf, deps, lo)
			l = BytesLayer(res.Deps, buf.Bytes())
		}
		if err != nil {
			return nil, fmt.Errorf("writing the dependency layer: %w", err)
		}
		adds = append(adds, mutate.Addendum{Layer: l, History: v1.History{
			Created:   v1.Time{Time: epoch},
			CreatedBy: fmt.Sprintf("lambdapack: dependencies (%s in %s)", plural(len(distNames(deps)), "package"), root),
			Comment:   "lambdapack",
		}})
	}
	if len(code) > 0 {
		var l v1.Layer
		var size int64
		for _, f := range code {
			size += f.Size
		}
		if o.Cache != nil && size > codeInMemory {
			var reused bool
			l, res.Code, reused, err = o.Cache.Layer(ctx, code, lo)
			if reused && slices.ContainsFunc(code, func(f *tree.File) bool { return f.Unchecked }) {
				res.Checked = false
			}
		} else {
			var buf bytes.Buffer
			res.Code, err = WriteLayer(ctx, &buf, code, lo)
			l = BytesLayer(res.Code, buf.Bytes())
		}
		if err != nil {
			return nil, fmt.Errorf("writing the code layer: %w", err)
		}
		adds = append(adds, mutate.Addendum{Layer: l, History: v1.History{
			Created:   v1.Time{Time: epoch},
			CreatedBy: fmt.Sprintf("lambdapack: function code (%s in %s)", plural(len(code), "file"), root),
			Comment:   "lambdapack",
		}})
	}

	cf, err := base.Image.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading the base image's config: %w", err)
	}
	cf = cf.DeepCopy()
	cf.Created = v1.Time{Time: epoch}
	cf.Container = ""
	//lint:ignore SA1019 the base's docker_version must not describe an image no docker built
	cf.DockerVersion = ""
	rec := t.Record
	rec.Kind = record.KindImage
	rec.Architecture = string(base.Info.Architecture)
	rec.Architectures = nil
	if rec.Python == "" {
		rec.Python = base.Info.PythonMinor()
	}
	if o.Handler != "" {
		rec.Handler = o.Handler
	} else if base.Info.Lambda && len(o.Cmd) == 1 {
		rec.Handler = o.Cmd[0]
	}
	if err := configure(&cf.Config, base.Info, o, rec); err != nil {
		return nil, err
	}
	img, err := mutate.ConfigFile(baseImg, cf)
	if err != nil {
		return nil, err
	}
	if img, err = mutate.Append(img, adds...); err != nil {
		return nil, err
	}
	if base.Remote && base.Digest.Hex != "" {
		img = mutate.Annotations(img, map[string]string{
			"org.opencontainers.image.base.name":   base.Ref,
			"org.opencontainers.image.base.digest": base.Digest.String(),
		}).(v1.Image)
	}
	if res.Digest, err = img.Digest(); err != nil {
		return nil, fmt.Errorf("computing the image's digest: %w", err)
	}
	res.Image, res.Record = img, rec
	res.Platform = v1.Platform{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant}
	m, err := img.Manifest()
	if err != nil {
		return nil, err
	}
	for _, l := range m.Layers {
		res.Size += l.Size
	}
	res.TarSize = base.Info.Size + res.Deps.Bytes + res.Code.Bytes
	return res, nil
}

// layerOptions are how Build lays out the layers of o: under o.Root (the
// folder, TaskRoot when ""), stamped o.Epoch (else Epoch()), OCI layers.
func layerOptions(o BuildOptions) (LayerOptions, string, error) {
	epoch := o.Epoch
	if epoch.IsZero() {
		var err error
		if epoch, err = Epoch(); err != nil {
			return LayerOptions{}, "", err
		}
	}
	root := o.Root
	if root == "" {
		root = TaskRoot
	}
	lo := LayerOptions{Root: strings.TrimPrefix(path.Clean(root), "/"), Epoch: epoch, MediaType: types.OCILayer}
	if lo.Root == "." {
		lo.Root = ""
	}
	return lo, root, nil
}

// PrepareDeps writes t's dependency layer into o.Cache as Build on any
// base would (or finds it there), so that a build can write it while its
// base is still being pulled or inspected: Build with the same options
// then takes it from o.Cache (as written in this run: its files were
// checked against their RECORDs as it was written). It does nothing
// without o.Cache or dependencies.
func PrepareDeps(ctx context.Context, t *tree.Tree, o BuildOptions) error {
	if o.Cache == nil {
		return nil
	}
	deps := t.Select(func(f *tree.File) bool { return f.Role == tree.RoleDeps })
	if len(deps) == 0 {
		return nil
	}
	lo, _, err := layerOptions(o)
	if err != nil {
		return err
	}
	return o.Cache.Prepare(ctx, deps, lo)
}

// configure sets what Lambda runs: the working directory, the environment,
// the entrypoint and the handler, and the record label.
func configure(c *v1.Config, info *Info, o BuildOptions, rec record.Record) error {
	c.WorkingDir = TaskRoot
	if o.WorkingDir != "" {
		c.WorkingDir = o.WorkingDir
	}
	env := c.Env
	if !info.Lambda && !o.Verbatim {
		// Another base runs awslambdaric, installed with the dependencies
		// in the task root; Python finds them through PYTHONPATH.
		pp := TaskRoot
		if old := envValue(env, "PYTHONPATH"); old != "" && old != TaskRoot {
			pp = TaskRoot + ":" + old
		}
		env = setEnv(env, "PYTHONPATH="+pp)
		if envValue(env, "LAMBDA_TASK_ROOT") == "" {
			env = setEnv(env, "LAMBDA_TASK_ROOT="+TaskRoot)
		}
		c.Entrypoint = []string{info.Interpreter, "-m", "awslambdaric"}
	}
	for _, kv := range o.Env {
		if !strings.Contains(kv, "=") {
			return fmt.Errorf("environment variable %q: want KEY=VALUE", kv)
		}
		env = setEnv(env, kv)
	}
	c.Env = env
	if o.Entrypoint != nil {
		c.Entrypoint = o.Entrypoint
	}
	if o.Handler != "" {
		c.Cmd = []string{o.Handler}
	}
	if o.Cmd != nil {
		c.Cmd = o.Cmd
	}
	labels := map[string]string{}
	for k, v := range c.Labels {
		labels[k] = v
	}
	for k, v := range o.Labels {
		labels[k] = v
	}
	b, err := rec.JSON()
	if err != nil {
		return err
	}
	labels[record.Label] = string(b)
	c.Labels = labels
	return nil
}

// setEnv sets KEY=VALUE in env, in place of an earlier KEY.
func setEnv(env []string, kv string) []string {
	k, _, _ := strings.Cut(kv, "=")
	out := make([]string, 0, len(env)+1)
	done := false
	for _, e := range env {
		if ek, _, _ := strings.Cut(e, "="); ek == k {
			if !done {
				out = append(out, kv)
				done = true
			}
			continue
		}
		out = append(out, e)
	}
	if !done {
		out = append(out, kv)
	}
	return out
}

func distNames(files []*tree.File) map[string]bool {
	out := map[string]bool{}
	for _, f := range files {
		if f.Dist != "" {
			out[f.Dist] = true
		}
	}
	return out
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// asOCI returns img with OCI media types throughout (manifest, config,
// layers; the same bytes), so that every image lambdapack writes is an OCI
// image whatever its base was: OCI layouts only list OCI manifests for
// most readers, and one digest then names the image everywhere.
func asOCI(img v1.Image) (v1.Image, error) {
	mt, err := img.MediaType()
	if err != nil {
		return nil, fmt.Errorf("reading its manifest: %w", err)
	}
	if mt != types.OCIManifestSchema1 && mt != types.DockerManifestSchema2 {
		return nil, fmt.Errorf("it is a %s, not an image manifest: give one platform's image", mt)
	}
	m, err := img.Manifest()
	if err != nil {
		return nil, err
	}
	if mt == types.OCIManifestSchema1 && !slices.ContainsFunc(m.Layers, func(d v1.Descriptor) bool {
		return d.MediaType == types.DockerLayer || d.MediaType == types.DockerUncompressedLayer
	}) {
		return img, nil
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	if len(cf.RootFS.DiffIDs) != len(layers) {
		return nil, fmt.Errorf("its config lists %d diff_ids for %d layers", len(cf.RootFS.DiffIDs), len(layers))
	}
	adds := make([]mutate.Addendum, len(layers))
	for i, l := range layers {
		lt := m.Layers[i].MediaType
		switch lt {
		case types.DockerLayer:
			lt = types.OCILayer
		case types.DockerUncompressedLayer:
			lt = types.OCIUncompressedLayer
		}
		// The config's diff_id, not one computed by inflating the layer
		// again (as go-containerregistry reads a registry image's).
		adds[i] = mutate.Addendum{Layer: knownDiffID{l, cf.RootFS.DiffIDs[i]}, MediaType: lt}
	}
	out := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	if out, err = mutate.Append(out, adds...); err != nil {
		return nil, err
	}
	return mutate.ConfigFile(out, cf.DeepCopy())
}

// knownDiffID is a layer whose diff_id its image's config gives.
type knownDiffID struct {
	v1.Layer
	diffID v1.Hash
}

func (l knownDiffID) DiffID() (v1.Hash, error) { return l.diffID, nil }
