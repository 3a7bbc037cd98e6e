package app

import (
	"archive/zip"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/lambdapack/lambdapack/internal/human"
	"github.com/lambdapack/lambdapack/internal/tree"
	"github.com/lambdapack/lambdapack/internal/verify"
)

// addCode adds the artifact's own files (codeFiles) to the tree, refusing
// a file that has the path of an installed one.
func addCode(tr *tree.Tree, o ArtifactOptions) error {
	files, notes, err := o.codeFiles(tr.OnClose)
	if err != nil {
		return err
	}
	owner := map[string]string{}
	for _, f := range tr.Files {
		owner[f.Path] = f.Dist
	}
	for _, f := range files {
		if d, clash := owner[f.Path]; clash {
			from := o.Src
			if f.Origin != tree.FromDisk || from == "" {
				from = "the artifact's own files"
			}
			return fmt.Errorf("%s in %s has the same path as a file of %s: rename it, or --exclude it if it is a vendored copy", f.Path, from, d)
		}
	}
	tr.Files = append(tr.Files, files...)
	tr.Notes = append(tr.Notes, notes...)
	return nil
}

// codeFiles lists the artifact's own files, sorted by path: the files of
// Src that its selection takes (under Prefix) with Files added, or the
// members of a Prebuilt zip. onClose receives what must stay open until
// the tree is written.
func (o ArtifactOptions) codeFiles(onClose func(io.Closer)) ([]tree.File, []string, error) {
	if o.Prebuilt != "" {
		return prebuiltFiles(o.Prebuilt, onClose)
	}
	var out []tree.File
	var notes []string
	if o.Src != "" {
		sel := o.Select
		if sel == nil {
			var err error
			if sel, err = excludeSelector(o.Excludes); err != nil {
				return nil, nil, err
			}
		}
		src, n, err := walkSource(o.Src, sel, append([]string{o.Output}, o.SkipPaths...))
		if err != nil {
			return nil, nil, err
		}
		notes = n
		for _, f := range src {
			p := o.Prefix + f.Rel
			if err := tree.ValidPath(p); err != nil {
				return nil, nil, fmt.Errorf("%s: %w", f.Abs, err)
			}
			out = append(out, tree.File{Path: p, Mode: f.Mode, Size: f.Size, Origin: tree.FromDisk, Disk: f.Abs, Role: tree.RoleCode})
		}
	}
	for _, f := range o.Files {
		if err := tree.ValidPath(f.Path); err != nil {
			return nil, nil, err
		}
		f.Role = tree.RoleCode
		if i := slices.IndexFunc(out, func(x tree.File) bool { return x.Path == f.Path }); i >= 0 {
			notes = append(notes, fmt.Sprintf("%s of %s is replaced by the one lambdapack adds", f.Path, o.Src))
			out[i] = f
			continue
		}
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b tree.File) int { return strings.Compare(a.Path, b.Path) })
	return out, notes, nil
}

// prebuiltFiles reads a zip built elsewhere as tree files: its regular
// members, their bytes copied as they are.
func prebuiltFiles(p string, onClose func(io.Closer)) ([]tree.File, []string, error) {
	zr, err := zip.OpenReader(p)
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w (a CodeUri, ContentUri or artifact that ends in .zip must be a zip file)", p, err)
	}
	onClose(zr)
	// Refused before anything is inflated, as verify refuses a zip:
	// overlapping entries, names no file system takes, declared sizes no
	// Lambda artifact has (a zip bomb). Each member is read whole and its
	// CRC-32 and size checked before anything is written (VerifyTree).
	st, err := os.Stat(p)
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", p, err)
	}
	if _, err := verify.ZipEntries(&zr.Reader, st.Size()); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", p, err)
	}
	var out []tree.File
	for _, m := range zr.File {
		mode := m.Mode()
		switch {
		case strings.HasSuffix(m.Name, "/") || mode.IsDir():
			continue
		case mode&fs.ModeSymlink != 0:
			return nil, nil, fmt.Errorf("%s: %s is a symbolic link: lambdapack takes zips of regular files only (zip it with the file itself)", p, m.Name)
		case !mode.IsRegular():
			return nil, nil, fmt.Errorf("%s: %s is not a regular file (%s)", p, m.Name, mode.Type())
		}
		if err := tree.ValidPath(m.Name); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", p, err)
		}
		perm := fs.FileMode(0o644)
		if mode&0o111 != 0 {
			perm = 0o755
		}
		out = append(out, tree.File{Path: m.Name, Mode: perm, Size: int64(m.UncompressedSize64), Origin: tree.FromWheel, Member: m, Role: tree.RoleCode})
	}
	slices.SortFunc(out, func(a, b tree.File) int { return strings.Compare(a.Path, b.Path) })
	for i := 1; i < len(out); i++ {
		if out[i].Path == out[i-1].Path {
			return nil, nil, fmt.Errorf("%s lists %s twice", p, out[i].Path)
		}
	}
	return out, []string{fmt.Sprintf("%s taken as the artifact: %s repacked as they are", p, human.Count(len(out), "file"))}, nil
}
