package verify

import (
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"runtime"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/lambdapack/lambdapack/internal/names"
	"github.com/lambdapack/lambdapack/internal/record"
	"github.com/lambdapack/lambdapack/internal/tags"
	"github.com/lambdapack/lambdapack/internal/target"
)

// Lambda's size limits.
const (
	// UnzippedLimit is the most a function and all its layers may hold
	// unzipped.
	UnzippedLimit int64 = 262_144_000
	// DirectUploadLimit is the largest zip Lambda takes in a direct
	// upload; larger ones go through S3.
	DirectUploadLimit int64 = 52_428_800
	// ImageLimit is the most a function's container image may hold
	// uncompressed, base included.
	ImageLimit int64 = 10 << 30
)

// Kind is what an artifact is for: the artifact record's kind.
type Kind = record.Kind

const (
	// KindAuto infers the kind (see Check).
	KindAuto Kind = ""
	// KindLayer: extracted to /opt; packages under python/.
	KindLayer = record.KindLayer
	// KindFunction: extracted to /var/task; packages at the top level.
	KindFunction = record.KindFunction
	// KindImage: a container image's task root, checked as a function
	// but without the zip's size budget (an image's is 10 GB, which
	// image.CheckLambda holds it to, base included).
	KindImage = record.KindImage
)

// ParseKind reads "layer", "function" or "" (infer).
func ParseKind(s string) (Kind, error) {
	switch Kind(s) {
	case KindAuto, KindLayer, KindFunction:
		return Kind(s), nil
	}
	return "", fmt.Errorf("unknown artifact kind %q: use layer or function", s)
}

// Extra is another part of the same deployment (a layer, the function):
// its size counts toward the unzipped budget, and its files (when known)
// are where the loader may find libraries the artifact's binaries need.
type Extra struct {
	Name string
	Size int64
	// Kind says where Files are mounted: a layer's under /opt, a
	// function's under /var/task.
	Kind Kind
	// Files are its file paths, relative to its root (nil when only the
	// size is known).
	Files []string
}

// ExtraFrom reads a zip file or folder as an Extra: its unzipped size, its
// kind (inferred as Check does) and its files.
func ExtraFrom(ctx context.Context, p string) (Extra, error) {
	l, err := PathSource(p).open(ctx)
	if err != nil {
		return Extra{}, err
	}
	defer l.close()
	x := Extra{Name: p, Kind: inferKind(l.entries)}
	for _, e := range l.entries {
		x.Size += e.Size
		x.Files = append(x.Files, e.Path)
	}
	return x, nil
}

// Options tune Check.
type Options struct {
	// Kind of the artifact; KindAuto infers it.
	Kind Kind
	// With are the other layers and function the deployment combines.
	With []Extra
	// Largest is how many packages the report lists by size (default 10).
	Largest int
	// Facts remembers what each binary is (format, ELF header, needed
	// libraries and symbol versions) by Entry.Digest, so a warm build
	// does not inflate every shared object again. Optional.
	Facts Facts
}

// Facts stores small values by key; the cache provides one.
type Facts interface {
	Get(key string) ([]byte, bool)
	Put(key string, value []byte)
}

// factsVersion changes whenever what is remembered about a binary changes.
const factsVersion = "verify-facts-v2:"

type binaryFacts struct {
	Format Format   `json:"format"`
	ELF    *ELFInfo `json:"elf,omitempty"`
	Err    string   `json:"err,omitempty"`
}

// dist is one installed distribution found through its .dist-info folder.
type dist struct {
	name, version string
	dir           string // the .dist-info folder's path
	root          string // the folder holding it (a site-packages root)
}

func (d *dist) label() string {
	if d.version == "" {
		return d.name
	}
	return d.name + "==" + d.version
}

// binaryFile is a sniffed binary.
type binaryFile struct {
	format Format
	elf    *ELFInfo
	err    error
}

type checker struct {
	facts    Facts
	t        target.Target
	kind     Kind
	mount    string // where Lambda extracts the artifact: /opt or /var/task
	policy   *Policy
	machine  string // "x86_64" or "aarch64"
	entries  []Entry
	files    map[string]int // path -> entry index
	owner    map[string]*dist
	dists    []*dist
	findings []Finding
	// extraFiles are the absolute paths on Lambda of the files of
	// Options.With artifacts.
	extraFiles map[string]bool
	// otherSites are the python/lib/python3.Y/site-packages/ folders of
	// other Pythons in a layer that also has the target's own: the layout
	// lambdapack writes for a layer serving several runtimes. The target's
	// runtime never reads them, so the checks that depend on the runtime
	// (Python ABI, wheel tags, glibc and libraries) leave them to a check
	// for their own runtime.
	otherSites map[string]bool
	// missing are the libraries binaries need that nothing provides,
	// judged once every binary is read (reportMissing).
	missing []missingLib
	// bins are the sniffed binaries, indexed like entries.
	bins []*binaryFile
}

