package cli

import (
	"io"
	"os"
	"regexp"
	"slices"
	"testing"
)

// The README's verb table names every verb a user can run (cobra's own
// help and completion aside): image, invoke, serve, event and cache were
// missing from it while their sections sat further down.
func TestREADMEListsEveryVerb(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `lambdapack ([a-z]+)").FindAllSubmatch(b, -1) {
		listed[string(m[1])] = true
	}
	root := NewRoot(&Streams{In: os.Stdin, Out: io.Discard, Err: io.Discard})
	var missing []string
	for _, c := range root.Commands() {
		if n := c.Name(); n != "help" && n != "completion" && !listed[n] {
			missing = append(missing, n)
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Errorf("README.md's verb table does not list %v", missing)
	}
}
