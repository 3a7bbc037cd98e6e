package install

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lambdapack/lambdapack/internal/archive"
	"github.com/lambdapack/lambdapack/internal/testutil"
	"github.com/lambdapack/lambdapack/internal/zipsink"
)

func build(t *testing.T, wheels []Wheel, opts Options) *Plan {
	t.Helper()
	p, err := Build(context.Background(), wheels, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func entryMap(p *Plan) map[string]*Entry {
	m := map[string]*Entry{}
	for i := range p.Entries {
		m[p.Entries[i].Path] = &p.Entries[i]
	}
	return m
}

func content(t *testing.T, e *Entry) []byte {
	t.Helper()
	if e.Member == nil {
		return e.Data
	}
	r, err := e.Member.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkRecords verifies every RECORD of the plan the way an installer
// would: each row's hash and size match the file it names (resolved from
// the package root), every file of the distribution is listed, and RECORD
// lists itself without a hash.
func checkRecords(t *testing.T, p *Plan) {
	t.Helper()
	em := entryMap(p)
	for _, d := range p.Dists {
		rec := em[d.DistInfo+"RECORD"]
		if rec == nil {
			t.Fatalf("%s: no RECORD in the plan", d.Name)
		}
		rows, err := ParseRecord(rec.Data)
		if err != nil {
			t.Fatalf("%s: rewritten RECORD does not parse: %v\n%s", d.Name, err, rec.Data)
		}
		listed := map[string]bool{}
		for _, r := range rows {
			full := path.Clean(p.Layout.Root + r.Path)
			if p.Layout.Root == "" {
				full = path.Clean(r.Path)
			}
			listed[full] = true
			e := em[full]
			if e == nil {
				t.Errorf("%s RECORD lists %s (%s), not in the plan", d.Name, r.Path, full)
				continue
			}
			if full == rec.Path {
				if r.Algorithm != "" || r.Size != -1 {
					t.Errorf("RECORD's own row has a hash or size: %+v", r)
				}
				continue
			}
			if r.Algorithm != "sha256" || !r.Validate(content(t, e)) {
				t.Errorf("%s RECORD row %s does not match the installed bytes", d.Name, r.String())
			}
		}
		for _, e := range p.Entries {
			if e.Dist == d.Name && !listed[e.Path] {
				t.Errorf("%s installs %s but its RECORD does not list it", d.Name, e.Path)
			}
		}
	}
}

func richSpec() spec {
	return spec{name: "rich-pkg", version: "1.2.0", members: []member{
		file("rich_pkg/__init__.py", "VALUE = 42\n"),
		{name: "rich_pkg/_native.so", data: bytes.Repeat([]byte("\x7fELF native"), 500), mode: 0o100755},
		file("rich_pkg/py.typed", ""),
		file("rich_pkg-1.2.0.data/purelib/rich_extra.py", "EXTRA = 1\n"),
		file("rich_pkg-1.2.0.data/platlib/rich_plat.py", "PLAT = 2\n"),
		file("rich_pkg-1.2.0.data/scripts/rich-tool", "#!python\nimport rich_pkg\nprint(rich_pkg.VALUE)\n"),
		file("rich_pkg-1.2.0.data/scripts/rich-sh", "#!/bin/sh\necho hi\n"),
		file("rich_pkg-1.2.0.data/headers/rich.h", "int x;\n"),
		file("rich_pkg-1.2.0.data/data/share/rich/data.txt", "data\n"),
		file("rich_pkg-1.2.0.dist-info/entry_points.txt", "[console_scripts]\nrich-cli = rich_pkg.cli:main\n"),
		file("rich_pkg-1.2.0.dist-info/INSTALLER", "pip\n"),
		file("rich_pkg/cli.py", "def main():\n    print('cli says', __import__('rich_pkg').VALUE)\n"),
	}}
}

func TestBuildSpreadsDataScriptsAndRewritesRecord(t *testing.T) {
	dir := t.TempDir()
	w := richSpec().write(t, dir)
	p := build(t, []Wheel{w}, Options{Layout: LayerLayout()})
	var paths []string
	for _, e := range p.Entries {
		paths = append(paths, e.Path)
	}
	want := []string{
		"bin/rich-cli",
		"bin/rich-sh",
		"bin/rich-tool",
		"python/rich_extra.py",
		"python/rich_pkg-1.2.0.dist-info/INSTALLER",
		"python/rich_pkg-1.2.0.dist-info/METADATA",
		"python/rich_pkg-1.2.0.dist-info/RECORD",
		"python/rich_pkg-1.2.0.dist-info/WHEEL",
		"python/rich_pkg-1.2.0.dist-info/entry_points.txt",
		"python/rich_pkg/__init__.py",
		"python/rich_pkg/_native.so",
		"python/rich_pkg/cli.py",
		"python/rich_pkg/py.typed",
		"python/rich_plat.py",
	}
	if diff := cmp.Diff(want, paths); diff != "" {
		t.Fatalf("planned paths (-want +got):\n%s", diff)
	}
	em := entryMap(p)
	if got := string(content(t, em["bin/rich-tool"])); got != "#!/usr/bin/env python3\nimport rich_pkg\nprint(rich_pkg.VALUE)\n" {
		t.Errorf("rewritten script:\n%s", got)
	}
	if em["bin/rich-sh"].Member == nil {
		t.Error("a script without #!python should stay a raw wheel member")
	}
	for _, s := range []string{"bin/rich-tool", "bin/rich-sh", "bin/rich-cli", "python/rich_pkg/_native.so"} {
		if em[s].Mode != 0o755 {
			t.Errorf("%s mode %o, want 755", s, em[s].Mode)
		}
	}
	if em["python/rich_pkg/__init__.py"].Mode != 0o644 {
		t.Errorf("__init__.py mode %o", em["python/rich_pkg/__init__.py"].Mode)
	}
	if got := string(content(t, em["python/rich_pkg-1.2.0.dist-info/INSTALLER"])); got != "lambdapack\n" {
		t.Errorf("INSTALLER = %q", got)
	}
	if len(p.Dropped) != 2 || p.Dropped[0].Scheme != "headers" || p.Dropped[1].Scheme != "data" {
		t.Errorf("dropped = %+v", p.Dropped)
	}
	rec := string(em["python/rich_pkg-1.2.0.dist-info/RECORD"].Data)
	if !strings.Contains(rec, "\n../bin/rich-tool,sha256=") || !strings.HasSuffix(rec, "rich_pkg-1.2.0.dist-info/RECORD,,\n") {
		t.Errorf("RECORD:\n%s", rec)
	}
	checkRecords(t, p)
	if d := p.Dists[0]; d.Name != "rich-pkg" || d.Version != "1.2.0" || d.Files != len(want) || d.Size <= 0 || d.Pure {
		t.Errorf("dist = %+v", d)
	}
}

func TestLayouts(t *testing.T) {
	dir := t.TempDir()
	w := richSpec().write(t, dir)
	for _, tc := range []struct {
		layout Layout
		init   string
		script string
	}{
		{LayerSitePackagesLayout("3.12"), "python/lib/python3.12/site-packages/rich_pkg/__init__.py", "../../../../bin/rich-tool"},
		{FunctionLayout(), "rich_pkg/__init__.py", "bin/rich-tool"},
	} {
		p := build(t, []Wheel{w}, Options{Layout: tc.layout})
		em := entryMap(p)
		if em[tc.init] == nil {
			t.Errorf("%+v: no %s", tc.layout, tc.init)
		}
		rec := string(em[tc.layout.Root+"rich_pkg-1.2.0.dist-info/RECORD"].Data)
		if !strings.Contains(rec, "\n"+tc.script+",sha256=") {
			t.Errorf("%+v: RECORD lacks %s:\n%s", tc.layout, tc.script, rec)
		}
		checkRecords(t, p)
	}
}

func TestHostileWheelsAreRefused(t *testing.T) {
	good := func() spec {
		return spec{name: "evil", version: "1.0", members: []member{file("evil/__init__.py", "x = 1\n")}}
	}
	with := func(m ...member) spec { s := good(); s.members = append(s.members, m...); return s }
	cases := map[string]struct {
		s    spec
		want string
	}{
		"dotdot":         {with(file("../escape.py", "boom")), "not clean"},
		"dotdot-inside":  {with(file("evil/../../escape.py", "boom")), "not clean"},
		"absolute":       {with(file("/etc/passwd", "boom")), "absolute"},
		"backslash":      {with(file("evil\\..\\..\\escape.py", "boom")), "backslash"},
		"drive-letter":   {with(file("C:/escape.py", "boom")), "drive letter"},
		"data-dotdot":    {with(file("evil-1.0.data/purelib/../../../x.py", "boom")), "not clean"},
		"symlink":        {with(member{name: "evil/link", data: []byte("/etc/passwd"), mode: 0o120777}), "symlink"},
		"encrypted":      {with(member{name: "evil/secret.py", data: []byte("x"), flags: 0x1}), "encrypted"},
		"unknown-scheme": {with(file("evil-1.0.data/weird/x.py", "x")), "unknown .data scheme"},
		"two-dist-infos": {with(file("other-1.0.dist-info/METADATA", "Name: other\n")), "exactly one .dist-info"},
		"record-lies-hash": {func() spec {
			s := good()
			s.editRecord = func(rows []string) []string {
				for i, r := range rows {
					if strings.HasPrefix(r, "evil/__init__.py,") {
						// Same size, hash of other bytes.
						sum := sha256.Sum256([]byte("y = 1\n"))
						rows[i] = "evil/__init__.py,sha256=" + digestString(sum[:]) + ",6"
					}
				}
				return rows
			}
			return s
		}(), "does not match"},
		"record-lies-size": {func() spec {
			s := good()
			s.editRecord = func(rows []string) []string {
				for i, r := range rows {
					if strings.HasPrefix(r, "evil/__init__.py,") {
						rows[i] = strings.TrimSuffix(r, ",6") + ",7"
					}
				}
				return rows
			}
			return s
		}(), "bytes"},
		"not-in-record": {func() spec {
			s := good()
			s.editRecord = func(rows []string) []string { return rows[1:] }
			return s
		}(), "not listed in RECORD"},
		"record-without-hash": {func() spec {
			s := good()
			s.editRecord = func(rows []string) []string { rows[0] = "evil/__init__.py,,6"; return rows }
			return s
		}(), "lacks the hash"},
		"record-md5": {func() spec {
			s := good()
			s.editRecord = func(rows []string) []string { rows[0] = "evil/__init__.py,md5=abc,6"; return rows }
			return s
		}(), "not accepted"},
		"no-record":         {func() spec { s := good(); s.noRecord = true; return s }(), "RECORD is missing"},
		"metadata-name":     {func() spec { s := good(); s.metaName = "innocent"; return s }(), "METADATA says Name: innocent"},
		"metadata-version":  {func() spec { s := good(); s.metaVersion = "2.0"; return s }(), "METADATA says Version: 2.0"},
		"dist-info-name":    {func() spec { s := good(); s.distInfo = "innocent-1.0.dist-info"; return s }(), "not for evil"},
		"bad-filename":      {func() spec { s := good(); s.filename = "evil.whl"; return s }(), "not a wheel file name"},
		"wheel-version-two": {with(file("evil-1.0.dist-info/WHEEL", "Wheel-Version: 2.0\n")), "not supported"},
		"long-component":    {with(file("evil/"+strings.Repeat("n", 60000)+".py", "x")), "a file name is at most 255 bytes"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			w := tc.s.write(t, t.TempDir())
			p, err := Build(context.Background(), []Wheel{w}, Options{Layout: LayerLayout()})
			if err == nil {
				p.Close()
				t.Fatal("hostile wheel accepted")
			}
			var we *WheelError
			if !errors.As(err, &we) || we.Wheel != tc.s.fileName() {
				t.Fatalf("err = %v (%T), want a *WheelError naming %s", err, err, tc.s.fileName())
			}
			if p != nil {
				t.Error("a plan came back with the error")
			}
			if !strings.Contains(err.Error(), tc.s.fileName()) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %.500q does not name the wheel or say %q", err, tc.want)
			}
			if len(err.Error()) > 1000 {
				t.Errorf("the error is %d bytes long: a hostile name is repeated whole", len(err.Error()))
			}
			t.Log(err)
		})
	}
}

func TestCorruptAndTruncatedWheels(t *testing.T) {
	s := spec{name: "broken", version: "1.0", members: []member{
		file("broken/__init__.py", strings.Repeat("print('some text that compresses')\n", 200)),
	}}
	data := s.bytes(t)
	dir := t.TempDir()
	// Truncated: the central directory is gone.
	trunc := filepath.Join(dir, "trunc", s.fileName())
	os.MkdirAll(filepath.Dir(trunc), 0o755)
	os.WriteFile(trunc, data[:len(data)*2/3], 0o644)
	// Corrupt: one byte of the compressed member flipped.
	zr, _ := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	off, _ := zr.File[0].DataOffset()
	bad := bytes.Clone(data)
	bad[off+10] ^= 0xff
	corrupt := filepath.Join(dir, "corrupt", s.fileName())
	os.MkdirAll(filepath.Dir(corrupt), 0o755)
	os.WriteFile(corrupt, bad, 0o644)
	for _, p := range []string{trunc, corrupt} {
		_, err := Build(context.Background(), []Wheel{{Path: p}}, Options{Layout: LayerLayout()})
		var we *WheelError
		if !errors.As(err, &we) || !strings.Contains(err.Error(), s.fileName()) {
			t.Errorf("%s: err = %v, want a *WheelError naming the wheel", p, err)
		}
	}
}

func TestEquivalentVersionSpellingsAccepted(t *testing.T) {
	s := spec{name: "Foo.Bar", version: "1.0", metaName: "foo-bar", metaVersion: "1.0.0", members: []member{file("foo_bar.py", "")}}
	p := build(t, []Wheel{s.write(t, t.TempDir())}, Options{Layout: FunctionLayout()})
	if p.Dists[0].Name != "foo-bar" || p.Dists[0].Version != "1.0.0" {
		t.Errorf("dist = %+v", p.Dists[0])
	}
	for a, b := range map[string]string{"1.0rc1": "1.0-RC-1", "2!1.0.post0": "2!1.0-0", "1.0.dev": "1.0-dev0", "v1.0+Ubuntu_1": "1.0+ubuntu.1", "1.0a": "1.0alpha0"} {
		if !sameVersion(a, b) {
			t.Errorf("%s and %s should be the same version", a, b)
		}
	}
	if sameVersion("1.0", "1.0.1") || sameVersion("1.0a1", "1.0b1") {
		t.Error("different versions compared equal")
	}
}

func TestConflictingFilesBetweenWheels(t *testing.T) {
	dir := t.TempDir()
	a := spec{name: "alpha", version: "1.0", members: []member{file("shared/__init__.py", "A\n"), file("alpha.py", "")}}.write(t, dir)
	b := spec{name: "beta", version: "2.0", members: []member{file("shared/__init__.py", "B\n"), file("beta.py", "")}}.write(t, dir)
	_, err := Build(context.Background(), []Wheel{b, a}, Options{Layout: LayerLayout()})
	var ce *ConflictError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want *ConflictError", err)
	}
	for _, s := range []string{"alpha-1.0-py3-none-any.whl", "beta-2.0-py3-none-any.whl", "python/shared/__init__.py"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not name %s", err, s)
		}
	}
	// Same bytes: fine, one copy, listed in both RECORDs.
	c := spec{name: "gamma", version: "1.0", members: []member{file("shared/__init__.py", "A\n"), file("gamma.py", "")}}.write(t, dir)
	p := build(t, []Wheel{c, a}, Options{Layout: LayerLayout()})
	n := 0
	for _, e := range p.Entries {
		if e.Path == "python/shared/__init__.py" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("shared file planned %d times", n)
	}
	checkRecords(t, p)
	for _, d := range p.Dists {
		rec := entryMap(p)[d.DistInfo+"RECORD"].Data
		if !bytes.Contains(rec, []byte("shared/__init__.py,")) {
			t.Errorf("%s RECORD does not list the shared file", d.Name)
		}
	}
	// A file in one wheel, a folder in another.
	f := spec{name: "delta", version: "1.0", members: []member{file("shared", "I am a file")}}.write(t, dir)
	if _, err := Build(context.Background(), []Wheel{a, f}, Options{Layout: LayerLayout()}); err == nil || !strings.Contains(err.Error(), "beneath") {
		t.Errorf("file/folder clash: err = %v", err)
	}
	// Two wheels of one distribution.
	a2 := spec{name: "alpha", version: "1.1", members: []member{file("alpha.py", "")}}.write(t, dir)
	if _, err := Build(context.Background(), []Wheel{a, a2}, Options{Layout: LayerLayout()}); err == nil || !strings.Contains(err.Error(), "two wheels for distribution alpha") {
		t.Errorf("two wheels of alpha: err = %v", err)
	}
}