// Check verifies an artifact for a target: architecture, glibc and
// symbol versions, libraries, Python ABI, wheel tags, sizes and layout.
//
// The kind, unless opts.Kind says, is inferred: a layer when the artifact
// has a top-level python/ folder, a function when it has a top-level .py
// file (the handler's module), and a layer otherwise (packages dumped at the
// top level are the classic broken layer, reported as such).
func Check(ctx context.Context, src Source, t target.Target, opts Options) (*Report, error) {
	l, err := src.open(ctx)
	if err != nil {
		return nil, err
	}
	defer l.close()
	policy, err := PolicyFor(t.GlibcMajor, t.GlibcMinor)
	if err != nil {
		return nil, fmt.Errorf("verifying %s for %s: %w", src.label(), t, err)
	}
	if l.isZip {
		if err := declaredWithin(l.entries); err != nil {
			return nil, fmt.Errorf("verifying %s: %w", src.label(), err)
		}
	}
	c := &checker{
		t:       t,
		facts:   opts.Facts,
		policy:  policy,
		machine: t.Arch.Machine(),
		entries: l.entries,
		files:   map[string]int{},
		owner:   map[string]*dist{},
	}
	for i, e := range c.entries {
		c.files[e.Path] = i
	}
	c.extraFiles = map[string]bool{}
	for _, x := range opts.With {
		mount := "/opt/"
		if x.Kind == KindFunction {
			mount = "/var/task/"
		}
		for _, f := range x.Files {
			c.extraFiles[mount+f] = true
		}
	}
	rep := &Report{
		Source:     src.label(),
		Target:     t.String(),
		Policy:     policy.Name,
		Files:      len(c.entries),
		LimitBytes: UnzippedLimit,
		ZipBytes:   l.zipSize,
		Packages:   []PackageSize{},
	}
	c.kind = opts.Kind
	image := c.kind == KindImage
	if image {
		c.kind = KindFunction
		rep.LimitBytes = ImageLimit
	}
	if c.kind == KindAuto {
		c.kind = inferKind(c.entries)
		rep.KindInferred = true
	}
	rep.Kind = c.kind
	c.mount = "/opt"
	if c.kind == KindFunction {
		c.mount = "/var/task"
	}

	c.findOtherSites()
	if err := c.readDists(); err != nil {
		return nil, fmt.Errorf("verifying %s: %w", src.label(), err)
	}
	bins, err := c.sniff(ctx, l.isZip)
	if err != nil {
		return nil, fmt.Errorf("verifying %s: %w", src.label(), err)
	}
	c.bins = bins
	for i, b := range bins {
		if b == nil {
			continue
		}
		rep.Binaries++
		c.checkBinary(c.entries[i], b)
	}
	c.reportMissing(bins)
	for i, e := range c.entries {
		if c.otherSite(e.Path) == "" {
			c.checkSuffix(e, bins[i])
		}
	}
	if err := c.checkWheelTags(); err != nil {
		return nil, fmt.Errorf("verifying %s: %w", src.label(), err)
	}
	if len(c.entries) == 0 && !image {
		c.checkEmpty()
	} else {
		c.checkLayout()
	}
	rep.BotoBundled = c.checkBoto()

	for _, e := range c.entries {
		rep.UnzippedBytes += e.Size
	}
	for _, w := range opts.With {
		rep.WithBytes += w.Size
	}
	rep.TotalBytes = rep.UnzippedBytes + rep.WithBytes
	if !image {
		c.checkSize(rep, opts)
	}
	rep.Packages = c.largest(opts.Largest)

	sort.SliceStable(c.findings, func(i, j int) bool {
		a, b := c.findings[i], c.findings[j]
		if a.Severity.rank() != b.Severity.rank() {
			return a.Severity.rank() < b.Severity.rank()
		}
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Rule < b.Rule
	})
	rep.Findings = c.findings
	if rep.Findings == nil {
		rep.Findings = []Finding{}
	}
	for _, f := range rep.Findings {
		switch f.Severity {
		case Error:
			rep.Errors++
		case Warning:
			rep.Warnings++
		default:
			rep.Infos++
		}
	}
	return rep, nil
}

// MaxDeclared is the most a zip's members may declare unzipped, in all,
// for Check to read them: four times Lambda's limit, so that an artifact a
// little over it is still verified (and the size finding says by how much)
// while a zip bomb is refused before anything is inflated.
const MaxDeclared = 4 * UnzippedLimit

// declaredWithin refuses, before anything is inflated, a zip whose member
// declares more than Lambda's whole unzipped limit or whose members
// together declare more than MaxDeclared.
func declaredWithin(es []Entry) error {
	var total int64
	for _, e := range es {
		if e.Size > UnzippedLimit {
			return fmt.Errorf("zip member %s declares %s unzipped, more than Lambda's limit of %s for a function and all its layers: refusing to inflate it (a zip bomb, or not a Lambda artifact)", clipName(e.Path), bytesText(e.Size), bytesText(UnzippedLimit))
		}
		total += e.Size
	}
	if total > MaxDeclared {
		return fmt.Errorf("the zip's members declare %s unzipped, far over Lambda's limit of %s: refusing to inflate them (a zip bomb, or not a Lambda artifact)", bytesText(total), bytesText(UnzippedLimit))
	}
	return nil
}

// siteVersion returns the "3.Y" of a path under python/lib/python3.Y/site-packages/
// and that folder's prefix, or "" when the path is not under one.
func siteVersion(p string) (ver, prefix string) {
	rest, ok := strings.CutPrefix(p, "python/lib/python")
	if !ok {
		return "", ""
	}
	v, tail, ok := strings.Cut(rest, "/")
	if !ok || !strings.HasPrefix(tail, "site-packages/") || v == "" {
		return "", ""
	}
	return v, "python/lib/python" + v + "/site-packages/"
}

// findOtherSites fills c.otherSites: in a layer holding the target's own
// python/lib/python3.X/site-packages, every other Python's site-packages
// folder. Without the target's own folder, another Python's is not a
// layout lambdapack writes but a layer built for the wrong runtime, which
// checkLayout reports.
func (c *checker) findOtherSites() {
	c.otherSites = map[string]bool{}
	if c.kind != KindLayer {
		return
	}
	own := fmt.Sprintf("%d.%d", c.t.PythonMajor, c.t.PythonMinor)
	hasOwn := false
	others := map[string]bool{}
	for _, e := range c.entries {
		v, prefix := siteVersion(e.Path)
		switch {
		case prefix == "":
		case v == own:
			hasOwn = true
		default:
			others[prefix] = true
		}
	}
	if hasOwn {
		c.otherSites = others
	}
}

// otherSite returns the other Python's site-packages folder p is in (see
// checker.otherSites), or "".
func (c *checker) otherSite(p string) string {
	if len(c.otherSites) == 0 {
		return ""
	}
	if _, prefix := siteVersion(p); c.otherSites[prefix] {
		return prefix
	}
	return ""
}

