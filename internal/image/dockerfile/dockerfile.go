// Package dockerfile reads the Dockerfile most Lambda projects have: the
// instructions lambdapack can carry out without a container (FROM with an
// optional --platform, ARG, ENV, WORKDIR, COPY and ADD of local files, RUN
// pip/uv install into a folder, CMD, ENTRYPOINT, LABEL). Any other
// instruction, or a RUN that is not a package install, is an error naming
// its line and saying it needs a real container build.
//
// Parse only reads text; Expand substitutes variables as Docker does
// ($VAR, ${VAR}, ${VAR:-default}, ${VAR:+alt}). The package does no I/O.
package dockerfile

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
)

// Instruction is one parsed instruction.
type Instruction struct {
	Line int    // 1-based line where it starts
	Cmd  string // upper case: FROM, RUN, COPY, ...
	// Flags are --name=value options (COPY --chmod=755, FROM --platform=...).
	Flags map[string]string
	// Args are the words after the flags (JSON form: its elements).
	Args []string
	// JSON says Args came from the JSON (exec) form.
	JSON bool
	// Raw is the instruction's text after the command, continuation lines
	// joined.
	Raw string
}

// Stage is one FROM and the instructions after it.
type Stage struct {
	From     Instruction
	Image    string // as written, variables unexpanded
	Platform string // --platform, unexpanded; "" when not given
	Name     string // AS name, lower case
	Steps    []Instruction
}

// File is a parsed Dockerfile.
type File struct {
	Name string
	// Args are the ARG instructions before the first FROM.
	Args   []Instruction
	Stages []Stage
}

// Error is a problem at a line of a Dockerfile.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

var supported = map[string]bool{"FROM": true, "ARG": true, "ENV": true, "WORKDIR": true, "COPY": true, "ADD": true,
	"RUN": true, "CMD": true, "ENTRYPOINT": true, "LABEL": true}

