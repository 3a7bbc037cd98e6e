package testutil

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// IndexFormat says which page formats a test index serves.
type IndexFormat int

const (
	// FormatBoth serves PEP 691 JSON or PEP 503 HTML by the Accept header.
	FormatBoth IndexFormat = iota
	// FormatJSON serves only PEP 691 JSON (406 to a client that will not take it).
	FormatJSON
	// FormatHTML serves only PEP 503 HTML, whatever the client asks for.
	FormatHTML
)

// IndexOptions configures a test index. The zero value serves both formats,
// PEP 658 metadata files under the "core-metadata" key, and honours Range.
type IndexOptions struct {
	Format IndexFormat
	// NoMetadata turns PEP 658 metadata files off for every file: clients
	// must read METADATA from the wheel itself.
	NoMetadata bool
	// LegacyMetadataKey announces metadata with the older
	// "dist-info-metadata" / "data-dist-info-metadata" names only.
	LegacyMetadataKey bool
	// NoRanges makes the file server ignore Range headers (always 200 with
	// the whole body, no Accept-Ranges), like some simple static servers.
	NoRanges bool
	// BasicAuth, "user:password", makes every request without exactly
	// these credentials answer 401.
	BasicAuth string
	// EchoCredentials lists files by absolute URLs that carry BasicAuth's
	// credentials, as some proxies do.
	EchoCredentials bool
}

// Sdist describes a source distribution for a test to write: a real .tar.gz
// holding name-version/PKG-INFO and a minimal pyproject.toml. Its PKG-INFO
// is Metadata-Version 2.2 with nothing dynamic, so PEP 643 makes its
// dependencies binding (as in the sdists packse builds with hatchling):
// lambdapack reads them without building it.
type Sdist struct {
	Name           string
	Version        string
	RequiresDist   []string
	RequiresPython string
	// MetadataVersion of PKG-INFO: "" is 2.2 (static); "2.1" makes a
	// builder ask the build backend.
	MetadataVersion string
}

// Filename returns the sdist's file name (PEP 625: normalised name, .tar.gz).
func (s Sdist) Filename() string {
	return sdistStem(s.Name, s.Version) + ".tar.gz"
}

func sdistStem(name, version string) string {
	n := strings.ToLower(regexp.MustCompile(`[-_.]+`).ReplaceAllString(name, "_"))
	return n + "-" + version
}

// Metadata returns the PKG-INFO text.
func (s Sdist) Metadata() string {
	var b strings.Builder
	mv := s.MetadataVersion
	if mv == "" {
		mv = "2.2"
	}
	fmt.Fprintf(&b, "Metadata-Version: %s\nName: %s\nVersion: %s\n", mv, s.Name, s.Version)
	if s.RequiresPython != "" {
		fmt.Fprintf(&b, "Requires-Python: %s\n", s.RequiresPython)
	}
	for _, r := range s.RequiresDist {
		fmt.Fprintf(&b, "Requires-Dist: %s\n", r)
	}
	return b.String()
}

// Bytes returns the sdist as a gzipped tar with fixed timestamps.
func (s Sdist) Bytes() []byte {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	root := sdistStem(s.Name, s.Version)
	files := []struct{ name, body string }{
		{root + "/PKG-INFO", s.Metadata()},
		{root + "/pyproject.toml", fmt.Sprintf("[project]\nname = %q\nversion = %q\n", s.Name, s.Version)},
	}
	for _, f := range files {
		hdr := &tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.body)), ModTime: time.Unix(0, 0), Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			panic(err)
		}
		if _, err := io.WriteString(tw, f.body); err != nil {
			panic(err)
		}
	}
	if err := tw.Close(); err != nil {
		panic(err)
	}
	if err := gz.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// FileOption changes how one file is listed in a test index.
type FileOption func(*indexFile)

// Yanked marks the file yanked (PEP 592) with an optional reason.
func Yanked(reason string) FileOption {
	return func(f *indexFile) { f.yanked, f.yankedReason = true, reason }
}

