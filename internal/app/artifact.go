package app

import (
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

	"github.com/lambdapack/lambdapack/internal/archive"
	"github.com/lambdapack/lambdapack/internal/cache"
	"github.com/lambdapack/lambdapack/internal/index"
	"github.com/lambdapack/lambdapack/internal/install"
	"github.com/lambdapack/lambdapack/internal/names"
	"github.com/lambdapack/lambdapack/internal/publish"
	"github.com/lambdapack/lambdapack/internal/slim"
	"github.com/lambdapack/lambdapack/internal/target"
	"github.com/lambdapack/lambdapack/internal/verify"
)

// Kinds of artifacts.
const (
	KindLayer    = "layer"
	KindFunction = "function"
)

// Lambda's limits that a build reports against.
const (
	DirectUploadLimit = 50 * 1024 * 1024 // bytes of zip for a direct upload
	UnzippedLimit     = 262_144_000      // bytes of function plus layers, unzipped
)

// ArtifactOptions describe one layer or function zip to build.
type ArtifactOptions struct {
	Kind string // KindLayer or KindFunction
	Deps Inputs
	// Runtime and Arch name the target; Target, when set, wins.
	Runtime, Arch string
	Target        *target.Target
	// Layout of a layer: "python" (default) or "site-packages".
	Layout string
	// Src is a function's code folder; Excludes are globs left out of it.
	Src      string
	Excludes []string
	Output   string

	ExcludePackages []string
	Slim            bool
	StripPatterns   []string
	Compile         bool

	NoVerify bool // skip verification
	Force    bool // write even when verification finds errors
	Strict   bool // warnings fail verification too

	// Name labels the artifact in reports (lambdapack build sets it).
	Name string
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
	Kind          string          `json:"kind"`
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

// BuildArtifact resolves (or reads a lock), fetches, installs, verifies and
// zips one artifact. Nothing is written at Output unless everything
// succeeded.
func BuildArtifact(ctx context.Context, env *Env, o ArtifactOptions) (*ArtifactReport, error) {
	start := time.Now()
	log := env.log()
	t, err := o.target()
	if err != nil {
		return nil, err
	}
	if o.Output == "" {
		return nil, errors.New("no output path: pass -o FILE.zip")
	}
	if o.Kind == KindFunction && o.Src == "" {
		return nil, errors.New("a function zip needs its code: pass --src DIR (the folder with your handler)")
	}
	layout, root, err := o.layout(t)
	if err != nil {
		return nil, err
	}

	// 1. What to install.
	pkgs, notes, err := env.packagesFor(ctx, t, o.Deps)
	if err != nil {
		return nil, err
	}

	// 2. Fetch every wheel into the cache, hashes checked.
	blobs, err := env.fetch(ctx, pkgs)
	if err != nil {
		return nil, err
	}

	// 3. Plan the installation.
	wheels := make([]install.Wheel, len(pkgs))
	for i, p := range pkgs {
		wheels[i] = install.Wheel{Path: blobs[i].Path, Filename: p.File.Filename, SHA256: blobs[i].SHA256}
	}
	excluded := map[string]bool{}
	for _, n := range o.ExcludePackages {
		excluded[names.Canonical(n)] = true
	}
	iopts := install.Options{Layout: layout, Memo: env.memo}
	if len(excluded) > 0 {
		iopts.Exclude = func(name string) bool { return excluded[names.Canonical(name)] }
	}
	plan, err := install.Build(ctx, wheels, iopts)
	if err != nil {
		return nil, err
	}
	defer plan.Close()
	for _, d := range plan.Dropped {
		notes = append(notes, fmt.Sprintf("%s: %s/%s left out (a Lambda artifact has no place for .data/%s)", d.Wheel, d.Scheme, d.Member, d.Scheme))
	}
	if len(excluded) > 0 {
		notes = append(notes, excludeNotes(o.ExcludePackages, plan)...)
	}

	// 4. Slimming, opt-in.
	slimNotes, err := applySlim(plan, o)
	if err != nil {
		return nil, err
	}
	notes = append(notes, slimNotes...)

	entries := plan.ArchiveEntries()
	vEntries := planVerifyEntries(plan)

	// 5. The function's own code.
	if o.Kind == KindFunction {
		files, err := collectSource(o.Src, o.Excludes, o.Output)
		if err != nil {
			return nil, err
		}
		owner := map[string]string{}
		for _, e := range plan.Entries {
			owner[e.Path] = e.Dist
		}
		for _, f := range files {
			if d, clash := owner[f.Rel]; clash {
				return nil, fmt.Errorf("%s in %s has the same path as a file of %s: rename it, or --exclude it if it is a vendored copy", f.Rel, o.Src, d)
			}
			entries = append(entries, archive.Entry{Path: f.Rel, Mode: f.Mode, File: f.Abs})
			abs := f.Abs
			vEntries = append(vEntries, verify.Entry{Path: f.Rel, Size: f.Size, Open: func() (io.ReadCloser, error) { return os.Open(abs) }})
		}
	}

	// 6. Byte-compile, opt-in.
	if o.Compile {
		mount := "/opt"
		if o.Kind == KindFunction {
			mount = "/var/task"
		}
		var sfiles []slim.File
		for _, e := range vEntries {
			sfiles = append(sfiles, slim.File{Path: e.Path, Size: e.Size, Open: e.Open})
		}
		cr, err := slim.Compile(ctx, sfiles, slim.CompileOptions{Python: t.Python(), Mount: mount})
		if err != nil {
			return nil, err
		}
		for _, c := range cr.Files {
			data := c.Data
			entries = append(entries, archive.Entry{Path: c.Path, Mode: 0o644, Data: data})
			vEntries = append(vEntries, verify.Entry{Path: c.Path, Size: int64(len(data)), Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(string(data))), nil }})
		}
		for _, f := range cr.Failed {
			notes = append(notes, fmt.Sprintf("--compile: %s left uncompiled: %s", f.Path, f.Reason))
		}
		log.Printf("Compiled %d modules with %s", len(cr.Files), cr.Interpreter)
	}

	// 7. Verify before writing.
	var findings []verify.Finding
	if !o.NoVerify {
		kind := verify.KindLayer
		if o.Kind == KindFunction {
			kind = verify.KindFunction
		}
		vr, err := verify.Check(ctx, verify.EntriesSource(filepath.Base(o.Output), vEntries), t, verify.Options{Kind: kind})
		if err != nil {
			return nil, fmt.Errorf("verifying %s: %w", o.Output, err)
		}
		findings = vr.Problems()
		if vr.Failed(o.Strict) {
			if !o.Force {
				var b strings.Builder
				_ = vr.WriteText(&b)
				return nil, &VerifyError{Output: o.Output, Report: b.String()}
			}
			notes = append(notes, "verification failed; written anyway because of --force")
		}
	}

	// 8. Write the zip.
	pure := allPure(plan)
	archs := []string{string(t.Arch)}
	if pure {
		archs = []string{string(target.X86_64), string(target.ARM64)}
	}
	reqHash := requirementsHash(pkgs)
	_, err = publish.FormatZipComment(publish.ZipComment{
		Runtime: t.Runtime, Architecture: string(t.Arch), Architectures: archs,
		Python: t.Python(), RequirementsSHA256: reqHash, Version: CurrentVersion(),
	})
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(o.Output), 0o755); err != nil {
		return nil, fmt.Errorf("creating the output folder: %w", err)
	}
	res, err := archive.Write(ctx, o.Output, entries, archive.Options{Root: root})
	if err != nil {
		return nil, err
	}

	rep := &ArtifactReport{
		Name: o.Name, Kind: o.Kind, Path: o.Output, SHA256: res.SHA256, Size: res.Size, UnzippedSize: res.UnzippedSize,
		Runtime: t.Runtime, Architecture: string(t.Arch), Architectures: archs, Python: t.Python(), Pure: pure,
		RequirementsSHA256: reqHash, Findings: findings, Notes: notes,
	}
	byName := map[string]chosen{}
	for _, p := range pkgs {
		byName[names.Canonical(p.Name)] = p
	}
	for _, d := range plan.Dists {
		rep.Packages = append(rep.Packages, PackageReport{Name: d.Name, Version: d.Version, Filename: d.Filename, Size: d.Size})
	}
	sort.Slice(rep.Packages, func(i, j int) bool { return rep.Packages[i].Name < rep.Packages[j].Name })
	rep.Seconds = time.Since(start).Seconds()
	return rep, nil
}

