package resolve

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/lambdapack/lambdapack/internal/index"
	"github.com/lambdapack/lambdapack/internal/metadata"
	"github.com/lambdapack/lambdapack/internal/names"
	"github.com/lambdapack/lambdapack/internal/tags"
	"github.com/lambdapack/lambdapack/internal/target"
)

// Building from source.
//
// A version whose wheels the target cannot use (none for its platform, tags
// or Python, every one refused, or the package is in --no-binary) is still a
// candidate when it has an sdist and building is allowed for the package:
// Options.SdistMetadata is set, --no-build is not, the package is not in
// --only-binary, and no build of it failed in this run (Options.Refused
// names one of its sdists). Its dependencies come from SdistMetadata (PEP
// 643 static PKG-INFO, else the backend's prepare_metadata_for_build_wheel)
// and the caller builds it for the target (Package.Sdist).
//
// Order: choose takes a version with a wheel the target can use first,
// newest first, and a version to build only when none is left, as pip's
// --prefer-binary does (stable wheels, stable builds, then pre-releases the
// same way). uv and pip by default take the newest version and build it.
// lambdapack does not, because on Lambda that is the common case, not the
// exception: the newest releases of many packages ship only manylinux_2_28
// wheels (numpy 2.3 and later among them), which the Amazon Linux 2
// runtimes (python3.9 to python3.11, glibc 2.26) cannot load, so newest
// first would compile numpy from source for every python3.11 layer (minutes
// of build that may fail) where an older wheel loads. A newer version passed
// over this way is named in Result.Skipped, with the way to get it: pin it
// (==), and it is built. Packages with no wheel for the target at all
// (imutils, pandasql, amazon-ion) are built at their newest version.
//
// When a build's metadata cannot be had (the backend fails, a system
// library is missing), the version is unusable, and so are the package's
// other versions that would need a build (the same failure would repeat,
// each costing a build); versions with wheels remain. If nothing is left,
// the NoSolutionError carries the build's error (Builds).

// SdistMetadataFunc reads an sdist's core metadata for a target
// (sdist.Builder.FileMetadata has this signature).
type SdistMetadataFunc func(ctx context.Context, f index.File, t target.Target) (*metadata.Metadata, error)

// sdistBuild is what a release knows of its sdists.
type sdistBuild struct {
	sdists  []index.File // the sdists the index lists for the version
	refused []refusal    // its wheels that Options.Refused names
	build   bool         // the version is a candidate through its sdist
	sdist   index.File   // the sdist to build
	// noWheel and noWheelDetail are why no wheel is used (the status the
	// release had before its sdist made it a candidate).
	noWheel       reason
	noWheelDetail string
}

type refusal struct{ file, why string }

func (r refusal) String() string { return r.file + " was refused (" + r.why + ")" }

// file returns the file the release installs: its best wheel, or the
// sdist to build.
func (r *release) file() index.File {
	if r.build {
		return r.sdist
	}
	return r.wheels[r.best]
}

// wheelsOnly is why nothing is built when no SdistMetadata is given.
const wheelsOnly = "lambdapack installs wheels only"

// buildPolicy says which packages may be built and which may not use
// wheels.
type buildPolicy struct {
	meta                 SdistMetadataFunc
	noBuild              bool
	noBinary, onlyBinary map[string]bool // canonical names and ":all:"
	failed               map[string]string
}

func newBuildPolicy(opts Options) (buildPolicy, error) {
	b := buildPolicy{meta: opts.SdistMetadata, noBuild: opts.NoBuild, failed: map[string]string{}}
	read := func(list []string) map[string]bool {
		m := map[string]bool{}
		for _, n := range list {
			for _, n := range strings.Split(n, ",") {
				switch n = strings.TrimSpace(n); n {
				case "":
				case ":none:":
					clear(m)
				case ":all:":
					m[n] = true
				default:
					m[names.Canonical(n)] = true
				}
			}
		}
		return m
	}
	b.noBinary, b.onlyBinary = read(opts.NoBinary), read(opts.OnlyBinary)
	var both []string
	for n := range b.noBinary {
		if b.onlyBinary[n] {
			both = append(both, n)
		}
	}
	if len(both) > 0 {
		slices.Sort(both)
		return b, fmt.Errorf("%s named in both --no-binary and --only-binary: a package either uses wheels only or is built from source; name it in one", strings.Join(both, ", "))
	}
	for f, why := range opts.Refused {
		if s, err := tags.ParseSdistFilename(f); err == nil {
			b.failed[s.Name] = fmt.Sprintf("building %s failed: %s", f, why)
		}
	}
	return b, nil
}

// wheelsRefused reports whether --no-binary rules out name's wheels.
func (b buildPolicy) wheelsRefused(name string) bool {
	if b.onlyBinary[name] {
		return false
	}
	return b.noBinary[name] || b.noBinary[":all:"]
}

