package index

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// jsonScanner reads JSON from a stream through a small window, so that a
// page of many megabytes is parsed as it arrives, without holding it. It
// knows just enough JSON for PEP 691 pages: objects, arrays, strings (with
// every escape), numbers and literals; values a page does not need are
// skipped without being decoded.
type jsonScanner struct {
	r        io.Reader
	buf      []byte
	pos, end int
	eof      bool
	rerr     error
	read     int64 // bytes taken from r
	str      []byte
	depth    int
}

// maxJSONDepth bounds nesting in skipped values (a hostile page cannot
// recurse deeply).
const maxJSONDepth = 256

// errJSONSyntax marks a malformed page; read errors are returned as they
// are (the request may be retried).
var errJSONSyntax = errors.New("JSON syntax error")

func newJSONScanner(r io.Reader) *jsonScanner {
	return &jsonScanner{r: r, buf: make([]byte, 64<<10)}
}

func (s *jsonScanner) syntax(format string, args ...any) error {
	return fmt.Errorf("%w at byte %d: %s", errJSONSyntax, s.read-int64(s.end-s.pos), fmt.Sprintf(format, args...))
}

// fill reads more input, keeping the unread bytes; false at the end of
// input (s.rerr holds a read error, if any).
func (s *jsonScanner) fill() bool {
	if s.eof {
		return false
	}
	if s.pos > 0 {
		s.end = copy(s.buf, s.buf[s.pos:s.end])
		s.pos = 0
	}
	if s.end == len(s.buf) {
		nb := make([]byte, 2*len(s.buf))
		copy(nb, s.buf[:s.end])
		s.buf = nb
	}
	for {
		n, err := s.r.Read(s.buf[s.end:])
		s.end += n
		s.read += int64(n)
		if err != nil {
			s.eof = true
			if err != io.EOF {
				s.rerr = err
			}
			return n > 0
		}
		if n > 0 {
			return true
		}
	}
}

// unexpectedEnd is the error for input that stops inside a value.
func (s *jsonScanner) unexpectedEnd() error {
	if s.rerr != nil {
		return s.rerr
	}
	return s.syntax("unexpected end of input")
}

// peek skips white space and returns the next byte without taking it.
func (s *jsonScanner) peek() (byte, error) {
	for {
		for s.pos < s.end {
			c := s.buf[s.pos]
			if c != ' ' && c != '\n' && c != '\r' && c != '\t' {
				return c, nil
			}
			s.pos++
		}
		if !s.fill() {
			return 0, s.unexpectedEnd()
		}
	}
}

// expect takes the next non-space byte, which must be c.
func (s *jsonScanner) expect(c byte) error {
	got, err := s.peek()
	if err != nil {
		return err
	}
	if got != c {
		return s.syntax("want %q, found %q", c, got)
	}
	s.pos++
	return nil
}

// more reports whether an object or array has another member, taking the
// comma before it or the closing bracket after the last; first is true
// right after the opening bracket.
func (s *jsonScanner) more(close byte, first bool) (bool, error) {
	c, err := s.peek()
	if err != nil {
		return false, err
	}
	if c == close {
		s.pos++
		return false, nil
	}
	if first {
		return true, nil
	}
	if c != ',' {
		return false, s.syntax("want ',' or %q, found %q", close, c)
	}
	s.pos++
	return true, nil
}

// key reads an object member's name and its colon, lower-cased (ASCII)
// because encoding/json matches names without regard to case; the bytes
// are valid until the next string is read.
func (s *jsonScanner) key() ([]byte, error) {
	k, err := s.stringBytes()
	if err != nil {
		return nil, err
	}
	for i, c := range k {
		if c >= 'A' && c <= 'Z' {
			k[i] = c + 'a' - 'A'
		}
	}
	if err := s.expect(':'); err != nil {
		return nil, err
	}
	return k, nil
}

// stringBytes reads a string value, unescaped; the bytes are valid until
// the next string is read.
func (s *jsonScanner) stringBytes() ([]byte, error) {
	if err := s.expect('"'); err != nil {
		return nil, err
	}
	s.str = s.str[:0]
	for {
		win := s.buf[s.pos:s.end]
		i := 0
		for i < len(win) && win[i] != '"' && win[i] != '\\' && win[i] >= 0x20 {
			i++
		}
		s.str = append(s.str, win[:i]...)
		s.pos += i
		if i == len(win) {
			if !s.fill() {
				return nil, s.unexpectedEnd()
			}
			continue
		}
		c := win[i]
		s.pos++
		switch {
		case c == '"':
			if !utf8.Valid(s.str) {
				s.str = validUTF8(s.str)
			}
			return s.str, nil
		case c < 0x20:
			return nil, s.syntax("control character %#x in a string", c)
		}
		if err := s.escape(); err != nil {
			return nil, err
		}
	}
}

// validUTF8 replaces each byte of b that is not part of valid UTF-8 with
// U+FFFD, as encoding/json does.
func validUTF8(b []byte) []byte {
	out := make([]byte, 0, len(b)+8)
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			out = utf8.AppendRune(out, utf8.RuneError)
		} else {
			out = append(out, b[:n]...)
		}
		b = b[n:]
	}
	return out
}

