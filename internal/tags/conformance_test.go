package tags_test

// Conformance: pypa/packaging's own test vectors (tests/test_tags.py,
// test_manylinux.py, test_utils.py, test_musllinux.py, extracted as JSON in
// testdata/packaging, see the README there) run against this package.
//
// Every upstream test is either run by a handler below or skipped BY NAME in
// skipped, with the reason; a test in the data that is in neither list fails
// the run, so a new upstream test cannot slip by unnoticed.

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/lambdapack/lambdapack/internal/names"
	"github.com/lambdapack/lambdapack/internal/pep440"
	"github.com/lambdapack/lambdapack/internal/tags"
)

type confFile struct {
	File  string     `json:"file"`
	Tests []confTest `json:"tests"`
}

type confTest struct {
	Test        string       `json:"test"`
	Parametrize []confBlock  `json:"parametrize"`
	Vectors     []confVector `json:"body_vectors"`
}

type confBlock struct {
	Argnames   []string                     `json:"argnames"`
	Cases      []map[string]json.RawMessage `json:"cases"`
	Unresolved []json.RawMessage            `json:"unresolved"`
}

type confVector struct {
	Kind   string                     `json:"kind"`
	Target string                     `json:"target"`
	Op     string                     `json:"op"`
	Left   string                     `json:"left"`
	Value  json.RawMessage            `json:"value"`
	Func   string                     `json:"func"`
	Args   []json.RawMessage          `json:"args"`
	Kwargs map[string]json.RawMessage `json:"kwargs"`
}

// cases returns the test's parametrize rows: the cartesian product of its
// blocks, each row one map of argument name -> raw JSON value.
func (c confTest) cases() []map[string]json.RawMessage {
	rows := []map[string]json.RawMessage{{}}
	for _, b := range c.Parametrize {
		var next []map[string]json.RawMessage
		for _, r := range rows {
			for _, cs := range b.Cases {
				m := map[string]json.RawMessage{}
				for k, v := range r {
					m[k] = v
				}
				for k, v := range cs {
					m[k] = v
				}
				next = append(next, m)
			}
		}
		rows = next
	}
	if len(c.Parametrize) == 0 {
		return nil
	}
	return rows
}

// size is how many pytest cases the test stands for (1 if not parametrized).
func (c confTest) size() int {
	if len(c.Parametrize) == 0 {
		return 1
	}
	n := len(c.cases())
	for _, b := range c.Parametrize {
		n += len(b.Unresolved)
	}
	return n
}

func loadConf(t *testing.T, name string) confFile {
	t.Helper()
	p := filepath.Join("testdata", "packaging", name)
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("reading conformance data: %v", err)
	}
	var f confFile
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("decoding %s: %v", p, err)
	}
	return f
}

// ---- value decoding ----

func str(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatalf("want a string, got %s", raw)
	}
	return s
}

func strs(t *testing.T, raw json.RawMessage) []string {
	t.Helper()
	var s []string
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatalf("want a list of strings, got %s", raw)
	}
	return s
}

func ints(t *testing.T, raw json.RawMessage) []int {
	t.Helper()
	var s []int
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatalf("want a list of ints, got %s", raw)
	}
	return s
}

type typed struct {
	Type string            `json:"$type"`
	Args []json.RawMessage `json:"args"`
	Set  []json.RawMessage `json:"$set"`
}

func decodeTag(t *testing.T, raw json.RawMessage) tags.Tag {
	t.Helper()
	var v typed
	if err := json.Unmarshal(raw, &v); err != nil || v.Type != "Tag" || len(v.Args) != 3 {
		t.Fatalf("want a Tag, got %s", raw)
	}
	return tags.NewTag(str(t, v.Args[0]), str(t, v.Args[1]), str(t, v.Args[2]))
}

// decodeTags reads a list of Tags or a {"$set": [...]} of Tags.
func decodeTags(t *testing.T, raw json.RawMessage) []tags.Tag {
	t.Helper()
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		var v typed
		if err := json.Unmarshal(raw, &v); err != nil || v.Set == nil {
			t.Fatalf("want a list or set of Tags, got %s", raw)
		}
		list = v.Set
	}
	out := make([]tags.Tag, 0, len(list))
	for _, r := range list {
		out = append(out, decodeTag(t, r))
	}
	return out
}

func decodeVersion(t *testing.T, raw json.RawMessage) pep440.Version {
	t.Helper()
	var v typed
	if err := json.Unmarshal(raw, &v); err != nil || v.Type != "Version" || len(v.Args) != 1 {
		t.Fatalf("want a Version, got %s", raw)
	}
	return pep440.MustParse(str(t, v.Args[0]))
}

func tagStrings(ts []tags.Tag) []string {
	out := make([]string, len(ts))
	for i, x := range ts {
		out[i] = x.String()
	}
	return out
}

func sameList(t *testing.T, what string, got, want []tags.Tag) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got  %v\n want %v", what, tagStrings(got), tagStrings(want))
	}
}

func sameSet(t *testing.T, what string, got, want []tags.Tag) {
	t.Helper()
	g, w := tagStrings(got), tagStrings(want)
	sort.Strings(g)
	sort.Strings(w)
	w = slices.Compact(w)
	if !slices.Equal(g, w) {
		t.Errorf("%s:\n got  %v\n want %v", what, g, w)
	}
}

// compares returns the values of the body's "compare" vectors whose left side
// is left, in order.
func compares(c confTest, left string) []json.RawMessage {
	var out []json.RawMessage
	for _, v := range c.Vectors {
		if v.Kind == "compare" && v.Left == left {
			out = append(out, v.Value)
		}
	}
	return out
}

// calls returns the body's "call" vectors of func f, in order.
func calls(c confTest, f string) []confVector {
	var out []confVector
	for _, v := range c.Vectors {
		if v.Kind == "call" && v.Func == f {
			out = append(out, v)
		}
	}
	return out
}

// ---- the runner ----

type handler func(t *testing.T, c confTest)

type tally struct{ ran, passed, skipped, skippedCases int }

