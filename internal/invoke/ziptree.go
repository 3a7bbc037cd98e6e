package invoke

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/lambdapack/lambdapack/internal/record"
	"github.com/lambdapack/lambdapack/internal/tree"
)

// ZipTree reads a function or layer zip (lambdapack's or any other) as a
// tree: one file per member, in path order, with the record its comment
// holds (empty when it has none). Symbolic links stored in the zip are
// followed to the member they name, as Lambda's extraction gives the same
// bytes at both paths. The tree keeps the zip open until Close.
func ZipTree(zipPath string) (*tree.Tree, error) {
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		return nil, fmt.Errorf("opening %s as a zip: %w", zipPath, err)
	}
	t := &tree.Tree{}
	t.OnClose(zr)
	fail := func(err error) (*tree.Tree, error) {
		t.Close()
		return nil, err
	}
	if r, err := record.Parse(zr.Comment); err == nil {
		t.Record = r
	} else if !errors.Is(err, record.ErrNone) {
		return fail(fmt.Errorf("%s: %w", zipPath, err))
	}
	byName := map[string]*zip.File{}
	for _, f := range zr.File {
		byName[strings.TrimSuffix(f.Name, "/")] = f
	}
	seen := map[string]bool{}
	for _, f := range zr.File {
		name := strings.TrimSuffix(f.Name, "/")
		if f.FileInfo().IsDir() || name == "" {
			continue
		}
		if err := tree.ValidPath(name); err != nil {
			return fail(fmt.Errorf("%s holds a member that cannot be extracted: %w", zipPath, err))
		}
		if seen[name] {
			return fail(fmt.Errorf("%s holds %s twice", zipPath, name))
		}
		seen[name] = true
		member := f
		if f.Mode()&fs.ModeSymlink != 0 {
			member, err = followLink(byName, f)
			if err != nil {
				return fail(fmt.Errorf("%s: %w", zipPath, err))
			}
		}
		mode := fs.FileMode(0o644)
		if member.Mode()&0o111 != 0 {
			mode = 0o755
		}
		t.Files = append(t.Files, tree.File{
			Path: name, Mode: mode, Size: int64(member.UncompressedSize64),
			Origin: tree.FromWheel, Member: member, Role: tree.RoleCode,
		})
	}
	if err := t.Sort(); err != nil {
		return fail(fmt.Errorf("%s: %w", zipPath, err))
	}
	return t, nil
}

// followLink returns the regular member a symlink member leads to, inside
// the zip.
func followLink(byName map[string]*zip.File, f *zip.File) (*zip.File, error) {
	cur := f
	for range 40 {
		rc, err := cur.Open()
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(io.LimitReader(rc, 4096))
		rc.Close()
		if err != nil {
			return nil, err
		}
		target := string(b)
		if !strings.HasPrefix(target, "/") {
			target = path.Join(path.Dir(strings.TrimSuffix(cur.Name, "/")), target)
		}
		target = path.Clean(target)
		next, ok := byName[target]
		if !ok || strings.HasPrefix(target, "../") || strings.HasPrefix(target, "/") {
			return nil, fmt.Errorf("the symbolic link %s leads to %s, which is not a file of the zip", f.Name, string(b))
		}
		if next.Mode()&fs.ModeSymlink == 0 {
			if next.FileInfo().IsDir() {
				return nil, fmt.Errorf("the symbolic link %s leads to the folder %s: store the folder's files instead", f.Name, target)
			}
			return next, nil
		}
		cur = next
	}
	return nil, fmt.Errorf("the symbolic link %s leads round in a circle", f.Name)
}

// Sub returns the files of t under prefix ("python/"), with the prefix
// taken off their paths. The result shares t's open files.
func Sub(t *tree.Tree, prefix string) *tree.Tree {
	out := &tree.Tree{Record: t.Record, Pure: t.Pure}
	for _, f := range t.Files {
		if rest, ok := strings.CutPrefix(f.Path, prefix); ok && rest != "" {
			f.Path = rest
			out.Files = append(out.Files, f)
		}
	}
	return out
}

// Merge lays trees over each other in order, as Lambda extracts a
// function's layers into /opt: a later tree's file replaces an earlier one's
// at the same path. The result shares the trees' open files.
func Merge(trees ...*tree.Tree) *tree.Tree {
	out := &tree.Tree{Pure: true}
	at := map[string]int{}
	for _, t := range trees {
		out.Pure = out.Pure && t.Pure
		for _, f := range t.Files {
			if i, ok := at[f.Path]; ok {
				out.Files[i] = f
				continue
			}
			at[f.Path] = len(out.Files)
			out.Files = append(out.Files, f)
		}
	}
	_ = out.Sort()
	return out
}
