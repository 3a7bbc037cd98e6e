package reqfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/lambdapack/lambdapack/internal/index"
	"github.com/lambdapack/lambdapack/internal/names"
	"github.com/lambdapack/lambdapack/internal/pep508"
)

// Requirement is one requirement line.
type Requirement struct {
	pep508.Requirement
	// Source is where it came from: "path/requirements.txt:12",
	// "<stdin>:3" or "<argument 2>".
	Source string
	// Hashes are the line's --hash values as "algorithm:hex", in order.
	Hashes []string
	// Line is the logical line as written (continuations joined, comments
	// and variables not yet handled), for messages.
	Line string
}

// Options are the settings requirements files carry besides requirements.
type Options struct {
	// Index holds -i/--index-url, --extra-index-url, -f/--find-links and
	// --no-index; pass it as index.Overrides.Requirements.
	Index index.Settings
	// OnlyBinary and NoBinary are pip's format control sets: canonical
	// names or ":all:", after pip's mutual-exclusion rules.
	OnlyBinary []string
	NoBinary   []string
	// Pre is --pre: allow prereleases.
	Pre bool
	// Prerelease is the pre-release policy as uv's --prerelease spells it
	// (allow, disallow, if-necessary, explicit, if-necessary-or-explicit);
	// "" is the default. Requirements files never set it: it comes from
	// the command line or the project's config.
	Prerelease string
	// RequireHashes is set by --require-hashes or by any --hash: every
	// requirement then needs hashes (pip's hash-checking mode).
	RequireHashes bool
}

// AllowedFormats says which distribution formats pip's format control
// allows for a project: wheels (binary) and/or sdists (source).
func (o Options) AllowedFormats(name string) (binary, source bool) {
	n := names.Canonical(name)
	switch {
	case slices.Contains(o.OnlyBinary, n):
		return true, false
	case slices.Contains(o.NoBinary, n):
		return false, true
	case slices.Contains(o.OnlyBinary, ":all:"):
		return true, false
	case slices.Contains(o.NoBinary, ":all:"):
		return false, true
	}
	return true, true
}

// Set is the result of reading requirements.
type Set struct {
	Requirements []Requirement
	Constraints  []Requirement
	Options      Options
}

// Unhashed returns the requirements without --hash values; in
// hash-checking mode (Options.RequireHashes) each is an error for the
// caller to report.
func (s *Set) Unhashed() []Requirement {
	var out []Requirement
	for _, r := range s.Requirements {
		if len(r.Hashes) == 0 {
			out = append(out, r)
		}
	}
	return out
}

// Merge adds o's requirements, constraints and options to s (o's index
// URL wins only when s has none; lists are appended).
func (s *Set) Merge(o *Set) {
	s.Requirements = append(s.Requirements, o.Requirements...)
	s.Constraints = append(s.Constraints, o.Constraints...)
	if s.Options.Index.IndexURL == "" {
		s.Options.Index.IndexURL = o.Options.Index.IndexURL
	}
	s.Options.Index.ExtraIndexURLs = appendNew(s.Options.Index.ExtraIndexURLs, o.Options.Index.ExtraIndexURLs...)
	s.Options.Index.FindLinks = appendNew(s.Options.Index.FindLinks, o.Options.Index.FindLinks...)
	s.Options.Index.NoIndex = s.Options.Index.NoIndex || o.Options.Index.NoIndex
	fc := formatControl{only: set(s.Options.OnlyBinary), no: set(s.Options.NoBinary)}
	for _, n := range o.Options.OnlyBinary {
		fc.handle(n, fc.only, fc.no)
	}
	for _, n := range o.Options.NoBinary {
		fc.handle(n, fc.no, fc.only)
	}
	s.Options.OnlyBinary, s.Options.NoBinary = fc.lists()
	s.Options.Pre = s.Options.Pre || o.Options.Pre
	if s.Options.Prerelease == "" {
		s.Options.Prerelease = o.Options.Prerelease
	}
	s.Options.RequireHashes = s.Options.RequireHashes || o.Options.RequireHashes
}

func appendNew(list []string, more ...string) []string {
	for _, m := range more {
		if !slices.Contains(list, m) {
			list = append(list, m)
		}
	}
	return list
}

// Error is a problem at a line of a requirements input.
type Error struct {
	Source string // "file:line" or "<argument 2>"
	Msg    string
	Err    error
}

