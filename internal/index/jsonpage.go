package index

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// pageData is what a project page holds for lambdapack: the files kept
// (see lambda.go), the PEP 700 versions list, and the summary of the wheels
// left out. It is what the page cache stores.
type pageData struct {
	Files     []File
	Versions  []string
	Elsewhere []Elsewhere
	// stored: the page cache holds this page (not encoded).
	stored bool
}

// rawFile is one file object of a JSON page as read, before it is judged;
// its buffers are reused from file to file.
type rawFile struct {
	filename, url, requiresPython, uploadTime, yankReason []byte
	hasRequiresPython, hasUpload, hasSize, yanked         bool
	size                                                  int64
	hashes                                                []rawHash
	meta, distInfoMeta                                    rawMeta
}

type rawHash struct{ alg, value []byte }

// rawMeta is a core-metadata value: absent/null, a boolean, or hashes.
type rawMeta struct {
	set, has bool
	hashes   []rawHash
}

func (rf *rawFile) reset() {
	rf.filename, rf.url = rf.filename[:0], rf.url[:0]
	rf.requiresPython, rf.uploadTime, rf.yankReason = rf.requiresPython[:0], rf.uploadTime[:0], rf.yankReason[:0]
	rf.hasRequiresPython, rf.hasUpload, rf.hasSize, rf.yanked = false, false, false, false
	rf.size = 0
	rf.hashes = rf.hashes[:0]
	rf.meta = rawMeta{hashes: rf.meta.hashes[:0]}
	rf.distInfoMeta = rawMeta{hashes: rf.distInfoMeta.hashes[:0]}
}

// jsonPageParser turns a PEP 691 page into pageData as it streams in.
type jsonPageParser struct {
	s      *jsonScanner
	base   *url.URL
	filter pageFilter
	intern map[string]string
	out    pageData
	rf     rawFile
}

// parseJSONStream parses a PEP 691 project page from r; base is the page's
// URL. A syntax error wraps ErrMalformed; an error reading r is returned as
// it is.
func parseJSONStream(r io.Reader, base *url.URL) (*pageData, error) {
	p := &jsonPageParser{s: newJSONScanner(r), base: base, intern: map[string]string{}}
	if err := p.page(); err != nil {
		if errors.Is(err, errJSONSyntax) {
			return nil, fmt.Errorf("%w: JSON: %v", ErrMalformed, err)
		}
		return nil, err
	}
	p.out.Elsewhere = p.filter.summary()
	return &p.out, nil
}

// parseJSONPage parses a PEP 691 page held in memory.
func parseJSONPage(body []byte, base *url.URL) (*pageData, error) {
	return parseJSONStream(bytes.NewReader(body), base)
}

func (p *jsonPageParser) page() error {
	s := p.s
	if c, err := s.peek(); err != nil {
		return err
	} else if c != '{' {
		return s.syntax("a page is an object, found %q", c)
	}
	s.pos++
	var api string
	sawMeta, sawFiles := false, false
	for first := true; ; first = false {
		ok, err := s.more('}', first)
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		k, err := s.key()
		if err != nil {
			return err
		}
		switch string(k) {
		case "meta":
			if api, err = p.meta(); err != nil {
				return err
			}
			sawMeta = true
			if major, _, _ := strings.Cut(api, "."); major != "1" {
				return fmt.Errorf("%w: unsupported repository API version %q (this tool speaks 1.x)", ErrMalformed, api)
			}
		case "files":
			if c, err := s.peek(); err != nil {
				return err
			} else if c == 'n' {
				if _, err := s.literal(); err != nil {
					return err
				}
				continue
			}
			if err := p.files(); err != nil {
				return err
			}
			sawFiles = true
		case "versions":
			if err := p.versions(); err != nil {
				return err
			}
		default:
			if err := s.skip(); err != nil {
				return err
			}
		}
	}
	if err := s.finish(); err != nil {
		return err
	}
	if !sawMeta || !sawFiles {
		return fmt.Errorf("%w: JSON page lacks \"meta\" or \"files\"", ErrMalformed)
	}
	return nil
}

func (p *jsonPageParser) meta() (string, error) {
	s := p.s
	if c, err := s.peek(); err != nil {
		return "", err
	} else if c != '{' {
		return "", s.syntax("\"meta\" is not an object")
	}
	s.pos++
	api := ""
	for first := true; ; first = false {
		ok, err := s.more('}', first)
		if err != nil {
			return "", err
		}
		if !ok {
			return api, nil
		}
		k, err := s.key()
		if err != nil {
			return "", err
		}
		if string(k) == "api-version" {
			v, err := p.optString()
			if err != nil {
				return "", err
			}
			api = string(v)
			continue
		}
		if err := s.skip(); err != nil {
			return "", err
		}
	}
}

func (p *jsonPageParser) versions() error {
	s := p.s
	if c, err := s.peek(); err != nil {
		return err
	} else if c == 'n' {
		_, err := s.literal()
		return err
	}
	if err := s.expect('['); err != nil {
		return err
	}
	for first := true; ; first = false {
		ok, err := s.more(']', first)
		if err != nil || !ok {
			return err
		}
		v, err := s.stringBytes()
		if err != nil {
			return err
		}
		p.out.Versions = append(p.out.Versions, string(v))
	}
}

