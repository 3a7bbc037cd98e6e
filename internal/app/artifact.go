package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/lambdapack/lambdapack/internal/cache"
	"github.com/lambdapack/lambdapack/internal/index"
	"github.com/lambdapack/lambdapack/internal/install"
	"github.com/lambdapack/lambdapack/internal/names"
	"github.com/lambdapack/lambdapack/internal/publish"
	"github.com/lambdapack/lambdapack/internal/record"
	"github.com/lambdapack/lambdapack/internal/slim"
	"github.com/lambdapack/lambdapack/internal/target"
	"github.com/lambdapack/lambdapack/internal/tree"
	"github.com/lambdapack/lambdapack/internal/verify"
	"github.com/lambdapack/lambdapack/internal/zipsink"
)

// Kinds of artifacts (the record's).
const (
	KindLayer    = record.KindLayer
	KindFunction = record.KindFunction
)

// Lambda's limits that a build reports against.
const (
	DirectUploadLimit = 50 * 1024 * 1024 // bytes of zip for a direct upload
	UnzippedLimit     = 262_144_000      // bytes of function plus layers, unzipped
)

// ArtifactOptions describe one layer or function zip to build.
type ArtifactOptions struct {
	Kind record.Kind // KindLayer or KindFunction
	Deps Inputs
	// Runtime and Arch name the target; Targets, when set, win. A layer
	// may have several (one per compatible runtime, one architecture).
	Runtime, Arch string
	Targets       []target.Target
	// Layout of a layer: "python" (default) or "site-packages".
	Layout string
	// Src is a function's code folder; Excludes are globs left out of it.
	Src      string
	Excludes []string
	// SkipPaths are files or folders never taken from Src (the build's
	// output folder).
	SkipPaths []string
	Output    string

	ExcludePackages []string
	Slim            bool
	StripPatterns   []string
	Compile         bool

	NoVerify bool // skip verification
	Force    bool // write even when verification finds errors
	Strict   bool // warnings fail verification too

	// Name labels the artifact in reports (lambdapack build sets it).
	Name string
	// Handler is a function's handler ("app.handler"), recorded in the
	// artifact when known.
	Handler string
}

// Inputs are where dependencies come from: requirement strings, requirement
// files ("-" is Stdin), constraint files, or a lockfile.
type Inputs struct {
	Requirements     []string
	RequirementFiles []string
	ConstraintFiles  []string
	Lock             string
	Stdin            io.Reader
	Pre              bool
}

// Empty reports whether no dependency is given.
func (in Inputs) Empty() bool {
	return len(in.Requirements) == 0 && len(in.RequirementFiles) == 0 && in.Lock == ""
}

// PackageReport is one distribution in an artifact.
type PackageReport struct {
	Name     string `json:"name"`
	Version  string `json:"version"`
	Filename string `json:"filename"`
	Size     int64  `json:"size"` // unpacked bytes it installs
}

// ArtifactReport describes a built artifact (the --json report's items).
type ArtifactReport struct {
	Name          string          `json:"name,omitempty"`
	Kind          record.Kind     `json:"kind"`
	Path          string          `json:"path"`
	SHA256        string          `json:"sha256"`
	Size          int64           `json:"size"`
	UnzippedSize  int64           `json:"unzipped_size"`
	Runtime       string          `json:"runtime"`
	Runtimes      []string        `json:"runtimes,omitempty"`
	Architecture  string          `json:"architecture"`
	Architectures []string        `json:"architectures"`
	Python        string          `json:"python"`
	Pure          bool            `json:"pure"`
	Packages      []PackageReport `json:"packages"`
	Unchanged     *bool           `json:"unchanged,omitempty"`
	// RequirementsSHA256 identifies the resolved set (name==version and
	// file hashes), for publishing metadata.
	RequirementsSHA256 string           `json:"requirements_sha256"`
	Findings           []verify.Finding `json:"findings,omitempty"`
	Notes              []string         `json:"notes,omitempty"`
	Seconds            float64          `json:"seconds"`
}

// Report is what --json prints.
type Report struct {
	Artifacts []*ArtifactReport `json:"artifacts"`
	// Published lists the layer versions published with --publish.
	Published []*publish.LayerResult `json:"published,omitempty"`
}

// chosen is one distribution to install: a wheel file with its hash.
type chosen struct {
	Name, Version string
	File          index.File
	SHA256        string
}

// part is the installation for one target: a layer built for several
// runtimes that need different wheels has one part per runtime, each in its
// own python/lib/python3.X/site-packages.
type part struct {
	// shared: this runtime takes the same wheels as the first part and is
	// served (and verified) by its installation.
	shared bool
	t      target.Target
	pkgs   []chosen
	plan   *install.Plan
	root   string
	notes  []string
}

