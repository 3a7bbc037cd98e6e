package pep508

import (
	"errors"
	"slices"
	"testing"
)

// Values packaging cannot print back (it raises or prints them raw) print
// here with Python escapes and parse back to the same value.
func TestQuoteValueRoundTrip(t *testing.T) {
	for _, v := range []string{`a"b'c`, `C:\x`, "line\nbreak", "cr\rhere", "nul\x00", `\`, `'"`, "plain", `it's`, `say "hi"`} {
		m, err := ParseMarker("os_name == " + quoteValue(v))
		if err != nil {
			t.Errorf("value %q printed as %s does not parse: %v", v, quoteValue(v), err)
			continue
		}
		if got := m.list[0].item.rhs.value; got != v {
			t.Errorf("value %q printed as %s parses back as %q", v, quoteValue(v), got)
		}
		if !m.Evaluate(Environment{"os_name": v}) {
			t.Errorf("os_name == %s is false where os_name is %q", quoteValue(v), v)
		}
	}
}

func TestParseErrorFormat(t *testing.T) {
	_, err := ParseRequirement("name >= 1.0 #")
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("got %v, want *ParseError", err)
	}
	if pe.Pos != 12 || pe.Start != 5 || pe.Input != "name >= 1.0 #" {
		t.Errorf("got Start %d Pos %d Input %q", pe.Start, pe.Pos, pe.Input)
	}
	want := "Expected comma (within version specifier), semicolon (after version specifier) or end\n    name >= 1.0 #\n         ~~~~~~~^"
	if err.Error() != want {
		t.Errorf("Error() =\n%s\nwant\n%s", err, want)
	}
	// Columns count characters, not bytes.
	_, err = ParseMarker("os_name == 'é' and")
	if !errors.As(err, &pe) || pe.Pos != 18 {
		t.Errorf("got %v (Pos %d), want a ParseError at column 18", err, pe.Pos)
	}
	_, err = ParseMarker("os_name == '\xff'")
	if !errors.As(err, &pe) || pe.Pos != 12 {
		t.Errorf("invalid UTF-8: got %v", err)
	}
}

func TestEvaluateNilAndErrors(t *testing.T) {
	var m *Marker
	if !m.Evaluate(nil) || m.String() != "" {
		t.Error("a nil marker must be true and print empty")
	}
	if ok, err := m.EvaluateLockFile(nil, nil, nil); !ok || err != nil {
		t.Error("a nil marker must be true in a lock file")
	}
	u := MustParseMarker("platform_machine ~= 'x86_64'")
	if u.Evaluate(Environment{"platform_machine": "x86_64"}) {
		t.Error("an undefined comparison must evaluate false")
	}
	missing := MustParseMarker("sys_platform == 'linux'")
	if _, err := missing.EvaluateErr(Environment{}); err == nil {
		t.Error("a missing variable must be an error")
	}
	if missing.Evaluate(Environment{}) {
		t.Error("a missing variable must evaluate false")
	}
}

func TestAndOrNil(t *testing.T) {
	a := MustParseMarker("os_name == 'posix'")
	if And(nil, a) != a || And(a, nil) != a || Or(nil, a) != nil || Or(a, nil) != nil {
		t.Error("nil is the always-true marker")
	}
	b := MustParseMarker("python_version < '3' or sys_platform == 'win32'")
	if got, want := And(a, b).String(), `os_name == "posix" and (python_version < "3" or sys_platform == "win32")`; got != want {
		t.Errorf("And = %q, want %q", got, want)
	}
	if got, want := Or(a, b).String(), `os_name == "posix" or (python_version < "3" or sys_platform == "win32")`; got != want {
		t.Errorf("Or = %q, want %q", got, want)
	}
}

func TestVariables(t *testing.T) {
	m := MustParseMarker(`os.name == "posix" and ("3.9" <= python_version or extra == "x") and python_implementation != "PyPy"`)
	want := []string{"extra", "os_name", "platform_python_implementation", "python_version"}
	if got := m.Variables(); !slices.Equal(got, want) {
		t.Errorf("Variables = %q, want %q", got, want)
	}
}

func TestRequirementExamples(t *testing.T) {
	for in, want := range map[string]string{
		"Requests [Socks , security] ( >=2.8.1 , <3 ) ; python_version>='3.8'": `Requests[Socks,security]<3,>=2.8.1; python_version >= "3.8"`,
		"pkg @ https://h/p-1.0-py3-none-any.whl ; extra == 'Foo.Bar'":          `pkg @ https://h/p-1.0-py3-none-any.whl ; extra == "foo-bar"`,
		"zope.interface (>3.5.0)": "zope.interface>3.5.0",
		"x[b,a,b]":                "x[a,b]",
	} {
		r, err := ParseRequirement(in)
		if err != nil {
			t.Errorf("ParseRequirement(%q): %v", in, err)
			continue
		}
		if r.String() != want {
			t.Errorf("ParseRequirement(%q).String() = %q, want %q", in, r.String(), want)
		}
	}
}
