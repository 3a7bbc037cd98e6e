package pep440

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/lambdapack/lambdapack/internal/testutil"
)

// The conformance test runs pypa/packaging's own test vectors (extracted to
// testdata/packaging/test_{version,specifiers}.json, see the
// README there) against this package. Every test of those files is either
// handled below or skipped by name, with a reason, in conformanceSkips; an
// unclassified test fails the run so new upstream rows cannot slip by.

type confFile = testutil.ConformanceFile

// A rowFunc checks one parametrized row; a bodyFunc checks a test without
// parameters, given its literal body vectors. Both return a description of
// the first mismatch, or "".
type (
	rowFunc  func(r map[string]any) string
	bodyFunc func(bv []map[string]any) string
)

// conformanceSkips lists every upstream test that checks packaging's Python
// API rather than the PEP 440 standard this package implements.
var conformanceSkips = map[string]string{
	// test_version.py
	"TestVersion::test_match_args":                                        "Python structural pattern matching (__match_args__)",
	"TestVersion::test_non_string_versions_raise_invalid_version":         "passes non-str Python objects (None, int, list, bytes); Parse takes a Go string",
	"TestVersion::test_version_hash":                                      "Python hash(); Go versions compare with Compare/Equal",
	"TestVersion::test_version_hash_with_warm_key_cache":                  "Python hash() and packaging's comparison-key cache",
	"TestVersion::test_dunder_op_returns_notimplemented":                  "Python operator protocol (NotImplemented for non-Version operands)",
	"TestVersion::test_compare_other":                                     "Python operator protocol with a foreign stub object",
	"TestVersion::test_base_version_notimplemented_with_non_base_version": "Python operator protocol on packaging's _BaseVersion",
	"TestVersion::test_base_version_hash":                                 "hash() of a test-only _BaseVersion subclass",
	"TestVersion::test_base_version_ne_with_base_version":                 "test-only _BaseVersion subclass (SimpleVersion)",
	"TestVersion::test_version_compare_with_base_version_subclass":        "comparison with a test-only _BaseVersion subclass (SimpleVersion)",
	"TestVersion::test_replace_no_args":                                   "packaging.version.replace() component constructor API (not in the contract)",
	"TestVersion::test_replace_epoch":                                     "packaging.version.replace() API",
	"TestVersion::test_replace_release_tuple":                             "packaging.version.replace() API",
	"TestVersion::test_replace_release_none":                              "packaging.version.replace() API",
	"TestVersion::test_replace_pre_alpha":                                 "packaging.version.replace() API",
	"TestVersion::test_replace_pre_alpha_none":                            "packaging.version.replace() API",
	"TestVersion::test_replace_pre_beta":                                  "packaging.version.replace() API",
	"TestVersion::test_replace_pre_beta_none":                             "packaging.version.replace() API",
	"TestVersion::test_replace_pre_rc":                                    "packaging.version.replace() API",
	"TestVersion::test_replace_pre_rc_none":                               "packaging.version.replace() API",
	"TestVersion::test_replace_post":                                      "packaging.version.replace() API",
	"TestVersion::test_replace_post_none":                                 "packaging.version.replace() API",
	"TestVersion::test_replace_dev":                                       "packaging.version.replace() API",
	"TestVersion::test_replace_dev_none":                                  "packaging.version.replace() API",
	"TestVersion::test_replace_local_string":                              "packaging.version.replace() API",
	"TestVersion::test_replace_local_none":                                "packaging.version.replace() API",
	"TestVersion::test_replace_multiple_components":                       "packaging.version.replace() API",
	"TestVersion::test_replace_clear_all_optional":                        "packaging.version.replace() API",
	"TestVersion::test_replace_preserves_comparison":                      "packaging.version.replace() API",
	"TestVersion::test_replace_preserves_hash":                            "packaging.version.replace() API and hash()",
	"TestVersion::test_replace_returns_same_instance_when_unchanged":      "packaging.version.replace() API and Python object identity",
	"TestVersion::test_replace_change_pre_type":                           "packaging.version.replace() API",
	"TestVersion::test_replace_invalid_epoch_type":                        "packaging.version.replace() argument type checks",
	"TestVersion::test_replace_invalid_post_type":                         "packaging.version.replace() argument type checks",
	"TestVersion::test_replace_invalid_dev_type":                          "packaging.version.replace() argument type checks",
	"TestVersion::test_replace_invalid_epoch_negative":                    "packaging.version.replace() argument checks",
	"TestVersion::test_replace_invalid_release_empty":                     "packaging.version.replace() argument checks",
	"TestVersion::test_replace_invalid_release_tuple_content":             "packaging.version.replace() argument checks",
	"TestVersion::test_replace_invalid_pre_negative":                      "packaging.version.replace() argument checks",
	"TestVersion::test_replace_invalid_pre_type":                          "packaging.version.replace() argument checks",
	"TestVersion::test_replace_invalid_pre_format":                        "packaging.version.replace() argument checks",
	"TestVersion::test_replace_invalid_post_negative":                     "packaging.version.replace() argument checks",
	"TestVersion::test_replace_invalid_dev_negative":                      "packaging.version.replace() argument checks",
	"TestVersion::test_replace_invalid_local_string":                      "packaging.version.replace() argument checks",
	"test_deprecated__version":                                            "packaging's private, deprecated Version._version attribute",
	"test_hatchling_usage__version":                                       "mutates packaging's private Version._version (hatchling shim)",
	"test_from_parts":                                                     "Version.from_parts() component constructor API (not in the contract)",
	"test_from_parts_rejects_non_str_pre_letter":                          "Version.from_parts() argument type checks",
	"test_pickle_roundtrip":                                               "Python pickling",
	"test_pickle_old_format_loads":                                        "Python pickling",
	"test_pickle_old_format_re_pickled_is_clean":                          "Python pickling",
	"test_pickle_26_0_slots_format_loads":                                 "Python pickling",
	"test_pickle_26_2_tuple_getstate_loads":                               "Python pickling",
	"test_pickle_setstate_rejects_invalid_state":                          "Python pickling",
	"test_structures_shim_repr":                                           "repr() of packaging's internal Infinity objects",
	"test_trimmed_release_hash_from_unhashed_version":                     "hash() of packaging's internal _TrimmedRelease",
	"test_trimmed_release_hash_from_prehashed_version":                    "hash() of packaging's internal _TrimmedRelease",

	// test_specifiers.py
	"TestSpecifier::test_match_args":                                           "Python structural pattern matching (__match_args__)",
	"TestSpecifier::test_specifiers_hash":                                      "Python hash(); Go compares with Equal",
	"TestSpecifier::test_comparison_non_specifier":                             "Python operator protocol against int/str operands",
	"TestSpecifier::test_specifier_hash_for_compatible_operator":               "Python hash() (the equality half is test_specifier_equal_for_compatible_operator)",
	"TestSpecifierInternal::test_spec_version_cache_consistency":               "packaging's internal _spec_version cache",
	"TestSpecifierInternal::test_spec_version_cache_with_wildcards":            "packaging's internal _spec_version cache",
	"TestSpecifierInternal::test_spec_version_cache_with_arbitrary_equality":   "packaging's internal _spec_version cache",
	"TestSpecifierInternal::test_spec_version_cache_compatible_operator":       "packaging's internal _spec_version cache",
	"TestSpecifierSet::test_match_args":                                        "Python structural pattern matching (__match_args__)",
	"TestSpecifierSet::test_specifiers_hash":                                   "Python hash(); Go compares with Equal",
	"TestSpecifierSet::test_specifiers_combine_not_implemented":                "Python TypeError for `SpecifierSet() & 12`",
	"TestSpecifierSet::test_comparison_non_specifier":                          "Python operator protocol against an int operand",
	"TestSpecifierSet::test_is_subset":                                         "packaging's SpecifierSet.is_subset() API (not in the contract)",
	"TestSpecifierSet::test_is_superset":                                       "packaging's SpecifierSet.is_superset() API (not in the contract)",
	"TestSpecifierSet::test_is_disjoint":                                       "packaging's SpecifierSet.is_disjoint() API (not in the contract)",
	"TestSpecifierSet::test_set_relations_raise_on_prerelease_policy_mismatch": "packaging's is_subset/is_superset/is_disjoint API",
	"TestSpecifierSet::test_set_relations_require_specifierset":                "packaging's is_subset/is_superset/is_disjoint API (TypeError for non-sets)",
	"TestSpecifierSet::test_set_relations_reject_arbitrary_equality":           "packaging's is_subset/is_superset/is_disjoint API",
	"TestSpecifierSet::test_filter_post_release_boundary_intersection":         "the filter input list is not in the extracted data (only the expected result); test_contains_post_release_boundary_intersection checks the same set",
	"TestIsUnsatisfiable::test_result_is_cached":                               "packaging's internal _is_unsatisfiable cache",
	"TestIsUnsatisfiable::test_cache_reset_on_prereleases_change":              "packaging's internal _is_unsatisfiable cache",
	"TestIsUnsatisfiable::test_and_reuses_interval_cache":                      "packaging's internal range cache",
	"TestIsUnsatisfiable::test_canonicalization_keeps_range_cache":             "packaging's internal range cache",
	"TestIsUnsatisfiable::test_canonicalization_keeps_unsatisfiable_cache":     "packaging's internal _is_unsatisfiable cache",
	"TestIsUnsatisfiable::test_range_bounds_hashable_and_equal":                "packaging's private range-bound objects",
	"TestIsUnsatisfiable::test_range_bounds_repr":                              "repr() of packaging's private range-bound objects",
	"TestIsUnsatisfiable::test_range_bounds_reject_foreign_comparison":         "packaging's private range-bound objects",
	"test_pickle_specifier_roundtrip":                                          "Python pickling",
	"test_pickle_specifierset_roundtrip":                                       "Python pickling",
	// test_pickle_setstate_rejects_invalid_state: listed above (same name in both files)
	"test_pickle_specifier_setstate_rejects_malformed_legacy_state":                     "Python pickling",
	"test_pickle_specifierset_setstate_rejects_malformed_legacy_state":                  "Python pickling",
	"test_pickle_specifierset_setstate_on_initialized_instance":                         "Python pickling",
	"test_pickle_specifier_setstate_clears_cache":                                       "Python pickling and internal caches",
	"test_pickle_specifierset_setstate_clears_cache":                                    "Python pickling and internal caches",
	"test_pickle_specifier_25_0_format_loads":                                           "Python pickling",
	"test_pickle_specifierset_25_0_format_loads":                                        "Python pickling",
	"test_pickle_specifier_26_0_slots_format_loads":                                     "Python pickling",
	"test_pickle_specifierset_26_0_slots_format_loads":                                  "Python pickling",
	"test_pickle_specifier_26_1_slots_format_loads":                                     "Python pickling",
	"test_pickle_specifierset_26_1_slots_format_loads":                                  "Python pickling",
	"test_pickle_specifier_26_2_tuple_format_loads":                                     "Python pickling",
	"test_pickle_specifierset_26_2_tuple_format_loads":                                  "Python pickling",
	"test_specifier_construction_is_lazy":                                               "packaging's lazy internal caches",
	"test_specifierset_construction_is_lazy":                                            "packaging's lazy internal caches",
	"test_filter_keyed_none_version_is_skipped":                                         "filter(key=...) returning Python None",
	"test_specifierset_contains_reads_cached_bounds":                                    "replaces packaging's internal range cache to prove it is read",
	"TestSpecifierSetToRangeEquivalence::test_contains_equivalent":                      "packaging.ranges API (VersionRange objects), compared against packaging itself; no expected values in the data",
	"TestSpecifierSetToRangeEquivalence::test_filter_equivalent":                        "packaging.ranges API, compared against packaging itself; no expected values in the data",
	"TestSpecifierSetToRangeEquivalence::test_to_specifier_set_roundtrip_matches":       "packaging.ranges API (to_specifier_set)",
	"TestSpecifierSetToRangeEquivalence::test_contains_equivalent_with_version_objects": "packaging.ranges API, compared against packaging itself; no expected values in the data",
}