func runConformance(t *testing.T, file string, handlers map[string]handler, skipped map[string]string) {
	f := loadConf(t, file)
	var n tally
	seen := map[string]bool{}
	for _, c := range f.Tests {
		seen[c.Test] = true
		h, run := handlers[c.Test]
		reason, skip := skipped[c.Test]
		switch {
		case run && skip:
			t.Errorf("%s: %s is both run and skipped", file, c.Test)
		case skip:
			n.skipped++
			n.skippedCases += c.size()
		case run:
			n.ran++
			ok := t.Run(c.Test, func(t *testing.T) { h(t, c) })
			if ok {
				n.passed++
			}
		default:
			t.Errorf("%s: upstream test %s is neither run nor skipped: add a handler or a skip reason", file, c.Test)
		}
		_ = reason
	}
	for name := range handlers {
		if !seen[name] {
			t.Errorf("%s: handler for %s, which the data no longer has", file, name)
		}
	}
	for name, reason := range skipped {
		if !seen[name] {
			t.Errorf("%s: skip entry for %s, which the data no longer has", file, name)
		}
		if strings.TrimSpace(reason) == "" {
			t.Errorf("%s: skip of %s gives no reason", file, name)
		}
	}
	t.Logf("%s: %d upstream tests: ran %d, passed %d, skipped %d by name (%d pytest cases)",
		file, len(f.Tests), n.ran, n.passed, n.skipped, n.skippedCases)
}

func wantErr(t *testing.T, what string, err error, target error) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want one", what)
	} else if target != nil && !errors.Is(err, target) {
		t.Errorf("%s: error %v, want %v", what, err, target)
	}
}

func parseTagOK(t *testing.T, s string, o tags.ParseOptions) []tags.Tag {
	t.Helper()
	ts, err := tags.ParseTagWith(s, o)
	if err != nil {
		t.Fatalf("ParseTag(%q): %v", s, err)
	}
	return ts
}

func kwargBool(t *testing.T, v confVector, k string) bool {
	raw, ok := v.Kwargs[k]
	if !ok {
		return false
	}
	var b bool
	if err := json.Unmarshal(raw, &b); err != nil {
		t.Fatalf("kwarg %s: %s", k, raw)
	}
	return b
}

func kwargInt(t *testing.T, v confVector, k string) (int, bool) {
	raw, ok := v.Kwargs[k]
	if !ok {
		return 0, false
	}
	var n int
	if err := json.Unmarshal(raw, &n); err != nil {
		t.Fatalf("kwarg %s: %s", k, raw)
	}
	return n, true
}

// parseTagCall runs a tags.parse_tag call vector with its keyword arguments.
func parseTagCall(t *testing.T, v confVector) ([]tags.Tag, error) {
	o := tags.ParseOptions{ValidateOrder: kwargBool(t, v, "validate_order")}
	if n, ok := kwargInt(t, v, "limit"); ok {
		o.Limit = n
		if n == 0 {
			t.Fatalf("limit=0 has no ParseOptions equivalent")
		}
	}
	return tags.ParseTagWith(str(t, v.Args[0]), o)
}

var exampleTag = tags.Tag{Interpreter: "py3", ABI: "none", Platform: "any"}

// callTags evaluates a tag-generating call vector (cpython_tags,
// compatible_tags, generic_tags, pure_python_tags) with literal arguments.
func callTags(t *testing.T, v confVector) []tags.Tag {
	t.Helper()
	arg := func(i int, kw string) (json.RawMessage, bool) {
		if i < len(v.Args) {
			return v.Args[i], true
		}
		raw, ok := v.Kwargs[kw]
		return raw, ok
	}
	switch v.Func {
	case "tags.cpython_tags":
		ver, _ := arg(0, "python_version")
		var abis []string
		if raw, ok := arg(1, "abis"); ok {
			abis = append([]string{}, strs(t, raw)...)
		}
		plats, ok := arg(2, "platforms")
		if !ok {
			t.Fatalf("cpython_tags call without platforms depends on the host")
		}
		return tags.CPythonTagsFor(ints(t, ver), abis, strs(t, plats))
	case "tags.compatible_tags":
		ver, _ := arg(0, "python_version")
		interp := ""
		if raw, ok := arg(1, "interpreter"); ok {
			interp = str(t, raw)
		}
		plats, _ := arg(2, "platforms")
		return tags.CompatibleTags(ints(t, ver), interp, strs(t, plats))
	case "tags.generic_tags":
		i, _ := arg(0, "interpreter")
		a, _ := arg(1, "abis")
		p, _ := arg(2, "platforms")
		return tags.GenericTags(str(t, i), strs(t, a), strs(t, p))
	case "tags.pure_python_tags":
		ver, _ := arg(0, "python_version")
		return tags.PurePythonTags(ints(t, ver))
	}
	t.Fatalf("no evaluator for %s", v.Func)
	return nil
}

// listCallThenResult: the body calls a generator and compares `result` (or
// `results`) with a literal list, once or several times.
func listCallThenResult(fn string, left string) handler {
	return func(t *testing.T, c confTest) {
		cs, want := calls(c, fn), compares(c, left)
		if len(cs) == 0 || len(cs) != len(want) {
			t.Fatalf("want matching calls and results, got %d calls and %d results", len(cs), len(want))
		}
		for i := range cs {
			sameList(t, fmt.Sprint(cs[i].Func, cs[i].Args, cs[i].Kwargs), callTags(t, cs[i]), decodeTags(t, want[i]))
		}
	}
}

// manylinuxList checks ManylinuxPlatforms for a fixed arch and glibc against
// the test's expected list; upstream's list starts with the host's own
// "linux_<arch>" tag, which a Lambda target never accepts.
func manylinuxList(machine string, major, minor int) handler {
	return func(t *testing.T, c confTest) {
		want := compares(c, "platforms")
		if len(want) != 1 {
			t.Fatalf("want one expected platform list, got %d", len(want))
		}
		checkManylinux(t, machine, major, minor, strs(t, want[0]))
	}
}

func checkManylinux(t *testing.T, machine string, major, minor int, want []string) {
	t.Helper()
	if len(want) == 0 || want[0] != "linux_"+machine {
		t.Fatalf("expected list does not start with linux_%s: %v", machine, want)
	}
	got := tags.ManylinuxPlatforms(machine, major, minor)
	if !slices.Equal(got, want[1:]) {
		t.Errorf("ManylinuxPlatforms(%s, %d, %d):\n got  %v\n want %v", machine, major, minor, got, want[1:])
	}
}

