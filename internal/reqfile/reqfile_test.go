package reqfile

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/lambdapack/lambdapack/internal/pep508"
	"github.com/lambdapack/lambdapack/internal/testutil"
)

func write(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func env(m map[string]string) Option {
	return WithGetenv(func(k string) (string, bool) { v, ok := m[k]; return v, ok })
}

func reqStrings(rs []Requirement) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Requirement.String())
	}
	return out
}

func TestFullFile(t *testing.T) {
	dir := t.TempDir()
	w := testutil.Wheel{Name: "local_pkg", Version: "1.2", Tags: []string{"py3-none-any"}}
	write(t, dir, "wheels/"+w.Filename(), string(w.Bytes()))
	os.MkdirAll(filepath.Join(dir, "sub", "links"), 0o755)
	write(t, dir, "sub/base.txt", "# base\nrequests[socks] >= 2.31 ; python_version >= \"3.8\"\n-c constraints.txt\n--find-links links\n")
	write(t, dir, "sub/constraints.txt", "urllib3<3\n")
	main := write(t, dir, "requirements.txt", strings.Join([]string{
		"# top comment",
		"-r sub/base.txt",
		"--index-url ${INDEX}",
		"--extra-index-url=https://extra.test/simple/",
		"-i https://override.test/${MISSING}/simple/",
		"boto3==1.34.0 \\",
		"    --hash=sha256:AAAA \\",
		"    --hash=sha256:bbbb   # trailing comment",
		"numpy>=1.26  # comment",
		"pkg @ https://host.test/pkg-1.0-py3-none-any.whl",
		"./wheels/" + w.Filename() + "; sys_platform == 'linux'",
		"--only-binary :all:",
		"--no-binary=legacy-thing",
		"--pre",
		"",
	}, "\n"))
	s, err := ParseFile(main, env(map[string]string{"INDEX": "https://env.test/simple/"}))
	if err != nil {
		t.Fatal(err)
	}
	got := reqStrings(s.Requirements)
	want := []string{
		`requests[socks]>=2.31; python_version >= "3.8"`,
		"boto3==1.34.0",
		"numpy>=1.26",
		"pkg @ https://host.test/pkg-1.0-py3-none-any.whl",
		"local_pkg @ file://" + filepath.Join(dir, "wheels", w.Filename()) + ` ; sys_platform == "linux"`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("requirements\n got %q\nwant %q", got, want)
	}
	if s.Requirements[0].Source != filepath.Join(dir, "sub/base.txt")+":2" || s.Requirements[1].Source != main+":6" || s.Requirements[2].Source != main+":9" {
		t.Fatalf("sources %q %q %q", s.Requirements[0].Source, s.Requirements[1].Source, s.Requirements[2].Source)
	}
	if !reflect.DeepEqual(s.Requirements[1].Hashes, []string{"sha256:aaaa", "sha256:bbbb"}) || !s.Options.RequireHashes {
		t.Fatalf("hashes %v %v", s.Requirements[1].Hashes, s.Options.RequireHashes)
	}
	if len(s.Unhashed()) != 4 {
		t.Fatalf("unhashed %d", len(s.Unhashed()))
	}
	if got := reqStrings(s.Constraints); !reflect.DeepEqual(got, []string{"urllib3<3"}) {
		t.Fatalf("constraints %q", got)
	}
	// Later -i wins; undefined ${MISSING} stays as written (pip).
	if s.Options.Index.IndexURL != "https://override.test/${MISSING}/simple/" {
		t.Fatalf("index url %q", s.Options.Index.IndexURL)
	}
	if !reflect.DeepEqual(s.Options.Index.ExtraIndexURLs, []string{"https://extra.test/simple/"}) {
		t.Fatalf("extra %v", s.Options.Index.ExtraIndexURLs)
	}
	if !reflect.DeepEqual(s.Options.Index.FindLinks, []string{filepath.Join(dir, "sub", "links")}) {
		t.Fatalf("find-links %v (relative to the including file)", s.Options.Index.FindLinks)
	}
	if !s.Options.Pre || !reflect.DeepEqual(s.Options.OnlyBinary, []string{":all:"}) || !reflect.DeepEqual(s.Options.NoBinary, []string{"legacy-thing"}) {
		t.Fatalf("options %+v", s.Options)
	}
	if b, src := s.Options.AllowedFormats("Legacy_Thing"); b || !src {
		t.Fatal("legacy-thing should be source only")
	}
	if b, src := s.Options.AllowedFormats("numpy"); !b || src {
		t.Fatal(":all: only-binary")
	}
}