func loadConf(t *testing.T, name string) confFile { return testutil.LoadConformance(t, name) }

type confCounts struct{ rows, passed, failed, skippedRows, bodyTests, bodyPassed, skippedTests int }

func runConf(t *testing.T, f confFile, rowsBy map[string]rowFunc, bodyBy map[string]bodyFunc, c *confCounts) {
	for _, ct := range f.Tests {
		if reason, ok := conformanceSkips[ct.Test]; ok {
			if reason == "" {
				t.Errorf("%s: skipped without a reason", ct.Test)
			}
			c.skippedTests++
			if len(ct.Parametrize) > 0 {
				c.skippedRows += len(ct.Rows())
			} else {
				c.skippedRows++
			}
			continue
		}
		if fn, ok := rowsBy[ct.Test]; ok {
			if len(ct.Parametrize) == 0 {
				t.Errorf("%s: handled as parametrized but has no parameters", ct.Test)
				continue
			}
			bad := 0
			for _, r := range ct.Rows() {
				c.rows++
				msg := safeRow(fn, r)
				if msg == "" {
					c.passed++
					continue
				}
				c.failed++
				if bad++; bad <= 10 {
					t.Errorf("%s (line %d) %v: %s", ct.Test, ct.Line, compact(r), msg)
				}
			}
			continue
		}
		if fn, ok := bodyBy[ct.Test]; ok {
			c.bodyTests++
			msg := safeBody(fn, ct.BodyVectors)
			if msg == "" {
				c.bodyPassed++
			} else {
				t.Errorf("%s (line %d): %s", ct.Test, ct.Line, msg)
			}
			continue
		}
		t.Errorf("%s (%s line %d) is neither handled nor skipped: classify it", ct.Test, f.File, ct.Line)
	}
}