func TestExcludeStripAndFilter(t *testing.T) {
	dir := t.TempDir()
	a := spec{name: "keep", version: "1.0", members: []member{
		file("keep/__init__.py", "k"), file("keep/__init__.pyi", "stub"),
		file("keep/tests/test_x.py", "t"), file("keep/sub/data.bin", "d"),
	}}.write(t, dir)
	b := spec{name: "Drop_Me", version: "1.0", members: []member{file("drop_me.py", "")}}.write(t, dir)
	p := build(t, []Wheel{a, b}, Options{
		Layout:  LayerLayout(),
		Exclude: func(n string) bool { return n == "drop-me" },
	})
	if len(p.Excluded) != 1 || p.Excluded[0].Name != "drop-me" || len(p.Dists) != 1 {
		t.Fatalf("excluded %+v, dists %+v", p.Excluded, p.Dists)
	}
	em := entryMap(p)
	for _, gone := range []string{"python/drop_me.py"} {
		if em[gone] != nil {
			t.Errorf("%s still planned", gone)
		}
	}
	if em["python/keep/__init__.py"] == nil {
		t.Error("keep/__init__.py was stripped")
	}
	checkRecords(t, p)
	// Filter by hand: RECORD follows.
	p.Filter(func(e *Entry) bool { return !strings.HasSuffix(e.Path, "/METADATA") })
	checkRecords(t, p)
	if bytes.Contains(entryMap(p)["python/keep-1.0.dist-info/RECORD"].Data, []byte("METADATA")) {
		t.Error("RECORD still lists the filtered METADATA")
	}
}

