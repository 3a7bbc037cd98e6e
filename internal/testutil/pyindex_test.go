package testutil

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestIndexServesBothFormats(t *testing.T) {
	ix := StartIndex(t, IndexOptions{})
	ix.AddWheel(Wheel{Name: "Foo_Bar", Version: "1.0", RequiresPython: ">=3.8"})
	ix.AddSdist(Sdist{Name: "foo-bar", Version: "1.0"}, Yanked("broken"))

	get := func(accept string) (string, string) {
		req, _ := http.NewRequest("GET", ix.URL+"Foo.Bar/", nil)
		req.Header.Set("Accept", accept)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		return resp.Header.Get("Content-Type"), string(b)
	}
	ct, body := get("application/vnd.pypi.simple.v1+json, text/html;q=0.1")
	if ct != "application/vnd.pypi.simple.v1+json" {
		t.Fatalf("content type %q", ct)
	}
	var doc struct {
		Name  string
		Files []map[string]any
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Name != "foo-bar" || len(doc.Files) != 2 {
		t.Fatalf("doc %+v", doc)
	}
	if doc.Files[0]["filename"] != "Foo_Bar-1.0-py3-none-any.whl" || doc.Files[1]["yanked"] != "broken" {
		t.Fatalf("files %+v", doc.Files)
	}
	ct, body = get("text/html")
	if !strings.HasPrefix(ct, "text/html") || !strings.Contains(body, `data-core-metadata="sha256=`) || !strings.Contains(body, `data-yanked="broken"`) {
		t.Fatalf("html %s %s", ct, body)
	}
	resp, err := http.Get(ix.FileURL("Foo_Bar-1.0-py3-none-any.whl.metadata"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), "Requires-Python: >=3.8") {
		t.Fatalf("metadata %q", b)
	}
}
