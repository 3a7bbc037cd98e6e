package cli

import (
	"io"

	"github.com/spf13/pflag"

	"github.com/lambdapack/lambdapack/internal/app"
	"github.com/lambdapack/lambdapack/internal/index"
	"github.com/lambdapack/lambdapack/internal/progress"
)

// registerEnvFlags adds the flags of every verb that resolves and fetches
// packages: the cache, the indexes, and when sdists are built.
func registerEnvFlags(fl *pflag.FlagSet, e *app.EnvOptions) {
	fl.StringVar(&e.CacheDir, "cache-dir", "", "cache folder (default $LAMBDAPACK_CACHE_DIR or the user cache folder)")
	fl.BoolVar(&e.Offline, "offline", false, "use the cache alone; fail listing what is missing")
	fl.BoolVar(&e.NoCache, "no-cache", false, "use a temporary cache, removed afterwards")
	registerIndexFlags(fl, &e.Index)
	registerBuildFlags(fl, &e.Build)
}

// registerIndexFlags adds the flags that say where packages come from, as
// pip spells them.
func registerIndexFlags(fl *pflag.FlagSet, s *index.Settings) {
	fl.StringVarP(&s.IndexURL, "index-url", "i", "", "the package index (simple API) URL")
	fl.StringArrayVar(&s.ExtraIndexURLs, "extra-index-url", nil, "further indexes, used only for packages the first index lacks")
	fl.StringArrayVarP(&s.FindLinks, "find-links", "f", nil, "a folder or page of wheels to use too")
	fl.BoolVar(&s.NoIndex, "no-index", false, "use --find-links alone")
}

// attachOutput points a verb's log at stderr (nowhere with --quiet) and,
// on a terminal, its progress bars; wait stops the bars, before the verb
// prints anything else.
func attachOutput(s *Streams, e *app.EnvOptions, quiet bool) (log io.Writer, wait func()) {
	if quiet {
		e.Log = nil
		return nil, func() {}
	}
	e.Log = s.Err
	if !isTerminal(s.Err) {
		return s.Err, func() {}
	}
	bars := progress.New(s.Err)
	e.Progress = bars
	return s.Err, bars.Wait
}