// need makes at least n unread bytes available.
func (s *jsonScanner) need(n int) bool {
	for s.end-s.pos < n {
		if !s.fill() {
			return false
		}
	}
	return true
}

// escape decodes the escape after a backslash into s.str.
func (s *jsonScanner) escape() error {
	if !s.need(1) {
		return s.unexpectedEnd()
	}
	c := s.buf[s.pos]
	s.pos++
	switch c {
	case '"', '\\', '/':
		s.str = append(s.str, c)
	case 'b':
		s.str = append(s.str, '\b')
	case 'f':
		s.str = append(s.str, '\f')
	case 'n':
		s.str = append(s.str, '\n')
	case 'r':
		s.str = append(s.str, '\r')
	case 't':
		s.str = append(s.str, '\t')
	case 'u':
		r, err := s.hex4()
		if err != nil {
			return err
		}
		if utf16.IsSurrogate(r) {
			r2 := rune(-1)
			if s.need(2) && s.buf[s.pos] == '\\' && s.buf[s.pos+1] == 'u' {
				s.pos += 2
				if r2, err = s.hex4(); err != nil {
					return err
				}
			}
			if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
				r = d
			} else {
				// A lone surrogate becomes U+FFFD, as encoding/json does;
				// the rune after it is kept.
				s.str = utf8.AppendRune(s.str, utf8.RuneError)
				r = r2
				if r < 0 {
					return nil
				}
			}
		}
		s.str = utf8.AppendRune(s.str, r)
	default:
		return s.syntax("bad escape \\%c in a string", c)
	}
	return nil
}

func (s *jsonScanner) hex4() (rune, error) {
	if !s.need(4) {
		return 0, s.unexpectedEnd()
	}
	v, err := strconv.ParseUint(string(s.buf[s.pos:s.pos+4]), 16, 16)
	if err != nil {
		return 0, s.syntax("bad \\u escape")
	}
	s.pos += 4
	return rune(v), nil
}

// literal reads true, false or null.
func (s *jsonScanner) literal() (string, error) {
	c, err := s.peek()
	if err != nil {
		return "", err
	}
	var want string
	switch c {
	case 't':
		want = "true"
	case 'f':
		want = "false"
	case 'n':
		want = "null"
	default:
		return "", s.syntax("unexpected %q", c)
	}
	if !s.need(len(want)) {
		return "", s.unexpectedEnd()
	}
	if string(s.buf[s.pos:s.pos+len(want)]) != want {
		return "", s.syntax("unexpected %q", s.buf[s.pos:s.pos+len(want)])
	}
	s.pos += len(want)
	return want, nil
}

// number reads a number's text, which must follow JSON's grammar.
func (s *jsonScanner) number() (string, error) {
	if _, err := s.peek(); err != nil {
		return "", err
	}
	var out []byte
	for {
		for s.pos < s.end {
			c := s.buf[s.pos]
			if !(c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E') {
				return s.checkNumber(out)
			}
			out = append(out, c)
			s.pos++
		}
		if !s.fill() {
			if s.rerr != nil {
				return "", s.rerr
			}
			return s.checkNumber(out)
		}
	}
}

// checkNumber checks -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?.
func (s *jsonScanner) checkNumber(b []byte) (string, error) {
	i := 0
	digits := func() int {
		n := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i, n = i+1, n+1
		}
		return n
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	start := i
	if n := digits(); n == 0 || (n > 1 && b[start] == '0') {
		return "", s.syntax("bad number %q", b)
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return "", s.syntax("bad number %q", b)
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return "", s.syntax("bad number %q", b)
		}
	}
	if i != len(b) {
		return "", s.syntax("bad number %q", b)
	}
	return string(b), nil
}

// skip reads and discards one value of any kind.
func (s *jsonScanner) skip() error {
	c, err := s.peek()
	if err != nil {
		return err
	}
	switch {
	case c == '"':
		_, err := s.stringBytes()
		return err
	case c == '{' || c == '[':
		close := byte('}')
		if c == '[' {
			close = ']'
		}
		s.depth++
		if s.depth > maxJSONDepth {
			return s.syntax("values nested more than %d deep", maxJSONDepth)
		}
		s.pos++
		for first := true; ; first = false {
			ok, err := s.more(close, first)
			if err != nil {
				return err
			}
			if !ok {
				break
			}
			if close == '}' {
				if _, err := s.key(); err != nil {
					return err
				}
			}
			if err := s.skip(); err != nil {
				return err
			}
		}
		s.depth--
		return nil
	case c == 't' || c == 'f' || c == 'n':
		_, err := s.literal()
		return err
	default:
		_, err := s.number()
		return err
	}
}

// end checks that only white space follows the top-level value.
func (s *jsonScanner) finish() error {
	for {
		for s.pos < s.end {
			c := s.buf[s.pos]
			if c != ' ' && c != '\n' && c != '\r' && c != '\t' {
				return s.syntax("data after the top-level value")
			}
			s.pos++
		}
		if !s.fill() {
			return s.rerr
		}
	}
}
