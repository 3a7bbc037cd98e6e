package pep508

import (
	"sort"
	"strings"

	"github.com/lambdapack/lambdapack/internal/names"
	"github.com/lambdapack/lambdapack/internal/pep440"
)

// Environment maps PEP 508 marker variables ("python_version",
// "sys_platform", ...) to their values for one target. "extra" is optional:
// when absent it is "" (packaging's metadata context).
type Environment map[string]string

// Marker is a parsed environment marker. Its tree keeps the parsed grouping,
// like packaging's: and/or chains are flat lists (and binds tighter than or
// at evaluation), parenthesised groups are nested lists.
type Marker struct {
	list []node
}

type nodeKind uint8

const (
	nodeItem nodeKind = iota
	nodeGroup
	nodeAnd
	nodeOr
)

type node struct {
	kind  nodeKind
	item  item   // nodeItem
	group []node // nodeGroup
}

// operand is one side of a comparison: a marker variable or a string.
type operand struct {
	variable bool
	value    string
}

type item struct {
	lhs, rhs operand
	op       string // "==", "!=", "<", "<=", ">", ">=", "~=", "===", "in", "not in"

	// spec is op+rhs as a PEP 440 specifier, parsed once, when the left
	// side is a version variable and that makes a valid specifier.
	spec *pep440.Specifier
}

// ParseMarker parses a marker expression such as
// `python_version >= "3.9" and sys_platform == "linux"`.
func ParseMarker(s string) (*Marker, error) {
	if err := validUTF8(s); err != nil {
		return nil, err
	}
	t := newTokenizer(s)
	list, err := parseMarkerList(t)
	if err != nil {
		return nil, err
	}
	if _, err := t.expect(tokEnd, "end of marker expression"); err != nil {
		return nil, err
	}
	return &Marker{list: normalizeExtras(list)}, nil
}

// MustParseMarker is ParseMarker for literals known to be valid.
func MustParseMarker(s string) *Marker {
	m, err := ParseMarker(s)
	if err != nil {
		panic(err)
	}
	return m
}

// marker = marker_atom (BOOLOP marker_atom)*
func parseMarkerList(t *tokenizer) ([]node, error) {
	first, err := parseMarkerAtom(t)
	if err != nil {
		return nil, err
	}
	list := []node{first}
	for t.check(tokBoolOp) {
		op := t.read(tokBoolOp)
		next, err := parseMarkerAtom(t)
		if err != nil {
			return nil, err
		}
		kind := nodeAnd
		if op == "or" {
			kind = nodeOr
		}
		list = append(list, node{kind: kind}, next)
	}
	return list, nil
}

// marker_atom = WS? LEFT_PARENTHESIS WS? marker WS? RIGHT_PARENTHESIS WS?
//
//	| WS? marker_item WS?
func parseMarkerAtom(t *tokenizer) (node, error) {
	t.consume(tokWS)
	var n node
	if t.check(tokLeftParen) {
		err := t.enclosed(tokLeftParen, tokRightParen, "marker expression", func() error {
			t.consume(tokWS)
			list, err := parseMarkerList(t)
			if err != nil {
				return err
			}
			n = node{kind: nodeGroup, group: list}
			t.consume(tokWS)
			return nil
		})
		if err != nil {
			return node{}, err
		}
	} else {
		it, err := parseMarkerItem(t)
		if err != nil {
			return node{}, err
		}
		n = node{kind: nodeItem, item: it}
	}
	t.consume(tokWS)
	return n, nil
}

// marker_item = WS? marker_var WS? marker_op WS? marker_var WS?
func parseMarkerItem(t *tokenizer) (item, error) {
	t.consume(tokWS)
	lhs, err := parseMarkerVar(t)
	if err != nil {
		return item{}, err
	}
	t.consume(tokWS)
	op, err := parseMarkerOp(t)
	if err != nil {
		return item{}, err
	}
	t.consume(tokWS)
	rhs, err := parseMarkerVar(t)
	if err != nil {
		return item{}, err
	}
	t.consume(tokWS)
	return item{lhs: lhs, op: op, rhs: rhs}, nil
}

func parseMarkerVar(t *tokenizer) (operand, error) {
	if t.check(tokVariable) {
		name := strings.ReplaceAll(t.read(tokVariable), ".", "_")
		if name == "python_implementation" {
			name = "platform_python_implementation"
		}
		return operand{variable: true, value: name}, nil
	}
	if t.check(tokQuotedString) {
		start := t.pos
		n := t.match(tokQuotedString)
		v, ok := decodePyString(t.src[start : start+n])
		t.pos += n
		if !ok {
			return operand{}, t.errorf("Invalid quoted string", start, start+n)
		}
		return operand{value: v}, nil
	}
	return operand{}, t.errorf("Expected a marker variable or quoted string", t.pos, t.pos)
}

