// Package resolve finds the exact set of distributions that satisfy a set of
// requirements on one Lambda target (a Python version, an architecture and a
// glibc ceiling), or explains why there is none.
//
// The solver is PubGrub (solver.go): conflict-driven clause learning over
// finite version domains, with uv-style explanations ("Because a==1.0.0
// depends on b>=2 and ..., we can conclude that ...") and Lambda hints (a
// wheel that needs a newer glibc than the runtime has, no wheel for the
// architecture or the Python version, a yanked-only release).
//
// A version is usable when it has a wheel whose tags the target accepts
// (the best-ranked tag wins), its Requires-Python admits the target's
// Python, it is not yanked (unless pinned with == or === in the
// requirements). Versions passed over are reported in the Result and in
// errors. Files in Options.Refused (a wheel verification refused, an sdist
// whose build failed) are never chosen: the next file of the version the
// target accepts is, else another version.
//
// Sdists (sdist.go): with Options.SdistMetadata set, a version whose wheels
// the target cannot use is a candidate through its sdist, to be built for
// the target (Package.Sdist), unless --no-build or --only-binary rule it
// out; --no-binary makes a package's sdists its only candidates. Versions
// with a usable wheel come first, newest first, and a version to build only
// when none is left (pip's --prefer-binary; uv and pip default to the
// newest version, built): on the Amazon Linux 2 runtimes the newest
// releases of many packages have only manylinux_2_28 wheels, and building
// numpy for every python3.11 layer is not what a user wants. Pin a version
// (==) to build it. sdist.go says more.
//
// Pre-releases (Options.Prerelease, named as uv's --prerelease; prerelease.go)
// are by default candidates behind every stable version: a package gets one
// when every requirement on it names a pre-release (b>=2.0b1, yours or a
// dependency's), or when no stable version usable on the target satisfies
// its requirements (even after backtracking). When only some of the
// requirements name one (c>=1.0 with c>=0.5a1) the newest stable version
// that satisfies them all is chosen, whatever order the requirements come
// in. Each chosen pre-release, and a newer version of a package you require
// passed over because the mode rules out the pre-releases it needs, gets a
// note in the Result.
//
// Packages come from a Source (a small interface; IndexSource adapts
// *index.Client). The resolver fetches project pages and metadata in
// parallel, ahead of the solver, and caches them for the run.
package resolve