func (e *Error) Error() string {
	s := e.Source + ": " + e.Msg
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Option configures parsing.
type Option func(*parser)

// WithGetenv replaces os.LookupEnv for ${VAR} expansion.
func WithGetenv(f func(string) (string, bool)) Option { return func(p *parser) { p.getenv = f } }

// WithStdin sets the reader behind "-" (default os.Stdin).
func WithStdin(r io.Reader) Option { return func(p *parser) { p.stdin = r } }

// WithDir sets the folder that paths in arguments and on standard input
// are relative to (default: the working directory).
func WithDir(dir string) Option { return func(p *parser) { p.dir = dir } }

type parser struct {
	getenv func(string) (string, bool)
	stdin  io.Reader
	dir    string
	set    *Set
	fc     formatControl
	active map[string]bool // files being read, for include cycles
}

func newParser(opts []Option) *parser {
	p := &parser{getenv: os.LookupEnv, stdin: os.Stdin, set: &Set{}, fc: formatControl{only: map[string]bool{}, no: map[string]bool{}}, active: map[string]bool{}}
	for _, o := range opts {
		o(p)
	}
	if p.dir == "" {
		p.dir, _ = os.Getwd()
	}
	return p
}

func (p *parser) finish() *Set {
	p.set.Options.OnlyBinary, p.set.Options.NoBinary = p.fc.lists()
	return p.set
}

// ParseFile reads a requirements file; "-" reads standard input.
func ParseFile(path string, opts ...Option) (*Set, error) {
	p := newParser(opts)
	if err := p.file(path, false, ""); err != nil {
		return nil, err
	}
	return p.finish(), nil
}

// Parse reads requirements text; name labels it in messages (e.g.
// "requirements.txt") and dir is the folder its relative paths are
// relative to ("" for the working directory).
func Parse(r io.Reader, name, dir string, opts ...Option) (*Set, error) {
	p := newParser(opts)
	if dir == "" {
		dir = p.dir
	}
	if err := p.reader(r, name, dir, false); err != nil {
		return nil, err
	}
	return p.finish(), nil
}

// ParseArgs reads requirements given as arguments: each argument is one
// requirement (a PEP 508 string, "name @ url", or a wheel path or URL).
func ParseArgs(args []string, opts ...Option) (*Set, error) {
	p := newParser(opts)
	for i, a := range args {
		src := fmt.Sprintf("<argument %d>", i+1)
		line := strings.TrimSpace(a)
		if line == "" {
			return nil, &Error{Source: src, Msg: "empty requirement"}
		}
		if strings.HasPrefix(line, "-") {
			return nil, &Error{Source: src, Msg: fmt.Sprintf("%q looks like an option, not a requirement (use -r FILE for requirements files)", clip(line))}
		}
		r, err := p.requirement(line, src, p.dir)
		if err != nil {
			return nil, err
		}
		p.set.Requirements = append(p.set.Requirements, r)
	}
	return p.finish(), nil
}

// file reads path (relative to base when not absolute).
func (p *parser) file(path string, constraint bool, base string) error {
	if path == "-" {
		return p.reader(p.stdin, "<stdin>", p.dir, constraint)
	}
	if u, err := url.Parse(path); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		return fmt.Errorf("requirements files from URLs (%s) are not supported: download it and pass the local path", index.Redact(path))
	}
	if base != "" && !filepath.IsAbs(path) {
		path = filepath.Join(base, path)
	}
	shown := clip(path)
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("reading requirements file %s: %w", shown, err)
	}
	if p.active[abs] {
		return fmt.Errorf("requirements file %s includes itself (through -r or -c)", shown)
	}
	if abs == os.DevNull {
		return nil // the one device allowed: empty, and a common "no constraints"
	}
	f, err := openRegular(path, abs)
	if err != nil {
		return fmt.Errorf("reading requirements file %s: %w", shown, err)
	}
	defer f.Close()
	p.active[abs] = true
	defer delete(p.active, abs)
	return p.reader(f, path, filepath.Dir(abs), constraint)
}

