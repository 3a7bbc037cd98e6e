// Package tarball writes images as one tarball in the format `docker load`
// reads (and `docker save` writes): the --tarball sink. Bases in that format
// are read by image/base (tarball:FILE).
package tarball

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	ggcr "github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/lambdapack/lambdapack/internal/atomicfile"
)

// Tagged is an image and the tag docker load gives it.
type Tagged struct {
	Tag   string // "my-function:latest"
	Image v1.Image
}

// Write writes images to file through a temporary file in its folder,
// renamed into place when complete.
func Write(file string, images []Tagged) error {
	if st, err := os.Stat(file); err == nil && !st.Mode().IsRegular() {
		return fmt.Errorf("--tarball %s exists and is not a regular file", file)
	}
	refs := map[name.Reference]v1.Image{}
	for _, t := range images {
		tag, err := name.NewTag(t.Tag)
		if err != nil {
			return fmt.Errorf("tag %q for the tarball: %w", t.Tag, err)
		}
		refs[tag] = t.Image
	}
	dir := filepath.Dir(file)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	tmp, err := atomicfile.Create(file)
	if err != nil {
		return err
	}
	defer tmp.Abort()
	if err := ggcr.MultiRefWrite(refs, tmp); err != nil {
		return fmt.Errorf("writing %s: %w", file, err)
	}
	if err := tmp.Commit(0o644); err != nil {
		return err
	}
	return nil
}