// BuildArtifact resolves (or reads a lock), fetches, installs, verifies and
// zips one artifact. Nothing is written at Output unless everything
// succeeded.
func BuildArtifact(ctx context.Context, env *Env, o ArtifactOptions) (*ArtifactReport, error) {
	start := time.Now()
	log := env.log()
	targets, err := o.targets()
	if err != nil {
		return nil, err
	}
	if o.Output == "" {
		return nil, errors.New("no output path: pass -o FILE.zip")
	}
	if st, err := os.Stat(o.Output); err == nil && !st.Mode().IsRegular() {
		// The zip is written beside the destination and renamed over it:
		// never over a device, a folder or a pipe.
		return nil, fmt.Errorf("-o %s: exists and is not a regular file; give a path for the zip", o.Output)
	}
	if o.Kind == KindFunction {
		if o.Src == "" {
			return nil, errors.New("a function zip needs its code: pass --src DIR (the folder with your handler)")
		}
		if st, err := os.Stat(o.Src); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("--src %s: not a folder: pass the folder with your handler's code", o.Src)
		}
	}
	for _, t := range targets {
		if note := deprecationNote(t); note != "" {
			log.Printf("warning: %s", note)
		}
	}

	if o.Kind == KindLayer && o.Deps.Empty() {
		return nil, errors.New("nothing to put in the layer: give requirements (arguments or -r FILE) or --lock")
	}

	// 1. What to install, per target.
	parts := make([]*part, len(targets))
	for i, t := range targets {
		pkgs, notes, err := env.packagesFor(ctx, t, o.Deps)
		if err != nil {
			return nil, err
		}
		parts[i] = &part{t: t, pkgs: pkgs, notes: notes}
	}
	// A layer for several runtimes that all take the same wheels is one
	// installation, checked against each runtime; otherwise each runtime
	// gets its own site-packages folder, which only that runtime reads.
	layout := o.Layout
	if len(parts) > 1 {
		if sameWheels(parts) {
			for _, p := range parts[1:] {
				p.shared, p.pkgs = true, nil
			}
		} else {
			if layout == "python" {
				return nil, fmt.Errorf("the runtimes %s need different wheels, so one python/ folder cannot serve them all: use the site-packages layout (layout = \"site-packages\", one folder per Python version; or leave layout unset) or one layer per runtime", runtimeList(targets))
			}
			layout = "site-packages"
			log.Printf("Runtimes %s need different wheels: one python/lib/python3.X/site-packages folder each", runtimeList(targets))
		}
	}

	// 2. Fetch and plan each part.
	var files []tree.File
	var notes []string
	digests := map[string]string{}
	for pi, p := range parts {
		if p.shared {
			continue
		}
		lay, root, err := o.layoutFor(p.t, layout)
		if err != nil {
			return nil, err
		}
		p.root = root
		p.plan, err = env.planInstall(ctx, p.pkgs, lay, o.ExcludePackages)
		if err != nil {
			return nil, err
		}
		defer p.plan.Close()
		notes = append(notes, p.notes...)
		for _, d := range p.plan.Dropped {
			notes = append(notes, fmt.Sprintf("%s: %s/%s left out (a Lambda artifact has no place for .data/%s)", d.Wheel, d.Scheme, d.Member, d.Scheme))
		}
		if len(o.ExcludePackages) > 0 {
			notes = append(notes, excludeNotes(o.ExcludePackages, p.plan)...)
		}
		slimNotes, err := applySlim(p.plan, o)
		if err != nil {
			return nil, err
		}
		notes = append(notes, slimNotes...)
		// Each runtime's packages have their own folder, but scripts share
		// bin/: the same script twice is kept once.
		for _, f := range p.plan.Files() {
			if d, dup := digests[f.Path]; dup {
				if d != f.Digest {
					return nil, fmt.Errorf("%s differs between the runtimes' installations (%s): build one layer per runtime", f.Path, runtimeList(targets))
				}
				continue
			}
			digests[f.Path] = f.Digest
			f.Part = pi
			files = append(files, f)
		}
	}
	main := parts[0]
	vEntries := map[*part][]verify.Entry{}
	for _, p := range parts {
		if p.plan != nil {
			vEntries[p] = planVerifyEntries(p.plan)
		}
	}

	// 3. The function's own code.
	if o.Kind == KindFunction {
		src, err := collectSource(o.Src, o.Excludes, append([]string{o.Output}, o.SkipPaths...)...)
		if err != nil {
			return nil, err
		}
		owner := map[string]string{}
		for _, e := range main.plan.Entries {
			owner[e.Path] = e.Dist
		}
		for _, f := range src {
			if d, clash := owner[f.Rel]; clash {
				return nil, fmt.Errorf("%s in %s has the same path as a file of %s: rename it, or --exclude it if it is a vendored copy", f.Rel, o.Src, d)
			}
			files = append(files, tree.File{Path: f.Rel, Mode: f.Mode, Size: f.Size, Origin: tree.FromDisk, Disk: f.Abs, Role: tree.RoleCode})
			abs := f.Abs
			vEntries[main] = append(vEntries[main], verify.Entry{Path: f.Rel, Size: f.Size, Open: func() (io.ReadCloser, error) { return os.Open(abs) }})
		}
	}

	// 4. Byte-compile, opt-in.
	if o.Compile {
		for pi, p := range parts {
			if p.plan == nil {
				continue
			}
			added, cnotes, err := compileEntries(ctx, p.t, o.Kind, vEntries[p])
			if err != nil {
				return nil, err
			}
			notes = append(notes, cnotes...)
			for _, c := range added {
				data := c.Data
				files = append(files, tree.File{Path: c.Path, Mode: 0o644, Size: int64(len(data)), Origin: tree.FromBytes, Data: data, Part: pi})
				vEntries[p] = append(vEntries[p], verify.Entry{Path: c.Path, Size: int64(len(data)), Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }})
			}
		}
	}

	// 5. Verify before writing: each part against its runtime; one shared
	// installation against every runtime.
	var findings []verify.Finding
	if !o.NoVerify {
		for _, p := range parts {
			ve := vEntries[p]
			if p.shared {
				ve = vEntries[main]
			}
			f, err := verifyEntries(ctx, env, o, p.t, ve)
			if err != nil {
				return nil, err
			}
			findings = append(findings, f...)
		}
		if o.Force && hasErrors(findings, o.Strict) {
			notes = append(notes, "verification failed; written anyway because of --force")
		}
	}

	// 6. Write the zip.
	pure := true
	for _, p := range parts {
		if p.plan != nil && !allPure(p.plan) {
			pure = false
		}
	}
	t := main.t
	archs := []string{string(t.Arch)}
	if pure {
		archs = []string{string(target.X86_64), string(target.ARM64)}
	}
	var all []chosen
	for _, p := range parts {
		all = append(all, p.pkgs...)
	}
	reqHash := requirementsHash(all)
	var runtimes []string
	if len(targets) > 1 {
		runtimes = runtimeNames(targets)
	}
	sink, err := zipsink.New(o.Output, zipsink.WithProgress(env.opts.Downloads))
	if err != nil {
		return nil, err
	}
	tr := &tree.Tree{
		Record: record.Record{
			Kind: o.Kind, Handler: o.Handler, Runtime: t.Runtime, Runtimes: runtimes, Architecture: string(t.Arch), Architectures: archs,
			Python: t.Python(), RequirementsSHA256: reqHash, Version: CurrentVersion(),
		},
		Files: files, Pure: pure, Notes: notes,
	}
	for _, p := range parts {
		tr.Parts = append(tr.Parts, tree.Part{Targets: []target.Target{p.t}, Root: p.root})
	}
	if err := tr.Sort(); err != nil {
		return nil, err
	}
	res, err := sink.Write(ctx, tr)
	if err != nil {
		return nil, err
	}
	log.Print(res.Summary)

	rep := &ArtifactReport{
		Name: o.Name, Kind: o.Kind, Path: o.Output, SHA256: res.SHA256, Size: res.Size, UnzippedSize: res.UnzippedSize,
		Runtime: t.Runtime, Runtimes: runtimes, Architecture: string(t.Arch), Architectures: archs, Python: t.Python(), Pure: pure,
		RequirementsSHA256: reqHash, Findings: findings, Notes: notes, Packages: []PackageReport{},
	}
	seen := map[string]bool{}
	for _, p := range parts {
		if p.plan == nil {
			continue
		}
		for _, d := range p.plan.Dists {
			if k := d.Name + "==" + d.Version; !seen[k] {
				seen[k] = true
				rep.Packages = append(rep.Packages, PackageReport{Name: d.Name, Version: d.Version, Filename: d.Filename, Size: d.Size})
			}
		}
	}
	sort.Slice(rep.Packages, func(i, j int) bool { return rep.Packages[i].Name < rep.Packages[j].Name })
	rep.Seconds = time.Since(start).Seconds()
	return rep, nil
}

