package metadata

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/lambdapack/lambdapack/internal/pep440"
	"github.com/lambdapack/lambdapack/internal/pep508"
	"github.com/lambdapack/lambdapack/internal/testutil"
)

// The conformance test reads pypa/packaging's tests/test_metadata.py vectors
// (testdata/packaging/test_metadata.json) and runs every row
// about the fields this package models. Metadata.from_raw(..., validate=False)
// rows check one field lazily; here they run through the same per-field code
// Parse uses, looking only at that field's verdict.

type confTest = testutil.ConformanceTest

var metadataSkips = map[string]string{
	"TestRawMetadata::test_non_repeating_fields_only_once":                          "parse_email's raw-dict API (and its parameters are unresolved)",
	"TestRawMetadata::test_non_repeating_fields_repeated":                           "parse_email's raw-dict API (and its parameters are unresolved)",
	"TestRawMetadata::test_repeating_fields_only_once":                              "parse_email's raw-dict API (and its parameters are unresolved)",
	"TestRawMetadata::test_repeating_fields_repeated":                               "parse_email's raw-dict API (and its parameters are unresolved)",
	"TestRawMetadata::test_keywords":                                                "Keywords is not modelled",
	"TestRawMetadata::test_project_urls_parsing":                                    "Project-URL is not modelled",
	"TestRawMetadata::test_duplicate_project_urls":                                  "Project-URL is not modelled",
	"TestRawMetadata::test_str_input":                                               "parse_email's raw-dict API on Author (not modelled); str vs bytes input is a Python distinction",
	"TestRawMetadata::test_bytes_input":                                             "parse_email's raw-dict API on Author (not modelled)",
	"TestRawMetadata::test_header_mojibake":                                         "parse_email's unparsed dict for an unknown header (unknown headers are ignored here)",
	"TestRawMetadata::test_description":                                             "parse_email's raw-dict API; the body-as-description rule runs in TestDescription",
	"TestRawMetadata::test_description_non_utf8":                                    "parse_email's unparsed dict; a non-UTF-8 body is a warning here (TestDescription)",
	"TestRawMetadata::test_description_multiple":                                    "parse_email's unparsed dict for repeated Description",
	"TestRawMetadata::test_description_multipart_payload":                           "MIME multipart bodies are not modelled",
	"TestRawMetadata::test_lowercase_keys":                                          "parse_email's raw-dict API (header case folding runs in TestHeaders)",
	"TestRawMetadata::test_complete":                                                "needs upstream's tests/metadata/everything.metadata, which the conformance set does not carry; TestEverything covers the same fields",
	"TestInvalidMetadata::test_pickle_roundtrip":                                    "pickle",
	"TestExceptionGroup::test_attributes":                                           "packaging's ExceptionGroup backport",
	"TestExceptionGroup::test_repr":                                                 "packaging's ExceptionGroup backport",
	"TestMetadata::test_from_email_empty_import_name":                               "Import-Name is not modelled",
	"TestMetadata::test_from_email_description_content_type_lowercase_charset":      "Description-Content-Type is not modelled",
	"TestMetadata::test_from_email_unparsed_valid_field_name":                       "Project-URL is not modelled",
	"TestMetadata::test_from_email_collects_unparsed_field_with_valid_raw_metadata": "unknown fields are ignored here, as pip and uv do; packaging's validate=True rejects them",
	"TestMetadata::test_from_email_keeps_non_metadata_validation_errors":            "mocks packaging internals to inject a RuntimeError",
	"TestMetadata::test_from_email_wraps_description_content_type_parse_errors":     "Description-Content-Type is not modelled",
	"TestMetadata::test_raw_validate_unrecognized_field":                            "from_raw with an unknown raw-dict key (Python API)",
	"TestMetadata::test_raw_data_not_mutated":                                       "Python object mutation",
	"TestMetadata::test_caching":                                                    "Python attribute caching",
	"TestMetadata::test_single_value_unvalidated_attribute":                         "Home-page, Author, License, ... are not modelled",
	"TestMetadata::test_multi_value_unvalidated_attribute":                          "Platform, Classifier, Provides-Dist, ... are not modelled",
	"TestMetadata::test_valid_description_content_type":                             "Description-Content-Type is not modelled",
	"TestMetadata::test_invalid_description_content_type":                           "Description-Content-Type is not modelled",
	"TestMetadata::test_invalid_description_content_type_without_defects":           "Description-Content-Type is not modelled",
	"TestMetadata::test_invalid_charset_error_message":                              "Description-Content-Type is not modelled",
	"TestMetadata::test_keywords":                                                   "Keywords is not modelled",
	"TestMetadata::test_valid_project_urls":                                         "Project-URL is not modelled",
	"TestMetadata::test_requires_external":                                          "Requires-External is not modelled",
	"TestMetadata::test_optional_defaults_to_none":                                  "Python None defaults of every optional attribute (parameters unresolved)",
	"TestMetadata::test_valid_license_expression":                                   "License-Expression is not modelled",
	"TestMetadata::test_invalid_license_expression":                                 "License-Expression is not modelled",
	"TestMetadata::test_valid_license_files":                                        "License-File is not modelled",
	"TestMetadata::test_invalid_license_files":                                      "License-File is not modelled",
	"TestMetadata::test_valid_import_names":                                         "Import-Name is not modelled",
	"TestMetadata::test_invalid_import_names_identifier":                            "Import-Name is not modelled",
	"TestMetadata::test_invalid_import_names_keyword":                               "Import-Name is not modelled",
	"TestMetadataWriting::test_write_metadata":                                      "writing metadata is not modelled",
	"TestMetadataWriting::test_write_metadata_with_description":                     "writing metadata is not modelled",
	"TestMetadataWriting::test_write_metadata_with_carriage_return":                 "writing metadata is not modelled",
	"TestMetadataWriting::test_multiline_license":                                   "writing metadata is not modelled",
	"TestMetadataWriting::test_large":                                               "writing metadata is not modelled",
	"TestMetadataWriting::test_modern_license":                                      "writing metadata is not modelled",
	"TestMetadataWriting::test__import_names":                                       "writing metadata is not modelled",
	"TestMetadataWriting::test_empty_import_names":                                  "writing metadata is not modelled",
	"TestMetadataWriting::test_headers":                                             "writing metadata is not modelled",
	"TestMetadataWriting::test_headers_fold_every_line_boundary":                    "writing metadata is not modelled",
	"TestMetadataWriting::test_body":                                                "writing metadata is not modelled",
}

