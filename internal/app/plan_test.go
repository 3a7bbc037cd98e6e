package app

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/lambdapack/lambdapack/internal/index"
	"github.com/lambdapack/lambdapack/internal/record"
	"github.com/lambdapack/lambdapack/internal/testutil"
	"github.com/lambdapack/lambdapack/internal/tree"
)

// peLauncher is the start of a Windows executable: MZ, e_lfanew, "PE\0\0".
func peLauncher() []byte {
	b := make([]byte, 0x80)
	copy(b, "MZ")
	b[0x3c] = 0x40
	copy(b[0x40:], "PE\x00\x00")
	return b
}

// Purity is decided from the files, not the wheel tags: an ELF file in a
// py3-none-any wheel makes a layer one-architecture; a platform-tagged
// wheel of Python files, or Windows launchers Linux never loads, do not.
func TestPurityFromContent(t *testing.T) {
	so := sharedObject(t, 0)
	ix := testutil.StartIndex(t, testutil.IndexOptions{})
	ix.AddWheel(testutil.Wheel{Name: "sneaky", Version: "1.0", Files: map[string][]byte{"sneaky/__init__.py": []byte("\n"), "sneaky/_x.so": so}})
	ix.AddWheel(testutil.Wheel{Name: "plain", Version: "1.0", Tags: []string{"cp312-cp312-manylinux_2_17_x86_64"}, Files: map[string][]byte{"plain/__init__.py": []byte("X = 1\n")}})
	ix.AddWheel(testutil.Wheel{Name: "launcher", Version: "1.0", Files: map[string][]byte{"launcher/__init__.py": []byte("\n"), "launcher/cli-64.exe": peLauncher()}})
	env, err := OpenEnv(EnvOptions{CacheDir: t.TempDir(), Index: index.Settings{IndexURL: ix.URL}})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	for _, c := range []struct {
		pkg  string
		pure bool
	}{{"sneaky", false}, {"plain", true}, {"launcher", true}, {"sneaky", false}} { // the last from remembered facts
		out := filepath.Join(t.TempDir(), "layer.zip")
		rep, err := BuildArtifact(context.Background(), env, ArtifactOptions{Kind: KindLayer, Deps: Inputs{Requirements: []string{c.pkg}}, Runtime: "python3.12", Output: out})
		if err != nil {
			t.Fatalf("%s: %v", c.pkg, err)
		}
		rec, err := record.ReadZip(out)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"x86_64"}
		if c.pure {
			want = []string{"arm64", "x86_64"}
		}
		if rep.Pure != c.pure || !slices.Equal(rec.CompatibleArchitectures(), want) || rec.Kind != record.KindLayer {
			t.Errorf("%s: pure %v, record %+v; want pure %v, architectures %v", c.pkg, rep.Pure, rec, c.pure, want)
		}
	}
}

// folderSink is what invoke's task folder will be: the tree written as
// plain files under a folder.
type folderSink struct {
	dir    string
	writes int
}