type memo struct {
	mu   sync.Mutex
	keys map[string]bool
	puts int
}

func (m *memo) Has(k string) bool { m.mu.Lock(); defer m.mu.Unlock(); return m.keys[k] }
func (m *memo) Put(k string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.keys[k] = true
	m.puts++
	return nil
}

func TestMemoSkipsRecheck(t *testing.T) {
	s := richSpec()
	data := s.bytes(t)
	sum := sha256.Sum256(data)
	sha := strings.ToLower(strings.TrimSpace(string(hexEncode(sum[:]))))
	p := filepath.Join(t.TempDir(), s.fileName())
	os.WriteFile(p, data, 0o644)
	m := &memo{keys: map[string]bool{}}
	first := build(t, []Wheel{{Path: p, SHA256: sha}}, Options{Layout: LayerLayout(), Memo: m})
	if m.puts != 1 || !m.keys[memoKey(sha)] {
		t.Fatalf("memo after the first build: %+v", m)
	}
	second := build(t, []Wheel{{Path: p, SHA256: sha}}, Options{Layout: LayerLayout(), Memo: m})
	if m.puts != 1 {
		t.Error("the second build checked the wheel again")
	}
	a, b := first.Files(), second.Files()
	if len(a) != len(b) {
		t.Fatal("plans differ")
	}
	for i := range a {
		if a[i].Path != b[i].Path || !bytes.Equal(a[i].Data, b[i].Data) {
			t.Errorf("entry %d differs: %s / %s", i, a[i].Path, b[i].Path)
		}
	}
}

