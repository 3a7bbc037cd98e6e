package app

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lambdapack/lambdapack/internal/index"
	"github.com/lambdapack/lambdapack/internal/record"
	"github.com/lambdapack/lambdapack/internal/testutil"
	"github.com/lambdapack/lambdapack/internal/verify"
)

// sharedObject compiles a tiny C shared object for x86_64 with the
// machine's gcc; machine 183 (EM_AARCH64) patches its ELF header so it reads
// as an aarch64 binary (verify looks at the header, never runs it).
func sharedObject(t *testing.T, machine uint16) []byte {
	t.Helper()
	b := testutil.CompileC(t, "int probe(void) { return 42; }\n", "-shared", "-fPIC")
	if machine != 0 {
		b[18], b[19] = byte(machine), byte(machine>>8)
	}
	return b
}

// recordedZip writes a zip of files (wheels installed under python/ by the
// caller) with lambdapack's record rec in its archive comment (none when
// rec is nil).
func recordedZip(t *testing.T, files map[string][]byte, rec *record.Record) string {
	t.Helper()
	comment := ""
	if rec != nil {
		c, err := rec.Format()
		if err != nil {
			t.Fatal(err)
		}
		comment = c
	}
	return testutil.WriteZip(t, filepath.Join(t.TempDir(), "layer.zip"), files, comment)
}

// installWheel unpacks a wheel's files under prefix into files.
func installWheel(t *testing.T, files map[string][]byte, prefix string, w testutil.Wheel) {
	t.Helper()
	data := w.Bytes()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		b.ReadFrom(rc)
		rc.Close()
		files[prefix+f.Name] = b.Bytes()
	}
}

// arm64Layer is an arm64 layer of one package with five aarch64 extension
// modules, recorded (rec) as built for python3.12/arm64.
func arm64Layer(t *testing.T, rec *record.Record) string {
	so := sharedObject(t, 183)
	w := testutil.Wheel{Name: "fast", Version: "1.0", Tags: []string{"cp312-cp312-manylinux_2_17_aarch64"}, Files: map[string][]byte{"fast/__init__.py": []byte("\n")}}
	for _, m := range []string{"a", "b", "c", "d", "e"} {
		w.Files["fast/_"+m+".cpython-312-aarch64-linux-gnu.so"] = so
	}
	files := map[string][]byte{}
	installWheel(t, files, "python/", w)
	return recordedZip(t, files, rec)
}