// planInstall fetches the wheels and plans their installation.
func (env *Env) planInstall(ctx context.Context, pkgs []chosen, lay install.Layout, exclude []string) (*install.Plan, error) {
	blobs, err := env.fetch(ctx, pkgs)
	if err != nil {
		return nil, err
	}
	wheels := make([]install.Wheel, len(pkgs))
	for i, p := range pkgs {
		wheels[i] = install.Wheel{Path: blobs[i].Path, Filename: p.File.Filename, SHA256: blobs[i].SHA256}
	}
	iopts := install.Options{Layout: lay, Memo: env.memo}
	if len(exclude) > 0 {
		excluded := map[string]bool{}
		for _, n := range exclude {
			excluded[names.Canonical(n)] = true
		}
		iopts.Exclude = func(name string) bool { return excluded[names.Canonical(name)] }
	}
	return install.Build(ctx, wheels, iopts)
}

func verifyEntries(ctx context.Context, env *Env, o ArtifactOptions, t target.Target, ve []verify.Entry) ([]verify.Finding, error) {
	kind := verify.KindLayer
	if o.Kind == KindFunction {
		kind = verify.KindFunction
	}
	vopts := verify.Options{Kind: kind}
	if env.facts != nil {
		vopts.Facts = env.facts
	}
	vr, err := verify.Check(ctx, verify.EntriesSource(filepath.Base(o.Output), ve), t, vopts)
	if err != nil {
		return nil, fmt.Errorf("verifying %s: %w", o.Output, err)
	}
	if vr.Failed(o.Strict) && !o.Force {
		var b strings.Builder
		_ = vr.WriteText(&b)
		return nil, &VerifyError{Output: o.Output, Target: t, Report: b.String()}
	}
	return vr.Problems(), nil
}