func safeRow(fn rowFunc, r map[string]any) (msg string) {
	defer func() {
		if p := recover(); p != nil {
			msg = fmt.Sprintf("panic: %v", p)
		}
	}()
	return fn(r)
}

func safeBody(fn bodyFunc, bv []map[string]any) (msg string) {
	defer func() {
		if p := recover(); p != nil {
			msg = fmt.Sprintf("panic: %v", p)
		}
	}()
	return fn(bv)
}

func compact(r map[string]any) string {
	b, _ := json.Marshal(r)
	if len(b) > 300 {
		return string(b[:300]) + "..."
	}
	return string(b)
}

func TestConformance(t *testing.T) {
	for _, f := range []struct {
		name   string
		rows   map[string]rowFunc
		bodies map[string]bodyFunc
	}{
		{"test_version.json", versionRows(), versionBodies()},
		{"test_specifiers.json", specifierRows(), specifierBodies()},
	} {
		t.Run(strings.TrimSuffix(f.name, ".json"), func(t *testing.T) {
			var c confCounts
			runConf(t, loadConf(t, f.name), f.rows, f.bodies, &c)
			ran, passed := c.rows+c.bodyTests, c.passed+c.bodyPassed
			t.Logf("%s: rows ran=%d passed=%d failed=%d skipped=%d (%d parametrized cases + %d unparametrized tests checked from their body vectors; %d tests skipped by name)",
				f.name, ran, passed, ran-passed, c.skippedRows, c.rows, c.bodyTests, c.skippedTests)
		})
	}
}

// TestConformanceSkipsAreKnown keeps the skip list honest: every entry names
// a test that exists in the data.
func TestConformanceSkipsAreKnown(t *testing.T) {
	known := map[string]bool{}
	for _, name := range []string{"test_version.json", "test_specifiers.json"} {
		for _, ct := range loadConf(t, name).Tests {
			known[ct.Test] = true
		}
	}
	for name := range conformanceSkips {
		if !known[name] {
			t.Errorf("skip list names %q, which is in neither data file", name)
		}
	}
}

// ---- value helpers ----

func str(r map[string]any, k string) string {
	s, ok := r[k].(string)
	if !ok {
		panic(fmt.Sprintf("argument %q is %T, want string", k, r[k]))
	}
	return s
}

func boolean(r map[string]any, k string) bool {
	b, ok := r[k].(bool)
	if !ok {
		panic(fmt.Sprintf("argument %q is %T, want bool", k, r[k]))
	}
	return b
}

// prerelease maps packaging's prereleases=None/True/False.
func prerelease(v any) Prerelease {
	switch v {
	case true:
		return PrereleaseAllow
	case false:
		return PrereleaseDeny
	case nil:
		return PrereleaseDefault
	}
	panic(fmt.Sprintf("prereleases value %v", v))
}

// item decodes a string or {"$type": "Version", "args": [s]} into a candidate.
func item(v any) candidate {
	switch x := v.(type) {
	case string:
		return newCandidate(x)
	case map[string]any:
		if x["$type"] == "Version" {
			args := x["args"].([]any)
			return candidate{v: MustParse(args[0].(string)), ok: true}
		}
	}
	panic(fmt.Sprintf("cannot use %v as a version item", v))
}

func items(v any) []candidate {
	list := v.([]any)
	out := make([]candidate, len(list))
	for i, x := range list {
		out[i] = item(x)
	}
	return out
}

// itemKey identifies an item for comparing filter results: text as written,
// Version objects by normal form.
func itemKey(v any) string {
	switch x := v.(type) {
	case string:
		return "s:" + x
	case map[string]any:
		if x["$type"] == "Version" {
			return "v:" + MustParse(x["args"].([]any)[0].(string)).String()
		}
	}
	panic(fmt.Sprintf("cannot key %v", v))
}

func keysOf(list []any) []string {
	out := []string{}
	for _, x := range list {
		out = append(out, itemKey(x))
	}
	return out
}

func pick(list []any, idx []int) []string {
	out := []string{}
	for _, i := range idx {
		out = append(out, itemKey(list[i]))
	}
	return out
}

func mustSet(s string) SpecifierSet {
	set, err := ParseSpecifierSet(s)
	if err != nil {
		panic(err)
	}
	return set
}

func mustSpec(s string) Specifier {
	sp, err := ParseSpecifier(s)
	if err != nil {
		panic(err)
	}
	return sp
}

func specSet(s string) SpecifierSet {
	set, err := NewSpecifierSet(mustSpec(s))
	if err != nil {
		panic(err)
	}
	return set
}

func expectBool(what string, got, want bool) string {
	if got != want {
		return fmt.Sprintf("%s = %v, want %v", what, got, want)
	}
	return ""
}

func expectStrings(what string, got, want []string) string {
	if len(got) == 0 && len(want) == 0 {
		return ""
	}
	if !reflect.DeepEqual(got, want) {
		return fmt.Sprintf("%s = %q, want %q", what, got, want)
	}
	return ""
}

func first(msgs ...string) string {
	for _, m := range msgs {
		if m != "" {
			return m
		}
	}
	return ""
}

// cmpOp applies a {"$op": ...} operator to a Compare result.
func cmpOp(op any, c int) bool {
	switch op.(map[string]any)["$op"] {
	case "lt":
		return c < 0
	case "le":
		return c <= 0
	case "eq":
		return c == 0
	case "ne":
		return c != 0
	case "ge":
		return c >= 0
	case "gt":
		return c > 0
	}
	panic(fmt.Sprintf("operator %v", op))
}

func eqOp(op any, equal bool) bool {
	switch op.(map[string]any)["$op"] {
	case "eq":
		return equal
	case "ne":
		return !equal
	}
	panic(fmt.Sprintf("operator %v", op))
}

// ---- test_version.py ----

