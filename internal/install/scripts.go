package install

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
)

// Shebang is the interpreter line written into scripts: Lambda's runtimes
// put python3 on PATH.
const Shebang = "#!/usr/bin/env python3"

// ReplaceShebang rewrites a script whose first line starts with "#!python"
// (PEP 427) to use interpreter, dropping the rest of that line as
// pypa/installer does. Other scripts are returned unchanged, with false.
func ReplaceShebang(data []byte, interpreter string) ([]byte, bool) {
	if !bytes.HasPrefix(data, []byte("#!python")) {
		return data, false
	}
	rest := []byte{}
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		rest = data[i+1:]
	}
	out := make([]byte, 0, len(interpreter)+1+len(rest))
	out = append(out, interpreter...)
	out = append(out, '\n')
	out = append(out, rest...)
	return out, true
}

// EntryPoint is a console or gui script from entry_points.txt.
type EntryPoint struct {
	Name, Module, Attr string
	Section            string // "console" or "gui"
}

// ParseEntryPoints reads the [console_scripts] and [gui_scripts] sections
// of an entry_points.txt (an INI file).
func ParseEntryPoints(text string) ([]EntryPoint, error) {
	var out []EntryPoint
	section := ""
	sc := bufio.NewScanner(strings.NewReader(text))
	for line := 1; sc.Scan(); line++ {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") || strings.HasPrefix(l, ";") {
			continue
		}
		if strings.HasPrefix(l, "[") && strings.HasSuffix(l, "]") {
			section = strings.TrimSpace(l[1 : len(l)-1])
			continue
		}
		var kind string
		switch section {
		case "console_scripts":
			kind = "console"
		case "gui_scripts":
			kind = "gui"
		default:
			continue
		}
		name, value, ok := strings.Cut(l, "=")
		if !ok {
			return nil, fmt.Errorf("entry_points.txt line %d: %q is not name = module:attr", line, l)
		}
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		// Drop extras ("module:attr [extra]").
		if i := strings.IndexByte(value, '['); i >= 0 {
			value = strings.TrimSpace(value[:i])
		}
		mod, attr, ok := strings.Cut(value, ":")
		mod, attr = strings.TrimSpace(mod), strings.TrimSpace(attr)
		if !ok || mod == "" || attr == "" || name == "" {
			return nil, fmt.Errorf("entry_points.txt line %d: %q is not name = module:attr", line, l)
		}
		out = append(out, EntryPoint{Name: name, Module: mod, Attr: attr, Section: kind})
	}
	return out, sc.Err()
}

// Launcher returns the script that runs an entry point, in the form
// pypa/installer writes for POSIX.
func (e EntryPoint) Launcher(interpreter string) []byte {
	importName, _, _ := strings.Cut(e.Attr, ".")
	return fmt.Appendf(nil, `%s
# -*- coding: utf-8 -*-
import re
import sys
from %s import %s
if __name__ == "__main__":
    sys.argv[0] = re.sub(r"(-script\.pyw|\.exe)?$", "", sys.argv[0])
    sys.exit(%s())
`, interpreter, e.Module, importName, e.Attr)
}