// Parse reads a Dockerfile. name labels errors.
func Parse(r io.Reader, name string) (*File, error) {
	f := &File{Name: name}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	lineNo := 0
	var cur strings.Builder
	start := 0
	header := true
	flush := func() error {
		text := strings.TrimSpace(cur.String())
		cur.Reset()
		if text == "" {
			return nil
		}
		ins, err := parseInstruction(text, start, name)
		if err != nil {
			return err
		}
		return f.add(ins)
	}
	for sc.Scan() {
		lineNo++
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if header && strings.HasPrefix(trimmed, "#") {
			// Parser directives: only the default escape character.
			if k, v, ok := strings.Cut(strings.TrimSpace(strings.TrimPrefix(trimmed, "#")), "="); ok && strings.EqualFold(strings.TrimSpace(k), "escape") && strings.TrimSpace(v) != `\` {
				return nil, &Error{name, lineNo, "the escape directive is not supported: lambdapack reads Dockerfiles with the default escape character \\"}
			}
			continue
		}
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			// Comments and blank lines may sit inside a continuation.
			continue
		}
		header = false
		if cur.Len() == 0 {
			start = lineNo
		}
		if strings.HasSuffix(line, `\`) {
			cur.WriteString(strings.TrimSuffix(line, `\`))
			cur.WriteString(" ")
			continue
		}
		cur.WriteString(line)
		if err := flush(); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if err := flush(); err != nil {
		return nil, err
	}
	if len(f.Stages) == 0 {
		return nil, &Error{name, max(lineNo, 1), "no FROM instruction: a Dockerfile starts from a base image"}
	}
	return f, nil
}

func (f *File) add(ins Instruction) error {
	switch {
	case ins.Cmd == "FROM":
		st := Stage{From: ins, Platform: ins.Flags["platform"]}
		for k := range ins.Flags {
			if k != "platform" {
				return &Error{f.Name, ins.Line, fmt.Sprintf("FROM --%s is not supported", k)}
			}
		}
		switch {
		case len(ins.Args) == 1:
		case len(ins.Args) == 3 && strings.EqualFold(ins.Args[1], "as"):
			st.Name = strings.ToLower(ins.Args[2])
		default:
			return &Error{f.Name, ins.Line, "FROM takes an image and an optional AS name"}
		}
		st.Image = ins.Args[0]
		f.Stages = append(f.Stages, st)
	case len(f.Stages) == 0:
		if ins.Cmd != "ARG" {
			return &Error{f.Name, ins.Line, ins.Cmd + " before the first FROM: only ARG may come before FROM"}
		}
		f.Args = append(f.Args, ins)
	default:
		st := &f.Stages[len(f.Stages)-1]
		st.Steps = append(st.Steps, ins)
	}
	return nil
}

func parseInstruction(text string, line int, file string) (Instruction, error) {
	var cmd, rest string
	if i := strings.IndexFunc(text, unicode.IsSpace); i >= 0 {
		cmd, rest = text[:i], strings.TrimSpace(text[i:])
	} else {
		cmd, rest = text, ""
	}
	ins := Instruction{Line: line, Cmd: strings.ToUpper(cmd), Flags: map[string]string{}, Raw: rest}
	if !supported[ins.Cmd] {
		return ins, &Error{file, line, fmt.Sprintf("%s is not supported without a container: this Dockerfile needs a real container build (docker build); lambdapack builds FROM, ARG, ENV, WORKDIR, COPY, ADD, RUN pip install, CMD, ENTRYPOINT and LABEL", ins.Cmd)}
	}
	// Flags come first for FROM, COPY, ADD and RUN.
	if ins.Cmd == "FROM" || ins.Cmd == "COPY" || ins.Cmd == "ADD" || ins.Cmd == "RUN" {
		for strings.HasPrefix(rest, "--") {
			word, after, _ := strings.Cut(rest, " ")
			k, v, _ := strings.Cut(strings.TrimPrefix(word, "--"), "=")
			ins.Flags[k] = v
			rest = strings.TrimSpace(after)
		}
	}
	ins.Raw = rest
	if strings.HasPrefix(rest, "[") && (ins.Cmd == "CMD" || ins.Cmd == "ENTRYPOINT" || ins.Cmd == "RUN" || ins.Cmd == "COPY" || ins.Cmd == "ADD") {
		var arr []string
		if err := json.Unmarshal([]byte(rest), &arr); err == nil {
			ins.Args, ins.JSON = arr, true
			return ins, nil
		}
	}
	words, err := splitWords(rest)
	if err != nil {
		return ins, &Error{file, line, err.Error()}
	}
	ins.Args = words
	return ins, nil
}

// splitWords splits on white space, keeping quoted strings (quotes
// removed) and backslash escapes.
func splitWords(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	in := false
	var quote rune
	for _, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
			in = true
		case r == '"' || r == '\'':
			quote, in = r, true
		case unicode.IsSpace(r):
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if quote != 0 {
		return nil, errors.New("unterminated quote")
	}
	if in {
		out = append(out, cur.String())
	}
	return out, nil
}

// Stage returns the stage named target, or the last stage when target is "".
func (f *File) Stage(target string) (*Stage, error) {
	if target == "" {
		return &f.Stages[len(f.Stages)-1], nil
	}
	for i := range f.Stages {
		if f.Stages[i].Name == strings.ToLower(target) {
			return &f.Stages[i], nil
		}
	}
	var names []string
	for _, s := range f.Stages {
		if s.Name != "" {
			names = append(names, s.Name)
		}
	}
	return nil, fmt.Errorf("%s has no stage %q (it has %v)", f.Name, target, names)
}

// Expand substitutes $VAR, ${VAR}, ${VAR:-default} and ${VAR:+alt} from
// vars; an unknown variable expands to "".
func Expand(s string, vars map[string]string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) && s[i+1] == '$' {
			b.WriteByte('$')
			i++
			continue
		}
		if c != '$' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		if s[i+1] == '{' {
			end, depth := -1, 0
			for k := i + 1; k < len(s); k++ {
				if s[k] == '{' {
					depth++
				} else if s[k] == '}' {
					if depth--; depth == 0 {
						end = k - i
						break
					}
				}
			}
			if end < 0 {
				b.WriteString(s[i:])
				break
			}
			expr := s[i+2 : i+end]
			i += end
			name, word, op := expr, "", ""
			if j := strings.Index(expr, ":-"); j >= 0 {
				name, word, op = expr[:j], expr[j+2:], "-"
			} else if j := strings.Index(expr, ":+"); j >= 0 {
				name, word, op = expr[:j], expr[j+2:], "+"
			}
			v, ok := vars[name]
			switch op {
			case "-":
				if !ok || v == "" {
					v = Expand(word, vars)
				}
			case "+":
				if ok && v != "" {
					v = Expand(word, vars)
				} else {
					v = ""
				}
			}
			b.WriteString(v)
			continue
		}
		j := i + 1
		for j < len(s) && (s[j] == '_' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || j > i+1 && s[j] >= '0' && s[j] <= '9') {
			j++
		}
		if j == i+1 {
			b.WriteByte(c)
			continue
		}
		b.WriteString(vars[s[i+1:j]])
		i = j - 1
	}
	return b.String()
}

// KeyValues reads ENV/ARG/LABEL arguments: KEY=VALUE pairs, or the legacy
// "KEY VALUE" form of ENV (one pair, the rest of the line its value).
func KeyValues(ins Instruction) ([][2]string, error) {
	if len(ins.Args) == 0 {
		return nil, fmt.Errorf("line %d: %s needs KEY=VALUE", ins.Line, ins.Cmd)
	}
	if !strings.Contains(ins.Args[0], "=") {
		if ins.Cmd == "ARG" {
			return [][2]string{{ins.Args[0], "\x00"}}, nil // declared, no default
		}
		if len(ins.Args) < 2 {
			return nil, fmt.Errorf("line %d: %s %s needs a value", ins.Line, ins.Cmd, ins.Args[0])
		}
		_, rest, _ := strings.Cut(ins.Raw, ins.Args[0])
		return [][2]string{{ins.Args[0], strings.TrimSpace(rest)}}, nil
	}
	var out [][2]string
	for _, a := range ins.Args {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("line %d: %s: %q is not KEY=VALUE", ins.Line, ins.Cmd, a)
		}
		out = append(out, [2]string{k, v})
	}
	return out, nil
}
