package metadata

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/lambdapack/lambdapack/internal/names"
	"github.com/lambdapack/lambdapack/internal/pep440"
	"github.com/lambdapack/lambdapack/internal/pep508"
)

// Metadata is the part of a distribution's core metadata that lambdapack
// uses.
type Metadata struct {
	MetadataVersion string // as written, e.g. "2.1"
	Name            string // as written; compare with names.Canonical
	Version         pep440.Version
	RequiresDist    []pep508.Requirement
	RequiresPython  pep440.SpecifierSet // empty when absent or invalid (see Warnings)
	ProvidesExtra   []string            // PEP 685-normalised, in file order, without duplicates
	Dynamic         []string            // lower-cased field names, e.g. "requires-dist"
	Summary         string
	Description     string // the body, or the Description header when there is no body

	// Warnings says what Parse tolerated, one sentence each, naming the
	// field: things packaging rejects but pip and uv install anyway.
	Warnings []string
}

// FieldError is one reason a metadata file is invalid.
type FieldError struct {
	Field string // lower-case header name, e.g. "requires-dist"
	Msg   string // packaging's wording, e.g. "'a.b.c' is invalid for 'version'"
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("metadata field %s: %s", headerName(e.Field), e.Msg)
}

// knownVersions are the Metadata-Version values packaging accepts, oldest
// first.
var knownVersions = []string{"1.0", "1.1", "1.2", "2.1", "2.2", "2.3", "2.4", "2.5", "2.6"}

// introduced says in which metadata version a field appeared.
var introduced = map[string]string{
	"requires-dist":   "1.2",
	"requires-python": "1.2",
	"provides-extra":  "2.1",
	"dynamic":         "2.2",
}

// coreFields are the fields of the core metadata specification (lower
// case), the names Dynamic may list.
var coreFields = map[string]bool{}

func init() {
	for _, f := range strings.Fields(`author author-email classifier description description-content-type
		download-url dynamic home-page import-name import-namespace keywords license license-expression
		license-file maintainer maintainer-email metadata-version name obsoletes obsoletes-dist platform
		project-url provides provides-dist provides-extra requires requires-dist requires-external
		requires-python summary supported-platform version`) {
		coreFields[f] = true
	}
}

// headerName spells a lower-case field name the way the specification does.
func headerName(field string) string {
	switch field {
	case "home-page":
		return "Home-page"
	case "author-email":
		return "Author-email"
	case "maintainer-email":
		return "Maintainer-email"
	case "project-url":
		return "Project-URL"
	case "download-url":
		return "Download-URL"
	}
	parts := strings.Split(field, "-")
	for i, p := range parts {
		if p != "" {
			parts[i] = strings.ToUpper(p[:1]) + p[1:]
		}
	}
	return strings.Join(parts, "-")
}

// Parse reads a METADATA or PKG-INFO file. On an invalid file it returns a
// *FieldError, or several joined with errors.Join (one per bad field).
func Parse(data []byte) (*Metadata, error) {
	m, errs := build(parseHeaders(data))
	if len(errs) == 1 {
		return nil, errs[0]
	}
	if len(errs) > 1 {
		joined := make([]error, len(errs))
		for i, e := range errs {
			joined[i] = e
		}
		return nil, errors.Join(joined...)
	}
	return m, nil
}

// Fields lists every *FieldError in an error returned by Parse.
func Fields(err error) []*FieldError {
	var out []*FieldError
	var walk func(error)
	walk = func(err error) {
		switch e := err.(type) {
		case *FieldError:
			out = append(out, e)
		case interface{ Unwrap() []error }:
			for _, x := range e.Unwrap() {
				walk(x)
			}
		case interface{ Unwrap() error }:
			walk(e.Unwrap())
		}
	}
	walk(err)
	return out
}

// IsDynamic reports whether the file lists field (any case) as Dynamic.
func (m *Metadata) IsDynamic(field string) bool {
	return slices.Contains(m.Dynamic, strings.ToLower(field))
}

// DependenciesStatic reports whether an sdist's PKG-INFO can stand in for
// the built wheel's dependencies (PEP 643): Metadata-Version 2.2 or later
// and none of Requires-Dist, Requires-Python, Provides-Extra is Dynamic.
func (m *Metadata) DependenciesStatic() bool {
	major, minor, ok := splitVersion(m.MetadataVersion)
	if !ok || major < 2 || (major == 2 && minor < 2) {
		return false
	}
	return !m.IsDynamic("requires-dist") && !m.IsDynamic("requires-python") && !m.IsDynamic("provides-extra")
}

