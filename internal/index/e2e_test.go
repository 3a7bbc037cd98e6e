package index

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

type countingTransport struct {
	rt    http.RoundTripper
	bytes atomic.Int64
	reqs  atomic.Int32
	h2    atomic.Int32
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.reqs.Add(1)
	resp, err := c.rt.RoundTrip(r)
	if err == nil {
		if resp.ProtoMajor == 2 {
			c.h2.Add(1)
		}
		resp.Body = &countingBody{ReadCloser: resp.Body, n: &c.bytes}
	}
	return resp, err
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// TestRealIndexNumpy talks to the real index, found the way the product
// finds it with nothing configured: by asking the installed pip.
func TestRealIndexNumpy(t *testing.T) {
	isolate(t, "")
	cfg, err := DiscoverConfig(Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("index from %s", cfg.Source)
	tr, err := newTransport(16, slogTo(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	ct := &countingTransport{rt: tr}
	cache := t.TempDir()
	c, err := NewClient(cfg, WithCacheDir(cache), WithHTTPClient(&http.Client{Transport: ct}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	p, err := c.Project(ctx, "NumPy")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("numpy: %d files, %d versions in %v", len(p.Files), len(p.Versions), time.Since(start))
	if ct.h2.Load() == 0 {
		t.Fatal("the index was not spoken to over HTTP/2")
	}
	if p.Name != "numpy" || len(p.Files) < 500 || len(p.Versions) < 50 {
		t.Fatalf("numpy page looks wrong: %d files, %d versions", len(p.Files), len(p.Versions))
	}
	var whl File
	for _, f := range p.Files {
		if strings.HasPrefix(f.Filename, "numpy-2.1.3-cp312-cp312-manylinux_2_17_x86_64") {
			whl = f
		}
	}
	if whl.Filename == "" || whl.Size < 1<<20 || whl.UploadTime.IsZero() || whl.RequiresPython != ">=3.10" || len(whl.Hashes["sha256"]) != 64 {
		t.Fatalf("numpy 2.1.3 cp312 manylinux wheel not listed as expected: %+v", whl)
	}
	announced := whl.MetadataURL != ""
	t.Logf("index announces PEP 658 metadata for %s: %v", whl.Filename, announced)

	// METADATA through range requests on the wheel, which must read a small
	// part of it.
	before := ct.bytes.Load()
	noMeta := whl
	noMeta.MetadataURL, noMeta.MetadataHashes = "", nil
	md, err := c.Metadata(ctx, noMeta)
	if err != nil {
		t.Fatal(err)
	}
	read := ct.bytes.Load() - before
	t.Logf("range path read %d of %d bytes", read, whl.Size)
	if !bytes.Contains(md, []byte("\nName: numpy\n")) || !bytes.Contains(md, []byte("\nVersion: 2.1.3\n")) || !bytes.Contains(md, []byte("Requires-Python: >=3.10")) {
		t.Fatalf("METADATA: %.300s", md)
	}
	if read <= 0 || read > whl.Size/4 {
		t.Fatalf("range path read %d of %d bytes", read, whl.Size)
	}

	// The PEP 658 file (at the PEP 658 location even when the page does not
	// announce it) must be the same bytes; with announced hashes, checked.
	withMeta := whl
	if !announced {
		withMeta.MetadataURL = whl.URL + ".metadata"
	}
	withMeta.Hashes = map[string]string{"sha256": "other-key"} // bypass the cache entry above
	md2, err := c.Metadata(ctx, withMeta)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(md, md2) {
		t.Fatal("METADATA from the wheel differs from the PEP 658 file")
	}

	// A second client revalidates or reuses the cached page.
	reqs := ct.reqs.Load()
	c2, _ := NewClient(cfg, WithCacheDir(cache), WithHTTPClient(&http.Client{Transport: ct}))
	start = time.Now()
	if _, err := c2.Project(ctx, "numpy"); err != nil {
		t.Fatal(err)
	}
	t.Logf("warm numpy page in %v (%d requests)", time.Since(start), ct.reqs.Load()-reqs)
	if _, err := c2.Project(ctx, "this-project-does-not-exist-lambdapack-test"); err == nil {
		t.Fatal("a nonexistent project was found")
	}
}
