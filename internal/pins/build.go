package pins

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lambdapack/lambdapack/internal/human"
	"github.com/lambdapack/lambdapack/internal/index"
	"github.com/lambdapack/lambdapack/internal/metadata"
	"github.com/lambdapack/lambdapack/internal/names"
	"github.com/lambdapack/lambdapack/internal/resolve"
	"github.com/lambdapack/lambdapack/internal/sdist"
	"github.com/lambdapack/lambdapack/internal/target"
)

// BuildOptions say when sdists are built, as pip and uv spell it. Each list
// holds project names or ":all:" (":none:" empties what came before); a name
// beats ":all:" in the other list. A requirements file's --no-binary and
// --only-binary add to these.
type BuildOptions struct {
	// NoBuild never builds from source: wheels only.
	NoBuild bool
	// NoBinary packages are built from their sdists, their wheels unused.
	NoBinary []string
	// OnlyBinary packages are never built.
	OnlyBinary []string
	// Timeout bounds each build attempt (0: sdist.DefaultTimeout).
	Timeout time.Duration
	// FindPython finds a CPython of a minor version to run build
	// backends (nil: sdist.FindPython).
	FindPython func(minor string) (string, error)
}

// maxBuildRounds bounds how often a resolution is redone after builds
// fail: each round refuses one more sdist, and a failed build rules out
// building the package again, so this is reached only by pathological
// graphs.
const maxBuildRounds = 8

// Builder returns the sdist builder of the run: the Pinner's cache, index
// client and view of the index, opened on first use.
func (p *Pinner) Builder() (*sdist.Builder, error) {
	cl, err := p.Index(index.Settings{})
	if err != nil {
		return nil, err
	}
	p.indexMu.Lock()
	defer p.indexMu.Unlock()
	if p.builder == nil {
		p.builder = &sdist.Builder{
			Cache: p.opts.Cache, Index: cl, Source: p.source,
			Timeout: p.opts.Build.Timeout, FindPython: p.opts.Build.FindPython,
			Log: logWriter{p.log},
		}
	}
	return p.builder, nil
}

// sdistMetadata is the resolver's reader of sdist metadata.
func (p *Pinner) sdistMetadata(ctx context.Context, f index.File, t target.Target) (*metadata.Metadata, error) {
	b, err := p.Builder()
	if err != nil {
		return nil, err
	}
	return b.FileMetadata(ctx, f, t)
}

// buildOptions fills in the build part of the resolver's options: the
// run's flags, the requirement files' options, the refusals for t.
func (p *Pinner) buildOptions(ro *resolve.Options, t target.Target, noBinary, onlyBinary []string) {
	b := p.opts.Build
	ro.SdistMetadata = p.sdistMetadata
	ro.NoBuild = b.NoBuild
	ro.NoBinary = append(slices.Clone(b.NoBinary), noBinary...)
	ro.OnlyBinary = append(slices.Clone(b.OnlyBinary), onlyBinary...)
	ro.Refused = p.refusals(t)
}

// Refuse marks a file (a wheel verification refused, an sdist whose build
// failed) as never to be chosen for t again in this run: later Pins of t
// resolve afresh without it. why is said in the notes.
func (p *Pinner) Refuse(t target.Target, filename, why string) {
	p.refuseMu.Lock()
	defer p.refuseMu.Unlock()
	if p.refused == nil {
		p.refused = map[string]map[string]string{}
	}
	k := targetKey(t)
	if p.refused[k] == nil {
		p.refused[k] = map[string]string{}
	}
	p.refused[k][filename] = why
}