func hexEncode(b []byte) []byte {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return out
}

// TestInstalledLayerRunsWithPython writes the layer zip, unzips it with
// Python's zipfile, imports the package with a real interpreter and runs
// the rewritten script and the console-script launcher.
func TestInstalledLayerRunsWithPython(t *testing.T) {
	py := testutil.Python(t, "3.12")
	dir := t.TempDir()
	p := build(t, []Wheel{richSpec().write(t, dir)}, Options{Layout: LayerLayout()})
	out := filepath.Join(dir, "layer.zip")
	if _, err := archive.Write(context.Background(), out, zipsink.Entries(p.Files()), archive.Options{Root: "python/"}); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(dir, "opt")
	run := func(name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Env = append(os.Environ(), "PYTHONPATH="+filepath.Join(root, "python"), "PYTHONNOUSERSITE=1",
			"PATH="+filepath.Dir(py)+string(os.PathListSeparator)+os.Getenv("PATH"))
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, b)
		}
		return string(b)
	}
	run(py, "-m", "zipfile", "-e", out, root)
	if got := run(py, "-c", "import rich_pkg, rich_extra, rich_plat; print(rich_pkg.VALUE + rich_extra.EXTRA + rich_plat.PLAT)"); strings.TrimSpace(got) != "45" {
		t.Errorf("import output %q", got)
	}
	// Python's zipfile drops modes; restore them from the zip as unzip would.
	zr, err := zip.OpenReader(out)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var execs []string
	for _, f := range zr.File {
		if f.Mode()&0o111 != 0 && !f.Mode().IsDir() {
			execs = append(execs, f.Name)
			os.Chmod(filepath.Join(root, f.Name), f.Mode().Perm())
		}
	}
	sort.Strings(execs)
	if diff := cmp.Diff([]string{"bin/rich-cli", "bin/rich-sh", "bin/rich-tool", "python/rich_pkg/_native.so"}, execs); diff != "" {
		t.Errorf("executables in the zip (-want +got):\n%s", diff)
	}
	if got := run(filepath.Join(root, "bin", "rich-tool")); strings.TrimSpace(got) != "42" {
		t.Errorf("bin/rich-tool printed %q", got)
	}
	if got := run(filepath.Join(root, "bin", "rich-cli")); strings.TrimSpace(got) != "cli says 42" {
		t.Errorf("bin/rich-cli printed %q", got)
	}
	// pip agrees the installed distribution is whole.
	if got := run(py, "-c", "import importlib.metadata as m; d = m.distribution('rich-pkg'); print(d.version, len(d.files), d.read_text('INSTALLER').strip())"); strings.TrimSpace(got) != "1.2.0 14 lambdapack" {
		t.Errorf("importlib.metadata: %q", got)
	}
}

