package sdist

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/lambdapack/lambdapack/internal/atomicfile"
	"github.com/lambdapack/lambdapack/internal/tags"
	"github.com/lambdapack/lambdapack/internal/target"
	"github.com/lambdapack/lambdapack/internal/verify"
)

// RefusedError is a built wheel that does not load on the target: it is
// never installed.
type RefusedError struct {
	Wheel  string
	Target string
	Reason string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("the wheel built from source, %s, was refused for %s: %s", e.Wheel, e.Target, e.Reason)
}

// wheelInfo is what checking a built wheel learnt.
type wheelInfo struct {
	name  tags.WheelFilename
	elf   []string // members that are ELF files
	names []string // every member
	pure  bool     // every tag *-none-any and no ELF file
}

func inspectWheel(p string) (*wheelInfo, error) {
	wf, err := tags.ParseWheelFilename(filepath.Base(p))
	if err != nil {
		return nil, err
	}
	zr, err := zip.OpenReader(p)
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	info := &wheelInfo{name: wf}
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/") {
			continue
		}
		info.names = append(info.names, f.Name)
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Name, err)
		}
		var head [4]byte
		n, _ := io.ReadFull(rc, head[:])
		rc.Close()
		if n == 4 && string(head[:]) == "\x7fELF" {
			info.elf = append(info.elf, f.Name)
		}
	}
	info.pure = len(info.elf) == 0
	for _, t := range wf.Tags {
		if t.ABI != "none" || t.Platform != "any" || !pureInterpreter(t.Interpreter) {
			info.pure = false
		}
	}
	return info, nil
}

// pureInterpreter accepts py3, py3X, py2 (in a py2.py3 wheel).
func pureInterpreter(s string) bool {
	if !strings.HasPrefix(s, "py") {
		return false
	}
	for _, r := range s[2:] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return len(s) > 2
}

// checkPure accepts a pure fallback's wheel only if it is pure Python.
// Shared libraries (lib*.so*) it holds came prebuilt in the sdist (no
// compiler ran): they are returned to be left out, since the pure-Python
// package does not load them and they were built for some other machine.
// An extension module means compiled code the package would import: refused.
func checkPure(p string, t string) (*wheelInfo, []string, error) {
	info, err := inspectWheel(p)
	if err != nil {
		return nil, nil, &RefusedError{Wheel: filepath.Base(p), Target: t, Reason: err.Error()}
	}
	var drop, modules []string
	for _, e := range info.elf {
		if strings.HasPrefix(path.Base(e), "lib") && strings.Contains(path.Base(e), ".so") {
			drop = append(drop, e)
		} else {
			modules = append(modules, e)
		}
	}
	if len(modules) > 0 {
		return nil, nil, &RefusedError{Wheel: filepath.Base(p), Target: t, Reason: fmt.Sprintf("the build with compilers disabled still holds compiled modules (%s)", strings.Join(first(modules, 3), ", "))}
	}
	for _, n := range info.names {
		if (strings.HasSuffix(n, ".so") || strings.HasSuffix(n, ".pyd") || strings.HasSuffix(n, ".dylib")) && !slices.Contains(drop, n) {
			return nil, nil, &RefusedError{Wheel: filepath.Base(p), Target: t, Reason: "the build with compilers disabled holds " + n}
		}
	}
	// setuptools tags a wheel for the platform when it had extensions, even
	// optional ones it skipped; with no compiled file left it is pure
	// Python, and is tagged so (build() rewrites the tag).
	return info, drop, nil
}

func first(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], fmt.Sprintf("and %d more", len(s)-n))
	}
	return s
}

// checkCross verifies a cross-built wheel for the target: its binaries'
// machine, glibc symbol versions and needed libraries, and its extension
// module names (verify's rules). Its tags are lambdapack's to set, so
// verify's wheel-tag rule is left to retag.
func checkCross(ctx context.Context, p string, t target.Target) (*wheelInfo, error) {
	name := filepath.Base(p)
	info, err := inspectWheel(p)
	if err != nil {
		return nil, &RefusedError{Wheel: name, Target: t.String(), Reason: err.Error()}
	}
	if info.pure {
		return info, nil
	}
	zr, err := zip.OpenReader(p)
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	var entries []verify.Entry
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/") {
			continue
		}
		f := f
		entries = append(entries, verify.Entry{Path: f.Name, Size: int64(f.UncompressedSize64), Open: func() (io.ReadCloser, error) { return f.Open() }})
	}
	rep, err := verify.Check(ctx, verify.EntriesSource(name, entries), t, verify.Options{Kind: verify.KindFunction})
	if err != nil {
		return nil, fmt.Errorf("verifying %s: %w", name, err)
	}
	var problems []string
	for _, f := range rep.Findings {
		if f.Severity != verify.Error || f.Rule == verify.RuleWheelTag || f.Rule == verify.RuleLayout || f.Rule == verify.RuleSize {
			continue
		}
		msg := f.File + ": " + f.Message
		if f.File == "" {
			msg = f.Message
		}
		problems = append(problems, msg)
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return nil, &RefusedError{Wheel: name, Target: t.String(), Reason: "verification failed:\n  " + strings.Join(first(problems, 8), "\n  ")}
	}
	return info, nil
}

