package lock

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func sample() *Lock {
	return &Lock{
		LockVersion:    "1.0",
		CreatedBy:      "lambdapack",
		RequiresPython: "==3.12.*",
		Environments:   []string{`platform_machine == "aarch64" and sys_platform == "linux"`},
		Packages: []Package{
			{
				Name: "attrs", Version: "25.1.0", RequiresPython: ">=3.8",
				Index: "https://index.example/simple",
				Wheels: []File{{
					Name: "attrs-25.1.0-py3-none-any.whl", URL: "https://files.example/attrs-25.1.0-py3-none-any.whl",
					Size: 63152, UploadTime: time.Date(2025, 1, 25, 11, 30, 10, 164985000, time.UTC),
					Hashes: map[string]string{"sha256": "c75a69e28a550a7e93789579c22aa26b0f5b83b75dc4e08fe092980051e1090a"},
				}},
			},
			{
				Name: "cattrs", Version: "24.1.2",
				Dependencies: []Dependency{{Name: "attrs"}},
				Wheels: []File{{
					Name: "cattrs-24.1.2-py3-none-any.whl", Path: "wheels/cattrs-24.1.2-py3-none-any.whl",
					Hashes: map[string]string{"sha256": "67c7495b760168d931a10233f979b28dc04daf853b30752246f4f8471c6d68d0"},
				}},
				Tool: map[string]any{"lambdapack": map[string]any{"tag": "py3-none-any"}},
			},
		},
	}
}

func TestPylockRoundTrip(t *testing.T) {
	var b bytes.Buffer
	if err := WritePylock(&b, sample()); err != nil {
		t.Fatal(err)
	}
	got, err := ReadPylock(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatalf("reading what WritePylock wrote: %v\n%s", err, b.String())
	}
	want := sample()
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
		t.Fatalf("round trip (-want +got):\n%s\n%s", diff, b.String())
	}
	// Deterministic: writing again gives the same bytes.
	var b2 bytes.Buffer
	if err := WritePylock(&b2, got); err != nil {
		t.Fatal(err)
	}
	if b.String() != b2.String() {
		t.Fatalf("second write differs:\n%s\n---\n%s", b.String(), b2.String())
	}
	for _, want := range []string{`lock-version = "1.0"`, "[[packages.wheels]]", `upload-time = 2025-01-25T11:30:10.164985Z`, `hashes = {sha256 = "c75a`, `dependencies = [`} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, b.String())
		}
	}
}

func TestPylockWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "pylock.toml")
	if err := WritePylockFile(p, sample()); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadPylockFile(p); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("temporary files left behind: %v", ents)
	}
}

// TestPylockExamples reads the PEP 751 examples of the conformance folder:
// the valid ones parse, the invalid one is rejected.
func TestPylockExamples(t *testing.T) {
	dir := filepath.Join("testdata", "pylock")
	files, err := filepath.Glob(filepath.Join(dir, "*.toml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no pylock examples in %s (%v)", dir, err)
	}
	// pip-pylock.invalid.toml lacks lock-version. pip-pylock.invalidhash.toml
	// is well-formed: its hash does not match the file it names, which is
	// an install-time check, not a format error.
	invalid := map[string]string{"pip-pylock.invalid.toml": "Missing required value in 'lock-version'"}
	for _, f := range files {
		base := filepath.Base(f)
		l, err := ReadPylockFile(f)
		if want, bad := invalid[base]; bad {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s: got %v, want an error containing %q", base, err, want)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", base, err)
			continue
		}
		if len(l.Packages) == 0 {
			t.Errorf("%s: no packages read", base)
		}
		// What we read, we write and read back the same.
		var b bytes.Buffer
		if err := WritePylock(&b, l); err != nil {
			t.Fatal(err)
		}
		l2, err := ReadPylock(&b)
		if err != nil {
			t.Errorf("%s: re-reading our own output: %v\n%s", base, err, b.String())
			continue
		}
		if diff := cmp.Diff(l, l2, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
			t.Errorf("%s: write/read changed the lock (-want +got):\n%s", base, diff)
		}
	}
}