// TestVerifyTargetFromRecord: without --runtime/--arch, verify takes the
// target from the zip's record and says so; --runtime alone takes the
// recorded architecture (it used to default to x86_64 and fail every
// binary of an arm64 layer); flags that differ from the record win, with a
// note; no flag and no record is a clear error asking for --runtime.
func TestVerifyTargetFromRecord(t *testing.T) {
	ctx := t.Context()
	rec := &record.Record{Runtime: "python3.12", Architecture: "arm64", Architectures: []string{"arm64"}, Python: "3.12"}
	p := arm64Layer(t, rec)

	for _, c := range []struct {
		o    VerifyOptions
		note string
	}{
		{VerifyOptions{Path: p}, "target from the zip's record: python3.12/arm64\n"},
		{VerifyOptions{Path: p, Runtime: "python3.12"}, "architecture from the zip's record: arm64\n"},
	} {
		o, note := c.o, c.note
		var out bytes.Buffer
		res, err := Verify(ctx, o, &out)
		if err != nil {
			t.Fatalf("%+v: %v", o, err)
		}
		if len(res.Reports) != 1 || res.Reports[0].Target != "python3.12/arm64" || res.Failed(true) || !res.FromRecord {
			t.Errorf("%+v: reports %d, failed %v, from record %v:\n%s", o, len(res.Reports), res.Failed(true), res.FromRecord, out.String())
		}
		if !strings.HasPrefix(out.String(), note) {
			t.Errorf("%+v: output does not say where the target came from:\n%s", o, out.String())
		}
	}

	// --arch x86_64 as asked: every binary fails, grouped into one entry
	// (and the wheel's tag is an error of its own).
	var out bytes.Buffer
	res, err := Verify(ctx, VerifyOptions{Path: p, Arch: "x86_64"}, &out)
	if err != nil {
		t.Fatal(err)
	}
	text := out.String()
	if !res.Failed(false) || res.Reports[0].Errors != 6 || res.Reports[0].Target != "python3.12/x86_64" {
		t.Errorf("--arch x86_64: want 6 errors for python3.12/x86_64, got %d for %s:\n%s", res.Reports[0].Errors, res.Reports[0].Target, text)
	}
	if !strings.HasPrefix(text, "runtime from the zip's record: python3.12\nnote: the zip's record says it was built for arm64; checking x86_64 as asked\n") {
		t.Errorf("--arch x86_64: no note about the record:\n%s", text)
	}
	if n := strings.Count(text, "error   arch:"); n != 1 || !strings.Contains(text, "error   arch: 5 files of fast==1.0, first python/fast/_a.cpython-312-aarch64-linux-gnu.so\n") {
		t.Errorf("--arch x86_64: want one grouped arch entry, got %d:\n%s", n, text)
	}
	if !strings.Contains(text, "FAILED: 6 errors") {
		t.Errorf("the verdict still counts every finding:\n%s", text)
	}
	out.Reset()
	if _, err := Verify(ctx, VerifyOptions{Path: p, Arch: "x86_64", Verbose: true}, &out); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), "error   arch: python/fast/_"); n != 5 {
		t.Errorf("-v: want 5 arch lines, got %d:\n%s", n, out.String())
	}
	out.Reset()
	if _, err := Verify(ctx, VerifyOptions{Path: p, Arch: "x86_64", JSON: true}, &out); err != nil {
		t.Fatal(err)
	}
	var doc verify.Report
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("--json: %v\n%s", err, out.String())
	}
	if n := countRule(doc.Findings, verify.RuleArch); n != 5 {
		t.Errorf("--json: want 5 arch findings, got %d", n)
	}

	// No record, no --runtime: an error that asks for it.
	for _, bare := range []string{arm64Layer(t, nil), filepath.Dir(p)} {
		_, err = Verify(ctx, VerifyOptions{Path: bare}, &out)
		if err == nil || !strings.Contains(err.Error(), "--runtime is required") || !strings.Contains(err.Error(), "no lambdapack record") {
			t.Errorf("%s without a record or --runtime: %v", bare, err)
		}
	}
	// No record, --runtime only: x86_64 as before.
	res, err = Verify(ctx, VerifyOptions{Path: arm64Layer(t, nil), Runtime: "python3.12"}, &out)
	if err != nil || res.Reports[0].Target != "python3.12/x86_64" || res.FromRecord {
		t.Errorf("no record, --runtime python3.12: %v %+v", err, res)
	}
}

func countRule(fs []verify.Finding, rule string) int {
	n := 0
	for _, f := range fs {
		if f.Rule == rule {
			n++
		}
	}
	return n
}

