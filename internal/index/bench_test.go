package index

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

// BenchmarkParseJSONPage parses a large PEP 691 page (4500 files, the
// size of numpy's) built in memory.
func BenchmarkParseJSONPage(b *testing.B) {
	body := bigJSONPage(4500)
	base, _ := url.Parse("https://idx.test/simple/big/")
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := parseJSONPage(body, base); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWarmProject measures Project for a large page served from the
// disk cache (no request).
func BenchmarkWarmProject(b *testing.B) {
	body := bigJSONPage(4500)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", jsonType)
		w.Header().Set("Cache-Control", "max-age=600")
		w.Write(body)
	}))
	defer srv.Close()
	dir := b.TempDir()
	b.Setenv("NETRC", "/nonexistent")
	for b.Loop() {
		c, _ := NewClient(Config{IndexURL: srv.URL + "/simple/"}, WithCacheDir(dir))
		if _, err := c.Project(context.Background(), "big"); err != nil {
			b.Fatal(err)
		}
	}
}
