package image

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/klauspost/compress/gzip"

	"github.com/lambdapack/lambdapack/internal/target"
)

// TaskRoot is where a function's dependencies and code go in every image
// lambdapack builds (LAMBDA_TASK_ROOT on AWS's bases).
const TaskRoot = "/var/task"

// LambdaEntrypoint is the entrypoint of AWS's Lambda base images.
const LambdaEntrypoint = "/lambda-entrypoint.sh"

// Info is what a base image runs, read from its own files.
type Info struct {
	// OS and Architecture come from the image config (Architecture as
	// Lambda names it: x86_64 or arm64).
	OS           string      `json:"os"`
	Architecture target.Arch `json:"architecture"`
	// Interpreter is the CPython binary's absolute path in the image
	// ("/var/lang/bin/python3.12", "/usr/bin/python3.11").
	Interpreter string `json:"interpreter"`
	// Python is the full CPython version ("3.11.2"); PythonPatchKnown is
	// false when only X.Y could be read (X.Y.0 is then assumed).
	Python           string `json:"python"`
	PythonPatchKnown bool   `json:"python_patch_known"`
	// Stdlib is the interpreter's standard library folder.
	Stdlib string `json:"stdlib"`
	// Glibc is the C library's version ("2.36"), read from Libc.
	Glibc string `json:"glibc"`
	Libc  string `json:"libc"`
	// Lambda reports an AWS Lambda base: /lambda-entrypoint.sh as the
	// entrypoint and LAMBDA_TASK_ROOT in the environment.
	Lambda bool `json:"lambda"`
	// Size is the flattened filesystem's bytes (files only).
	Size int64 `json:"size"`
	// Unreadable counts files that others (the Lambda user) cannot read;
	// UnreadableExamples names a few.
	Unreadable         int      `json:"unreadable"`
	UnreadableExamples []string `json:"unreadable_examples,omitempty"`
}

// PythonMinor is "3.X".
func (i *Info) PythonMinor() string {
	p := strings.SplitN(i.Python, ".", 3)
	if len(p) < 2 {
		return i.Python
	}
	return p[0] + "." + p[1]
}

// Runtime is the Lambda runtime name of the base's Python ("python3.11").
func (i *Info) Runtime() string { return "python" + i.PythonMinor() }

// Target is the target the base's Python, glibc and architecture make.
// runtime, when not "", must name the base's Python. On a Lambda base the
// target is the runtime's own (its glibc ceiling, the manylinux tags Lambda
// takes); on any other base it is a custom target with the base's glibc.
func (i *Info) Target(runtime string) (target.Target, error) {
	if runtime != "" && runtime != i.Runtime() {
		return target.Target{}, fmt.Errorf("--runtime %s, but the base image runs Python %s (%s): drop --runtime or pick a base with Python %s",
			runtime, i.Python, i.Interpreter, strings.TrimPrefix(runtime, "python"))
	}
	if i.Lambda {
		if t, err := target.New(i.Runtime(), string(i.Architecture)); err == nil {
			if g := i.Glibc; g != "" && versionLess(g, t.Glibc()) {
				return target.Custom(i.Python, g, string(i.Architecture))
			}
			return t, nil
		}
	}
	return target.Custom(i.Python, i.Glibc, string(i.Architecture))
}

var (
	rePythonBin = regexp.MustCompile(`^python3\.(\d+)$`)
	reLibpython = regexp.MustCompile(`^libpython3\.(\d+)\.so`)
	reLibc      = regexp.MustCompile(`^(libc\.so\.6|libc-2\.\d+\.so)$`)
	reSysconfig = regexp.MustCompile(`^_sysconfigdata_.*\.py$`)
	reGlibcRel  = regexp.MustCompile(`release version (2\.\d+)`)
	reGlibcVer  = regexp.MustCompile(`GLIBC_2\.(\d+)(?:\.\d+)?\x00`)
	reSysVar    = regexp.MustCompile(`'(VERSION|SOABI|MULTIARCH)': '([^']*)'`)
)

// Bounds on what Inspect holds in memory.
const (
	maxCapture      = 64 << 20
	maxCaptureTotal = 512 << 20
	maxLinkHops     = 40
	maxExamples     = 5
)

type fsEntry struct {
	typ  byte
	mode int64
	link string
	size int64
	data []byte // captured content of the files Inspect reads
}