func versionRows() map[string]rowFunc {
	parses := func(r map[string]any) string {
		if _, err := Parse(str(r, "version")); err != nil {
			return err.Error()
		}
		return ""
	}
	fails := func(r map[string]any) string {
		if v, err := Parse(str(r, "version")); err == nil {
			return fmt.Sprintf("parsed as %s, want an error", v)
		}
		return ""
	}
	strIs := func(arg string, f func(Version) string) rowFunc {
		return func(r map[string]any) string {
			got := f(MustParse(str(r, "version")))
			if want := str(r, arg); got != want {
				return fmt.Sprintf("got %q, want %q", got, want)
			}
			return ""
		}
	}
	boolIs := func(f func(Version) bool) rowFunc {
		return func(r map[string]any) string {
			return expectBool("result", f(MustParse(str(r, "version"))), boolean(r, "expected"))
		}
	}
	optInt := func(arg string, f func(Version) (int, bool)) rowFunc {
		return func(r map[string]any) string {
			n, ok := f(MustParse(str(r, "version")))
			want := r[arg]
			if want == nil {
				if ok {
					return fmt.Sprintf("got %d, want None", n)
				}
				return ""
			}
			if !ok || float64(n) != want.(float64) {
				return fmt.Sprintf("got %d (present %v), want %v", n, ok, want)
			}
			return ""
		}
	}
	compare := func(r map[string]any) string {
		l, rt := MustParse(str(r, "left")), MustParse(str(r, "right"))
		want := true
		if r["_false"] == true {
			want = false
		}
		return expectBool(fmt.Sprintf("%s %v %s", l, r["op"], rt), cmpOp(r["op"], l.Compare(rt)), want)
	}
	compareFalse := func(r map[string]any) string {
		r["_false"] = true
		return compare(r)
	}
	return map[string]rowFunc{
		"TestVersion::test_valid_versions":                      parses,
		"TestVersion::test_invalid_versions":                    fails,
		"TestVersion::test_oversized_version_raises_valueerror": fails,
		"TestVersion::test_normalized_versions":                 strIs("normalized", Version.String),
		"TestVersion::test_version_str_repr":                    strIs("expected", Version.String),
		"TestVersion::test_version_public":                      strIs("public", func(v Version) string { return v.Public().String() }),
		"TestVersion::test_version_base_version":                strIs("base_version", func(v Version) string { return v.BaseVersion().String() }),
		"TestVersion::test_version_epoch":                       optInt("epoch", func(v Version) (int, bool) { return v.Epoch(), true }),
		"TestVersion::test_version_release": func(r map[string]any) string {
			got := MustParse(str(r, "version")).Release()
			var want []int
			for _, x := range r["release"].([]any) {
				want = append(want, int(x.(float64)))
			}
			if !reflect.DeepEqual(got, want) {
				return fmt.Sprintf("got %v, want %v", got, want)
			}
			return ""
		},
		"TestVersion::test_version_local": func(r map[string]any) string {
			got := MustParse(str(r, "version")).Local()
			want, _ := r["local"].(string) // None -> ""
			if got != want {
				return fmt.Sprintf("got %q, want %v", got, r["local"])
			}
			return ""
		},
		"TestVersion::test_version_pre": func(r map[string]any) string {
			l, n, ok := MustParse(str(r, "version")).Pre()
			if r["pre"] == nil {
				if ok {
					return fmt.Sprintf("got (%s, %d), want None", l, n)
				}
				return ""
			}
			want := r["pre"].([]any)
			if !ok || l != want[0].(string) || float64(n) != want[1].(float64) {
				return fmt.Sprintf("got (%q, %d, %v), want %v", l, n, ok, want)
			}
			return ""
		},
		"TestVersion::test_version_is_prerelease":  boolIs(Version.IsPrerelease),
		"TestVersion::test_version_dev":            optInt("dev", Version.Dev),
		"TestVersion::test_version_is_devrelease":  boolIs(Version.IsDevrelease),
		"TestVersion::test_version_post":           optInt("post", Version.Post),
		"TestVersion::test_version_is_postrelease": boolIs(Version.IsPostrelease),
		"TestVersion::test_comparison_true":        compare,
		"TestVersion::test_comparison_false":       compareFalse,
	}
}

var attrRe = regexp.MustCompile(`^Version\('([^']*)'\)\.(major|minor|micro)$`)

func versionBodies() map[string]bodyFunc {
	attrs := func(bv []map[string]any) string {
		n := 0
		for _, v := range bv {
			if v["kind"] != "compare" {
				continue
			}
			m := attrRe.FindStringSubmatch(v["left"].(string))
			if m == nil {
				return fmt.Sprintf("unexpected vector %v", v)
			}
			ver := MustParse(m[1])
			got := map[string]int{"major": ver.Major(), "minor": ver.Minor(), "micro": ver.Micro()}[m[2]]
			if float64(got) != v["value"].(float64) {
				return fmt.Sprintf("%s = %d, want %v", v["left"], got, v["value"])
			}
			n++
		}
		if n == 0 {
			return "no vectors checked"
		}
		return ""
	}
	cmp := func(pairs ...[3]string) bodyFunc {
		return func([]map[string]any) string {
			for _, p := range pairs {
				c := MustParse(p[0]).Compare(MustParse(p[2]))
				if !cmpOp(map[string]any{"$op": p[1]}, c) {
					return fmt.Sprintf("%s %s %s is false", p[0], p[1], p[2])
				}
			}
			return ""
		}
	}
	return map[string]bodyFunc{
		"test_parse": func([]map[string]any) string {
			if _, err := Parse("1.0"); err != nil {
				return err.Error()
			}
			return ""
		},
		"test_parse_raises": func([]map[string]any) string {
			if _, err := Parse("lolwat"); err == nil {
				return "lolwat parsed"
			}
			return ""
		},
		"TestVersion::test_version_rc_and_c_equals": cmp([3]string{"1.0rc1", "eq", "1.0c1"}),
		"TestVersion::test_major_version":           attrs,
		"TestVersion::test_minor_version":           attrs,
		"TestVersion::test_micro_version":           attrs,
		// The bodies assert plain comparisons (their point upstream is a key cache).
		"TestVersion::test_gt_with_cached_other":          cmp([3]string{"2.0", "gt", "1.0"}),
		"TestVersion::test_version_ne_with_uncached_keys": cmp([3]string{"1.0", "ne", "2.0"}, [3]string{"1.0", "ne", "1.5"}, [3]string{"1.2", "ne", "1.5"}),
		"TestVersion::test_version_le_with_uncached_keys": cmp([3]string{"1.0", "le", "2.0"}, [3]string{"1.0", "le", "1.5"}),
	}
}

// ---- test_specifiers.py ----