func inferKind(es []Entry) Kind {
	topPy := false
	for _, e := range es {
		if strings.HasPrefix(e.Path, "python/") {
			return KindLayer
		}
		if !strings.Contains(e.Path, "/") && strings.HasSuffix(e.Path, ".py") {
			topPy = true
		}
	}
	if topPy {
		return KindFunction
	}
	return KindLayer
}

func (c *checker) add(sev Severity, rule, file, msg, fix string) {
	pkg := ""
	if d := c.owner[file]; d != nil {
		pkg = d.label()
	}
	c.findings = append(c.findings, Finding{Severity: sev, Rule: rule, File: file, Package: pkg, Message: msg, Fix: fix})
}

// readDists maps every file a dist-info RECORD lists to its distribution.
func (c *checker) readDists() error {
	for _, e := range c.entries {
		dir, base := path.Split(e.Path)
		dir = strings.TrimSuffix(dir, "/")
		if base != "RECORD" || !strings.HasSuffix(dir, ".dist-info") {
			continue
		}
		d := &dist{dir: dir, root: path.Dir(dir)}
		if d.root == "." {
			d.root = ""
		}
		stem := strings.TrimSuffix(path.Base(dir), ".dist-info")
		d.name, d.version, _ = strings.Cut(stem, "-")
		if i, ok := c.files[dir+"/METADATA"]; ok {
			if b, err := readSmall(c.entries[i], maxTextFile); err == nil {
				n, v := metadataNameVersion(b)
				if n != "" {
					d.name = n
				}
				if v != "" {
					d.version = v
				}
			}
		}
		data, err := readSmall(e, maxTextFile)
		if isCorrupt(err) {
			continue // reported with the other damaged members
		}
		if err != nil {
			return err
		}
		r := csv.NewReader(bytes.NewReader(data))
		r.FieldsPerRecord = -1
		r.LazyQuotes = true
		rows, err := r.ReadAll()
		if err != nil {
			// A damaged RECORD only costs attribution: fall back to lines.
			rows = nil
			for _, line := range strings.Split(string(data), "\n") {
				if f, _, _ := strings.Cut(line, ","); f != "" {
					rows = append(rows, []string{f})
				}
			}
		}
		for _, row := range rows {
			if len(row) == 0 || row[0] == "" {
				continue
			}
			p := path.Clean(path.Join(d.root, row[0]))
			if _, ok := c.owner[p]; !ok {
				c.owner[p] = d
			}
		}
		// The dist-info folder itself belongs to the distribution even
		// when RECORD leaves a file out.
		for _, e2 := range c.entries {
			if strings.HasPrefix(e2.Path, dir+"/") {
				c.owner[e2.Path] = d
			}
		}
		c.dists = append(c.dists, d)
	}
	sort.Slice(c.dists, func(i, j int) bool { return c.dists[i].dir < c.dists[j].dir })
	c.attributeByFolder()
	return nil
}

// attributeByFolder gives a file no RECORD lists (added after install,
// such as bytecode or a patched binary) to the distribution that owns the
// rest of its top-level folder, when exactly one does.
func (c *checker) attributeByFolder() {
	type key struct{ root, top string }
	owners := map[key]map[*dist]bool{}
	for _, d := range c.dists {
		for p, o := range c.owner {
			if o != d {
				continue
			}
			rel := p
			if d.root != "" {
				var ok bool
				if rel, ok = strings.CutPrefix(p, d.root+"/"); !ok {
					continue
				}
			}
			top, _, isDir := strings.Cut(rel, "/")
			if !isDir || strings.HasSuffix(top, ".dist-info") {
				continue
			}
			k := key{d.root, top}
			if owners[k] == nil {
				owners[k] = map[*dist]bool{}
			}
			owners[k][d] = true
		}
	}
	for _, e := range c.entries {
		if c.owner[e.Path] != nil {
			continue
		}
		for _, d := range c.dists {
			rel := e.Path
			if d.root != "" {
				var ok bool
				if rel, ok = strings.CutPrefix(e.Path, d.root+"/"); !ok {
					continue
				}
			}
			top, _, isDir := strings.Cut(rel, "/")
			if !isDir {
				continue
			}
			if o := owners[key{d.root, top}]; len(o) == 1 {
				for only := range o {
					c.owner[e.Path] = only
				}
				break
			}
		}
	}
}

// metadataNameVersion reads Name and Version from core metadata headers.
func metadataNameVersion(b []byte) (string, string) {
	var name, version string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			break
		}
		if v, ok := strings.CutPrefix(line, "Name:"); ok && name == "" {
			name = strings.TrimSpace(v)
		} else if v, ok := strings.CutPrefix(line, "Version:"); ok && version == "" {
			version = strings.TrimSpace(v)
		}
	}
	return name, version
}

// textExt are extensions never sniffed for binaries.
var textExt = map[string]bool{
	".py": true, ".pyi": true, ".pyc": true, ".pyo": true, ".pyx": true, ".pxd": true, ".pxi": true,
	".txt": true, ".md": true, ".rst": true, ".json": true, ".toml": true, ".cfg": true, ".ini": true,
	".yaml": true, ".yml": true, ".html": true, ".htm": true, ".css": true, ".js": true, ".map": true,
	".csv": true, ".h": true, ".hpp": true, ".c": true, ".cc": true, ".cpp": true, ".typed": true,
	".xml": true, ".svg": true, ".png": true, ".jpg": true, ".jpeg": true, ".gif": true, ".ico": true,
	".mo": true, ".po": true, ".pem": true, ".crt": true, ".jinja": true, ".j2": true, ".sql": true,
	".sh": true, ".bat": true, ".ps1": true, ".fish": true, ".csh": true, ".exe": true,
}