func TestEnvExpansion(t *testing.T) {
	s, err := Parse(strings.NewReader("pkg==${VERSION}\n--index-url https://${USER_TOKEN}@idx.test/simple/\n"), "r.txt", "", env(map[string]string{"VERSION": "1.0", "USER_TOKEN": "tok"}))
	if err != nil {
		t.Fatal(err)
	}
	if s.Requirements[0].Requirement.String() != "pkg==1.0" || s.Options.Index.IndexURL != "https://tok@idx.test/simple/" {
		t.Fatalf("%+v", s)
	}
}

func TestErrorsCarryFileLine(t *testing.T) {
	dir := t.TempDir()
	cases := []struct{ text, want string }{
		{"ok==1\n\nbad==(\n", "r.txt:3: invalid requirement"},
		{"# c\n-e ./project\n", "r.txt:2: editable requirements (-e)"},
		{"--editable=git+https://x.test/r.git\n", "r.txt:1: editable"},
		{"pkg \\\n  ==1 \\\n  --frobnicate\n", "r.txt:1: unknown option --frobnicate"},
		{"pkg --hash=md5:abc\n", "r.txt:1: --hash algorithm \"md5\""},
		{"pkg --hash=nocolon\n", "r.txt:1: --hash=nocolon"},
		{"-r missing.txt\n", "r.txt:1: including: reading requirements file"},
		{"./nope-1.0-py3-none-any.whl\n", "r.txt:1: ./nope-1.0-py3-none-any.whl: no such file"},
		{"https://host.test/pkg-1.0.tar.gz\n", "r.txt:1: https://host.test/pkg-1.0.tar.gz is not a wheel URL"},
		// The advice must lead somewhere: `name @ URL` of an sdist or a
		// repository is refused too, so it is not what to write.
		{"https://host.test/pkg-1.0.tar.gz\n", "put the file in a folder and pass --find-links FOLDER"},
		{"git+https://host.test/org/pkg@v1.0\n", "r.txt:1: git+https://host.test/org/pkg@v1.0 is a repository: lambdapack does not check out VCS URLs"},
		{"--index-url\n", "r.txt:1: option --index-url needs a value"},
		{"--hash=sha256:abc\n", "r.txt:1: --hash must follow a requirement"},
	}
	for _, tc := range cases {
		p := write(t, dir, "r.txt", tc.text)
		_, err := ParseFile(p)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: want %q in error, got %v", tc.text, tc.want, err)
		}
		var e *Error
		if err != nil && !errors.As(err, &e) {
			t.Errorf("%q: error is %T, want *Error", tc.text, err)
		}
	}
	// The caret display of pep508 errors comes through.
	_, err := Parse(strings.NewReader("x\nrequests >= = 2\n"), "reqs.in", "")
	var pe *pep508.ParseError
	if !errors.As(err, &pe) || !strings.HasPrefix(err.Error(), "reqs.in:2: invalid requirement") {
		t.Fatalf("%v", err)
	}
	// Errors in an included file name that file's line.
	write(t, dir, "inner.txt", "fine\nnot valid!!\n")
	outer := write(t, dir, "outer.txt", "-r inner.txt\n")
	_, err = ParseFile(outer)
	if err == nil || !strings.Contains(err.Error(), "inner.txt:2: invalid requirement") {
		t.Fatalf("%v", err)
	}
	// Include cycles are caught.
	write(t, dir, "a.txt", "-r b.txt\n")
	write(t, dir, "b.txt", "-r a.txt\n")
	_, err = ParseFile(filepath.Join(dir, "a.txt"))
	if err == nil || !strings.Contains(err.Error(), "includes itself") {
		t.Fatalf("%v", err)
	}
}

