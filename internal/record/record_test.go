package record

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRoundTrip(t *testing.T) {
	r := Record{Kind: KindLayer, Runtime: "python3.12", Runtimes: []string{"python3.13"}, Architecture: "arm64",
		Python: "3.12", RequirementsSHA256: "ab", Version: "0.1.0"}
	s, err := r.Format()
	if err != nil {
		t.Fatal(err)
	}
	want := `lambdapack: {"kind":"layer","runtime":"python3.12","runtimes":["python3.13"],"architecture":"arm64","python":"3.12","requirements_sha256":"ab","version":"0.1.0"}`
	if s != want {
		t.Fatalf("Format:\n got %s\nwant %s", s, want)
	}
	got, err := Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(r, got); diff != "" {
		t.Fatal(diff)
	}
	b, _ := r.JSON()
	if got, err := Parse(string(b)); err != nil || got.Kind != KindLayer {
		t.Fatalf("label form: %v %v", got, err)
	}
}

func TestParseOthers(t *testing.T) {
	for _, s := range []string{"", "made by zip 3.0", "lambdapack"} {
		if _, err := Parse(s); !errors.Is(err, ErrNone) {
			t.Errorf("Parse(%q) = %v, want ErrNone", s, err)
		}
	}
	if _, err := Parse(`lambdapack: {"kind":`); err == nil || errors.Is(err, ErrNone) {
		t.Errorf("damaged record: %v", err)
	}
	// An older record (no kind) still reads.
	r, err := Parse(`lambdapack:{"runtime":"python3.11","architecture":"x86_64","architectures":["arm64","x86_64"]}`)
	if err != nil || r.Kind != "" || !r.Pure() || r.CompatibleRuntimes()[0] != "python3.11" {
		t.Errorf("old record: %+v %v", r, err)
	}
}

func TestParseKindLayout(t *testing.T) {
	if k, err := ParseKind(" Layer "); err != nil || k != KindLayer {
		t.Errorf("ParseKind: %v %v", k, err)
	}
	if _, err := ParseKind("zip"); err == nil {
		t.Error("ParseKind(zip) accepted")
	}
	if l, err := ParseLayout(""); err != nil || l != LayoutPython {
		t.Errorf("ParseLayout empty: %v %v", l, err)
	}
	if _, err := ParseLayout("lib"); err == nil {
		t.Error("ParseLayout(lib) accepted")
	}
}

func TestInferKind(t *testing.T) {
	for _, c := range []struct {
		paths []string
		want  Kind
	}{
		{[]string{"python/", "python/requests/__init__.py", "python/requests-2.32.3.dist-info/METADATA", "bin/normalizer"}, KindLayer},
		{[]string{"python/lib/python3.12/site-packages/numpy/__init__.py"}, KindLayer},
		{[]string{"app.py", "requests/__init__.py", "requests-2.32.3.dist-info/METADATA"}, KindFunction},
		{[]string{"handler.py"}, KindFunction},
		{[]string{"pkg/__init__.py", "pkg/app.py"}, KindFunction},
		{[]string{"certifi-2024.2.2.dist-info/RECORD", "certifi/cacert.pem"}, KindFunction},
		// A layer of binaries, or an empty zip: unknown.
		{[]string{"bin/ffmpeg", "lib/libx.so"}, ""},
		{nil, ""},
		// Both: unknown, never a guess.
		{[]string{"app.py", "python/x.py"}, ""},
		// A folder entry named python/ alone says nothing.
		{[]string{"python/", "app.py"}, KindFunction},
	} {
		if got := InferKind(c.paths); got != c.want {
			t.Errorf("InferKind(%q) = %q, want %q", c.paths, got, c.want)
		}
	}
}
