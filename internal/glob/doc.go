// Package glob is lambdapack's one glob dialect: the patterns users write
// in a function's excludes (--exclude, exclude = [...], package.patterns)
// and in strip patterns (--strip-pattern, strip-patterns, slimPatterns).
//
// A pattern is slash-separated path components, matched against whole
// components of slash-separated relative paths:
//
//   - "*" matches any run of characters within a component, "?" one
//     character, "[abc]", "[a-z]", "[!abc]" or "[^abc]" one of a class
//     (path.Match syntax); "**" inside a component is "*";
//   - a component "**" matches any number of components, none included
//     ("pkg/**/tests" matches pkg/tests and pkg/a/b/tests; "docs/**"
//     matches docs and everything beneath it);
//   - a pattern without "/" matches a single file or folder name anywhere
//     ("*.pyi", "__pycache__", ".git"), as in .gitignore;
//   - a pattern with "/" is anchored at the root ("src/tests/**"), a
//     leading "/" or "./" changing nothing, unless compiled with
//     CompileAnywhere, where it matches a run of whole components anywhere
//     (a strip pattern "numpy/tests" matches python/numpy/tests and
//     python/lib/python3.12/site-packages/numpy/tests alike);
//   - a pattern that matches a folder matches everything beneath it;
//     MatchPrefix says which folder (or the path itself) matched;
//   - in a Set, "!pattern" re-includes what an earlier pattern matched: the
//     last pattern that matches decides.
//
// Empty patterns and empty, "." or ".." components are refused. The
// package does no I/O.
package glob
