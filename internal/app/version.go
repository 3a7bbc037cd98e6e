package app

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Version is lambdapack's version. Release builds set it with
// -ldflags "-X github.com/lambdapack/lambdapack/internal/app.Version=v1.2.3";
// otherwise it comes from the module's build information.
var Version = ""

// CurrentVersion returns lambdapack's version string.
func CurrentVersion() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "v0.0.0-dev"
}

// VersionString is the line `lambdapack version` prints.
func VersionString() string {
	return fmt.Sprintf("lambdapack %s (%s, %s/%s)", CurrentVersion(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