// buildOff says why name may not be built ("" when it may).
func (b buildPolicy) buildOff(name string) string {
	switch {
	case b.meta == nil:
		return wheelsOnly
	case b.noBuild:
		return "--no-build"
	case b.noBinary[name]:
		return ""
	case b.onlyBinary[name]:
		return "--only-binary " + name
	case b.onlyBinary[":all:"]:
		return "--only-binary :all:"
	}
	if why := b.failed[name]; why != "" {
		return why
	}
	return ""
}

// considerSdist makes a release whose wheels cannot be used a candidate
// through its sdist, when building is allowed; otherwise it records why
// not in the detail of the release's status.
func (pol *policy) considerSdist(p *project, r *release) {
	if r.status == usable || r.status == reasonPrerelease {
		return
	}
	off := pol.build.buildOff(p.name)
	if r.status == reasonSdistOnly || r.status == reasonNoBinary {
		switch {
		case len(r.sdists) == 0:
			r.detail = "no source distribution"
		case off != "":
			r.detail = off
		}
	}
	if off != "" || len(r.sdists) == 0 {
		return
	}
	// .tar.gz before .zip (PEP 625), then by name.
	sds := slices.Clone(r.sdists)
	slices.SortFunc(sds, func(a, b index.File) int {
		if a, b := strings.HasSuffix(a.Filename, ".tar.gz"), strings.HasSuffix(b.Filename, ".tar.gz"); a != b {
			if a {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Filename, b.Filename)
	})
	var spec, yank string
	var yanked bool
	for _, f := range sds {
		if s, err := tags.ParseSdistFilename(f.Filename); err != nil || s.Name != p.name {
			continue
		}
		if ok, s := pol.pythonOK(f.RequiresPython); !ok {
			spec = s
			continue
		}
		if f.Yanked && !pol.allowYanked(p.name, r.version) {
			yanked, yank = true, f.YankedReason
			continue
		}
		r.noWheel, r.noWheelDetail = r.status, r.detail
		r.build, r.sdist, r.status, r.detail = true, f, usable, ""
		if r.version.IsPrerelease() && !p.allowPre {
			r.status = reasonPrerelease
		}
		return
	}
	if r.status == reasonSdistOnly {
		switch {
		case spec != "":
			r.status, r.detail = reasonRequiresPython, spec
		case yanked:
			r.status, r.detail = reasonYanked, yank
		}
	}
}

// candidateRank orders choose's candidates: wheels before builds, and with
// stableFirst, stable versions before pre-releases (0 is best).
func candidateRank(rel *release, stableFirst bool) int {
	k := 0
	if rel.build {
		k = 1
	}
	if stableFirst && rel.version.IsPrerelease() {
		k += 2
	}
	return k
}

// sdistError is a failure to read an sdist's metadata: the backend failed,
// or a system library is missing.
type sdistError struct {
	file string
	err  error
}

func (e *sdistError) Error() string { return e.err.Error() }
func (e *sdistError) Unwrap() error { return e.err }

// readMetadata reads the metadata of the file a release installs.
func (f *fetcher) readMetadata(file index.File, build bool) (*metadata.Metadata, error) {
	if !build {
		return f.src.Metadata(f.ctx, file)
	}
	md, err := f.pol.build.meta(f.ctx, file, f.tgt)
	if err != nil && f.ctx.Err() == nil && !errors.Is(err, context.Canceled) {
		return nil, &sdistError{file: file.Filename, err: err}
	}
	return md, err
}

// sdistFailed handles a failure to read a build's metadata: the version,
// and the package's other versions that would need a build, cannot be
// used.
func (r *resolver) sdistFailed(p *project, rel *release, err error) (string, bool) {
	var se *sdistError
	if !errors.As(err, &se) {
		return "", false
	}
	if _, seen := r.buildErrs[p.name]; !seen {
		r.buildErrs[p.name] = se.err
	}
	return buildFailedText(r.buildErrs[p.name]), true
}

// buildFailedText is the clause for the versions of a package whose build
// failed (one text for all, so explanations group them).
func buildFailedText(err error) string {
	var s interface{ Summary() string }
	if errors.As(err, &s) {
		return "cannot be built from source (" + s.Summary() + ")"
	}
	return "cannot be built from source (" + firstLine(err) + ")"
}

// firstLine is an error's first line, for a clause of a sentence.
func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	s = strings.TrimSuffix(strings.TrimSpace(s), ":")
	if len(s) > 240 {
		s = s[:237] + "..."
	}
	return s
}