// rejectsMusllinux: the tag list of no Lambda-like CPython (3.9 to 3.14,
// glibc 2.26 or 2.34, x86_64 or aarch64) accepts a musllinux tag of that
// version. (internal/target checks the same of its real runtime table.)
func rejectsMusllinux(t *testing.T, arch string, major, minor int) {
	t.Helper()
	plat := fmt.Sprintf("musllinux_%d_%d_%s", major, minor, arch)
	for py := 9; py <= 14; py++ {
		for _, glibc := range []int{26, 34} {
			for _, machine := range []string{"x86_64", "aarch64"} {
				r := tags.NewRanker(tags.CPythonTags(3, py, tags.ManylinuxPlatforms(machine, 2, glibc)))
				interp := fmt.Sprintf("cp3%d", py)
				for _, abi := range []string{interp, "abi3", "none"} {
					if _, ok := r.Rank(tags.Tag{Interpreter: interp, ABI: abi, Platform: plat}); ok {
						t.Errorf("3.%d glibc 2.%d %s accepts %s-%s-%s", py, glibc, machine, interp, abi, plat)
					}
				}
			}
		}
	}
}

func TestConformanceTags(t *testing.T) {
	hostOnly := "tests packaging's detection of the running interpreter/host (monkeypatched sysconfig, platform, sys); lambdapack never inspects the host: targets are data"
	notLinux := "macOS/iOS/Android platform tags: lambdapack only targets Linux (Lambda)"
	pyProtocol := "Python object protocol (repr/hash value/pickle/iterator type/comparison with non-Tag), no Go equivalent"
	skipped := map[string]string{
		"TestTag::test_equality_fails_with_non_tag":                           pyProtocol,
		"TestTag::test_hashing":                                               pyProtocol + "; Tag is a comparable Go struct used as a map key (see test_hash_equality)",
		"TestTag::test_repr":                                                  pyProtocol,
		"TestInterpreterName::test_sys_implementation_name":                   hostOnly,
		"TestInterpreterName::test_interpreter_short_names":                   hostOnly,
		"TestInterpreterVersion::test_warn":                                   hostOnly,
		"TestInterpreterVersion::test_python_version_nodot":                   hostOnly,
		"TestInterpreterVersion::test_sys_version_info":                       hostOnly,
		"TestMacOSPlatforms::test_architectures":                              notLinux,
		"TestMacOSPlatforms::test_binary_formats":                             notLinux,
		"TestMacOSPlatforms::test_version_detection":                          notLinux,
		"TestMacOSPlatforms::test_version_detection_10_15":                    notLinux,
		"TestMacOSPlatforms::test_version_detection_compatibility":            notLinux,
		"TestMacOSPlatforms::test_arch_detection":                             notLinux,
		"TestMacOSPlatforms::test_mac_platforms":                              notLinux,
		"TestMacOSPlatforms::test_macos_11":                                   notLinux,
		"TestMacOSPlatforms::test_no_mac_ver_when_both_args_given":            notLinux,
		"TestIOSPlatforms::test_version_detection":                            notLinux,
		"TestIOSPlatforms::test_multiarch_detection":                          notLinux,
		"TestIOSPlatforms::test_ios_platforms":                                notLinux,
		"TestAndroidPlatforms::test_non_android":                              notLinux,
		"TestAndroidPlatforms::test_detection":                                notLinux,
		"TestAndroidPlatforms::test_api_level":                                notLinux,
		"TestAndroidPlatforms::test_abi":                                      notLinux,
		"TestManylinuxPlatform::test_get_config_var_does_not_log":             hostOnly + " (sysconfig logging)",
		"TestManylinuxPlatform::test_get_config_var_does_log":                 hostOnly + " (sysconfig logging)",
		"TestManylinuxPlatform::test_linux_platforms_32_64bit_on_64bit_os":    hostOnly + " (32-bit interpreter on a 64-bit kernel; Lambda runs 64-bit CPython only)",
		"TestManylinuxPlatform::test_linux_platforms_manylinux_unsupported":   hostOnly + " (a _manylinux module on the host vetoes manylinux)",
		"TestManylinuxPlatform::test_linux_platforms_manylinux2014_armhf_abi": hostOnly + " (reads the host interpreter's ELF header for armhf; no expected list in the data; armv7l is not a Lambda architecture)",
		"TestManylinuxPlatform::test_linux_platforms_not_manylinux_abi":       hostOnly + " (x32/armel detected from the host ELF header)",
		"TestManylinuxPlatform::test_linux_not_linux":                         hostOnly + " (sysconfig platform that is not linux_*)",
		"test_platform_tags":                                                  hostOnly + " (dispatch on platform.system())",
		"test_platform_tags_space":                                            hostOnly + " (normalising the host's sysconfig platform)",
		"TestCPythonABI::test_debug":                                          hostOnly + " (Py_DEBUG of the host build; Lambda's CPython is a release build)",
		"TestCPythonABI::test_debug_file_extension":                           hostOnly + " (Windows _d.pyd)",
		"TestCPythonABI::test__debug_cp38":                                    hostOnly + " (Py_DEBUG)",
		"TestCPythonABI::test_pymalloc":                                       hostOnly + " (WITH_PYMALLOC; DefaultCPythonABIs assumes the release default)",
		"TestCPythonABI::test_wide_unicode":                                   hostOnly + " (Py_UNICODE_SIZE, Python < 3.3)",
		"TestCPythonTags::test_iterator_returned":                             pyProtocol,
		"TestCPythonTags::test_python_version_defaults":                       hostOnly + " (version from sys.version_info)",
		"TestCPythonTags::test_platforms_defaults":                            hostOnly + " (platforms from the host)",
		"TestCPythonTags::test_platforms_defaults_needs_underscore":           hostOnly + " (platforms from the host)",
		"TestCPythonTags::test_platform_name_space_normalization":             hostOnly + " (host sysconfig platform with spaces)",
		"TestGenericTags::test__generic_abi_macos":                            hostOnly + " (EXT_SUFFIX)",
		"TestGenericTags::test__generic_abi_linux_cpython":                    hostOnly + " (EXT_SUFFIX)",
		"TestGenericTags::test__generic_abi_jp":                               hostOnly + " (EXT_SUFFIX)",
		"TestGenericTags::test__generic_abi_graal":                            hostOnly + " (EXT_SUFFIX)",
		"TestGenericTags::test__generic_abi_disable_gil":                      hostOnly + " (EXT_SUFFIX)",
		"TestGenericTags::test__generic_abi_none":                             hostOnly + " (EXT_SUFFIX)",
		"TestGenericTags::test__generic_abi_error":                            hostOnly + " (EXT_SUFFIX)",
		"TestGenericTags::test__generic_abi_cpython_missing_version":          hostOnly + " (EXT_SUFFIX)",
		"TestGenericTags::test__generic_abi_linux_pypy":                       hostOnly + " (EXT_SUFFIX)",
		"TestGenericTags::test__generic_abi_old_windows":                      hostOnly + " (EXT_SUFFIX)",
		"TestGenericTags::test__generic_abi_windows":                          hostOnly + " (EXT_SUFFIX)",
		"TestGenericTags::test__generic_abi_agree":                            hostOnly + " (EXT_SUFFIX)",
		"TestGenericTags::test_generic_platforms":                             hostOnly + " (sysconfig platform)",
		"TestGenericTags::test_generic_platforms_space":                       hostOnly + " (sysconfig platform)",
		"TestGenericTags::test_iterator_returned":                             pyProtocol,
		"TestGenericTags::test_interpreter_default":                           hostOnly + " (interpreter name/version of the host)",
		"TestGenericTags::test_abis_default":                                  hostOnly + " (ABI of the host)",
		"TestGenericTags::test_platforms_default":                             hostOnly + " (platforms of the host)",
		"TestPurePythonTags::test_empty_python_version":                       "API shape: packaging raises ValueError for an empty version tuple; the Go function takes an explicit []int and returns no tags for an empty one (callers always pass major.minor)",
		"TestPurePythonTags::test_default_python_version":                     hostOnly + " (sys.version_info)",
		"TestSysTags::test_interpreter_name":                                  hostOnly,
		"TestSysTags::test_iterator":                                          pyProtocol,
		"TestSysTags::test_mac_cpython":                                       notLinux,
		"TestSysTags::test_windows_cpython":                                   hostOnly + " (Windows host)",
		"TestSysTags::test_linux_cpython":                                     hostOnly + " (sys_tags on the host)",
		"TestSysTags::test_generic":                                           hostOnly,
		"TestSysTags::test_warn_forwarded_to_generic_tags":                    hostOnly + " (logging)",
		"TestSysTags::test_skip_manylinux_2014":                               hostOnly + " (a host _manylinux module vetoes manylinux2014 on ppc64)",
		"TestSysTags::test_linux_platforms_not_manylinux_abi":                 hostOnly + " (x32/armel from the host ELF header)",
		"TestSysTags::test_linux_use_manylinux_compatible":                    hostOnly + " (the host _manylinux.manylinux_compatible hook)",
		"TestSysTags::test_linux_use_manylinux_compatible_none":               hostOnly + " (the host _manylinux.manylinux_compatible hook)",
		"TestSysTags::test_pypy_first_none_any_tag":                           "PyPy: lambdapack targets CPython only",
		"TestSysTags::test_emscripten":                                        "Emscripten platform: not a Lambda target",
		"TestSysTags::test_pyemscripten":                                      "Emscripten platform: not a Lambda target",
		"TestBitness::test_32bit_interpreter":                                 hostOnly + " (pointer size of the host interpreter)",
		"test_pickle":                                                         pyProtocol,
		"test_pickle_tag_roundtrip":                                           pyProtocol,
		"test_pickle_tag_setstate_rejects_invalid_state":                      pyProtocol,
		"test_pickle_tag_old_format_loads":                                    pyProtocol,
		"test_pickle_tag_26_0_format_loads":                                   pyProtocol,
		"test_pickle_tag_25_0_format_loads":                                   pyProtocol,
		"test_interpreter_abi":                                                hostOnly + " (ABI of the running interpreter)",
	}

	handlers := map[string]handler{
		"TestTag::test_lowercasing": func(t *testing.T, c confTest) {
			tag := decodeTag(t, c.Vectors[0].Value)
			for _, v := range compares(c, "tag.interpreter") {
				if tag.Interpreter != str(t, v) {
					t.Errorf("interpreter %q, want %s", tag.Interpreter, v)
				}
			}
			for _, v := range compares(c, "tag.abi") {
				if tag.ABI != str(t, v) {
					t.Errorf("abi %q, want %s", tag.ABI, v)
				}
			}
			for _, v := range compares(c, "tag.platform") {
				if tag.Platform != str(t, v) {
					t.Errorf("platform %q, want %s", tag.Platform, v)
				}
			}
		},
		"TestTag::test_equality": func(t *testing.T, c confTest) {
			args := strs(t, c.Vectors[0].Value)
			if got, want := tags.NewTag(args[0], args[1], args[2]), decodeTag(t, compares(c, "tags.Tag(*args)")[0]); got != want {
				t.Errorf("%v != %v", got, want)
			}
		},
		"TestTag::test_hash_equality": func(t *testing.T, c confTest) {
			m := map[tags.Tag]int{exampleTag: 1}
			if m[decodeTag(t, c.Vectors[0].Value)] != 1 {
				t.Error("an equal Tag is not the same map key")
			}
		},
		"TestTag::test_str": func(t *testing.T, c confTest) {
			if got, want := exampleTag.String(), str(t, compares(c, "str(example_tag)")[0]); got != want {
				t.Errorf("%q, want %q", got, want)
			}
		},
		"TestTag::test_attribute_access": func(t *testing.T, c confTest) {
			if exampleTag.Interpreter != str(t, compares(c, "example_tag.interpreter")[0]) ||
				exampleTag.ABI != str(t, compares(c, "example_tag.abi")[0]) ||
				exampleTag.Platform != str(t, compares(c, "example_tag.platform")[0]) {
				t.Errorf("fields of %v", exampleTag)
			}
		},
		// Upstream: parse_tag(str(example_tag)) == {example_tag}.
		"TestParseTag::test_simple": func(t *testing.T, c confTest) {
			sameSet(t, "parse_tag", parseTagOK(t, exampleTag.String(), tags.ParseOptions{}), []tags.Tag{exampleTag})
		},
		// Upstream: parse_tag("py2.py3-none-any") == {Tag("py2","none","any"), example_tag}.
		"TestParseTag::test_multi_interpreter": func(t *testing.T, c confTest) {
			py2 := calls(c, "tags.Tag")[0].Args
			want := []tags.Tag{tags.NewTag(str(t, py2[0]), str(t, py2[1]), str(t, py2[2])), exampleTag}
			got, err := parseTagCall(t, calls(c, "tags.parse_tag")[0])
			if err != nil {
				t.Fatal(err)
			}
			sameSet(t, "parse_tag", got, want)
		},
		"TestParseTag::test_multi_platform": func(t *testing.T, c confTest) {
			got, err := parseTagCall(t, calls(c, "tags.parse_tag")[0])
			if err != nil {
				t.Fatal(err)
			}
			sameSet(t, "parse_tag", got, decodeTags(t, compares(c, "given")[0]))
		},
		"TestParseTag::test_limit_allows_exact_number_of_tags": func(t *testing.T, c confTest) {
			got, err := parseTagCall(t, calls(c, "tags.parse_tag")[0])
			if err != nil {
				t.Fatal(err)
			}
			sameSet(t, "parse_tag", got, decodeTags(t, compares(c, "given")[0]))
		},
		"TestParseTag::test_limit_raises_when_exceeded": func(t *testing.T, c confTest) {
			_, err := parseTagCall(t, calls(c, "tags.parse_tag")[0])
			wantErr(t, "limit exceeded", err, tags.ErrTooManyTags)
		},
		// The count is of the product before duplicates collapse.
		"TestParseTag::test_limit_counts_cartesian_product_entries": func(t *testing.T, c confTest) {
			_, err := parseTagCall(t, calls(c, "tags.parse_tag")[0])
			wantErr(t, "limit exceeded", err, tags.ErrTooManyTags)
		},
		"TestParseTag::test_limit_rejects_negative_value": func(t *testing.T, c confTest) {
			_, err := parseTagCall(t, calls(c, "tags.parse_tag")[0])
			wantErr(t, "negative limit", err, nil)
		},
		// Order is checked before the limit.
		"TestParseTag::test_limit_can_be_combined_with_validate_order": func(t *testing.T, c confTest) {
			_, err := parseTagCall(t, calls(c, "tags.parse_tag")[0])
			wantErr(t, "unsorted", err, tags.ErrUnsortedTags)
		},
		"TestParseTag::test_unsorted_interpreter_parses_by_default": func(t *testing.T, c confTest) {
			got, err := parseTagCall(t, calls(c, "tags.parse_tag")[0])
			if err != nil {
				t.Fatal(err)
			}
			var want []tags.Tag
			for _, v := range calls(c, "tags.Tag") {
				want = append(want, tags.NewTag(str(t, v.Args[0]), str(t, v.Args[1]), str(t, v.Args[2])))
			}
			sameSet(t, "parse_tag", got, want)
		},
		"TestParseTag::test_unsorted_interpreter_raises_with_validate": func(t *testing.T, c confTest) {
			_, err := parseTagCall(t, calls(c, "tags.parse_tag")[0])
			wantErr(t, "unsorted", err, tags.ErrUnsortedTags)
		},
		"TestParseTag::test_unsorted_platform_parses_by_default": func(t *testing.T, c confTest) {
			got, err := parseTagCall(t, calls(c, "tags.parse_tag")[0])
			if err != nil {
				t.Fatal(err)
			}
			var n int
			json.Unmarshal(compares(c, "len(result)")[0], &n)
			if len(got) != n {
				t.Errorf("%d tags, want %d", len(got), n)
			}
		},
		"TestParseTag::test_unsorted_platform_raises_with_validate": func(t *testing.T, c confTest) {
			_, err := parseTagCall(t, calls(c, "tags.parse_tag")[0])
			wantErr(t, "unsorted", err, tags.ErrUnsortedTags)
		},
		"TestParseTag::test_sorted_multi_interpreter_valid": func(t *testing.T, c confTest) {
			got, err := parseTagCall(t, calls(c, "tags.parse_tag")[0])
			if err != nil {
				t.Fatal(err)
			}
			var want []tags.Tag
			for _, v := range calls(c, "tags.Tag") {
				want = append(want, tags.NewTag(str(t, v.Args[0]), str(t, v.Args[1]), str(t, v.Args[2])))
			}
			sameSet(t, "parse_tag", got, want)
		},
		"TestParseTag::test_empty_component_raises": func(t *testing.T, c confTest) {
			for _, row := range c.cases() {
				_, err := tags.ParseTag(str(t, row["tag"]))
				wantErr(t, str(t, row["tag"]), err, tags.ErrInvalidTag)
			}
		},
		"TestParseTag::test_invalid_interpreter_raises": func(t *testing.T, c confTest) {
			for _, row := range c.cases() {
				_, err := tags.ParseTag(str(t, row["tag"]))
				wantErr(t, str(t, row["tag"]), err, tags.ErrInvalidTag)
			}
		},
		// Upstream: parse_tag(f"{interpreter}-none-any") == {Tag(interpreter, "none", "any")}.
		"TestParseTag::test_identifier_interpreter_is_valid": func(t *testing.T, c confTest) {
			for _, row := range c.cases() {
				i := str(t, row["interpreter"])
				sameSet(t, i, parseTagOK(t, i+"-none-any", tags.ParseOptions{}), []tags.Tag{tags.NewTag(i, "none", "any")})
			}
		},
		"TestParseTag::test_invalid_component_count_raises": func(t *testing.T, c confTest) {
			for _, row := range c.cases() {
				_, err := tags.ParseTag(str(t, row["tag"]))
				wantErr(t, str(t, row["tag"]), err, tags.ErrInvalidTag)
			}
		},

		"TestManylinuxPlatform::test_linux_platforms_manylinux1":             manylinuxList("x86_64", 2, 5),
		"TestManylinuxPlatform::test_linux_platforms_manylinux2010":          manylinuxList("x86_64", 2, 12),
		"TestManylinuxPlatform::test_linux_platforms_manylinux2014_i386_abi": manylinuxList("i686", 2, 17),
		"TestManylinuxPlatform::test_linux_platforms_manylinux_glibc3":       manylinuxList("aarch64", 3, 2),
		// The data has no literal list for this one: upstream builds it as
		// manylinux_2_17..2_5 with the three aliases after 2_17, 2_12, 2_5,
		// then linux_x86_64 (which 26.3 moved first). Written out here.
		"TestManylinuxPlatform::test_linux_platforms_manylinux2014": func(t *testing.T, c confTest) {
			if len(calls(c, "tags._linux_platforms")) != 1 {
				t.Fatalf("the body changed shape: %+v", c.Vectors)
			}
			want := []string{"linux_x86_64"}
			for minor := 17; minor >= 5; minor-- {
				want = append(want, fmt.Sprintf("manylinux_2_%d_x86_64", minor))
				switch minor {
				case 17:
					want = append(want, "manylinux2014_x86_64")
				case 12:
					want = append(want, "manylinux2010_x86_64")
				case 5:
					want = append(want, "manylinux1_x86_64")
				}
			}
			checkManylinux(t, "x86_64", 2, 17, want)
		},
		// armv6l has no manylinux tags at all: only linux_armv6l remains.
		"TestManylinuxPlatform::test_linux_platforms_manylinux2014_armv6l": func(t *testing.T, c confTest) {
			checkManylinux(t, "armv6l", 2, 17, strs(t, compares(c, "platforms")[0]))
		},
		"TestSysTags::test_linux_platforms_manylinux2014_armv6l": func(t *testing.T, c confTest) {
			checkManylinux(t, "armv6l", 2, 17, strs(t, compares(c, "platforms")[0]))
		},
		// Applies as: no target accepts any of these musllinux tags.
		"TestManylinuxPlatform::test_linux_platforms_musllinux": func(t *testing.T, c confTest) {
			for _, row := range c.cases() {
				var mv typed
				json.Unmarshal(row["musl_version"], &mv)
				var maj, min int
				json.Unmarshal(mv.Args[0], &maj)
				json.Unmarshal(mv.Args[1], &min)
				arch := str(t, row["native_arch"])
				if string(row["cross32"]) == "true" {
					arch = str(t, row["cross32_arch"])
				}
				rejectsMusllinux(t, arch, maj, min)
			}
		},

		"TestCPythonTags::test_all_args": listCallThenResult("tags.cpython_tags", "result"),
		"TestCPythonTags::test_no_abi3t_in_non_threaded_interpreter": func(t *testing.T, c confTest) {
			got := callTags(t, calls(c, "tags.cpython_tags")[0])
			if len(got) == 0 || slices.ContainsFunc(got, func(x tags.Tag) bool { return x.ABI == "abi3t" }) ||
				!slices.ContainsFunc(got, func(x tags.Tag) bool { return x.ABI == "abi3" }) {
				t.Errorf("want abi3 and no abi3t: %v", tagStrings(got))
			}
		},
		"TestCPythonTags::test_no_abi3_in_threaded_interpreter": func(t *testing.T, c confTest) {
			got := callTags(t, calls(c, "tags.cpython_tags")[0])
			if len(got) == 0 || slices.ContainsFunc(got, func(x tags.Tag) bool { return x.ABI == "abi3" }) ||
				!slices.ContainsFunc(got, func(x tags.Tag) bool { return x.ABI == "abi3t" }) {
				t.Errorf("want abi3t and no abi3: %v", tagStrings(got))
			}
		},
		// Default ABIs (upstream mocks a release build): the listed tags are
		// in the result.
		"TestCPythonTags::test_abi_defaults":                  containsTags,
		"TestCPythonTags::test_abi_defaults_needs_underscore": containsTags,
		"TestCPythonTags::test_empty_platforms": func(t *testing.T, c confTest) {
			if got := tags.CPythonTagsFor([]int{3, 11}, []string{"whatever"}, []string{}); len(got) != 0 {
				t.Errorf("want no tags, got %v", tagStrings(got))
			}
		},
		"TestCPythonTags::test_major_only_python_version":                   listCallThenResult("tags.cpython_tags", "result"),
		"TestCPythonTags::test_major_only_python_version_with_default_abis": listCallThenResult("tags.cpython_tags", "result"),
		// Upstream: cpython_tags((3, 0), abis, platforms=["any"]) == [cp30-none-any].
		"TestCPythonTags::test_skip_redundant_abis": func(t *testing.T, c confTest) {
			want := decodeTags(t, compares(c, "results")[0])
			for _, row := range c.cases() {
				abis := append([]string{}, strs(t, row["abis"])...)
				sameList(t, fmt.Sprint(abis), tags.CPythonTagsFor([]int{3, 0}, abis, []string{"any"}), want)
			}
		},
		"TestCPythonTags::test_abi3_python33":           listCallThenResult("tags.cpython_tags", "results"),
		"TestCPythonTags::test_no_excess_abi3_python32": listCallThenResult("tags.cpython_tags", "results"),
		"TestCPythonTags::test_no_abi3_python31":        listCallThenResult("tags.cpython_tags", "results"),
		"TestCPythonTags::test_no_abi3_python27":        listCallThenResult("tags.cpython_tags", "results"),

		"TestGenericTags::test_all_args": listCallThenResult("tags.generic_tags", "result"),
		// Upstream: generic_tags("sillywalk34", abi, ["plat1", "plat2"]) == no_abi.
		"TestGenericTags::test_abi_unspecified": func(t *testing.T, c confTest) {
			want := decodeTags(t, compares(c, "no_abi")[0])
			for _, row := range c.cases() {
				sameList(t, string(row["abi"]), tags.GenericTags("sillywalk34", strs(t, row["abi"]), []string{"plat1", "plat2"}), want)
			}
		},
		"TestGenericTags::test_empty_platforms": listCallThenResult("tags.generic_tags", "result"),

		"TestPurePythonTags::test_python_version": listCallThenResult("tags.pure_python_tags", "result"),
		"TestPurePythonTags::test_major_only_python_version": func(t *testing.T, c confTest) {
			sameList(t, "pure_python_tags((3,))", tags.PurePythonTags([]int{3}), decodeTags(t, c.Vectors[0].Value))
		},
		"TestPurePythonTags::test_does_not_query_platforms": func(t *testing.T, c confTest) {
			sameList(t, "pure_python_tags((3,))", tags.PurePythonTags([]int{3}), decodeTags(t, c.Vectors[0].Value))
		},

		"TestCompatibleTags::test_all_args":                  listCallThenResult("tags.compatible_tags", "result"),
		"TestCompatibleTags::test_empty_platforms":           listCallThenResult("tags.compatible_tags", "result"),
		"TestCompatibleTags::test_all_args_needs_underscore": listCallThenResult("tags.compatible_tags", "result"),
		"TestCompatibleTags::test_major_only_python_version": listCallThenResult("tags.compatible_tags", "result"),
		"TestCompatibleTags::test_default_interpreter":       listCallThenResult("tags.compatible_tags", "result"),
		// Upstream mocks the host's version (3, 1) / (3, 11) and platforms
		// ["plat", "plat2"]; run with those values passed explicitly.
		"TestCompatibleTags::test_default_python_version": func(t *testing.T, c confTest) {
			sameList(t, "compatible_tags", tags.CompatibleTags([]int{3, 1}, "cp31", []string{"plat"}), decodeTags(t, compares(c, "result")[0]))
		},
		"TestCompatibleTags::test_default_python_version_needs_underscore": func(t *testing.T, c confTest) {
			sameList(t, "compatible_tags", tags.CompatibleTags([]int{3, 11}, "cp311", []string{"plat"}), decodeTags(t, compares(c, "result")[0]))
		},
		"TestCompatibleTags::test_default_platforms": func(t *testing.T, c confTest) {
			sameList(t, "compatible_tags", tags.CompatibleTags([]int{3, 1}, "cp31", []string{"plat", "plat2"}), decodeTags(t, compares(c, "result")[0]))
		},

		// Upstream mocks a CPython host; the first X-none-any tag of CPython's
		// list is cpXY-none-any. Checked on the full list of every runtime.
		"TestSysTags::test_cpython_first_none_any_tag": func(t *testing.T, c confTest) {
			if str(t, compares(c, "tag.abi")[0]) != "none" || str(t, compares(c, "tag.platform")[0]) != "any" {
				t.Fatalf("the body changed shape")
			}
			for minor := 9; minor <= 14; minor++ {
				all := tags.CPythonTags(3, minor, tags.ManylinuxPlatforms("x86_64", 2, 34))
				i := slices.IndexFunc(all, func(x tags.Tag) bool { return x.ABI == "none" && x.Platform == "any" })
				if i < 0 || all[i].Interpreter != fmt.Sprintf("cp3%d", minor) {
					t.Errorf("3.%d: first none-any tag is %v", minor, all[i])
				}
			}
		},

		// Upstream: supported tags and things are tag interpreters with
		// "-none-any"; a thing's set comes from parse_tag (so "t2.t3" is two
		// tags). Things come back best first; unsupported ones are dropped.
		"test_create_compatible_tags_selector": func(t *testing.T, c confTest) {
			for _, row := range c.cases() {
				var supported []tags.Tag
				for _, s := range strs(t, row["supported"]) {
					supported = append(supported, tags.NewTag(s, "none", "any"))
				}
				r := tags.NewRanker(supported)
				type ranked struct {
					thing string
					rank  int
				}
				var got []ranked
				for _, thing := range strs(t, row["things"]) {
					ts := parseTagOK(t, thing+"-none-any", tags.ParseOptions{})
					if n, ok := r.Best(ts); ok {
						got = append(got, ranked{thing, n})
					}
				}
				sort.SliceStable(got, func(i, j int) bool { return got[i].rank < got[j].rank })
				var names []string
				for _, g := range got {
					names = append(names, g.thing)
				}
				if want := strs(t, row["expected"]); !slices.Equal(names, want) && !(len(names) == 0 && len(want) == 0) {
					t.Errorf("supported %s things %s: got %v, want %v", row["supported"], row["things"], names, want)
				}
			}
		},
	}
	runConformance(t, "test_tags.json", handlers, skipped)
}

