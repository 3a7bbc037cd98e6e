package pep440

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParseSpellings(t *testing.T) {
	for _, c := range [][2]string{
		{"1.0a.", "1.0a0"}, {"1.0.post.", "1.0.post0"}, {"1.0-dev-", "1.0.dev0"},
		{"1.2+01.007", "1.2+1.7"}, {"1.0+A-b_C", "1.0+a.b.c"}, {"V1.0", "1.0"},
		{"1.0.0.0.0a-1", "1.0.0.0.0a1"}, {"0100!0.0", "100!0.0"}, {"1.0-5", "1.0.post5"},
		{"1.0a.post1", "1.0a0.post1"}, {" 1.0\n", "1.0"},
	} {
		v, err := Parse(c[0])
		if err != nil || v.String() != c[1] {
			t.Errorf("Parse(%q) = %v, %v; want %s", c[0], v, err, c[1])
		}
	}
	for _, s := range []string{"", "1.0-", "1!", "v", "1..0", "1.0+", "1.0+a+", "99999999999999999999"} {
		if v, err := Parse(s); err == nil {
			t.Errorf("Parse(%q) = %v, want an error", s, v)
		}
	}
}

func TestZeroValues(t *testing.T) {
	var v Version
	if v.String() != "0" || !v.Equal(MustParse("0.0")) {
		t.Errorf("zero Version = %q", v)
	}
	var s SpecifierSet
	if !s.IsEmpty() || s.String() != "" || !s.Contains(MustParse("1.0a1"), PrereleaseDefault) {
		t.Errorf("zero SpecifierSet misbehaves")
	}
	if got := s.Filter([]Version{MustParse("1.0a1"), MustParse("0.9")}, PrereleaseDefault); len(got) != 1 || got[0].String() != "0.9" {
		t.Errorf("empty set Filter = %v", got)
	}
}

func TestReleaseIsACopy(t *testing.T) {
	v := MustParse("1.2.3")
	r := v.Release()
	r[0] = 9
	if v.String() != "1.2.3" {
		t.Fatalf("Release() aliases the version: %s", v)
	}
}

func TestSortVersions(t *testing.T) {
	in := []string{"1.0", "1.0.post1", "1.0a1", "1.0.dev0", "0.9+local", "1!0.1", "1.0+abc", "1.0.0"}
	vs := make([]Version, len(in))
	for i, s := range in {
		vs[i] = MustParse(s)
	}
	slices.SortStableFunc(vs, Version.Compare)
	var got []string
	for _, v := range vs {
		got = append(got, v.String())
	}
	want := []string{"0.9+local", "1.0.dev0", "1.0a1", "1.0", "1.0.0", "1.0+abc", "1.0.post1", "1!0.1"}
	if !slices.Equal(got, want) {
		t.Errorf("sorted = %v, want %v", got, want)
	}
}

func TestAndConflictIsConservative(t *testing.T) {
	a := MustParseSpecifierSet(">=1").WithPrereleases(PrereleaseAllow)
	b := MustParseSpecifierSet("<2").WithPrereleases(PrereleaseDeny)
	if _, err := a.Intersect(b); err == nil {
		t.Fatal("Intersect: no conflict error")
	}
	c := a.And(b)
	if c.String() != "<2,>=1" || c.Contains(MustParse("1.5a1"), PrereleaseDefault) {
		t.Errorf("And = %s (override %v)", c, c.PrereleaseOverride())
	}
}

func TestErrorsSayWhat(t *testing.T) {
	_, err := ParseSpecifierSet(">=1.0, =>2")
	if err == nil || !containsAll(err.Error(), ">=1.0, =>2", "=>2", "operator") {
		t.Errorf("error = %v", err)
	}
	_, err = Parse("1.0+")
	if err == nil || !containsAll(err.Error(), `"1.0+"`, "PEP 440") {
		t.Errorf("error = %v", err)
	}
}

// TestArbitraryNeedsAVersion: packaging 26.4 rejects "===" with nothing
// after it (its regex wants [^\s;)]+); so does this package, whether or not
// a Python oracle is on the machine.
func TestArbitraryNeedsAVersion(t *testing.T) {
	for _, s := range []string{"===", "=== ", "===\t", ">=1.0,==="} {
		if set, err := ParseSpecifierSet(s); err == nil {
			t.Errorf("ParseSpecifierSet(%q) = %q, want an error", s, set)
		} else if !errors.Is(err, ErrInvalidSpecifier) || !strings.Contains(err.Error(), "===") {
			t.Errorf("ParseSpecifierSet(%q): %v", s, err)
		}
	}
	for _, s := range []string{"===foo", "=== foo", "===1.0"} {
		if _, err := ParseSpecifierSet(s); err != nil {
			t.Errorf("ParseSpecifierSet(%q): %v", s, err)
		}
	}
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

func TestCompareDoesNotAllocate(t *testing.T) {
	a, b := MustParse("1.2.3rc1.post2.dev3+abc.5"), MustParse("1.2.3rc1.post2.dev3+abc.06")
	set := MustParseSpecifierSet(">=1.0,!=1.2.*,<2,~=1.1")
	v := MustParse("1.5.0")
	n := testing.AllocsPerRun(1000, func() {
		_ = a.Compare(b)
		_ = set.Contains(v, PrereleaseDefault)
	})
	if n != 0 {
		t.Errorf("Compare/Contains allocate %v times per run", n)
	}
}

func FuzzParseVersion(f *testing.F) {
	for _, s := range []string{"1.0", "1!2.0a1.post3.dev4+loc.5", "v1.0-5", " 1.0RC1 ", "1.0+A-b_C", "0100!0.0", "1..0", "1.0a.post", "99999999999999999999", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := Parse(s)
		if err != nil {
			return
		}
		out := v.String()
		w, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(%q) printed %q, which does not parse: %v", s, out, err)
		}
		if !w.Equal(v) || w.String() != out || w.Local() != v.Local() {
			t.Fatalf("Parse(%q) = %q, reparsed as %q", s, out, w)
		}
		if v.Compare(w) != 0 || w.Compare(v) != 0 {
			t.Fatalf("Compare not symmetric on %q", out)
		}
	})
}

