package index

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var emptyIsNil = gocmp.Options{cmpopts.EquateEmpty(), cmpopts.IgnoreUnexported(pageData{})}

// The streaming parser against a reference built on encoding/json (the
// parser lambdapack used before), over hand-written pages and fuzzed ones.

type refJSONFile struct {
	Filename         string            `json:"filename"`
	URL              string            `json:"url"`
	Hashes           map[string]string `json:"hashes"`
	RequiresPython   *string           `json:"requires-python"`
	CoreMetadata     json.RawMessage   `json:"core-metadata"`
	DistInfoMetadata json.RawMessage   `json:"dist-info-metadata"`
	Yanked           json.RawMessage   `json:"yanked"`
	Size             *int64            `json:"size"`
	UploadTime       *string           `json:"upload-time"`
}

type refJSONPage struct {
	Meta *struct {
		APIVersion string `json:"api-version"`
	} `json:"meta"`
	Name     string         `json:"name"`
	Files    *[]refJSONFile `json:"files"`
	Versions []string       `json:"versions"`
}

// parseJSONPage parses a PEP 691 project page; base is the page's URL.
func refParseJSONPage(body []byte, base *url.URL) ([]File, []string, error) {
	var p refJSONPage
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, nil, fmt.Errorf("%w: JSON: %v", ErrMalformed, err)
	}
	if p.Meta == nil || p.Files == nil {
		return nil, nil, fmt.Errorf("%w: JSON page lacks \"meta\" or \"files\"", ErrMalformed)
	}
	if major, _, _ := strings.Cut(p.Meta.APIVersion, "."); major != "1" {
		return nil, nil, fmt.Errorf("%w: unsupported repository API version %q (this tool speaks 1.x)", ErrMalformed, p.Meta.APIVersion)
	}
	files := make([]File, 0, len(*p.Files))
	for i, jf := range *p.Files {
		if jf.Filename == "" || jf.URL == "" {
			return nil, nil, fmt.Errorf("%w: file %d has no filename or url", ErrMalformed, i)
		}
		u, err := base.Parse(jf.URL)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: file %s: bad url: %v", ErrMalformed, jf.Filename, err)
		}
		u.Fragment = ""
		if err := checkLink(base, u); err != nil {
			return nil, nil, fmt.Errorf("file %s: %w", jf.Filename, err)
		}
		f := File{Filename: jf.Filename, URL: stripUserinfo(u.String()), Size: -1}
		if len(jf.Hashes) > 0 {
			f.Hashes = map[string]string{}
			for k, v := range jf.Hashes {
				f.Hashes[strings.ToLower(k)] = strings.ToLower(v)
			}
		}
		if jf.RequiresPython != nil {
			f.RequiresPython = strings.TrimSpace(*jf.RequiresPython)
		}
		if jf.Size != nil {
			f.Size = *jf.Size
		}
		if jf.UploadTime != nil && *jf.UploadTime != "" {
			t, err := time.Parse(time.RFC3339Nano, *jf.UploadTime)
			if err != nil {
				return nil, nil, fmt.Errorf("%w: file %s: bad upload-time %q", ErrMalformed, jf.Filename, *jf.UploadTime)
			}
			f.UploadTime = t.UTC()
		}
		if err := refParseYanked(jf.Yanked, &f); err != nil {
			return nil, nil, fmt.Errorf("%w: file %s: %v", ErrMalformed, jf.Filename, err)
		}
		meta := jf.CoreMetadata
		if len(meta) == 0 || string(meta) == "null" {
			meta = jf.DistInfoMetadata
		}
		has, hashes, err := refParseMetaField(meta)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: file %s: %v", ErrMalformed, jf.Filename, err)
		}
		if has {
			f.MetadataURL = f.URL + ".metadata"
			f.MetadataHashes = hashes
		}
		files = append(files, f)
	}
	return files, p.Versions, nil
}

func refParseYanked(raw json.RawMessage, f *File) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var b bool
	if err := json.Unmarshal(raw, &b); err == nil {
		f.Yanked = b
		return nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return fmt.Errorf("bad yanked value %s", raw)
	}
	f.Yanked, f.YankedReason = true, s
	return nil
}

// parseMetaField reads a core-metadata value: false/true or a hash map.
func refParseMetaField(raw json.RawMessage) (bool, map[string]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return false, nil, nil
	}
	var b bool
	if err := json.Unmarshal(raw, &b); err == nil {
		return b, nil, nil
	}
	var m map[string]string
	if err := json.Unmarshal(raw, &m); err != nil {
		return false, nil, fmt.Errorf("bad core-metadata value %s", raw)
	}
	out := map[string]string{}
	for k, v := range m {
		out[strings.ToLower(k)] = strings.ToLower(v)
	}
	if len(out) == 0 {
		out = nil
	}
	return true, out, nil
}

