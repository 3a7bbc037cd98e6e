package metadata

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// testdata/differential.json records what pypa/packaging's
// Metadata.from_email(validate=True) makes of variants of one METADATA file
// (testdata/gen_differential.py regenerates it). Parse must reject a file on
// exactly the fields where packaging's complaint is one this package also
// treats as fatal, accept the rest, and read the same values.

type diffMeta struct {
	In              string      `json:"in"`
	Invalid         [][2]string `json:"invalid"`
	MetadataVersion string      `json:"metadata_version"`
	Name            string      `json:"name"`
	Version         string      `json:"version"`
	Summary         string      `json:"summary"`
	RequiresDist    []string    `json:"requires_dist"`
	RequiresPython  string      `json:"requires_python"`
	ProvidesExtra   []string    `json:"provides_extra"`
	Dynamic         []string    `json:"dynamic"`
	Description     string      `json:"description"`
}

var readableVersion = regexp.MustCompile(`^'[12]\.[0-9]+' is not a valid metadata version$`)

// fatal reports whether Parse also rejects the file for packaging's
// complaint msg about field (the others are Warnings here).
func fatal(field, msg string) bool {
	switch {
	case strings.Contains(msg, " introduced in metadata version "):
		return false
	case field == "metadata-version":
		return !readableVersion.MatchString(msg)
	case field == "name", field == "version", field == "requires-dist":
		return true
	case field == "dynamic":
		return strings.Contains(msg, "is not allowed as a dynamic field")
	}
	return false
}

func TestDifferentialMetadata(t *testing.T) {
	data, err := os.ReadFile("testdata/differential.json")
	if err != nil {
		t.Fatalf("reading the differential corpus: %v", err)
	}
	var d struct {
		Packaging string     `json:"packaging"`
		Files     []diffMeta `json:"files"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatal(err)
	}
	valid, rejected, lenient := 0, 0, 0
	for _, f := range d.Files {
		var want []string
		for _, inv := range f.Invalid {
			if fatal(inv[0], inv[1]) && !slices.Contains(want, inv[0]) {
				want = append(want, inv[0])
			}
		}
		sort.Strings(want)
		m, err := Parse([]byte(f.In))
		got := fieldsOf(Fields(err))
		if !slices.Equal(got, want) {
			t.Errorf("Parse(%q) fails on %q (%v); packaging: %q", f.In, got, err, f.Invalid)
			continue
		}
		if err != nil {
			rejected++
			continue
		}
		if len(f.Invalid) > 0 {
			onlyUnknown := true
			for _, inv := range f.Invalid {
				onlyUnknown = onlyUnknown && strings.HasPrefix(inv[1], "unrecognized field")
			}
			if len(m.Warnings) == 0 && !onlyUnknown {
				t.Errorf("Parse(%q) has no warning; packaging rejects it: %q", f.In, f.Invalid)
			}
			lenient++
			continue
		}
		var reqs []string
		for _, r := range m.RequiresDist {
			reqs = append(reqs, r.String())
		}
		if m.MetadataVersion != f.MetadataVersion || m.Name != f.Name || m.Version.String() != f.Version ||
			m.Summary != f.Summary || !slices.Equal(reqs, f.RequiresDist) || m.RequiresPython.String() != f.RequiresPython ||
			!slices.Equal(m.ProvidesExtra, unique(f.ProvidesExtra)) || !slices.Equal(m.Dynamic, f.Dynamic) ||
			m.Description != f.Description {
			t.Errorf("Parse(%q) = %+v; packaging %+v", f.In, m, f)
			continue
		}
		valid++
	}
	t.Logf("metadata vs packaging %s: %d read alike, %d rejected alike, %d accepted with warnings where packaging rejects, of %d",
		d.Packaging, valid, rejected, lenient, len(d.Files))
}

// unique drops repeated extras, which Parse lists once.
func unique(s []string) []string {
	var out []string
	for _, x := range s {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}
