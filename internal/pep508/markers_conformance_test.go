package pep508

import (
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"
)

var markerSkips = map[string]string{
	"TestNode::test_accepts_value": "packaging's internal Node class holding arbitrary Python objects",
	"TestNode::test_str":           "packaging's internal Node class API",
	"TestNode::test_repr":          "Python repr of packaging's internal Node class",
	"TestNode::test_base_class":    "abstract Node.serialize raising NotImplementedError (Python class API)",
	"TestNode::test_value_serialize_rejects_both_quote_delimiters":     "packaging raises on a value holding both quote characters; pep508 prints it with Python escapes instead so it parses back (TestQuoteValueRoundTrip)",
	"TestDefaultEnvironment::test_matches_expected":                    "default_environment() reads the running interpreter; lambdapack builds environments from targets (internal/target)",
	"TestDefaultEnvironment::test_multidigit_minor_version":            "default_environment() with a monkeypatched interpreter; environments come from targets here",
	"TestDefaultEnvironment::tests_when_releaselevel_final":            "_format_full_version of the running interpreter's sys.version_info",
	"TestDefaultEnvironment::tests_when_releaselevel_not_final":        "_format_full_version of the running interpreter's sys.version_info",
	"TestMarker::test_compare_markers_to_other_objects":                "Python __eq__ against a str object",
	"TestMarker::test_python_full_version_untagged":                    "mocks the host's platform.python_version(); the '+' repair itself runs in test_python_full_version_untagged_user_provided",
	"test_operator_rejects_non_marker":                                 "Python operator protocol (NotImplemented for non-Marker operands)",
	"test_inplace_operators_fallback":                                  "Python's &= falling back to __and__; And is the one Go spelling",
	"test_right_hand_ops_and_typeerror":                                "Python operator protocol (TypeError for str & Marker)",
	"test_pickle_marker_roundtrip":                                     "pickle",
	"test_pickle_marker_setstate_rejects_invalid_state":                "pickle",
	"test_pickle_marker_old_format_loads":                              "pickle",
	"test_pickle_marker_26_0_format_loads":                             "pickle",
	"test_pickle_marker_25_0_format_loads":                             "pickle",
	"test_pickle_node_roundtrip":                                       "pickle",
	"test_pickle_node_setstate_rejects_invalid_state":                  "pickle",
	"test_pickle_marker_setstate_legacy_slot_dict_without_markers_key": "pickle",
	"test_pickle_marker_setstate_rejects_invalid_markers_type":         "pickle",
	"test_pickle_marker_setstate_rejects_invalid_marker_string":        "pickle",
}

func mustMarker(s string) (*Marker, error) {
	m, err := ParseMarker(s)
	if err != nil {
		return nil, fmt.Errorf("ParseMarker(%q): %v", s, err)
	}
	return m, nil
}

// wantEval evaluates s in e and compares with want.
func wantEval(s string, e Environment, want bool) error {
	m, err := mustMarker(s)
	if err != nil {
		return err
	}
	got, err := m.EvaluateErr(e)
	if err != nil {
		return fmt.Errorf("%q: %v", s, err)
	}
	if got != want {
		return fmt.Errorf("%q in %v = %v, want %v", s, e, got, want)
	}
	return nil
}

func wantStr(s, want string) error {
	m, err := mustMarker(s)
	if err != nil {
		return err
	}
	if got := m.String(); got != want {
		return fmt.Errorf("String(%q) = %q, want %q", s, got, want)
	}
	return nil
}

func parsesTo(row map[string]any, _ confTest) error {
	s, _ := str(row, "marker_string")
	_, err := mustMarker(s)
	return err
}

func rejected(s string) error {
	_, err := ParseMarker(s)
	var pe *ParseError
	if !errors.As(err, &pe) {
		return fmt.Errorf("ParseMarker(%q) = %v, want a *ParseError", s, err)
	}
	return nil
}

// strCompares checks each body vector `str(Marker(x)) == y`.
func strCompares(_ map[string]any, tc confTest) error {
	n := 0
	for _, bv := range tc.BodyVectors {
		lc, ok := bv["left_call"].(map[string]any)
		if !ok || lc["func"] != "str" {
			continue
		}
		arg := lc["args"].([]any)[0].(map[string]any)
		if arg["$type"] != "Marker" {
			continue
		}
		if err := wantStr(arg["args"].([]any)[0].(string), bv["value"].(string)); err != nil {
			return err
		}
		n++
	}
	if n == 0 {
		return errors.New("no str(Marker(...)) comparisons in the body vectors")
	}
	return nil
}

