package pep508

import (
	"strings"
	"unicode/utf8"
)

// ParseError reports where a requirement or marker string stops making
// sense. Error() shows the message, the input and a caret under Pos, with
// tildes under the span that led there, exactly as packaging prints its
// InvalidRequirement / InvalidMarker messages.
type ParseError struct {
	Input string // the string being parsed
	Pos   int    // 0-based column (in characters) of the caret
	Start int    // 0-based column where the highlighted span starts (<= Pos)
	Msg   string // what was expected, e.g. "Expected end of dependency specifier"
}

func (e *ParseError) Error() string {
	start, pos := e.Start, e.Pos
	if start < 0 {
		start = 0
	}
	if pos < start {
		pos = start
	}
	input := e.Input
	if !utf8.ValidString(input) {
		input = strings.ToValidUTF8(input, "\uFFFD")
	}
	return e.Msg + "\n    " + input + "\n    " +
		strings.Repeat(" ", start) + strings.Repeat("~", pos-start) + "^"
}

// validUTF8 checks s and returns a ParseError at the first bad byte.
func validUTF8(s string) error {
	if utf8.ValidString(s) {
		return nil
	}
	col := 0
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 {
			return &ParseError{Input: s, Pos: col, Start: col, Msg: "Invalid UTF-8 in input"}
		}
		i += n
		col++
	}
	return nil
}