// refParse is the reference: encoding/json, then the Lambda filter.
func refParse(body []byte, base *url.URL) (*pageData, error) {
	files, versions, err := refParseJSONPage(body, base)
	if err != nil {
		return nil, err
	}
	var pf pageFilter
	d := &pageData{Versions: versions}
	for _, f := range files {
		if pf.keep(f.Filename) {
			d.Files = append(d.Files, f)
		}
	}
	d.Elsewhere = pf.summary()
	return d, nil
}

var testBase, _ = url.Parse("https://idx.test/simple/demo/")

func TestJSONPageMatchesReference(t *testing.T) {
	pages := []string{
		`{"meta":{"api-version":"1.1"},"name":"demo","files":[],"versions":[]}`,
		// Invalid UTF-8 becomes U+FFFD, as encoding/json has it (found by
		// FuzzJSONPage); names match whatever their case.
		"{\"meta\":{\"api-version\":\"1\"},\"FILES\":[{\"filename\":\".whl\",\"Url\":\"\xc9\"}]}",
		// Escapes of every kind, unknown keys holding every kind of value,
		// nulls, a yank reason outside the BMP, hashes in capitals.
		`{"meta": {"api-version": "1.3", "_last-serial": 12},
		  "name": "demo", "alternate-locations": [], "project-status": {"status": "active", "reason": null},
		  "files": [
		    {"filename": "demo-1.0-py3-none-any.whl", "url": "..\/..\/files\/demo-1.0-py3-none-any.whl#sha256=ab",
		     "hashes": {"SHA256": "ABCDEF0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789"},
		     "requires-python": "  >=3.8 ", "core-metadata": {"sha256": "00ff"}, "dist-info-metadata": false,
		     "size": 1234, "upload-time": "2024-05-06T07:08:09.123456Z", "yanked": "broken \ud83d\ude00 \u00e9\n\"quoted\"",
		     "provenance": {"x": [1, 2.5e3, -0.1, true, false, null, {"y": "z"}]}},
		    {"filename": "demo-1.1.tar.gz", "url": "https://files.test/d/demo-1.1.tar.gz", "hashes": {},
		     "requires-python": null, "core-metadata": null, "dist-info-metadata": {"sha256": "11"},
		     "size": null, "upload-time": null, "yanked": false},
		    {"filename": "demo-1.1-cp312-cp312-win_amd64.whl", "url": "https://files.test/d/w.whl", "hashes": {"sha256": "22"}},
		    {"filename": "demo-1.1-cp312-cp312-manylinux_2_17_aarch64.whl", "url": "https://u:p@files.test/d/a.whl", "hashes": {"sha256": "33"}, "yanked": true, "core-metadata": true},
		    {"filename": "demo-1.1-cp27-cp27mu-manylinux1_x86_64.whl", "url": "x.whl"},
		    {"filename": "Demo-1.2-py2.py3-none-any.whl", "url": "/abs/Demo-1.2-py2.py3-none-any.whl", "filename": "demo-1.2-py2.py3-none-any.whl"},
		    {"filename": "demo-1.0.exe", "url": "https://files.test/d/demo-1.0.exe"},
		    {"filename": "not-a-wheel.whl", "url": "https://files.test/d/not-a-wheel.whl"}
		  ],
		  "versions": ["1.0", "1.1", "1.2"]}`,
	}
	for i, page := range pages {
		want, err := refParse([]byte(page), testBase)
		if err != nil {
			t.Fatalf("page %d: reference: %v", i, err)
		}
		got, err := parseJSONPage([]byte(page), testBase)
		if err != nil {
			t.Fatalf("page %d: %v", i, err)
		}
		if diff := gocmp.Diff(want, got, emptyIsNil); diff != "" {
			t.Errorf("page %d (-reference +stream):\n%s", i, diff)
		}
		// And through the cache's form.
		back, err := decodePage(encodePage(got))
		if err != nil {
			t.Fatalf("page %d: decoding the cache form: %v", i, err)
		}
		if diff := gocmp.Diff(got, back, emptyIsNil); diff != "" {
			t.Errorf("page %d: cache form round trip (-parsed +decoded):\n%s", i, diff)
		}
	}
}

