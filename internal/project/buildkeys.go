package project

import "time"

// Build says when sdists are built, from [tool.lambdapack] (or
// lambdapack.toml) top-level keys named as pip's and uv's flags:
//
//	no-build = true                   # wheels only
//	no-binary = ["markupsafe"]        # build these from source (or ":all:")
//	only-binary = [":all:"]           # never build these
//	build-timeout = "20m"             # stop a build that runs longer
//
// The command line's flags add to the lists (--no-build and
// --build-timeout win).
type Build struct {
	NoBuild    bool
	NoBinary   []string
	OnlyBinary []string
	Timeout    time.Duration
}

var buildKeys = []string{"no-build", "no-binary", "only-binary", "build-timeout"}

// buildSettings reads the build keys of the top-level table.
func (r *tomlReader) buildSettings(root map[string]any) Build {
	b := Build{
		NoBuild:    r.boolean("no-build", root["no-build"]),
		NoBinary:   r.strs("no-binary", root["no-binary"]),
		OnlyBinary: r.strs("only-binary", root["only-binary"]),
	}
	if s := r.str("build-timeout", root["build-timeout"]); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			r.fail("build-timeout", `write a duration such as "20m" or "1h30m"`, "build-timeout %q is not a duration", s)
		}
		b.Timeout = d
	}
	return b
}
