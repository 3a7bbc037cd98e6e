package pins

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/lambdapack/lambdapack/internal/reqfile"
	"github.com/lambdapack/lambdapack/internal/resolve"
	"github.com/lambdapack/lambdapack/internal/target"
)

// Inputs are where dependencies come from: requirement strings, requirement
// files ("-" is Stdin), constraint files, or a lockfile.
type Inputs struct {
	Requirements     []string
	RequirementFiles []string
	ConstraintFiles  []string
	Lock             string
	Stdin            io.Reader
	// Pre is --pre: every pre-release is a candidate (--prerelease allow).
	Pre bool
	// Prerelease is --prerelease (or the project's prerelease key): one of
	// disallow, allow, if-necessary, explicit, if-necessary-or-explicit;
	// "" is the default (if-necessary-or-explicit).
	Prerelease string
}

// Empty reports whether no dependency is given.
func (in Inputs) Empty() bool {
	return len(in.Requirements) == 0 && len(in.RequirementFiles) == 0 && in.Lock == ""
}

// Read reads requirement strings, requirement files and constraint files
// into one set.
func (in Inputs) Read() (*reqfile.Set, error) {
	var opts []reqfile.Option
	if in.Stdin != nil {
		opts = append(opts, reqfile.WithStdin(in.Stdin))
	}
	set := &reqfile.Set{}
	if len(in.Requirements) > 0 {
		s, err := reqfile.ParseArgs(in.Requirements, opts...)
		if err != nil {
			return nil, err
		}
		set.Merge(s)
	}
	for _, f := range in.RequirementFiles {
		s, err := reqfile.ParseFile(f, opts...)
		if err != nil {
			return nil, err
		}
		set.Merge(s)
	}
	for _, f := range in.ConstraintFiles {
		s, err := reqfile.ParseFile(f, opts...)
		if err != nil {
			return nil, err
		}
		set.Constraints = append(set.Constraints, s.Requirements...)
		set.Constraints = append(set.Constraints, s.Constraints...)
	}
	if in.Pre {
		set.Options.Pre = true
	}
	mode, err := in.prerelease(set.Options.Pre)
	if err != nil {
		return nil, err
	}
	set.Options.Prerelease = mode
	return set, nil
}

// prerelease checks --prerelease against --pre (pre: given as a flag or in
// a requirements file) and returns the mode's name, "" for the default.
func (in Inputs) prerelease(pre bool) (string, error) {
	if in.Prerelease == "" {
		if pre {
			return resolve.PrereleaseAllow.String(), nil
		}
		return "", nil
	}
	m, err := resolve.ParsePrereleaseMode(in.Prerelease)
	if err != nil {
		return "", fmt.Errorf("--prerelease: %w", err)
	}
	if pre && m != resolve.PrereleaseAllow {
		where := "--pre"
		if !in.Pre {
			where = "--pre in a requirements file"
		}
		return "", fmt.Errorf("%s and --prerelease %s disagree: --pre means --prerelease allow; give only one of them", where, m)
	}
	return m.String(), nil
}

// key identifies what Pin's answer for t depends on; "" when the inputs
// read standard input, which can be read once and is never shared.
func (in Inputs) key(t target.Target) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "%s|%d.%d|%s|lock=%s|pre=%v|prerelease=%s\n", t, t.GlibcMajor, t.GlibcMinor, t.PythonFull, in.Lock, in.Pre, in.Prerelease)
	if in.Lock == "" && !in.Empty() {
		if slices.Contains(in.RequirementFiles, "-") {
			return "", nil
		}
		set, err := in.Read()
		if err != nil {
			return "", err
		}
		for _, r := range set.Requirements {
			fmt.Fprintf(&b, "r %s %q\n", r.String(), r.Hashes)
		}
		for _, r := range set.Constraints {
			fmt.Fprintf(&b, "c %s\n", r.String())
		}
		fmt.Fprintf(&b, "%+v\n", set.Options)
	}
	return b.String(), nil
}