func (s *folderSink) Write(_ context.Context, t *tree.Tree) (*tree.Written, error) {
	s.writes++
	for i := range t.Files {
		f := &t.Files[i]
		p := filepath.Join(s.dir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, err
		}
		rc, err := f.Open()
		if err != nil {
			return nil, err
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(p, data, 0o644|f.Mode&0o111); err != nil {
			return nil, err
		}
	}
	return &tree.Written{Path: s.dir, UnzippedSize: t.Size()}, nil
}

// Another sink plugs in after PlanTree and VerifyTree and gets exactly
// what the zip holds, roles and origins told apart; a tree that fails
// verification never reaches it.
func TestPlanTreeForAnotherSink(t *testing.T) {
	ix := testutil.StartIndex(t, testutil.IndexOptions{})
	ix.AddWheel(testutil.Wheel{Name: "dep", Version: "2.0", Files: map[string][]byte{"dep/__init__.py": []byte("D = 2\n")}})
	ix.AddWheel(testutil.Wheel{Name: "wrongarch", Version: "1.0", Tags: []string{"cp312-cp312-manylinux_2_17_x86_64"},
		Files: map[string][]byte{"wrongarch/_m.cpython-312-x86_64-linux-gnu.so": sharedObject(t, 183)}})
	src := t.TempDir()
	testutil.WriteFiles(t, src, map[string]string{"app.py": "import dep\ndef handler(e, c): return dep.D\n"})
	env, err := OpenEnv(EnvOptions{CacheDir: t.TempDir(), Index: index.Settings{IndexURL: ix.URL}})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	ctx := context.Background()
	o := ArtifactOptions{Kind: KindFunction, Src: src, Handler: "app.handler", Deps: Inputs{Requirements: []string{"dep"}}, Runtime: "python3.12", Arch: "arm64"}

	tr, err := PlanTree(ctx, env, o)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if _, err := VerifyTree(ctx, env, tr, CheckOptions{Name: "task"}); err != nil {
		t.Fatal(err)
	}
	code := tr.Select(func(f *tree.File) bool { return f.Role == tree.RoleCode })
	if len(code) != 1 || code[0].Path != "app.py" || code[0].Origin != tree.FromDisk {
		t.Errorf("code files %+v", code)
	}
	for _, f := range tr.Files {
		if f.Role == tree.RoleDeps && f.Dist != "dep" {
			t.Errorf("%s: dist %q", f.Path, f.Dist)
		}
	}
	if tr.Record.Kind != record.KindFunction || tr.Record.Handler != "app.handler" || tr.Record.Architecture != "arm64" || !tr.Pure ||
		len(tr.Parts) != 1 || len(tr.Parts[0].Dists) != 1 || tr.Parts[0].Dists[0].Name != "dep" {
		t.Errorf("tree: record %+v pure %v parts %+v", tr.Record, tr.Pure, tr.Parts)
	}
	folder := &folderSink{dir: t.TempDir()}
	if _, err := folder.Write(ctx, tr); err != nil {
		t.Fatal(err)
	}
	// The zip of the same options holds the same files.
	o.Output = filepath.Join(t.TempDir(), "function.zip")
	if _, err := BuildArtifact(ctx, env, o); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.OpenReader(o.Output)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	n := 0
	for _, zf := range zr.File {
		if zf.Mode().IsDir() {
			continue
		}
		n++
		rc, _ := zf.Open()
		want, _ := io.ReadAll(rc)
		rc.Close()
		got, err := os.ReadFile(filepath.Join(folder.dir, filepath.FromSlash(zf.Name)))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: the folder sink wrote %q (%v), the zip holds %q", zf.Name, got, err, want)
		}
	}
	if n != len(tr.Files) {
		t.Errorf("the zip holds %d files, the tree %d", n, len(tr.Files))
	}

	// An aarch64 binary for an x86_64 target: VerifyTree refuses, and a
	// caller following the pipeline never calls its sink.
	bad, err := PlanTree(ctx, env, ArtifactOptions{Kind: KindLayer, Deps: Inputs{Requirements: []string{"wrongarch"}}, Runtime: "python3.12"})
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	var ve *VerifyError
	if _, err := VerifyTree(ctx, env, bad, CheckOptions{Name: "image"}); !errors.As(err, &ve) || ve.Output != "image" {
		t.Fatalf("a wrong-architecture binary: err = %v", err)
	}
	refused := &folderSink{dir: t.TempDir()}
	if _, _, err := WriteTree(ctx, env, bad, refused, CheckOptions{Name: "task"}); !errors.As(err, &ve) || refused.writes != 0 {
		t.Fatalf("WriteTree of a failing tree: err = %v, sink called %d times", err, refused.writes)
	}
	if w, _, err := WriteTree(ctx, env, bad, refused, CheckOptions{Name: "task", NoVerify: true}); err != nil || refused.writes != 1 || w.Path != refused.dir {
		t.Fatalf("WriteTree --no-verify: %v, %d writes", err, refused.writes)
	}
	if f, err := VerifyTree(ctx, env, bad, CheckOptions{Name: "image", Force: true}); err != nil || len(f) == 0 || !slices.Contains(bad.Notes, "verification failed; written anyway because of --force") {
		t.Errorf("--force: %v, %d findings, notes %q", err, len(f), bad.Notes)
	}
}