// FileRequiresPython sets the file's data-requires-python / "requires-python"
// value (by default the wheel's or sdist's own RequiresPython).
func FileRequiresPython(spec string) FileOption {
	return func(f *indexFile) { f.requiresPython = spec }
}

// WithoutMetadataFile withholds the PEP 658 metadata file for this file only.
func WithoutMetadataFile() FileOption {
	return func(f *indexFile) { f.noMetadata = true }
}

// ServedMetadata makes the index serve text as the file's PEP 658 metadata
// file (and list its hash on the page) instead of the wheel's own METADATA:
// a metadata file that lies about the wheel it describes.
func ServedMetadata(text string) FileOption {
	return func(f *indexFile) { f.metadata = []byte(text) }
}

// ListedSize makes the JSON page list size n (PEP 700) for the file,
// whatever its real length: an index that announces files too large to
// download in a test.
func ListedSize(n int64) FileOption {
	return func(f *indexFile) { f.listedSize = n }
}

// AnnouncedLength makes the file server announce n bytes (Content-Length)
// for the file, send its real bytes and then hold the connection until the
// client goes away (or a minute passes): a file too large for a test to
// serve, as a client sees it before reading the body.
func AnnouncedLength(n int64) FileOption {
	return func(f *indexFile) { f.announced = n }
}

// LinkedAs makes the project page list the file at link (a file:// URL, an
// absolute path, another host) instead of the index's own file URL.
func LinkedAs(link string) FileOption {
	return func(f *indexFile) { f.link = link }
}

// UploadedAt sets the PEP 700 upload time (default: a fixed 2024-01-01).
func UploadedAt(t time.Time) FileOption {
	return func(f *indexFile) { f.uploadTime = t }
}

type indexFile struct {
	project        string // canonical
	version        string
	filename       string
	body           []byte
	sha256         string
	metadata       []byte // nil for none
	requiresPython string
	yanked         bool
	yankedReason   string
	noMetadata     bool
	uploadTime     time.Time
	link           string // listed URL, when not the index's own
	listedSize     int64  // the size the JSON page lists; 0 means len(body)
	announced      int64  // the Content-Length the file server announces; 0 means len(body)
}

// Index is a PEP 691 / PEP 503 simple index served over httptest from files
// the test writes. Add wheels and sdists at any time; pages reflect the
// current set. Files are served under /files/, pages under /simple/.
type Index struct {
	// URL is the simple index URL, ending in "/simple/".
	URL string
	// Server is the underlying test server.
	Server *httptest.Server

	mu       sync.Mutex
	opts     IndexOptions
	projects map[string][]*indexFile
	files    map[string]*indexFile
	hits     map[string]int
	served   map[string]int64
	fail     map[string][]int
	faults   map[string][]*faultState
}

// NewIndex starts a test index serving the given wheels with default options
// and returns its simple URL (ending in "/simple/"). It stops with the test.
func NewIndex(t testing.TB, wheels ...Wheel) string {
	t.Helper()
	ix := StartIndex(t, IndexOptions{})
	for _, w := range wheels {
		ix.AddWheel(w)
	}
	return ix.URL
}

// StartIndex starts an empty test index with the given options; it stops
// with the test.
func StartIndex(t testing.TB, opts IndexOptions) *Index {
	t.Helper()
	ix := &Index{
		opts:     opts,
		projects: map[string][]*indexFile{},
		files:    map[string]*indexFile{},
		hits:     map[string]int{},
		served:   map[string]int64{},
		fail:     map[string][]int{},
		faults:   map[string][]*faultState{},
	}
	ix.Server = httptest.NewServer(http.HandlerFunc(ix.serve))
	t.Cleanup(ix.Server.Close)
	ix.URL = ix.Server.URL + "/simple/"
	return ix
}

// SetOptions changes the index's options for later requests.
func (ix *Index) SetOptions(o IndexOptions) {
	ix.mu.Lock()
	ix.opts = o
	ix.mu.Unlock()
}

// AddWheel writes the wheel and lists it under its project.
func (ix *Index) AddWheel(w Wheel, opts ...FileOption) {
	ix.add(&indexFile{
		project:        canonicalName(w.Name),
		version:        w.Version,
		filename:       w.Filename(),
		body:           w.Bytes(),
		metadata:       []byte(w.Metadata()),
		requiresPython: w.RequiresPython,
	}, opts)
}