// containsTags: every tags.Tag(...) call in the body is in the result of the
// body's cpython_tags call.
func containsTags(t *testing.T, c confTest) {
	got := callTags(t, calls(c, "tags.cpython_tags")[0])
	want := calls(c, "tags.Tag")
	if len(want) == 0 {
		t.Fatal("no expected tags in the body")
	}
	for _, v := range want {
		tag := tags.NewTag(str(t, v.Args[0]), str(t, v.Args[1]), str(t, v.Args[2]))
		if !slices.Contains(got, tag) {
			t.Errorf("%v not in %v", tag, tagStrings(got))
		}
	}
}

func TestConformanceManylinux(t *testing.T) {
	hostOnly := "tests packaging's detection of the host's glibc (os.confstr, ctypes, the _manylinux module); lambdapack takes the glibc ceiling from the runtime table"
	skipped := map[string]string{
		"test_module_declaration":                        hostOnly,
		"test_module_declaration_missing_attribute":      hostOnly,
		"test_check_glibc_version_warning":               hostOnly + " (parsing the host's version string with a warning)",
		"test_glibc_version_string":                      hostOnly,
		"test_glibc_version_string_confstr":              hostOnly,
		"test_glibc_version_string_fail":                 hostOnly,
		"test_glibc_version_string_confstr_fail":         hostOnly + " (rows unresolved in the data as well)",
		"test_glibc_version_string_confstr_missing":      hostOnly,
		"test_glibc_version_string_ctypes_missing":       hostOnly,
		"test_glibc_version_string_ctypes_raise_oserror": hostOnly,
		"test_is_manylinux_compatible_old":               hostOnly + " (needs a real glibc host)",
		"test_is_manylinux_compatible":                   hostOnly + " (the _manylinux module hook)",
		"test_glibc_version_string_none":                 hostOnly,
		"test_parse_elf_bad_executable":                  "ELF header parsing of the host interpreter; ELF reading is internal/verify's, tested there",
	}
	handlers := map[string]handler{
		// Upstream mocks the host glibc as 2.5 and asks whether a wheel
		// needing glibc `version` is compatible: PEP 600's rule.
		"test_is_manylinux_compatible_glibc_support": func(t *testing.T, c confTest) {
			for _, row := range c.cases() {
				v := ints(t, row["version"])
				var want bool
				json.Unmarshal(row["compatible"], &want)
				m, ok := tags.ParseManylinux(fmt.Sprintf("manylinux_%d_%d_x86_64", v[0], v[1]))
				if !ok {
					t.Fatalf("ParseManylinux of %v failed", v)
				}
				if got := m.Compatible(2, 5); got != want {
					t.Errorf("glibc %v on a glibc 2.5 system: compatible %v, want %v", v, got, want)
				}
			}
		},
	}
	runConformance(t, "test_manylinux.json", handlers, skipped)
}

