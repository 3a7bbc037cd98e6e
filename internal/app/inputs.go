package app

import "github.com/lambdapack/lambdapack/internal/pins"

// Inputs are where dependencies come from: requirement strings, requirement
// files ("-" is Stdin), constraint files, or a lockfile. The Pinner
// (env.Pins) turns them into the wheels to install for a target.
type Inputs = pins.Inputs
