package pep508

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
)

// differential.json records what pypa/packaging (the version named in the
// file) makes of the conformance strings and of mutations of them:
// testdata/gen_differential.py regenerates it. These tests hold pep508 to
// the same accept/reject decisions, the same error text, the same printed
// form and the same evaluation results.

type diffFile struct {
	Packaging    string        `json:"packaging"`
	Envs         []Environment `json:"envs"`
	Markers      []diffRecord  `json:"markers"`
	Requirements []diffRecord  `json:"requirements"`
}

type diffRecord struct {
	In       string   `json:"in"`
	Error    *string  `json:"error"`
	Str      *string  `json:"str"`
	StrError bool     `json:"str_error"`
	Eval     []string `json:"eval"`
	Name     string   `json:"name"`
	Extras   []string `json:"extras"`
	URL      string   `json:"url"`
}

func loadDifferential(t *testing.T) diffFile {
	t.Helper()
	data, err := os.ReadFile("testdata/differential.json")
	if err != nil {
		t.Fatalf("reading the differential corpus: %v", err)
	}
	var d diffFile
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("decoding testdata/differential.json: %v", err)
	}
	if len(d.Markers) == 0 || len(d.Requirements) == 0 {
		t.Fatal("empty differential corpus")
	}
	return d
}

// printsDifferently reports inputs whose printed form pep508 deliberately
// does not share with packaging: packaging prints such values raw (or
// raises), which does not parse back.
func printsDifferently(r diffRecord) bool {
	return r.StrError || (r.Str != nil && strings.ContainsAny(*r.Str, "\\\n\r\x00"))
}

// goCannot reports inputs Go deliberately rejects where Python accepts:
// \N{...} escapes and escaped lone surrogates in marker strings.
func goCannot(s string) bool {
	return strings.Contains(s, `\N`) || strings.Contains(s, `\ud`) || strings.Contains(s, `\uD`)
}

func TestDifferentialMarkers(t *testing.T) {
	d := loadDifferential(t)
	agree, special := 0, 0
	for _, r := range d.Markers {
		m, err := ParseMarker(r.In)
		if r.Error != nil {
			if err == nil {
				t.Errorf("ParseMarker(%q) = %q, packaging rejects it:\n%s", r.In, m, *r.Error)
			} else if err.Error() != *r.Error {
				t.Errorf("ParseMarker(%q) error\n%s\npackaging:\n%s", r.In, err, *r.Error)
			} else {
				agree++
			}
			continue
		}
		if err != nil {
			if goCannot(r.In) {
				special++
				continue
			}
			t.Errorf("ParseMarker(%q): %v; packaging accepts it as %v", r.In, err, deref(r.Str))
			continue
		}
		differs := printsDifferently(r)
		if !differs && m.String() != *r.Str {
			t.Errorf("ParseMarker(%q).String() = %q, packaging %q", r.In, m.String(), *r.Str)
			continue
		}
		for i, e := range d.Envs {
			got, err := m.EvaluateErr(e)
			want := r.Eval[i]
			var gotS string
			switch err.(type) {
			case nil:
				gotS = map[bool]string{true: "True", false: "False"}[got]
			case *UndefinedComparisonError:
				gotS = "UndefinedComparison"
			case *UndefinedEnvironmentNameError:
				gotS = "UndefinedEnvironmentName"
			default:
				gotS = err.Error()
			}
			if gotS != want {
				t.Errorf("%q in env %d = %s, packaging %s", r.In, i, gotS, want)
			}
		}
		if differs {
			special++
		} else {
			agree++
		}
	}
	t.Logf("markers vs packaging %s: %d agree, %d deliberate differences, of %d", d.Packaging, agree, special, len(d.Markers))
}

func TestDifferentialRequirements(t *testing.T) {
	d := loadDifferential(t)
	agree, special := 0, 0
	for _, r := range d.Requirements {
		req, err := ParseRequirement(r.In)
		if r.Error != nil {
			if err == nil {
				t.Errorf("ParseRequirement(%q) = %q, packaging rejects it:\n%s", r.In, req, *r.Error)
				continue
			}
			// packaging's InvalidSpecifier messages carry no caret; only
			// the decision is compared for those.
			if strings.Contains(*r.Error, "\n") && err.Error() != *r.Error {
				t.Errorf("ParseRequirement(%q) error\n%s\npackaging:\n%s", r.In, err, *r.Error)
				continue
			}
			agree++
			continue
		}
		if err != nil {
			if goCannot(r.In) {
				special++
				continue
			}
			t.Errorf("ParseRequirement(%q): %v; packaging accepts it as %v", r.In, err, deref(r.Str))
			continue
		}
		if req.Name != r.Name || req.URL != r.URL || !slices.Equal(req.Extras, r.Extras) && len(req.Extras)+len(r.Extras) > 0 {
			t.Errorf("ParseRequirement(%q) = name %q extras %q url %q; packaging %q %q %q", r.In, req.Name, req.Extras, req.URL, r.Name, r.Extras, r.URL)
			continue
		}
		if printsDifferently(r) {
			special++
			continue
		}
		if req.String() != *r.Str {
			t.Errorf("ParseRequirement(%q).String() = %q, packaging %q", r.In, req.String(), *r.Str)
			continue
		}
		agree++
	}
	t.Logf("requirements vs packaging %s: %d agree, %d deliberate differences, of %d", d.Packaging, agree, special, len(d.Requirements))
}

func deref(s *string) string {
	if s == nil {
		return "<unprintable>"
	}
	return *s
}