var metadataVersionRe = regexp.MustCompile(`^[0-9]+\.[0-9]+$`)

func splitVersion(v string) (major, minor int, ok bool) {
	if !metadataVersionRe.MatchString(v) {
		return 0, 0, false
	}
	a, b, _ := strings.Cut(v, ".")
	major, err1 := strconv.Atoi(a)
	minor, err2 := strconv.Atoi(b)
	return major, minor, err1 == nil && err2 == nil
}

// olderThan reports whether metadata version v predates version w; an
// unparsable v is not older.
func olderThan(v, w string) bool {
	a1, b1, ok1 := splitVersion(v)
	a2, b2, _ := splitVersion(w)
	return ok1 && (a1 < a2 || a1 == a2 && b1 < b2)
}

// lineBoundary is packaging's _LINE_BOUNDARY_RE: what str.splitlines splits on.
var lineBoundary = regexp.MustCompile("\r\n|[\n\r\v\f\x1c\x1d\x1e\u0085\u2028\u2029]")

// build turns parsed headers into Metadata, collecting every error.
func build(h headers) (*Metadata, []*FieldError) {
	m := &Metadata{}
	var errs []*FieldError
	fail := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	warn := func(field, format string, args ...any) {
		m.Warnings = append(m.Warnings, headerName(field)+": "+fmt.Sprintf(format, args...))
	}
	// values returns the field's values, rejecting invalid UTF-8.
	values := func(field string, strict bool) []string {
		var out []string
		for _, v := range h.fields[field] {
			if !utf8.ValidString(v) {
				if strict {
					fail(field, "%s is not valid UTF-8", pyRepr(strings.ToValidUTF8(v, "\uFFFD")))
				} else {
					warn(field, "ignoring a value that is not valid UTF-8")
				}
				continue
			}
			out = append(out, v)
		}
		return out
	}
	// single returns the one value of a required single-use field.
	single := func(field string) (string, bool) {
		vs := h.fields[field]
		switch {
		case len(vs) == 0:
			fail(field, "%s is a required field", pyRepr(field))
			return "", false
		case len(vs) > 1:
			fail(field, "%s has invalid data (it appears %d times)", pyRepr(field), len(vs))
			return "", false
		}
		vs = values(field, true)
		if len(vs) == 0 {
			return "", false
		}
		return vs[0], true
	}
	// optional returns the first value of an optional single-use field.
	optional := func(field string) (string, bool) {
		vs := values(field, false)
		if len(vs) > 1 {
			warn(field, "appears %d times; using the first", len(vs))
		}
		if len(vs) == 0 {
			return "", false
		}
		return vs[0], true
	}

	if v, ok := single("metadata-version"); ok {
		if err := checkMetadataVersion(v); err != nil {
			errs = append(errs, err)
		} else {
			m.MetadataVersion = v
			if !slices.Contains(knownVersions, v) {
				warn("metadata-version", "%s is not a version this tool knows; reading it as the closest one", pyRepr(v))
			}
		}
	}
	if v, ok := single("name"); ok {
		if fe := checkName(v); fe != nil {
			errs = append(errs, fe)
		} else {
			m.Name = v
		}
	}
	if v, ok := single("version"); ok {
		if ver, fe := checkVersion(v); fe != nil {
			errs = append(errs, fe)
		} else {
			m.Version = ver
		}
	}
	if v, ok := optional("summary"); ok {
		m.Summary = v
		if w := checkSummary(v); w != "" {
			warn("summary", "%s", w)
		}
	}
	for _, v := range values("requires-dist", true) {
		r, fe := checkRequirement(v)
		if fe != nil {
			errs = append(errs, fe)
			continue
		}
		m.RequiresDist = append(m.RequiresDist, r)
	}
	if v, ok := optional("requires-python"); ok {
		set, w := checkRequiresPython(v)
		if w != "" {
			warn("requires-python", "%s; ignoring it, as pip does", w)
		}
		m.RequiresPython = set
	}
	extras, ws := checkProvidesExtra(values("provides-extra", false))
	m.ProvidesExtra = extras
	for _, w := range ws {
		warn("provides-extra", "%s; ignoring it, as uv does", w)
	}
	dyn, dynErrs, dynWarns := checkDynamic(values("dynamic", false))
	m.Dynamic = dyn
	if olderThan(m.MetadataVersion, "2.2") {
		// Before 2.2 Dynamic means nothing (a warning below says so), so
		// its rules do not apply either.
		for _, e := range dynErrs {
			dynWarns = append(dynWarns, e.Msg)
		}
	} else {
		errs = append(errs, dynErrs...)
	}
	for _, w := range dynWarns {
		warn("dynamic", "%s", w)
	}

	if m.MetadataVersion != "" {
		for _, field := range []string{"requires-dist", "requires-python", "provides-extra", "dynamic"} {
			if len(h.fields[field]) > 0 && olderThan(m.MetadataVersion, introduced[field]) {
				warn(field, "%s introduced in metadata version %s, not %s", field, introduced[field], m.MetadataVersion)
			}
		}
	}

	desc := values("description", false)
	switch {
	case h.body != "" && len(desc) > 0:
		warn("description", "given both as a header and as the body; using the body")
		m.Description = h.body
	case h.body != "":
		m.Description = h.body
	case len(desc) > 0:
		m.Description = desc[0]
	}
	if !utf8.ValidString(m.Description) {
		warn("description", "not valid UTF-8; ignoring it")
		m.Description = ""
	}
	return m, errs
}

