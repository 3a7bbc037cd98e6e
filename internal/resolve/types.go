package resolve

import (
	"fmt"
	"strings"
	"time"

	"github.com/lambdapack/lambdapack/internal/index"
	"github.com/lambdapack/lambdapack/internal/metadata"
	"github.com/lambdapack/lambdapack/internal/pep440"
	"github.com/lambdapack/lambdapack/internal/pep508"
	"github.com/lambdapack/lambdapack/internal/tags"
	"github.com/lambdapack/lambdapack/internal/target"
)

// PrereleaseMode says when pre-release versions are candidates, with uv's
// names (--prerelease). Whatever the mode, a version a requirement rules out
// is never chosen; the mode decides among the rest.
type PrereleaseMode int

const (
	// PrereleaseIfNecessaryOrExplicit (the default, uv's name): every
	// pre-release is a candidate, behind the stable versions. A package
	// gets a pre-release when every requirement on it (yours, a
	// constraint's or a dependency's) names a pre-release in its specifier
	// (b>=2.0b1), or when no stable version that can be used on the target
	// satisfies its requirements at all (even after backtracking). When
	// only some of the requirements on a package name a pre-release
	// (c>=1.0 with c>=0.5a1), the newest stable version that satisfies
	// them all is still chosen.
	PrereleaseIfNecessaryOrExplicit PrereleaseMode = iota
	// PrereleaseAllow makes every pre-release a candidate, in plain version
	// order (--pre, --prerelease allow).
	PrereleaseAllow
	// PrereleaseIfNecessary takes a pre-release only when no stable version
	// satisfies the requirements on the package, even when a requirement
	// names one.
	PrereleaseIfNecessary
	// PrereleaseExplicit allows pre-releases only for packages that your
	// requirements or constraints name a pre-release of; for those it
	// behaves as the default.
	PrereleaseExplicit
	// PrereleaseDisallow never chooses a pre-release.
	PrereleaseDisallow
)

var prereleaseNames = [...]string{
	PrereleaseIfNecessaryOrExplicit: "if-necessary-or-explicit",
	PrereleaseAllow:                 "allow",
	PrereleaseIfNecessary:           "if-necessary",
	PrereleaseExplicit:              "explicit",
	PrereleaseDisallow:              "disallow",
}

// String returns the mode as --prerelease spells it.
func (m PrereleaseMode) String() string {
	if m >= 0 && int(m) < len(prereleaseNames) {
		return prereleaseNames[m]
	}
	return fmt.Sprintf("PrereleaseMode(%d)", int(m))
}

// ParsePrereleaseMode reads a --prerelease value: disallow, allow,
// if-necessary, explicit or if-necessary-or-explicit.
func ParsePrereleaseMode(s string) (PrereleaseMode, error) {
	for m, n := range prereleaseNames {
		if n == s {
			return PrereleaseMode(m), nil
		}
	}
	return 0, fmt.Errorf("unknown pre-release mode %q: use one of disallow, allow, if-necessary, explicit, if-necessary-or-explicit", s)
}

// Options tune a resolution. The zero value is the default policy.
type Options struct {
	Prerelease PrereleaseMode
	// Constraints limit versions of packages without requiring them (-c).
	Constraints []pep508.Requirement
	// SdistMetadata reads an sdist's core metadata for the target (static
	// PKG-INFO or the build backend's answer; sdist.Builder.FileMetadata
	// fits). Nil means sdists are never candidates: wheels only. See
	// sdist.go for when an sdist is chosen.
	SdistMetadata SdistMetadataFunc
	// NoBuild never builds from source (--no-build): wheels only.
	NoBuild bool
	// NoBinary lists packages (names, or ":all:") whose wheels are not used:
	// they are built from their sdists (--no-binary).
	NoBinary []string
	// OnlyBinary lists packages (names, or ":all:") never built from
	// source (--only-binary). A name beats ":all:" in the other list.
	OnlyBinary []string
	// Refused are files that must not be chosen, by file name, with why: a
	// wheel verification refused, an sdist whose build failed. The
	// resolver takes the next file of the same version the target accepts,
	// else another version, and says so in the package's Notes.
	Refused map[string]string
	// Preferences are versions to pick when they fit (for example those of
	// an existing lock), by canonical name.
	Preferences map[string]pep440.Version
	// Concurrency bounds parallel index requests (default 16).
	Concurrency int
	// NoPrefetch turns off the speculative fetching of likely dependencies.
	NoPrefetch bool
}

// Package is one distribution of the solution.
type Package struct {
	Name    string // canonical
	Version pep440.Version
	// File is the chosen wheel: the one whose best tag ranks highest for
	// the target.
	File  index.File
	Wheel tags.WheelFilename
	// Tag is the wheel's tag the target ranks best.
	Tag tags.Tag
	// Extras are the extras of the package that the solution activates.
	Extras []string
	// Dependencies are the canonical names of the packages it depends on
	// in this solution (its extras' dependencies included), sorted.
	Dependencies []string
	// RequiresPython is the Requires-Python of its metadata ("" if none).
	RequiresPython string
	// Metadata is the core metadata resolution read for File (the index's
	// PEP 658 file, or METADATA read from the wheel): the installer checks
	// the wheel's own against it.
	Metadata *metadata.Metadata
	// Direct is set for packages named in the requirements.
	Direct bool
	// Sdist says File is a source distribution to build for the target
	// (Wheel and Tag are zero).
	Sdist bool
	// Notes say why the package is built from source or why a file of it
	// was refused.
	Notes []string
}

// Skipped says that newer versions of a package were passed over and why.
type Skipped struct {
	Name     string
	Versions []string // newest first
	Reason   string   // "have no wheel for python3.11/x86_64 (...)"
}

func (s Skipped) String() string {
	vs := s.Versions
	more := ""
	if len(vs) > 4 {
		more = fmt.Sprintf(" and %d more", len(vs)-4)
		vs = vs[:4]
	}
	return fmt.Sprintf("%s %s%s: %s", s.Name, strings.Join(vs, ", "), more, s.Reason)
}

// Stats describe a resolution.
type Stats struct {
	Projects  int // project pages read
	Metadata  int // metadata documents read
	Decisions int
	Conflicts int
	Duration  time.Duration
}

// Result is a resolution: one version of each package, with its wheel.
type Result struct {
	Target   target.Target
	Packages []Package // sorted by name
	// Skipped lists, for packages of the solution, newer versions that
	// could not be used (no wheel for the target, Requires-Python, yanked).
	Skipped []Skipped
	// Notes are warnings that did not stop resolution (an extra a version
	// does not provide, metadata that disagrees with its file name).
	Notes []string
	Stats Stats
}

// NoSolutionError says that the requirements cannot be satisfied on the
// target, why (PubGrub's derivation, in sentences) and what may help.
type NoSolutionError struct {
	Target      target.Target
	Explanation string
	Hints       []string
	// Builds are the failures to build (or read the metadata of) sdists
	// of the packages the explanation names: an *sdist.LibraryError or
	// *sdist.BuildError says more than the derivation.
	Builds []error
}

// Unwrap returns the build failures behind the error.
func (e *NoSolutionError) Unwrap() []error { return e.Builds }

func (e *NoSolutionError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "no set of packages satisfies the requirements on %s:\n", e.Target)
	for _, l := range strings.Split(e.Explanation, "\n") {
		if l == "" {
			b.WriteString("\n")
			continue
		}
		b.WriteString("  " + l + "\n")
	}
	for _, h := range e.Hints {
		b.WriteString("hint: " + h + "\n")
	}
	for _, err := range e.Builds {
		b.WriteString(err.Error() + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}
