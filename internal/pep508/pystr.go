package pep508

import (
	"strings"
	"unicode/utf8"
)

// decodePyString evaluates a quoted marker string the way packaging does
// (ast.literal_eval of a Python string literal): backslash escapes are
// interpreted. tok includes its quotes and holds no other copy of its quote
// character. It reports false where Python raises (an escape swallowing the
// closing quote, a raw line break or NUL, a malformed \x, \u or \U escape) and
// where Go cannot follow (\N{...}, escaped lone surrogates).
func decodePyString(tok []rune) (string, bool) {
	inner := tok[1 : len(tok)-1]
	var b strings.Builder
	for i := 0; i < len(inner); i++ {
		c := inner[i]
		switch {
		case c == '\n' || c == '\r' || c == 0:
			return "", false
		case c != '\\':
			b.WriteRune(c)
			continue
		}
		if i+1 >= len(inner) {
			return "", false // the backslash escapes the closing quote
		}
		i++
		e := inner[i]
		switch e {
		case '\n': // line continuation
		case '\r':
			if i+1 < len(inner) && inner[i+1] == '\n' {
				i++
			}
		case '\\', '\'', '"':
			b.WriteRune(e)
		case 'a':
			b.WriteByte(7)
		case 'b':
			b.WriteByte(8)
		case 'f':
			b.WriteByte(12)
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'v':
			b.WriteByte(11)
		case '0', '1', '2', '3', '4', '5', '6', '7':
			v := rune(e - '0')
			for n := 1; n < 3 && i+1 < len(inner) && inner[i+1] >= '0' && inner[i+1] <= '7'; n++ {
				i++
				v = v*8 + (inner[i] - '0')
			}
			b.WriteRune(v)
		case 'x', 'u', 'U':
			n := map[rune]int{'x': 2, 'u': 4, 'U': 8}[e]
			if i+n >= len(inner) {
				return "", false // truncated escape
			}
			var v rune
			for k := 0; k < n; k++ {
				i++
				d := hexVal(inner[i])
				if d < 0 {
					return "", false
				}
				v = v*16 + rune(d)
			}
			if v > utf8.MaxRune || (v >= 0xD800 && v <= 0xDFFF) {
				return "", false
			}
			b.WriteRune(v)
		case 'N':
			return "", false
		default:
			b.WriteByte('\\')
			b.WriteRune(e)
		}
	}
	return b.String(), true
}

func hexVal(r rune) int {
	switch {
	case r >= '0' && r <= '9':
		return int(r - '0')
	case r >= 'a' && r <= 'f':
		return int(r-'a') + 10
	case r >= 'A' && r <= 'F':
		return int(r-'A') + 10
	}
	return -1
}

// quoteValue prints a marker value the way packaging's Value.serialize does
// (double quotes, or single quotes when the value holds a double quote). A
// value packaging could not print back into a parseable marker (one holding a
// backslash, a line break, a NUL or both quote characters) is printed with
// Python escapes instead, so that it parses back to the same value.
func quoteValue(v string) string {
	hasDouble, hasSingle := strings.ContainsRune(v, '"'), strings.ContainsRune(v, '\'')
	if !strings.ContainsAny(v, "\\\n\r\x00") && !(hasDouble && hasSingle) {
		if !hasDouble {
			return `"` + v + `"`
		}
		return `'` + v + `'`
	}
	q, qEsc := '"', `\x22`
	if hasDouble && !hasSingle {
		q, qEsc = '\'', `\x27`
	}
	var b strings.Builder
	b.WriteRune(q)
	for _, c := range v {
		switch c {
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case 0:
			b.WriteString(`\x00`)
		case q:
			b.WriteString(qEsc)
		default:
			b.WriteRune(c)
		}
	}
	b.WriteRune(q)
	return b.String()
}