// openRegular opens a requirements file, refusing anything but a regular
// file: a folder, a device, a pipe or socket, and the kernel's pseudo-files
// under /proc, /sys and /dev (which stat calls regular: -r
// /proc/self/environ would otherwise read the environment, and an error
// would echo it).
func openRegular(path, abs string) (*os.File, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("it is %s, not a regular file: give the path of a requirements file (or - for standard input)", modeText(st.Mode()))
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, err
	}
	for _, dir := range []string{"/proc/", "/sys/", "/dev/"} {
		if strings.HasPrefix(filepath.ToSlash(real), dir) {
			return nil, fmt.Errorf("it is a kernel pseudo-file (under %s), not a requirements file: give the path of a requirements file (or - for standard input)", strings.TrimSuffix(dir, "/"))
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	// Checked again on what was opened: the path may have changed since.
	if st2, err := f.Stat(); err != nil || !st2.Mode().IsRegular() || !os.SameFile(st, st2) {
		f.Close()
		return nil, errors.New("it changed while being opened; try again")
	}
	return f, nil
}

// modeText names a kind of file that is not a regular file.
func modeText(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a folder"
	case m&os.ModeNamedPipe != 0:
		return "a named pipe"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeCharDevice != 0:
		return "a character device"
	case m&os.ModeDevice != 0:
		return "a block device"
	}
	return "a special file (" + m.Type().String() + ")"
}

// maxEcho is how much of an input line an error message repeats: enough to
// recognise the line, never a whole file read by mistake.
const maxEcho = 100

// clip cuts s to maxEcho bytes (at a character boundary) for an error
// message, saying how much was left out.
func clip(s string) string {
	if len(s) <= maxEcho {
		return s
	}
	cut := maxEcho
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s... (%d more bytes)", s[:cut], len(s)-cut)
}

// clipParseError shortens the line a PEP 508 parse error repeats to a
// window around its caret.
func clipParseError(err error) error {
	var pe *pep508.ParseError
	if !errors.As(err, &pe) {
		return err
	}
	rs := []rune(pe.Input)
	if len(rs) <= maxEcho {
		return err
	}
	lo := max(0, pe.Start-maxEcho/4)
	if pe.Pos-lo > maxEcho*3/4 {
		lo = pe.Pos - maxEcho*3/4
	}
	hi := min(len(rs), lo+maxEcho)
	in, shift := string(rs[lo:hi]), lo
	if lo > 0 {
		in, shift = "..."+in, lo-3
	}
	if hi < len(rs) {
		in += fmt.Sprintf("... (%d characters in all)", len(rs))
	}
	return &pep508.ParseError{Input: in, Pos: pe.Pos - shift, Start: max(pe.Start, lo) - shift, Msg: pe.Msg}
}

var (
	commentRE = regexp.MustCompile(`(^|\s+)#.*$`)
	envVarRE  = regexp.MustCompile(`\$\{([A-Z0-9_]+)\}`)
)

type logicalLine struct {
	n    int
	text string
}

