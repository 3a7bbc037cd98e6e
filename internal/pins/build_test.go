package pins_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lambdapack/lambdapack/internal/pins"
	"github.com/lambdapack/lambdapack/internal/target"
)

// TestRefuse: a refused file is never pinned again for that target (the
// memo does not hand back the old answer); other targets keep it.
func TestRefuse(t *testing.T) {
	_, p, _ := setup(t)
	ctx := context.Background()
	in := pins.Inputs{Requirements: []string{"app"}}
	tg := py312(t)
	lib := func(s *pins.Set) pins.Pin {
		for _, pin := range s.Pins {
			if pin.Name == "lib" {
				return pin
			}
		}
		t.Fatalf("no lib in %+v", s.Pins)
		return pins.Pin{}
	}
	s, err := p.Pin(ctx, tg, in)
	if err != nil {
		t.Fatal(err)
	}
	bin := lib(s).File.Filename
	if !strings.Contains(bin, "manylinux") {
		t.Fatalf("pinned %s", bin)
	}
	p.Refuse(tg, bin, "missing-library: libfoo.so.1")
	s, err = p.Pin(ctx, tg, in)
	if err != nil {
		t.Fatal(err)
	}
	if got := lib(s).File.Filename; got != "lib-1.0-py3-none-any.whl" {
		t.Errorf("after the refusal: %s", got)
	}
	if !strings.Contains(strings.Join(s.Notes, "\n"), "lib 1.0: "+bin+" was refused (missing-library: libfoo.so.1); using lib-1.0-py3-none-any.whl") {
		t.Errorf("notes %q", s.Notes)
	}
	other, err := target.Custom("3.12", "2.36", "x86_64")
	if err != nil {
		t.Fatal(err)
	}
	o, err := p.Pin(ctx, other, in)
	if err != nil || lib(o).File.Filename != bin {
		t.Fatalf("another target still takes %s: %v %+v", bin, err, o)
	}
	if s, err = p.Pin(ctx, tg, pins.Inputs{Requirements: []string{"lib"}}); err != nil || lib(s).File.Filename != "lib-1.0-py3-none-any.whl" {
		t.Errorf("the refusal holds for the same target whatever the inputs: %v %+v", err, s)
	}
}

// TestLockSdistNotBuilt: a lock that records only an sdist is refused
// under --no-build and --only-binary, naming the package and the flag.
func TestLockSdistNotBuilt(t *testing.T) {
	dir := t.TempDir()
	lockPath := filepath.Join(dir, "pylock.toml")
	os.WriteFile(lockPath, []byte(`lock-version = "1.0"
created-by = "test"

[[packages]]
name = "solo"
version = "1.0"

[packages.sdist]
name = "solo-1.0.tar.gz"
url = "https://example.invalid/solo-1.0.tar.gz"
hashes = {sha256 = "`+strings.Repeat("ab", 32)+`"}
`), 0o644)
	for _, c := range []struct {
		b    pins.BuildOptions
		want string
	}{
		{pins.BuildOptions{NoBuild: true}, "solo 1.0 has only a source distribution in the lock (solo-1.0.tar.gz), and --no-build rules out building it"},
		{pins.BuildOptions{OnlyBinary: []string{"Solo"}}, "--only-binary rules out building it"},
		{pins.BuildOptions{OnlyBinary: []string{":all:"}}, "--only-binary rules out building it"},
	} {
		p := pins.New(pins.Options{Cache: nil, Build: c.b})
		_, err := p.Pin(context.Background(), py312(t), pins.Inputs{Lock: lockPath})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: got %v", c.b, err)
		}
	}
}
