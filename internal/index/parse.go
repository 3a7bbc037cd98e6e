package index

import (
	"fmt"
	"html"
	"mime"
	"net/url"
	"path"
	"strings"
	"unicode/utf8"
)

const (
	jsonType    = "application/vnd.pypi.simple.v1+json"
	acceptPages = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1"
)

// pageKind classifies a Content-Type: "json", "html" or "" (not a page).
func pageKind(ct string) string {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(strings.SplitN(ct, ";", 2)[0]))
	}
	switch mt {
	case jsonType, "application/vnd.pypi.simple.latest+json":
		return "json"
	case "text/html", "application/vnd.pypi.simple.v1+html", "application/vnd.pypi.simple.latest+html", "application/xhtml+xml":
		return "html"
	}
	return ""
}

// remotePage reports whether a page came over http(s).
func remotePage(base *url.URL) bool { return base.Scheme == "http" || base.Scheme == "https" }

// checkLink refuses a link from a remote page to anything but http(s): a
// file:// link would make lambdapack read a file of this machine as if it
// were the download.
func checkLink(base, u *url.URL) error {
	if !remotePage(base) || u.Scheme == "http" || u.Scheme == "https" {
		return nil
	}
	return fmt.Errorf("%w: the page %s links to %s; only a local find-links folder or page may (refusing it: check the index)", ErrLocalLink, stripUserinfo(base.String()), Redact(u.String()))
}

// parseHashAttr reads "sha256=abc" (HTML data-core-metadata or a fragment).
func parseHashAttr(v string) map[string]string {
	alg, val, ok := strings.Cut(v, "=")
	if !ok || alg == "" || val == "" {
		return nil
	}
	return map[string]string{strings.ToLower(alg): strings.ToLower(val)}
}

// anchor is an <a> element's attributes.
type anchor map[string]string

// scanHTML returns the <a> elements of a page and the <base href>, if any.
// It is a tolerant scanner: unknown markup is skipped, but a tag or quoted
// value left open at the end of the page is malformed (usually truncation).
func scanHTML(body []byte) ([]anchor, string, error) {
	if !utf8.Valid(body) {
		return nil, "", fmt.Errorf("%w: HTML page is not UTF-8", ErrMalformed)
	}
	s := string(body)
	var out []anchor
	base := ""
	i := 0
	for {
		j := strings.IndexByte(s[i:], '<')
		if j < 0 {
			break
		}
		i += j
		if strings.HasPrefix(s[i:], "<!--") {
			end := strings.Index(s[i+4:], "-->")
			if end < 0 {
				return nil, "", fmt.Errorf("%w: unterminated comment", ErrMalformed)
			}
			i += 4 + end + 3
			continue
		}
		if i+1 >= len(s) || !(isAlnum(s[i+1]) || s[i+1] == '/' || s[i+1] == '!') {
			i++
			continue
		}
		// Tag name.
		k := i + 1
		for k < len(s) && (isAlnum(s[k]) || s[k] == '/' || s[k] == '!' || s[k] == '?') {
			k++
		}
		name := strings.ToLower(strings.TrimPrefix(s[i+1:k], "/"))
		attrs, end, err := scanAttrs(s, k)
		if err != nil {
			return nil, "", err
		}
		if !strings.HasPrefix(s[i+1:], "/") {
			switch name {
			case "a":
				out = append(out, attrs)
			case "base":
				if h, ok := attrs["href"]; ok && base == "" {
					base = h
				}
			}
		}
		i = end
	}
	return out, base, nil
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// scanAttrs parses attributes from s[i:] up to the closing '>'.
func scanAttrs(s string, i int) (anchor, int, error) {
	attrs := anchor{}
	for {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' || s[i] == '/') {
			i++
		}
		if i >= len(s) {
			return nil, 0, fmt.Errorf("%w: tag left open at the end of the page", ErrMalformed)
		}
		if s[i] == '>' {
			return attrs, i + 1, nil
		}
		start := i
		for i < len(s) && !strings.ContainsRune(" \t\n\r=>/", rune(s[i])) {
			i++
		}
		name := strings.ToLower(s[start:i])
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
			i++
		}
		val := ""
		if i < len(s) && s[i] == '=' {
			i++
			for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
				i++
			}
			if i >= len(s) {
				return nil, 0, fmt.Errorf("%w: attribute %q left open at the end of the page", ErrMalformed, name)
			}
			if q := s[i]; q == '"' || q == '\'' {
				end := strings.IndexByte(s[i+1:], q)
				if end < 0 {
					return nil, 0, fmt.Errorf("%w: quoted attribute %q never closed", ErrMalformed, name)
				}
				val = s[i+1 : i+1+end]
				i += end + 2
			} else {
				start := i
				for i < len(s) && !strings.ContainsRune(" \t\n\r>", rune(s[i])) {
					i++
				}
				val = s[start:i]
			}
		}
		if name != "" {
			if _, dup := attrs[name]; !dup {
				attrs[name] = html.UnescapeString(val)
			}
		}
	}
}

// parseHTMLPage parses a PEP 503 project page (or a flat find-links page);
// base is the page's URL.
func parseHTMLPage(body []byte, base *url.URL) ([]File, error) {
	anchors, baseHref, err := scanHTML(body)
	if err != nil {
		return nil, err
	}
	if baseHref != "" {
		if b, err := base.Parse(baseHref); err == nil {
			base = b
		}
	}
	var files []File
	for _, a := range anchors {
		href, ok := a["href"]
		if !ok || href == "" {
			continue
		}
		u, err := base.Parse(strings.TrimSpace(href))
		if err != nil {
			return nil, fmt.Errorf("%w: bad link %q: %v", ErrMalformed, href, err)
		}
		if remotePage(base) && u.Scheme != "http" && u.Scheme != "https" {
			if u.Scheme == "file" {
				return nil, checkLink(base, u)
			}
			continue // mailto:, javascript: and the like are not files
		}
		frag := u.Fragment
		u.Fragment, u.RawFragment = "", ""
		fn := path.Base(u.Path)
		if fn == "." || fn == "/" || fn == "" {
			continue
		}
		f := File{Filename: fn, URL: stripUserinfo(u.String()), Size: -1}
		if h := parseHashAttr(frag); h != nil {
			f.Hashes = h
		}
		if rp, ok := a["data-requires-python"]; ok {
			f.RequiresPython = strings.TrimSpace(rp)
		}
		if y, ok := a["data-yanked"]; ok {
			f.Yanked, f.YankedReason = true, y
		}
		mv, ok := a["data-core-metadata"]
		if !ok {
			mv, ok = a["data-dist-info-metadata"]
		}
		if ok && mv != "false" {
			f.MetadataURL = f.URL + ".metadata"
			f.MetadataHashes = parseHashAttr(mv)
		}
		files = append(files, f)
	}
	return files, nil
}