func specifierRows() map[string]rowFunc {
	specOK := func(r map[string]any) string {
		if _, err := ParseSpecifier(str(r, "specifier")); err != nil {
			return err.Error()
		}
		return ""
	}
	specEq := func(set bool) rowFunc {
		return func(r map[string]any) string {
			l, rt := str(r, "left"), str(r, "right")
			var equal bool
			if set {
				equal = mustSet(l).Equal(mustSet(rt))
			} else {
				equal = mustSpec(l).Equal(mustSpec(rt))
			}
			want := true
			if r["_false"] == true {
				want = false
			}
			return expectBool(fmt.Sprintf("%s %v %s", l, r["op"], rt), eqOp(r["op"], equal), want)
		}
	}
	specEqFalse := func(set bool) rowFunc {
		f := specEq(set)
		return func(r map[string]any) string { r["_false"] = true; return f(r) }
	}
	canon := func(set bool) rowFunc {
		return func(r map[string]any) string {
			l, rt := str(r, "left"), str(r, "right")
			if set {
				return expectBool("equal", mustSet(l).Equal(mustSet(rt)), true)
			}
			return expectBool("equal", mustSpec(l).Equal(mustSpec(rt)), true)
		}
	}
	// specContains checks Specifier(spec, prereleases=ctor).contains(version, prereleases=call).
	specContains := func(spec string, ctor, call Prerelease, version any, want bool) string {
		sp := mustSpec(spec)
		pre := call
		if pre == PrereleaseDefault {
			pre = ctor
		}
		c := item(version)
		var got bool
		if s, ok := version.(string); ok {
			got = sp.ContainsString(s, pre)
			if c.ok && !strings.HasPrefix(spec, "===") {
				// The Version-object form must agree for standard operators.
				if g2 := sp.Contains(c.v, pre); g2 != got {
					return fmt.Sprintf("Contains(Version) = %v but ContainsString = %v", g2, got)
				}
			}
		} else {
			got = sp.Contains(c.v, pre)
		}
		return expectBool(fmt.Sprintf("Specifier(%q).contains(%v)", spec, version), got, want)
	}
	setContains := func(spec string, ctor, call Prerelease, installed bool, version any, want bool) string {
		set := mustSet(spec).WithPrereleases(ctor)
		c := item(version)
		if installed && c.ok && c.v.IsPrerelease() {
			call = PrereleaseAllow
		}
		var got bool
		if s, ok := version.(string); ok {
			got = set.ContainsString(s, call)
			if c.ok && !set.hasArbitrary {
				if g2 := set.Contains(c.v, call); g2 != got {
					return fmt.Sprintf("Contains(Version) = %v but ContainsString = %v", g2, got)
				}
			}
		} else {
			got = set.Contains(c.v, call)
		}
		return expectBool(fmt.Sprintf("SpecifierSet(%q).contains(%v)", spec, version), got, want)
	}
	// setFilter runs filter over mixed string/Version input and, for all
	// string input, the exported FilterStrings too.
	setFilter := func(set SpecifierSet, call Prerelease, input, expected []any) string {
		got := pick(input, set.filterIdx(items(input), call))
		if msg := expectStrings("filter", got, keysOf(expected)); msg != "" {
			return msg
		}
		var texts []string
		var vs []Version
		allText, allVersions := true, true
		for _, x := range input {
			if s, ok := x.(string); ok {
				texts = append(texts, s)
				if v, err := Parse(s); err == nil {
					vs = append(vs, v)
				} else {
					allVersions = false
				}
			} else {
				allText = false
			}
		}
		if allText {
			out := set.FilterStrings(texts, call)
			var keys []string
			for _, s := range out {
				keys = append(keys, "s:"+s)
			}
			if msg := expectStrings("FilterStrings", keys, keysOf(expected)); msg != "" {
				return msg
			}
		}
		if allText && allVersions && !set.hasArbitrary {
			// The Version API agrees when every input is a version.
			var got, want []string
			for _, v := range set.Filter(vs, call) {
				got = append(got, v.String())
			}
			for _, x := range expected {
				want = append(want, MustParse(x.(string)).String())
			}
			if msg := expectStrings("Filter", got, want); msg != "" {
				return msg
			}
		}
		return ""
	}
	return map[string]rowFunc{
		"TestSpecifier::test_specifiers_valid": specOK,
		"TestSpecifier::test_specifiers_invalid": func(r map[string]any) string {
			if sp, err := ParseSpecifier(str(r, "specifier")); err == nil {
				return fmt.Sprintf("parsed as %v, want an error", sp)
			}
			return ""
		},
		"TestSpecifier::test_specifiers_normalized": func(r map[string]any) string {
			v := str(r, "version")
			ops := []string{"~=", "==", "!=", "<=", ">=", "<", ">"}
			if strings.Contains(v, "+") {
				ops = []string{"==", "!="}
			}
			for _, op := range ops {
				if _, err := ParseSpecifier(op + v); err != nil {
					return err.Error()
				}
			}
			return ""
		},
		"TestSpecifier::test_specifiers_str_and_repr": func(r map[string]any) string {
			got := mustSpec(str(r, "specifier")).String()
			return expectStrings("str", []string{got}, []string{str(r, "expected")})
		},
		"TestSpecifier::test_comparison_true":          specEq(false),
		"TestSpecifier::test_comparison_false":         specEqFalse(false),
		"TestSpecifier::test_comparison_canonicalizes": canon(false),
		"TestSpecifier::test_specifiers": func(r map[string]any) string {
			return specContains(str(r, "spec_str"), PrereleaseAllow, PrereleaseDefault, r["version"], boolean(r, "expected"))
		},
		"TestSpecifier::test_invalid_version": func(r map[string]any) string {
			return specContains(str(r, "spec_str"), PrereleaseAllow, PrereleaseDefault, r["version"], boolean(r, "expected"))
		},
		"TestSpecifier::test_specifier_prereleases_set": func(r map[string]any) string {
			spec, v := str(r, "specifier"), r["version"]
			return first(
				specContains(spec, prerelease(r["initial_prereleases"]), PrereleaseDefault, v, boolean(r, "initial_contains")),
				specContains(spec, prerelease(r["set_prereleases"]), PrereleaseDefault, v, boolean(r, "final_contains")))
		},
		"TestSpecifier::test_arbitrary_equality": func(r map[string]any) string {
			return specContains(str(r, "spec_str"), PrereleaseDefault, PrereleaseDefault, r["version"], boolean(r, "expected"))
		},
		"TestSpecifier::test_arbitrary_equality_normalization": func(r map[string]any) string {
			return specContains(str(r, "spec_str"), PrereleaseAllow, PrereleaseDefault, r["version"], boolean(r, "expected"))
		},
		"TestSpecifier::test_specifier_prereleases_detection": func(r map[string]any) string {
			return expectBool("prereleases", mustSpec(str(r, "specifier")).Prereleases(), boolean(r, "expected"))
		},
		"TestSpecifier::test_specifiers_prereleases": func(r map[string]any) string {
			return specContains(str(r, "specifier"), prerelease(r["spec_pre"]), prerelease(r["contains_pre"]), r["version"], boolean(r, "expected"))
		},
		"TestSpecifier::test_specifier_filter": func(r map[string]any) string {
			set := specSet(str(r, "specifier")).WithPrereleases(prerelease(r["specifier_prereleases"]))
			return setFilter(set, prerelease(r["prereleases"]), r["input"].([]any), r["expected"].([]any))
		},
		"TestSpecifier::test_specifier_filter_arbitrary_equality_normalization": func(r map[string]any) string {
			set := specSet(str(r, "specifier")).WithPrereleases(PrereleaseAllow)
			return setFilter(set, PrereleaseDefault, r["input"].([]any), r["expected"].([]any))
		},
		"TestSpecifier::test_specifier_filter_with_key": func(r map[string]any) string {
			input := []any{"1.0", "2.1a1"}
			got := specSet(">=2.0").filterIdx(items(input), prerelease(r["prereleases"]))
			return expectIdx(got, r["expected_indexes"])
		},
		"TestSpecifier::test_specifier_operator_property": func(r map[string]any) string {
			return expectStrings("operator", []string{mustSpec(str(r, "spec")).Operator}, []string{str(r, "op")})
		},
		"TestSpecifier::test_specifier_version_property": func(r map[string]any) string {
			return expectStrings("version", []string{mustSpec(str(r, "spec")).Version}, []string{str(r, "version")})
		},
		"TestSpecifier::test_length": func(r map[string]any) string {
			n := mustSet(str(r, "spec_str")).Len()
			if float64(n) != r["expected_length"].(float64) {
				return fmt.Sprintf("len = %d, want %v", n, r["expected_length"])
			}
			return ""
		},
		"TestSpecifier::test_iteration": func(r map[string]any) string {
			var got, want []string
			for _, sp := range mustSet(str(r, "spec_str")).Specifiers() {
				got = append(got, sp.String())
			}
			for _, x := range r["expected_items"].([]any) {
				want = append(want, x.(string))
			}
			sort.Strings(got)
			sort.Strings(want)
			return expectStrings("items", got, want)
		},
		"TestSpecifierSet::test_empty_specifier": func(r map[string]any) string {
			set := SpecifierSet{}.WithPrereleases(PrereleaseAllow)
			v := str(r, "version")
			return first(expectBool("contains(str)", set.ContainsString(v, PrereleaseDefault), true),
				expectBool("contains(Version)", set.Contains(MustParse(v), PrereleaseDefault), true))
		},
		"TestSpecifierSet::test_empty_specifier_arbitrary_string": func(r map[string]any) string {
			set := SpecifierSet{}.WithPrereleases(prerelease(r["prereleases"]))
			return first(expectBool("contains(foobar)", set.ContainsString("foobar", PrereleaseDefault), true),
				setFilter(set, PrereleaseDefault, r["versions"].([]any), r["expected"].([]any)))
		},
		"TestSpecifierSet::test_empty_specifier_ordering_with_arbitrary": func(r map[string]any) string {
			return setFilter(mustSet(""), PrereleaseDefault, r["versions"].([]any), r["expected"].([]any))
		},
		"TestSpecifierSet::test_specifier_prereleases_explicit": func(r map[string]any) string {
			spec, v := str(r, "spec_str"), r["version"]
			return first(
				setContains(spec, prerelease(r["initial_prereleases"]), PrereleaseDefault, false, v, boolean(r, "initial_contains")),
				setContains(spec, prerelease(r["set_prereleases"]), PrereleaseDefault, false, v, boolean(r, "final_contains")))
		},
		"TestSpecifierSet::test_specifier_contains_installed_prereleases": func(r map[string]any) string {
			installed := r["installed"] == true
			return first(
				setContains(str(r, "specifier"), prerelease(r["spec_prereleases"]), prerelease(r["contains_prereleases"]), installed, r["version"], boolean(r, "expected")),
				// The body's fixed tail.
				setContains("~=1.0", PrereleaseDeny, PrereleaseDefault, true, "1.1.0.dev1", true),
				setContains("~=1.0", PrereleaseDeny, PrereleaseDeny, false, "1.1.0.dev1", false))
		},
		"TestSpecifierSet::test_specifier_filter": func(r map[string]any) string {
			set := mustSet(str(r, "specifier")).WithPrereleases(prerelease(r["specifier_prereleases"]))
			return setFilter(set, prerelease(r["prereleases"]), r["input"].([]any), r["expected"].([]any))
		},
		"TestSpecifierSet::test_specifierset_filter_with_key": func(r map[string]any) string {
			input := []any{"1.0", "2.1a1"}
			return expectIdx(mustSet(">=2").filterIdx(items(input), prerelease(r["prereleases"])), r["expected_indexes"])
		},
		"TestSpecifierSet::test_empty_specifierset_filter_with_key": func(r map[string]any) string {
			input := []any{"2.0a1", "2.1"}
			set := SpecifierSet{}.WithPrereleases(prerelease(r["prereleases"]))
			return expectIdx(set.filterIdx(items(input), PrereleaseDefault), r["expected_indexes"])
		},
		"TestSpecifierSet::test_filter_exclusionary_bridges": func(r map[string]any) string {
			return setFilter(mustSet(str(r, "specifier")), prerelease(r["prereleases"]), r["input"].([]any), r["expected"].([]any))
		},
		"TestSpecifierSet::test_contains_exclusionary_bridges": func(r map[string]any) string {
			return setContains(str(r, "specifier"), PrereleaseDefault, prerelease(r["prereleases"]), false, r["version"], boolean(r, "expected"))
		},
		"TestSpecifierSet::test_contains_rejects_invalid_specifier": func(r map[string]any) string {
			return setContains(str(r, "specifier"), PrereleaseAllow, PrereleaseDefault, false, r["input"], false)
		},
		"TestSpecifierSet::test_contains_post_release_boundary_intersection": func(r map[string]any) string {
			return setContains(str(r, "spec_str"), PrereleaseDefault, PrereleaseDefault, false, r["version"], boolean(r, "expected"))
		},
		"TestSpecifierSet::test_contains_oversized_version_raises_valueerror": func(r map[string]any) string {
			// packaging raises ValueError when contains() first parses the
			// oversized number; this package refuses it at parse time.
			if _, err := ParseSpecifierSet(str(r, "specifier")); err == nil {
				return "parsed, want an error"
			}
			return ""
		},
		"TestSpecifierSet::test_contains_arbitrary_equality_contains": func(r map[string]any) string {
			return setContains(str(r, "specifier"), PrereleaseDefault, PrereleaseDefault, false, r["version"], boolean(r, "expected"))
		},
		"TestSpecifierSet::test_contains_arbitrary_equality_normalization": func(r map[string]any) string {
			return setContains(str(r, "spec_str"), PrereleaseAllow, PrereleaseDefault, false, r["version"], boolean(r, "expected"))
		},
		"TestSpecifierSet::test_specifiers_str_and_repr": func(r map[string]any) string {
			return expectStrings("str", []string{mustSet(str(r, "specifier")).String()}, []string{str(r, "expected")})
		},
		"TestSpecifierSet::test_specifiers_combine": func(r map[string]any) string {
			left, right, want := mustSet(str(r, "left")), mustSet(str(r, "right")), mustSet(str(r, "expected"))
			overrides := []Prerelease{PrereleaseDefault, PrereleaseAllow, PrereleaseDeny}
			for _, lp := range overrides {
				for _, rp := range overrides {
					got, err := left.WithPrereleases(lp).Intersect(right.WithPrereleases(rp))
					conflict := lp != PrereleaseDefault && rp != PrereleaseDefault && lp != rp
					if conflict {
						if err == nil {
							return fmt.Sprintf("%v & %v: no error", lp, rp)
						}
						continue
					}
					if err != nil {
						return err.Error()
					}
					if !got.Equal(want) {
						return fmt.Sprintf("%v & %v = %s, want %s", lp, rp, got, want)
					}
					wantPre := lp == PrereleaseAllow || rp == PrereleaseAllow
					if lp != PrereleaseDefault || rp != PrereleaseDefault {
						if got.Prereleases() != wantPre {
							return fmt.Sprintf("%v & %v: prereleases = %v", lp, rp, got.Prereleases())
						}
					}
				}
			}
			return ""
		},
		"TestSpecifierSet::test_comparison_true": func(r map[string]any) string {
			return first(specEq(true)(r), specEq(false)(r))
		},
		"TestSpecifierSet::test_comparison_false": func(r map[string]any) string {
			return first(specEqFalse(true)(r), specEqFalse(false)(r))
		},
		"TestSpecifierSet::test_comparison_canonicalizes": canon(true),
		"TestSpecifierSet::test_comparison_ignores_local": func(r map[string]any) string {
			return setContains(str(r, "specifier"), PrereleaseDefault, PrereleaseDefault, false,
				map[string]any{"$type": "Version", "args": []any{str(r, "version")}}, boolean(r, "expected"))
		},
		"TestSpecifierSet::test_arbitrary_equality_is_intersection_preserving": func(r map[string]any) string {
			input := r["input_versions"].([]any)
			s1, s2 := str(r, "spec1"), str(r, "spec2")
			in := func(idx []int) map[int]bool {
				m := map[int]bool{}
				for _, i := range idx {
					m[i] = true
				}
				return m
			}
			a := in(specSet(s1).filterIdx(items(input), PrereleaseDefault))
			b := in(specSet(s2).filterIdx(items(input), PrereleaseDefault))
			both := in(mustSet(s1+","+s2).filterIdx(items(input), PrereleaseDefault))
			for i := range input {
				if (a[i] && b[i]) != both[i] {
					return fmt.Sprintf("item %v: s1 %v s2 %v combined %v", input[i], a[i], b[i], both[i])
				}
			}
			return ""
		},
		"TestIsUnsatisfiable::test_unsatisfiable": func(r map[string]any) string {
			return unsatisfiable(str(r, "spec_str"), PrereleaseDefault, PrereleaseAllow, true)
		},
		"TestIsUnsatisfiable::test_satisfiable": func(r map[string]any) string {
			return unsatisfiable(str(r, "spec_str"), PrereleaseDefault, PrereleaseAllow, false)
		},
		"TestIsUnsatisfiable::test_unsatisfiable_prereleases_false": func(r map[string]any) string {
			return unsatisfiable(str(r, "spec_str"), PrereleaseDeny, PrereleaseDefault, true)
		},
		"TestIsUnsatisfiable::test_satisfiable_prereleases_false": func(r map[string]any) string {
			return unsatisfiable(str(r, "spec_str"), PrereleaseDeny, PrereleaseDefault, false)
		},
		"TestIsUnsatisfiable::test_post_release_boundary_unsatisfiable": func(r map[string]any) string {
			return unsatisfiable(str(r, "spec_str"), PrereleaseDefault, PrereleaseAllow, true)
		},
		"TestIsUnsatisfiable::test_contains_identical_across_canonicalization": func(r map[string]any) string {
			set := mustSet(str(r, "spec"))
			var before []bool
			for _, v := range r["versions"].([]any) {
				before = append(before, set.ContainsString(v.(string), PrereleaseDefault))
			}
			_ = set.String()
			for i, v := range r["versions"].([]any) {
				if set.ContainsString(v.(string), PrereleaseDefault) != before[i] {
					return fmt.Sprintf("%v changed after String()", v)
				}
			}
			return ""
		},
		"test_boundary_closure_short_release": func(r map[string]any) string {
			sp, v, want := mustSpec(str(r, "spec_str")), MustParse(str(r, "version_str")), boolean(r, "expected")
			got := specSet(sp.String()).Filter([]Version{v}, PrereleaseAllow)
			return first(expectBool("contains", sp.Contains(v, PrereleaseDefault), want),
				expectBool("filter", len(got) == 1 && got[0].Equal(v), want))
		},
	}
}