func FuzzParseSpecifierSet(f *testing.F) {
	for _, s := range []string{">=1.0,<2", "~=1.4.2, !=1.4.5", "==1.*", "!=2.0+local", "===foobar", " , ,>1.0.post1", "<1.0.dev1,>0", "== 1.0", "~=1"} {
		f.Add(s, "1.4.3")
	}
	f.Fuzz(func(t *testing.T, s, ver string) {
		set, err := ParseSpecifierSet(s)
		if err != nil {
			return
		}
		out := set.String()
		again, err := ParseSpecifierSet(out)
		if err != nil {
			t.Fatalf("ParseSpecifierSet(%q) printed %q, which does not parse: %v", s, out, err)
		}
		if !again.Equal(set) || again.String() != out {
			t.Fatalf("ParseSpecifierSet(%q) = %q, reparsed as %q", s, out, again.String())
		}
		_ = set.IsUnsatisfiable()
		v, err := Parse(ver)
		if err != nil {
			_ = set.ContainsString(ver, PrereleaseDefault)
			return
		}
		for _, p := range []Prerelease{PrereleaseDefault, PrereleaseAllow, PrereleaseDeny} {
			if set.Contains(v, p) != again.Contains(v, p) {
				t.Fatalf("%q and its print %q disagree on %s", s, out, v)
			}
		}
		if set.Contains(v, PrereleaseAllow) && set.IsUnsatisfiable() {
			t.Fatalf("%q contains %s but claims to be unsatisfiable", s, v)
		}
	})
}

var sink int

func BenchmarkParseVersion(b *testing.B) {
	in := []string{"1.2.3", "2!1.0rc1.post2.dev3+ubuntu.1", "v1.0-5", "20.3.4", "1.0a1"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		v, err := Parse(in[i%len(in)])
		if err != nil {
			b.Fatal(err)
		}
		sink += v.epoch
	}
}

func BenchmarkCompare(b *testing.B) {
	x, y := MustParse("1.2.3rc1.post2"), MustParse("1.2.3.0rc1.post2.dev1")
	b.ReportAllocs()
	for b.Loop() {
		sink += x.Compare(y)
	}
}

func BenchmarkSpecifierSetContains(b *testing.B) {
	set := MustParseSpecifierSet(">=3.8,!=3.9.*,!=3.10.0,!=3.10.1,~=3.10.2,<3.14")
	vs := []Version{MustParse("3.10.5"), MustParse("3.9.1"), MustParse("3.13.0rc1"), MustParse("3.12.0")}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if set.Contains(vs[i%len(vs)], PrereleaseDefault) {
			sink++
		}
	}
}

func TestTextMarshalling(t *testing.T) {
	type doc struct {
		V Version      `json:"v"`
		S SpecifierSet `json:"s"`
	}
	in := doc{V: MustParse("1.0RC1"), S: MustParseSpecifierSet(">=1.0, <2")}
	var buf strings.Builder
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(in); err != nil {
		t.Fatal(err)
	}
	b := []byte(strings.TrimSpace(buf.String()))
	if string(b) != `{"v":"1.0rc1","s":"<2,>=1.0"}` {
		t.Fatalf("marshalled %s", b)
	}
	var out doc
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if !out.V.Equal(in.V) || !out.S.Equal(in.S) {
		t.Fatalf("round trip: %+v", out)
	}
	if err := json.Unmarshal([]byte(`{"v":"nope"}`), &out); err == nil {
		t.Fatal("bad version unmarshalled")
	}
}

// The rows of packaging's test_canonicalize_version that are versions.
func TestCanonical(t *testing.T) {
	for _, c := range [][2]string{
		{"1.4.0", "1.4"}, {"1.40.0", "1.40"}, {"1.4.0.0.00.000.0000", "1.4"}, {"1.0", "1"},
		{"1.0+abc", "1+abc"}, {"1.0.dev0", "1.dev0"}, {"1.0.post0", "1.post0"}, {"1.0a0", "1a0"},
		{"1.0rc0", "1rc0"}, {"100!0.0", "100!0"}, {"0", "0"}, {"0.0.0", "0"},
	} {
		if got := MustParse(c[0]).Canonical(); got != c[1] {
			t.Errorf("Canonical(%s) = %q, want %q", c[0], got, c[1])
		}
	}
}