// TestVerifyBuiltMultiRuntimeLayer: a layer `lambdapack build` writes for
// python3.12 and python3.13 (a package with a compiled extension per
// Python, one site-packages folder per runtime) verifies clean with no
// flags, against each runtime its record lists; the text says so and --json
// is one report per target.
func TestVerifyBuiltMultiRuntimeLayer(t *testing.T) {
	so := sharedObject(t, 0)
	ix := testutil.StartIndex(t, testutil.IndexOptions{})
	for _, v := range []string{"312", "313"} {
		ix.AddWheel(testutil.Wheel{
			Name: "core", Version: "1.0", Tags: []string{"cp" + v + "-cp" + v + "-manylinux_2_17_x86_64"},
			Files: map[string][]byte{
				"core/__init__.py": []byte("from . import _speed\n"),
				"core/_speed.cpython-" + v + "-x86_64-linux-gnu.so": so,
			},
		})
	}
	dir := t.TempDir()
	testutil.WriteFiles(t, dir, map[string]string{"lambdapack.toml": `
architecture = "x86_64"
[layers.deps]
dependencies = ["core==1.0"]
runtimes = ["python3.12", "python3.13"]
`})
	rep, _, err := Build(t.Context(), BuildOptions{Dir: dir, Env: EnvOptions{CacheDir: t.TempDir(), Index: index.Settings{IndexURL: ix.URL}}})
	if err != nil {
		t.Fatalf("building the multi-runtime layer: %v", err)
	}
	a := byArtifact(rep)["deps-x86_64"]
	if a == nil {
		t.Fatalf("no deps-x86_64 artifact in %+v", rep.Artifacts)
	}
	var out bytes.Buffer
	res, err := Verify(t.Context(), VerifyOptions{Path: a.Path}, &out)
	if err != nil {
		t.Fatal(err)
	}
	text := out.String()
	if len(res.Reports) != 2 || res.Failed(true) {
		t.Fatalf("want 2 clean reports, got %d (failed %v):\n%s", len(res.Reports), res.Failed(true), text)
	}
	for _, want := range []string{
		"targets from the zip's record: python3.12/x86_64, python3.13/x86_64\n",
		" for python3.12/x86_64 (layer",
		" for python3.13/x86_64 (layer",
		"verified for 2 targets: python3.12/x86_64 ok, python3.13/x86_64 ok\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	for _, r := range res.Reports {
		if len(r.Packages) != 1 || r.Packages[0].Name != "core" {
			t.Errorf("%s: largest packages %+v, want core once", r.Target, r.Packages)
		}
	}
	out.Reset()
	if _, err := Verify(t.Context(), VerifyOptions{Path: a.Path, JSON: true}, &out); err != nil {
		t.Fatal(err)
	}
	var docs []verify.Report
	if err := json.Unmarshal(out.Bytes(), &docs); err != nil || len(docs) != 2 || docs[0].Target != "python3.12/x86_64" || docs[1].Target != "python3.13/x86_64" {
		t.Errorf("--json: %v, %d reports:\n%s", err, len(docs), out.String())
	}
	// Asked for one runtime, verify checks that one only.
	res, err = Verify(t.Context(), VerifyOptions{Path: a.Path, Runtime: "python3.13"}, &out)
	if err != nil || len(res.Reports) != 1 || res.Failed(true) {
		t.Errorf("--runtime python3.13: %v, %+v", err, res)
	}
}

// TestVerifyKindFromRecord: a function whose code is a package (app/, no
// top-level .py file) looks like a layer with packages at its top level,
// the classic broken layer. lambdapack records the kind in the zip, so
// verify checks it as the function it is unless --kind says otherwise.
func TestVerifyKindFromRecord(t *testing.T) {
	ctx := t.Context()
	files := map[string][]byte{
		"app/__init__.py": nil,
		"app/main.py":     []byte("def handler(event, context):\n    return 1\n"),
	}
	rec := &record.Record{Kind: record.KindFunction, Runtime: "python3.12", Architecture: "x86_64", Python: "3.12", Handler: "app.main.handler"}
	p := recordedZip(t, files, rec)

	var out bytes.Buffer
	res, err := Verify(ctx, VerifyOptions{Path: p}, &out)
	if err != nil {
		t.Fatal(err)
	}
	rep := res.Reports[0]
	if res.Failed(true) || rep.Kind != verify.KindFunction || rep.KindInferred {
		t.Errorf("want a passing function (kind from the record), got kind %s (inferred %v), failed %v:\n%s", rep.Kind, rep.KindInferred, res.Failed(true), out.String())
	}
	if !strings.Contains(out.String(), "kind from the zip's record: function") {
		t.Errorf("the output does not say where the kind came from:\n%s", out.String())
	}

	// --kind wins over the record.
	out.Reset()
	res, err = Verify(ctx, VerifyOptions{Path: p, Kind: "layer"}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if rep := res.Reports[0]; rep.Kind != verify.KindLayer || !res.Failed(false) {
		t.Errorf("--kind layer: want the layer's layout error, got kind %s, failed %v:\n%s", rep.Kind, res.Failed(false), out.String())
	}
}
