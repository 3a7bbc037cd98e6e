// Package tags implements PEP 425 compatibility tags for lambdapack: the Tag
// triple and compressed tag sets, wheel and sdist filename parsing (PEP 427,
// the sdist naming rules), the manylinux platform tags of PEP 600 with the
// legacy aliases of PEPs 513, 571 and 599, and the ordered, best-first tag
// lists CPython accepts (packaging's cpython_tags followed by compatible_tags).
//
// The package does no I/O and never looks at the machine it runs on: every
// list is computed from explicit inputs (Python version, architecture, glibc
// ceiling), which is what cross-building for AWS Lambda needs. Behaviour
// follows pypa/packaging 26 (src/packaging/tags.py, _manylinux.py, utils.py);
// the conformance tests run packaging's own test vectors against it.
package tags