func hasErrors(fs []verify.Finding, strict bool) bool {
	for _, f := range fs {
		if f.Severity == verify.Error || strict && f.Severity == verify.Warning {
			return true
		}
	}
	return false
}

func compileEntries(ctx context.Context, t target.Target, kind record.Kind, ve []verify.Entry) ([]slim.Compiled, []string, error) {
	mount := "/opt"
	if kind == KindFunction {
		mount = "/var/task"
	}
	sfiles := make([]slim.File, len(ve))
	for i, e := range ve {
		sfiles[i] = slim.File{Path: e.Path, Size: e.Size, Open: e.Open}
	}
	cr, err := slim.Compile(ctx, sfiles, slim.CompileOptions{Python: t.Python(), Mount: mount})
	if err != nil {
		return nil, nil, err
	}
	notes := []string{fmt.Sprintf("compiled %d modules for Python %s with %s", len(cr.Files), t.Python(), cr.Interpreter)}
	for _, f := range cr.Failed {
		notes = append(notes, fmt.Sprintf("--compile: %s left uncompiled: %s", f.Path, f.Reason))
	}
	return cr.Files, notes, nil
}

func sameWheels(parts []*part) bool {
	key := func(p *part) string {
		var ks []string
		for _, c := range p.pkgs {
			ks = append(ks, c.File.Filename)
		}
		sort.Strings(ks)
		return strings.Join(ks, "\n")
	}
	first := key(parts[0])
	for _, p := range parts[1:] {
		if key(p) != first {
			return false
		}
	}
	return true
}

func runtimeNames(ts []target.Target) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Runtime
		if out[i] == "" {
			out[i] = t.String()
		}
	}
	return out
}

func runtimeList(ts []target.Target) string { return strings.Join(runtimeNames(ts), ", ") }

// VerifyError is an artifact that failed verification and was not written.
type VerifyError struct {
	Output string
	Target target.Target
	Report string
}

func (e *VerifyError) Error() string {
	return fmt.Sprintf("%s was not written: verification for %s found errors (fix them, or pass --force to write it anyway, --no-verify to skip the checks)\n%s", e.Output, e.Target, strings.TrimRight(e.Report, "\n"))
}

func (o ArtifactOptions) targets() ([]target.Target, error) {
	if len(o.Targets) > 0 {
		if len(o.Targets) > 1 && o.Kind == KindFunction {
			return nil, errors.New("a function runs on one runtime: give one target")
		}
		return o.Targets, nil
	}
	if o.Runtime == "" {
		return nil, errors.New("no runtime: pass --runtime, e.g. --runtime python3.12 (lambdapack targets lists them)")
	}
	t, err := target.New(o.Runtime, o.Arch)
	if err != nil {
		return nil, err
	}
	return []target.Target{t}, nil
}

