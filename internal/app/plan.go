package app

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path"
	"runtime"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/lambdapack/lambdapack/internal/human"
	"github.com/lambdapack/lambdapack/internal/install"
	"github.com/lambdapack/lambdapack/internal/names"
	"github.com/lambdapack/lambdapack/internal/pins"
	"github.com/lambdapack/lambdapack/internal/record"
	"github.com/lambdapack/lambdapack/internal/slim"
	"github.com/lambdapack/lambdapack/internal/target"
	"github.com/lambdapack/lambdapack/internal/tree"
	"github.com/lambdapack/lambdapack/internal/verify"
)

// partPins is one installation to plan: the targets it serves (the first
// chose the wheels), their pins and where they go.
type partPins struct {
	targets []target.Target
	set     *pins.Set
	layout  install.Layout
}

// pinParts pins each target's wheels and groups the targets into parts:
// one installation serving every target when they take the same wheels
// (under python/), else one python/lib/python3.X/site-packages each, which
// only that runtime reads.
func (env *Env) pinParts(ctx context.Context, o ArtifactOptions, targets []target.Target) ([]*partPins, error) {
	sets := make([]*pins.Set, len(targets))
	for i, t := range targets {
		s, err := env.Pins.Pin(ctx, t, o.Deps)
		if err != nil {
			return nil, err
		}
		sets[i] = s
	}
	if o.Kind == KindFunction {
		return []*partPins{{targets: targets, set: sets[0], layout: install.FunctionLayout()}}, nil
	}
	same := true
	for _, s := range sets[1:] {
		same = same && s.Wheels() == sets[0].Wheels()
	}
	switch {
	case o.Layout == record.LayoutSitePackages:
	case same:
		return []*partPins{{targets: targets, set: sets[0], layout: install.LayerLayout()}}, nil
	case o.Layout == record.LayoutPython:
		return nil, fmt.Errorf("the runtimes %s need different wheels, so one python/ folder cannot serve them all: use the site-packages layout (layout = \"site-packages\", one folder per Python version; or leave layout unset) or one layer per runtime", runtimeList(targets))
	default:
		env.logf("Runtimes %s need different wheels: one python/lib/python3.X/site-packages folder each", runtimeList(targets))
	}
	parts := make([]*partPins, len(targets))
	for i, t := range targets {
		parts[i] = &partPins{targets: targets[i : i+1], set: sets[i], layout: install.LayerSitePackagesLayout(t.Python())}
	}
	return parts, nil
}

// fetchParts fetches every part's wheels at once (each file once) and
// returns them per part, for install. A size refusal (pins.StopOver) comes
// back as the *VerifyError it is.
func (env *Env) fetchParts(ctx context.Context, parts []*partPins, opts ...pins.FetchOption) ([][]install.Wheel, error) {
	var all []pins.Pin
	seen := map[string]bool{}
	for _, p := range parts {
		for _, pin := range p.set.Pins {
			if k := pin.File.Filename + " " + pin.SHA256; !seen[k] {
				seen[k] = true
				all = append(all, pin)
			}
		}
	}
	blobs, err := env.Pins.Fetch(ctx, all, opts...)
	if err != nil {
		if ve := (*VerifyError)(nil); errors.As(err, &ve) {
			return nil, ve
		}
		return nil, err
	}
	byKey := map[string]install.Wheel{}
	for i, pin := range all {
		// The metadata resolution read goes with each wheel: install
		// refuses one whose own METADATA disagrees.
		byKey[pin.File.Filename+" "+pin.SHA256] = install.Wheel{Path: blobs[i].Path, Filename: pin.File.Filename, SHA256: blobs[i].SHA256,
			Resolved: pin.Metadata, ResolvedFrom: pin.MetadataFrom}
	}
	out := make([][]install.Wheel, len(parts))
	for i, p := range parts {
		for _, pin := range p.set.Pins {
			out[i] = append(out[i], byKey[pin.File.Filename+" "+pin.SHA256])
		}
	}
	return out, nil
}

