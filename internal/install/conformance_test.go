package install

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The pypa/installer rows in testdata/installer (see the README there).

type confFile struct {
	Tests []struct {
		Test        string `json:"test"`
		Parametrize []struct {
			Argnames []string         `json:"argnames"`
			Cases    []map[string]any `json:"cases"`
		} `json:"parametrize"`
		BodyVectors []struct {
			Kind   string `json:"kind"`
			Target string `json:"target"`
			Left   string `json:"left"`
			Value  any    `json:"value"`
		} `json:"body_vectors"`
	} `json:"tests"`
}

func loadConf(t *testing.T, name string) confFile {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "installer", name))
	if err != nil {
		t.Fatal(err)
	}
	var c confFile
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func bytesOf(t *testing.T, v any) []byte {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("not a $bytes value: %v", v)
	}
	b, err := hex.DecodeString(m["$bytes"].(string))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func elemString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case float64:
		return fmt.Sprint(int64(x))
	default:
		return fmt.Sprint(x)
	}
}

func TestRecordConformance(t *testing.T) {
	conf := loadConf(t, "test_records.json")
	ran := map[string]int{}
	for _, test := range conf.Tests {
		name := test.Test
		var cases []map[string]any
		for _, p := range test.Parametrize {
			cases = append(cases, p.Cases...)
		}
		switch name {
		case "TestRecordEntry::test_invalid_elements":
			for _, c := range cases {
				_, err := ParseRecordEntry(c["path"].(string), c["hash_"].(string), c["size"].(string))
				if err == nil {
					t.Errorf("%s %v: accepted", name, c)
					continue
				}
				for _, cause := range c["caused_by"].([]any) {
					if !strings.Contains(err.Error(), "`"+cause.(string)+"`") {
						t.Errorf("%s %v: error %q does not blame %s", name, c, err, cause)
					}
				}
				ran[name]++
			}
		case "TestRecordEntry::test_valid_elements":
			for _, c := range cases {
				e, err := ParseRecordEntry(c["path"].(string), c["hash_"].(string), c["size"].(string))
				if err != nil {
					t.Errorf("%s %v: %v", name, c, err)
					continue
				}
				if h := c["hash_"].(string); h != "" && e.Algorithm+"="+e.Digest != h {
					t.Errorf("%s: hash %q parsed as %+v", name, h, e)
				}
				ran[name]++
			}
		case "TestRecordEntry::test_populates_attributes_correctly", "TestRecordEntry::test_validation",
			"TestRecordEntry::test_validate_stream", "TestRecordEntry::test_string_representation":
			for _, c := range cases {
				el := c["elements"].([]any)
				e, err := ParseRecordEntry(elemString(el[0]), elemString(el[1]), elemString(el[2]))
				if err != nil {
					t.Errorf("%s %v: %v", name, c, err)
					continue
				}
				switch name {
				case "TestRecordEntry::test_populates_attributes_correctly":
					if e.Path != el[0] || (el[1] != nil && e.Algorithm != "sha256") || (el[2] != nil && e.Size != int64(el[2].(float64))) || (el[2] == nil && e.Size != -1) {
						t.Errorf("%s: %v parsed as %+v", name, el, e)
					}
				case "TestRecordEntry::test_string_representation":
					if got, want := e.String(), strings.Join([]string{elemString(el[0]), elemString(el[1]), elemString(el[2])}, ","); got != want {
						t.Errorf("%s: %q, want %q", name, got, want)
					}
				default:
					if got := e.Validate(bytesOf(t, c["data"])); got != c["passes_validation"].(bool) {
						t.Errorf("%s %v: Validate = %v", name, el, got)
					}
				}
				ran[name]++
			}
		case "TestParseRecordFile::test_accepts_empty_iterable":
			rows, err := ParseRecord(nil)
			if err != nil || len(rows) != 0 {
				t.Errorf("%s: %v %v", name, rows, err)
			}
			ran[name]++
		case "TestParseRecordFile::test_rejects_wrong_element_count":
			for _, c := range cases {
				_, err := ParseRecord([]byte(c["line"].(string) + "\n"))
				want := fmt.Sprintf("has %d elements", int(c["element_count"].(float64)))
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("%s %v: err = %v", name, c, err)
				}
				ran[name]++
			}
		case "TestParseRecordFile::test_shows_correct_row_number", "TestParseRecordFile::test_parse_record_entry_with_comma",
			"TestParseRecordFile::test_parse_record_entry_with_backslash_path", "TestParseRecordFile::test_accepts_all_kinds_of_iterables":
			var lines []string
			var want [][]string
			for _, v := range test.BodyVectors {
				if v.Kind == "assign" && v.Target == "record_lines" {
					for _, l := range v.Value.([]any) {
						lines = append(lines, l.(string))
					}
				}
				if v.Kind == "compare" && v.Left == "records" {
					for _, r := range v.Value.([]any) {
						var row []string
						for _, x := range r.([]any) {
							row = append(row, x.(string))
						}
						want = append(want, row)
					}
				}
			}
			if name == "TestParseRecordFile::test_accepts_all_kinds_of_iterables" {
				// The fixture is the two rows the test compares with.
				for _, r := range want {
					lines = append(lines, strings.Join(r, ","))
				}
			}
			rows, err := ParseRecord([]byte(strings.Join(lines, "\n")))
			if name == "TestParseRecordFile::test_shows_correct_row_number" {
				if err == nil || !strings.Contains(err.Error(), "row 4") {
					t.Errorf("%s: err = %v, want row 4", name, err)
				}
				ran[name]++
				continue
			}
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			var got [][]string
			for _, r := range rows {
				s := ""
				if r.Size >= 0 {
					s = fmt.Sprint(r.Size)
				}
				h := ""
				if r.Algorithm != "" {
					h = r.Algorithm + "=" + r.Digest
				}
				got = append(got, []string{r.Path, h, s})
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s (-want +got):\n%s", name, diff)
			}
			ran[name]++
		}
	}
	// Skipped: test_string_representation_with_prefix (installer's API for
	// a path prefix) and test_equality (Python object equality).
	for _, must := range []string{"TestRecordEntry::test_invalid_elements", "TestRecordEntry::test_validation", "TestParseRecordFile::test_parse_record_entry_with_comma", "TestParseRecordFile::test_parse_record_entry_with_backslash_path"} {
		if ran[must] == 0 {
			t.Errorf("no rows of %s ran", must)
		}
	}
	t.Logf("rows run: %v", ran)
}

