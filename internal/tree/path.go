package tree

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits on a path inside an artifact: what Linux file systems take
// (NAME_MAX) for one component, and what leaves room under /var/task or
// /opt in PATH_MAX (4,096) for the whole.
const (
	MaxComponent = 255
	MaxPath      = 4000
)

// ValidPath reports why p cannot be a path inside an artifact, or nil: it
// must be relative, slash-separated and clean, without "..", backslashes,
// drive letters or NUL bytes, and within ValidLength's limits. A trailing
// "/" (a folder) is allowed.
//
// Every sink writes File.Path under its destination, so the planners
// (install for wheel members, the pipeline for code) refuse any other path
// before it reaches a tree; archive.ValidPath is this function.
func ValidPath(p string) error {
	if err := ValidLength(p); err != nil {
		return err
	}
	q := quotePath(p)
	switch {
	case p == "":
		return errors.New("empty path")
	case strings.HasPrefix(p, "/"):
		return fmt.Errorf("absolute path %s", q)
	case strings.ContainsAny(p, "\\\x00"):
		return fmt.Errorf("path %s holds a backslash or NUL", q)
	case len(p) >= 2 && p[1] == ':':
		return fmt.Errorf("path %s starts with a drive letter", q)
	case !utf8.ValidString(p):
		return fmt.Errorf("path %s is not UTF-8", q)
	}
	for _, seg := range strings.Split(strings.TrimSuffix(p, "/"), "/") {
		switch seg {
		case "", ".", "..":
			return fmt.Errorf("path %s is not clean (empty, . or .. segment)", q)
		}
	}
	return nil
}

// ValidLength reports a path (slash- or backslash-separated) with a
// component longer than MaxComponent bytes or a total over MaxPath: no
// file system under Lambda could hold it, and extracting it would fail.
func ValidLength(p string) error {
	for _, seg := range strings.FieldsFunc(p, func(r rune) bool { return r == '/' || r == '\\' }) {
		if len(seg) > MaxComponent {
			return fmt.Errorf("path %s has a %d-byte component; a file name is at most %d bytes", quotePath(p), len(seg), MaxComponent)
		}
	}
	if len(p) > MaxPath {
		return fmt.Errorf("path %s is %d bytes long; at most %d fit", quotePath(p), len(p), MaxPath)
	}
	return nil
}

// quotePath quotes a path for a message, cut short when long.
func quotePath(p string) string {
	if len(p) <= 200 {
		return strconv.Quote(p)
	}
	return fmt.Sprintf("%s... (%d bytes)", strconv.Quote(p[:200]), len(p))
}
