package tags

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/lambdapack/lambdapack/internal/names"
	"github.com/lambdapack/lambdapack/internal/pep440"
)

// WheelFilename is a parsed wheel filename (PEP 427):
// {name}-{version}(-{build})?-{interpreter}-{abi}-{platform}.whl.
type WheelFilename struct {
	Name     string         // canonical (PEP 503) project name
	Version  pep440.Version // parsed version
	BuildNum int            // leading digits of the build tag (when HasBuild)
	BuildTag string         // the rest of the build tag after its digits ("abc" in "1000abc")
	HasBuild bool           // the filename carries a build tag
	Tags     []Tag          // the expanded tag set, in filename order
	Filename string         // the filename as given
}

// SdistFilename is a parsed source distribution filename:
// {name}-{version}.tar.gz or {name}-{version}.zip.
type SdistFilename struct {
	Name     string // canonical project name
	Version  pep440.Version
	Filename string
}

// FilenameError reports a filename that is not a valid wheel or sdist name.
type FilenameError struct {
	Kind     string // "wheel" or "sdist"
	Filename string
	Reason   string
	Err      error // underlying cause, if any
}

func (e *FilenameError) Error() string {
	return fmt.Sprintf("invalid %s filename %q: %s", e.Kind, e.Filename, e.Reason)
}

func (e *FilenameError) Unwrap() error { return e.Err }

var (
	// PEP 427 escaped names: word characters (Unicode) and ".", at least one.
	wheelNameRe = regexp.MustCompile(`^[\p{L}\p{N}_.]+$`)
	buildRe     = regexp.MustCompile(`^([0-9]+)(.*)`)
)

// ParseWheelFilename parses a wheel filename the way packaging's
// parse_wheel_filename does: the name is checked against PEP 427's escaping
// rules and canonicalised, the version must be valid PEP 440, a build tag must
// start with a digit, and the tag set is expanded (capped at DefaultTagLimit).
func ParseWheelFilename(s string) (WheelFilename, error) {
	return ParseWheelFilenameWith(s, ParseOptions{})
}

// ParseWheelFilenameWith is ParseWheelFilename with tag parsing options.
func ParseWheelFilenameWith(s string, o ParseOptions) (WheelFilename, error) {
	bad := func(reason string, err error) (WheelFilename, error) {
		return WheelFilename{}, &FilenameError{Kind: "wheel", Filename: s, Reason: reason, Err: err}
	}
	stem, ok := strings.CutSuffix(s, ".whl")
	if !ok {
		return bad("extension must be .whl", nil)
	}
	dashes := strings.Count(stem, "-")
	if dashes != 4 && dashes != 5 {
		return bad("want name-version[-build]-interpreter-abi-platform.whl", nil)
	}
	parts := strings.SplitN(stem, "-", dashes-1)
	namePart := parts[0]
	if strings.Contains(namePart, "__") || !wheelNameRe.MatchString(namePart) {
		return bad(fmt.Sprintf("invalid project name %q", namePart), nil)
	}
	v, err := pep440.Parse(parts[1])
	if err != nil {
		return bad(fmt.Sprintf("invalid version %q", parts[1]), err)
	}
	w := WheelFilename{Name: names.Canonical(namePart), Version: v, Filename: s}
	if dashes == 5 {
		m := buildRe.FindStringSubmatch(parts[2])
		if m == nil {
			return bad(fmt.Sprintf("build tag %q must start with a digit", parts[2]), nil)
		}
		n, err := strconv.Atoi(m[1])
		if err != nil {
			return bad(fmt.Sprintf("build number %q is too large", m[1]), err)
		}
		rest := m[2]
		if i := strings.IndexByte(rest, '\n'); i >= 0 { // packaging's (.*) stops at a newline
			rest = rest[:i]
		}
		w.HasBuild, w.BuildNum, w.BuildTag = true, n, rest
	}
	ts, err := ParseTagWith(parts[len(parts)-1], o)
	if err != nil {
		return bad("invalid tag set", err)
	}
	w.Tags = ts
	return w, nil
}

// Build returns the build tag as written ("1000abc"), or "" without one.
func (w WheelFilename) Build() string {
	if !w.HasBuild {
		return ""
	}
	return strconv.Itoa(w.BuildNum) + w.BuildTag
}

// Normalized composes the canonical filename for w, as packaging's
// compose_wheel_filename does: name with "-" as "_", normalised version,
// build tag, and the tag set compressed with sorted components.
func (w WheelFilename) Normalized() string {
	parts := []string{strings.ReplaceAll(names.Canonical(w.Name), "-", "_"), w.Version.String()}
	if w.HasBuild {
		parts = append(parts, w.Build())
	}
	parts = append(parts, CompressTags(w.Tags))
	return strings.Join(parts, "-") + ".whl"
}

// ParseSdistFilename parses "{name}-{version}.tar.gz" or ".zip", splitting on
// the last "-" (a PEP 440 version has none), as packaging's
// parse_sdist_filename does. The name is canonicalised but, as in packaging,
// not otherwise validated beyond being non-empty.
func ParseSdistFilename(s string) (SdistFilename, error) {
	bad := func(reason string, err error) (SdistFilename, error) {
		return SdistFilename{}, &FilenameError{Kind: "sdist", Filename: s, Reason: reason, Err: err}
	}
	stem, ok := strings.CutSuffix(s, ".tar.gz")
	if !ok {
		stem, ok = strings.CutSuffix(s, ".zip")
	}
	if !ok {
		return bad("extension must be .tar.gz or .zip", nil)
	}
	i := strings.LastIndexByte(stem, '-')
	if i < 0 {
		return bad("want name-version", nil)
	}
	if i == 0 {
		return bad("empty project name", nil)
	}
	v, err := pep440.Parse(stem[i+1:])
	if err != nil {
		return bad(fmt.Sprintf("invalid version %q", stem[i+1:]), err)
	}
	return SdistFilename{Name: names.Canonical(stem[:i]), Version: v, Filename: s}, nil
}