// optString reads a string or null (nil).
func (p *jsonPageParser) optString() ([]byte, error) {
	c, err := p.s.peek()
	if err != nil {
		return nil, err
	}
	if c == 'n' {
		_, err := p.s.literal()
		return nil, err
	}
	if c != '"' {
		return nil, p.s.syntax("want a string, found %q", c)
	}
	return p.s.stringBytes()
}

func (p *jsonPageParser) files() error {
	s := p.s
	if err := s.expect('['); err != nil {
		return err
	}
	for i, first := 0, true; ; i, first = i+1, false {
		ok, err := s.more(']', first)
		if err != nil || !ok {
			return err
		}
		if err := p.file(i); err != nil {
			return err
		}
	}
}

// file reads one file object, and keeps it when the filter does.
func (p *jsonPageParser) file(i int) error {
	s := p.s
	rf := &p.rf
	rf.reset()
	if err := s.expect('{'); err != nil {
		return err
	}
	for first := true; ; first = false {
		ok, err := s.more('}', first)
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		k, err := s.key()
		if err != nil {
			return err
		}
		switch string(k) {
		case "filename":
			v, err := p.optString()
			if err != nil {
				return err
			}
			rf.filename = append(rf.filename[:0], v...)
		case "url":
			v, err := p.optString()
			if err != nil {
				return err
			}
			rf.url = append(rf.url[:0], v...)
		case "hashes":
			if rf.hashes, err = p.hashes(rf.hashes[:0]); err != nil {
				return err
			}
		case "requires-python":
			v, err := p.optString()
			if err != nil {
				return err
			}
			rf.hasRequiresPython = v != nil
			rf.requiresPython = append(rf.requiresPython[:0], v...)
		case "core-metadata":
			if err := p.metaField(&rf.meta); err != nil {
				return err
			}
		case "dist-info-metadata":
			if err := p.metaField(&rf.distInfoMeta); err != nil {
				return err
			}
		case "yanked":
			if err := p.yanked(rf); err != nil {
				return err
			}
		case "size":
			c, err := s.peek()
			if err != nil {
				return err
			}
			if c == 'n' {
				if _, err := s.literal(); err != nil {
					return err
				}
				rf.hasSize = false
				continue
			}
			n, err := s.number()
			if err != nil {
				return err
			}
			if rf.size, err = strconv.ParseInt(n, 10, 64); err != nil {
				return fmt.Errorf("%w: file %s: bad size %s", ErrMalformed, rf.filename, n)
			}
			rf.hasSize = true
		case "upload-time":
			v, err := p.optString()
			if err != nil {
				return err
			}
			rf.hasUpload = len(v) > 0
			rf.uploadTime = append(rf.uploadTime[:0], v...)
		default:
			if err := s.skip(); err != nil {
				return err
			}
		}
	}
	if len(rf.filename) == 0 || len(rf.url) == 0 {
		return fmt.Errorf("%w: file %d has no filename or url", ErrMalformed, i)
	}
	keep := p.filter.keep(string(rf.filename))
	if !keep {
		// A file left out is never opened, but a remote page that
		// points at local files is refused all the same.
		return p.checkScheme(rf)
	}
	f, err := p.toFile(rf)
	if err != nil {
		return err
	}
	p.out.Files = append(p.out.Files, f)
	return nil
}

// checkScheme refuses a link to anything but http(s) without building the
// whole File.
func (p *jsonPageParser) checkScheme(rf *rawFile) error {
	u := rf.url
	i := bytes.IndexAny(u, ":/?#")
	if i < 0 || u[i] != ':' {
		return nil // relative: it resolves against the page
	}
	scheme := strings.ToLower(string(u[:i]))
	if scheme == "http" || scheme == "https" {
		return nil
	}
	_, err := p.resolve(rf)
	return err
}

func (p *jsonPageParser) resolve(rf *rawFile) (*url.URL, error) {
	u, err := p.base.Parse(string(rf.url))
	if err != nil {
		return nil, fmt.Errorf("%w: file %s: bad url: %v", ErrMalformed, rf.filename, err)
	}
	u.Fragment, u.RawFragment = "", ""
	if err := checkLink(p.base, u); err != nil {
		return nil, fmt.Errorf("file %s: %w", rf.filename, err)
	}
	return u, nil
}

func (p *jsonPageParser) str(b []byte) string {
	if s, ok := p.intern[string(b)]; ok {
		return s
	}
	s := string(b)
	p.intern[s] = s
	return s
}

// plainURL returns an absolute http(s) URL, its fragment cut, when it is
// made of characters that parsing and printing it would leave as they are
// (no userinfo, escapes or query): the common case, at a fraction of the
// cost of net/url.
func plainURL(raw []byte) (string, bool) {
	if i := bytes.IndexByte(raw, '#'); i >= 0 {
		raw = raw[:i]
	}
	rest, ok := bytes.CutPrefix(raw, []byte("https://"))
	if !ok {
		if rest, ok = bytes.CutPrefix(raw, []byte("http://")); !ok {
			return "", false
		}
	}
	host, _, _ := bytes.Cut(rest, []byte("/"))
	if len(host) == 0 || bytes.Contains(rest, []byte("/.")) {
		return "", false // dot segments are resolved by net/url
	}
	for _, c := range rest {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '/' || c == '+' || c == '=') {
			return "", false
		}
	}
	return string(raw), true
}