// joinLines joins backslash continuations the way pip does.
func joinLines(r io.Reader) ([]logicalLine, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16<<20)
	var out []logicalLine
	var cur []string
	start, n := 0, 0
	for sc.Scan() {
		n++
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.IndexByte(line, 0) >= 0 {
			return nil, fmt.Errorf("line %d holds a NUL byte: this is not a requirements (text) file", n)
		}
		if n == 1 {
			line = strings.TrimPrefix(line, "\ufeff")
		}
		isComment := commentRE.MatchString(line) && strings.HasPrefix(strings.TrimSpace(line), "#")
		if !strings.HasSuffix(line, `\`) || isComment {
			if isComment {
				line = " " + line
			}
			if cur != nil {
				cur = append(cur, line)
				out = append(out, logicalLine{start, strings.Join(cur, "")})
				cur = nil
			} else {
				out = append(out, logicalLine{n, line})
			}
			continue
		}
		if cur == nil {
			start = n
		}
		cur = append(cur, strings.TrimSuffix(line, `\`))
	}
	if cur != nil {
		out = append(out, logicalLine{start, strings.Join(cur, "")})
	}
	return out, sc.Err()
}

func (p *parser) reader(r io.Reader, name, dir string, constraint bool) error {
	lines, err := joinLines(r)
	if err != nil {
		return fmt.Errorf("reading %s: %w", name, err)
	}
	for _, ll := range lines {
		src := fmt.Sprintf("%s:%d", name, ll.n)
		text := strings.TrimSpace(commentRE.ReplaceAllString(ll.text, ""))
		if text == "" {
			continue
		}
		text = envVarRE.ReplaceAllStringFunc(text, func(m string) string {
			if v, ok := p.getenv(m[2 : len(m)-1]); ok {
				return v
			}
			return m
		})
		if err := p.line(text, ll.text, src, dir, constraint); err != nil {
			var e *Error
			if errors.As(err, &e) {
				return err
			}
			return &Error{Source: src, Msg: clip(strings.TrimSpace(ll.text)), Err: err}
		}
	}
	return nil
}

// splitArgsOptions splits a line into the requirement part (tokens before
// the first one starting with "-") and option tokens, like pip.
func splitArgsOptions(line string) (string, []string) {
	fields := strings.Fields(line)
	for i, f := range fields {
		if strings.HasPrefix(f, "-") {
			return strings.Join(fields[:i], " "), fields[i:]
		}
	}
	return strings.Join(fields, " "), nil
}

// option names -> whether they take a value
var fileOptions = map[string]bool{
	"-r":                true,
	"--requirement":     true,
	"-c":                true,
	"--constraint":      true,
	"-i":                true,
	"--index-url":       true,
	"--extra-index-url": true,
	"-f":                true,
	"--find-links":      true,
	"--no-index":        false,
	"--only-binary":     true,
	"--no-binary":       true,
	"--pre":             false,
	"--require-hashes":  false,
	"--prefer-binary":   false,
	"--trusted-host":    true,
	"--use-feature":     true,
	"-e":                true,
	"--editable":        true,
	"-Z":                false,
	"--always-unzip":    false,
	"--hash":            true,
	"--config-settings": true,
	"--global-option":   true,
	"--install-option":  true,
}

type opt struct{ name, value string }

// parseOptions reads option tokens: "--x=v", "--x v", "-rfile", "-r file".
func parseOptions(toks []string) ([]opt, error) {
	var out []opt
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		name, val, hasEq := strings.Cut(t, "=")
		if !strings.HasPrefix(t, "--") && len(t) > 2 {
			name, val, hasEq = t[:2], t[2:], true // -rfile
		}
		takes, known := fileOptions[name]
		if !known {
			return nil, fmt.Errorf("unknown option %s", name)
		}
		if !takes {
			if hasEq {
				return nil, fmt.Errorf("option %s takes no value", name)
			}
			out = append(out, opt{name, ""})
			continue
		}
		if !hasEq {
			if i+1 >= len(toks) {
				return nil, fmt.Errorf("option %s needs a value", name)
			}
			i++
			val = toks[i]
		}
		out = append(out, opt{name, val})
	}
	return out, nil
}

func (p *parser) line(text, raw, src, dir string, constraint bool) error {
	args, optToks := splitArgsOptions(text)
	opts, err := parseOptions(optToks)
	if err != nil {
		return &Error{Source: src, Msg: err.Error()}
	}
	for _, o := range opts {
		if o.name == "-e" || o.name == "--editable" {
			return &Error{Source: src, Msg: "editable requirements (-e) cannot go into a Lambda artifact: install the project as a regular requirement (a wheel or `name @ path`) instead"}
		}
	}
	if args != "" {
		r, err := p.requirement(args, src, dir)
		if err != nil {
			return err
		}
		r.Line = strings.TrimSpace(raw)
		for _, o := range opts {
			switch o.name {
			case "--hash":
				alg, hex, ok := strings.Cut(o.value, ":")
				if !ok || alg == "" || hex == "" {
					return &Error{Source: src, Msg: fmt.Sprintf("--hash=%s: want algorithm:hexdigest, e.g. --hash=sha256:...", clip(o.value))}
				}
				switch strings.ToLower(alg) {
				case "sha256", "sha384", "sha512":
				default:
					return &Error{Source: src, Msg: fmt.Sprintf("--hash algorithm %q is not allowed (use sha256, sha384 or sha512)", clip(alg))}
				}
				r.Hashes = append(r.Hashes, strings.ToLower(alg)+":"+strings.ToLower(hex))
				p.set.Options.RequireHashes = true
			case "--config-settings", "--global-option", "--install-option":
				return &Error{Source: src, Msg: o.name + " is not supported: lambdapack installs wheels and does not run builds"}
			default:
				return &Error{Source: src, Msg: o.name + " cannot follow a requirement on the same line (put it on a line of its own)"}
			}
		}
		if constraint {
			p.set.Constraints = append(p.set.Constraints, r)
		} else {
			p.set.Requirements = append(p.set.Requirements, r)
		}
		return nil
	}
	ix := &p.set.Options.Index
	for _, o := range opts {
		switch o.name {
		case "-r", "--requirement":
			if err := p.file(o.value, constraint, dir); err != nil {
				return wrapAt(src, err)
			}
		case "-c", "--constraint":
			if err := p.file(o.value, true, dir); err != nil {
				return wrapAt(src, err)
			}
		case "-i", "--index-url":
			ix.IndexURL = o.value
		case "--extra-index-url":
			ix.ExtraIndexURLs = appendNew(ix.ExtraIndexURLs, o.value)
		case "-f", "--find-links":
			v := o.value
			// A relative local path is relative to the file, when it
			// exists there (pip's rule).
			if u, err := url.Parse(v); (err != nil || u.Scheme == "" || len(u.Scheme) == 1) && !filepath.IsAbs(v) {
				if cand := filepath.Join(dir, v); exists(cand) {
					v = cand
				}
			}
			ix.FindLinks = appendNew(ix.FindLinks, v)
		case "--no-index":
			ix.NoIndex = true
		case "--only-binary":
			if err := p.fc.handle(o.value, p.fc.only, p.fc.no); err != nil {
				return &Error{Source: src, Msg: err.Error()}
			}
		case "--no-binary":
			if err := p.fc.handle(o.value, p.fc.no, p.fc.only); err != nil {
				return &Error{Source: src, Msg: err.Error()}
			}
		case "--pre":
			p.set.Options.Pre = true
		case "--require-hashes":
			p.set.Options.RequireHashes = true
		case "--prefer-binary", "--trusted-host", "--use-feature", "-Z", "--always-unzip":
			// Accepted and ignored: wheels are always preferred, TLS is
			// always verified.
		case "--hash", "--config-settings", "--global-option", "--install-option":
			return &Error{Source: src, Msg: o.name + " must follow a requirement on the same line"}
		}
	}
	return nil
}

func wrapAt(src string, err error) error {
	var e *Error
	if errors.As(err, &e) {
		return err // the inner file's line is the useful one
	}
	return &Error{Source: src, Msg: "including", Err: err}
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

var schemeRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*://`)

// requirement parses a requirement argument: a PEP 508 string, or a wheel
// path/URL (with an optional "; marker").
func (p *parser) requirement(arg, src, dir string) (Requirement, error) {
	spec, marker := arg, ""
	isURL := schemeRE.MatchString(arg)
	looksPath := isURL || strings.HasPrefix(arg, ".") || strings.HasPrefix(arg, "/") || strings.HasPrefix(arg, "~") ||
		strings.Contains(strings.SplitN(arg, ";", 2)[0], string(filepath.Separator)) && !strings.Contains(arg, "@")
	if looksPath {
		// pip's rule for URL/path lines: a marker follows "; ".
		if i := strings.Index(arg, "; "); i >= 0 {
			spec, marker = strings.TrimSpace(arg[:i]), strings.TrimSpace(arg[i+2:])
		} else if i := strings.Index(arg, " ;"); i >= 0 {
			spec, marker = strings.TrimSpace(arg[:i]), strings.TrimSpace(arg[i+2:])
		}
		return p.pathRequirement(spec, marker, src, dir, isURL)
	}
	r, err := pep508.ParseRequirement(arg)
	if err != nil {
		return Requirement{}, &Error{Source: src, Msg: "invalid requirement", Err: clipParseError(err)}
	}
	if r.URL != "" {
		r.URL = resolveLocalURL(r.URL, dir)
	}
	return Requirement{Requirement: r, Source: src, Line: arg}, nil
}

// resolveLocalURL makes file: URLs with relative paths absolute.
func resolveLocalURL(u, dir string) string {
	if rest, ok := strings.CutPrefix(u, "file:"); ok && !strings.HasPrefix(rest, "//") && !filepath.IsAbs(rest) {
		return (&url.URL{Scheme: "file", Path: filepath.ToSlash(filepath.Join(dir, rest))}).String()
	}
	return u
}

// pathRequirement turns a wheel path or URL into "name @ url".
func (p *parser) pathRequirement(spec, marker, src, dir string, isURL bool) (Requirement, error) {
	var u string
	var base string
	if isURL {
		pu, err := url.Parse(spec)
		if err != nil {
			return Requirement{}, &Error{Source: src, Msg: "invalid URL " + clip(index.Redact(spec)), Err: err}
		}
		base = filepath.Base(pu.Path)
		if pu.Scheme == "file" {
			if !exists(pu.Path) {
				return Requirement{}, &Error{Source: src, Msg: fmt.Sprintf("no such file %s", clip(pu.Path))}
			}
		}
		u = spec
		if !strings.HasSuffix(strings.ToLower(base), ".whl") {
			// `name @ URL` is refused as well for these, so the advice is
			// where lambdapack does take them from.
			if strings.Contains(pu.Scheme, "+") {
				return Requirement{}, &Error{Source: src, Msg: fmt.Sprintf("%s is a repository: lambdapack does not check out VCS URLs; require a released version from the index (name==X.Y), or build a wheel of it (pip wheel URL -w FOLDER) and pass --find-links FOLDER", clip(index.Redact(spec)))}
			}
			return Requirement{}, &Error{Source: src, Msg: fmt.Sprintf("%s is not a wheel URL: lambdapack takes only wheels by URL, and builds sdists found on an index or in a --find-links folder: put the file in a folder and pass --find-links FOLDER, requiring the package by name", clip(index.Redact(spec)))}
		}
	} else {
		path := spec
		if strings.HasPrefix(path, "~/") {
			if home, err := os.UserHomeDir(); err == nil {
				path = filepath.Join(home, path[2:])
			}
		}
		if !filepath.IsAbs(path) {
			path = filepath.Join(dir, path)
		}
		st, err := os.Stat(path)
		if err != nil {
			return Requirement{}, &Error{Source: src, Msg: fmt.Sprintf("%s: no such file (a local wheel path is relative to the file that names it)", clip(spec))}
		}
		if st.IsDir() {
			return Requirement{}, &Error{Source: src, Msg: fmt.Sprintf("%s is a project folder: lambdapack does not build projects; build a wheel (e.g. `pip wheel --no-deps %s`) and name the .whl", clip(spec), clip(spec))}
		}
		base = filepath.Base(path)
		if !strings.HasSuffix(strings.ToLower(base), ".whl") {
			return Requirement{}, &Error{Source: src, Msg: fmt.Sprintf("%s is not a wheel: lambdapack builds sdists found on an index, not named by path; put it in a folder and pass that with --find-links (then require it by name), or name a .whl", clip(spec))}
		}
		u = (&url.URL{Scheme: "file", Path: filepath.ToSlash(path)}).String()
	}
	parts := strings.Split(strings.TrimSuffix(base, filepath.Ext(base)), "-")
	if len(parts) < 5 || !names.Valid(parts[0]) {
		return Requirement{}, &Error{Source: src, Msg: fmt.Sprintf("%s is not a valid wheel file name (name-version[-build]-python-abi-platform.whl)", clip(base))}
	}
	text := parts[0] + " @ " + u
	if marker != "" {
		text += " ; " + marker
	}
	r, err := pep508.ParseRequirement(text)
	if err != nil {
		return Requirement{}, &Error{Source: src, Msg: "invalid requirement", Err: clipParseError(err)}
	}
	return Requirement{Requirement: r, Source: src, Line: spec}, nil
}

// formatControl is pip's --only-binary / --no-binary pair.
type formatControl struct{ only, no map[string]bool }

func set(list []string) map[string]bool {
	m := map[string]bool{}
	for _, x := range list {
		m[x] = true
	}
	return m
}

// handle applies one option value to target, removing names from other,
// exactly like pip's handle_mutual_excludes.
func (fc formatControl) handle(value string, target, other map[string]bool) error {
	if strings.HasPrefix(value, "-") {
		return fmt.Errorf("--only-binary / --no-binary option requires 1 argument (got %q)", value)
	}
	items := strings.Split(value, ",")
	for {
		i := indexOf(items, ":all:")
		if i < 0 {
			break
		}
		clear(other)
		clear(target)
		target[":all:"] = true
		items = items[i+1:]
		if indexOf(items, ":none:") < 0 {
			return nil
		}
	}
	for _, n := range items {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		if n == ":none:" {
			clear(target)
			continue
		}
		c := names.Canonical(n)
		delete(other, c)
		target[c] = true
	}
	return nil
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if strings.TrimSpace(x) == s {
			return i
		}
	}
	return -1
}

func (fc formatControl) lists() (only, no []string) {
	for k := range fc.only {
		only = append(only, k)
	}
	for k := range fc.no {
		no = append(no, k)
	}
	sort.Strings(only)
	sort.Strings(no)
	return only, no
}
