package pins

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lambdapack/lambdapack/internal/cache"
	"github.com/lambdapack/lambdapack/internal/human"
	"github.com/lambdapack/lambdapack/internal/index"
	"github.com/lambdapack/lambdapack/internal/metadata"
	"github.com/lambdapack/lambdapack/internal/names"
	"github.com/lambdapack/lambdapack/internal/pep440"
	"github.com/lambdapack/lambdapack/internal/pep508"
	"github.com/lambdapack/lambdapack/internal/reqfile"
	"github.com/lambdapack/lambdapack/internal/resolve"
	"github.com/lambdapack/lambdapack/internal/sdist"
	"github.com/lambdapack/lambdapack/internal/target"
)

// Pin is one distribution to install: a wheel file with its sha256.
type Pin struct {
	Name, Version string
	File          index.File
	SHA256        string
	// Sdist says File is a source distribution to build for the target
	// (the resolver chose it, or a lock records only it). Pin builds it:
	// its Sets hold wheels only.
	Sdist bool
	// Source is the sdist a built wheel was made from (File is then the
	// wheel in the cache); nil for a wheel from an index or a lock.
	Source *index.File
	// Metadata is the core metadata resolution read for the wheel, and
	// MetadataFrom where it came from; nil when a lock gave the pin. The
	// installer gets both (install.Wheel.Resolved) and refuses a wheel
	// whose own METADATA disagrees.
	Metadata     *metadata.Metadata
	MetadataFrom string
}

// Set is what to install on one target.
type Set struct {
	Target target.Target
	// Pins are sorted by name for a lock, in the resolver's order for a
	// resolution.
	Pins []Pin
	// Notes are what the user should know (newer versions passed over and
	// why).
	Notes []string
	// Resolution is the resolver's answer; nil when a lock gave the pins.
	Resolution *resolve.Result
}

// Wheels identifies the set's wheel files: two sets with equal Wheels
// install the same files.
func (s *Set) Wheels() string {
	ks := make([]string, len(s.Pins))
	for i, p := range s.Pins {
		ks[i] = p.File.Filename
	}
	slices.Sort(ks)
	return strings.Join(ks, "\n")
}

// Hash identifies an installed set: the hex sha256 of the sorted lines
// "name==version wheel-sha256".
func Hash(pins []Pin) string {
	lines := make([]string, len(pins))
	for i, p := range pins {
		lines[i] = names.Canonical(p.Name) + "==" + p.Version + " " + p.SHA256
	}
	slices.Sort(lines)
	sum := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	return hex.EncodeToString(sum[:])
}

// FromResolution returns the resolver's choice as pins, in its order,
// each with the metadata the resolver read for its wheel.
func FromResolution(res *resolve.Result) []Pin {
	out := make([]Pin, len(res.Packages))
	for i, p := range res.Packages {
		out[i] = Pin{Name: p.Name, Version: p.Version.String(), File: p.File, SHA256: p.File.Hashes["sha256"], Sdist: p.Sdist}
		if p.Metadata != nil {
			out[i].Metadata, out[i].MetadataFrom = p.Metadata, metadataFrom(p.File)
		}
	}
	return out
}

// metadataFrom names where the resolver's metadata for f came from.
func metadataFrom(f index.File) string {
	if !f.IsWheel() {
		return "the metadata of its sdist " + f.Filename + " (PKG-INFO, or what its build backend prepared)"
	}
	if f.MetadataURL != "" {
		return "the index's metadata file " + index.Redact(f.MetadataURL)
	}
	return "the METADATA read from " + index.Redact(f.URL)
}

// Options configure a Pinner.
type Options struct {
	// Cache holds wheels, index pages and the memo of checked wheels.
	Cache *cache.Cache
	// Offline answers from the cache alone.
	Offline bool
	// Index holds the index flags; Project the project config's index
	// settings, read from ProjectSource (lambdapack build).
	Index         index.Settings
	Project       index.Settings
	ProjectSource string
	// Log receives the step lines ("Resolved 12 packages ...") and the
	// index client's warnings; nil discards them.
	Log *slog.Logger
	// Events hears about the index client's requests (progress displays).
	Events index.Reporter
	// Build says when sdists are built (build.go).
	Build BuildOptions
}

