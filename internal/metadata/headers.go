package metadata

import (
	"bytes"
	"strings"
)

// headers is a metadata file split the way Python's email parser (compat32
// policy, which packaging uses) splits it.
type headers struct {
	fields map[string][]string // lower-case name -> values in file order
	body   string
}

// parseHeaders reads RFC 822-style headers: "Name: value" lines, values
// continued on lines that start with a space or tab (kept with their line
// breaks, as Python does), then the body after the first empty line. A line
// that is neither a header nor a continuation starts the body, as in
// Python's parser. Lines end with \n, \r\n or \r.
func parseHeaders(data []byte) headers {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	h := headers{fields: map[string][]string{}}
	text := string(data)
	var name string
	var value strings.Builder
	named := false
	flush := func() {
		if named && name != "" {
			h.fields[name] = append(h.fields[name], value.String())
		}
		name, named = "", false
		value.Reset()
	}
	first := true
	for text != "" {
		line, rest, hasEnd := nextLine(text)
		switch {
		case line == "" && hasEnd:
			flush()
			h.body = rest
			return h
		case line[0] == ' ' || line[0] == '\t':
			if named {
				value.WriteString("\n")
				value.WriteString(line)
			}
		case first && strings.HasPrefix(line, "From "):
			// An mbox "From " line before the headers.
		default:
			colon := strings.IndexByte(line, ':')
			if colon < 0 || !isHeaderName(line[:colon]) {
				flush()
				h.body = text
				return h
			}
			flush()
			name, named = strings.ToLower(line[:colon]), true
			value.WriteString(strings.TrimLeft(line[colon+1:], " \t"))
		}
		first = false
		text = rest
	}
	flush()
	return h
}

// nextLine splits off the first line and reports whether it had a line end.
func nextLine(s string) (line, rest string, hasEnd bool) {
	i := strings.IndexAny(s, "\r\n")
	if i < 0 {
		return s, "", false
	}
	if s[i] == '\r' && i+1 < len(s) && s[i+1] == '\n' {
		return s[:i], s[i+2:], true
	}
	return s[:i], s[i+1:], true
}

// isHeaderName matches the printable ASCII characters Python's email parser
// allows in a header name (no space, no colon).
func isHeaderName(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e || s[i] == ':' {
			return false
		}
	}
	return true
}
