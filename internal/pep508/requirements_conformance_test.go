package pep508

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/lambdapack/lambdapack/internal/pep440"
)

var requirementSkips = map[string]string{
	"TestRequirementBehaviour::test_compare_with_string":       "Python __eq__ against a str object",
	"test_requirement_slots":                                   "Python __slots__",
	"test_pickle_requirement_roundtrip":                        "pickle",
	"test_pickle_requirement_preserves_prereleases":            "pickle",
	"test_pickle_requirement_setstate_rejects_invalid_state":   "pickle",
	"test_pickle_requirement_setstate_rejects_invalid_string":  "pickle",
	"test_pickle_requirement_old_format_preserves_prereleases": "pickle",
	"test_pickle_requirement_26_2_format_loads":                "pickle",
	"test_pickle_requirement_new_format_preserves_prereleases": "pickle",
	"test_pickle_requirement_old_format_loads":                 "pickle",
	"test_pickle_requirement_26_0_format_loads":                "pickle",
	"test_pickle_requirement_25_0_format_loads":                "pickle",
}

func mustReq(s string) (Requirement, error) {
	r, err := ParseRequirement(s)
	if err != nil {
		return r, fmt.Errorf("ParseRequirement(%q): %v", s, err)
	}
	return r, nil
}

func reqRejected(s string) error {
	_, err := ParseRequirement(s)
	var pe *ParseError
	if !errors.As(err, &pe) {
		return fmt.Errorf("ParseRequirement(%q) = %v, want a *ParseError", s, err)
	}
	return nil
}

// exconly checks packaging's `ctx.exconly()` text for s.
func exconly(s, want string) error {
	_, err := ParseRequirement(s)
	if err == nil {
		return fmt.Errorf("ParseRequirement(%q) succeeded", s)
	}
	if got := "packaging.requirements.InvalidRequirement: " + err.Error(); got != want {
		return fmt.Errorf("error\n%s\nwant\n%s", got, want)
	}
	return nil
}

// exconlyFromBody runs the body vectors `Requirement(x)` then
// `ctx.exconly() == y`.
func exconlyFromBody(_ map[string]any, tc confTest) error {
	calls := bodyCalls(tc, "Requirement")
	want, ok := bodyCompare(tc, "ctx.exconly()")
	if len(calls) != 1 || !ok {
		return fmt.Errorf("body vectors hold %d Requirement calls and exconly %v", len(calls), ok)
	}
	return exconly(calls[0], want.(string))
}

func setOf(v any) []string {
	m, _ := v.(map[string]any)
	var out []string
	for _, x := range m["$set"].([]any) {
		out = append(out, x.(string))
	}
	sort.Strings(out)
	return out
}

func reqEqual(a, b string, want bool) error {
	ra, err := mustReq(a)
	if err != nil {
		return err
	}
	rb, err := mustReq(b)
	if err != nil {
		return err
	}
	if ra.Equal(rb) != want || rb.Equal(ra) != want {
		return fmt.Errorf("Equal(%q, %q) = %v, want %v", a, b, !want, want)
	}
	return nil
}