// Inspect reads img's flattened filesystem (whiteouts applied) and config
// to learn its Python, glibc, architecture and whether it is a Lambda base.
// A base without a CPython it can identify, or without glibc, is an error
// that says what was found.
func Inspect(ctx context.Context, img v1.Image) (*Info, error) {
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading the base image's config: %w", err)
	}
	info := &Info{OS: cf.OS}
	if cf.OS != "linux" {
		return nil, fmt.Errorf("the base image is for %q, not linux: Lambda runs linux images", cf.OS)
	}
	switch cf.Architecture {
	case "amd64":
		info.Architecture = target.X86_64
	case "arm64":
		info.Architecture = target.ARM64
	default:
		return nil, fmt.Errorf("the base image is for %q: Lambda runs amd64 (x86_64) and arm64 images", cf.Architecture)
	}
	files, err := readFS(ctx, img, info)
	if err != nil {
		return nil, err
	}
	if err := findPython(files, cf, info); err != nil {
		return nil, err
	}
	if err := findGlibc(files, info); err != nil {
		return nil, err
	}
	info.Lambda = isLambda(files, cf)
	return info, nil
}

func readFS(ctx context.Context, img v1.Image, info *Info) (map[string]*fsEntry, error) {
	rc := mutate.Extract(fastGunzip{img})
	defer rc.Close()
	tr := tar.NewReader(rc)
	files := map[string]*fsEntry{}
	var captured int64
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading the base image's layers: %w", err)
		}
		name := "/" + strings.TrimPrefix(path.Clean("/"+h.Name), "/")
		e := &fsEntry{typ: h.Typeflag, mode: h.Mode, link: h.Linkname, size: h.Size}
		files[name] = e
		if h.Typeflag != tar.TypeReg { // archive/tar reads TypeRegA as TypeReg
			continue
		}
		info.Size += h.Size
		if h.Mode&0o004 == 0 {
			info.Unreadable++
			if len(info.UnreadableExamples) < maxExamples {
				info.UnreadableExamples = append(info.UnreadableExamples, name)
			}
		}
		base := path.Base(name)
		if !(rePythonBin.MatchString(base) || reLibpython.MatchString(base) || reLibc.MatchString(base) ||
			reSysconfig.MatchString(base) && strings.Contains(name, "/lib/python3.")) {
			continue
		}
		if h.Size > maxCapture || captured+h.Size > maxCaptureTotal {
			continue
		}
		b, err := io.ReadAll(io.LimitReader(tr, h.Size))
		if err != nil {
			return nil, fmt.Errorf("reading %s from the base image: %w", name, err)
		}
		captured += int64(len(b))
		e.data = b
	}
	return files, nil
}

// resolve follows symbolic and hard links inside the image's filesystem.
func resolve(files map[string]*fsEntry, p string) (string, *fsEntry) {
	for range maxLinkHops {
		// Resolve the folders on the way first (a symlinked /bin).
		p = resolveDirs(files, p)
		e, ok := files[p]
		if !ok {
			return p, nil
		}
		switch e.typ {
		case tar.TypeSymlink:
			if strings.HasPrefix(e.link, "/") {
				p = path.Clean(e.link)
			} else {
				p = path.Join(path.Dir(p), e.link)
			}
		case tar.TypeLink:
			p = "/" + strings.TrimPrefix(path.Clean("/"+e.link), "/")
		default:
			return p, e
		}
	}
	return p, nil
}

// resolveDirs resolves symbolic links among p's parent folders.
func resolveDirs(files map[string]*fsEntry, p string) string {
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	cur := "/"
	for i, part := range parts {
		next := path.Join(cur, part)
		if i < len(parts)-1 {
			for hop := 0; hop < maxLinkHops; hop++ {
				e, ok := files[next]
				if !ok || e.typ != tar.TypeSymlink {
					break
				}
				if strings.HasPrefix(e.link, "/") {
					next = path.Clean(e.link)
				} else {
					next = path.Join(path.Dir(next), e.link)
				}
			}
		}
		cur = next
	}
	return cur
}

type pyCandidate struct {
	bin    string // as found: /usr/bin/python3.11
	real   string // after links
	minor  int
	prefix string // /usr
}

