package metadata

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// everything is a METADATA file in the spirit of packaging's
// tests/metadata/everything.metadata: every field, folded values, a body.
const everything = `Metadata-Version: 2.4
Name: BeagleVote
Version: 1.0a2
Platform: ObscureUnix
Platform: RareDOS
Supported-Platform: RedHat 7.2
Summary: A module for collecting votes from beagles.
Description-Content-Type: text/markdown; charset=UTF-8; variant=GFM
Keywords: dog,puppy,voting,election
Home-page: http://www.example.com/~cschultz/bvote/
Author: C. Schultz, Universal Features Syndicate,
        Los Angeles, CA <cschultz@peanuts.example.com>
License-Expression: Apache-2.0 OR BSD-2-Clause
License-File: LICENSE.APACHE
Classifier: Development Status :: 4 - Beta
Requires-Dist: reportlab; extra == 'pdf'
Requires-Dist: pkginfo
Requires-Dist: PasteDeploy
Requires-Dist: zope.interface (>3.5.0)
Requires-Dist: pywin32 >1.0; sys_platform == 'win32'
Requires-Python: >=3
Requires-External: C
Project-URL: Bug Tracker, http://bitbucket.org/tarek/distribute/issues/
Provides-Extra: pdf
Provides-Extra: PDF
Dynamic: Obsoletes-Dist
ThisIsNotReal: Hello!

This description intentionally left blank.
`

func TestEverything(t *testing.T) {
	m, err := Parse([]byte(everything))
	if err != nil {
		t.Fatal(err)
	}
	if m.MetadataVersion != "2.4" || m.Name != "BeagleVote" || m.Version.String() != "1.0a2" {
		t.Errorf("got %q %q %q", m.MetadataVersion, m.Name, m.Version)
	}
	if m.Summary != "A module for collecting votes from beagles." {
		t.Errorf("summary %q", m.Summary)
	}
	var reqs []string
	for _, r := range m.RequiresDist {
		reqs = append(reqs, r.String())
	}
	want := []string{`reportlab; extra == "pdf"`, "pkginfo", "PasteDeploy", "zope.interface>3.5.0", `pywin32>1.0; sys_platform == "win32"`}
	if !slices.Equal(reqs, want) {
		t.Errorf("requires-dist %q, want %q", reqs, want)
	}
	if m.RequiresPython.String() != ">=3" {
		t.Errorf("requires-python %q", m.RequiresPython)
	}
	if !slices.Equal(m.ProvidesExtra, []string{"pdf"}) {
		t.Errorf("provides-extra %q", m.ProvidesExtra)
	}
	if !slices.Equal(m.Dynamic, []string{"obsoletes-dist"}) || !m.IsDynamic("Obsoletes-Dist") || m.IsDynamic("requires-dist") {
		t.Errorf("dynamic %q", m.Dynamic)
	}
	if !m.DependenciesStatic() {
		t.Error("2.4 with no dependency field dynamic: dependencies are static")
	}
	if m.Description != "This description intentionally left blank.\n" {
		t.Errorf("description %q", m.Description)
	}
	if len(m.Warnings) != 0 {
		t.Errorf("warnings %q", m.Warnings)
	}
}

func TestHeaders(t *testing.T) {
	h := parseHeaders([]byte("\xef\xbb\xbfmetadata-VERSION: 2.1\r\nName:   x \r\nAuthor: a\r\n  b\r\n:empty\r\nName: y\rRequires-Dist: z\n\nbody\r\nmore"))
	if got := h.fields["metadata-version"]; !slices.Equal(got, []string{"2.1"}) {
		t.Errorf("metadata-version %q", got)
	}
	if got := h.fields["name"]; !slices.Equal(got, []string{"x ", "y"}) {
		t.Errorf("name %q", got)
	}
	if got := h.fields["author"]; !slices.Equal(got, []string{"a\n  b"}) {
		t.Errorf("author %q", got)
	}
	if got := h.fields["requires-dist"]; !slices.Equal(got, []string{"z"}) {
		t.Errorf("requires-dist %q", got)
	}
	if h.body != "body\r\nmore" {
		t.Errorf("body %q", h.body)
	}
	// A line that is not a header starts the body, as in Python's parser.
	h = parseHeaders([]byte("Name: x\nnot a header\nVersion: 1\n"))
	if len(h.fields["version"]) != 0 || h.body != "not a header\nVersion: 1\n" {
		t.Errorf("fields %q body %q", h.fields, h.body)
	}
}

func TestDescription(t *testing.T) {
	base := "Metadata-Version: 2.1\nName: x\nVersion: 1\n"
	m, err := Parse([]byte(base + "Description: header\n"))
	if err != nil || m.Description != "header" {
		t.Errorf("header description: %q, %v", m.Description, err)
	}
	m, err = Parse([]byte(base + "Description: header\n\nbody"))
	if err != nil || m.Description != "body" || len(m.Warnings) != 1 {
		t.Errorf("both: %q, %q, %v", m.Description, m.Warnings, err)
	}
	m, err = Parse([]byte(base + "\n\xc0msterdam"))
	if err != nil || m.Description != "" || len(m.Warnings) != 1 {
		t.Errorf("non-UTF-8 body: %q, %q, %v", m.Description, m.Warnings, err)
	}
}

