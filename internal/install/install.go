package install

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"

	kflate "github.com/klauspost/compress/flate"
	"github.com/lambdapack/lambdapack/internal/metadata"
	"github.com/lambdapack/lambdapack/internal/names"
	"github.com/lambdapack/lambdapack/internal/tree"
	"golang.org/x/sync/errgroup"
)

// Wheel is a wheel file to install.
type Wheel struct {
	// Path is the wheel on disk (e.g. a cache blob).
	Path string
	// Filename is the wheel's real file name; "" means filepath.Base(Path).
	Filename string
	// SHA256 is the hex sha256 of the file when known (the cache checked
	// it); it keys Options.Memo. Leave it empty for an unchecked file.
	SHA256 string
	// Resolved is the core metadata dependency resolution read for this
	// wheel (an index's PEP 658 file, or METADATA read with range
	// requests), and ResolvedFrom says where it came from. When set, the
	// wheel is refused (a *MetadataMismatchError) if its own METADATA
	// declares other Requires-Dist, Requires-Python or Provides-Extra:
	// resolution chose the other packages from what Resolved says.
	Resolved     *metadata.Metadata
	ResolvedFrom string
}

func (w Wheel) name() string {
	if w.Filename != "" {
		return w.Filename
	}
	return filepath.Base(w.Path)
}

// Layout says where things go inside the artifact. Both folders are
// slash-separated and end in "/" unless empty (the artifact's root).
type Layout struct {
	// Root is the package folder (site-packages): "python/" for a layer,
	// "" for a function zip.
	Root string
	// Scripts is the scripts folder; "" means "bin/" (Lambda adds /opt/bin
	// to PATH).
	Scripts string
}

// LayerLayout puts packages under python/ and scripts under bin/.
func LayerLayout() Layout { return Layout{Root: "python/", Scripts: "bin/"} }

// LayerSitePackagesLayout puts packages under
// python/lib/python3.X/site-packages/ (python is "3.X").
func LayerSitePackagesLayout(python string) Layout {
	return Layout{Root: "python/lib/python" + python + "/site-packages/", Scripts: "bin/"}
}

// FunctionLayout puts packages at the root of a function zip.
func FunctionLayout() Layout { return Layout{Root: "", Scripts: "bin/"} }

// Memo remembers wheels that passed every check, by key, so that a warm
// build need not inflate them again. The cache provides one.
type Memo interface {
	Has(key string) bool
	Put(key string) error
}

// Options tunes Build.
type Options struct {
	Layout Layout
	// Exclude, when it returns true for a distribution's canonical name,
	// leaves that wheel out (reported in Plan.Excluded).
	Exclude func(name string) bool
	// Memo, when set, remembers checked wheels by sha256.
	Memo Memo
	// Concurrency bounds the members checked at once; 0 means GOMAXPROCS.
	Concurrency int
	// Installer is written to INSTALLER; "" means "lambdapack".
	Installer string
	// Interpreter is the shebang of scripts; "" means Shebang.
	Interpreter string
	// DeferCheck leaves the check of a wheel's members against their
	// RECORD hashes to a caller that reads every byte it writes anyway (an
	// image layer, hashed for its diffID), so that a cold build inflates
	// each member once. It applies to wheels Memo does not know whose
	// RECORD gives sha256 for every member; everything else about them is
	// checked as always. Their entries are Unchecked (Digest is RECORD's
	// claim). Before the artifact counts as written the caller must call
	// CheckUnwritten (the members no entry writes, after Filter) and write
	// every Unchecked entry through a sink that hashes it and fails on a
	// mismatch; then Checked remembers the wheels in Memo.
	DeferCheck bool
}

// Entry is one file of the plan.
type Entry struct {
	// Path is the slash-separated path inside the artifact.
	Path string
	Mode fs.FileMode
	Size int64
	// Digest is the sha256 of the installed bytes, urlsafe base64 without
	// padding (RECORD's form).
	Digest string
	// Dist is the canonical name of the distribution that installs it.
	Dist string
	// Wheel is the file name of the wheel it comes from.
	Wheel string
	// Member is the wheel member holding exactly these bytes, or nil when
	// Data holds them.
	Member *zip.File
	Data   []byte
	// Unchecked: Digest is what the wheel's RECORD claims for Member, not
	// yet checked against its bytes (Options.DeferCheck).
	Unchecked bool

	record int // index+1 of the Dist whose RECORD this is; 0 otherwise
}