func findPython(files map[string]*fsEntry, cf *v1.ConfigFile, info *Info) error {
	var cands []pyCandidate
	for p, e := range files {
		m := rePythonBin.FindStringSubmatch(path.Base(p))
		if m == nil || path.Base(path.Dir(p)) != "bin" || (e.typ != tar.TypeReg && e.typ != tar.TypeSymlink && e.typ != tar.TypeLink) {
			continue
		}
		real, re := resolve(files, p)
		if re == nil {
			continue
		}
		minor, _ := strconv.Atoi(m[1])
		cands = append(cands, pyCandidate{bin: p, real: real, minor: minor, prefix: path.Dir(path.Dir(p))})
	}
	if len(cands) == 0 {
		return errors.New("the base image has no Python: no bin/python3.X in it. Use a base with CPython (a Lambda base, python:3.X-slim, distroless python3), or --base lambda")
	}
	slices.SortFunc(cands, func(a, b pyCandidate) int { return strings.Compare(a.bin, b.bin) })
	c, err := choosePython(cands, cf)
	if err != nil {
		return err
	}
	e := files[c.real]
	if e.data == nil {
		return fmt.Errorf("the base image's %s (%s) is too large to read (%d bytes): lambdapack cannot identify its Python", c.bin, c.real, e.size)
	}
	if err := checkELF(e.data, c.bin, info.Architecture); err != nil {
		return err
	}
	info.Interpreter = c.bin
	minor := fmt.Sprintf("3.%d", c.minor)
	stdlib := path.Join(c.prefix, "lib", "python"+minor)
	if _, os := resolve(files, path.Join(stdlib, "os.py")); os == nil {
		return fmt.Errorf("the base image's %s has no standard library (no %s/os.py): lambdapack cannot tell which Python it is", c.bin, stdlib)
	}
	info.Stdlib = stdlib
	// sysconfigdata says it is CPython, which ABI and which machine.
	vars := map[string]string{}
	for p, se := range files {
		if path.Dir(p) == stdlib && se.data != nil && reSysconfig.MatchString(path.Base(p)) {
			for _, m := range reSysVar.FindAllSubmatch(se.data, -1) {
				if _, ok := vars[string(m[1])]; !ok {
					vars[string(m[1])] = string(m[2])
				}
			}
		}
	}
	if v := vars["VERSION"]; v != "" && v != minor {
		return fmt.Errorf("the base image's %s says it is Python %s in its sysconfigdata: lambdapack cannot tell which Python it is", c.bin, v)
	}
	if soabi := vars["SOABI"]; soabi != "" {
		if !strings.HasPrefix(soabi, "cpython-") {
			return fmt.Errorf("the base image's %s is not CPython (its ABI is %s): lambdapack builds for CPython", c.bin, soabi)
		}
		if strings.HasPrefix(strings.TrimPrefix(soabi, "cpython-"), fmt.Sprintf("3%dt", c.minor)) {
			return fmt.Errorf("the base image's %s is a free-threaded CPython (%s): lambdapack builds for the default CPython build", c.bin, soabi)
		}
	}
	if ma := vars["MULTIARCH"]; ma != "" && !strings.HasPrefix(ma, info.Architecture.Machine()) {
		return fmt.Errorf("the base image's Python is built for %s, but the image config says %s", ma, info.Architecture)
	}
	// The patch level is in the interpreter (or its libpython) as the
	// PY_VERSION string.
	patch := pyVersion(e.data, c.minor)
	if patch == "" {
		for p, le := range files {
			if le.data != nil && strings.HasPrefix(p, c.prefix+"/lib") && reLibpython.MatchString(path.Base(p)) {
				if patch = pyVersion(le.data, c.minor); patch != "" {
					break
				}
			}
		}
	}
	info.Python, info.PythonPatchKnown = minor+".0", false
	if patch != "" {
		info.Python, info.PythonPatchKnown = patch, true
	}
	return nil
}

// choosePython picks the interpreter the image runs: on a Lambda base the
// runtime's (/var/lang), else the entrypoint's, else the first one on the
// image's PATH, else the only one.
func choosePython(cands []pyCandidate, cf *v1.ConfigFile) (pyCandidate, error) {
	for _, c := range cands {
		if c.prefix == "/var/lang" {
			return c, nil
		}
	}
	if ep := append(slices.Clone(cf.Config.Entrypoint), cf.Config.Cmd...); len(ep) > 0 {
		for _, c := range cands {
			if ep[0] == c.bin || ep[0] == c.real {
				return c, nil
			}
		}
	}
	for _, dir := range strings.Split(envValue(cf.Config.Env, "PATH"), ":") {
		for _, c := range cands {
			if path.Dir(c.bin) == path.Clean(dir) {
				return c, nil
			}
		}
	}
	minors := map[int]bool{}
	for _, c := range cands {
		minors[c.minor] = true
	}
	if len(minors) == 1 {
		return cands[0], nil
	}
	var names []string
	for _, c := range cands {
		names = append(names, c.bin)
	}
	return pyCandidate{}, fmt.Errorf("the base image has several Pythons (%s) and none is its entrypoint or first on its PATH: lambdapack cannot tell which one runs the function", strings.Join(names, ", "))
}

// checkELF makes sure the interpreter is an ELF for arch.
func checkELF(b []byte, name string, arch target.Arch) error {
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("the base image's %s is not an ELF executable (%v): lambdapack cannot identify its Python", name, err)
	}
	defer f.Close()
	want := elf.EM_X86_64
	if arch == target.ARM64 {
		want = elf.EM_AARCH64
	}
	if f.Machine != want {
		return fmt.Errorf("the base image's %s is built for %s, but the image config says %s: the base is mislabelled", name, f.Machine, arch)
	}
	return nil
}