func TestPure(t *testing.T) {
	dir := t.TempDir()
	pure := spec{name: "pure", version: "1.0", pure: true, members: []member{file("pure.py", "")}}.write(t, dir)
	native := spec{name: "native", version: "1.0", filename: "native-1.0-cp312-cp312-manylinux_2_17_x86_64.whl", members: []member{file("native.py", "")}}.write(t, dir)
	if p := build(t, []Wheel{pure}, Options{Layout: LayerLayout()}); !p.Pure() || !p.Dists[0].Pure {
		t.Error("a pure wheel's plan is not pure")
	}
	if p := build(t, []Wheel{pure, native}, Options{Layout: LayerLayout()}); p.Pure() {
		t.Error("a plan with a native wheel is pure")
	}
}

func TestSamePathTwiceInOneWheel(t *testing.T) {
	s := spec{name: "twice", version: "1.0", members: []member{file("twice.py", "X\n"), file("twice-1.0.data/purelib/twice.py", "X\n")}}
	p := build(t, []Wheel{s.write(t, t.TempDir())}, Options{Layout: LayerLayout()})
	checkRecords(t, p)
	if n := bytes.Count(entryMap(p)["python/twice-1.0.dist-info/RECORD"].Data, []byte("\ntwice.py,")) + bytes.Count(entryMap(p)["python/twice-1.0.dist-info/RECORD"].Data[:9], []byte("twice.py,")); n != 1 {
		t.Errorf("twice.py listed %d times in RECORD", n)
	}
	bad := spec{name: "twice", version: "1.0", members: []member{file("twice.py", "X\n"), file("twice-1.0.data/purelib/twice.py", "Y\n")}}
	if _, err := Build(context.Background(), []Wheel{bad.write(t, t.TempDir())}, Options{Layout: LayerLayout()}); err == nil {
		t.Error("one wheel installing a path twice with different bytes was accepted")
	}
}

