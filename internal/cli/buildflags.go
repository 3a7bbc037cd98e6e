package cli

import (
	"github.com/spf13/pflag"

	"github.com/lambdapack/lambdapack/internal/pins"
	"github.com/lambdapack/lambdapack/internal/sdist"
)

// registerBuildFlags adds the flags that say when sdists are built, as pip
// and uv spell them.
func registerBuildFlags(fl *pflag.FlagSet, b *pins.BuildOptions) {
	fl.BoolVar(&b.NoBuild, "no-build", false, "never build from source: wheels only")
	fl.StringSliceVar(&b.NoBinary, "no-binary", nil, "build these packages from their sdists, not their wheels (names, or :all:); repeatable")
	fl.StringSliceVar(&b.OnlyBinary, "only-binary", nil, "never build these packages from source (names, or :all:); repeatable")
	fl.DurationVar(&b.Timeout, "build-timeout", 0, "stop a build from source that runs longer than this (default "+sdist.DefaultTimeout.String()+")")
}
