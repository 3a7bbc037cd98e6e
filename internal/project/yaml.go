package project

import (
	"fmt"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// parseYAML reads a YAML document into its root mapping node, turning a
// syntax error into an *Error with the file and line.
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
	if root.Kind != yaml.MappingNode {
		return nil, &Error{Pos: Pos{File: file, Line: root.Line}, Msg: "the document is not a mapping"}
	}
	return root, nil
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