// VerifyError is an artifact that failed verification and was not written.
type VerifyError struct {
	Output string
	Report string
}

func (e *VerifyError) Error() string {
	return fmt.Sprintf("%s was not written: verification found errors (fix them, or pass --force to write it anyway, --no-verify to skip the checks)\n%s", e.Output, strings.TrimRight(e.Report, "\n"))
}

func (o ArtifactOptions) target() (target.Target, error) {
	if o.Target != nil {
		return *o.Target, nil
	}
	if o.Runtime == "" {
		return target.Target{}, errors.New("no runtime: pass --runtime, e.g. --runtime python3.12 (lambdapack targets lists them)")
	}
	return target.New(o.Runtime, o.Arch)
}

func (o ArtifactOptions) layout(t target.Target) (install.Layout, string, error) {
	if o.Kind == KindFunction {
		return install.FunctionLayout(), "", nil
	}
	switch o.Layout {
	case "", "python":
		return install.LayerLayout(), "python/", nil
	case "site-packages":
		l := install.LayerSitePackagesLayout(t.Python())
		return l, l.Root, nil
	}
	return install.Layout{}, "", fmt.Errorf("unknown --layout %q: use python or site-packages", o.Layout)
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
	notes = append(notes, fmt.Sprintf("slimming removed %d files (%s)", len(removed), humanBytes(saved)))
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
		out = append(out, verify.Entry{Path: e.Path, Size: e.Size, Open: entryOpener(e)})
	}
	return out
}

// fetch downloads (or finds in the cache) every chosen wheel.
func (env *Env) fetch(ctx context.Context, pkgs []chosen) ([]cache.Blob, error) {
	reqs := make([]cache.Request, len(pkgs))
	for i, p := range pkgs {
		f := p.File
		reqs[i] = cache.Request{Name: f.Filename, URL: f.URL, SHA256: p.SHA256, Size: f.Size}
		if strings.HasPrefix(f.URL, "http://") || strings.HasPrefix(f.URL, "https://") {
			reqs[i].Open = func(ctx context.Context) (io.ReadCloser, error) { return env.Index.Open(ctx, f) }
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
	env.log().Printf("Fetched %d wheels (%d downloaded, %s) in %s", len(blobs), n, humanBytes(bytes), roundDur(time.Since(start)))
	return blobs, nil
}