func parseMarkerOp(t *tokenizer) (string, error) {
	switch {
	case t.check(tokIn):
		t.read(tokIn)
		return "in", nil
	case t.check(tokNot):
		t.read(tokNot)
		if _, err := t.expect(tokWS, "whitespace after 'not'"); err != nil {
			return "", err
		}
		if _, err := t.expect(tokIn, "'in' after 'not'"); err != nil {
			return "", err
		}
		return "not in", nil
	case t.check(tokOp):
		return t.read(tokOp), nil
	}
	return "", t.errorf("Expected marker operator, one of <=, <, !=, ==, >=, >, ~=, ===, in, not in", t.pos, t.pos)
}

// setVariables hold sets of names in a lock file's environment (PEP 751).
var setVariables = map[string]bool{"extras": true, "dependency_groups": true}

// normalizeExtras applies PEP 685 to the string side of comparisons with
// "extra" and of membership tests on "extras" / "dependency_groups", as
// packaging does at parse time, so equal markers print equal. It also
// parses the specifier of each version comparison once.
func normalizeExtras(list []node) []node {
	out := make([]node, len(list))
	for i, n := range list {
		switch n.kind {
		case nodeGroup:
			n.group = normalizeExtras(n.group)
		case nodeItem:
			it := &n.item
			switch {
			case it.lhs.variable && it.lhs.value == "extra" && !it.rhs.variable:
				it.rhs.value = names.Canonical(it.rhs.value)
			case it.rhs.variable && it.rhs.value == "extra" && !it.lhs.variable:
				it.lhs.value = names.Canonical(it.lhs.value)
			case it.rhs.variable && setVariables[it.rhs.value] && !it.lhs.variable:
				it.lhs.value = names.Canonical(it.lhs.value)
			}
			if it.lhs.variable && versionVariables[it.lhs.value] {
				if sp, err := pep440.ParseSpecifier(it.op + it.rhs.value); err == nil {
					it.spec = &sp
				}
			}
		}
		out[i] = n
	}
	return out
}

// String prints the marker in packaging's canonical form: double-quoted
// values, single spaces, canonical variable names, and parentheses only
// around nested groups.
func (m *Marker) String() string {
	if m == nil {
		return ""
	}
	return formatList(m.list, true)
}

func formatList(list []node, first bool) string {
	if len(list) == 1 && (list[0].kind == nodeGroup || list[0].kind == nodeItem) {
		return formatNode(list[0], first)
	}
	parts := make([]string, len(list))
	for i, n := range list {
		parts[i] = formatNode(n, false)
	}
	s := strings.Join(parts, " ")
	if first {
		return s
	}
	return "(" + s + ")"
}

func formatNode(n node, first bool) string {
	switch n.kind {
	case nodeGroup:
		return formatList(n.group, first)
	case nodeAnd:
		return "and"
	case nodeOr:
		return "or"
	}
	return formatOperand(n.item.lhs) + " " + n.item.op + " " + formatOperand(n.item.rhs)
}

func formatOperand(o operand) string {
	if o.variable {
		return o.value
	}
	return quoteValue(o.value)
}

// And returns a marker true where both are; a nil marker is always true.
func And(a, b *Marker) *Marker { return combine(a, b, nodeAnd) }

// Or returns a marker true where either is; a nil marker is always true, so
// Or with nil is nil.
func Or(a, b *Marker) *Marker {
	if a == nil || b == nil {
		return nil
	}
	return combine(a, b, nodeOr)
}

func combine(a, b *Marker, kind nodeKind) *Marker {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	return &Marker{list: []node{
		{kind: nodeGroup, group: a.list},
		{kind: kind},
		{kind: nodeGroup, group: b.list},
	}}
}

// Variables lists the marker variables the marker reads, sorted, without
// duplicates.
func (m *Marker) Variables() []string {
	if m == nil {
		return nil
	}
	seen := map[string]bool{}
	var walk func([]node)
	walk = func(list []node) {
		for _, n := range list {
			switch n.kind {
			case nodeGroup:
				walk(n.group)
			case nodeItem:
				// Like packaging's evaluation: the environment key is the
				// left variable, else whatever stands on the right.
				if n.item.lhs.variable {
					seen[n.item.lhs.value] = true
				} else {
					seen[n.item.rhs.value] = true
				}
			}
		}
	}
	walk(m.list)
	out := make([]string, 0, len(seen))
	for v := range seen {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}
