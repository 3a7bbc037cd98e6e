package install

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lambdapack/lambdapack/internal/metadata"
	"github.com/lambdapack/lambdapack/internal/testutil"
)

func parseMeta(t *testing.T, text string) *metadata.Metadata {
	t.Helper()
	md, err := metadata.Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return md
}

// A wheel is installed only when its own METADATA declares the
// dependencies resolution used (the PEP 658 file it was resolved from).
func TestResolvedMetadataMustMatchTheWheel(t *testing.T) {
	w := testutil.Wheel{Name: "app", Version: "1.0", RequiresDist: []string{"dep>=1", "extra-dep; extra == 'fast'"}, ProvidesExtra: []string{"fast"},
		RequiresPython: ">=3.9", Files: map[string][]byte{"app/__init__.py": []byte("import dep\n")}}
	path := filepath.Join(t.TempDir(), w.Filename())
	if err := os.WriteFile(path, w.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	from := "the index's metadata file http://127.0.0.1/files/" + w.Filename() + ".metadata"

	// The same fields written differently (order, spacing, name spelling,
	// extra case): the same metadata.
	same := "Metadata-Version: 2.1\nName: app\nVersion: 1.0\nRequires-Python: >= 3.9\nProvides-Extra: Fast\n" +
		"Requires-Dist: extra-dep ; extra == \"fast\"\nRequires-Dist: Dep >= 1\n"
	p, err := Build(context.Background(), []Wheel{{Path: path, Resolved: parseMeta(t, same), ResolvedFrom: from}}, Options{Layout: LayerLayout()})
	if err != nil {
		t.Fatalf("equivalent metadata refused: %v", err)
	}
	p.Close()

	// The metadata file leaves dep out: refused, naming the package, both
	// files and the difference.
	lying := "Metadata-Version: 2.1\nName: app\nVersion: 1.0\nRequires-Python: >=3.8\nProvides-Extra: fast\nRequires-Dist: extra-dep; extra == 'fast'\n"
	_, err = Build(context.Background(), []Wheel{{Path: path, Resolved: parseMeta(t, lying), ResolvedFrom: from}}, Options{Layout: LayerLayout()})
	var mm *MetadataMismatchError
	if !errors.As(err, &mm) {
		t.Fatalf("err = %v, want a MetadataMismatchError", err)
	}
	for _, want := range []string{"app 1.0", w.Filename(), "app-1.0.dist-info/METADATA", from,
		"Requires-Dist: dep>=1 is in the wheel's METADATA only", `Requires-Python: ">=3.8" in the resolver's metadata, ">=3.9" in the wheel's METADATA`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
	if len(mm.Diffs) != 2 {
		t.Errorf("diffs %q, want 2", mm.Diffs)
	}

	// A metadata file with a dependency the wheel lacks is as wrong.
	more := "Metadata-Version: 2.1\nName: app\nVersion: 1.0\nRequires-Python: >=3.9\nProvides-Extra: fast\nRequires-Dist: dep>=1\nRequires-Dist: extra-dep; extra == 'fast'\nRequires-Dist: urllib3<2\n"
	if _, err = Build(context.Background(), []Wheel{{Path: path, Resolved: parseMeta(t, more)}}, Options{Layout: LayerLayout()}); err == nil ||
		!strings.Contains(err.Error(), "urllib3<2 is in the resolver's metadata only") || !strings.Contains(err.Error(), "the metadata resolution read") {
		t.Fatalf("extra dependency: %v", err)
	}

	// No resolver metadata (a lock): nothing to compare.
	p, err = Build(context.Background(), []Wheel{{Path: path}}, Options{Layout: LayerLayout()})
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
}