func (p *jsonPageParser) toFile(rf *rawFile) (File, error) {
	link, ok := plainURL(rf.url)
	if !ok {
		u, err := p.resolve(rf)
		if err != nil {
			return File{}, err
		}
		link = stripUserinfo(u.String())
	}
	f := File{Size: -1}
	m := rf.meta
	if !m.set {
		m = rf.distInfoMeta
	}
	f.URL, f.MetadataURL, f.Filename = shareStrings(link, m.has, rf.filename)
	if len(rf.hashes) > 0 {
		f.Hashes = make(map[string]string, len(rf.hashes))
		for _, h := range rf.hashes {
			f.Hashes[p.str(bytes.ToLower(h.alg))] = strings.ToLower(string(h.value))
		}
	}
	if rf.hasRequiresPython {
		f.RequiresPython = p.str(bytes.TrimSpace(rf.requiresPython))
	}
	if rf.hasSize {
		f.Size = rf.size
	}
	if rf.hasUpload {
		t, err := time.Parse(time.RFC3339Nano, string(rf.uploadTime))
		if err != nil {
			return File{}, fmt.Errorf("%w: file %s: bad upload-time %q", ErrMalformed, rf.filename, rf.uploadTime)
		}
		f.UploadTime = t.UTC()
	}
	if rf.yanked {
		f.Yanked, f.YankedReason = true, p.str(rf.yankReason)
	}
	if m.has {
		if len(m.hashes) > 0 {
			f.MetadataHashes = make(map[string]string, len(m.hashes))
			for _, h := range m.hashes {
				f.MetadataHashes[p.str(bytes.ToLower(h.alg))] = strings.ToLower(string(h.value))
			}
		}
	}
	return f, nil
}

// shareStrings returns a file's URL, its metadata URL (when it has one:
// the URL and ".metadata") and its file name, in one allocation where they
// overlap: a big project lists thousands of files, and the run holds them
// all while it resolves.
func shareStrings(url string, metadata bool, filename []byte) (u, metaURL, name string) {
	u = url
	if metadata {
		metaURL = url + ".metadata"
		u = metaURL[:len(url)]
	}
	if len(u) > len(filename) && u[len(u)-len(filename)-1] == '/' && u[len(u)-len(filename):] == string(filename) {
		return u, metaURL, u[len(u)-len(filename):]
	}
	return u, metaURL, string(filename)
}

// hashes reads an object of strings, appending to dst (its buffers
// reused).
func (p *jsonPageParser) hashes(dst []rawHash) ([]rawHash, error) {
	s := p.s
	c, err := s.peek()
	if err != nil {
		return dst, err
	}
	if c == 'n' {
		_, err := s.literal()
		return dst, err
	}
	if err := s.expect('{'); err != nil {
		return dst, err
	}
	for first := true; ; first = false {
		ok, err := s.more('}', first)
		if err != nil || !ok {
			return dst, err
		}
		k, err := s.key()
		if err != nil {
			return dst, err
		}
		var h rawHash
		if len(dst) < cap(dst) {
			h = dst[:len(dst)+1][len(dst)]
		}
		h.alg = append(h.alg[:0], k...)
		v, err := s.stringBytes()
		if err != nil {
			return dst, err
		}
		h.value = append(h.value[:0], v...)
		dst = append(dst, h)
	}
}

// metaField reads a core-metadata value: null, true/false or hashes.
func (p *jsonPageParser) metaField(m *rawMeta) error {
	s := p.s
	c, err := s.peek()
	if err != nil {
		return err
	}
	switch c {
	case 'n':
		_, err := s.literal()
		*m = rawMeta{hashes: m.hashes[:0]}
		return err
	case 't', 'f':
		lit, err := s.literal()
		m.set, m.has, m.hashes = true, lit == "true", m.hashes[:0]
		return err
	case '{':
		m.set, m.has = true, true
		m.hashes, err = p.hashes(m.hashes[:0])
		return err
	}
	return fmt.Errorf("%w: file %s: bad core-metadata value", ErrMalformed, p.rf.filename)
}

// yanked reads a yanked value: null, true/false or a reason.
func (p *jsonPageParser) yanked(rf *rawFile) error {
	s := p.s
	c, err := s.peek()
	if err != nil {
		return err
	}
	switch c {
	case 'n':
		_, err := s.literal()
		rf.yanked = false
		return err
	case 't', 'f':
		lit, err := s.literal()
		rf.yanked, rf.yankReason = lit == "true", rf.yankReason[:0]
		return err
	case '"':
		v, err := s.stringBytes()
		rf.yanked, rf.yankReason = true, append(rf.yankReason[:0], v...)
		return err
	}
	return fmt.Errorf("%w: file %s: bad yanked value", ErrMalformed, rf.filename)
}