func TestCheckFillsMemo(t *testing.T) {
	s := richSpec()
	data := s.bytes(t)
	sum := sha256.Sum256(data)
	sha := string(hexEncode(sum[:]))
	p := filepath.Join(t.TempDir(), s.fileName())
	os.WriteFile(p, data, 0o644)
	m := &memo{keys: map[string]bool{}}
	if err := Check(context.Background(), Wheel{Path: p, SHA256: sha}, Options{Memo: m}); err != nil {
		t.Fatal(err)
	}
	if !m.keys[memoKey(sha)] {
		t.Error("Check did not remember the wheel")
	}
	build(t, []Wheel{{Path: p, SHA256: sha}}, Options{Layout: LayerLayout(), Memo: m})
	if m.puts != 1 {
		t.Errorf("Build checked again after Check (%d puts)", m.puts)
	}
	bad := spec{name: "evil", version: "1.0", members: []member{file("../x.py", "")}}
	err := Check(context.Background(), bad.write(t, t.TempDir()), Options{Memo: m})
	var we *WheelError
	if !errors.As(err, &we) {
		t.Errorf("Check of a hostile wheel: %v", err)
	}
}

// lyingRecord makes RECORD claim, for member name, the sha256 of other
// bytes of the same size.
func lyingRecord(name, other string) func(rows []string) []string {
	return func(rows []string) []string {
		for i, r := range rows {
			if strings.HasPrefix(r, name+",") {
				sum := sha256.Sum256([]byte(other))
				rows[i] = fmt.Sprintf("%s,sha256=%s,%d", name, digestString(sum[:]), len(other))
			}
		}
		return rows
	}
}