// AddSdist writes the sdist and lists it under its project (never with a
// PEP 658 metadata file).
func (ix *Index) AddSdist(s Sdist, opts ...FileOption) {
	ix.add(&indexFile{
		project:        canonicalName(s.Name),
		version:        s.Version,
		filename:       s.Filename(),
		body:           s.Bytes(),
		requiresPython: s.RequiresPython,
	}, opts)
}

func (ix *Index) add(f *indexFile, opts []FileOption) {
	f.uploadTime = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, o := range opts {
		o(f)
	}
	sum := sha256.Sum256(f.body)
	f.sha256 = hex.EncodeToString(sum[:])
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if old, ok := ix.files[f.filename]; ok {
		list := ix.projects[old.project]
		for i, o := range list {
			if o == old {
				ix.projects[old.project] = append(list[:i], list[i+1:]...)
				break
			}
		}
	}
	ix.files[f.filename] = f
	ix.projects[f.project] = append(ix.projects[f.project], f)
}

// FileURL returns the download URL of a file the index serves.
func (ix *Index) FileURL(filename string) string { return ix.Server.URL + "/files/" + filename }

// SHA256 returns the hex sha256 of a file the index serves ("" if unknown).
func (ix *Index) SHA256(filename string) string {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if f, ok := ix.files[filename]; ok {
		return f.sha256
	}
	return ""
}

// Hits returns how many requests reached a path ("/simple/numpy/",
// "/files/x.whl", "/files/x.whl.metadata").
func (ix *Index) Hits(path string) int {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.hits[path]
}

// BytesServed returns how many body bytes were sent for a path in total.
func (ix *Index) BytesServed(path string) int64 {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.served[path]
}

// FailNext makes the next len(statuses) requests to path answer with those
// HTTP statuses (e.g. 500, 503) before serving normally again.
func (ix *Index) FailNext(path string, statuses ...int) {
	ix.mu.Lock()
	ix.fail[path] = append(ix.fail[path], statuses...)
	ix.mu.Unlock()
}

// countingWriter adds to the served count before the bytes leave, so a
// client that has read them always sees them counted.
type countingWriter struct {
	http.ResponseWriter
	ix   *Index
	path string
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.ix.mu.Lock()
	c.ix.served[c.path] += int64(len(p))
	c.ix.mu.Unlock()
	return c.ResponseWriter.Write(p)
}