func TestJSONPageMalformed(t *testing.T) {
	for _, page := range []string{
		``,
		`[]`,
		`{"meta": {"api-version": "1.0"}, "files": [`,
		`{"meta": {"api-version": "1.0"}, "files": [{"filename": "a-1.tar.gz", "url": "u"}`,
		`{"meta": {"api-version": "1.0"}, "files": [{"filename": "a-1.tar.gz", "url": "u"},]}`,
		`{"meta": {"api-version": "1.0"}, "files": [{"filename": "a-1.tar.gz", "url": "u"}]} x`,
		`{"meta": {"api-version": "1.0"}, "files": [{"filename": "a-1.tar.gz"}]}`,
		`{"meta": {"api-version": "1.0"}, "files": [{"filename": "a-1.tar.gz", "url": "u", "size": "big"}]}`,
		`{"meta": {"api-version": "1.0"}, "files": [{"filename": "a-1.tar.gz", "url": "u", "upload-time": "yesterday"}]}`,
		`{"meta": {"api-version": "1.0"}, "files": [{"filename": "a-1.tar.gz", "url": "u", "yanked": 3}]}`,
		`{"meta": {"api-version": "1.0"}, "files": [{"filename": "a\q-1.tar.gz", "url": "u"}]}`,
		`{"meta": {"api-version": "1.0"}, "files": [{"filename": "a-1.tar.gz", "url": "u", "x": tru}]}`,
		`{"meta": {"api-version": "1.0"}, "name": "x"}`,
		`{"meta": {"api-version": "2.0"}, "files": []}`,
		`{"files": []}`,
		`{"meta": {"api-version": "1.0"}, "files": [], "deep": ` + strings.Repeat("[", 1000) + strings.Repeat("]", 1000) + `}`,
	} {
		if _, err := parseJSONPage([]byte(page), testBase); !errors.Is(err, ErrMalformed) {
			t.Errorf("%.80q: err = %v, want ErrMalformed", page, err)
		}
	}
}

// BenchmarkParseJSONPageOld is the reference parser on the same page as
// BenchmarkParseJSONPage, for comparison.
func BenchmarkParseJSONPageOld(b *testing.B) {
	body := bigJSONPage(4500)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := refParse(body, testBase); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzJSONPage: the streaming parser never panics, and on any page both
// parsers accept it gives what the reference gives; a page the reference
// refuses as malformed JSON is refused too.
func FuzzJSONPage(f *testing.F) {
	f.Add([]byte(`{"meta":{"api-version":"1.1"},"files":[{"filename":"a-1.0-py3-none-any.whl","url":"a.whl","hashes":{"sha256":"ab"},"yanked":"x\u00e9"}],"versions":["1.0"]}`))
	f.Add([]byte(`{"meta":{"api-version":"1.0"},"files":[{"filename":"a-1.0-cp312-cp312-win_amd64.whl","url":"a.whl","core-metadata":{"sha256":"00"}}]}`))
	for _, u := range []string{"https://h.test/a/b-1.0-py3-none-any.whl#sha256=00", "http://H.test//x/./y/../b-1.0+local-py3-none-any.whl", "https://u:p@h.test:8080/q?x=1#f", "HTTPS://h.test/b.whl", "https://h.test/%41.whl"} {
		f.Add([]byte(`{"meta":{"api-version":"1.0"},"files":[{"filename":"b-1.0-py3-none-any.whl","url":"` + u + `"}]}`))
	}
	f.Fuzz(func(t *testing.T, page []byte) {
		got, err := parseJSONPage(page, testBase)
		want, refErr := refParse(page, testBase)
		// encoding/json folds names with Unicode's special cases (the
		// Kelvin sign is a k): such pages are not compared.
		comparable := !bytes.Contains(page, []byte(`\u`)) && !slices.ContainsFunc(page, func(c byte) bool { return c >= 0x80 })
		if err == nil && refErr == nil && comparable {
			if diff := gocmp.Diff(want, got, emptyIsNil); diff != "" {
				t.Errorf("(-reference +stream):\n%s", diff)
			}
			back, derr := decodePage(encodePage(got))
			if derr != nil || !gocmp.Equal(got, back, emptyIsNil) {
				t.Errorf("cache form round trip: %v", derr)
			}
		}
		var syn *json.SyntaxError
		if errors.As(refErr, &syn) && err == nil {
			t.Errorf("the reference finds a syntax error (%v); the stream parser accepted the page", refErr)
		}
	})
}

// FuzzDecodePage: a damaged cache entry never panics.
func FuzzDecodePage(f *testing.F) {
	d, _ := parseJSONPage(bigJSONPage(3), testBase)
	f.Add(encodePage(d))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = decodePage(b)
	})
}