// targetTags are the tags a verified cross-built wheel gets: its
// interpreter and ABI tags, on the target's manylinux platform at its glibc
// ceiling (linux_<machine> is what setuptools writes for a cross build).
func targetTags(info *wheelInfo, t target.Target) ([]tags.Tag, error) {
	machine := t.Arch.Machine()
	plat := fmt.Sprintf("manylinux_%d_%d_%s", t.GlibcMajor, t.GlibcMinor, machine)
	var out []tags.Tag
	seen := map[string]bool{}
	for _, tg := range info.name.Tags {
		switch {
		case tg.Platform == "any", tg.Platform == "linux_"+machine:
			if tg.Platform != "any" {
				tg.Platform = plat
			}
		default:
			m, ok := tags.ParseManylinux(tg.Platform)
			if !ok || m.Arch != machine || !m.Compatible(t.GlibcMajor, t.GlibcMinor) {
				return nil, &RefusedError{Wheel: info.name.Filename, Target: t.String(), Reason: fmt.Sprintf("it is tagged for %s, not for %s", tg.Platform, t)}
			}
		}
		if _, ok := t.TagRank(tg); !ok {
			return nil, &RefusedError{Wheel: info.name.Filename, Target: t.String(), Reason: fmt.Sprintf("its tag %s does not install on %s (was it built for another Python?)", tg, t)}
		}
		if !seen[tg.String()] {
			seen[tg.String()] = true
			out = append(out, tg)
		}
	}
	return out, nil
}

// retag copies a wheel to dst with new tags: its file name, the WHEEL
// file's Tag lines and WHEEL's RECORD row. Other members are copied as
// they are.
func retag(src string, newTags []tags.Tag, purelib bool, drop []string, dstDir string) (string, error) {
	stem := strings.TrimSuffix(filepath.Base(src), ".whl")
	parts := strings.Split(stem, "-")
	head := strings.Join(parts[:len(parts)-3], "-")
	interp, abi, plat := tagParts(newTags)
	name := head + "-" + interp + "-" + abi + "-" + plat + ".whl"
	zr, err := zip.OpenReader(src)
	if err != nil {
		return "", err
	}
	defer zr.Close()
	var wheelPath, recordPath string
	for _, f := range zr.File {
		dir, base, _ := strings.Cut(f.Name, "/")
		if strings.HasSuffix(dir, ".dist-info") && !strings.Contains(base, "/") {
			switch base {
			case "WHEEL":
				wheelPath = f.Name
			case "RECORD":
				recordPath = f.Name
			}
		}
	}
	if wheelPath == "" || recordPath == "" {
		return "", fmt.Errorf("%s has no .dist-info/WHEEL or RECORD", filepath.Base(src))
	}
	read := func(n string) ([]byte, error) {
		for _, f := range zr.File {
			if f.Name == n {
				rc, err := f.Open()
				if err != nil {
					return nil, err
				}
				defer rc.Close()
				return io.ReadAll(io.LimitReader(rc, 16<<20))
			}
		}
		return nil, os.ErrNotExist
	}
	wheelData, err := read(wheelPath)
	if err != nil {
		return "", err
	}
	var wb bytes.Buffer
	tagged := false
	for _, l := range strings.SplitAfter(string(wheelData), "\n") {
		if purelib && strings.HasPrefix(l, "Root-Is-Purelib:") {
			l = "Root-Is-Purelib: true\n"
		}
		if strings.HasPrefix(l, "Tag:") {
			if !tagged {
				for _, t := range newTags {
					fmt.Fprintf(&wb, "Tag: %s\n", t)
				}
				tagged = true
			}
			continue
		}
		wb.WriteString(l)
	}
	if !tagged {
		for _, t := range newTags {
			fmt.Fprintf(&wb, "Tag: %s\n", t)
		}
	}
	sum := sha256.Sum256(wb.Bytes())
	row := fmt.Sprintf("%s,sha256=%s,%d", wheelPath, base64.RawURLEncoding.EncodeToString(sum[:]), wb.Len())
	recordData, err := read(recordPath)
	if err != nil {
		return "", err
	}
	var rb bytes.Buffer
	for _, l := range strings.Split(strings.TrimRight(string(recordData), "\n"), "\n") {
		if strings.HasPrefix(l, wheelPath+",") || strings.HasPrefix(l, `"`+wheelPath+`",`) {
			l = row
		}
		if n, _, _ := strings.Cut(strings.Trim(l, `"`), ","); slices.Contains(drop, n) {
			continue
		}
		rb.WriteString(l + "\n")
	}
	dst := filepath.Join(dstDir, name)
	tmp, err := atomicfile.Create(dst)
	if err != nil {
		return "", err
	}
	defer tmp.Abort()
	zw := zip.NewWriter(tmp)
	for _, f := range zr.File {
		if slices.Contains(drop, f.Name) {
			continue
		}
		var data []byte
		switch f.Name {
		case wheelPath:
			data = wb.Bytes()
		case recordPath:
			data = rb.Bytes()
		default:
			if err := zw.Copy(f); err != nil {
				return "", err
			}
			continue
		}
		h := f.FileHeader
		w, err := zw.CreateHeader(&zip.FileHeader{Name: h.Name, Method: zip.Deflate, Modified: h.Modified, ExternalAttrs: h.ExternalAttrs, CreatorVersion: h.CreatorVersion})
		if err != nil {
			return "", err
		}
		if _, err := w.Write(data); err != nil {
			return "", err
		}
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	if err := tmp.Commit(0o644); err != nil {
		return "", err
	}
	return dst, nil
}

// tagParts compresses tags into the file name's three fields.
func tagParts(ts []tags.Tag) (string, string, string) {
	var in, ab, pl []string
	add := func(s *[]string, v string) {
		for _, x := range *s {
			if x == v {
				return
			}
		}
		*s = append(*s, v)
	}
	for _, t := range ts {
		add(&in, t.Interpreter)
		add(&ab, t.ABI)
		add(&pl, t.Platform)
	}
	return strings.Join(in, "."), strings.Join(ab, "."), strings.Join(pl, ".")
}
