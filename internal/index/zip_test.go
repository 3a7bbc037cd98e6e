package index

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// rangeServer serves one file with Range support and counts requests.
func rangeServer(t *testing.T, data []byte) (string, *atomic.Int32, *atomic.Int64) {
	var reqs atomic.Int32
	var sent atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		reqs.Add(1)
		cw := &countW{ResponseWriter: rw, n: &sent}
		http.ServeContent(cw, r, "w.whl", time.Time{}, bytes.NewReader(data))
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &reqs, &sent
}

type countW struct {
	http.ResponseWriter
	n *atomic.Int64
}

func (c *countW) Write(p []byte) (int, error) {
	c.n.Add(int64(len(p)))
	return c.ResponseWriter.Write(p)
}

func zipWith(t *testing.T, n int, namePad string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("pkg-1.0.dist-info/METADATA")
	fmt.Fprint(w, "Metadata-Version: 2.1\nName: pkg\nVersion: 1.0\n")
	for i := 0; i < n; i++ {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: fmt.Sprintf("pkg/%s%06d.py", namePad, i), Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte{'#'})
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRangeLargeCentralDirectory(t *testing.T) {
	data := zipWith(t, 3000, "a_rather_long_module_name_to_make_the_directory_big_")
	u, reqs, sent := rangeServer(t, data)
	c := fastClient(t, Config{IndexURL: u})
	md, err := c.Metadata(context.Background(), File{Filename: "pkg-1.0-py3-none-any.whl", URL: u + "/pkg-1.0-py3-none-any.whl"})
	if err != nil {
		t.Fatal(err)
	}
	if string(md) != "Metadata-Version: 2.1\nName: pkg\nVersion: 1.0\n" {
		t.Fatalf("metadata %q", md)
	}
	// tail + the rest of the central directory + the member.
	if reqs.Load() != 3 || sent.Load() >= int64(len(data)) {
		t.Fatalf("%d requests, %d of %d bytes", reqs.Load(), sent.Load(), len(data))
	}
}

func TestRangeZip64(t *testing.T) {
	data := zipWith(t, 70000, "") // more than 65535 entries: zip64 end records
	if !bytes.Contains(data[len(data)-200:], []byte{'P', 'K', 6, 6}) {
		t.Fatal("test zip is not zip64")
	}
	if start, ok := centralDirStart(data[len(data)-tailSize:], int64(len(data)-tailSize)); !ok || start <= 0 {
		t.Fatalf("zip64 central directory not found: %d %v", start, ok)
	}
	u, reqs, sent := rangeServer(t, data)
	c := fastClient(t, Config{IndexURL: u})
	md, err := c.Metadata(context.Background(), File{Filename: "pkg-1.0-py3-none-any.whl", URL: u + "/pkg-1.0-py3-none-any.whl"})
	if err != nil {
		t.Fatal(err)
	}
	if string(md) != "Metadata-Version: 2.1\nName: pkg\nVersion: 1.0\n" {
		t.Fatalf("metadata %q", md)
	}
	if reqs.Load() != 3 || sent.Load() >= int64(len(data)) {
		t.Fatalf("%d requests, %d of %d bytes", reqs.Load(), sent.Load(), len(data))
	}
}

func bigJSONPage(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"meta":{"api-version":"1.1"},"name":"big","files":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"filename":"big-1.%d.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl","url":"https://files.test/packages/9e/3e/3757f304c704f2f0294a6b8340fcf2be244038be07da4cccf390fa678a9f/big-1.%d.0-cp312-cp312-manylinux_2_17_x86_64.whl","hashes":{"sha256":"2312b2aa89e1f43ecea6da6ea9a810d06aae08321609d8dc0d0eda6d946a541b"},"requires-python":">=3.10","size":16043185,"upload-time":"2024-11-02T17:38:51.070224Z","yanked":false,"core-metadata":{"sha256":"2312b2aa89e1f43ecea6da6ea9a810d06aae08321609d8dc0d0eda6d946a541b"}}`, i, i)
	}
	b.WriteString(`],"versions":["1.0"]}`)
	return b.Bytes()
}