// planTree installs each part's wheels (leaving out excluded packages and
// what slimming strips), adds a function's code and, with Compile, the
// bytecode, decides purity from the files' content and fills the record.
func (env *Env) planTree(ctx context.Context, o ArtifactOptions, parts []*partPins, wheels [][]install.Wheel) (_ *tree.Tree, err error) {
	tr := &tree.Tree{}
	defer func() {
		if err != nil {
			tr.Close()
		}
	}()
	digests := map[string]string{}
	for pi, p := range parts {
		plan, err := install.Build(ctx, wheels[pi], install.Options{Layout: p.layout, Memo: env.memo, Exclude: excluder(o.ExcludePackages), DeferCheck: o.deferCheck})
		if err != nil {
			return nil, err
		}
		tr.OnClose(plan)
		tr.Notes = append(tr.Notes, p.set.Notes...)
		tr.Notes = append(tr.Notes, installNotes(plan, o.ExcludePackages)...)
		slimNotes, err := applySlim(plan, o)
		if err != nil {
			return nil, err
		}
		tr.Notes = append(tr.Notes, slimNotes...)
		if plan.Deferred() {
			// The members the tree will not write are checked now; the
			// sink checks the others as it writes them (deferred.go).
			if err := plan.CheckUnwritten(ctx); err != nil {
				return nil, err
			}
			env.deferChecks(tr, plan)
		}
		// Each runtime's packages have their own folder, but scripts share
		// bin/: the same script twice is kept once.
		for _, f := range plan.Files() {
			if d, dup := digests[f.Path]; dup {
				if d != f.Digest {
					return nil, fmt.Errorf("%s differs between the runtimes' installations (%s): build one layer per runtime", f.Path, runtimeList(allTargets(parts)))
				}
				continue
			}
			digests[f.Path] = f.Digest
			f.Part = pi
			tr.Files = append(tr.Files, f)
		}
		part := tree.Part{Targets: p.targets, Root: p.layout.Root}
		for _, d := range plan.Dists {
			part.Dists = append(part.Dists, tree.Dist{Name: d.Name, Version: d.Version, Filename: d.Filename, Size: d.Size, Files: d.Files})
		}
		tr.Parts = append(tr.Parts, part)
	}
	if err := addCode(tr, o); err != nil {
		return nil, err
	}
	if err := tr.Sort(); err != nil {
		return nil, err
	}
	env.noteUnchecked(tr)
	if o.Compile {
		if err := compileTree(ctx, tr, o.Kind); err != nil {
			return nil, err
		}
	}
	if tr.Pure, err = env.pure(ctx, tr); err != nil {
		return nil, err
	}
	tr.Record = o.record(parts, tr.Pure)
	return tr, nil
}

// record says what the artifact is and is for.
func (o ArtifactOptions) record(parts []*partPins, pure bool) record.Record {
	targets := allTargets(parts)
	t := targets[0]
	r := record.Record{
		Kind: o.Kind, Handler: o.Handler, Runtime: t.Runtime, Architecture: string(t.Arch), Architectures: []string{string(t.Arch)},
		Python: t.Python(), Version: CurrentVersion(),
	}
	if o.image {
		r.Kind = record.KindImage
	}
	if len(targets) > 1 {
		r.Runtimes = runtimeNames(targets)
	}
	if pure {
		r.Architectures = []string{string(target.X86_64), string(target.ARM64)}
	}
	var all []pins.Pin
	for _, p := range parts {
		all = append(all, p.set.Pins...)
	}
	r.RequirementsSHA256 = pins.Hash(all)
	return r
}

func allTargets(parts []*partPins) []target.Target {
	var ts []target.Target
	for _, p := range parts {
		ts = append(ts, p.targets...)
	}
	return ts
}

func excluder(exclude []string) func(string) bool {
	if len(exclude) == 0 {
		return nil
	}
	excluded := map[string]bool{}
	for _, n := range exclude {
		excluded[names.Canonical(n)] = true
	}
	return func(name string) bool { return excluded[names.Canonical(name)] }
}

