package pep440

import "testing"

func TestQuickSanity(t *testing.T) {
	for _, c := range [][2]string{{"1.0a.", "1.0a0"}, {"1.0.post.", "1.0.post0"}, {"1.0-dev-", "1.0.dev0"}, {"1.2+01.007", "1.2+1.7"}, {"1.0+A-b_C", "1.0+a.b.c"}, {"V1.0", "1.0"}, {"1.0.0.0.0a-1", "1.0.0.0.0a1"}, {"0100!0.0", "100!0.0"}, {"1.0-5", "1.0.post5"}} {
		v, err := Parse(c[0])
		if err != nil || v.String() != c[1] {
			t.Errorf("%q: %v %v", c[0], v, err)
		}
	}
	for _, s := range []string{"1.0-", "1!", "v", "1..0", "1.0+", "1.0+a+"} {
		if _, err := Parse(s); err == nil {
			t.Errorf("%q parsed", s)
		}
	}
}
