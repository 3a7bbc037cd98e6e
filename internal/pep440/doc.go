// Package pep440 implements PEP 440 versions and version specifiers with the
// semantics of pypa/packaging 26: parsing and normalisation, the total order
// (epochs, pre/post/dev releases, local labels), specifier sets with
// Contains/Filter and packaging 26's pre-release rules, and canonical String
// forms. Version comparison does not allocate; it is on the resolver's hot
// path.
//
// Deliberate differences from packaging: numbers must fit in an int64 (larger
// ones are a parse error rather than a Python ValueError), and a set's
// explicit pre-release override is not stored in the set: pass it per call
// (the Prerelease argument), which is what packaging does with it anyway.
package pep440
