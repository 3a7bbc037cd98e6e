package image

import (
	"context"
	"errors"
	"fmt"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/lambdapack/lambdapack/internal/human"
	"github.com/lambdapack/lambdapack/internal/tree"
)

// Sink is the image as a tree.Sink: Write puts a planned tree on Base with
// Build (the tree's RoleDeps files in one layer, its RoleCode files in
// another) and keeps the image in Result. It pushes and writes nothing
// itself: the image lives in memory, its dependency layer in Options.Cache,
// until the caller ships it (remote, layout, tarball). The pipeline
// verifies the tree before calling Write (app.WriteTree), so an image is
// only ever made of files that passed.
type Sink struct {
	Base    *Base
	Options BuildOptions
	// Result is the image the last Write built.
	Result *Result
}

// Write builds the image of t.
func (s *Sink) Write(ctx context.Context, t *tree.Tree) (*tree.Written, error) {
	if s.Base == nil || s.Base.Info == nil {
		return nil, errors.New("building an image: no base image")
	}
	start := time.Now()
	res, err := Build(ctx, s.Base, t, s.Options)
	if err != nil {
		return nil, err
	}
	s.Result = res
	reused := "written"
	if res.DepsReused {
		reused = "reused from the cache"
	}
	return &tree.Written{
		Path:         res.Digest.String(),
		SHA256:       res.Digest.String(),
		Size:         res.Size,
		UnzippedSize: t.Size(),
		Checked:      res.Checked,
		Summary: fmt.Sprintf("Built %s image %s: dependency layer %s (%s, %s), code layer %s (%s), in %s",
			s.Base.Info.Architecture, res.Digest, Short(res.Deps.Digest), human.Bytes(res.Deps.Size), reused,
			Short(res.Code.Digest), human.Bytes(res.Code.Size), human.Duration(time.Since(start))),
	}, nil
}

// Short names a digest by its first 12 hex digits ("none" for a layer not
// written).
func Short(h v1.Hash) string {
	if len(h.Hex) < 12 {
		return "none"
	}
	return h.Algorithm + ":" + h.Hex[:12]
}