// pyVersion finds the PY_VERSION string ("3.11.2", "3.13.0rc1") for
// 3.minor in an interpreter or libpython.
func pyVersion(b []byte, minor int) string {
	re := regexp.MustCompile(fmt.Sprintf(`\x003\.%d\.(\d+)((?:a|b|rc)\d+\+?|\+)?\x00`, minor))
	m := re.FindSubmatch(b)
	if m == nil {
		return ""
	}
	return fmt.Sprintf("3.%d.%s", minor, m[1])
}

func findGlibc(files map[string]*fsEntry, info *Info) error {
	machine := info.Architecture.Machine()
	dirs := []string{"/lib/" + machine + "-linux-gnu", "/usr/lib/" + machine + "-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib"}
	for _, d := range dirs {
		for _, n := range []string{"libc.so.6"} {
			real, e := resolve(files, path.Join(d, n))
			if e == nil || e.data == nil {
				continue
			}
			v := glibcVersion(real, e.data)
			if v == "" {
				return fmt.Errorf("the base image's C library %s does not say its glibc version: lambdapack cannot tell which wheels load on it", real)
			}
			info.Glibc, info.Libc = v, real
			return nil
		}
	}
	for p := range files {
		if strings.HasPrefix(path.Base(p), "ld-musl-") {
			return fmt.Errorf("the base image uses musl (%s), not glibc: Lambda's Python wheels (manylinux) need glibc; use a glibc base such as python:3.X-slim", p)
		}
	}
	return errors.New("the base image has no glibc (no libc.so.6 in /lib, /lib64 or /usr/lib): lambdapack cannot tell which wheels load on it")
}

// glibcVersion reads the version of a libc: the "release version 2.X"
// banner, else the newest GLIBC_2.X it defines, else its file name.
func glibcVersion(name string, b []byte) string {
	if m := reGlibcRel.FindSubmatch(b); m != nil {
		return string(m[1])
	}
	best := -1
	for _, m := range reGlibcVer.FindAllSubmatch(b, -1) {
		if n, err := strconv.Atoi(string(m[1])); err == nil && n > best {
			best = n
		}
	}
	if best >= 0 {
		return fmt.Sprintf("2.%d", best)
	}
	if m := regexp.MustCompile(`^libc-(2\.\d+)\.so$`).FindStringSubmatch(path.Base(name)); m != nil {
		return m[1]
	}
	return ""
}

func isLambda(files map[string]*fsEntry, cf *v1.ConfigFile) bool {
	ep := cf.Config.Entrypoint
	if len(ep) != 1 || ep[0] != LambdaEntrypoint || envValue(cf.Config.Env, "LAMBDA_TASK_ROOT") == "" {
		return false
	}
	_, e := resolve(files, LambdaEntrypoint)
	return e != nil
}

func envValue(env []string, key string) string {
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			return v
		}
	}
	return ""
}

// versionLess compares "2.26" < "2.34".
func versionLess(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		x, _ := strconv.Atoi(pa[i])
		y, _ := strconv.Atoi(pb[i])
		if x != y {
			return x < y
		}
	}
	return len(pa) < len(pb)
}

// fastGunzip is an image whose gzipped layers inflate with
// klauspost/compress, not the standard library's compress/gzip (which
// go-containerregistry's Uncompressed uses): Inspect inflates every layer
// of a base it has not seen, and on a cold build that is on the way to the
// first image (a 19 MB Debian CPython layer: 185 ms against 250-320 ms).
// The bytes are the same; layers that are not gzipped are read as the base
// gives them.
type fastGunzip struct{ v1.Image }

func (i fastGunzip) Layers() ([]v1.Layer, error) {
	ls, err := i.Image.Layers()
	if err != nil {
		return nil, err
	}
	out := make([]v1.Layer, len(ls))
	for j, l := range ls {
		out[j] = fastGunzipLayer{l}
	}
	return out, nil
}

type fastGunzipLayer struct{ v1.Layer }

func (l fastGunzipLayer) Uncompressed() (io.ReadCloser, error) {
	rc, err := l.Layer.Compressed()
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(rc, 64<<10)
	if magic, err := br.Peek(2); err != nil || magic[0] != 0x1f || magic[1] != 0x8b {
		// Not gzip (uncompressed, zstd) or unreadable: as the base reads it.
		rc.Close()
		return l.Layer.Uncompressed()
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		rc.Close()
		return nil, err
	}
	return &readCloser{Reader: zr, close: func() error { zr.Close(); return rc.Close() }}, nil
}