// metadataAdapted are rows where packaging raises and Parse, following pip
// and uv, accepts the file with a warning: they run, asserting the warning.
var metadataAdapted = map[string]string{
	"TestMetadata::test_from_email_unparsed":                                             "the unknown field is ignored; the three missing required fields are still errors",
	"TestMetadata::test_from_email_collects_required_fields_after_unparsed_known_header": "the unknown field is ignored; the others are still errors",
	"TestMetadata::test_from_email_collects_unknown_and_invalid_fields":                  "the unknown field is ignored; the invalid version is still an error",
	"TestMetadata::test_metadata_version_field_introduction_mismatch":                    "Dynamic in a pre-2.2 file is a warning",
	"TestMetadata::test_invalid_metadata_version":                                        "an unknown minor version (2.0 was written by old bdist_wheel) is a warning; the spec says tools may read newer minor versions",
	"TestMetadata::test_invalid_summary":                                                 "a multi-line Summary is a warning",
	"TestMetadata::test_invalid_requires_python":                                         "an invalid Requires-Python is a warning and ignored, as pip does",
	"TestMetadata::test_invalid_provides_extra":                                          "an invalid extra name is a warning and skipped, as uv does",
	"TestMetadata::test_invalid_dynamic_value":                                           "an unknown Dynamic entry is a warning",
}

// rawToField maps packaging's RawMetadata keys to header names.
var rawToField = map[string]string{
	"metadata_version": "metadata-version", "name": "name", "version": "version",
	"summary": "summary", "requires_dist": "requires-dist", "requires_python": "requires-python",
	"provides_extra": "provides-extra", "dynamic": "dynamic", "description": "description",
}

// fromRaw runs packaging's RawMetadata dict through build.
func fromRaw(raw map[string]any) (*Metadata, []*FieldError) {
	h := headers{fields: map[string][]string{}}
	for k, v := range raw {
		f, ok := rawToField[k]
		if !ok {
			panic("unmodelled raw field " + k)
		}
		switch v := v.(type) {
		case string:
			h.fields[f] = []string{v}
		case []any:
			for _, x := range v {
				h.fields[f] = append(h.fields[f], x.(string))
			}
		case []string:
			h.fields[f] = v
		}
	}
	return build(h)
}

var rawExample = map[string]any{"metadata_version": "2.6", "name": "packaging", "version": "2023.0.0"}