// withSHA writes s and returns the wheel with its sha256, as the cache
// gives it.
func withSHA(t *testing.T, s spec) Wheel {
	w := s.write(t, t.TempDir())
	data, err := os.ReadFile(w.Path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	w.SHA256 = string(hexEncode(sum[:]))
	return w
}

// DeferCheck leaves the RECORD check of the members to the caller: every
// entry of a member is Unchecked with RECORD's claim as its Digest, and
// entries made here (a rewritten script, INSTALLER, RECORD) are not.
// CheckUnwritten checks the members no entry writes (data left out,
// scripts rewritten, files filtered out): one that lies there is refused
// before anything is written. The memo remembers the wheel only after
// CheckUnwritten passed and Checked is called, and a remembered wheel is
// not deferred again. A wheel whose RECORD uses another hash is checked as
// always.
func TestDeferCheck(t *testing.T) {
	ctx := context.Background()
	m := &memo{keys: map[string]bool{}}
	w := withSHA(t, richSpec())
	p := build(t, []Wheel{w}, Options{Layout: LayerLayout(), Memo: m, DeferCheck: true})
	if !p.Deferred() {
		t.Fatal("not deferred")
	}
	for _, e := range p.Entries {
		if e.Unchecked != (e.Member != nil) {
			t.Errorf("%s: Unchecked %v, member %v", e.Path, e.Unchecked, e.Member != nil)
		}
	}
	for _, f := range p.Files() {
		if f.Unchecked != (f.Member != nil) {
			t.Errorf("tree file %s: Unchecked %v", f.Path, f.Unchecked)
		}
	}
	checkRecords(t, p)
	p.Checked()
	if m.puts != 0 {
		t.Fatal("remembered before CheckUnwritten")
	}
	if err := p.CheckUnwritten(ctx); err != nil {
		t.Fatal(err)
	}
	p.Checked()
	if !m.keys[memoKey(w.SHA256)] {
		t.Fatal("not remembered after the checks")
	}
	again := build(t, []Wheel{w}, Options{Layout: LayerLayout(), Memo: m, DeferCheck: true})
	if again.Deferred() || slices.ContainsFunc(again.Entries, func(e Entry) bool { return e.Unchecked }) {
		t.Error("a remembered wheel was deferred again")
	}

	// A lying member the plan does not write: refused by CheckUnwritten.
	s := spec{name: "liar", version: "1.0", members: []member{file("liar/__init__.py", "x = 1\n"), file("liar/tests/test_a.py", "a = 1\n")}}
	s.editRecord = lyingRecord("liar/tests/test_a.py", "b = 2\n")
	lw := withSHA(t, s)
	lp := build(t, []Wheel{lw}, Options{Layout: LayerLayout(), Memo: m, DeferCheck: true})
	lp.Filter(func(e *Entry) bool { return !strings.Contains(e.Path, "/tests/") })
	err := lp.CheckUnwritten(ctx)
	var we *WheelError
	if !errors.As(err, &we) || we.Wheel != s.fileName() || !strings.Contains(err.Error(), "does not match") {
		t.Fatalf("a lying member left out: %v", err)
	}
	lp.Checked()
	if m.keys[memoKey(lw.SHA256)] {
		t.Error("a wheel that failed its check was remembered")
	}
	// A lying member the plan writes: left to the sink (its entry holds
	// RECORD's claim, Unchecked).
	s.editRecord = lyingRecord("liar/__init__.py", "y = 2\n")
	lw = withSHA(t, s)
	lp = build(t, []Wheel{lw}, Options{Layout: LayerLayout(), DeferCheck: true})
	if err := lp.CheckUnwritten(ctx); err != nil {
		t.Fatal(err)
	}
	if e := entryMap(lp)["python/liar/__init__.py"]; e == nil || !e.Unchecked || (RecordEntry{Algorithm: "sha256", Digest: e.Digest, Size: e.Size}).Validate(content(t, e)) {
		t.Errorf("the lying member's entry: %+v", e)
	}
	// Without DeferCheck, as always: refused.
	if _, err := Build(ctx, []Wheel{lw}, Options{Layout: LayerLayout()}); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("checked at once: %v", err)
	}
	// Another hash: checked at once.
	s.editRecord = func(rows []string) []string {
		sum := sha512.Sum512([]byte("y = 2\n"))
		rows[0] = "liar/__init__.py,sha512=" + digestString(sum[:]) + ",6"
		return rows
	}
	if _, err := Build(ctx, []Wheel{withSHA(t, s)}, Options{Layout: LayerLayout(), DeferCheck: true}); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("a sha512 RECORD with DeferCheck: %v", err)
	}
}

