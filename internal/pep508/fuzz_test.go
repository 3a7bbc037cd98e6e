package pep508

import (
	"testing"
)

var fuzzSeeds = []string{
	"",
	"name",
	"name[extra1, extra2] (>=1.0, <2) ; python_version >= '3.8' and extra == 'Test_X'",
	"name @ https://host/x.whl ; sys_platform == \"linux\"",
	"name===arbitrary,>=1",
	"Name.With-Dots_and_underscores[a]==1.0.*",
	`demo; 'a" == os_name or python_version >= "0" or "b' == os_name`,
	`x; os_name == "C:\\x\\y" and '\x41' in platform_version`,
	`x; os.name == "posix" or (python_implementation != "PyPy" and "3.9" < python_full_version)`,
	`x; "foo" in extras and "dev" not in dependency_groups`,
	"x ; platform_release === 'a b'",
	"name~=1.4.5a4,!=1.4.6.*",
	"name; (python_version >= '3'",
	"name>=1\n",
	"näme",
	"name; os_name == '\u00e9\u2028'",
}

// FuzzParseRequirement checks that parsing never panics and that whatever
// parses prints to a string that parses to the same requirement and prints
// the same again.
func FuzzParseRequirement(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRequirement(s)
		if err != nil {
			_ = err.Error()
			return
		}
		out := r.String()
		r2, err := ParseRequirement(out)
		if err != nil {
			t.Fatalf("ParseRequirement(%q) printed %q, which does not parse: %v", s, out, err)
		}
		if out2 := r2.String(); out2 != out {
			t.Fatalf("ParseRequirement(%q) printed %q, which prints as %q", s, out, out2)
		}
		if !r.Equal(r2) {
			t.Fatalf("%q and its reparse %q are not Equal", s, out)
		}
	})
}

// FuzzParseMarker is FuzzParseRequirement for markers; it also evaluates
// both parses in a fixed environment.
func FuzzParseMarker(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
		if i := indexSemicolon(s); i >= 0 {
			f.Add(s[i+1:])
		}
	}
	e := Environment{
		"python_version": "3.12", "python_full_version": "3.12.4", "os_name": "posix",
		"sys_platform": "linux", "platform_machine": "aarch64", "platform_system": "Linux",
		"platform_release": "5.10.0", "platform_version": "#1 SMP",
		"platform_python_implementation": "CPython", "implementation_name": "cpython",
		"implementation_version": "3.12.4", "extra": "Test_X",
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMarker(s)
		if err != nil {
			_ = err.Error()
			return
		}
		out := m.String()
		m2, err := ParseMarker(out)
		if err != nil {
			t.Fatalf("ParseMarker(%q) printed %q, which does not parse: %v", s, out, err)
		}
		if out2 := m2.String(); out2 != out {
			t.Fatalf("ParseMarker(%q) printed %q, which prints as %q", s, out, out2)
		}
		v1, err1 := m.EvaluateErr(e)
		v2, err2 := m2.EvaluateErr(e)
		if v1 != v2 || (err1 == nil) != (err2 == nil) {
			t.Fatalf("%q evaluates to %v, %v but its reparse %q to %v, %v", s, v1, err1, out, v2, err2)
		}
		l1, lerr1 := m.EvaluateLockFile(e, []string{"a", "B_c"}, []string{"dev"})
		l2, lerr2 := m2.EvaluateLockFile(e, []string{"a", "B_c"}, []string{"dev"})
		if l1 != l2 || (lerr1 == nil) != (lerr2 == nil) {
			t.Fatalf("%q evaluates (lock file) to %v, %v but its reparse %q to %v, %v", s, l1, lerr1, out, l2, lerr2)
		}
	})
}

func indexSemicolon(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] == ';' {
			return i
		}
	}
	return -1
}
