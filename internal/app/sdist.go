package app

import (
	"slices"

	"github.com/lambdapack/lambdapack/internal/pins"
	"github.com/lambdapack/lambdapack/internal/project"
)

// projectBuild combines a project's build keys ([tool.lambdapack]
// no-build, no-binary, only-binary, build-timeout) with the command
// line's: the lists add up, --no-build and --build-timeout win.
func projectBuild(cfg project.Build, flags pins.BuildOptions) project.Build {
	out := project.Build{
		NoBuild:    cfg.NoBuild || flags.NoBuild,
		NoBinary:   append(slices.Clone(cfg.NoBinary), flags.NoBinary...),
		OnlyBinary: append(slices.Clone(cfg.OnlyBinary), flags.OnlyBinary...),
		Timeout:    cfg.Timeout,
	}
	if flags.Timeout > 0 {
		out.Timeout = flags.Timeout
	}
	return out
}

// buildOptions are the Pinner's build settings for a project's run.
func buildOptions(b project.Build, flags pins.BuildOptions) pins.BuildOptions {
	return pins.BuildOptions{NoBuild: b.NoBuild, NoBinary: b.NoBinary, OnlyBinary: b.OnlyBinary, Timeout: b.Timeout, FindPython: flags.FindPython}
}
