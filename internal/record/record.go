package record

import (
	"archive/zip"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Kind is what an artifact is.
type Kind string

// Kinds of artifacts.
const (
	KindLayer    Kind = "layer"
	KindFunction Kind = "function"
	KindImage    Kind = "image"
)

// ParseKind reads "layer", "function" or "image".
func ParseKind(s string) (Kind, error) {
	switch k := Kind(strings.ToLower(strings.TrimSpace(s))); k {
	case KindLayer, KindFunction, KindImage:
		return k, nil
	}
	return "", fmt.Errorf("unknown artifact kind %q: use layer, function or image", s)
}

// Layout is where a layer's packages go.
type Layout string

// Layer layouts.
const (
	// LayoutPython puts packages under python/ (every runtime reads it).
	LayoutPython Layout = "python"
	// LayoutSitePackages puts them under python/lib/python3.X/site-packages
	// (only that Python reads it; one folder per Python version).
	LayoutSitePackages Layout = "site-packages"
)

// ParseLayout reads "python" ("" too) or "site-packages".
func ParseLayout(s string) (Layout, error) {
	switch Layout(s) {
	case "", LayoutPython:
		return LayoutPython, nil
	case LayoutSitePackages:
		return LayoutSitePackages, nil
	}
	return "", fmt.Errorf("unknown layout %q: use python or site-packages", s)
}

// Prefix starts the archive comment lambdapack writes into its zips.
const Prefix = "lambdapack: "

// Label is the image config label that holds the record of an image.
const Label = "dev.lambdapack.record"

// maxComment is the zip format's limit on the archive comment's length.
const maxComment = 65535

// Record is what an artifact was built for.
type Record struct {
	// Kind is layer, function or image; "" in records written before
	// lambdapack recorded it.
	Kind Kind `json:"kind,omitempty"`
	// Runtime is the Lambda runtime the artifact was built for ("python3.12").
	Runtime string `json:"runtime,omitempty"`
	// Runtimes lists further runtimes it is compatible with, Runtime included
	// or not (publishing takes the union).
	Runtimes []string `json:"runtimes,omitempty"`
	// Architecture is the architecture it was built for ("x86_64" or "arm64").
	Architecture string `json:"architecture,omitempty"`
	// Architectures lists every architecture it fits, when more than one (an
	// artifact with no native code fits both).
	Architectures []string `json:"architectures,omitempty"`
	// Python is the Python version ("3.12").
	Python string `json:"python,omitempty"`
	// Handler is a function's handler ("app.handler"), when known.
	Handler string `json:"handler,omitempty"`
	// RequirementsSHA256 is the hex sha256 of the resolved requirements.
	RequirementsSHA256 string `json:"requirements_sha256,omitempty"`
	// Version is the lambdapack version that built the artifact.
	Version string `json:"version,omitempty"`
}

// Format returns the archive comment for r: Prefix followed by r as compact
// JSON, fields in a fixed order, so equal records give equal bytes.
func (r Record) Format() (string, error) {
	b, err := r.JSON()
	if err != nil {
		return "", err
	}
	s := Prefix + string(b)
	if len(s) > maxComment {
		return "", fmt.Errorf("encoding the artifact record: %d bytes is over the zip comment's %d", len(s), maxComment)
	}
	return s, nil
}

// JSON returns r as compact JSON (an image label's value).
func (r Record) JSON() ([]byte, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encoding the artifact record: %w", err)
	}
	return b, nil
}

// ErrNone means the comment (or label) is empty or is not lambdapack's.
var ErrNone = errors.New("no lambdapack record (the artifact was not built by lambdapack)")

// Parse parses an archive comment written by Format, or the bare JSON of an
// image label. It returns ErrNone when s is neither.
func Parse(s string) (Record, error) {
	var r Record
	s = strings.TrimSpace(s)
	rest, ok := strings.CutPrefix(s, Prefix)
	if !ok {
		// Be lenient about the space after the colon.
		rest, ok = strings.CutPrefix(s, strings.TrimSpace(Prefix))
	}
	if !ok {
		if !strings.HasPrefix(s, "{") {
			return r, ErrNone
		}
		rest = s
	}
	if err := json.Unmarshal([]byte(rest), &r); err != nil {
		return r, fmt.Errorf("parsing the lambdapack record %q: %w", truncate(rest, 120), err)
	}
	return r, nil
}

// ReadZip reads and parses the record of the zip at path.
func ReadZip(path string) (Record, error) {
	z, err := zip.OpenReader(path)
	if err != nil {
		return Record{}, fmt.Errorf("opening %s as a zip: %w", path, err)
	}
	defer z.Close()
	if !strings.HasPrefix(strings.TrimSpace(z.Comment), strings.TrimSpace(Prefix)) {
		// A zip's comment is lambdapack's only with the prefix (bare JSON
		// is an image label's form).
		return Record{}, fmt.Errorf("%s: %w", path, ErrNone)
	}
	r, err := Parse(z.Comment)
	if err != nil {
		return r, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// CompatibleRuntimes returns the union of Runtime and Runtimes, sorted.
func (r Record) CompatibleRuntimes() []string {
	return union(append([]string{r.Runtime}, r.Runtimes...))
}

// CompatibleArchitectures returns the union of Architecture and
// Architectures, sorted.
func (r Record) CompatibleArchitectures() []string {
	return union(append([]string{r.Architecture}, r.Architectures...))
}

// Pure reports whether the record says the artifact fits both
// architectures (it holds no native code).
func (r Record) Pure() bool {
	a := r.CompatibleArchitectures()
	return slices.Contains(a, "x86_64") && slices.Contains(a, "arm64")
}

func union(in []string) []string {
	var out []string
	for _, s := range in {
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// InferKind tells a layer from a function by what a zip holds, for
// artifacts without a record (or with one written before records carried
// their kind). paths are the zip's member names, slash-separated.
//
// A layer keeps its packages under python/ (python/lib/python3.X/
// site-packages included), because Lambda extracts it to /opt; a function
// keeps its code and packages at the root, extracted to /var/task. So:
// files under python/ and no code at the root say layer; code at the root
// (a .py file, a package folder with __init__.py, a .dist-info folder) and
// nothing under python/ say function. Anything else (both, or neither: a
// layer of binaries under bin/ and lib/, say) is "" (unknown), and callers
// must not guess.
func InferKind(paths []string) Kind {
	underPython, rootCode := false, false
	for _, p := range paths {
		p = strings.TrimPrefix(p, "./")
		if strings.HasSuffix(p, "/") {
			continue // folders say nothing by themselves
		}
		top, rest, nested := strings.Cut(p, "/")
		switch {
		case top == "python" && nested:
			underPython = true
		case !nested && strings.HasSuffix(top, ".py"):
			rootCode = true
		case nested && strings.HasSuffix(top, ".dist-info"):
			rootCode = true
		case nested && rest == "__init__.py":
			rootCode = true
		}
	}
	switch {
	case underPython && !rootCode:
		return KindLayer
	case rootCode && !underPython:
		return KindFunction
	}
	return ""
}