// installNotes say what the installation left out: .data folders a Lambda
// artifact has no place for, and the packages --exclude-package named.
func installNotes(plan *install.Plan, requested []string) []string {
	var notes []string
	// One note per wheel and scheme: a wheel's .data/data can hold
	// hundreds of files (networkx's examples), each said once before.
	type group struct {
		wheel, scheme string
		members       []string
	}
	var groups []*group
	for _, d := range plan.Dropped {
		i := slices.IndexFunc(groups, func(g *group) bool { return g.wheel == d.Wheel && g.scheme == d.Scheme })
		if i < 0 {
			groups = append(groups, &group{wheel: d.Wheel, scheme: d.Scheme})
			i = len(groups) - 1
		}
		groups[i].members = append(groups[i].members, d.Member)
	}
	for _, g := range groups {
		if len(g.members) == 1 {
			notes = append(notes, fmt.Sprintf("%s: %s/%s left out (a Lambda artifact has no place for .data/%s)", g.wheel, g.scheme, g.members[0], g.scheme))
			continue
		}
		notes = append(notes, fmt.Sprintf("%s: %d files of .data/%s left out, %s/%s among them (a Lambda artifact has no place for .data/%s)", g.wheel, len(g.members), g.scheme, g.scheme, g.members[0], g.scheme))
	}
	for _, r := range plan.Replaced {
		notes = append(notes, fmt.Sprintf("%s: installed from %s, not %s (both declare it; pip keeps the one it installs last)", r.Path, r.Kept, r.Lost))
	}
	if len(requested) == 0 {
		return notes
	}
	got := map[string]bool{}
	for _, d := range plan.Excluded {
		got[d.Name] = true
	}
	var provided []string
	for _, n := range requested {
		c := names.Canonical(n)
		if !got[c] {
			notes = append(notes, fmt.Sprintf("--exclude-package %s: no such package in the artifact", n))
		}
		if got[c] && slices.Contains(slim.RuntimeProvided, c) {
			provided = append(provided, c) // left out, so worth saying why that is fine
		}
	}
	if len(provided) > 0 {
		notes = append(notes, fmt.Sprintf("left out %s: the Lambda Python runtime provides boto3, botocore and s3transfer (at the version AWS ships, which moves with runtime updates)", strings.Join(provided, ", ")))
	}
	return notes
}

// applySlim applies --strip-pattern and --slim to the plan (whose RECORDs
// follow).
func applySlim(plan *install.Plan, o ArtifactOptions) ([]string, error) {
	if !o.Slim && len(o.StripPatterns) == 0 {
		return nil, nil
	}
	files := make([]slim.File, len(plan.Entries))
	for i := range plan.Entries {
		e := &plan.Entries[i]
		files[i] = slim.File{Path: e.Path, Size: e.Size, Open: entryOpener(e)}
	}
	removed := map[string]bool{}
	var notes []string
	var saved int64
	if len(o.StripPatterns) > 0 {
		r, err := slim.StripPatterns(files, o.StripPatterns)
		if err != nil {
			return nil, err
		}
		files = r.Files
		saved += r.Saved()
		for _, x := range r.Removed {
			removed[x.Path] = true
		}
		notes = append(notes, r.Notes...)
	}
	if o.Slim {
		r, err := slim.Slim(files)
		if err != nil {
			return nil, err
		}
		saved += r.Saved()
		for _, x := range r.Removed {
			removed[x.Path] = true
		}
		for _, k := range r.Kept {
			notes = append(notes, fmt.Sprintf("--slim kept %s: %s", k.Path, k.Reason))
		}
		notes = append(notes, r.Notes...)
	}
	plan.Filter(func(e *install.Entry) bool { return !removed[e.Path] })
	if len(removed) > 0 {
		what := "files"
		if len(removed) == 1 {
			what = "file"
		}
		notes = append(notes, fmt.Sprintf("slimming removed %d %s (%s)", len(removed), what, human.Bytes(saved)))
	}
	return notes, nil
}

// entryOpener opens a plan entry's installed bytes.
func entryOpener(e *install.Entry) func() (io.ReadCloser, error) {
	if e.Member != nil {
		return e.Member.Open
	}
	data := e.Data
	return func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(string(data))), nil }
}