// Pinner decides and fetches the wheels of a run's artifacts. It is safe
// for concurrent use; nothing in it changes after New but the lazily opened
// index client and the memo.
type Pinner struct {
	opts Options
	log  *slog.Logger

	indexMu sync.Mutex
	client  *index.Client
	source  resolve.Source
	builder *sdist.Builder

	refuseMu sync.Mutex
	refused  map[string]map[string]string // target -> file -> why
	builds   sync.Map                     // sdist and target -> *buildEntry (build.go)

	memo sync.Map // Inputs.key -> *memoEntry
}

type memoEntry struct {
	once sync.Once
	set  *Set
	err  error
}

// New returns a Pinner. It opens nothing: the index client is opened on
// first use, so a build from a lock with URLs never needs one and an
// offline build never asks pip for its default index.
func New(o Options) *Pinner {
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Pinner{opts: o, log: log}
}

// Index returns the index client, opening it on first use. extra is the
// index options of a requirements file (--index-url inside it), honoured
// when it is the first to open the client.
func (p *Pinner) Index(extra index.Settings) (*index.Client, error) {
	p.indexMu.Lock()
	defer p.indexMu.Unlock()
	if p.client != nil {
		return p.client, nil
	}
	pages, err := p.opts.Cache.Dir("index")
	if err != nil {
		return nil, err
	}
	cfg, err := index.DiscoverConfig(index.Overrides{
		Flags: p.opts.Index, Requirements: extra, Project: p.opts.Project, ProjectSource: p.opts.ProjectSource,
		CacheDir: pages,
	})
	if err != nil {
		return nil, err
	}
	// Retries are always said (a waiting run says why); progress displays
	// hear every event.
	rep := index.RetryPrinter(func(format string, args ...any) { p.log.Info(fmt.Sprintf(format, args...)) })
	if ev := p.opts.Events; ev != nil {
		retries := rep
		rep = index.ReporterFunc(func(e index.Event) { ev.Report(e); retries.Report(e) })
	}
	copts := []index.Option{index.WithCacheDir(pages), index.WithOffline(p.opts.Offline), index.WithLogger(p.log), index.WithReporter(rep)}
	cl, err := index.NewClient(cfg, copts...)
	if err != nil {
		return nil, err
	}
	p.client = cl
	p.source = resolve.NewCachedSource(resolve.IndexSource{Client: cl})
	p.log.Info(fmt.Sprintf("Index: %s (from %s)", index.Redact(cfg.IndexURL), cfg.Source))
	return cl, nil
}

// Pin decides the wheels to install for t: read from the lock, or resolved
// from the requirements (hash-checked when they ask for it). Each distinct
// (inputs, target) is answered once per Pinner; callers get their own copy
// of the pins.
func (p *Pinner) Pin(ctx context.Context, t target.Target, in Inputs) (*Set, error) {
	if in.Lock != "" && (len(in.Requirements) > 0 || len(in.RequirementFiles) > 0) {
		return nil, errors.New("give either a lock (--lock) or requirements (-r, arguments), not both")
	}
	key, err := in.key(t)
	if err != nil {
		return nil, err
	}
	if key == "" {
		return p.pin(ctx, t, in)
	}
	key += "|refused=" + p.refusalKey(t)
	v, _ := p.memo.LoadOrStore(key, &memoEntry{})
	e := v.(*memoEntry)
	e.once.Do(func() { e.set, e.err = p.pin(ctx, t, in) })
	if e.err != nil {
		return nil, e.err
	}
	s := *e.set
	s.Pins = slices.Clone(e.set.Pins)
	return &s, nil
}

func (p *Pinner) pin(ctx context.Context, t target.Target, in Inputs) (*Set, error) {
	if in.Lock != "" {
		pins, err := p.fromLock(ctx, t, in.Lock)
		if err != nil {
			return nil, err
		}
		set := &Set{Target: t, Pins: pins}
		if _, err := p.build(ctx, t, set); err != nil {
			return nil, err
		}
		return set, nil
	}
	empty := &Set{Target: t}
	if in.Empty() {
		return empty, nil
	}
	reqs, err := in.Read()
	if err != nil {
		return nil, err
	}
	if len(reqs.Requirements) == 0 {
		return empty, nil
	}
	return p.resolveAndBuild(ctx, t, func() (*Set, error) { return p.Resolve(ctx, t, reqs, nil) })
}