func (o ArtifactOptions) layoutFor(t target.Target, layout string) (install.Layout, string, error) {
	if o.Kind == KindFunction {
		return install.FunctionLayout(), "", nil
	}
	switch layout {
	case "", "python":
		return install.LayerLayout(), "python/", nil
	case "site-packages":
		l := install.LayerSitePackagesLayout(t.Python())
		return l, l.Root, nil
	}
	return install.Layout{}, "", fmt.Errorf("unknown --layout %q: use python or site-packages", layout)
}

func allPure(plan *install.Plan) bool {
	for _, d := range plan.Dists {
		if !d.Pure {
			return false
		}
	}
	return true
}

// requirementsHash identifies the installed set: sorted name==version and
// wheel sha256, one per line.
func requirementsHash(pkgs []chosen) string {
	lines := make([]string, len(pkgs))
	for i, p := range pkgs {
		lines[i] = names.Canonical(p.Name) + "==" + p.Version + " " + p.SHA256
	}
	sort.Strings(lines)
	sum := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	return hex.EncodeToString(sum[:])
}

func excludeNotes(requested []string, plan *install.Plan) []string {
	var notes []string
	got := map[string]bool{}
	for _, d := range plan.Excluded {
		got[d.Name] = true
	}
	var runtime []string
	for _, n := range requested {
		c := names.Canonical(n)
		if !got[c] {
			notes = append(notes, fmt.Sprintf("--exclude-package %s: no such package in the artifact", n))
		}
		for _, r := range slim.RuntimeProvided {
			if c == r {
				runtime = append(runtime, c)
			}
		}
	}
	if len(runtime) > 0 {
		notes = append(notes, fmt.Sprintf("left out %s: the Lambda Python runtime provides boto3, botocore and s3transfer (at the version AWS ships, which moves with runtime updates)", strings.Join(runtime, ", ")))
	}
	return notes
}

// applySlim applies --strip-pattern and --slim to the plan.
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
		notes = append(notes, fmt.Sprintf("slimming removed %d files (%s)", len(removed), humanBytes(saved)))
	}
	return notes, nil
}

// entryOpener opens a plan entry's installed bytes.
func entryOpener(e *install.Entry) func() (io.ReadCloser, error) {
	if e.Member != nil {
		m := e.Member
		return func() (io.ReadCloser, error) { return m.Open() }
	}
	data := e.Data
	return func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(string(data))), nil }
}

func planVerifyEntries(plan *install.Plan) []verify.Entry {
	out := make([]verify.Entry, 0, len(plan.Entries))
	for i := range plan.Entries {
		e := &plan.Entries[i]
		out = append(out, verify.Entry{Path: e.Path, Size: e.Size, Open: entryOpener(e), Digest: e.Digest})
	}
	return out
}

// fetch downloads (or finds in the cache) every chosen wheel.
func (env *Env) fetch(ctx context.Context, pkgs []chosen) ([]cache.Blob, error) {
	// Downloads go through the index client (credentials, retries) when
	// one can be had; a lock's URLs need no configured index.
	var cl *index.Client
	for _, p := range pkgs {
		if isHTTP(p.File.URL) {
			cl, _ = env.index(index.Settings{})
			break
		}
	}
	reqs := make([]cache.Request, len(pkgs))
	for i, p := range pkgs {
		f := p.File
		reqs[i] = cache.Request{Name: f.Filename, URL: f.URL, SHA256: p.SHA256, Size: f.Size}
		if cl != nil && isHTTP(f.URL) {
			reqs[i].Open = func(ctx context.Context) (io.ReadCloser, error) { return cl.Open(ctx, f) }
		}
	}
	start := time.Now()
	blobs, err := env.Cache.Fetch(ctx, reqs)
	if err != nil {
		return nil, err
	}
	var n int
	var bytes int64
	for _, b := range blobs {
		if !b.Cached {
			n++
			bytes += b.Size
		}
	}
	if len(blobs) > 0 {
		env.log().Printf("Fetched %s (%d downloaded, %s) in %s", plural(len(blobs), "wheel"), n, humanBytes(bytes), roundDur(time.Since(start)))
	}
	return blobs, nil
}

func isHTTP(u string) bool {
	return strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://")
}

// plural writes "1 wheel", "2 wheels".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// deprecationNote warns about a runtime past its deprecation date.
func deprecationNote(t target.Target) string {
	if t.Runtime == "" {
		return ""
	}
	rt, err := target.LookupRuntime(t.Runtime)
	if err != nil || rt.Deprecated == "" {
		return ""
	}
	d, err := time.Parse("2006-01-02", rt.Deprecated)
	if err != nil || time.Now().Before(d) {
		return ""
	}
	return fmt.Sprintf("%s was deprecated on %s: AWS no longer patches it and will block creating and updating functions on it; move to a newer runtime", t.Runtime, rt.Deprecated)
}