func TestConformanceMusllinux(t *testing.T) {
	skipped := map[string]string{
		"test_get_musl_version": "runs the host's musl loader binaries (rows unresolved in the data); lambdapack never accepts musllinux",
	}
	handlers := map[string]handler{
		// What applies: each parsed musl version names musllinux tags that no
		// target accepts. Rows without a version (unparseable output) have
		// nothing to apply and only check packaging's ld-musl output parser.
		"test_parse_musl_version": func(t *testing.T, c confTest) {
			applied := 0
			for _, row := range c.cases() {
				if string(row["version"]) == "null" {
					continue
				}
				var mv typed
				json.Unmarshal(row["version"], &mv)
				var maj, min int
				json.Unmarshal(mv.Args[0], &maj)
				json.Unmarshal(mv.Args[1], &min)
				out := str(t, row["output"])
				arch := out[strings.Index(out, "(")+1 : strings.Index(out, ")")]
				if arch == "i386" {
					arch = "i686"
				}
				rejectsMusllinux(t, arch, maj, min)
				applied++
			}
			t.Logf("applied %d of %d rows (the rest parse ld-musl output, which lambdapack never does)", applied, len(c.cases()))
		},
	}
	runConformance(t, "test_musllinux.json", handlers, skipped)
}

func TestConformanceUtils(t *testing.T) {
	skipped := map[string]string{
		"test_canonicalize_version":                        "PEP 440 canonical form with trailing zeros stripped: a version concern (internal/pep440), not filenames or tags",
		"test_canonicalize_version_no_strip_trailing_zero": "PEP 440 canonical form: internal/pep440's concern",
	}
	handlers := map[string]handler{
		"test_canonicalize_name": func(t *testing.T, c confTest) {
			for _, row := range c.cases() {
				if got, want := names.Canonical(str(t, row["name"])), str(t, row["expected"]); got != want {
					t.Errorf("Canonical(%q) = %q, want %q", str(t, row["name"]), got, want)
				}
			}
		},
		// Upstream: validating raises InvalidName; plain canonicalize works.
		"test_canonicalize_name_invalid": func(t *testing.T, c confTest) {
			for _, row := range c.cases() {
				n := str(t, row["name"])
				if names.Valid(n) {
					t.Errorf("Valid(%q) = true", n)
				}
				if got, want := names.Canonical(n), str(t, row["expected"]); got != want {
					t.Errorf("Canonical(%q) = %q, want %q", n, got, want)
				}
			}
		},
		// Upstream: is_normalized_name(expected), and not is_normalized_name(name) when they differ.
		"test_is_normalized_name": func(t *testing.T, c confTest) {
			for _, row := range c.cases() {
				n, e := str(t, row["name"]), str(t, row["expected"])
				if !names.IsCanonical(e) {
					t.Errorf("IsCanonical(%q) = false", e)
				}
				if n != e && names.IsCanonical(n) {
					t.Errorf("IsCanonical(%q) = true", n)
				}
			}
		},
		"test_parse_wheel_filename": func(t *testing.T, c confTest) {
			for _, row := range c.cases() {
				fn := str(t, row["filename"])
				w, err := tags.ParseWheelFilename(fn)
				if err != nil {
					t.Errorf("%s: %v", fn, err)
					continue
				}
				if want := str(t, row["name"]); w.Name != want {
					t.Errorf("%s: name %q, want %q", fn, w.Name, want)
				}
				if want := decodeVersion(t, row["version"]); !w.Version.Equal(want) {
					t.Errorf("%s: version %v, want %v", fn, w.Version, want)
				}
				var build []json.RawMessage
				json.Unmarshal(row["build"], &build)
				if len(build) == 0 {
					if w.HasBuild {
						t.Errorf("%s: build %q, want none", fn, w.Build())
					}
				} else {
					var n int
					json.Unmarshal(build[0], &n)
					if !w.HasBuild || w.BuildNum != n || w.BuildTag != str(t, build[1]) {
						t.Errorf("%s: build (%v, %d, %q), want %s", fn, w.HasBuild, w.BuildNum, w.BuildTag, row["build"])
					}
				}
				sameSet(t, fn, w.Tags, decodeTags(t, row["tags"]))
			}
		},
		"test_parse_wheel_invalid_filename": func(t *testing.T, c confTest) {
			for _, row := range c.cases() {
				fn := str(t, row["filename"])
				_, err := tags.ParseWheelFilename(fn)
				var fe *tags.FilenameError
				if !errors.As(err, &fe) {
					t.Errorf("%q: error %v, want a *FilenameError", fn, err)
				}
			}
		},
		"test_parse_wheel_unsorted_tags_valid_by_default": func(t *testing.T, c confTest) {
			for _, row := range c.cases() {
				if _, err := tags.ParseWheelFilename(str(t, row["filename"])); err != nil {
					t.Error(err)
				}
			}
		},
		"test_parse_wheel_unsorted_tags_invalid_with_validate": func(t *testing.T, c confTest) {
			for _, row := range c.cases() {
				_, err := tags.ParseWheelFilenameWith(str(t, row["filename"]), tags.ParseOptions{ValidateOrder: true})
				wantErr(t, str(t, row["filename"]), err, tags.ErrUnsortedTags)
			}
		},
		"test_parse_sdist_filename": func(t *testing.T, c confTest) {
			for _, row := range c.cases() {
				fn := str(t, row["filename"])
				s, err := tags.ParseSdistFilename(fn)
				if err != nil {
					t.Errorf("%s: %v", fn, err)
					continue
				}
				if s.Name != str(t, row["name"]) || !s.Version.Equal(decodeVersion(t, row["version"])) {
					t.Errorf("%s: got %q %v", fn, s.Name, s.Version)
				}
			}
		},
		"test_parse_sdist_invalid_filename": func(t *testing.T, c confTest) {
			for _, row := range c.cases() {
				fn := str(t, row["filename"])
				if _, err := tags.ParseSdistFilename(fn); err == nil {
					t.Errorf("%q parsed, want an error", fn)
				}
			}
		},
	}
	runConformance(t, "test_utils.json", handlers, skipped)
}