// Flush sends what was written so far (stalls and trickles need it).
func (c *countingWriter) Flush() {
	if f, ok := c.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (ix *Index) serve(w http.ResponseWriter, r *http.Request) {
	ix.mu.Lock()
	ix.hits[r.URL.Path]++
	if st := ix.fail[r.URL.Path]; len(st) > 0 {
		ix.fail[r.URL.Path] = st[1:]
		ix.mu.Unlock()
		http.Error(w, "injected failure", st[0])
		return
	}
	opts := ix.opts
	fault := ix.takeFault(r.URL.Path)
	ix.mu.Unlock()

	if opts.BasicAuth != "" {
		user, pass, ok := r.BasicAuth()
		if !ok || user+":"+pass != opts.BasicAuth {
			w.Header().Set("WWW-Authenticate", `Basic realm="test index"`)
			http.Error(w, "credentials required", http.StatusUnauthorized)
			return
		}
	}
	cw := &countingWriter{ResponseWriter: w, ix: ix, path: r.URL.Path}
	if fault != nil {
		ix.serveFault(cw, r, fault, opts)
		return
	}
	ix.serveNormal(cw, r, opts)
}

// serveNormal answers as a well-behaved index.
func (ix *Index) serveNormal(cw http.ResponseWriter, r *http.Request, opts IndexOptions) {
	p := r.URL.Path
	switch {
	case p == "/simple/" || p == "/simple":
		ix.serveRoot(cw, r, opts)
	case strings.HasPrefix(p, "/simple/"):
		name := strings.Trim(strings.TrimPrefix(p, "/simple/"), "/")
		if name != canonicalName(name) {
			http.Redirect(cw, r, "/simple/"+canonicalName(name)+"/", http.StatusMovedPermanently)
			return
		}
		if !strings.HasSuffix(p, "/") {
			http.Redirect(cw, r, p+"/", http.StatusMovedPermanently)
			return
		}
		ix.serveProject(cw, r, name, opts)
	case strings.HasPrefix(p, "/files/"):
		ix.serveFile(cw, r, strings.TrimPrefix(p, "/files/"), opts)
	default:
		http.NotFound(cw, r)
	}
}

// wantJSON decides the response format from Accept and the index's format.
// ok is false when nothing acceptable can be served.
func wantJSON(accept string, f IndexFormat) (json bool, ok bool) {
	qJSON, qHTML := -1.0, -1.0
	for _, part := range strings.Split(accept, ",") {
		fields := strings.Split(part, ";")
		mt := strings.TrimSpace(strings.ToLower(fields[0]))
		q := 1.0
		for _, p := range fields[1:] {
			p = strings.TrimSpace(p)
			if strings.HasPrefix(p, "q=") {
				if v, err := strconv.ParseFloat(p[2:], 64); err == nil {
					q = v
				}
			}
		}
		switch mt {
		case "application/vnd.pypi.simple.v1+json", "application/vnd.pypi.simple.latest+json":
			qJSON = max(qJSON, q)
		case "application/vnd.pypi.simple.v1+html", "application/vnd.pypi.simple.latest+html", "text/html":
			qHTML = max(qHTML, q)
		case "*/*", "":
			qHTML = max(qHTML, q*0.5)
		}
	}
	switch f {
	case FormatJSON:
		return true, qJSON > 0
	case FormatHTML:
		return false, true
	}
	if qJSON > 0 && qJSON >= qHTML {
		return true, true
	}
	return false, true
}

func (ix *Index) serveRoot(w http.ResponseWriter, r *http.Request, opts IndexOptions) {
	ix.mu.Lock()
	names := make([]string, 0, len(ix.projects))
	for n := range ix.projects {
		names = append(names, n)
	}
	ix.mu.Unlock()
	sort.Strings(names)
	isJSON, ok := wantJSON(r.Header.Get("Accept"), opts.Format)
	if !ok {
		http.Error(w, "not acceptable", http.StatusNotAcceptable)
		return
	}
	if isJSON {
		type proj struct {
			Name string `json:"name"`
		}
		doc := struct {
			Meta     map[string]string `json:"meta"`
			Projects []proj            `json:"projects"`
		}{Meta: map[string]string{"api-version": "1.1"}}
		for _, n := range names {
			doc.Projects = append(doc.Projects, proj{n})
		}
		w.Header().Set("Content-Type", "application/vnd.pypi.simple.v1+json")
		_ = json.NewEncoder(w).Encode(doc)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html><head><meta name=\"pypi:repository-version\" content=\"1.1\"></head><body>\n")
	for _, n := range names {
		fmt.Fprintf(&b, "<a href=\"%s/\">%s</a>\n", n, n)
	}
	b.WriteString("</body></html>\n")
	_, _ = io.WriteString(w, b.String())
}

func (ix *Index) serveProject(w http.ResponseWriter, r *http.Request, name string, opts IndexOptions) {
	ix.mu.Lock()
	files := append([]*indexFile(nil), ix.projects[name]...)
	ix.mu.Unlock()
	if len(files) == 0 {
		http.NotFound(w, r)
		return
	}
	sort.Slice(files, func(i, j int) bool { return files[i].filename < files[j].filename })
	isJSON, ok := wantJSON(r.Header.Get("Accept"), opts.Format)
	if !ok {
		http.Error(w, "not acceptable", http.StatusNotAcceptable)
		return
	}
	metaKey := "core-metadata"
	if opts.LegacyMetadataKey {
		metaKey = "dist-info-metadata"
	}
	hasMeta := func(f *indexFile) bool { return f.metadata != nil && !opts.NoMetadata && !f.noMetadata }
	metaHash := func(f *indexFile) string {
		s := sha256.Sum256(f.metadata)
		return hex.EncodeToString(s[:])
	}
	if isJSON {
		var versions []string
		seen := map[string]bool{}
		var out []map[string]any
		for _, f := range files {
			if !seen[f.version] {
				seen[f.version] = true
				versions = append(versions, f.version)
			}
			m := map[string]any{
				"filename":    f.filename,
				"url":         ix.listedURL(r, f, opts),
				"hashes":      map[string]string{"sha256": f.sha256},
				"size":        f.size(),
				"upload-time": f.uploadTime.UTC().Format("2006-01-02T15:04:05.000000Z"),
			}
			if f.requiresPython != "" {
				m["requires-python"] = f.requiresPython
			}
			if f.yanked {
				if f.yankedReason != "" {
					m["yanked"] = f.yankedReason
				} else {
					m["yanked"] = true
				}
			} else {
				m["yanked"] = false
			}
			if hasMeta(f) {
				m[metaKey] = map[string]string{"sha256": metaHash(f)}
			} else {
				m[metaKey] = false
			}
			out = append(out, m)
		}
		sort.Strings(versions)
		doc := map[string]any{
			"meta":     map[string]string{"api-version": "1.1"},
			"name":     name,
			"files":    out,
			"versions": versions,
		}
		w.Header().Set("Content-Type", "application/vnd.pypi.simple.v1+json")
		_ = json.NewEncoder(w).Encode(doc)
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html><head><meta name=\"pypi:repository-version\" content=\"1.1\"><title>Links for %s</title></head><body>\n<h1>Links for %s</h1>\n", name, name)
	for _, f := range files {
		attrs := ""
		if f.requiresPython != "" {
			attrs += fmt.Sprintf(" data-requires-python=\"%s\"", html.EscapeString(f.requiresPython))
		}
		if f.yanked {
			attrs += fmt.Sprintf(" data-yanked=\"%s\"", html.EscapeString(f.yankedReason))
		}
		if hasMeta(f) {
			attrs += fmt.Sprintf(" data-%s=\"sha256=%s\"", metaKey, metaHash(f))
		}
		fmt.Fprintf(&b, "<a href=\"%s#sha256=%s\"%s>%s</a><br/>\n", html.EscapeString(ix.listedURL(r, f, opts)), f.sha256, attrs, f.filename)
	}
	b.WriteString("</body></html>\n")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = io.WriteString(w, b.String())
}

func (ix *Index) serveFile(w http.ResponseWriter, r *http.Request, name string, opts IndexOptions) {
	ix.mu.Lock()
	var body []byte
	var announced int64
	if f, ok := ix.files[name]; ok {
		body, announced = f.body, f.announced
	} else if base, ok := strings.CutSuffix(name, ".metadata"); ok {
		if f, ok := ix.files[base]; ok && f.metadata != nil && !opts.NoMetadata && !f.noMetadata {
			body = f.metadata
		}
	}
	ix.mu.Unlock()
	if body == nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	if announced > 0 {
		w.Header().Set("Content-Length", strconv.FormatInt(announced, 10))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body)
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
		select {
		case <-r.Context().Done():
		case <-time.After(time.Minute):
		}
		return
	}
	if opts.NoRanges {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		if r.Method != http.MethodHead {
			_, _ = w.Write(body)
		}
		return
	}
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(body))
}

// size is the size a JSON page lists for the file.
func (f *indexFile) size() int64 {
	if f.listedSize > 0 {
		return f.listedSize
	}
	return int64(len(f.body))
}

// listedURL is the URL a page gives for a file.
func (ix *Index) listedURL(r *http.Request, f *indexFile, opts IndexOptions) string {
	switch {
	case f.link != "":
		return f.link
	case opts.EchoCredentials && opts.BasicAuth != "":
		return "http://" + opts.BasicAuth + "@" + r.Host + "/files/" + f.filename
	}
	return "../../files/" + f.filename
}

func canonicalName(n string) string {
	return strings.ToLower(regexp.MustCompile(`[-_.]+`).ReplaceAllString(n, "-"))
}
