// Package pep508 parses and evaluates PEP 508 dependency specifiers:
// requirements ("name[extra]>=1; python_version >= '3.9'", "name @ url") and
// environment markers.
//
// The grammar, error messages and canonical string forms follow
// pypa/packaging 26 (packaging.requirements, packaging.markers), which pip
// vendors: a string packaging accepts parses here to the same value and
// prints back the same way. Two deliberate differences, both for values
// packaging itself cannot print back into a parseable marker: a marker
// value holding a backslash, a line break, a NUL or both quote characters is
// printed with Python escapes instead of raw, and "\N{...}" escapes and
// escaped lone surrogates in marker strings are rejected.
//
// Positions in errors count characters (Unicode code points), as Python does.
//
// Beyond Evaluate, which answers false where packaging raises,
// EvaluateErr reports those cases (UndefinedComparisonError,
// UndefinedEnvironmentNameError) and EvaluateLockFile evaluates in PEP 751's
// lock-file context, where "extras" and "dependency_groups" are sets.
// testdata/differential.json holds the parser and evaluator to packaging's
// answers on some 10,000 strings (see differential_test.go).
package pep508
