package lock

import (
	"strings"
	"testing"

	"github.com/lambdapack/lambdapack/internal/target"
)

func lockFor(t *testing.T, tool map[string]any, versions ...string) *Lock {
	t.Helper()
	l := &Lock{LockVersion: "1.0", CreatedBy: "lambdapack"}
	if tool != nil {
		l.Tool = map[string]any{"lambdapack": tool}
	}
	for i := 0; i+1 < len(versions); i += 2 {
		l.Packages = append(l.Packages, Package{Name: versions[i], Version: versions[i+1]})
	}
	return l
}

func toolOf(tg target.Target) map[string]any {
	return map[string]any{"target": tg.String(), "runtime": tg.Runtime, "architecture": string(tg.Arch), "python": tg.Python(), "glibc": tg.Glibc()}
}

func TestCheckReuse(t *testing.T) {
	must := func(tg target.Target, err error) target.Target {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return tg
	}
	py311 := must(target.New("python3.11", "x86_64"))
	py312 := must(target.New("python3.12", "x86_64"))
	py312arm := must(target.New("python3.12", "arm64"))
	custom311 := must(target.Custom("3.11", "2.36", "x86_64"))
	custom311al2 := must(target.Custom("3.11", "2.26", "x86_64"))

	cases := []struct {
		name   string
		lock   *Lock
		want   target.Target
		reuse  bool
		reason []string // substrings of Reason
	}{
		{"same runtime", lockFor(t, toolOf(py312), "numpy", "2.3.5"), py312, true, nil},
		{"another Python and glibc", lockFor(t, toolOf(py311), "numpy", "2.2.6"), py312, false,
			[]string{"python3.11/x86_64 (Python 3.11, glibc 2.26)", "Python 3.11, not 3.12", "glibc 2.26, not 2.34"}},
		{"another architecture", lockFor(t, toolOf(py312), "numpy", "2.3.5"), py312arm, false, []string{"x86_64, not arm64"}},
		{"same Python, another glibc", lockFor(t, toolOf(py311), "numpy", "2.2.6"), custom311, false, []string{"glibc 2.26, not 2.36"}},
		{"a custom target equal to a runtime", lockFor(t, toolOf(py311), "numpy", "2.2.6"), custom311al2, true, nil},
		{"patch-level Python and glibc written out", lockFor(t, map[string]any{"architecture": "x86_64", "python": "3.12.7", "glibc": "2.34.0"}, "numpy", "2.3.5"), py312, true, nil},
		{"architecture alias", lockFor(t, map[string]any{"architecture": "aarch64", "python": "3.12", "glibc": "2.34"}), py312arm, true, nil},
		{"no target recorded", lockFor(t, nil, "numpy", "2.3.5"), py312, false, []string{"records no lambdapack target (written by lambdapack)"}},
		{"incomplete target", lockFor(t, map[string]any{"runtime": "python3.12", "architecture": "x86_64"}), py312, false, []string{"records no lambdapack target"}},
		{"garbled glibc", lockFor(t, map[string]any{"architecture": "x86_64", "python": "3.12", "glibc": "new"}), py312, false, []string{"glibc new, not 2.34"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := CheckReuse(c.lock, c.want)
			if (r.Prefs != nil) != c.reuse {
				t.Fatalf("reuse = %v (%q), want %v", r.Prefs != nil, r.Reason, c.reuse)
			}
			if c.reuse && r.Reason != "" {
				t.Errorf("reused, yet reason %q", r.Reason)
			}
			for _, want := range c.reason {
				if !strings.Contains(r.Reason, want) {
					t.Errorf("reason %q lacks %q", r.Reason, want)
				}
			}
		})
	}

	// Another tool's lock: no target to compare.
	foreign := lockFor(t, nil, "numpy", "2.3.5")
	foreign.CreatedBy = "uv"
	if r := CheckReuse(foreign, py312); r.Prefs != nil || !strings.Contains(r.Reason, "written by uv") {
		t.Errorf("a uv lock: %+v", r)
	}
}

func TestReusePrefsAndNotes(t *testing.T) {
	py312, err := target.New("python3.12", "x86_64")
	if err != nil {
		t.Fatal(err)
	}
	l := lockFor(t, toolOf(py312), "NumPy", "2.3.5", "requests", "2.32.0", "local-thing", "", "six", "1.16")
	r := CheckReuse(l, py312)
	if len(r.Prefs) != 3 || r.Prefs["numpy"].String() != "2.3.5" || r.Prefs["six"].String() != "1.16" {
		t.Fatalf("prefs = %v; want numpy, requests and six by canonical name (a versionless entry has none)", r.Prefs)
	}
	note := r.Note("pylock.toml", map[string]string{"numpy": "2.3.5", "requests": "2.32.4", "six": "1.16.0", "idna": "3.10"})
	if want := "kept 2 of the 3 versions in pylock.toml where they still fit; -U upgrades them"; note != want {
		t.Errorf("note = %q, want %q", note, want)
	}

	py311, _ := target.New("python3.11", "x86_64")
	r = CheckReuse(lockFor(t, toolOf(py311), "numpy", "2.2.6"), py312)
	note = r.Note("app/pylock.toml", nil)
	if !strings.HasPrefix(note, "ignored the versions in app/pylock.toml: it was made for python3.11/x86_64") || !strings.Contains(note, "resolved afresh and replaced it, so it no longer holds the python3.11/x86_64 lock") {
		t.Errorf("note = %q", note)
	}
	if n := CheckReuse(lockFor(t, toolOf(py312)), py312).Note("pylock.toml", nil); n != "" {
		t.Errorf("an empty lock reused: note %q, want none", n)
	}
}

// TestReuseRoundTrip: the target BuildPylock-style writers record survives
// WritePylock and ReadPylock, so a lock written by lambdapack is recognised.
func TestReuseRoundTrip(t *testing.T) {
	py311, _ := target.New("python3.11", "arm64")
	l := lockFor(t, toolOf(py311))
	l.RequiresPython = "==3.11.*"
	l.Packages = []Package{{Name: "six", Version: "1.16.0", Wheels: []File{{Name: "six-1.16.0-py2.py3-none-any.whl", URL: "https://files.example/six-1.16.0-py2.py3-none-any.whl", Hashes: map[string]string{"sha256": strings.Repeat("a", 64)}}}}}
	var b strings.Builder
	if err := WritePylock(&b, l); err != nil {
		t.Fatal(err)
	}
	back, err := ReadPylock(strings.NewReader(b.String()))
	if err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	if r := CheckReuse(back, py311); r.Prefs == nil || r.Prefs["six"].String() != "1.16.0" {
		t.Errorf("round trip: %+v\n%s", r, b.String())
	}
}