func TestInvalidFiles(t *testing.T) {
	for _, tc := range []struct {
		text   string
		fields []string
		msg    string
	}{
		{"Metadata-Version: 3.0\nName: x\nVersion: 1\n", []string{"metadata-version"}, "1.0 to 2.x"},
		{"Metadata-Version: two\nName: x\nVersion: 1\n", []string{"metadata-version"}, "not a valid metadata version"},
		{"Metadata-Version: 2.1\nName: x\nVersion: 1\nRequires-Dist: foo (>=1.0\n", []string{"requires-dist"}, "Expected matching RIGHT_PARENTHESIS"},
		{"Metadata-Version: 2.1\nName: x y\nVersion: 1\n", []string{"name"}, "'x y' is invalid for 'name'"},
		{"Metadata-Version: 2.2\nName: x\nVersion: 1\nDynamic: Version\n", []string{"dynamic"}, "'version' is not allowed"},
		{"Metadata-Version: 2.1\nName: \xff\nVersion: 1\n", []string{"name"}, "not valid UTF-8"},
		{"Metadata-Version: 2.1\nName: x\nName: x\nVersion: 1\nVersion: 1\n", []string{"name", "version"}, "appears 2 times"},
	} {
		_, err := Parse([]byte(tc.text))
		got := fieldsOf(Fields(err))
		if !slices.Equal(got, tc.fields) {
			t.Errorf("Parse(%q) fails on %q, want %q (%v)", tc.text, got, tc.fields, err)
			continue
		}
		if !strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), "metadata field "+headerName(tc.fields[0])) {
			t.Errorf("Parse(%q) error %q, want it to name the field and say %q", tc.text, err, tc.msg)
		}
		var fe *FieldError
		if !errors.As(err, &fe) {
			t.Errorf("Parse(%q) error %T is not a *FieldError", tc.text, err)
		}
	}
}

func TestLenientFiles(t *testing.T) {
	for _, tc := range []struct {
		text, warning string
	}{
		{"Metadata-Version: 2.0\nName: six\nVersion: 1.10.0\nProvides-Extra: test\n", "Metadata-Version: '2.0' is not a version this tool knows"},
		{"Metadata-Version: 2.1\nName: x\nVersion: 1\nRequires-Python: >=3.6.*\n", "Requires-Python: '>=3.6.*' is invalid"},
		{"Metadata-Version: 2.1\nName: x\nVersion: 1\nProvides-Extra: -bad\n", "Provides-Extra: '-bad' is invalid"},
		{"Metadata-Version: 1.0\nName: x\nVersion: 1\nRequires-Dist: y\n", "Requires-Dist: requires-dist introduced in metadata version 1.2, not 1.0"},
		{"Metadata-Version: 2.1\nName: x\nVersion: 1\nSummary: a\n  b\n", "Summary: 'summary' must be a single line"},
		{"Metadata-Version: 2.1\nName: x\nVersion: 1\nRequires-Python: >=3\nRequires-Python: >=2\n", "Requires-Python: appears 2 times"},
	} {
		m, err := Parse([]byte(tc.text))
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.text, err)
			continue
		}
		found := false
		for _, w := range m.Warnings {
			found = found || strings.HasPrefix(w, tc.warning)
		}
		if !found {
			t.Errorf("Parse(%q) warnings %q, want %q", tc.text, m.Warnings, tc.warning)
		}
	}
}

func TestDependenciesStatic(t *testing.T) {
	for text, want := range map[string]bool{
		"Metadata-Version: 2.1\nName: x\nVersion: 1\n":                           false,
		"Metadata-Version: 2.2\nName: x\nVersion: 1\n":                           true,
		"Metadata-Version: 2.2\nName: x\nVersion: 1\nDynamic: Requires-Dist\n":   false,
		"Metadata-Version: 2.3\nName: x\nVersion: 1\nDynamic: requires-python\n": false,
		"Metadata-Version: 2.4\nName: x\nVersion: 1\nDynamic: Provides-Extra\n":  false,
		"Metadata-Version: 2.4\nName: x\nVersion: 1\nDynamic: Summary\n":         true,
	} {
		m, err := Parse([]byte(text))
		if err != nil {
			t.Fatal(err)
		}
		if m.DependenciesStatic() != want {
			t.Errorf("DependenciesStatic(%q) = %v, want %v", text, !want, want)
		}
	}
}

// Before Metadata-Version 2.2 Dynamic means nothing: even Name listed there
// is only a warning.
func TestDynamicBefore22(t *testing.T) {
	m, err := Parse([]byte("Metadata-Version: 2.1\nName: x\nVersion: 1\nDynamic: Name\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Warnings) != 2 {
		t.Errorf("warnings %q, want the field's age and the disallowed entry", m.Warnings)
	}
}
