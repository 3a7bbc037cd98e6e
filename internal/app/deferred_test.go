package app

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lambdapack/lambdapack/internal/index"
	"github.com/lambdapack/lambdapack/internal/testutil"
)

// recordOf reads the RECORD a wheel's bytes hold.
func recordOf(t *testing.T, w testutil.Wheel) []byte {
	t.Helper()
	data := w.Bytes()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	rc, err := zr.Open(w.DistInfo() + "/RECORD")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A cold image build leaves the RECORD check of the members it writes to
// the image sink, which hashes them for the layer anyway (deferred.go):
//
//   - an honest wheel builds the same image as a build that checked it
//     first, and only afterwards is remembered as checked (the memo a zip
//     build trusts) and what verification learnt about its binary kept;
//   - a wheel whose RECORD lies about its binary fails the build naming
//     the file, writes nothing (no layout, no layer in the cache), is not
//     remembered, and teaches the facts cache nothing under the digest
//     its RECORD claims; a zip build of it is refused as before.
func TestImageChecksDeferredMembers(t *testing.T) {
	so := x86SharedObject(t)
	decoy := append([]byte(nil), so...)
	decoy[len(decoy)-1] ^= 0xff
	const soPath = "native/_ext.cpython-312-x86_64-linux-gnu.so"
	honest := testutil.Wheel{Name: "native", Version: "1.0", Tags: []string{"cp312-cp312-manylinux2014_x86_64"},
		Files: map[string][]byte{"native/__init__.py": []byte("from ._ext import *\n"), soPath: so}}
	liar := honest
	liar.Version = "2.0"
	decoyW := liar
	decoyW.Files = map[string][]byte{"native/__init__.py": honest.Files["native/__init__.py"], soPath: decoy}
	liar.Files = map[string][]byte{"native/__init__.py": honest.Files["native/__init__.py"], soPath: so, liar.DistInfo() + "/RECORD": recordOf(t, decoyW)}
	idx := testutil.NewIndex(t, honest, liar)
	wheelSHA := func(w testutil.Wheel) string { s := sha256.Sum256(w.Bytes()); return hex.EncodeToString(s[:]) }
	digest := func(b []byte) string { s := sha256.Sum256(b); return base64.RawURLEncoding.EncodeToString(s[:]) }

	base := imageBase(t)
	src := t.TempDir()
	testutil.WriteFiles(t, src, map[string]string{"app.py": "import native\ndef handler(e, c): return 1\n"})
	build := func(cache, req, out string) (*ImageReport, *Env, error) {
		env, err := OpenEnv(EnvOptions{CacheDir: cache, Index: index.Settings{IndexURL: idx}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { env.Close() })
		rep, err := BuildImage(context.Background(), env, ImageOptions{
			Deps: Inputs{Requirements: []string{req}}, Runtime: "python3.12", Base: base, Src: src, Handler: "app.handler", OCILayout: out,
		})
		return rep, env, err
	}

	// Honest: the same image as when the wheel was checked first.
	cache := t.TempDir()
	rep, env, err := build(cache, "native==1.0", filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	if !env.memo.Has("wheel-checked-v1-" + wheelSHA(honest)) {
		t.Error("the honest wheel was not remembered as checked after the image was written")
	}
	if _, ok := env.facts.Get("native-v1:" + digest(so)); !ok {
		t.Error("what was learnt about the checked binary was not kept")
	}
	// Checked first (remembered): the same digest.
	again, _, err := build(cache, "native==1.0", filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	if again.Images[0].Digest != rep.Images[0].Digest {
		t.Errorf("checked before: %s, checked while written: %s", again.Images[0].Digest, rep.Images[0].Digest)
	}

	// A lying RECORD: nothing written, nothing remembered.
	cache = t.TempDir()
	out := filepath.Join(t.TempDir(), "out")
	_, env, err = build(cache, "native==2.0", out)
	if err == nil || !strings.Contains(err.Error(), "refusing "+soPath) || !strings.Contains(err.Error(), "RECORD says "+digest(decoy)) {
		t.Fatalf("a lying RECORD: %v", err)
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the layout was written: %v", err)
	}
	if blobs, _ := filepath.Glob(filepath.Join(cache, "*", "images", "layers", "*")); len(blobs) != 0 {
		t.Errorf("layers kept in the cache: %v", blobs)
	}
	if env.memo.Has("wheel-checked-v1-" + wheelSHA(liar)) {
		t.Error("the lying wheel was remembered as checked")
	}
	for _, k := range []string{"native-v1:" + digest(decoy), "verify-facts-v1:" + digest(decoy)} {
		if _, ok := env.facts.Get(k); ok {
			t.Errorf("facts were kept under the digest the lying RECORD claims: %s", k)
		}
	}
	zo := ArtifactOptions{Kind: KindLayer, Deps: Inputs{Requirements: []string{"native==2.0"}}, Runtime: "python3.12", Output: filepath.Join(t.TempDir(), "l.zip")}
	if _, err := BuildArtifact(context.Background(), env, zo); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("a zip of the lying wheel: %v", err)
	}
}
