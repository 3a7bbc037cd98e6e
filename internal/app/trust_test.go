package app

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lambdapack/lambdapack/internal/index"
	"github.com/lambdapack/lambdapack/internal/install"
	"github.com/lambdapack/lambdapack/internal/testutil"
)

// emptyDir fails the test when dir holds anything.
func emptyDir(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	for _, e := range ents {
		t.Errorf("%s holds %s", dir, e.Name())
	}
}

// A PEP 658 metadata file that leaves out a dependency of its wheel (its
// hash on the page matching what is served) resolves without it; the
// layer is refused when the wheel is installed, naming the package, both
// files and the difference, and nothing is written.
func TestLyingMetadataFileRefused(t *testing.T) {
	ix := testutil.StartIndex(t, testutil.IndexOptions{})
	app := testutil.Wheel{Name: "app", Version: "1.0", RequiresDist: []string{"dep>=1"}, Files: map[string][]byte{"app/__init__.py": []byte("import dep\n")}}
	ix.AddWheel(app, testutil.ServedMetadata("Metadata-Version: 2.1\nName: app\nVersion: 1.0\n"))
	ix.AddWheel(testutil.Wheel{Name: "dep", Version: "1.0", Files: map[string][]byte{"dep/__init__.py": []byte("\n")}})
	// A second package whose metadata file is honest installs as before.
	ix.AddWheel(testutil.Wheel{Name: "fine", Version: "1.0", RequiresDist: []string{"dep"}, Files: map[string][]byte{"fine/__init__.py": []byte("\n")}})

	env, err := OpenEnv(EnvOptions{CacheDir: t.TempDir(), Index: index.Settings{IndexURL: ix.URL}})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	outDir := t.TempDir()
	_, err = BuildArtifact(context.Background(), env, ArtifactOptions{Kind: KindLayer, Deps: Inputs{Requirements: []string{"app"}}, Runtime: "python3.12", Output: filepath.Join(outDir, "layer.zip")})
	var mm *install.MetadataMismatchError
	if !errors.As(err, &mm) {
		t.Fatalf("err = %v, want a MetadataMismatchError", err)
	}
	if ix.Hits("/files/"+app.Filename()+".metadata") == 0 {
		t.Fatal("the resolver did not use the metadata file: the test proves nothing")
	}
	for _, want := range []string{"app 1.0", app.Filename(), "app-1.0.dist-info/METADATA", ix.FileURL(app.Filename()) + ".metadata",
		"Requires-Dist: dep>=1 is in the wheel's METADATA only"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
	emptyDir(t, outDir)

	out := filepath.Join(outDir, "fine.zip")
	rep, err := BuildArtifact(context.Background(), env, ArtifactOptions{Kind: KindLayer, Deps: Inputs{Requirements: []string{"fine"}}, Runtime: "python3.12", Output: out})
	if err != nil || len(rep.Packages) != 2 {
		t.Fatalf("an honest metadata file: %+v %v", rep, err)
	}
}