// sniff reads the leading bytes of every file that could be a binary and
// parses the ELF ones. The result is indexed like c.entries; nil when the
// file is not a binary. A zip's members are all read to their end, once,
// so that each one's size and CRC-32 are checked; a damaged one is a
// finding (RuleCorrupt) and not looked at further.
func (c *checker) sniff(ctx context.Context, wholeZip bool) ([]*binaryFile, error) {
	out := make([]*binaryFile, len(c.entries))
	corrupt := make([]error, len(c.entries))
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(min(2*runtime.GOMAXPROCS(0), maxScanners))
	for i, e := range c.entries {
		if e.Link != "" || e.Open == nil {
			continue
		}
		candidate := e.Size >= 52 && !textExt[strings.ToLower(path.Ext(path.Base(e.Path)))] && !strings.Contains(e.Path, ".dist-info/")
		verify := wholeZip && e.zip
		if !candidate && !verify {
			continue
		}
		g.Go(func() error {
			if err := ctx.Err(); err != nil {
				return err
			}
			key := ""
			if candidate && !verify && c.facts != nil && e.Digest != "" {
				key = factsVersion + e.Digest
				if data, ok := c.facts.Get(key); ok {
					var bf binaryFacts
					if json.Unmarshal(data, &bf) == nil {
						if bf.Format != NotBinary {
							out[i] = &binaryFile{format: bf.Format, elf: bf.ELF}
							if bf.Err != "" {
								out[i].err = errors.New(bf.Err)
							}
						}
						return nil
					}
				}
			}
			b, err := scanEntry(e, candidate, verify)
			if isCorrupt(err) {
				corrupt[i] = err
				return nil
			}
			if err != nil {
				return err
			}
			if key != "" {
				bf := binaryFacts{}
				if b != nil {
					bf.Format, bf.ELF = b.format, b.elf
					if b.err != nil {
						bf.Err = b.err.Error()
					}
				}
				if data, err := json.Marshal(bf); err == nil {
					c.facts.Put(key, data)
				}
			}
			out[i] = b
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	for i, err := range corrupt {
		if err != nil {
			var ce *corruptError
			errors.As(err, &ce)
			c.add(Error, RuleCorrupt, c.entries[i].Path,
				fmt.Sprintf("is damaged: %v", ce.err),
				"rebuild the artifact or copy it again (unzip -t shows the same damage); a zip that lambdapack wrote and that changed since was altered in transit or on disk")
		}
	}
	return out, nil
}

// scanEntry reads what an entry is (nil for a file that is no binary),
// as a stream: its first bytes, and for an ELF file the ranges the loader
// reads. With verify, the entry is read to its end so that its size and
// CRC-32 are checked.
func scanEntry(e Entry, candidate, verify bool) (*binaryFile, error) {
	r, err := openEntry(e)
	if err != nil {
		return nil, err
	}
	var f fetcher
	var finish func() error
	if ra, ok := r.rc.(io.ReaderAt); ok && !verify {
		f, finish = readerAtFetcher{ra}, r.Close
	} else {
		s := &stream{e: e, r: r, passes: 1}
		f, finish = s, func() error { return s.finish(verify) }
	}
	b, err := sniffFrom(f, candidate)
	if ferr := finish(); ferr != nil && (err == nil || isCorrupt(ferr)) {
		return nil, ferr
	}
	if err != nil {
		return nil, err
	}
	return b, nil
}

// sniffFrom tells what a file is from its content.
func sniffFrom(f fetcher, candidate bool) (*binaryFile, error) {
	if !candidate {
		return nil, nil
	}
	h, err := f.fetch(0, sniffLen)
	if err != nil {
		return nil, err
	}
	format := Sniff(h)
	switch format {
	case NotBinary:
		return nil, nil
	case PE:
		h, err := f.fetch(0, nativeHeadLn)
		if err != nil {
			return nil, err
		}
		if !peSigned(h) {
			return nil, nil
		}
	case ELF:
		b := &binaryFile{format: ELF}
		b.elf, b.err = readELF(f)
		if isCorrupt(b.err) {
			return nil, b.err
		}
		return b, nil
	}
	return &binaryFile{format: format}, nil
}

// peSigned confirms the PE signature an MZ header points at.
func peSigned(h []byte) bool {
	if len(h) < 0x40 {
		return false
	}
	off := int(binary.LittleEndian.Uint32(h[0x3c:]))
	return off >= 0 && off+4 <= len(h) && string(h[off:off+4]) == "PE\x00\x00"
}

// loadable reports whether Linux would try to load a file at p as code:
// importable extension names, shared libraries, and files in bin/.
func (c *checker) loadable(p string) bool {
	base := strings.ToLower(path.Base(p))
	if strings.HasSuffix(base, ".so") || strings.Contains(base, ".so.") || strings.HasSuffix(base, ".pyd") {
		return true
	}
	return strings.HasPrefix(p, "bin/") || strings.HasPrefix(p, "lib/")
}

func (c *checker) checkBinary(e Entry, b *binaryFile) {
	switch b.format {
	case MachO, PE:
		os := "macOS"
		if b.format == PE {
			os = "Windows"
		}
		if !c.loadable(e.Path) {
			return // .dylib/.dll data files Linux code never loads
		}
		c.add(Error, RuleForeignBinary, e.Path,
			fmt.Sprintf("is a %s binary (built on %s); Lambda loads only Linux ELF %s code", b.format, os, c.machine),
			fmt.Sprintf("install the package's manylinux %s wheel instead of copying files installed on %s (lambdapack layer/function pick it for %s)", c.machine, os, c.t))
		return
	}
	if b.err != nil {
		c.add(Warning, RuleUnreadable, e.Path,
			fmt.Sprintf("starts like an ELF binary but could not be read: %v", b.err),
			"check the file is complete; rebuild the artifact if it was truncated")
		return
	}
	info := b.elf
	if info.Type != elf.ET_DYN && info.Type != elf.ET_EXEC {
		return // object files, core dumps: never loaded
	}
	want := elf.EM_X86_64
	if c.machine == "aarch64" {
		want = elf.EM_AARCH64
	}
	if info.Class != elf.ELFCLASS64 {
		c.add(Error, RuleArch, e.Path,
			fmt.Sprintf("is a 32-bit ELF binary for %s; %s runs 64-bit %s code only", machineName(info.Machine), c.t, c.machine),
			fmt.Sprintf("install the package's 64-bit manylinux %s wheel", c.machine))
		return
	}
	if info.Machine != want {
		if twin := c.archTwin(e, info); twin != "" {
			c.add(Warning, RuleArch, e.Path,
				fmt.Sprintf("is an ELF executable for %s, which cannot run on %s; nothing loads it, and its %s twin %s beside it is the one that runs here (the package ships one per architecture and picks at run time)", machineName(info.Machine), c.t, c.machine, path.Base(twin)),
				fmt.Sprintf("nothing to do; to save %s, leave it out (--strip-pattern '%s')", bytesText(e.Size), e.Path))
			return
		}
		c.add(Error, RuleArch, e.Path,
			fmt.Sprintf("is an ELF binary for %s; %s loads only %s code", machineName(info.Machine), c.t, c.machine),
			fmt.Sprintf("build for the target's architecture: install the package's manylinux %s wheel (lambdapack layer/function --arch %s choose it), or deploy the function on %s", c.machine, c.t.Arch, archFor(info.Machine)))
		return
	}
	if !info.Dynamic || c.otherSite(e.Path) != "" {
		return // another runtime's folder: its glibc and libraries are that runtime's
	}
	c.checkVersions(e, info)
	c.checkLibraries(e, info)
}

func archFor(m elf.Machine) string {
	switch m {
	case elf.EM_X86_64:
		return "x86_64"
	case elf.EM_AARCH64:
		return "arm64"
	}
	return machineName(m)
}

// checkVersions holds the versioned symbols a binary needs to the target's
// glibc and to its manylinux policy (GLIBCXX, CXXABI, GCC, ...).
func (c *checker) checkVersions(e Entry, info *ELFInfo) {
	// Versions needed from a library the artifact ships itself are that
	// library's business, not the runtime's.
	sys := &ELFInfo{Versions: map[string][]string{}}
	for lib, vers := range info.Versions {
		if c.findLibrary(e, info, lib) == "" {
			sys.Versions[lib] = vers
		}
	}
	if v, m, n := sys.MaxGlibc(); v != "" && (m > c.t.GlibcMajor || (m == c.t.GlibcMajor && n > c.t.GlibcMinor)) {
		c.add(Error, RuleGlibc, e.Path,
			fmt.Sprintf("needs %s but %s has glibc %d.%d: it fails to load with \"version `%s' not found\"", v, c.runtimeText(), c.t.GlibcMajor, c.t.GlibcMinor, v),
			c.glibcFix(m, n))
	}
	var bad []string
	seen := map[string]bool{}
	for lib, vers := range sys.Versions {
		for _, v := range vers {
			if strings.HasPrefix(v, "GLIBC_") || seen[v] {
				continue
			}
			seen[v] = true
			if !c.policy.Allows(c.machine, v) {
				bad = append(bad, v+" ("+lib+")")
			}
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		c.add(Error, RuleSymbolVersions, e.Path,
			fmt.Sprintf("needs %s, newer than %s allows: the runtime's C++/GCC libraries are older than the ones it was built against", strings.Join(bad, ", "), c.policy.Name),
			fmt.Sprintf("install a wheel of the package tagged %s or older (built with that toolchain), or ship the newer library in the artifact beside it (auditwheel repair)", c.policy.Name))
	}
}

func (c *checker) runtimeText() string {
	if c.t.Runtime == "" {
		return c.t.String()
	}
	if rt, err := target.LookupRuntime(c.t.Runtime); err == nil && rt.OS != "" {
		return fmt.Sprintf("%s (%s)", c.t.Runtime, rt.OS)
	}
	return c.t.Runtime
}

func (c *checker) glibcFix(m, n int) string {
	fix := fmt.Sprintf("install a wheel of the package tagged manylinux_%d_%d or older for %s (lambdapack layer/function choose those for %s)", c.t.GlibcMajor, c.t.GlibcMinor, c.machine, c.t)
	var newer []string
	for _, rt := range target.Runtimes() {
		maj, min, ok := parseMajorMinor(rt.Glibc)
		if ok && (maj > m || (maj == m && min >= n)) {
			newer = append(newer, rt.Name)
		}
	}
	if len(newer) > 0 {
		fix += fmt.Sprintf(", or move to a runtime with glibc %d.%d or newer (%s)", m, n, strings.Join(newer, ", "))
	}
	return fix
}

func parseMajorMinor(s string) (int, int, bool) {
	a, b, ok := strings.Cut(s, ".")
	if !ok {
		return 0, 0, false
	}
	m, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	return m, n, err1 == nil && err2 == nil
}

// ldLibraryPath are the folders of Lambda's LD_LIBRARY_PATH that
// artifacts fill: the function's top level and lib/, and the layers' lib/.
var ldLibraryPath = []string{"/var/task", "/var/task/lib", "/opt/lib"}

// libraryDirs are the absolute folders the dynamic loader searches for a
// binary's DT_NEEDED libraries on Lambda: its RPATH/RUNPATH entries
// ($ORIGIN resolved against where the artifact is mounted), then the
// artifact folders of Lambda's LD_LIBRARY_PATH. A shared library (lib*.so*,
// or one in a *.libs or lib folder) also finds its siblings: auditwheel
// grafts them together and the loader resolves them through the extension
// that loaded the first.
func (c *checker) libraryDirs(e Entry, info *ELFInfo) []string {
	origin := path.Join(c.mount, path.Dir(e.Path))
	var dirs []string
	for _, rp := range append(append([]string{}, info.RPath...), info.RunPath...) {
		rp = strings.ReplaceAll(rp, "${ORIGIN}", origin)
		rp = strings.ReplaceAll(rp, "$ORIGIN", origin)
		if path.IsAbs(rp) {
			dirs = append(dirs, path.Clean(rp))
		}
	}
	dirs = append(dirs, ldLibraryPath...)
	dir := path.Dir(e.Path)
	base := path.Base(e.Path)
	if strings.HasPrefix(base, "lib") && strings.Contains(base, ".so") || strings.HasSuffix(dir, ".libs") || path.Base(dir) == "lib" {
		dirs = append(dirs, origin)
	}
	return dirs
}

// findLibrary returns where soname is for this binary (an absolute path on
// Lambda, in this artifact or one of Options.With), or "".
func (c *checker) findLibrary(e Entry, info *ELFInfo, soname string) string {
	for _, d := range c.libraryDirs(e, info) {
		abs := path.Join(d, soname)
		if rel, ok := strings.CutPrefix(abs, c.mount+"/"); ok {
			if _, ok := c.files[rel]; ok {
				return abs
			}
		}
		if c.extraFiles[abs] {
			return abs
		}
	}
	return ""
}

// runtimeProvides reports whether Lambda's runtime has soname without the
// artifact shipping it.
func (c *checker) runtimeProvides(soname string) bool {
	if c.policy.Whitelisted(soname) || isLoader(soname) {
		return true
	}
	// The runtime's own libpython (/var/lang/lib is on LD_LIBRARY_PATH).
	lp := fmt.Sprintf("libpython%d.%d", c.t.PythonMajor, c.t.PythonMinor)
	return soname == lp+".so.1.0" || soname == lp+".so"
}

func (c *checker) checkLibraries(e Entry, info *ELFInfo) {
	for _, lib := range info.Needed {
		if c.runtimeProvides(lib) || c.findLibrary(e, info, lib) != "" {
			continue
		}
		c.missing = append(c.missing, missingLib{e: e, info: info, lib: lib})
	}
}

// extSuffix describes an extension module's file name tag.
type extSuffix struct {
	kind    string // "cpython", "abi3", "pypy", "bare"
	minor   int    // cpython 3.X
	major   int
	threads bool // free-threaded build ("t")
	triplet string
}

// parseExtSuffix reads the tag of an extension module's file name
// ("mod.cpython-312-x86_64-linux-gnu.so"); ok is false when the name is not
// one an import would load.
func parseExtSuffix(base string) (extSuffix, bool) {
	stem, ok := strings.CutSuffix(base, ".so")
	if !ok {
		return extSuffix{}, false
	}
	mod, tag, hasTag := strings.Cut(stem, ".")
	if mod == "" || strings.HasPrefix(mod, "lib") && hasTag && !strings.HasPrefix(tag, "cpython-") && tag != "abi3" {
		return extSuffix{}, false
	}
	if !hasTag {
		return extSuffix{kind: "bare"}, true
	}
	if tag == "abi3" {
		return extSuffix{kind: "abi3"}, true
	}
	if rest, ok := strings.CutPrefix(tag, "cpython-"); ok {
		ver, triplet, _ := strings.Cut(rest, "-")
		s := extSuffix{kind: "cpython", triplet: triplet}
		if strings.HasSuffix(ver, "t") {
			s.threads = true
			ver = strings.TrimSuffix(ver, "t")
		}
		if len(ver) < 2 {
			return extSuffix{}, false
		}
		maj, err1 := strconv.Atoi(ver[:1])
		min, err2 := strconv.Atoi(ver[1:])
		if err1 != nil || err2 != nil {
			return extSuffix{}, false
		}
		s.major, s.minor = maj, min
		return s, true
	}
	if strings.HasPrefix(tag, "pypy") {
		return extSuffix{kind: "pypy", triplet: tag}, true
	}
	return extSuffix{}, false
}

// checkSuffix holds an extension module's name tag to the target's Python
// and machine.
func (c *checker) checkSuffix(e Entry, b *binaryFile) {
	if e.Link != "" {
		return
	}
	s, ok := parseExtSuffix(path.Base(e.Path))
	if !ok {
		return
	}
	if b != nil && (b.format != ELF || b.err == nil && b.elf != nil && (b.elf.Machine != c.wantMachine() || b.elf.Class != elf.ELFCLASS64)) {
		return // the binary check already named the root cause
	}
	py := fmt.Sprintf("%d.%d", c.t.PythonMajor, c.t.PythonMinor)
	cp := fmt.Sprintf("cp%d%d", c.t.PythonMajor, c.t.PythonMinor)
	fix := fmt.Sprintf("install the package's %s wheel for %s (lambdapack layer/function --runtime python%s --arch %s choose it)", cp, c.machine, py, c.t.Arch)
	switch s.kind {
	case "pypy":
		c.add(Error, RulePythonABI, e.Path,
			fmt.Sprintf("is a PyPy extension module (%s); Lambda runs CPython %s", s.triplet, py), fix)
	case "cpython":
		if s.major != c.t.PythonMajor || s.minor != c.t.PythonMinor {
			c.add(Error, RulePythonABI, e.Path,
				fmt.Sprintf("is an extension module for CPython %d.%d; %s runs CPython %s, which can't import it", s.major, s.minor, c.t, py), fix)
			return
		}
		if s.threads {
			c.add(Error, RulePythonABI, e.Path,
				fmt.Sprintf("is built for the free-threaded CPython %st; Lambda runs the default build, which can't import it", py), fix)
			return
		}
		if s.triplet != "" && s.triplet != c.machine+"-linux-gnu" {
			c.add(Error, RulePythonABI, e.Path,
				fmt.Sprintf("is an extension module for %s; %s imports only %s-linux-gnu modules", s.triplet, c.t, c.machine), fix)
		}
	}
}

func (c *checker) wantMachine() elf.Machine {
	if c.machine == "aarch64" {
		return elf.EM_AARCH64
	}
	return elf.EM_X86_64
}

// checkWheelTags holds each dist-info WHEEL's tags to the target.
func (c *checker) checkWheelTags() error {
	for _, d := range c.dists {
		if c.otherSite(d.dir+"/") != "" {
			continue // installed for another runtime's folder
		}
		i, ok := c.files[d.dir+"/WHEEL"]
		if !ok {
			continue
		}
		data, err := readSmall(c.entries[i], maxTextFile)
		if isCorrupt(err) {
			continue // reported with the other damaged members
		}
		if err != nil {
			return err
		}
		var all []tags.Tag
		var raw []string
		for _, line := range strings.Split(string(data), "\n") {
			v, ok := strings.CutPrefix(strings.TrimSpace(line), "Tag:")
			if !ok {
				continue
			}
			v = strings.TrimSpace(v)
			raw = append(raw, v)
			ts, err := tags.ParseTag(v)
			if err != nil {
				continue
			}
			all = append(all, ts...)
		}
		if len(raw) == 0 {
			continue
		}
		accepted, pure := false, true
		for _, tg := range all {
			if _, ok := c.t.TagRank(tg); ok {
				accepted = true
				break
			}
			if tg.Platform != "any" {
				pure = false
			}
		}
		if accepted {
			continue
		}
		sev := Error
		if pure && len(all) > 0 {
			sev = Warning
		}
		c.add(sev, RuleWheelTag, d.dir+"/WHEEL",
			fmt.Sprintf("%s was installed from a wheel tagged %s, which %s does not accept", d.label(), strings.Join(raw, ", "), c.t),
			fmt.Sprintf("reinstall %s for the target (lambdapack layer/function --runtime python%d.%d --arch %s pick a compatible wheel)", d.name, c.t.PythonMajor, c.t.PythonMinor, c.t.Arch))
	}
	return nil
}

// pythonContent reports whether a path is something Python imports.
func pythonContent(p string) bool {
	return strings.HasSuffix(p, ".py") || strings.HasSuffix(p, ".so") || strings.HasSuffix(p, ".pyc") ||
		strings.Contains(p, ".dist-info/") || strings.HasSuffix(p, ".pth")
}

// checkEmpty reports a layer or function with no file at all: Lambda
// refuses an empty zip, and a layer or function of nothing cannot be what
// was meant (a package pattern or exclude that left everything out).
func (c *checker) checkEmpty() {
	c.add(Error, RuleEmpty, "",
		fmt.Sprintf("the %s holds no files: Lambda refuses an empty zip, and there is nothing in it to run or import", c.kind),
		"check what chose its files: the source folder, its exclude globs or package patterns, --exclude-package")
}

func (c *checker) checkLayout() {
	minorDir := fmt.Sprintf("python/lib/python%d.%d/site-packages/", c.t.PythonMajor, c.t.PythonMinor)
	if c.kind == KindLayer {
		hasPython := false
		var topLevel string
		wrongSite := map[string]bool{}
		for _, e := range c.entries {
			if strings.HasPrefix(e.Path, "python/") {
				hasPython = true
				if rest, ok := strings.CutPrefix(e.Path, "python/lib/python"); ok && !strings.HasPrefix(e.Path, minorDir) {
					if ver, tail, ok := strings.Cut(rest, "/"); ok && strings.HasPrefix(tail, "site-packages/") {
						wrongSite["python/lib/python"+ver+"/site-packages"] = true
					}
				}
				continue
			}
			top, _, _ := strings.Cut(e.Path, "/")
			if pythonContent(e.Path) && top != "bin" && top != "lib" && (topLevel == "" || top < topLevel) {
				topLevel = top
			}
		}
		for _, dir := range sortedKeys(wrongSite) {
			if c.otherSites[dir+"/"] {
				ver := strings.TrimPrefix(strings.TrimSuffix(dir, "/site-packages"), "python/lib/")
				c.add(Info, RuleLayout, dir+"/",
					fmt.Sprintf("%s serves %s: %s reads only /opt/python and /opt/%s, so this folder is not checked for it", dir, ver, c.t, strings.TrimSuffix(minorDir, "/")),
					fmt.Sprintf("verify the layer for that runtime too (lambdapack verify --runtime %s)", ver))
				continue
			}
			c.add(Error, RuleLayout, dir+"/",
				fmt.Sprintf("packages under %s are not importable: %s looks in /opt/python and /opt/%s", dir, c.t, strings.TrimSuffix(minorDir, "/")),
				fmt.Sprintf("build the layer for this runtime, or move them to python/ or %s", strings.TrimSuffix(minorDir, "/")))
		}
		switch {
		case !hasPython && topLevel != "":
			c.add(Error, RuleLayout, topLevel,
				"the layer has no python/ folder: Lambda extracts layers to /opt and imports from /opt/python and /opt/"+strings.TrimSuffix(minorDir, "/")+", so packages at the top level are not importable",
				"put the packages under python/ (lambdapack layer does), or use --kind function if this is a function zip")
		case topLevel != "":
			c.add(Warning, RuleLayout, topLevel,
				"Python files at the top level of a layer are not importable: Lambda imports layers from /opt/python and /opt/"+strings.TrimSuffix(minorDir, "/"),
				"move them under python/, or drop them")
		case !hasPython:
			c.add(Warning, RuleLayout, "",
				"the layer has no python/ folder: it adds no Python packages",
				"ignore this for a layer of binaries (bin/) or libraries (lib/); otherwise put packages under python/")
		}
		return
	}
	for _, e := range c.entries {
		if strings.HasPrefix(e.Path, "python/") && pythonContent(e.Path) {
			c.add(Warning, RuleLayout, "python/",
				"a function zip with a python/ folder: Lambda imports a function's packages from its top level (/var/task), not python/ (that is a layer's layout)",
				"install the packages at the top level of the function zip, or publish this as a layer (--kind layer)")
			return
		}
	}
}

func sortedKeys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// checkBoto states whether boto3/botocore are bundled.
func (c *checker) checkBoto() bool {
	var found []*dist
	for _, d := range c.dists {
		if c.otherSite(d.dir+"/") != "" {
			continue
		}
		if n := names.Canonical(d.name); n == "boto3" || n == "botocore" {
			found = append(found, d)
		}
	}
	if len(found) > 0 {
		var labels []string
		for _, d := range found {
			labels = append(labels, d.label())
		}
		c.add(Info, RuleBoto3, found[0].dir,
			fmt.Sprintf("bundles %s: these shadow the runtime's own boto3/botocore, pinning your version (and adding about %s)", strings.Join(labels, ", "), mib(c.ownedSize(found))),
			"keep them to pin the AWS SDK version; drop them (--exclude-package boto3,botocore,s3transfer) to save space and use the runtime's copy, which AWS updates")
		return true
	}
	for _, e := range c.entries {
		for _, root := range []string{"", "python/", fmt.Sprintf("python/lib/python%d.%d/site-packages/", c.t.PythonMajor, c.t.PythonMinor)} {
			if strings.HasPrefix(e.Path, root+"boto3/") || strings.HasPrefix(e.Path, root+"botocore/") {
				c.add(Info, RuleBoto3, strings.TrimSuffix(root, "/")+"/"+strings.SplitN(strings.TrimPrefix(e.Path, root), "/", 2)[0],
					"bundles boto3/botocore (without dist-info): they shadow the runtime's own copy",
					"keep them to pin the AWS SDK version; drop them to use the runtime's copy")
				return true
			}
		}
	}
	c.add(Info, RuleBoto3, "",
		"boto3/botocore are not bundled: the function uses the runtime's copy, whose version moves with AWS's updates",
		"bundle boto3 (add it to the requirements) if the code needs a specific version")
	return false
}

func (c *checker) ownedSize(ds []*dist) int64 {
	set := map[*dist]bool{}
	for _, d := range ds {
		set[d] = true
	}
	var n int64
	for p, d := range c.owner {
		if i, ok := c.files[p]; ok && set[d] {
			n += c.entries[i].Size
		}
	}
	return n
}

func (c *checker) checkSize(rep *Report, opts Options) {
	if rep.TotalBytes > UnzippedLimit {
		what := bytesText(rep.UnzippedBytes)
		if rep.WithBytes > 0 {
			var ws []string
			for _, w := range opts.With {
				ws = append(ws, fmt.Sprintf("%s %s", w.Name, bytesText(w.Size)))
			}
			what = fmt.Sprintf("%s = %s + %s", bytesText(rep.TotalBytes), what, strings.Join(ws, " + "))
		}
		c.add(Error, RuleSize, "",
			fmt.Sprintf("unzipped size %s is over Lambda's limit of %s for a function and all its layers (%s too many)", what, bytesText(UnzippedLimit), bytesText(rep.TotalBytes-UnzippedLimit)),
			"drop what the runtime provides (--exclude-package boto3,botocore,s3transfer), strip with --slim, move packages to fewer/smaller layers, or ship a container image (10 GB limit)")
	}
	if rep.ZipBytes > DirectUploadLimit {
		c.add(Info, RuleZipSize, "",
			fmt.Sprintf("the zip is %s, over the %s direct-upload limit: it must be uploaded through S3", bytesText(rep.ZipBytes), bytesText(DirectUploadLimit)),
			"publish through an S3 bucket (lambdapack publish does when needed)")
	}
}

// largest sums file sizes per distribution; files no RECORD lists are
// grouped by their top-level folder under python/ (or the artifact root).
func (c *checker) largest(n int) []PackageSize {
	if n <= 0 {
		n = 10
	}
	// One entry per distribution name and version: a layer serving
	// several runtimes installs the same one in each site-packages folder.
	type distKey struct{ name, version string }
	byDist := map[distKey]*PackageSize{}
	other := map[string]*PackageSize{}
	for _, e := range c.entries {
		if d := c.owner[e.Path]; d != nil {
			k := distKey{names.Canonical(d.name), d.version}
			ps := byDist[k]
			if ps == nil {
				ps = &PackageSize{Name: d.name, Version: d.version}
				byDist[k] = ps
			}
			ps.Files++
			ps.Bytes += e.Size
			continue
		}
		rest := e.Path
		if r, ok := strings.CutPrefix(rest, "python/"); ok {
			rest = r
			if _, prefix := siteVersion(e.Path); prefix != "" {
				rest = strings.TrimPrefix(e.Path, prefix)
			}
		}
		key, _, _ := strings.Cut(rest, "/")
		ps := other[key]
		if ps == nil {
			ps = &PackageSize{Name: key + " (no RECORD)"}
			other[key] = ps
		}
		ps.Files++
		ps.Bytes += e.Size
	}
	var all []PackageSize
	for _, p := range byDist {
		all = append(all, *p)
	}
	for _, p := range other {
		all = append(all, *p)
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].Bytes != all[j].Bytes {
			return all[i].Bytes > all[j].Bytes
		}
		return all[i].Name < all[j].Name
	})
	if len(all) > n {
		all = all[:n]
	}
	if all == nil {
		all = []PackageSize{}
	}
	return all
}

// archTwin returns the path of the executable that stands in for a foreign
// one on the target, or "". The rule: a 64-bit ELF executable (not a
// shared object or extension module: nothing loads it, a program runs it)
// for Lambda's other machine, whose name spells that machine as a word
// ("aws-lambda-rie-arm64"), is shipped one per architecture when the same
// folder holds an ELF executable for the target whose name differs only
// in spelling the target's machine ("aws-lambda-rie-x86_64"): the package
// picks the one for the machine it runs on.
func (c *checker) archTwin(e Entry, info *ELFInfo) string {
	want := c.wantMachine()
	dir, name := path.Split(e.Path)
	if c.bins == nil || !info.Executable() || strings.Contains(name, ".so") || archNames[info.Machine] == nil {
		return ""
	}
	for _, tok := range archTokens(name, info.Machine) {
		for _, a := range archNames[want] {
			p := dir + name[:tok[0]] + a + name[tok[0]+tok[1]:]
			i, ok := c.files[p]
			if !ok {
				continue
			}
			b := c.bins[i]
			if b != nil && b.format == ELF && b.err == nil && b.elf != nil &&
				b.elf.Class == elf.ELFCLASS64 && b.elf.Machine == want && b.elf.Executable() {
				return p
			}
		}
	}
	return ""
}