func TestStdinAndArgs(t *testing.T) {
	s, err := ParseFile("-", WithStdin(strings.NewReader("flask>=3\n-c /dev/null\n")))
	if err != nil {
		t.Fatal(err)
	}
	if s.Requirements[0].Source != "<stdin>:1" || s.Requirements[0].Name != "flask" {
		t.Fatalf("%+v", s.Requirements)
	}
	dir := t.TempDir()
	w := testutil.Wheel{Name: "mine", Version: "0.1"}
	write(t, dir, w.Filename(), string(w.Bytes()))
	s, err = ParseArgs([]string{"requests==2.32.3", "httpx[http2]", "./" + w.Filename(), "other @ https://h.test/other-1-py3-none-any.whl"}, WithDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	got := reqStrings(s.Requirements)
	want := []string{"requests==2.32.3", "httpx[http2]", "mine @ file://" + filepath.Join(dir, w.Filename()), "other @ https://h.test/other-1-py3-none-any.whl"}
	if !reflect.DeepEqual(got, want) || s.Requirements[1].Source != "<argument 2>" {
		t.Fatalf("got %q", got)
	}
	if _, err := ParseArgs([]string{"ok", "no good"}); err == nil || !strings.HasPrefix(err.Error(), "<argument 2>: invalid requirement") {
		t.Fatalf("%v", err)
	}
	if _, err := ParseArgs([]string{"-e", "."}); err == nil || !strings.Contains(err.Error(), "looks like an option") {
		t.Fatalf("%v", err)
	}
	if _, err := ParseArgs([]string{dir}); err == nil || !strings.Contains(err.Error(), "project folder") {
		t.Fatalf("%v", err)
	}
}

func TestFormatControlLikePip(t *testing.T) {
	cases := []struct {
		lines    string
		only, no []string
	}{
		{"--only-binary :all:\n--no-binary foo\n", []string{":all:"}, []string{"foo"}},
		{"--no-binary :all:\n--only-binary Foo_Bar,baz\n", []string{"baz", "foo-bar"}, []string{":all:"}},
		{"--only-binary foo\n--no-binary foo\n", nil, []string{"foo"}},
		{"--only-binary :all:,:none:,x\n", []string{"x"}, nil},
		{"--no-binary a\n--only-binary :all:\n", []string{":all:"}, nil},
	}
	for _, tc := range cases {
		s, err := Parse(strings.NewReader(tc.lines), "r.txt", "")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(s.Options.OnlyBinary, tc.only) || !reflect.DeepEqual(s.Options.NoBinary, tc.no) {
			t.Errorf("%q: only %v no %v, want %v %v", tc.lines, s.Options.OnlyBinary, s.Options.NoBinary, tc.only, tc.no)
		}
	}
}

func TestContinuationAndComments(t *testing.T) {
	text := "a \\\n  >=1 \\\n  ,<2\n# a comment ending in a backslash \\\nb\nd # comment\n\\\n\ne==1 \\\n"
	s, err := Parse(strings.NewReader(text), "r.txt", "")
	if err != nil {
		t.Fatal(err)
	}
	got := reqStrings(s.Requirements)
	if !reflect.DeepEqual(got, []string{"a<2,>=1", "b", "d", "e==1"}) {
		t.Fatalf("got %q", got)
	}
	// '#' not preceded by whitespace does not start a comment (pip), so
	// this line is an invalid requirement.
	if _, err := Parse(strings.NewReader("ok\nc#not-a-comment\n"), "r.txt", ""); err == nil || !strings.HasPrefix(err.Error(), "r.txt:2:") {
		t.Fatalf("%v", err)
	}
	if s.Requirements[0].Source != "r.txt:1" || s.Requirements[1].Source != "r.txt:5" {
		t.Fatalf("sources %s %s", s.Requirements[0].Source, s.Requirements[1].Source)
	}
}

func TestMerge(t *testing.T) {
	a, _ := Parse(strings.NewReader("a\n-i https://one.test/simple/\n--extra-index-url https://x.test/\n"), "a.txt", "")
	b, _ := Parse(strings.NewReader("b\n-i https://two.test/simple/\n--extra-index-url https://x.test/\n--pre\n--only-binary=b\n"), "b.txt", "")
	a.Merge(b)
	if len(a.Requirements) != 2 || a.Options.Index.IndexURL != "https://one.test/simple/" || len(a.Options.Index.ExtraIndexURLs) != 1 || !a.Options.Pre || !reflect.DeepEqual(a.Options.OnlyBinary, []string{"b"}) {
		t.Fatalf("%+v", a)
	}
}

// TestOnlyRegularFiles: -r of a folder, a pipe or a kernel pseudo-file is
// refused naming what it is, and /proc/self/environ's content (the
// environment, secrets included) never reaches an error message.
func TestOnlyRegularFiles(t *testing.T) {
	t.Setenv("LAMBDAPACK_TEST_SECRET", "s3cr3t-value-that-must-not-leak")
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "env.txt")
	if err := os.Symlink("/proc/self/environ", link); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ path, want string }{
		{dir, "it is a folder, not a regular file"},
		{fifo, "it is a named pipe, not a regular file"},
		{"/proc/self/environ", "kernel pseudo-file (under /proc)"},
		{link, "kernel pseudo-file (under /proc)"},
		{"/dev/zero", "it is a character device, not a regular file"},
	} {
		main := write(t, dir, "main.txt", "-r "+c.path+"\n")
		_, err := ParseFile(main)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.path) {
			t.Errorf("-r %s: %v, want an error naming it and saying %q", c.path, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("-r %s: the error leaks the environment: %v", c.path, err)
		}
	}
	if _, err := ParseFile(write(t, dir, "null.txt", "-c /dev/null\nflask\n")); err != nil {
		t.Errorf("-c /dev/null: %v", err)
	}
}