func expectIdx(got []int, want any) string {
	var w []int
	for _, x := range want.([]any) {
		w = append(w, int(x.(float64)))
	}
	if len(got) == 0 && len(w) == 0 {
		return ""
	}
	if !reflect.DeepEqual(got, w) {
		return fmt.Sprintf("indexes %v, want %v", got, w)
	}
	return ""
}

// sampleVersions rebuilds _SAMPLE_VERSIONS of test_specifiers.py: every base
// with its family of pre/post/dev/local neighbours, plus strings only "==="
// can match.
func sampleVersions() []string {
	bases := []string{"0", "0.0", "1.0", "1.1", "1.2", "2.0", "2.1", "3.0", "1.0.1", "1.4.2", "2.0.0",
		"3.10.2", "3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14", "10.0", "100.0", "1!0.0", "1!1.0", "1!2.0"}
	family := []string{".dev0", ".dev1", ".dev0+local", "a0", "a0.post0.dev0", "a0.post0", "a1.dev1",
		"a1.dev1+local", "a1", "a1+local", "b1", "b2.post1.dev1", "b2.post1", "rc1.dev1", "rc1", "rc2",
		"a2.dev0", "", ".0", ".post0.dev0", ".post0", ".post1.dev0", ".post1", ".post1+local", ".post2",
		"+local", "+local1", "+local2", "+1", "+1.local", ".1.dev1", ".1a1", ".1", ".1+local", ".1.post1"}
	seen := map[string]bool{}
	var out []string
	for _, b := range bases {
		for _, f := range family {
			if v := b + f; !seen[v] {
				seen[v] = true
				out = append(out, v)
			}
		}
	}
	return append(out, "foobar", "a", "b", "not-a-version", "1.01", "1.0-1", "v1.0")
}