func TestScriptConformance(t *testing.T) {
	conf := loadConf(t, "test_utils.json")
	n := 0
	for _, test := range conf.Tests {
		for _, p := range test.Parametrize {
			for _, c := range p.Cases {
				switch test.Test {
				case "TestScript::test_replace_shebang":
					got, changed := ReplaceShebang(bytesOf(t, c["data"]), "#!/my/python")
					if want := bytesOf(t, c["expected"]); !changed || string(got) != string(want) {
						t.Errorf("ReplaceShebang(%q) = %q, want %q", bytesOf(t, c["data"]), got, want)
					}
					n++
				case "TestScript::test_keep_data":
					in := bytesOf(t, c["data"])
					if got, changed := ReplaceShebang(in, "#!/my/python"); changed || string(got) != string(in) {
						t.Errorf("ReplaceShebang(%q) changed it to %q", in, got)
					}
					n++
				case "TestParseEntryPoints::test_valid":
					eps, err := ParseEntryPoints(c["script"].(string))
					if err != nil {
						t.Errorf("%q: %v", c["script"], err)
						continue
					}
					var got [][]string
					for _, e := range eps {
						got = append(got, []string{e.Name, e.Module, e.Attr, e.Section})
					}
					var want [][]string
					for _, r := range c["expected"].([]any) {
						var row []string
						for _, x := range r.([]any) {
							row = append(row, x.(string))
						}
						want = append(want, row)
					}
					if diff := cmp.Diff(want, got); diff != "" {
						t.Errorf("%q (-want +got):\n%s", c["script"], diff)
					}
					n++
				}
			}
		}
	}
	if n < 10 {
		t.Errorf("only %d conformance rows ran", n)
	}
}
