package install

import (
	"fmt"
	"slices"
	"strings"

	"github.com/lambdapack/lambdapack/internal/metadata"
	"github.com/lambdapack/lambdapack/internal/names"
	"github.com/lambdapack/lambdapack/internal/pep508"
)

// MetadataMismatchError is a wheel whose own METADATA declares other
// dependencies than the metadata resolution read for it (an index's PEP
// 658 file that disagrees with the wheel it describes, even when its hash
// on the page matches). Installing it would ship an artifact without
// dependencies the package needs, or with ones it does not.
type MetadataMismatchError struct {
	Package, Version string
	Wheel            string // the wheel's file name
	Member           string // its METADATA member (name-version.dist-info/METADATA)
	From             string // where the resolver's metadata came from
	Diffs            []string
}

func (e *MetadataMismatchError) Error() string {
	return fmt.Sprintf("%s %s: the wheel's own METADATA (%s in %s) declares other dependencies than %s, which resolution used, so the artifact would not hold what %s needs:\n  %s\nThe index serves inconsistent metadata: tell whoever runs it, or install from another index or find-links folder",
		e.Package, e.Version, e.Member, e.Wheel, e.From, e.Package, strings.Join(e.Diffs, "\n  "))
}

// checkResolved compares the dependency fields of the wheel's METADATA
// with the metadata resolution used for it (w.Resolved).
func checkResolved(w Wheel, distInfo string, meta []byte) error {
	if w.Resolved == nil {
		return nil
	}
	own, err := metadata.Parse(meta)
	if err != nil {
		return fmt.Errorf("its METADATA cannot be read to compare it with %s, which resolution used: %w", w.ResolvedFrom, err)
	}
	from := w.ResolvedFrom
	if from == "" {
		from = "the metadata resolution read"
	}
	diffs := MetadataDiff(w.Resolved, own)
	if len(diffs) == 0 {
		return nil
	}
	return &MetadataMismatchError{Package: names.Canonical(own.Name), Version: own.Version.String(),
		Wheel: w.name(), Member: distInfo + "/METADATA", From: from, Diffs: diffs}
}

// MetadataDiff lists how the fields that decide dependencies
// (Requires-Dist, Requires-Python, Provides-Extra) differ between the
// metadata resolution used and the wheel's own, one line each; nil when
// they agree. Requirements are compared as packaging compares them (names
// and extras normalised, specifiers as sets), in any order.
func MetadataDiff(resolved, wheel *metadata.Metadata) []string {
	var out []string
	onlyResolved, onlyWheel := reqDiff(resolved.RequiresDist, wheel.RequiresDist)
	for _, r := range onlyWheel {
		out = append(out, fmt.Sprintf("Requires-Dist: %s is in the wheel's METADATA only", r))
	}
	for _, r := range onlyResolved {
		out = append(out, fmt.Sprintf("Requires-Dist: %s is in the resolver's metadata only", r))
	}
	if a, b := resolved.RequiresPython.String(), wheel.RequiresPython.String(); a != b {
		out = append(out, fmt.Sprintf("Requires-Python: %q in the resolver's metadata, %q in the wheel's METADATA", a, b))
	}
	ea, eb := sortedCanonical(resolved.ProvidesExtra), sortedCanonical(wheel.ProvidesExtra)
	if !slices.Equal(ea, eb) {
		out = append(out, fmt.Sprintf("Provides-Extra: [%s] in the resolver's metadata, [%s] in the wheel's METADATA", strings.Join(ea, ", "), strings.Join(eb, ", ")))
	}
	return out
}

// reqDiff returns the requirements of a with no equal in b and those of b
// with no equal in a (each one matched at most once).
func reqDiff(a, b []pep508.Requirement) (onlyA, onlyB []string) {
	used := make([]bool, len(b))
	for _, r := range a {
		found := false
		for j, o := range b {
			if !used[j] && r.Equal(o) {
				used[j], found = true, true
				break
			}
		}
		if !found {
			onlyA = append(onlyA, r.String())
		}
	}
	for j, o := range b {
		if !used[j] {
			onlyB = append(onlyB, o.String())
		}
	}
	return onlyA, onlyB
}

func sortedCanonical(in []string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = names.Canonical(s)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
