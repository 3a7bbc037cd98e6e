// Package reqfile reads pip-style requirements: requirements.txt files
// (with -r / -c includes relative to the including file, line
// continuations, comments, ${VAR} expansion and the index and format
// options pip accepts in files), standard input ("-r -") and requirement
// strings given as command-line arguments.
//
// The result is a Set: the requirements (each with the file:line it came
// from and its --hash values), the constraints, and the options (index
// settings to pass to index.DiscoverConfig, --only-binary / --no-binary,
// --pre, hash-checking mode). Every error names file:line.
package reqfile