// Two distributions declaring one console script (llama-parse and
// llama-cloud-services both declare llama-parse): pip installs both and the
// one installed last, the one that requires the other, keeps the script.
// Build does the same and says so, where any other shared path is refused.
func TestSharedConsoleScriptIsReplacedAsPipDoes(t *testing.T) {
	dir := t.TempDir()
	base := spec{name: "cloud-svc", version: "0.6", members: []member{
		file("cloud_svc/__init__.py", ""),
		file("cloud_svc-0.6.dist-info/entry_points.txt", "[console_scripts]\nparse-tool = cloud_svc.cli:main\n"),
	}}.write(t, dir)
	// "aaa-parse" sorts before "cloud-svc", so taking the dependent's script
	// is not an accident of name order.
	dependent := spec{name: "aaa-parse", version: "0.6", members: []member{
		file("aaa_parse/__init__.py", ""),
		file("aaa_parse-0.6.dist-info/METADATA", "Metadata-Version: 2.1\nName: aaa-parse\nVersion: 0.6\nRequires-Dist: cloud-svc>=0.6\n"),
		file("aaa_parse-0.6.dist-info/entry_points.txt", "[console_scripts]\nparse-tool = aaa_parse.cli:main\n"),
	}}.write(t, dir)
	for _, layout := range []Layout{FunctionLayout(), LayerLayout()} {
		p := build(t, []Wheel{base, dependent}, Options{Layout: layout})
		script := entryMap(p)["bin/parse-tool"]
		if script == nil || !bytes.Contains(script.Data, []byte("aaa_parse.cli")) || script.Dist != "aaa-parse" {
			t.Fatalf("%+v: bin/parse-tool = %+v, want aaa-parse's launcher", layout, script)
		}
		if len(p.Replaced) != 1 || p.Replaced[0] != (Replaced{Path: "bin/parse-tool", Kept: "aaa_parse-0.6-py3-none-any.whl", Lost: "cloud_svc-0.6-py3-none-any.whl"}) {
			t.Errorf("Replaced = %+v", p.Replaced)
		}
		checkRecords(t, p)
		for _, d := range p.Dists {
			rec := entryMap(p)[d.DistInfo+"RECORD"].Data
			if got, want := bytes.Contains(rec, []byte("bin/parse-tool,")), d.Name == "aaa-parse"; got != want {
				t.Errorf("%s RECORD lists bin/parse-tool: %v, want %v:\n%s", d.Name, got, want, rec)
			}
		}
	}
	// Neither requires the other: the first by name keeps it.
	other := spec{name: "zzz-parse", version: "1.0", members: []member{
		file("zzz_parse/__init__.py", ""),
		file("zzz_parse-1.0.dist-info/entry_points.txt", "[console_scripts]\nparse-tool = zzz_parse.cli:main\n"),
	}}.write(t, dir)
	p := build(t, []Wheel{other, base}, Options{Layout: FunctionLayout()})
	if s := entryMap(p)["bin/parse-tool"]; s == nil || s.Dist != "cloud-svc" {
		t.Errorf("bin/parse-tool = %+v, want cloud-svc's", s)
	}
	checkRecords(t, p)
	// Outside the scripts folder a shared path with other bytes is still refused.
	clash := spec{name: "clash", version: "1.0", members: []member{file("cloud_svc/__init__.py", "x = 1\n")}}.write(t, dir)
	var ce *ConflictError
	if _, err := Build(context.Background(), []Wheel{base, clash}, Options{Layout: FunctionLayout()}); !errors.As(err, &ce) {
		t.Errorf("err = %v, want *ConflictError", err)
	}
}
