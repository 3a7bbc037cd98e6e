package project

import (
	"fmt"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// maxYAMLDepth bounds nesting (and alias expansion) so that a hostile
// document cannot recurse without end.
const maxYAMLDepth = 200

// parseYAML reads a YAML (or JSON) document into its root mapping node,
// turning a syntax error into an *Error with the file and line. A mapping
// that writes a key twice is an error naming both lines: YAML libraries
// disagree on which value wins, so the config would silently mean different
// things to different tools. Aliases and merge keys (<<: *base) are expanded,
// so readers see every mapping with its merged keys.
func parseYAML(file string, data []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		line := 0
		msg := err.Error()
		// yaml.v3 errors read "yaml: line N: ..."
		if _, scanErr := fmt.Sscanf(strings.TrimPrefix(msg, "yaml: "), "line %d:", &line); scanErr != nil {
			line = 0
		}
		return nil, &Error{Pos: Pos{File: file, Line: line}, Msg: "YAML syntax error: " + strings.TrimPrefix(msg, "yaml: "), Hint: "fix the YAML syntax"}
	}
	if len(doc.Content) == 0 {
		return nil, &Error{Pos: Pos{File: file}, Msg: "the file is empty"}
	}
	root := doc.Content[0]
	if err := checkDuplicateKeys(file, root, 0); err != nil {
		return nil, err
	}
	root, err := expandAliases(file, root, 0)
	if err != nil {
		return nil, err
	}
	if root.Kind != yaml.MappingNode {
		return nil, &Error{Pos: Pos{File: file, Line: root.Line}, Msg: "the document is not a mapping"}
	}
	return root, nil
}

// checkDuplicateKeys walks the document as written (before aliases are
// expanded) and refuses a mapping that has a key twice.
func checkDuplicateKeys(file string, n *yaml.Node, depth int) error {
	if n == nil {
		return nil
	}
	if depth > maxYAMLDepth {
		return &Error{Pos: Pos{File: file, Line: n.Line}, Msg: fmt.Sprintf("the document nests deeper than %d levels", maxYAMLDepth)}
	}
	if n.Kind == yaml.MappingNode {
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode || k.Tag == "!!merge" {
				continue
			}
			if first, dup := seen[k.Value]; dup {
				return &Error{Pos: Pos{File: file, Line: k.Line},
					Msg:  fmt.Sprintf("key %q is written twice in the same mapping (lines %d and %d)", k.Value, first, k.Line),
					Hint: "keep one of them: tools disagree on which value wins"}
			}
			seen[k.Value] = k.Line
		}
	}
	for _, c := range n.Content {
		if err := checkDuplicateKeys(file, c, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// checkScalarKeys refuses a mapping key that is itself a mapping or a list
// ({ your_region }: ..., a placeholder left in a template). sam build's YAML
// reader stops on it ("found unhashable key") and CloudFormation takes only
// string keys, so the template deploys nowhere. (The Serverless Framework's
// js-yaml turns such a key into the string "[object Object]", so
// serverless.yml is not checked.)
func checkScalarKeys(file string, n *yaml.Node, depth int) error {
	if n == nil || depth > maxYAMLDepth {
		return nil
	}
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := n.Content[i]; k.Kind == yaml.MappingNode || k.Kind == yaml.SequenceNode {
				what := "mapping"
				if k.Kind == yaml.SequenceNode {
					what = "list"
				}
				return &Error{Pos: Pos{File: file, Line: k.Line},
					Msg:  fmt.Sprintf("a key is a %s, not a name (sam build stops on it: \"found unhashable key\"; CloudFormation takes only string keys)", what),
					Hint: "write the key as a plain name; a {placeholder} left from a template needs its real value"}
			}
		}
	}
	for _, c := range n.Content {
		if err := checkScalarKeys(file, c, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// expandAliases returns n with every alias replaced by the node it names and
// every merge key (<<) replaced by the merged mapping's pairs (keys written
// in the mapping itself win, as YAML 1.1 says).
func expandAliases(file string, n *yaml.Node, depth int) (*yaml.Node, error) {
	if n == nil {
		return nil, nil
	}
	if depth > maxYAMLDepth {
		return nil, &Error{Pos: Pos{File: file, Line: n.Line}, Msg: fmt.Sprintf("aliases nest deeper than %d levels", maxYAMLDepth)}
	}
	if n.Kind == yaml.AliasNode {
		return expandAliases(file, n.Alias, depth+1)
	}
	if len(n.Content) == 0 {
		return n, nil
	}
	out := *n
	out.Content = nil
	var merged []*yaml.Node // pairs from << keys, applied after own keys
	for i := 0; i < len(n.Content); i++ {
		c, err := expandAliases(file, n.Content[i], depth+1)
		if err != nil {
			return nil, err
		}
		if n.Kind == yaml.MappingNode && i%2 == 0 && c.Tag == "!!merge" && i+1 < len(n.Content) {
			v, err := expandAliases(file, n.Content[i+1], depth+1)
			if err != nil {
				return nil, err
			}
			srcs := []*yaml.Node{v}
			if v.Kind == yaml.SequenceNode {
				srcs = v.Content
			}
			for _, s := range srcs {
				if s.Kind != yaml.MappingNode {
					return nil, &Error{Pos: Pos{File: file, Line: v.Line}, Msg: "a merge key (<<) must name a mapping"}
				}
				merged = append(merged, s.Content...)
			}
			i++
			continue
		}
		out.Content = append(out.Content, c)
	}
	if len(merged) > 0 {
		own := map[string]bool{}
		for i := 0; i+1 < len(out.Content); i += 2 {
			own[out.Content[i].Value] = true
		}
		for i := 0; i+1 < len(merged); i += 2 {
			if k := merged[i].Value; !own[k] {
				own[k] = true
				out.Content = append(out.Content, merged[i], merged[i+1])
			}
		}
	}
	return &out, nil
}

// child returns the value node of key in a mapping node (nil if absent).
func child(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// path follows keys through nested mappings.
func path(n *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		n = child(n, k)
	}
	return n
}

// pairs returns a mapping's keys and values in document order.
func pairs(n *yaml.Node) (keys []*yaml.Node, vals []*yaml.Node) {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		keys = append(keys, n.Content[i])
		vals = append(vals, n.Content[i+1])
	}
	return keys, vals
}

// items returns a sequence's elements; a scalar is a one-element list.
func items(n *yaml.Node) []*yaml.Node {
	if n == nil {
		return nil
	}
	switch n.Kind {
	case yaml.SequenceNode:
		return n.Content
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return nil
		}
		return []*yaml.Node{n}
	}
	return nil
}

func line(n *yaml.Node) int {
	if n == nil {
		return 0
	}
	return n.Line
}

// isNull reports whether a node is absent or an explicit null.
func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// isTrue reports whether a scalar node is a YAML true (or a non-empty
// mapping, which serverless treats as enabling an option with settings).
func isTrue(n *yaml.Node) bool {
	if n == nil {
		return false
	}
	if n.Kind == yaml.MappingNode {
		return true
	}
	switch strings.ToLower(n.Value) {
	case "true", "yes", "on":
		return true
	}
	return false
}