// Resolve resolves a requirement set for t, preferring the versions in
// prefs where they fit, and applies hash-checking mode when the set asks
// for it. Its notes name the versions passed over; the resolver's other
// notes (files that are not distributions, ...) stay in Resolution.
func (p *Pinner) Resolve(ctx context.Context, t target.Target, reqs *reqfile.Set, prefs map[string]pep440.Version) (*Set, error) {
	cl, err := p.Index(reqs.Options.Index)
	if err != nil {
		return nil, err
	}
	rs := make([]pep508.Requirement, len(reqs.Requirements))
	for i, r := range reqs.Requirements {
		rs[i] = r.Requirement
	}
	var cons []pep508.Requirement
	for _, c := range reqs.Constraints {
		cons = append(cons, c.Requirement)
	}
	ro := resolve.Options{Constraints: cons, Preferences: prefs}
	p.buildOptions(&ro, t, reqs.Options.NoBinary, reqs.Options.OnlyBinary)
	switch {
	case reqs.Options.Prerelease != "":
		if ro.Prerelease, err = resolve.ParsePrereleaseMode(reqs.Options.Prerelease); err != nil {
			return nil, fmt.Errorf("--prerelease: %w", err)
		}
		if reqs.Options.Pre && ro.Prerelease != resolve.PrereleaseAllow {
			return nil, fmt.Errorf("--pre and --prerelease %s disagree: --pre means --prerelease allow; give only one of them", ro.Prerelease)
		}
	case reqs.Options.Pre:
		ro.Prerelease = resolve.PrereleaseAllow
	}
	start := time.Now()
	res, err := resolve.Resolve(ctx, p.source, t, rs, ro)
	if err != nil {
		return nil, err
	}
	p.log.Info(fmt.Sprintf("Resolved %s for %s in %s (%d project pages, %d metadata files)",
		human.Count(len(res.Packages), "package"), t, human.Duration(time.Since(start)), res.Stats.Projects, res.Stats.Metadata))
	s := &Set{Target: t, Pins: FromResolution(res), Resolution: res}
	for _, sk := range res.Skipped {
		s.Notes = append(s.Notes, sk.String())
	}
	for _, pkg := range res.Packages {
		s.Notes = append(s.Notes, pkg.Notes...)
	}
	if reqs.Options.RequireHashes {
		if s.Pins, err = requireHashes(ctx, cl, t, reqs, res, s.Pins); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// requireHashes applies pip's hash-checking mode: every installed package
// must be named with --hash, and the wheel used must have one of its hashes
// (another wheel of the same version is taken when the best one is not
// listed).
func requireHashes(ctx context.Context, cl *index.Client, t target.Target, reqs *reqfile.Set, res *resolve.Result, pins []Pin) ([]Pin, error) {
	allowed := map[string]map[string]bool{}
	where := map[string]string{}
	for _, r := range reqs.Requirements {
		n := names.Canonical(r.Name)
		if allowed[n] == nil {
			allowed[n] = map[string]bool{}
		}
		where[n] = r.Source
		for _, h := range r.Hashes {
			alg, hex, _ := strings.Cut(h, ":")
			if strings.EqualFold(alg, "sha256") {
				allowed[n][strings.ToLower(hex)] = true
			}
		}
	}
	var errs []error
	for i, pin := range pins {
		hs := allowed[pin.Name]
		if len(hs) == 0 {
			errs = append(errs, fmt.Errorf("hash-checking mode: %s %s has no --hash (%s): add %s==%s --hash=sha256:%s (the wheel %s), or use a lock (lambdapack lock writes pylock.toml)", pin.Name, pin.Version, neededBy(res, reqs, pin.Name), pin.Name, pin.Version, pin.SHA256, pin.File.Filename))
			continue
		}
		if hs[pin.SHA256] {
			continue
		}
		proj, err := cl.Project(ctx, pin.Name)
		if err != nil {
			return nil, err
		}
		f, ok := bestByHash(proj.Files, hs, t)
		if !ok {
			errs = append(errs, fmt.Errorf("%s: none of the hashes given for %s matches a wheel for %s (the resolver chose %s, sha256 %s)", where[pin.Name], pin.Name, t, pin.File.Filename, pin.SHA256))
			continue
		}
		pins[i].File, pins[i].SHA256 = f, f.Hashes["sha256"]
	}
	return pins, errors.Join(errs...)
}

// neededBy says why a package is installed, for hash-checking errors.
func neededBy(res *resolve.Result, reqs *reqfile.Set, name string) string {
	for _, r := range reqs.Requirements {
		if names.Canonical(r.Name) == name {
			return "required at " + r.Source
		}
	}
	var by []string
	for _, p := range res.Packages {
		if slices.Contains(p.Dependencies, name) {
			by = append(by, p.Name)
		}
	}
	if len(by) == 0 {
		return "a dependency of a requirement"
	}
	return "a dependency of " + strings.Join(by, ", ")
}

// HashRemote downloads a file once to learn its sha256 and size (a direct
// reference to a wheel without a #sha256= fragment; a lock needs the hash).
func (p *Pinner) HashRemote(ctx context.Context, f index.File) (string, int64, error) {
	cl, err := p.Index(index.Settings{})
	if err != nil {
		return "", 0, err
	}
	rc, err := cl.Open(ctx, f)
	if err != nil {
		return "", 0, fmt.Errorf("hashing %s: %w", f.Filename, err)
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, rc)
	if err != nil {
		return "", 0, fmt.Errorf("hashing %s: %w", f.Filename, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// FetchOption tunes Fetch.
type FetchOption func(*fetchOptions)

type fetchOptions struct {
	budget *budget
}

// budget adds up announced download sizes against a limit.
type budget struct {
	total atomic.Int64
	limit int64
	skip  func(name string) bool
	over  func(total int64) error
}

// StopOver makes Fetch stop as soon as the wheels' sizes prove too much:
// known is what the sizes the index listed already add up to, each
// download of a wheel whose size was not listed adds the length its server
// announces (Content-Length) before its body is read, and when the sum
// passes limit the download is closed and Fetch returns over(sum): nothing
// more is downloaded. Pins skip says yes to (packages left out of the
// artifact) do not count.
func StopOver(known, limit int64, skip func(name string) bool, over func(total int64) error) FetchOption {
	return func(o *fetchOptions) {
		b := &budget{limit: limit, skip: skip, over: over}
		b.total.Store(known)
		o.budget = b
	}
}

// sized is a download that knows its announced length (index's).
type sized interface{ Size() int64 }

// Fetch downloads (or finds in the cache) every pinned wheel, checking
// each sha256, and returns the cache's blobs in the pins' order.
func (p *Pinner) Fetch(ctx context.Context, pins []Pin, opts ...FetchOption) ([]cache.Blob, error) {
	var fo fetchOptions
	for _, o := range opts {
		o(&fo)
	}
	// Downloads go through the index client (credentials, retries) when
	// one can be had; a lock's URLs need no configured index.
	var cl *index.Client
	for _, pin := range pins {
		if isHTTP(pin.File.URL) {
			cl, _ = p.Index(index.Settings{})
			break
		}
	}
	reqs := make([]cache.Request, len(pins))
	for i, pin := range pins {
		f := pin.File
		reqs[i] = cache.Request{Name: f.Filename, URL: f.URL, SHA256: pin.SHA256, Size: f.Size}
		if cl != nil && isHTTP(f.URL) {
			b := fo.budget
			if b != nil && b.skip != nil && b.skip(pin.Name) {
				b = nil
			}
			reqs[i].Open = func(ctx context.Context) (io.ReadCloser, error) {
				rc, err := cl.Open(ctx, f)
				if err != nil || b == nil || f.Size > 0 {
					return rc, err
				}
				if s, ok := rc.(sized); ok && s.Size() > 0 {
					if total := b.total.Add(s.Size()); total > b.limit {
						rc.Close()
						return nil, b.over(total)
					}
				}
				return rc, nil
			}
		}
	}
	start := time.Now()
	blobs, err := p.opts.Cache.Fetch(ctx, reqs)
	if err != nil {
		return nil, err
	}
	var n int
	var size int64
	for _, b := range blobs {
		if !b.Cached {
			n++
			size += b.Size
		}
	}
	if len(blobs) > 0 {
		p.log.Info(fmt.Sprintf("Fetched %s (%d downloaded, %s) in %s", human.Count(len(blobs), "wheel"), n, human.Bytes(size), human.Duration(time.Since(start))))
	}
	return blobs, nil
}

func isHTTP(u string) bool {
	return strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://")
}
