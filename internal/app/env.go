package app

import (
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/lambdapack/lambdapack/internal/cache"
	"github.com/lambdapack/lambdapack/internal/index"
	"github.com/lambdapack/lambdapack/internal/pins"
	"github.com/lambdapack/lambdapack/internal/progress"
)

// EnvOptions configure what every build in one run shares. They are all
// given to OpenEnv: an Env never changes afterwards.
type EnvOptions struct {
	CacheDir string // "" means LAMBDAPACK_CACHE_DIR or the user cache folder
	Offline  bool
	NoCache  bool
	// Index holds the index flags; Project the project config's index
	// settings, read from ProjectSource (lambdapack build).
	Index         index.Settings
	Project       index.Settings
	ProjectSource string
	// Log receives human progress lines; nil discards them. Verbose adds
	// the libraries' debug lines. Logger, when set, is the run's logger
	// (progress.NewLogger on Log) and wins over both.
	Log     io.Writer
	Verbose bool
	Logger  *slog.Logger
	// Progress, when set, hears about downloads, the index's requests and
	// the zip being written (progress.Bars on a terminal).
	Progress Progress
	// Build says when sdists are built (--no-build, --no-binary,
	// --only-binary, --build-timeout).
	Build pins.BuildOptions
}

// Progress is what a progress display implements: one bar per download or
// zip (Start/Advance/Done by name, as cache.Reporter and zipsink.Progress
// have it) and the index client's events.
type Progress interface {
	cache.Reporter
	index.Reporter
}

// Env is what the builds of one run share: one cache, one Pinner (the index
// client, its in-memory view of the index and the memo of resolutions), so
// that every artifact of a project fetches each page, metadata file and
// wheel at most once.
type Env struct {
	Cache *cache.Cache
	Pins  *pins.Pinner

	log      *slog.Logger
	progress Progress
	// offline: use the cache alone (image bases too).
	offline bool
	// memo remembers wheels that passed install's checks.
	memo  *cache.Memo
	facts *factsStore
	// deferred are the trees whose member checks their sink makes
	// (deferred.go), by *tree.Tree.
	deferred sync.Map
}

// OpenEnv opens the cache and prepares the Pinner (the index client opens
// on first use).
func OpenEnv(o EnvOptions) (*Env, error) {
	var copts []cache.Option
	if o.Offline {
		copts = append(copts, cache.Offline(true))
	}
	if o.NoCache {
		copts = append(copts, cache.NoCache(true))
	}
	if o.Progress != nil {
		copts = append(copts, cache.WithReporter(o.Progress))
	}
	c, err := cache.Open(o.CacheDir, copts...)
	if err != nil {
		return nil, err
	}
	memo, err := c.Memo("wheels-checked")
	if err != nil {
		c.Close()
		return nil, err
	}
	log := o.Logger
	if log == nil {
		log = progress.NewLogger(o.Log, o.Verbose)
	}
	env := &Env{Cache: c, log: log, progress: o.Progress, offline: o.Offline, memo: memo, facts: openFacts(c)}
	for _, d := range c.Swept() {
		env.logf("removed %s: the temporary cache of a --no-cache run that was killed", d)
	}
	popts := pins.Options{Cache: c, Offline: o.Offline, Index: o.Index, Project: o.Project, ProjectSource: o.ProjectSource, Log: env.log, Build: o.Build}
	if o.Progress != nil {
		popts.Events = o.Progress
	}
	env.Pins = pins.New(popts)
	return env, nil
}

// Close releases the cache (and removes it in NoCache mode).
func (env *Env) Close() error {
	if env.facts != nil {
		if err := env.facts.save(); err != nil {
			env.log.Warn("not caching verification facts", "err", err)
		}
	}
	return env.Cache.Close()
}

// logf writes one progress line.
func (env *Env) logf(format string, args ...any) { env.log.Info(fmt.Sprintf(format, args...)) }