// TestPylockValidationVectors replays packaging's pylock validation tests
// (testdata/packaging/test_pylock.json): the same documents are rejected
// with the same messages.
func TestPylockValidationVectors(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "packaging", "test_pylock.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Tests []struct {
			Test        string `json:"test"`
			BodyVectors []struct {
				Kind  string `json:"kind"`
				Func  string `json:"func"`
				Args  []any  `json:"args"`
				Left  string `json:"left"`
				Value any    `json:"value"`
			} `json:"body_vectors"`
		} `json:"tests"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	ran := 0
	for _, tc := range f.Tests {
		var doc map[string]any
		want := ""
		for _, bv := range tc.BodyVectors {
			if bv.Kind == "call" && bv.Func == "Pylock.from_dict" && len(bv.Args) == 1 {
				doc, _ = bv.Args[0].(map[string]any)
			}
			if bv.Kind == "compare" && strings.Contains(bv.Left, "exc_info.value") {
				want, _ = bv.Value.(string)
			}
		}
		if doc == nil || want == "" {
			continue
		}
		ran++
		_, err := FromDict(fromJSON(doc).(map[string]any))
		var ve *ValidationError
		switch {
		case err == nil:
			t.Errorf("%s: accepted, want %q", tc.Test, want)
		case !errors.As(err, &ve):
			t.Errorf("%s: %v, want a ValidationError %q", tc.Test, err, want)
		case strings.Contains(want, "\n"):
			// Marker errors: the caret display comes from pep508.
			first := strings.SplitN(want, "\n", 2)[0]
			if !strings.Contains(err.Error(), first) || !strings.HasSuffix(err.Error(), strings.TrimSpace(want[strings.LastIndex(want, " in "):])) {
				t.Errorf("%s: got %q, want %q", tc.Test, err, want)
			}
		case err.Error() != want:
			t.Errorf("%s: got %q, want %q", tc.Test, err, want)
		}
	}
	if ran < 15 {
		t.Fatalf("only %d validation vectors ran", ran)
	}
	t.Logf("%d packaging pylock validation vectors", ran)
}

// fromJSON turns JSON numbers into the int64 TOML decoding gives for
// integer fields (JSON cannot tell 1.0 from 1; the vectors use a float only
// for lock-version).
func fromJSON(v any) any { return fromJSONKey("", v) }

func fromJSONKey(key string, v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			out[k] = fromJSONKey(k, e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = fromJSONKey(key, e)
		}
		return out
	case float64:
		if key != "lock-version" && x == float64(int64(x)) {
			return int64(x)
		}
	}
	return v
}

func TestPylockUnsupportedVersion(t *testing.T) {
	for _, v := range []string{"0.9", "2", "2.0", "2.1"} {
		_, err := FromDict(map[string]any{"lock-version": v, "created-by": "x", "packages": []any{}})
		if !errors.Is(err, ErrUnsupportedVersion) {
			t.Errorf("lock-version %s: %v, want ErrUnsupportedVersion", v, err)
		}
	}
	for _, v := range []string{"1.0", "1.1"} {
		if _, err := FromDict(map[string]any{"lock-version": v, "created-by": "x", "packages": []any{}}); err != nil {
			t.Errorf("lock-version %s: %v", v, err)
		}
	}
}

func TestPylockFileName(t *testing.T) {
	for name, want := range map[string]bool{"pylock.toml": true, "pylock.spam.toml": true, "pylock.json": false, "pylock..toml": false} {
		if got := PylockFileName(name); got != want {
			t.Errorf("PylockFileName(%q) = %v, want %v", name, got, want)
		}
	}
}

// Writing to a pipe (or a device such as /dev/stdout) must not replace it
// with a file.
func TestPylockWriteFileDevice(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "pipe")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte)
	go func() {
		b, _ := os.ReadFile(fifo)
		got <- b
	}()
	if err := WritePylockFile(fifo, sample()); err != nil {
		t.Fatal(err)
	}
	if b := <-got; !bytes.Contains(b, []byte(`lock-version = "1.0"`)) {
		t.Fatalf("the pipe got %q", b)
	}
	st, err := os.Lstat(fifo)
	if err != nil || st.Mode()&os.ModeNamedPipe == 0 {
		t.Fatalf("%s is now %v (%v)", fifo, st.Mode(), err)
	}
}