func TestMarkersConformance(t *testing.T) {
	f := loadConformance(t, "test_markers.json")
	h := map[string]rowFunc{
		"TestNode::test_value_serialize_chooses_quote_delimiter": func(row map[string]any, _ confTest) error {
			v, _ := str(row, "value")
			want, _ := str(row, "expected")
			if got := quoteValue(v); got != want {
				return fmt.Errorf("quoteValue(%q) = %q, want %q", v, got, want)
			}
			return nil
		},
		"TestOperatorEvaluation::test_prefers_pep440": func(map[string]any, confTest) error {
			return errors.Join(
				wantEval(`"2.7.9" < python_full_version`, env(map[string]any{"python_full_version": "2.7.10"}), true),
				wantEval(`"2.7.9" < python_full_version`, env(map[string]any{"python_full_version": "2.7.8"}), false))
		},
		"TestOperatorEvaluation::test_new_string_rules": func(map[string]any, confTest) error {
			a := env(map[string]any{"a": "a"})
			return errors.Join(
				wantEval(`"b" < python_full_version`, env(map[string]any{"python_full_version": "c"}), false),
				wantEval(`"b" < python_full_version`, env(map[string]any{"python_full_version": "a"}), false),
				wantEval(`"b" > "a"`, a, false),
				wantEval(`"b" < "a"`, a, false),
				wantEval(`"b" >= "a"`, a, false),
				wantEval(`"b" <= "a"`, a, false),
				wantEval(`"a" <= "a"`, a, true))
		},
		"TestOperatorEvaluation::test_fails_when_undefined": func(map[string]any, confTest) error {
			return wantUndefinedComparison(`'2.7.0' ~= os_name`)
		},
		"TestOperatorEvaluation::test_arbitrary_equality_on_non_version_key_is_undefined": func(map[string]any, confTest) error {
			return errors.Join(wantUndefinedComparison(`os_name === 'posix'`), wantUndefinedComparison(`sys_platform === 'linux'`))
		},
		"TestOperatorEvaluation::test_allows_prerelease": func(map[string]any, confTest) error {
			return wantEval(`python_full_version > "3.6.2"`, env(map[string]any{"python_full_version": "3.11.0a5"}), true)
		},
		"TestMarker::test_parses_valid":                   func(row map[string]any, tc confTest) error { return parsesTo(row, tc) },
		"TestMarker::test_parses_pep345_valid":            func(row map[string]any, tc confTest) error { return parsesTo(row, tc) },
		"TestMarker::test_parses_setuptools_legacy_valid": func(row map[string]any, tc confTest) error { return parsesTo(row, tc) },
		"TestMarker::test_parses_invalid": func(row map[string]any, _ confTest) error {
			s, _ := str(row, "marker_string")
			return rejected(s)
		},
		"TestMarker::test_parses_invalid_trailing_line_break": func(row map[string]any, _ confTest) error {
			lb, _ := str(row, "line_break")
			return rejected(`python_version >= "3"` + lb)
		},
		"TestMarker::test_parses_trailing_horizontal_whitespace": func(row map[string]any, _ confTest) error {
			ws, _ := str(row, "whitespace")
			return wantStr(`python_version >= "3"`+ws, `python_version >= "3"`)
		},
		"TestMarker::test_parses_invalid_malformed_quoted_string": func(row map[string]any, _ confTest) error {
			s, _ := str(row, "marker_string")
			want, _ := str(row, "expected")
			_, err := ParseMarker(s)
			if err == nil {
				return fmt.Errorf("ParseMarker(%q) succeeded", s)
			}
			if got := "packaging.markers.InvalidMarker: " + err.Error(); got != want {
				return fmt.Errorf("error\n%s\nwant\n%s", got, want)
			}
			return nil
		},
		"TestMarker::test_str_repr_eq_hash": func(row map[string]any, _ confTest) error {
			s, _ := str(row, "marker_string")
			want, _ := str(row, "expected")
			return errors.Join(wantStr(s, want), wantStr(want, want))
		},
		"TestMarker::test_different_markers_different_hashes": func(row map[string]any, _ confTest) error {
			a, _ := str(row, "example1")
			b, _ := str(row, "example2")
			ma, err := mustMarker(a)
			if err != nil {
				return err
			}
			mb, err := mustMarker(b)
			if err != nil {
				return err
			}
			if ma.String() == mb.String() {
				return fmt.Errorf("%q and %q print the same: %q", a, b, ma.String())
			}
			return nil
		},
		"TestMarker::test_environment_assumes_empty_extra": func(map[string]any, confTest) error {
			return wantEval(`extra == "im_valid"`, nil, false)
		},
		"TestMarker::test_environment_with_extra_none": func(map[string]any, confTest) error {
			// Python's None for "extra" reads as "" in packaging; Go has no None.
			return wantEval(`extra == "im_valid"`, env(map[string]any{"extra": ""}), false)
		},
		"TestMarker::test_environment_with_no_extras": func(map[string]any, confTest) error {
			return errors.Join(
				wantEval(`os_name == 'foo'`, Environment{"os_name": "foo"}, true),
				wantEval(`os_name == 'foo'`, Environment{"os_name": "bar"}, false))
		},
		"TestMarker::test_evaluates": func(row map[string]any, _ confTest) error {
			s, _ := str(row, "marker_string")
			return wantEval(s, env(row["environment"]), row["expected"].(bool))
		},
		"TestMarker::test_evaluate_pep345_markers": func(row map[string]any, _ confTest) error {
			s, _ := str(row, "marker_string")
			return wantEval(s, env(row["environment"]), row["expected"].(bool))
		},
		"TestMarker::test_evaluate_setuptools_legacy_markers": func(map[string]any, confTest) error {
			return wantEval("python_implementation=='Jython'", env(map[string]any{"platform_python_implementation": "CPython"}), false)
		},
		"TestMarker::test_extra_str_normalization":                   strCompares,
		"TestMarker::test_extra_compared_to_variable_not_normalized": strCompares,
		"TestMarker::test_nested_extra_str_normalization": func(row map[string]any, tc confTest) error {
			return errors.Join(strCompares(row, tc),
				wantEval(`(extra == "Foo_Bar" or extra == "Baz") and python_version >= "3"`,
					env(map[string]any{"extra": "foo-bar", "python_version": "3.12"}), true))
		},
		"TestMarker::test_membership_value_str_normalization": func(row map[string]any, _ confTest) error {
			v, _ := str(row, "variable")
			return errors.Join(
				wantStr(`"S_P__A_M" in `+v, `"s-p-a-m" in `+v),
				wantStr(`"s-p-a-m" in `+v, `"s-p-a-m" in `+v))
		},
		"TestMarker::test_membership_value_str_normalization_negated": func(row map[string]any, _ confTest) error {
			v, _ := str(row, "variable")
			return errors.Join(
				wantStr(`"Foo_Bar" not in `+v, `"foo-bar" not in `+v),
				wantStr(`"foo-bar" not in `+v, `"foo-bar" not in `+v))
		},
		"TestMarker::test_python_full_version_untagged_user_provided": func(map[string]any, confTest) error {
			return wantEval("python_full_version < '3.12'", env(map[string]any{"python_full_version": "3.11.1+"}), true)
		},
		"TestMarker::test_evaluate_does_not_mutate_cached_environment": func(map[string]any, confTest) error {
			// The Go equivalent: evaluation leaves the caller's environment as
			// it was (no "extra" added, nothing normalised in place).
			e := env(map[string]any{"os_name": "magic", "python_full_version": "3.11.1+"})
			before := maps.Clone(e)
			if err := wantEval("os_name == 'magic'", e, true); err != nil {
				return err
			}
			if !maps.Equal(e, before) {
				return fmt.Errorf("environment changed to %v", e)
			}
			return wantEval("os_name == 'magic'", hostEnv, false)
		},
		"TestMarker::test_extras_and_dependency_groups": func(row map[string]any, _ confTest) error {
			expr, _ := str(row, "expression")
			v, _ := str(row, "variable")
			s := strings.ReplaceAll(expr, "{0}", v)
			m, err := mustMarker(s)
			if err != nil {
				return err
			}
			set := []string{"foo", "bar"}
			var got bool
			if v == "extras" {
				got, err = m.EvaluateLockFile(hostEnv, set, nil)
			} else {
				got, err = m.EvaluateLockFile(hostEnv, nil, set)
			}
			if err != nil {
				return err
			}
			if got != row["result"].(bool) {
				return fmt.Errorf("%q = %v, want %v", s, got, row["result"])
			}
			return nil
		},
		"TestMarker::test_extras_and_dependency_groups_disallowed": func(row map[string]any, _ confTest) error {
			v, _ := str(row, "variable")
			m, err := mustMarker(`"foo" in ` + v)
			if err != nil {
				return err
			}
			if got, err := m.EvaluateLockFile(hostEnv, nil, nil); err != nil || got {
				return fmt.Errorf("lock-file context: %v, %v; want false", got, err)
			}
			_, err = m.EvaluateErr(hostEnv)
			var u *UndefinedEnvironmentNameError
			if !errors.As(err, &u) || u.Name != v {
				return fmt.Errorf("metadata context: %v, want UndefinedEnvironmentName %q", err, v)
			}
			if m.Evaluate(hostEnv) {
				return errors.New("Evaluate is true where packaging raises")
			}
			return nil
		},
		"TestMarker::test_missing_environment_key_raises_undefined_environment_name": func(map[string]any, confTest) error {
			m, err := mustMarker(`"foo" in extras`)
			if err != nil {
				return err
			}
			_, err = m.EvaluateErr(hostEnv)
			var u *UndefinedEnvironmentNameError
			if !errors.As(err, &u) || u.Name != "extras" {
				return fmt.Errorf("got %v, want UndefinedEnvironmentName(extras)", err)
			}
			return nil
		},
		"TestMarker::test_set_valued_marker_on_lhs_raises_undefined_comparison": func(row map[string]any, _ confTest) error {
			v, _ := str(row, "variable")
			op, _ := str(row, "op")
			m, err := mustMarker(v + " " + op + " 'foo'")
			if err != nil {
				return err
			}
			_, err = m.EvaluateLockFile(hostEnv, nil, nil)
			var u *UndefinedComparisonError
			if !errors.As(err, &u) {
				return fmt.Errorf("got %v, want UndefinedComparison", err)
			}
			return nil
		},
		"TestMarker::test_version_like_equality": func(row map[string]any, _ confTest) error {
			s, _ := str(row, "marker_string")
			return wantEval(s, env(row["environment"]), row["expected"].(bool))
		},
		"test_and_operator_evaluates_true": func(map[string]any, confTest) error {
			m := And(MustParseMarker(`python_version >= "3.6"`), MustParseMarker(`os_name == "posix"`))
			return evalIs(m, Environment{"python_version": "3.8", "os_name": "posix"}, true)
		},
		"test_and_operator_str_equality": func(map[string]any, confTest) error {
			a := MustParseMarker(`python_version >= "3.6" and os_name == "posix"`)
			b := And(MustParseMarker(`python_version >= "3.6"`), MustParseMarker(`os_name == "posix"`))
			return sameString(a, b)
		},
		"test_or_operator_evaluates_true": func(map[string]any, confTest) error {
			m := Or(MustParseMarker(`python_version < "3.6"`), MustParseMarker(`os_name == "windows"`))
			return evalIs(m, Environment{"python_version": "3.7", "os_name": "windows"}, true)
		},
		"test_or_operator_str_equality": func(map[string]any, confTest) error {
			a := MustParseMarker(`python_version < "3.6" or os_name == "windows"`)
			b := Or(MustParseMarker(`python_version < "3.6"`), MustParseMarker(`os_name == "windows"`))
			return sameString(a, b)
		},
		"test_chaining_associativity_and_str": func(map[string]any, confTest) error {
			a := MustParseMarker(`(python_version >= "3.6" and os_name == "posix") and platform_system == "Linux"`)
			b := And(And(MustParseMarker(`python_version >= "3.6"`), MustParseMarker(`os_name == "posix"`)), MustParseMarker(`platform_system == "Linux"`))
			return sameString(a, b)
		},
		"test_str_preserves_nested_group_precedence": func(map[string]any, confTest) error {
			m := MustParseMarker(`python_version < "3.10" and ((sys_platform == "linux" or sys_platform == "darwin"))`)
			re, err := mustMarker(m.String())
			if err != nil {
				return err
			}
			for _, e := range []Environment{
				{"python_version": "3.12", "sys_platform": "darwin"},
				{"python_version": "3.12", "sys_platform": "linux"},
				{"python_version": "3.9", "sys_platform": "darwin"},
			} {
				if re.Evaluate(e) != m.Evaluate(e) {
					return fmt.Errorf("%q and its reparse %q disagree in %v", m, re, e)
				}
			}
			return nil
		},
		"test_hash_eq_for_combined_markers": func(map[string]any, confTest) error {
			return sameString(MustParseMarker(`python_version >= "3.6" and os_name == "posix"`),
				And(MustParseMarker(`python_version >= "3.6"`), MustParseMarker(`os_name == "posix"`)))
		},
		"test_evaluation_of_combined_markers": func(map[string]any, confTest) error {
			m := And(And(MustParseMarker(`python_version >= "3.6"`), MustParseMarker(`os_name == "posix"`)), MustParseMarker(`platform_system == "Linux"`))
			return evalIs(m, Environment{"python_version": "3.8", "os_name": "posix", "platform_system": "Linux"}, true)
		},
	}
	runConformance(t, f, h, markerSkips)
}

func wantUndefinedComparison(s string) error {
	m, err := mustMarker(s)
	if err != nil {
		return err
	}
	_, err = m.EvaluateErr(hostEnv)
	var u *UndefinedComparisonError
	if !errors.As(err, &u) {
		return fmt.Errorf("%q: got %v, want UndefinedComparison", s, err)
	}
	return nil
}

func evalIs(m *Marker, e Environment, want bool) error {
	got, err := m.EvaluateErr(e)
	if err != nil || got != want {
		return fmt.Errorf("%q in %v = %v, %v; want %v", m, e, got, err, want)
	}
	return nil
}

func sameString(a, b *Marker) error {
	if a.String() != b.String() {
		return fmt.Errorf("%q != %q", a, b)
	}
	return nil
}
