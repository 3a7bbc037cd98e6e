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
// Candidates are wheels only: a version is usable when it has a wheel whose
// tags the target accepts (the best-ranked tag wins), its Requires-Python
// admits the target's Python, it is not yanked (unless pinned with == or ===
// in the requirements), and it is not a pre-release unless pre-releases are
// allowed for the package (Options.Prerelease, uv's
// if-necessary-or-explicit by default). Versions passed over are reported in
// the Result and in errors.
//
// Packages come from a Source (a small interface; IndexSource adapts
// *index.Client). The resolver fetches project pages and metadata in
// parallel, ahead of the solver, and caches them for the run.
package resolve