func checkMetadataVersion(v string) *FieldError {
	major, _, ok := splitVersion(v)
	switch {
	case !ok:
		return &FieldError{Field: "metadata-version", Msg: fmt.Sprintf("%s is not a valid metadata version", pyRepr(v))}
	case major < 1 || major > 2:
		return &FieldError{Field: "metadata-version", Msg: fmt.Sprintf("%s is not a metadata version this tool can read (it reads 1.0 to 2.x)", pyRepr(v))}
	}
	return nil
}

func checkName(v string) *FieldError {
	if v == "" {
		return &FieldError{Field: "name", Msg: "'name' is a required field"}
	}
	if !names.Valid(v) {
		return &FieldError{Field: "name", Msg: fmt.Sprintf("%s is invalid for 'name'", pyRepr(v))}
	}
	return nil
}

func checkVersion(v string) (pep440.Version, *FieldError) {
	if v == "" {
		return pep440.Version{}, &FieldError{Field: "version", Msg: "'version' is a required field"}
	}
	ver, err := pep440.Parse(v)
	if err != nil {
		return pep440.Version{}, &FieldError{Field: "version", Msg: fmt.Sprintf("%s is invalid for 'version'", pyRepr(v))}
	}
	return ver, nil
}

// checkSummary returns a warning for a summary that is not one line.
func checkSummary(v string) string {
	if lineBoundary.MatchString(v) {
		return "'summary' must be a single line"
	}
	return ""
}

func checkRequirement(v string) (pep508.Requirement, *FieldError) {
	r, err := pep508.ParseRequirement(v)
	if err != nil {
		return r, &FieldError{Field: "requires-dist", Msg: fmt.Sprintf("%s is invalid for 'requires-dist': %v", pyRepr(v), err)}
	}
	return r, nil
}

func checkRequiresPython(v string) (pep440.SpecifierSet, string) {
	set, err := pep440.ParseSpecifierSet(v)
	if err != nil {
		return pep440.SpecifierSet{}, fmt.Sprintf("%s is invalid for 'requires-python'", pyRepr(v))
	}
	return set, ""
}

func checkProvidesExtra(vs []string) (extras, warnings []string) {
	for _, v := range vs {
		if !names.Valid(v) {
			warnings = append(warnings, fmt.Sprintf("%s is invalid for 'provides-extra'", pyRepr(v)))
			continue
		}
		if c := names.Canonical(v); !slices.Contains(extras, c) {
			extras = append(extras, c)
		}
	}
	return extras, warnings
}

func checkDynamic(vs []string) (fields []string, errs []*FieldError, warnings []string) {
	for _, v := range vs {
		f := strings.ToLower(v)
		switch {
		case f == "name" || f == "version" || f == "metadata-version":
			errs = append(errs, &FieldError{Field: "dynamic", Msg: fmt.Sprintf("%s is not allowed as a dynamic field", pyRepr(f))})
			continue
		case !coreFields[f]:
			warnings = append(warnings, fmt.Sprintf("%s is not a valid dynamic field", pyRepr(f)))
		}
		fields = append(fields, f)
	}
	return fields, errs, warnings
}

// pyRepr quotes s the way Python's repr() does, so messages read like
// packaging's.
func pyRepr(s string) string {
	q := byte('\'')
	if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == rune(q):
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
	return b.String()
}
