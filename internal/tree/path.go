package tree

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// ValidPath reports why p cannot be a path inside an artifact, or nil: it
// must be relative, slash-separated and clean, without "..", backslashes,
// drive letters or NUL bytes. A trailing "/" (a folder) is allowed.
//
// Every sink writes File.Path under its destination, so the planners
// (install for wheel members, the pipeline for code) refuse any other path
// before it reaches a tree; archive.ValidPath is this function.
func ValidPath(p string) error {
	switch {
	case p == "":
		return errors.New("empty path")
	case strings.HasPrefix(p, "/"):
		return fmt.Errorf("absolute path %q", p)
	case strings.ContainsAny(p, "\\\x00"):
		return fmt.Errorf("path %q holds a backslash or NUL", p)
	case len(p) >= 2 && p[1] == ':':
		return fmt.Errorf("path %q starts with a drive letter", p)
	case !utf8.ValidString(p):
		return fmt.Errorf("path %q is not UTF-8", p)
	}
	for _, seg := range strings.Split(strings.TrimSuffix(p, "/"), "/") {
		switch seg {
		case "", ".", "..":
			return fmt.Errorf("path %q is not clean (empty, . or .. segment)", p)
		}
	}
	return nil
}
