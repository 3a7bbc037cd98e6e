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

// Closest returns the candidate nearest to s by edit distance, if it is
// within maxDist edits (for "did you mean ...?" hints), else "".
func Closest(s string, candidates []string, maxDist int) string {
	best, bestD := "", maxDist+1
	for _, c := range candidates {
		if d := editDistance(s, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