func withExample(extra map[string]any) map[string]any {
	m := map[string]any{}
	for k, v := range rawExample {
		m[k] = v
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func fieldsOf(errs []*FieldError) []string {
	var out []string
	for _, e := range errs {
		if !slices.Contains(out, e.Field) {
			out = append(out, e.Field)
		}
	}
	sort.Strings(out)
	return out
}

func errorFor(errs []*FieldError, field string) *FieldError {
	for _, e := range errs {
		if e.Field == field {
			return e
		}
	}
	return nil
}

func hasWarning(m *Metadata, field, substr string) bool {
	for _, w := range m.Warnings {
		if strings.HasPrefix(w, headerName(field)+": ") && strings.Contains(w, substr) {
			return true
		}
	}
	return false
}

// parseFields parses text and returns the sorted fields of its errors.
func parseFields(text string) ([]string, *Metadata) {
	m, err := Parse([]byte(text))
	return fieldsOf(Fields(err)), m
}

func wantParseFields(text string, want ...string) error {
	got, _ := parseFields(text)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		return fmt.Errorf("Parse(%q) fails on %q, want %q", text, got, want)
	}
	return nil
}

func bodyArg(tc confTest, fn string) (string, error) {
	for _, bv := range tc.BodyVectors {
		if bv["kind"] == "call" && bv["func"] == fn {
			if s, ok := bv["args"].([]any)[0].(string); ok {
				return s, nil
			}
		}
	}
	return "", fmt.Errorf("no %s call in the body vectors", fn)
}

func rawArg(tc confTest) (map[string]any, error) {
	for _, bv := range tc.BodyVectors {
		if bv["kind"] == "call" && bv["func"] == "metadata.Metadata.from_raw" {
			if m, ok := bv["args"].([]any)[0].(map[string]any); ok {
				return m, nil
			}
		}
	}
	return nil, fmt.Errorf("no from_raw call in the body vectors")
}

type rowFunc func(row map[string]any, tc confTest) error

func TestMetadataConformance(t *testing.T) {
	f := testutil.LoadConformance(t, "test_metadata.json")

	// lazyError checks the verdict on one field of a from_raw row.
	lazyError := func(field string) rowFunc {
		return func(_ map[string]any, tc confTest) error {
			raw, err := rawArg(tc)
			if err != nil {
				return err
			}
			if _, errs := fromRaw(raw); errorFor(errs, field) == nil {
				return fmt.Errorf("from_raw(%v): no error for %s (errors %v)", raw, field, errs)
			}
			return nil
		}
	}
	h := map[string]rowFunc{
		"TestMetadata::test_from_email": func(_ map[string]any, tc confTest) error {
			text, err := bodyArg(tc, "metadata.Metadata.from_email")
			if err != nil {
				return err
			}
			m, _ := build(parseHeaders([]byte(text))) // validate=False: read the field lazily
			if m.MetadataVersion != "2.6" {
				return fmt.Errorf("MetadataVersion = %q", m.MetadataVersion)
			}
			return nil
		},
		"TestMetadata::test_from_email_validate_returns_valid_metadata": func(_ map[string]any, tc confTest) error {
			text, err := bodyArg(tc, "metadata.Metadata.from_email")
			if err != nil {
				return err
			}
			m, err := Parse([]byte(text))
			if err != nil {
				return err
			}
			if m.Name != "packaging" || m.Version.String() != "1.0" {
				return fmt.Errorf("got %q %q", m.Name, m.Version)
			}
			return nil
		},
		"TestMetadata::test_from_email_unparsed": func(_ map[string]any, tc confTest) error {
			text, _ := bodyArg(tc, "metadata.Metadata.from_email")
			return wantParseFields(text, "metadata-version", "name", "version")
		},
		"TestMetadata::test_from_email_validate": func(_ map[string]any, tc confTest) error {
			text, _ := bodyArg(tc, "metadata.Metadata.from_email")
			if _, err := Parse([]byte(text)); err == nil {
				return fmt.Errorf("Parse(%q) succeeded", text)
			}
			return nil
		},
		"TestMetadata::test_from_email_empty_metadata_uses_from_email_error_message": func(_ map[string]any, tc confTest) error {
			return wantParseFields("", "metadata-version", "name", "version")
		},
		"TestMetadata::test_from_email_collects_unparsed_and_invalid_fields": func(_ map[string]any, tc confTest) error {
			text, _ := bodyArg(tc, "metadata.Metadata.from_email")
			return wantParseFields(text, "name", "version")
		},
		"TestMetadata::test_from_email_collects_required_fields_after_unparsed_known_header": func(_ map[string]any, tc confTest) error {
			text, _ := bodyArg(tc, "metadata.Metadata.from_email")
			return wantParseFields(text, "metadata-version", "name", "version")
		},
		"TestMetadata::test_from_email_collects_unknown_and_invalid_fields": func(_ map[string]any, tc confTest) error {
			text, _ := bodyArg(tc, "metadata.Metadata.from_email")
			return wantParseFields(text, "version")
		},
		"TestMetadata::test_from_email_deduplicates_unparsed_required_fields": func(row map[string]any, _ confTest) error {
			text := row["data"].(string)
			field := row["field"].(string)
			_, err := Parse([]byte(text))
			fe := Fields(err)
			if len(fe) != 1 || fe[0].Field != field {
				return fmt.Errorf("Parse(%q) errors %v, want one for %s", text, fe, field)
			}
			return nil
		},
		"TestMetadata::test_required_fields": func(map[string]any, confTest) error {
			m, errs := fromRaw(rawExample)
			if len(errs) > 0 || m.MetadataVersion != "2.6" {
				return fmt.Errorf("errors %v, MetadataVersion %q", errs, m.MetadataVersion)
			}
			return nil
		},
		// Upstream parametrizes over list(_RAW_EXAMPLE.keys()), the three
		// required fields.
		"TestMetadata::test_required_fields_missing": func(map[string]any, confTest) error {
			for key, field := range map[string]string{"metadata_version": "metadata-version", "name": "name", "version": "version"} {
				raw := withExample(nil)
				delete(raw, key)
				if _, errs := fromRaw(raw); !slices.Equal(fieldsOf(errs), []string{field}) {
					return fmt.Errorf("without %s: errors %v", key, errs)
				}
			}
			return nil
		},
		"TestMetadata::test_from_raw_validate": func(map[string]any, confTest) error {
			if _, errs := fromRaw(withExample(map[string]any{"version": "-----"})); errorFor(errs, "version") == nil {
				return fmt.Errorf("version '-----' accepted")
			}
			return nil
		},
		"TestMetadata::test_metadata_version_field_introduction": func(row map[string]any, _ confTest) error {
			m, errs := fromRaw(withExample(map[string]any{"metadata_version": row["meta_version"], "dynamic": []string{"Obsoletes-Dist"}}))
			if len(errs) > 0 || len(m.Warnings) > 0 {
				return fmt.Errorf("errors %v, warnings %q", errs, m.Warnings)
			}
			return nil
		},
		"TestMetadata::test_metadata_version_field_introduction_mismatch": func(row map[string]any, _ confTest) error {
			m, errs := fromRaw(withExample(map[string]any{"metadata_version": row["meta_version"], "dynamic": []string{"Obsoletes-Dist"}}))
			if len(errs) > 0 || !hasWarning(m, "dynamic", "introduced in metadata version 2.2") {
				return fmt.Errorf("errors %v, warnings %q", errs, m.Warnings)
			}
			return nil
		},
		"TestMetadata::test_valid_metadata_version": func(row map[string]any, _ confTest) error {
			v := row["version"].(string)
			m, errs := fromRaw(map[string]any{"metadata_version": v})
			if errorFor(errs, "metadata-version") != nil || m.MetadataVersion != v || hasWarning(m, "metadata-version", "") {
				return fmt.Errorf("%q: errors %v, warnings %q", v, errs, m.Warnings)
			}
			return nil
		},
		"TestMetadata::test_invalid_metadata_version": func(row map[string]any, _ confTest) error {
			v := row["version"].(string)
			m, errs := fromRaw(map[string]any{"metadata_version": v})
			if errorFor(errs, "metadata-version") != nil || !hasWarning(m, "metadata-version", "not a version this tool knows") {
				return fmt.Errorf("%q: errors %v, warnings %q", v, errs, m.Warnings)
			}
			return nil
		},
		"TestMetadata::test_valid_version": func(map[string]any, confTest) error {
			m, errs := fromRaw(map[string]any{"version": "1.2.3"})
			if errorFor(errs, "version") != nil || !m.Version.Equal(pep440.MustParse("1.2.3")) {
				return fmt.Errorf("errors %v, version %q", errs, m.Version)
			}
			return nil
		},
		"TestMetadata::test_missing_version": lazyError("version"),
		"TestMetadata::test_invalid_version": lazyError("version"),
		"TestMetadata::test_invalid_version_with_placeholder_text": func(_ map[string]any, tc confTest) error {
			want, _ := bodyCompareValue(tc, "str(exc_info.value)")
			_, errs := fromRaw(map[string]any{"version": "{field}"})
			if e := errorFor(errs, "version"); e == nil || e.Msg != want {
				return fmt.Errorf("error %v, want message %q", e, want)
			}
			return nil
		},
		"TestMetadata::test_valid_summary": func(map[string]any, confTest) error {
			m, _ := fromRaw(map[string]any{"summary": "Hello"})
			if m.Summary != "Hello" || hasWarning(m, "summary", "") {
				return fmt.Errorf("summary %q, warnings %q", m.Summary, m.Warnings)
			}
			return nil
		},
		"TestMetadata::test_invalid_summary": func(row map[string]any, _ confTest) error {
			m, errs := fromRaw(map[string]any{"summary": row["summary"]})
			if errorFor(errs, "summary") != nil || !hasWarning(m, "summary", "single line") {
				return fmt.Errorf("%q: errors %v, warnings %q", row["summary"], errs, m.Warnings)
			}
			return nil
		},
		"TestMetadata::test_valid_name": func(map[string]any, confTest) error {
			m, errs := fromRaw(map[string]any{"name": "Hello_World"})
			if errorFor(errs, "name") != nil || m.Name != "Hello_World" {
				return fmt.Errorf("errors %v, name %q", errs, m.Name)
			}
			return nil
		},
		"TestMetadata::test_invalid_name": lazyError("name"),
		"TestMetadata::test_valid_requires_python": func(row map[string]any, _ confTest) error {
			spec := row["specifier"].(string)
			m, _ := fromRaw(map[string]any{"requires_python": spec})
			if !m.RequiresPython.Equal(pep440.MustParseSpecifierSet(spec)) || hasWarning(m, "requires-python", "") {
				return fmt.Errorf("%q: got %q, warnings %q", spec, m.RequiresPython, m.Warnings)
			}
			return nil
		},
		"TestMetadata::test_invalid_requires_python": func(_ map[string]any, tc confTest) error {
			raw, err := rawArg(tc)
			if err != nil {
				return err
			}
			m, errs := fromRaw(raw)
			if errorFor(errs, "requires-python") != nil || !m.RequiresPython.IsEmpty() || !hasWarning(m, "requires-python", "invalid") {
				return fmt.Errorf("errors %v, set %q, warnings %q", errs, m.RequiresPython, m.Warnings)
			}
			return nil
		},
		"TestMetadata::test_valid_provides_extra": func(_ map[string]any, tc confTest) error {
			raw, err := rawArg(tc)
			if err != nil {
				return err
			}
			m, _ := fromRaw(raw)
			if !slices.Equal(m.ProvidesExtra, []string{"dev", "test"}) || len(m.Warnings) > 0 {
				return fmt.Errorf("got %q, warnings %q", m.ProvidesExtra, m.Warnings)
			}
			return nil
		},
		"TestMetadata::test_invalid_provides_extra": func(_ map[string]any, tc confTest) error {
			raw, err := rawArg(tc)
			if err != nil {
				return err
			}
			m, errs := fromRaw(raw)
			if errorFor(errs, "provides-extra") != nil || !slices.Equal(m.ProvidesExtra, []string{"pdf", "ok"}) || !hasWarning(m, "provides-extra", "'-Not-Valid' is invalid") {
				return fmt.Errorf("errors %v, extras %q, warnings %q", errs, m.ProvidesExtra, m.Warnings)
			}
			return nil
		},
		"TestMetadata::test_valid_requires_dist": func(_ map[string]any, tc confTest) error {
			raw, err := rawArg(tc)
			if err != nil {
				return err
			}
			m, errs := fromRaw(raw)
			if errorFor(errs, "requires-dist") != nil {
				return fmt.Errorf("errors %v", errs)
			}
			var want []pep508.Requirement
			for _, s := range raw["requires_dist"].([]any) {
				want = append(want, pep508.MustParseRequirement(s.(string)))
			}
			if !slices.EqualFunc(m.RequiresDist, want, pep508.Requirement.Equal) {
				return fmt.Errorf("got %v, want %v", m.RequiresDist, want)
			}
			return nil
		},
		"TestMetadata::test_invalid_requires_dist": lazyError("requires-dist"),
		"TestMetadata::test_valid_dynamic": func(_ map[string]any, tc confTest) error {
			raw, err := rawArg(tc)
			if err != nil {
				return err
			}
			m, errs := fromRaw(raw)
			want, _ := bodyCompareValue(tc, "meta.dynamic")
			if len(errs) > 0 && errorFor(errs, "dynamic") != nil || strings.Join(m.Dynamic, ",") != want {
				return fmt.Errorf("got %q, want %v (errors %v)", m.Dynamic, want, errs)
			}
			return nil
		},
		"TestMetadata::test_invalid_dynamic_value": func(_ map[string]any, tc confTest) error {
			raw, err := rawArg(tc)
			if err != nil {
				return err
			}
			m, errs := fromRaw(raw)
			if errorFor(errs, "dynamic") != nil || !hasWarning(m, "dynamic", "'notreal' is not a valid dynamic field") {
				return fmt.Errorf("errors %v, warnings %q", errs, m.Warnings)
			}
			return nil
		},
		// The input is rebuilt from the body vectors' expectations: a 2.6
		// file listing fields as Dynamic while also giving them values
		// (PEP 808).
		"TestMetadata::test_pep808_dynamic_with_static_values": func(_ map[string]any, tc confTest) error {
			want, _ := bodyCompareValue(tc, "meta.dynamic")
			text := "Metadata-Version: 2.6\nName: packaging\nVersion: 1.0\nClassifier: Development Status :: 4 - Beta\n" +
				"Requires-Dist: pytest\nProvides-Extra: test\nLicense-File: LICENSE\nProject-URL: homepage, example.com\n" +
				"Import-Name: packaging\nImport-Namespace: pkg.ns\n"
			for _, d := range strings.Split(want, ",") {
				text += "Dynamic: " + d + "\n"
			}
			m, err := Parse([]byte(text))
			if err != nil {
				return err
			}
			if strings.Join(m.Dynamic, ",") != want || len(m.RequiresDist) != 1 || m.RequiresDist[0].Name != "pytest" ||
				!slices.Equal(m.ProvidesExtra, []string{"test"}) || len(m.Warnings) > 0 {
				return fmt.Errorf("got %+v", m)
			}
			return nil
		},
		"TestMetadata::test_disallowed_dynamic": func(row map[string]any, _ confTest) error {
			field := row["field_name"].(string)
			_, errs := fromRaw(withExample(map[string]any{"dynamic": []string{field}}))
			if e := errorFor(errs, "dynamic"); e == nil || !strings.Contains(e.Msg, "not allowed as a dynamic field") {
				return fmt.Errorf("Dynamic: %s: errors %v", field, errs)
			}
			return nil
		},
	}

	ran, passed, skipped, adapted := 0, 0, 0, 0
	for _, tc := range f.Tests {
		rows := tc.Rows()
		if reason, ok := metadataSkips[tc.Test]; ok {
			if reason == "" || h[tc.Test] != nil {
				t.Errorf("%s: skip without reason, or both skipped and handled", tc.Test)
			}
			skipped += max(len(rows), 1)
			continue
		}
		fn, ok := h[tc.Test]
		if !ok {
			t.Errorf("%s (line %d): no handler and not skipped", tc.Test, tc.Line)
			continue
		}
		if len(rows) == 0 {
			rows = []map[string]any{{}} // unresolved parameters: the handler expands them
		}
		if _, ok := metadataAdapted[tc.Test]; ok {
			adapted += len(rows)
		}
		for i, row := range rows {
			ran++
			if err := fn(row, tc); err != nil {
				t.Errorf("%s row %d: %v", tc.Test, i, err)
				continue
			}
			passed++
		}
	}
	for name := range metadataAdapted {
		if h[name] == nil {
			t.Errorf("adapted %s has no handler", name)
		}
	}
	t.Logf("%s: ran %d (%d adapted to warnings), passed %d, skipped %d", f.File, ran, adapted, passed, skipped)
}

func bodyCompareValue(tc confTest, left string) (string, bool) {
	for _, bv := range tc.BodyVectors {
		if bv["kind"] == "compare" && bv["left"] == left {
			switch v := bv["value"].(type) {
			case string:
				return v, true
			case []any:
				parts := make([]string, len(v))
				for i, x := range v {
					parts[i] = fmt.Sprint(x)
				}
				return strings.Join(parts, ","), true
			}
		}
	}
	return "", false
}