// Dist is one installed distribution.
type Dist struct {
	Name     string // canonical
	Version  string // as METADATA says
	Filename string // the wheel's
	DistInfo string // artifact path of the .dist-info folder, with "/"
	Pure     bool   // Root-Is-Purelib and a py*-none-any tag
	// Size and Files count the entries this distribution installs first
	// (a path two wheels share with the same bytes counts once).
	Size  int64
	Files int

	rows []recordRow
}

type recordRow struct {
	path   string // artifact path
	digest string
	size   int64
}

// Dropped is a .data member that a Lambda artifact has no place for
// (headers, data) and that was left out.
type Dropped struct {
	Dist, Wheel, Member, Scheme string
	Size                        int64
}

// Plan is what Build decided: the artifact's files and where they come
// from. Close it to release the wheels.
type Plan struct {
	Layout   Layout
	Entries  []Entry // sorted by Path
	Dists    []Dist  // sorted by Name
	Dropped  []Dropped
	Excluded []Dist // distributions Options.Exclude left out
	// Replaced are scripts two wheels both install with different bytes
	// (two distributions declaring one console script). pip and uv
	// install both, the one installed last overwriting the other; so does
	// Build, and says so here. Any other shared path is a *ConflictError.
	Replaced []Replaced

	installer string
	closers   []io.Closer
	// deferred are the wheels whose member checks were left to the caller
	// (Options.DeferCheck); memo remembers them once checked.
	deferred  []*deferredWheel
	memo      Memo
	unwritten bool // CheckUnwritten passed
}

// deferredWheel is a wheel whose members were not checked against RECORD.
type deferredWheel struct {
	name, sha string
	members   []memberCheck
}

type memberCheck struct {
	f   *zip.File
	row RecordEntry
}

// Pure reports whether every installed distribution is pure Python (so the
// artifact fits both architectures).
func (p *Plan) Pure() bool {
	for _, d := range p.Dists {
		if !d.Pure {
			return false
		}
	}
	return len(p.Dists) > 0
}

// Close closes the wheel files the plan reads from. Write the archive
// before closing: its entries read the wheels.
func (p *Plan) Close() error {
	var errs []error
	for _, c := range p.closers {
		errs = append(errs, c.Close())
	}
	p.closers = nil
	return errors.Join(errs...)
}

// WheelError is a wheel refused as broken or hostile.
type WheelError struct {
	Wheel string // file name
	Err   error
}

func (e *WheelError) Error() string {
	return fmt.Sprintf("refusing wheel %s: %v (the wheel is broken or was tampered with: nothing was written; fetch it again, or pin another version)", e.Wheel, e.Err)
}
func (e *WheelError) Unwrap() error { return e.Err }

// ConflictError is two wheels installing one path with different bytes.
type ConflictError struct {
	Path           string
	Wheel, Other   string
	Digest, OtherD string
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("%s and %s both install %s with different contents; drop one of the two distributions or exclude it", e.Other, e.Wheel, e.Path)
}

// Replaced is a script Build took from Kept's wheel, leaving out Lost's.
type Replaced struct {
	Path       string
	Kept, Lost string // wheel file names
}