func TestRequirementsConformance(t *testing.T) {
	f := loadConformance(t, "test_requirements.json")
	h := map[string]rowFunc{
		"test_basic_valid_requirement_parsing": func(row map[string]any, _ confTest) error {
			ws, _ := str(row, "whitespace")
			name, _ := str(row, "name")
			extras := setOf(row["extras"])
			spec, _ := str(row, "specifier")
			url, hasURL := str(row, "url")
			marker, hasMarker := str(row, "marker")
			format := func(s string, ws string) string { return strings.ReplaceAll(s, "{ws}", ws) }
			parts := []string{name}
			if len(extras) > 0 {
				parts = append(parts, "[", strings.Join(extras, format("{ws},{ws}", ws)), "]")
			}
			if spec != "" {
				parts = append(parts, format(spec, ws))
			}
			if hasURL {
				parts = append(parts, "@", format(url, ws))
			}
			if hasMarker {
				if hasURL {
					parts = append(parts, " ;")
				} else {
					parts = append(parts, ";")
				}
				parts = append(parts, format(marker, ws))
			}
			toParse := strings.Join(parts, ws)
			r, err := mustReq(toParse)
			if err != nil {
				return err
			}
			if r.Name != name {
				return fmt.Errorf("%q: name %q, want %q", toParse, r.Name, name)
			}
			if !slices.Equal(r.Extras, extras) && !(len(r.Extras) == 0 && len(extras) == 0) {
				return fmt.Errorf("%q: extras %q, want %q", toParse, r.Extras, extras)
			}
			if r.URL != url {
				return fmt.Errorf("%q: url %q, want %q", toParse, r.URL, url)
			}
			wantSpec, err := pep440.ParseSpecifierSet(strings.Trim(format(spec, ""), "()"))
			if err != nil {
				return err
			}
			if !r.Specifier.Equal(wantSpec) {
				return fmt.Errorf("%q: specifier %q, want %q", toParse, r.Specifier, wantSpec)
			}
			if hasMarker {
				m, err := mustMarker(format(marker, ""))
				if err != nil {
					return err
				}
				if r.Marker.String() != m.String() {
					return fmt.Errorf("%q: marker %q, want %q", toParse, r.Marker, m)
				}
			} else if r.Marker != nil {
				return fmt.Errorf("%q: marker %q, want none", toParse, r.Marker)
			}
			return nil
		},
		"test_normalized_requirements": func(row map[string]any, _ confTest) error {
			in, _ := str(row, "input_req")
			want, _ := str(row, "norm_req")
			r, err := mustReq(in)
			if err != nil {
				return err
			}
			if r.String() != want {
				return fmt.Errorf("String(%q) = %q, want %q", in, r.String(), want)
			}
			return nil
		},
		"test_requirement_marker_with_embedded_double_quote_round_trips": func(_ map[string]any, tc confTest) error {
			want, _ := bodyCompare(tc, "str(req)")
			in := `demo; 'a" == os_name or python_version >= "0" or "b' == os_name`
			if want != in {
				return fmt.Errorf("body vectors changed: %q", want)
			}
			r, err := mustReq(in)
			if err != nil {
				return err
			}
			if r.String() != in {
				return fmt.Errorf("String = %q, want %q", r.String(), in)
			}
			if r.Marker == nil || r.Marker.Evaluate(hostEnv) {
				return fmt.Errorf("marker %v should evaluate false", r.Marker)
			}
			rt, err := mustReq(r.String())
			if err != nil {
				return err
			}
			if rt.Marker == nil || rt.Marker.Evaluate(hostEnv) {
				return fmt.Errorf("round-tripped marker %v should evaluate false", rt.Marker)
			}
			return nil
		},
		"TestRequirementParsing::test_valid_marker": func(row map[string]any, _ confTest) error {
			m, _ := str(row, "marker")
			_, err := mustReq("name; " + m)
			return err
		},
		"TestRequirementParsing::test_file_url": func(row map[string]any, _ confTest) error {
			u, _ := str(row, "url")
			r, err := mustReq("name @ " + u)
			if err != nil {
				return err
			}
			if r.URL != u {
				return fmt.Errorf("url %q, want %q", r.URL, u)
			}
			return nil
		},
		"TestRequirementParsing::test_error_when_suffixed_with_line_break": func(row map[string]any, _ confTest) error {
			r, _ := str(row, "requirement")
			lb, _ := str(row, "line_break")
			return reqRejected(r + lb)
		},
		"TestRequirementParsing::test_trailing_horizontal_whitespace": func(row map[string]any, _ confTest) error {
			ws, _ := str(row, "whitespace")
			return reqEqual("name>=1"+ws, "name>=1", true)
		},
		"TestRequirementParsing::test_empty_extras": func(map[string]any, confTest) error {
			r, err := mustReq("name[]")
			if err != nil {
				return err
			}
			if r.Name != "name" || len(r.Extras) != 0 {
				return fmt.Errorf("got %q %q", r.Name, r.Extras)
			}
			return nil
		},
		"TestRequirementParsing::test_empty_specifier": func(map[string]any, confTest) error {
			r, err := mustReq("name()")
			if err != nil {
				return err
			}
			if r.Name != "name" || !r.Specifier.IsEmpty() {
				return fmt.Errorf("got %q %q", r.Name, r.Specifier)
			}
			return nil
		},
		"TestRequirementParsing::test_error_when_specifier_set_rejects_parsed_specifier": func(map[string]any, confTest) error {
			return reqRejected("demo===x,y")
		},
		"TestRequirementParsing::test_error_when_empty_string":                                  exconlyFromBody,
		"TestRequirementParsing::test_error_no_name":                                            exconlyFromBody,
		"TestRequirementParsing::test_error_when_missing_comma_in_extras":                       exconlyFromBody,
		"TestRequirementParsing::test_error_when_trailing_comma_in_extras":                      exconlyFromBody,
		"TestRequirementParsing::test_error_when_parens_not_closed_correctly":                   exconlyFromBody,
		"TestRequirementParsing::test_error_when_prefix_match_is_used_incorrectly":              exconlyFromBody,
		"TestRequirementParsing::test_error_when_prefix_match_uses_post_release_without_spaces": exconlyFromBody,
		"TestRequirementParsing::test_error_when_bracket_not_closed_correctly":                  exconlyFromBody,
		"TestRequirementParsing::test_error_when_extras_bracket_left_unclosed":                  exconlyFromBody,
		"TestRequirementParsing::test_error_no_space_after_url":                                 exconlyFromBody,
		"TestRequirementParsing::test_error_marker_bracket_unclosed":                            exconlyFromBody,
		"TestRequirementParsing::test_error_no_url_after_at":                                    exconlyFromBody,
		"TestRequirementParsing::test_error_invalid_marker_lvalue":                              exconlyFromBody,
		"TestRequirementParsing::test_error_invalid_marker_rvalue":                              exconlyFromBody,
		"TestRequirementParsing::test_error_invalid_marker_notin_without_whitespace":            exconlyFromBody,
		"TestRequirementParsing::test_error_when_no_word_boundary":                              exconlyFromBody,
		"TestRequirementParsing::test_error_invalid_marker_not_without_in":                      exconlyFromBody,
		"TestRequirementParsing::test_error_invalid_marker_with_invalid_op":                     exconlyFromBody,
		"TestRequirementParsing::test_error_on_legacy_version_outside_triple_equals":            exconlyFromBody,
		"TestRequirementParsing::test_error_on_missing_version_after_op":                        exconlyFromBody,
		"TestRequirementParsing::test_error_on_missing_op_after_name":                           exconlyFromBody,
		"TestRequirementParsing::test_error_on_random_char_after_specifier":                     exconlyFromBody,
		"TestRequirementParsing::test_error_on_missing_comma_in_specifier":                      exconlyFromBody,
		// The body vectors of these two hold a garbled f-string; the input
		// and message are upstream's: f"name {operator} ..." with tildes
		// under the specifier.
		"TestRequirementParsing::test_error_when_prefix_match_uses_post_release": func(row map[string]any, _ confTest) error {
			op, _ := str(row, "operator")
			s := "name " + op + " 1.2.3.post4.*"
			return exconly(s, "packaging.requirements.InvalidRequirement: .* suffix cannot be used with pre-release, post-release, dev or local versions\n    "+
				s+"\n         "+strings.Repeat("~", len(op))+"~~~~~~~~~~~~~^")
		},
		"TestRequirementParsing::test_error_when_local_version_label_is_used_incorrectly": func(row map[string]any, _ confTest) error {
			op, _ := str(row, "operator")
			s := "name " + op + " 1.0+local.version.label"
			return exconly(s, "packaging.requirements.InvalidRequirement: Local version label can only be used with `==` or `!=` operators\n    "+
				s+"\n         "+strings.Repeat("~", len(op))+"~~~~^")
		},
		"TestRequirementParsing::test_error_invalid_marker_malformed_quoted_string": func(row map[string]any, _ confTest) error {
			s, _ := str(row, "to_parse")
			want, _ := str(row, "expected")
			return exconly(s, want)
		},
		"TestRequirementBehaviour::test_types_with_nothing": func(map[string]any, confTest) error {
			r, err := mustReq("foobar")
			if err != nil {
				return err
			}
			if r.URL != "" || r.Marker != nil || !r.Specifier.IsEmpty() || len(r.Extras) != 0 {
				return fmt.Errorf("got %+v", r)
			}
			return nil
		},
		"TestRequirementBehaviour::test_types_with_specifier_and_marker": func(map[string]any, confTest) error {
			r, err := mustReq("foobar[quux]<2,>=3; os_name=='a'")
			if err != nil {
				return err
			}
			if r.URL != "" || r.Marker == nil || r.Specifier.IsEmpty() || !slices.Equal(r.Extras, []string{"quux"}) {
				return fmt.Errorf("got %+v", r)
			}
			return nil
		},
		"TestRequirementBehaviour::test_types_with_url": func(map[string]any, confTest) error {
			r, err := mustReq("foobar @ http://foo.com")
			if err != nil {
				return err
			}
			if r.URL != "http://foo.com" || r.Marker != nil {
				return fmt.Errorf("got %+v", r)
			}
			return nil
		},
		"TestRequirementBehaviour::test_str_and_repr": func(row map[string]any, _ confTest) error {
			extras, _ := str(row, "extras")
			us, _ := str(row, "url_or_specifier")
			marker, _ := str(row, "marker")
			toParse := "name" + extras + us + marker
			r, err := mustReq(toParse)
			if err != nil {
				return err
			}
			if want := strings.TrimSpace(toParse); r.String() != want {
				return fmt.Errorf("String = %q, want %q", r.String(), want)
			}
			return nil
		},
		"TestRequirementBehaviour::test_equal_reqs_equal_hashes": func(row map[string]any, _ confTest) error {
			a, _ := str(row, "dep1")
			b, _ := str(row, "dep2")
			return reqEqual(a, b, true)
		},
		"TestRequirementBehaviour::test_equivalent_reqs_equal_hashes_unequal_strings": func(row map[string]any, _ confTest) error {
			a, _ := str(row, "dep1")
			b, _ := str(row, "dep2")
			if err := reqEqual(a, b, true); err != nil {
				return err
			}
			ra, _ := ParseRequirement(a)
			rb, _ := ParseRequirement(b)
			if ra.String() == rb.String() {
				return fmt.Errorf("%q and %q print the same", a, b)
			}
			return nil
		},
		"TestRequirementBehaviour::test_different_reqs_different_hashes": func(row map[string]any, _ confTest) error {
			a, _ := str(row, "dep1")
			b, _ := str(row, "dep2")
			return reqEqual(a, b, false)
		},
	}
	runConformance(t, f, h, requirementSkips)
}