// compileTree byte-compiles what each part's runtime reads, with a local
// CPython of its version, and adds the .pyc files to the part.
func compileTree(ctx context.Context, tr *tree.Tree, kind record.Kind) error {
	mount := "/opt"
	if kind == KindFunction {
		mount = "/var/task"
	}
	var added []tree.File
	for pi := range tr.Parts {
		t := tr.Parts[pi].Target()
		var files []slim.File
		for _, f := range tr.PartFiles(pi) {
			files = append(files, slim.File{Path: f.Path, Size: f.Size, Open: f.Open})
		}
		cr, err := slim.Compile(ctx, files, slim.CompileOptions{Python: t.Python(), Mount: mount})
		if err != nil {
			return err
		}
		tr.Notes = append(tr.Notes, fmt.Sprintf("compiled %d modules for Python %s with %s", len(cr.Files), t.Python(), cr.Interpreter))
		for _, f := range cr.Failed {
			tr.Notes = append(tr.Notes, fmt.Sprintf("--compile: %s left uncompiled: %s", f.Path, f.Reason))
		}
		for _, c := range cr.Files {
			added = append(added, tree.File{Path: c.Path, Mode: 0o644, Size: int64(len(c.Data)), Origin: tree.FromBytes, Data: c.Data, Part: pi})
		}
	}
	tr.Files = append(tr.Files, added...)
	return tr.Sort()
}

// pure reports whether no file of the tree is native code (ELF, or a
// Mach-O or PE file Linux would load), from the files' first bytes: such an
// artifact fits both architectures. What a file is is remembered by its
// digest, so a warm build reads nothing again.
func (env *Env) pure(ctx context.Context, tr *tree.Tree) (bool, error) {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(2 * runtime.GOMAXPROCS(0))
	native := make([]bool, len(tr.Files))
	facts := env.factsFor(tr)
	for i := range tr.Files {
		f := &tr.Files[i]
		if !mayBeNative(f) {
			continue
		}
		g.Go(func() error {
			if err := ctx.Err(); err != nil {
				return err
			}
			key := ""
			if facts != nil && f.Digest != "" {
				key = "native-v1:" + f.Digest
				if v, ok := facts.Get(key); ok {
					native[i] = string(v) == "true"
					return nil
				}
			}
			n, err := isNative(f)
			if err != nil {
				return fmt.Errorf("reading %s: %w", f.Path, err)
			}
			native[i] = n
			if key != "" {
				facts.Put(key, []byte(fmt.Sprint(n)))
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return false, err
	}
	return !slices.Contains(native, true), nil
}

// notNative are extensions of files that are never native code Linux
// loads: text, and the Windows and macOS binaries that only those systems
// load (setuptools ships .exe launchers in a pure wheel).
var notNative = map[string]bool{
	".py": true, ".pyi": true, ".pyc": true, ".pyx": true, ".pxd": true, ".txt": true, ".md": true,
	".rst": true, ".json": true, ".toml": true, ".cfg": true, ".ini": true, ".yaml": true, ".yml": true,
	".html": true, ".css": true, ".js": true, ".csv": true, ".h": true, ".c": true, ".typed": true,
	".xml": true, ".svg": true, ".pem": true, ".exe": true, ".dll": true, ".dylib": true,
}

func mayBeNative(f *tree.File) bool {
	return f.Size >= 4 && !notNative[strings.ToLower(path.Ext(f.Path))] && !strings.Contains(f.Path, ".dist-info/")
}

// isNative reads a file's first bytes: ELF, Mach-O, or PE with its
// signature where the MZ header points.
func isNative(f *tree.File) (bool, error) {
	rc, err := f.Open()
	if err != nil {
		return false, err
	}
	defer rc.Close()
	head, err := readHead(rc, nil, 64)
	if err != nil {
		return false, err
	}
	switch verify.Sniff(head) {
	case verify.ELF, verify.MachO:
		return true, nil
	case verify.PE:
		off := int(binary.LittleEndian.Uint32(head[0x3c:]))
		if head, err = readHead(rc, head, off+4); err != nil {
			return false, err
		}
		return len(head) >= off+4 && string(head[off:off+4]) == "PE\x00\x00", nil
	}
	return false, nil
}

// readHead reads r until head holds n bytes or r ends.
func readHead(r io.Reader, head []byte, n int) ([]byte, error) {
	if len(head) >= n {
		return head, nil
	}
	more := make([]byte, n-len(head))
	k, err := io.ReadFull(r, more)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, err
	}
	return append(head, more[:k]...), nil
}