// TestEchoIsCut: a line that fails to parse is repeated in the error only
// in part, whatever its length, and a file holding NUL bytes is not echoed.
func TestEchoIsCut(t *testing.T) {
	dir := t.TempDir()
	secret := "TOKEN=" + strings.Repeat("x", 5000) + "-tail-secret"
	for name, text := range map[string]string{
		"pep508.txt": "numpy >= 1 " + secret + "\n",
		"path.txt":   "./" + secret + "/pkg.whl\n",
		"option.txt": "numpy --hash=" + secret + "\n",
		"nul.txt":    "A=1\x00" + secret + "\x00B=2\n",
	} {
		_, err := ParseFile(write(t, dir, name, text))
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if msg := err.Error(); len(msg) > 600 || strings.Contains(msg, "tail-secret") {
			t.Errorf("%s: the error repeats too much (%d bytes): %.300s", name, len(msg), msg)
		}
	}
	// The caret still points at the trouble when the line is cut.
	_, err := ParseArgs([]string{strings.Repeat("a", 300) + " >= 1 ; " + strings.Repeat("b", 300) + " == '1'"})
	var pe *pep508.ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("want a ParseError, got %v", err)
	}
	if r := []rune(pe.Input); pe.Pos > len(r) || len(r) > 200 {
		t.Errorf("clipped input %q (%d runes), caret at %d", pe.Input, len(r), pe.Pos)
	}
}
