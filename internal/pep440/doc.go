// Package pep440 implements PEP 440 versions and version specifiers with the
// semantics of pypa/packaging 26.
//
// Versions: Parse accepts every spelling the standard normalises (case,
// separators, "v" prefix, white space, implicit numbers, alpha/c/pre/rev/r
// aliases); String prints the normal form; Compare is the PEP 440 total order
// (epochs, release with zero padding, dev < pre < final < post, local labels)
// and does not allocate.
//
// Specifiers: ParseSpecifierSet follows packaging's grammar for every
// operator (~=, ==, !=, <=, >=, <, >, ===, ".*" wildcards, local labels on
// ==/!= only). SpecifierSet.String is packaging's canonical form (clauses
// sorted by text, duplicates removed). Contains and Filter follow packaging
// 26's pre-release rules:
//
//   - Contains rejects a matching pre-release only under PrereleaseDeny.
//   - Filter under PrereleaseDefault keeps pre-releases only when no final
//     release matches, unless a clause names a pre-release (">=1.0b1"), in
//     which case it keeps them all.
//   - A set's own override (WithPrereleases) applies when the call passes
//     PrereleaseDefault; packaging's installed=True is PrereleaseAllow for a
//     pre-release candidate.
//   - "===" compares text case-insensitively: ContainsString and
//     FilterStrings take the version as written, Contains and Filter compare
//     a Version's normal form.
//
// IsUnsatisfiable computes exactly, on the version order, whether any version
// can satisfy a set. Intersect/And combine sets (And resolves an allow/deny
// override conflict to deny instead of failing).
//
// Differences from packaging: release, epoch, pre, post and dev numbers must
// fit in an int64 (packaging accepts up to Python's 4300-digit limit), and an
// oversized number is an error at parse time rather than when matching.
package pep440
