package app

import (
	"fmt"
	"io"
	"log"
	"sync"
	"time"

	"github.com/lambdapack/lambdapack/internal/cache"
	"github.com/lambdapack/lambdapack/internal/index"
	"github.com/lambdapack/lambdapack/internal/resolve"
)

// EnvOptions configure what every build in one run shares.
type EnvOptions struct {
	CacheDir string // "" means LAMBDAPACK_CACHE_DIR or the user cache folder
	Offline  bool
	NoCache  bool
	// Index holds the index flags; Project the project config's index
	// settings (lambdapack build).
	Index         index.Settings
	Project       index.Settings
	ProjectSource string
	// Log receives human progress lines; nil discards them.
	Log io.Writer
	// Downloads hears about downloads (progress bars).
	Downloads cache.Reporter
}

// Env is what the builds of one run share: one cache, one index client and
// one in-memory view of the index, so that every artifact of a project
// fetches each page, metadata file and wheel at most once.
type Env struct {
	Cache  *cache.Cache
	Index  *index.Client
	Source resolve.Source
	Config index.Config

	opts    EnvOptions
	indexMu sync.Mutex
	// resolutions memoises packagesFor by inputsKey.
	resolutions sync.Map
	memo        *cache.Memo
	facts       *factsStore
	logger      *log.Logger
}

// OpenEnv opens the cache and the index client.
func OpenEnv(o EnvOptions) (*Env, error) {
	var copts []cache.Option
	if o.Offline {
		copts = append(copts, cache.Offline(true))
	}
	if o.NoCache {
		copts = append(copts, cache.NoCache(true))
	}
	if o.Downloads != nil {
		copts = append(copts, cache.WithReporter(o.Downloads))
	}
	c, err := cache.Open(o.CacheDir, copts...)
	if err != nil {
		return nil, err
	}
	env := &Env{Cache: c, opts: o}
	w := o.Log
	if w == nil {
		w = io.Discard
	}
	env.logger = log.New(w, "", 0)
	if env.memo, err = c.Memo("wheels-checked"); err != nil {
		c.Close()
		return nil, err
	}
	env.facts = openFacts(c)
	return env, nil
}

// index opens the index client on first use: a build from a lock with URLs
// never needs one, and an offline build must not ask pip for its default.
func (env *Env) index(extra index.Settings) (*index.Client, error) {
	env.indexMu.Lock()
	defer env.indexMu.Unlock()
	if env.Index != nil {
		return env.Index, nil
	}
	cfg, err := index.DiscoverConfig(index.Overrides{
		Flags: env.opts.Index, Requirements: extra, Project: env.opts.Project, ProjectSource: env.opts.ProjectSource,
	})
	if err != nil {
		return nil, err
	}
	pages, err := env.Cache.Dir("index")
	if err != nil {
		return nil, err
	}
	cl, err := index.NewClient(cfg, index.WithCacheDir(pages), index.WithOffline(env.opts.Offline),
		index.WithReporter(index.RetryPrinter(env.log().Printf))) // a waiting run says why
	if err != nil {
		return nil, err
	}
	env.Index, env.Config = cl, cfg
	env.Source = resolve.NewCachedSource(resolve.IndexSource{Client: cl})
	env.log().Printf("Index: %s (from %s)", index.Redact(cfg.IndexURL), cfg.Source)
	return cl, nil
}

// Close releases the cache (and removes it in NoCache mode).
func (env *Env) Close() error {
	if env.facts != nil {
		if err := env.facts.save(); err != nil {
			env.log().Printf("warning: not caching verification facts: %v", err)
		}
	}
	return env.Cache.Close()
}

func (env *Env) log() *log.Logger { return env.logger }

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func roundDur(d time.Duration) time.Duration {
	switch {
	case d > 10*time.Second:
		return d.Round(100 * time.Millisecond)
	case d > time.Second:
		return d.Round(10 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}