// Build checks wheels and plans their installation. Nothing is written.
func Build(ctx context.Context, wheels []Wheel, opts Options) (*Plan, error) {
	if opts.Concurrency <= 0 {
		opts.Concurrency = runtime.GOMAXPROCS(0)
	}
	if opts.Installer == "" {
		opts.Installer = "lambdapack"
	}
	if opts.Interpreter == "" {
		opts.Interpreter = Shebang
	}
	if opts.Layout.Scripts == "" {
		opts.Layout.Scripts = "bin/"
	}
	for _, d := range []string{opts.Layout.Root, opts.Layout.Scripts} {
		if d != "" && (!strings.HasSuffix(d, "/") || tree.ValidPath(d) != nil) {
			return nil, fmt.Errorf("planning an install: layout folder %q must be a clean relative path ending in /", d)
		}
	}
	p := &Plan{Layout: opts.Layout, installer: opts.Installer, memo: opts.Memo}
	results := make([]*wheelResult, len(wheels))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(opts.Concurrency)
	var mu sync.Mutex
	for i, w := range wheels {
		g.Go(func() error {
			r, err := planWheel(gctx, w, opts)
			if r != nil && r.closer != nil {
				mu.Lock()
				p.closers = append(p.closers, r.closer)
				mu.Unlock()
			}
			if err != nil {
				return wheelError(gctx, w, err)
			}
			results[i] = r
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		p.Close()
		return nil, err
	}
	if err := p.merge(results); err != nil {
		p.Close()
		return nil, err
	}
	for _, r := range results {
		if r.deferred != nil && !r.excluded {
			p.deferred = append(p.deferred, r.deferred)
		}
	}
	p.refresh()
	return p, nil
}

// CheckUnwritten checks, against RECORD, the members of the wheels whose
// checks were deferred (Options.DeferCheck) that no Unchecked entry
// writes: data and headers left out, scripts rewritten, files filtered
// out, a path another wheel installs too. Call it once the plan's entries
// are final (after Filter) and before writing anything; a mismatch is a
// *WheelError.
func (p *Plan) CheckUnwritten(ctx context.Context) error {
	written := map[*zip.File]bool{}
	for i := range p.Entries {
		if e := &p.Entries[i]; e.Unchecked && e.Member != nil {
			written[e.Member] = true
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for _, d := range p.deferred {
		for _, c := range d.members {
			if written[c.f] {
				continue
			}
			g.Go(func() error {
				if err := gctx.Err(); err != nil {
					return err
				}
				if _, err := verifyMember(c.f, c.row); err != nil {
					return &WheelError{Wheel: d.name, Err: err}
				}
				return nil
			})
		}
	}
	if err := g.Wait(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	}
	p.unwritten = true
	return nil
}

// Deferred reports whether any entry is Unchecked.
func (p *Plan) Deferred() bool { return len(p.deferred) > 0 }

// Checked remembers in Options.Memo the wheels whose checks were deferred,
// once the caller has checked every one of their members: CheckUnwritten
// passed and a sink hashed every Unchecked entry as it wrote it and found
// each as RECORD says. Until then nothing is remembered.
func (p *Plan) Checked() {
	if p.memo == nil || !p.unwritten {
		return
	}
	for _, d := range p.deferred {
		// A memo that cannot be written only costs a check later.
		_ = p.memo.Put(memoKey(d.sha))
	}
}

// Check runs every check Build does on one wheel and, when it passes and
// opts.Memo and w.SHA256 are set, remembers it, so that a later Build reads
// only its RECORD. Callers can check each wheel as soon as its download
// ends, overlapping the work with the downloads still running.
func Check(ctx context.Context, w Wheel, opts Options) error {
	if opts.Concurrency <= 0 {
		opts.Concurrency = runtime.GOMAXPROCS(0)
	}
	if opts.Interpreter == "" {
		opts.Interpreter = Shebang
	}
	opts.Exclude = nil
	if opts.Layout.Scripts == "" {
		opts.Layout.Scripts = "bin/"
	}
	r, err := planWheel(ctx, w, opts)
	if r != nil && r.closer != nil {
		r.closer.Close()
	}
	if err != nil {
		return wheelError(ctx, w, err)
	}
	return nil
}

// wheelError blames the wheel for err, unless the work was canceled: an
// interrupted build is not a broken wheel.
func wheelError(ctx context.Context, w Wheel, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var we *WheelError
	if !errors.As(err, &we) {
		err = &WheelError{Wheel: w.name(), Err: err}
	}
	return err
}

type wheelResult struct {
	dist     Dist
	requires map[string]bool // canonical names its METADATA's Requires-Dist lists
	entries  []Entry
	dropped  []Dropped
	excluded bool
	closer   io.Closer
	deferred *deferredWheel
}

// merge joins the wheels' entries, refusing conflicts.
func (p *Plan) merge(results []*wheelResult) error {
	sort.Slice(results, func(i, j int) bool {
		if results[i].dist.Name != results[j].dist.Name {
			return results[i].dist.Name < results[j].dist.Name
		}
		return results[i].dist.Filename < results[j].dist.Filename
	})
	byPath := map[string]int{}
	requires := map[string]map[string]bool{}
	for _, r := range results {
		requires[r.dist.Name] = r.requires
	}
	for _, r := range results {
		if r.excluded {
			p.Excluded = append(p.Excluded, r.dist)
			continue
		}
		if n := len(p.Dists); n > 0 && p.Dists[n-1].Name == r.dist.Name {
			return fmt.Errorf("two wheels for distribution %s: %s and %s; keep one", r.dist.Name, p.Dists[n-1].Filename, r.dist.Filename)
		}
		p.Dists = append(p.Dists, r.dist)
		di := len(p.Dists)
		d := &p.Dists[di-1]
		for _, e := range r.entries {
			if j, ok := byPath[e.Path]; ok {
				o := p.Entries[j]
				if o.Digest != e.Digest || o.Size != e.Size || e.record != 0 || o.record != 0 {
					if e.record != 0 || o.record != 0 || !strings.HasPrefix(e.Path, p.Layout.Scripts) {
						return &ConflictError{Path: e.Path, Wheel: e.Wheel, Other: o.Wheel, Digest: e.Digest, OtherD: o.Digest}
					}
					p.replaceScript(j, e, requires[e.Dist][o.Dist] && !requires[o.Dist][e.Dist], d)
					continue
				}
				if e.Mode&0o111 != 0 {
					p.Entries[j].Mode = 0o755
				}
				d.rows = append(d.rows, recordRow{path: e.Path, digest: e.Digest, size: e.Size})
				continue
			}
			if e.record != 0 {
				e.record = di
			} else {
				d.rows = append(d.rows, recordRow{path: e.Path, digest: e.Digest, size: e.Size})
			}
			byPath[e.Path] = len(p.Entries)
			p.Entries = append(p.Entries, e)
		}
		p.Dropped = append(p.Dropped, r.dropped...)
	}
	// A path that is a file in one wheel and a folder in another.
	for path := range byPath {
		for d := path; ; {
			i := strings.LastIndexByte(d, '/')
			if i < 0 {
				break
			}
			d = d[:i]
			if j, ok := byPath[d]; ok {
				return fmt.Errorf("%s installs the file %s but %s installs %s beneath it", p.Entries[j].Wheel, d, p.Entries[byPath[path]].Wheel, path)
			}
		}
	}
	sort.Slice(p.Entries, func(i, j int) bool { return p.Entries[i].Path < p.Entries[j].Path })
	return nil
}

// replaceScript settles a script two wheels install with different bytes
// as pip does: both are installed and the later one stays. pip installs a
// package after the ones it requires, so the script of the distribution
// that requires the other wins; otherwise the one already planned (first
// by name) stays. The loser's RECORD leaves the path out.
func (p *Plan) replaceScript(j int, e Entry, takeNew bool, d *Dist) {
	o := p.Entries[j]
	if !takeNew {
		p.Replaced = append(p.Replaced, Replaced{Path: e.Path, Kept: o.Wheel, Lost: e.Wheel})
		return
	}
	p.Replaced = append(p.Replaced, Replaced{Path: e.Path, Kept: e.Wheel, Lost: o.Wheel})
	for i := range p.Dists {
		if p.Dists[i].Name == o.Dist {
			p.Dists[i].rows = slices.DeleteFunc(p.Dists[i].rows, func(r recordRow) bool { return r.path == e.Path })
		}
	}
	p.Entries[j] = e
	d.rows = append(d.rows, recordRow{path: e.Path, digest: e.Digest, size: e.Size})
}

// Filter keeps the entries for which keep returns true and rewrites every
// RECORD to match (a RECORD filtered out is not written).
func (p *Plan) Filter(keep func(e *Entry) bool) {
	out := p.Entries[:0]
	gone := map[string]bool{}
	for i := range p.Entries {
		if keep(&p.Entries[i]) {
			out = append(out, p.Entries[i])
		} else {
			gone[p.Entries[i].Path] = true
		}
	}
	clear(p.Entries[len(out):])
	p.Entries = out
	if len(gone) > 0 {
		for i := range p.Dists {
			rows := p.Dists[i].rows[:0]
			for _, r := range p.Dists[i].rows {
				if !gone[r.path] {
					rows = append(rows, r)
				}
			}
			p.Dists[i].rows = rows
		}
	}
	p.refresh()
}

// refresh regenerates the RECORDs and the per-distribution totals.
func (p *Plan) refresh() {
	byName := make(map[string]int, len(p.Dists))
	for i := range p.Dists {
		p.Dists[i].Size, p.Dists[i].Files = 0, 0
		byName[p.Dists[i].Name] = i
	}
	for i := range p.Entries {
		e := &p.Entries[i]
		if e.record != 0 {
			d := &p.Dists[e.record-1]
			e.Data = p.renderRecord(d, e.Path)
			e.Size = int64(len(e.Data))
			sum := sha256.Sum256(e.Data)
			e.Digest = digestString(sum[:])
		}
		if j, ok := byName[e.Dist]; ok {
			p.Dists[j].Size += e.Size
			p.Dists[j].Files++
		}
	}
}

// rel returns artifact path a relative to the package root, as RECORD
// holds it ("../bin/tool" for a script in a layer).
func (p *Plan) rel(a string) string {
	root := p.Layout.Root
	if rest, ok := strings.CutPrefix(a, root); ok {
		return rest
	}
	return strings.Repeat("../", strings.Count(root, "/")) + a
}

func (p *Plan) renderRecord(d *Dist, recordPath string) []byte {
	rows := make([]RecordEntry, 0, len(d.rows)+1)
	seen := make(map[string]bool, len(d.rows))
	for _, r := range d.rows {
		if seen[r.path] {
			continue // one wheel installing a path twice (same bytes)
		}
		seen[r.path] = true
		rows = append(rows, RecordEntry{Path: p.rel(r.path), Algorithm: "sha256", Digest: r.digest, Size: r.size})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Path < rows[j].Path })
	var b bytes.Buffer
	for _, r := range rows {
		b.WriteString(r.String())
		b.WriteByte('\n')
	}
	b.WriteString(RecordEntry{Path: p.rel(recordPath), Size: -1}.String())
	b.WriteByte('\n')
	return b.Bytes()
}

// Files returns the plan as tree files (installed packages, RoleDeps), in
// path order: a wheel member to copy, or bytes made here. The caller sets
// Part when the tree has several installations.
func (p *Plan) Files() []tree.File {
	out := make([]tree.File, len(p.Entries))
	for i := range p.Entries {
		e := &p.Entries[i]
		out[i] = tree.File{Path: e.Path, Mode: e.Mode, Size: e.Size, Digest: e.Digest, Dist: e.Dist, Role: tree.RoleDeps, Unchecked: e.Unchecked}
		if e.Member != nil {
			out[i].Origin, out[i].Member = tree.FromWheel, e.Member
		} else {
			out[i].Origin, out[i].Data = tree.FromBytes, e.Data
		}
	}
	return out
}

// memoKey names a checked wheel in Options.Memo.
func memoKey(sha string) string { return "wheel-checked-v1-" + strings.ToLower(sha) }

const maxMetaFile = 64 << 20 // METADATA, WHEEL, RECORD, entry_points.txt

func readMember(f *zip.File) ([]byte, error) {
	if f.UncompressedSize64 > maxMetaFile {
		return nil, fmt.Errorf("%s is %d bytes, too large", f.Name, f.UncompressedSize64)
	}
	r, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", f.Name, err)
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(r, maxMetaFile+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w (corrupt or truncated wheel)", f.Name, err)
	}
	return b, nil
}

// headers parses the RFC 822 style header block of METADATA or WHEEL.
func headers(data []byte) map[string][]string {
	h := map[string][]string{}
	for _, line := range strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n") {
		if line == "" {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		h[k] = append(h[k], strings.TrimSpace(v))
	}
	return h
}

func first(h map[string][]string, k string) string {
	if v := h[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

var (
	copyBufPool = sync.Pool{New: func() any { b := make([]byte, 128<<10); return &b }}
)

// planWheel checks one wheel and maps its members to artifact paths.
func planWheel(ctx context.Context, w Wheel, opts Options) (*wheelResult, error) {
	fname := w.name()
	base, ok := strings.CutSuffix(fname, ".whl")
	parts := strings.Split(base, "-")
	if !ok || (len(parts) != 5 && len(parts) != 6) || parts[0] == "" || parts[1] == "" {
		return nil, fmt.Errorf("%q is not a wheel file name (name-version[-build]-python-abi-platform.whl)", fname)
	}
	fnName, fnVersion := names.Canonical(parts[0]), parts[1]
	res := &wheelResult{dist: Dist{Name: fnName, Version: fnVersion, Filename: fname}}
	if opts.Exclude != nil && opts.Exclude(fnName) {
		res.excluded = true
		return res, nil
	}
	zr, err := zip.OpenReader(w.Path)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return nil, fmt.Errorf("not a readable zip (truncated or corrupt; delete it from the cache and fetch it again): %w", err)
	}
	res.closer = zr
	// klauspost's inflate is about twice as fast as the standard library's.
	zr.RegisterDecompressor(zip.Deflate, func(r io.Reader) io.ReadCloser { return kflate.NewReader(r) })
	st, err := os.Stat(w.Path)
	if err != nil {
		return res, err
	}
	if err := refuseOverlaps(zr.File, st.Size()); err != nil {
		return res, err
	}

	// Every member: a safe path, no symlink, no encryption, a known method,
	// no duplicates.
	members := map[string]*zip.File{}
	distInfos := map[string]bool{}
	for _, f := range zr.File {
		if err := tree.ValidPath(f.Name); err != nil {
			return res, fmt.Errorf("member %v", err) // the error quotes the name, cut short
		}
		mode := f.ExternalAttrs >> 16
		if mode&0o170000 == 0o120000 {
			return res, fmt.Errorf("member %q is a symlink", f.Name)
		}
		if f.Flags&0x1 != 0 {
			return res, fmt.Errorf("member %q is encrypted", f.Name)
		}
		if f.Method != zip.Store && f.Method != zip.Deflate {
			return res, fmt.Errorf("member %q uses compression method %d (only stored and deflated are supported)", f.Name, f.Method)
		}
		if _, dup := members[f.Name]; dup {
			return res, fmt.Errorf("member %q appears twice", f.Name)
		}
		members[f.Name] = f
		if top, _, _ := strings.Cut(f.Name, "/"); strings.HasSuffix(top, ".dist-info") {
			distInfos[top] = true
		}
	}
	if len(distInfos) != 1 {
		list := make([]string, 0, len(distInfos))
		for d := range distInfos {
			list = append(list, d)
		}
		sort.Strings(list)
		return res, fmt.Errorf("want exactly one .dist-info folder, found %d %v", len(list), list)
	}
	var distInfo string
	for d := range distInfos {
		distInfo = d
	}
	stem := strings.TrimSuffix(distInfo, ".dist-info")
	if diName, _, _ := strings.Cut(stem, "-"); names.Canonical(diName) != fnName {
		return res, fmt.Errorf("its .dist-info folder %s is not for %s", distInfo, fnName)
	}

	get := func(name string) ([]byte, error) {
		f := members[distInfo+"/"+name]
		if f == nil {
			return nil, fmt.Errorf("%s/%s is missing", distInfo, name)
		}
		return readMember(f)
	}
	meta, err := get("METADATA")
	if err != nil {
		return res, err
	}
	mh := headers(meta)
	mName, mVersion := first(mh, "name"), first(mh, "version")
	if names.Canonical(mName) != fnName {
		return res, fmt.Errorf("its file name says %s but its METADATA says Name: %s", parts[0], mName)
	}
	if !sameVersion(mVersion, fnVersion) {
		return res, fmt.Errorf("its file name says version %s but its METADATA says Version: %s", fnVersion, mVersion)
	}
	res.dist.Version = mVersion
	res.requires = map[string]bool{}
	for _, r := range mh["requires-dist"] {
		if f := strings.FieldsFunc(r, func(c rune) bool { return strings.ContainsRune(" \t;[(<>=!~@", c) }); len(f) > 0 {
			res.requires[names.Canonical(f[0])] = true
		}
	}
	if err := checkResolved(w, distInfo, meta); err != nil {
		return res, err
	}
	wheelMeta, err := get("WHEEL")
	if err != nil {
		return res, err
	}
	wh := headers(wheelMeta)
	if v := first(wh, "wheel-version"); !strings.HasPrefix(v, "1.") && v != "1" {
		return res, fmt.Errorf("Wheel-Version %q is not supported (only 1.x)", v)
	}
	res.dist.Pure = strings.EqualFold(first(wh, "root-is-purelib"), "true") && strings.HasSuffix(base, "-none-any")
	recordData, err := get("RECORD")
	if err != nil {
		return res, err
	}
	rows, err := ParseRecord(recordData)
	if err != nil {
		return res, fmt.Errorf("%s/RECORD: %w", distInfo, err)
	}
	record := make(map[string]RecordEntry, len(rows))
	for _, r := range rows {
		record[r.Path] = r
	}
	isRecordish := func(name string) bool {
		switch name {
		case distInfo + "/RECORD", distInfo + "/RECORD.jws", distInfo + "/RECORD.p7s":
			return true
		}
		return false
	}
	// Each member must be in RECORD with a hash and a size.
	type check struct {
		f   *zip.File
		row RecordEntry
		sum string // sha256, filled by verification
	}
	checks := make([]*check, 0, len(zr.File))
	allSHA256 := true
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/") || isRecordish(f.Name) {
			continue
		}
		row, ok := record[f.Name]
		if !ok {
			return res, fmt.Errorf("member %s is not listed in RECORD", f.Name)
		}
		if row.Algorithm == "" || row.Size < 0 {
			return res, fmt.Errorf("RECORD lacks the hash or size of %s", f.Name)
		}
		if _, err := newHash(row.Algorithm); err != nil {
			return res, fmt.Errorf("RECORD row for %s: %v", f.Name, err)
		}
		if row.Algorithm != "sha256" {
			allSHA256 = false
		}
		if uint64(row.Size) != f.UncompressedSize64 {
			return res, fmt.Errorf("RECORD says %s is %d bytes but the wheel holds %d", f.Name, row.Size, f.UncompressedSize64)
		}
		checks = append(checks, &check{f: f, row: row})
	}

	memoHit := opts.Memo != nil && w.SHA256 != "" && allSHA256 && opts.Memo.Has(memoKey(w.SHA256))
	deferred := !memoHit && opts.DeferCheck && w.SHA256 != "" && allSHA256
	if memoHit || deferred {
		for _, c := range checks {
			c.sum = c.row.Digest
		}
	}
	if deferred {
		res.deferred = &deferredWheel{name: fname, sha: w.SHA256}
		for _, c := range checks {
			res.deferred.members = append(res.deferred.members, memberCheck{f: c.f, row: c.row})
		}
	}
	if !memoHit && !deferred {
		// Inflate every member once: the hash and size RECORD gives must be
		// the member's.
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(opts.Concurrency)
		for _, c := range checks {
			g.Go(func() error {
				if err := gctx.Err(); err != nil {
					return err
				}
				sum, err := verifyMember(c.f, c.row)
				if err != nil {
					return err
				}
				c.sum = sum
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return res, err
		}
		if opts.Memo != nil && w.SHA256 != "" && allSHA256 {
			// A memo that cannot be written only costs a re-check later.
			_ = opts.Memo.Put(memoKey(w.SHA256))
		}
	}

	// Map members to artifact paths.
	L := opts.Layout
	dataPrefix := stem + ".data/"
	add := func(p string, mode fs.FileMode, f *zip.File, data []byte, digest string, size int64) error {
		if err := tree.ValidPath(p); err != nil {
			return fmt.Errorf("installed path: %v", err)
		}
		res.entries = append(res.entries, Entry{Path: p, Mode: mode, Size: size, Digest: digest, Dist: fnName, Wheel: fname, Member: f, Data: data, Unchecked: deferred && f != nil})
		return nil
	}
	fileMode := func(f *zip.File) fs.FileMode {
		if (f.ExternalAttrs>>16)&0o111 != 0 {
			return 0o755
		}
		return 0o644
	}
	for _, c := range checks {
		f := c.f
		switch {
		case strings.HasPrefix(f.Name, dataPrefix):
			scheme, sub, _ := strings.Cut(strings.TrimPrefix(f.Name, dataPrefix), "/")
			if sub == "" {
				return res, fmt.Errorf("member %s is not inside a .data scheme folder", f.Name)
			}
			switch scheme {
			case "purelib", "platlib":
				if err := add(L.Root+sub, fileMode(f), f, nil, c.sum, int64(f.UncompressedSize64)); err != nil {
					return res, err
				}
			case "scripts":
				if strings.Contains(sub, "/") {
					return res, fmt.Errorf("script %s is in a subfolder of scripts", f.Name)
				}
				data, err := readMember(f)
				if err != nil {
					return res, err
				}
				if out, changed := ReplaceShebang(data, opts.Interpreter); changed {
					sum := sha256.Sum256(out)
					err = add(L.Scripts+sub, 0o755, nil, out, digestString(sum[:]), int64(len(out)))
				} else {
					err = add(L.Scripts+sub, 0o755, f, nil, c.sum, int64(f.UncompressedSize64))
				}
				if err != nil {
					return res, err
				}
			case "headers", "data":
				res.dropped = append(res.dropped, Dropped{Dist: fnName, Wheel: fname, Member: f.Name, Scheme: scheme, Size: int64(f.UncompressedSize64)})
			default:
				return res, fmt.Errorf("member %s uses the unknown .data scheme %q", f.Name, scheme)
			}
		case f.Name == distInfo+"/INSTALLER" || f.Name == distInfo+"/REQUESTED" || f.Name == distInfo+"/direct_url.json":
			// Written by installers, not wheels: replaced below or left out.
		default:
			if err := add(L.Root+f.Name, fileMode(f), f, nil, c.sum, int64(f.UncompressedSize64)); err != nil {
				return res, err
			}
		}
	}
	// Console and gui scripts.
	if ep := members[distInfo+"/entry_points.txt"]; ep != nil {
		data, err := readMember(ep)
		if err != nil {
			return res, err
		}
		eps, err := ParseEntryPoints(string(data))
		if err != nil {
			return res, fmt.Errorf("%s/entry_points.txt: %v", distInfo, err)
		}
		for _, e := range eps {
			if strings.ContainsAny(e.Name, "/\\") || tree.ValidPath(e.Name) != nil {
				return res, fmt.Errorf("entry point script name %q is not a plain file name", e.Name)
			}
			out := e.Launcher(opts.Interpreter)
			sum := sha256.Sum256(out)
			if err := add(L.Scripts+e.Name, 0o755, nil, out, digestString(sum[:]), int64(len(out))); err != nil {
				return res, err
			}
		}
	}
	installer := []byte(opts.Installer + "\n")
	sum := sha256.Sum256(installer)
	res.dist.DistInfo = L.Root + distInfo + "/"
	if err := add(L.Root+distInfo+"/INSTALLER", 0o644, nil, installer, digestString(sum[:]), int64(len(installer))); err != nil {
		return res, err
	}
	if err := add(L.Root+distInfo+"/RECORD", 0o644, nil, nil, "", 0); err != nil {
		return res, err
	}
	res.entries[len(res.entries)-1].record = -1 // marked; merge sets the index
	return res, nil
}

// verifyMember inflates f and checks it against its RECORD row, returning
// its sha256 in RECORD's form.
func verifyMember(f *zip.File, row RecordEntry) (string, error) {
	r, err := f.Open()
	if err != nil {
		return "", fmt.Errorf("reading member %s: %w", f.Name, err)
	}
	defer r.Close()
	s := sha256.New()
	var other hash.Hash
	var w io.Writer = s
	if row.Algorithm != "sha256" {
		other, _ = newHash(row.Algorithm)
		w = io.MultiWriter(s, other)
	}
	bp := copyBufPool.Get().(*[]byte)
	n, err := io.CopyBuffer(w, r, *bp)
	copyBufPool.Put(bp)
	if err != nil {
		return "", fmt.Errorf("reading member %s: %w (corrupt or truncated wheel)", f.Name, err)
	}
	if n != row.Size {
		return "", fmt.Errorf("RECORD says %s is %d bytes but it holds %d", f.Name, row.Size, n)
	}
	sum := digestString(s.Sum(nil))
	got := sum
	if other != nil {
		got = digestString(other.Sum(nil))
	}
	if got != row.Digest {
		return "", fmt.Errorf("RECORD's %s hash of %s does not match its contents (%s=%s in RECORD, %s in the wheel)", row.Algorithm, f.Name, row.Algorithm, row.Digest, got)
	}
	return sum, nil
}
