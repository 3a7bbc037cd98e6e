package names

import "testing"

func TestCanonical(t *testing.T) {
	for in, want := range map[string]string{"Foo.Bar_baz--qux": "foo-bar-baz-qux", "typing_extensions": "typing-extensions", "A": "a"} {
		if got := Canonical(in); got != want {
			t.Errorf("Canonical(%q) = %q, want %q", in, got, want)
		}
	}
	if Valid("-bad") || !Valid("ok.name") || IsCanonical("Not") || !IsCanonical("yes-1") {
		t.Error("Valid/IsCanonical")
	}
}

func TestClosest(t *testing.T) {
	cands := []string{"requirements", "runtime", "layers"}
	if got := Closest("requirement", cands, 2); got != "requirements" {
		t.Errorf("got %q", got)
	}
	if got := Closest("zzzzzz", cands, 2); got != "" {
		t.Errorf("got %q, want none", got)
	}
}
