package names

import (
	"regexp"
	"strings"
)

var (
	separators = regexp.MustCompile(`[-_.]+`)
	valid      = regexp.MustCompile(`(?i)^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$`)
)

// Canonical returns the normalised form of a project name: runs of "-", "_"
// and "." become one "-", and letters are lower-cased.
func Canonical(name string) string {
	return strings.ToLower(separators.ReplaceAllString(name, "-"))
}

// Valid reports whether name is a valid project name.
func Valid(name string) bool { return valid.MatchString(name) }

// IsCanonical reports whether name is valid and already in canonical form.
func IsCanonical(name string) bool { return Valid(name) && Canonical(name) == name }