func (p *Pinner) refusals(t target.Target) map[string]string {
	p.refuseMu.Lock()
	defer p.refuseMu.Unlock()
	m := p.refused[targetKey(t)]
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// refusalKey is the part of a Pin's memo key that refusals make.
func (p *Pinner) refusalKey(t target.Target) string {
	m := p.refusals(t)
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return strings.Join(ks, " ")
}

func targetKey(t target.Target) string {
	return fmt.Sprintf("%s|%d.%d|%s", t, t.GlibcMajor, t.GlibcMinor, t.PythonFull)
}

// resolveAndBuild resolves and builds the sdists the resolution chose.
// When a build fails, its sdist is refused and the requirements resolved
// again (another version with a wheel, as the resolver prefers); when
// nothing else is left, the build's error is returned.
func (p *Pinner) resolveAndBuild(ctx context.Context, t target.Target, resolveOnce func() (*Set, error)) (*Set, error) {
	var notes []string
	var lastErr error
	for round := 0; ; round++ {
		set, err := resolveOnce()
		if err != nil {
			if lastErr != nil {
				var ns *resolve.NoSolutionError
				if errors.As(err, &ns) {
					p.log.Debug("no other resolution after the failed build", "err", err)
					return nil, lastErr
				}
			}
			return nil, err
		}
		failed, err := p.build(ctx, t, set)
		if err == nil {
			set.Notes = append(notes, set.Notes...)
			return set, nil
		}
		if failed == nil || round+1 >= maxBuildRounds || ctx.Err() != nil {
			return nil, err
		}
		why := oneLine(err)
		var sum interface{ Summary() string }
		if errors.As(err, &sum) {
			why = sum.Summary()
		}
		p.Refuse(t, failed.File.Filename, why)
		notes = append(notes, fmt.Sprintf("%s %s could not be built for %s (%s), so another version is used", failed.Name, failed.Version, t, why))
		p.log.Info(fmt.Sprintf("Building %s %s for %s failed; resolving again without it", failed.Name, failed.Version, t))
		lastErr = err
	}
}

// build replaces the set's sdist pins with wheels built for t. On a build
// failure it returns the pin whose build failed with the error.
func (p *Pinner) build(ctx context.Context, t target.Target, set *Set) (*Pin, error) {
	var todo []int
	for i, pin := range set.Pins {
		if pin.Sdist {
			todo = append(todo, i)
		}
	}
	if len(todo) == 0 {
		return nil, nil
	}
	b, err := p.Builder()
	if err != nil {
		return nil, err
	}
	start := time.Now()
	built := 0
	for _, i := range todo {
		pin := set.Pins[i]
		w, err := p.buildOnce(ctx, b, pin.File, t)
		if err != nil {
			return &pin, err
		}
		if !w.Cached {
			built++
		}
		src := pin.File
		// The installer checks the built wheel's METADATA against what
		// resolution read from the sdist (a backend's dynamic metadata
		// could differ between the two hooks).
		set.Pins[i] = Pin{
			Name: pin.Name, Version: pin.Version, SHA256: w.SHA256, Source: &src,
			File:     index.File{Filename: w.Filename, URL: w.Path, Size: w.Size, Hashes: map[string]string{"sha256": w.SHA256}},
			Metadata: pin.Metadata, MetadataFrom: pin.MetadataFrom,
		}
		set.Notes = append(set.Notes, w.Notes...)
	}
	p.log.Info(fmt.Sprintf("Built %s from source for %s (%d from the cache) in %s",
		human.Count(len(todo), "wheel"), t, len(todo)-built, human.Duration(time.Since(start))))
	return nil, nil
}

type buildEntry struct {
	once sync.Once
	w    *sdist.Wheel
	err  error
}

// buildOnce builds an sdist for a target once per run: the artifacts of a
// project built in parallel share it (and never race on the builder's
// store).
func (p *Pinner) buildOnce(ctx context.Context, b *sdist.Builder, f index.File, t target.Target) (*sdist.Wheel, error) {
	v, _ := p.builds.LoadOrStore(f.Filename+" "+f.Hashes["sha256"]+" "+f.URL+" "+targetKey(t), &buildEntry{})
	e := v.(*buildEntry)
	e.once.Do(func() { e.w, e.err = b.BuildFile(ctx, f, t) })
	return e.w, e.err
}

// lockBuildAllowed refuses a lock's sdist that the flags say not to build.
func (p *Pinner) lockBuildAllowed(lockPath string, pin Pin) error {
	b := p.opts.Build
	name := names.Canonical(pin.Name)
	in := func(list []string, n string) bool {
		return slices.ContainsFunc(list, func(s string) bool { return s == n || names.Canonical(s) == n })
	}
	switch {
	case b.NoBuild:
		return fmt.Errorf("%s: %s %s has only a source distribution in the lock (%s), and --no-build rules out building it: drop --no-build, or lock a version with a wheel for the target", lockPath, pin.Name, pin.Version, pin.File.Filename)
	case in(b.OnlyBinary, name) || (in(b.OnlyBinary, ":all:") && !in(b.NoBinary, name)):
		return fmt.Errorf("%s: %s %s has only a source distribution in the lock (%s), and --only-binary rules out building it: lock a version with a wheel for the target", lockPath, pin.Name, pin.Version, pin.File.Filename)
	}
	return nil
}

func oneLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	s = strings.TrimSuffix(strings.TrimSpace(s), ":")
	if len(s) > 300 {
		s = s[:297] + "..."
	}
	return s
}

// logWriter turns the builder's lines into the run's log.
type logWriter struct{ log *slog.Logger }

func (w logWriter) Write(b []byte) (int, error) {
	for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		if strings.HasPrefix(l, "  | ") {
			w.log.Debug(l)
			continue
		}
		w.log.Info(l)
	}
	return len(b), nil
}
