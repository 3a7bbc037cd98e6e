package app

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/lambdapack/lambdapack/internal/glob"
	"github.com/lambdapack/lambdapack/internal/record"
	"github.com/lambdapack/lambdapack/internal/tree"
)

// DefaultExcludes are left out of a function's source folder unless the user
// says otherwise: version control, virtualenvs, caches and bytecode.
var DefaultExcludes = []string{
	".git", ".hg", ".svn", "__pycache__", "*.pyc", "*.pyo", ".venv", "venv", ".tox", ".nox",
	".pytest_cache", ".mypy_cache", ".ruff_cache", ".DS_Store", ".aws-sam", ".serverless",
	"node_modules", ".idea", ".vscode",
}

// Selector decides which files of a source folder an artifact takes
// (paths slash-separated, relative to the folder). project.Matcher is one:
// a project's package patterns, SAM's excludes.
type Selector interface {
	// Match reports whether the file rel is taken.
	Match(rel string) bool
	// SkipDir reports whether nothing beneath the folder rel can be taken.
	SkipDir(rel string) bool
}

// globSelector leaves out what a glob set matches (--exclude and the
// defaults).
type globSelector struct{ set glob.Set }

func (g globSelector) Match(rel string) bool   { return !g.set.Match(rel) }
func (g globSelector) SkipDir(rel string) bool { return g.set.Match(rel) }

// sourceFile is one file of a function's own code.
type sourceFile struct {
	Rel  string // slash path inside the zip
	Abs  string
	Mode fs.FileMode
	Size int64
}

// collectSource lists the files of src that go into a function zip: every
// regular file (symlinks to files inside src followed) not matched by the
// default excludes or excludes, and never the artifact being written (skip).
func collectSource(src string, excludes []string, skip ...string) ([]sourceFile, error) {
	sel, err := excludeSelector(excludes)
	if err != nil {
		return nil, err
	}
	files, _, err := walkSource(src, sel, skip)
	return files, err
}

// excludeSelector is the selection of --src with --exclude: everything but
// DefaultExcludes and excludes.
func excludeSelector(excludes []string) (Selector, error) {
	set, err := glob.CompileSet(append(append([]string{}, DefaultExcludes...), excludes...))
	if err != nil {
		return nil, fmt.Errorf("--exclude: %w", err)
	}
	return globSelector{set}, nil
}

// walkSource lists the files of src that sel takes, sorted by path: regular
// files (symlinks to files inside src followed), never the paths in skip
// (the artifact being written, the output folder) and never an earlier
// build's output: a folder holding a lambdapack build state file (any
// run's --out, not only this one's) or a zip that is itself a lambdapack
// artifact. The notes say what was left out for those reasons.
func walkSource(src string, sel Selector, skip []string) ([]sourceFile, []string, error) {
	st, err := os.Stat(src)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the function's source folder: %w", err)
	}
	if !st.IsDir() {
		return nil, nil, fmt.Errorf("the function's source %s is not a folder: pass --src with the folder holding your handler", src)
	}
	skipAbs := map[string]bool{}
	for _, s := range skip {
		if a, err := filepath.Abs(s); err == nil {
			skipAbs[a] = true
		}
	}
	absSrc, err := filepath.Abs(src)
	if err != nil {
		return nil, nil, err
	}
	realSrc, err := filepath.EvalSymlinks(absSrc)
	if err != nil {
		return nil, nil, err
	}
	var out []sourceFile
	var notes []string
	err = filepath.WalkDir(absSrc, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == absSrc {
			return nil
		}
		rel, _ := filepath.Rel(absSrc, p)
		rel = filepath.ToSlash(rel)
		if skipAbs[p] || strings.HasPrefix(filepath.Base(p), ".lambdapack-") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if sel.SkipDir(rel) {
				return filepath.SkipDir
			}
			if _, err := os.Lstat(filepath.Join(p, stateFile)); err == nil {
				notes = append(notes, fmt.Sprintf("left out %s/: the output folder of an earlier lambdapack build (it holds %s)", rel, stateFile))
				return filepath.SkipDir
			}
			return nil
		}
		if !sel.Match(rel) {
			return nil
		}
		info, err := os.Stat(p) // follows symlinks
		if err != nil {
			return fmt.Errorf("reading %s: %w", p, err)
		}
		if d.Type()&fs.ModeSymlink != 0 {
			real, err := filepath.EvalSymlinks(p)
			if err != nil {
				return fmt.Errorf("reading %s: %w", p, err)
			}
			if r, err := filepath.Rel(realSrc, real); err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
				return fmt.Errorf("%s is a symlink to %s, outside the source folder: copy the file in or exclude it", p, real)
			}
			if info.IsDir() {
				return fmt.Errorf("%s is a symlink to a folder: replace it with the folder or exclude it", p)
			}
		}
		if !info.Mode().IsRegular() {
			return nil
		}
		if strings.EqualFold(filepath.Ext(p), ".zip") && isArtifact(p) {
			notes = append(notes, fmt.Sprintf("left out %s: a lambdapack artifact, never packed into another", rel))
			return nil
		}
		if err := tree.ValidPath(rel); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		out = append(out, sourceFile{Rel: rel, Abs: p, Mode: info.Mode().Perm(), Size: info.Size()})
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Rel < out[j].Rel })
	return out, notes, nil
}

// isArtifact reports whether the zip at p carries a lambdapack record.
func isArtifact(p string) bool {
	_, err := record.ReadZip(p)
	return err == nil
}
