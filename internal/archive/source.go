package archive

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// DefaultExcludes are left out of a function's source folder unless
// SourceOptions.NoDefaultExcludes is set: version control, virtual
// environments, caches and compiled bytecode.
var DefaultExcludes = []string{
	".git", ".hg", ".svn", ".venv", "__pycache__", "*.pyc", "*.pyo",
	".mypy_cache", ".pytest_cache", ".ruff_cache", ".tox", ".DS_Store",
}

// MatchGlobs reports whether the slash path p matches one of globs: a glob
// without "/" matches any single segment (a file or folder name: "*.pyc",
// "tests", "__pycache__"); a glob with "/" matches the whole path or a
// leading part of it ("pkg/*/tests" matches everything below such a folder).
func MatchGlobs(globs []string, p string) bool {
	segs := strings.Split(p, "/")
	for _, g := range globs {
		g = strings.Trim(g, "/")
		if g == "" {
			continue
		}
		if !strings.Contains(g, "/") {
			for _, s := range segs {
				if ok, _ := path.Match(g, s); ok {
					return true
				}
			}
			continue
		}
		for k := strings.Count(g, "/") + 1; k <= len(segs); k++ {
			if ok, _ := path.Match(g, strings.Join(segs[:k], "/")); ok {
				return true
			}
		}
	}
	return false
}

// CheckGlobs reports the first malformed glob.
func CheckGlobs(globs []string) error {
	for _, g := range globs {
		if _, err := path.Match(g, ""); err != nil {
			return fmt.Errorf("glob %q: %w", g, err)
		}
	}
	return nil
}

// SourceOptions tunes SourceEntries.
type SourceOptions struct {
	// Prefix is prepended to every path in the zip ("" for a function zip).
	Prefix string
	// Exclude globs (see MatchGlobs), matched against paths relative to the
	// source folder, on top of DefaultExcludes.
	Exclude           []string
	NoDefaultExcludes bool
	// Skip lists files to leave out by path on disk (e.g. the output zip
	// when it is written inside the source folder).
	Skip []string
}

// SourceEntries lists the files of a source folder (a function's code) as
// entries. Symlinks to files are followed (the zip holds the file); a
// symlinked folder is not entered and is returned in skipped, as are
// sockets and other special files.
func SourceEntries(dir string, opts SourceOptions) (entries []Entry, skipped []string, err error) {
	excl := opts.Exclude
	if !opts.NoDefaultExcludes {
		excl = append(append([]string{}, DefaultExcludes...), excl...)
	}
	if err := CheckGlobs(excl); err != nil {
		return nil, nil, fmt.Errorf("reading source folder %s: %w", dir, err)
	}
	skip := map[string]bool{}
	for _, s := range opts.Skip {
		if a, err := filepath.Abs(s); err == nil {
			skip[a] = true
		}
	}
	root, err := filepath.Abs(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("reading source folder %s: %w", dir, err)
	}
	if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
		if err == nil {
			err = fmt.Errorf("not a folder")
		}
		return nil, nil, fmt.Errorf("reading source folder %s: %w", dir, err)
	}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == root {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if MatchGlobs(excl, rel) || skip[p] {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		fi, err := os.Stat(p) // follows a symlink
		if err != nil {
			return err
		}
		if !fi.Mode().IsRegular() {
			skipped = append(skipped, rel)
			return nil
		}
		zp := opts.Prefix + rel
		if err := ValidPath(zp); err != nil {
			return fmt.Errorf("%s: %v", p, err)
		}
		entries = append(entries, Entry{Path: zp, File: p, Mode: fi.Mode().Perm()})
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("reading source folder %s: %w", dir, err)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Path < entries[j].Path })
	return entries, skipped, nil
}