// unsatisfiable checks IsUnsatisfiable and that filtering the upstream
// sample versions agrees with it.
func unsatisfiable(spec string, override, call Prerelease, want bool) string {
	set := mustSet(spec).WithPrereleases(override)
	if got := set.IsUnsatisfiable(); got != want {
		return fmt.Sprintf("IsUnsatisfiable(%q, %v) = %v, want %v", spec, override, got, want)
	}
	matched := set.FilterStrings(sampleVersions(), call)
	if want && len(matched) > 0 {
		return fmt.Sprintf("unsatisfiable but filter matched %q", matched)
	}
	if !want && len(matched) == 0 {
		return "satisfiable but filter matched nothing"
	}
	return ""
}

func specifierBodies() map[string]bodyFunc {
	return map[string]bodyFunc{
		"TestSpecifier::test_specifier_equal_for_compatible_operator": func([]map[string]any) string {
			return expectBool("~=1.18.0 == ~=1.18", mustSpec("~=1.18.0").Equal(mustSpec("~=1.18")), false)
		},
		"TestSpecifierSet::test_create_from_specifiers": func([]map[string]any) string {
			strs := []string{">=1.0", "!=1.1", "!=1.2", "<2.0"}
			var specs []Specifier
			for _, s := range strs {
				specs = append(specs, mustSpec(s))
			}
			set, err := NewSpecifierSet(specs...)
			if err != nil {
				return err.Error()
			}
			var got []string
			for _, sp := range set.Specifiers() {
				got = append(got, sp.String())
			}
			sort.Strings(got)
			sort.Strings(strs)
			return expectStrings("specs", got, strs)
		},
		"TestSpecifierSet::test_specifier_contains_prereleases": func([]map[string]any) string {
			empty := SpecifierSet{}
			allow := SpecifierSet{}.WithPrereleases(PrereleaseAllow)
			return first(
				expectBool("SpecifierSet().prereleases", empty.Prereleases(), false),
				expectBool("contains(1.0.dev1)", empty.ContainsString("1.0.dev1", PrereleaseDefault), true),
				expectBool("contains(1.0.dev1, True)", empty.ContainsString("1.0.dev1", PrereleaseAllow), true),
				expectBool("SpecifierSet(prereleases=True).prereleases", allow.Prereleases(), true),
				expectBool("contains(1.0.dev1)", allow.ContainsString("1.0.dev1", PrereleaseDefault), true),
				expectBool("contains(1.0.dev1, False)", allow.ContainsString("1.0.dev1", PrereleaseDeny), false))
		},
		"TestSpecifierSet::test_specifiers_duplicate_normalization": func([]map[string]any) string {
			a, b := mustSet(">1.0.0,>1.0"), mustSet(">1.0")
			return first(expectBool("a == b", a.Equal(b), true),
				expectStrings("str", []string{a.String()}, []string{b.String()}))
		},
		"TestSpecifierSet::test_specifiers_combine_deduplicates": func([]map[string]any) string {
			return expectStrings("str", []string{mustSet(">=1.0").And(mustSet(">=1.0,<5.0")).String()}, []string{"<5.0,>=1.0"})
		},
		"TestSpecifierSet::test_contains_with_compatible_operator": func([]map[string]any) string {
			c := mustSet("~=1.18.0").And(mustSet("~=1.18"))
			return first(expectBool("1.19.5 in", c.ContainsString("1.19.5", PrereleaseDefault), false),
				expectBool("1.18.0 in", c.ContainsString("1.18.0", PrereleaseDefault), true))
		},
		"TestIsUnsatisfiable::test_and_preserves_unsatisfiable": func([]map[string]any) string {
			return expectBool("unsatisfiable", mustSet(">=2.0").And(mustSet("<1.0")).IsUnsatisfiable(), true)
		},
		"TestIsUnsatisfiable::test_and_satisfiable": func([]map[string]any) string {
			return expectBool("unsatisfiable", mustSet(">=1.0").And(mustSet("<2.0")).IsUnsatisfiable(), false)
		},
		"test_filter_multirange_pep440_prerelease_after_final": func([]map[string]any) string {
			s := mustSet("!=1.5")
			return first(expectStrings("filter", s.FilterStrings([]string{"1.4", "1.6a1"}, PrereleaseDefault), []string{"1.4"}),
				expectStrings("filter", s.FilterStrings([]string{"1.6a1", "1.4"}, PrereleaseDefault), []string{"1.4"}))
		},
		"test_specifier_filter_with_version_iterable_warms_then_reuses_cache": func([]map[string]any) string {
			s := specSet(">=1.5")
			var got []string
			for _, v := range s.Filter([]Version{MustParse("1.0"), MustParse("2.0"), MustParse("3.0")}, PrereleaseDefault) {
				got = append(got, v.String())
			}
			return first(expectBool("contains 2.0", mustSpec(">=1.5").Contains(MustParse("2.0"), PrereleaseDefault), true),
				expectStrings("filter", got, []string{"2.0", "3.0"}))
		},
		"test_filter_arbitrary_with_prereleases_false_skips_pre": func([]map[string]any) string {
			return expectStrings("filter", specSet("===1.0a1").FilterStrings([]string{"1.0a1", "0.9"}, PrereleaseDeny), nil)
		},
		"test_filter_arbitrary_constructor_prereleases_false_skips_pre": func([]map[string]any) string {
			s := specSet("===1.0a1").WithPrereleases(PrereleaseDeny)
			return first(expectStrings("filter", s.FilterStrings([]string{"1.0a1"}, PrereleaseDefault), nil),
				expectBool("contains", s.ContainsString("1.0a1", PrereleaseDefault), false))
		},
		"test_filter_arbitrary_unparsable_uses_key": func([]map[string]any) string {
			return expectIdx(specSet("===wat").filterIdx(items([]any{"wat", "WAT", "else"}), PrereleaseDefault), []any{0.0, 1.0})
		},
		"test_filter_arbitrary_pep440_unparsable_buffer_flush": func([]map[string]any) string {
			return expectStrings("filter", specSet("===wat").FilterStrings([]string{"wat", "wat"}, PrereleaseDefault), []string{"wat", "wat"})
		},
		"test_filter_arbitrary_pep440_pre_only": func([]map[string]any) string {
			return expectStrings("filter", specSet("===1.0a1").FilterStrings([]string{"1.0a1"}, PrereleaseDefault), []string{"1.0a1"})
		},
	}
}