// buildStatus says whether a release to build is ruled out by a failed
// build of another version of its package.
func (r *resolver) buildStatus(p *project, rel *release) (reason, string, bool) {
	if !rel.build {
		return usable, "", false
	}
	if err, failed := r.buildErrs[p.name]; failed {
		return reasonMetadata, buildFailedText(err), true
	}
	return usable, "", false
}

// buildCauses returns the build failures of the packages a failure's
// external causes name.
func (r *resolver) buildCauses(terminal *incompat) []error {
	if len(r.buildErrs) == 0 {
		return nil
	}
	seen := map[*incompat]bool{}
	var out []error
	have := map[string]bool{}
	var walk func(*incompat)
	walk = func(inc *incompat) {
		if inc == nil || seen[inc] {
			return
		}
		seen[inc] = true
		if inc.kind == kindDerived {
			walk(inc.cause1)
			walk(inc.cause2)
			return
		}
		for _, t := range inc.terms {
			if t.pkg == rootPkg {
				continue
			}
			name := r.nodes[t.pkg].proj.name
			if err, ok := r.buildErrs[name]; ok && !have[name] {
				have[name] = true
				out = append(out, err)
			}
		}
	}
	walk(terminal)
	return out
}

// fileOf fills in the file a package installs: its wheel, or the sdist to
// build, with notes saying why.
func (r *resolver) fileOf(pkg *Package, rel *release) {
	tgt := r.tgt.String()
	for _, x := range rel.refused {
		other := "no other file of it is used"
		if !rel.build {
			other = "using " + rel.wheels[rel.best].Filename
		} else {
			other = "building it from " + rel.sdist.Filename
		}
		pkg.Notes = append(pkg.Notes, fmt.Sprintf("%s %s: %s; %s", pkg.Name, pkg.Version, x, other))
	}
	if !rel.build {
		pkg.File, pkg.Wheel, pkg.Tag = rel.wheels[rel.best], rel.names[rel.best], rel.tag
	} else {
		pkg.File, pkg.Sdist = rel.sdist, true
		why := ""
		switch rel.noWheel {
		case reasonNoBinary:
			why = "--no-binary"
		case reasonSdistOnly:
			why = "it has only a source distribution"
		case reasonRefused:
			why = "its wheels for " + tgt + " were refused"
		default:
			why = "it " + r.phrase(rel.noWheel, rel.noWheelDetail, false)
		}
		pkg.Notes = append(pkg.Notes, fmt.Sprintf("%s %s is built from source for %s (%s): %s", pkg.Name, pkg.Version, tgt, rel.sdist.Filename, why))
	}
	for _, n := range pkg.Notes {
		r.note(n)
	}
}

// skipStatus is statusOf for Result.Skipped: a newer version that would
// have needed a build, passed over for a version with a wheel, is named.
func (r *resolver) skipStatus(p *project, i, chosen int) (reason, string) {
	st, detail := r.statusOf(p, i)
	rel := p.rels[i]
	if st != usable || !rel.build || p.rels[chosen].build {
		return st, detail
	}
	why := r.phrase(rel.noWheel, rel.noWheelDetail, true)
	if rel.noWheel == reasonSdistOnly {
		why = "have only source distributions"
	}
	return reasonNeedsBuild, why + "; lambdapack builds from source only when no version with a wheel fits: pin one (==) to build it"
}

// buildPhrase is phrase's clause for the reasons about building.
func buildPhrase(st reason, detail string, plural bool) string {
	pick := func(one, many string) string {
		if plural {
			return many
		}
		return one
	}
	switch st {
	case reasonSdistOnly:
		s := pick("has only a source distribution", "have only source distributions")
		switch detail {
		case "":
		case wheelsOnly:
			s += " (" + detail + ")"
		default:
			s += " (not built: " + detail + ")"
		}
		return s
	case reasonNoBinary:
		s := pick("is excluded by --no-binary", "are excluded by --no-binary")
		if detail != "" {
			s += " (and not built: " + detail + ")"
		}
		return s
	case reasonRefused:
		return pick("cannot be used: ", "cannot be used: ") + detail
	case reasonNeedsBuild:
		return detail
	}
	return ""
}

// sdistOnlyHint is the advice for a version that has only an sdist that
// is not built.
func (r *resolver) sdistOnlyHint(name string, rel *release, detail string) string {
	tgt := r.tgt.String()
	switch {
	case r.pol.build.meta == nil:
		return fmt.Sprintf("%s %s is published only as a source distribution, which is not built here, so it needs a version with a wheel for %s", name, rel.version, tgt)
	case strings.HasPrefix(detail, "--"):
		return fmt.Sprintf("%s %s is published only as a source distribution, and %s rules out building it: drop that, or pick a version with a wheel for %s", name, rel.version, detail, tgt)
	}
	return fmt.Sprintf("%s %s is published only as a source distribution and %s, so it needs a version with a wheel for %s", name, rel.version, detail, tgt)
}
