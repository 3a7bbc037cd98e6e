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
//
// Paths in a file (-r, -c, local wheels, file: URLs) are relative to that
// file's folder; -f/--find-links paths too when they exist there (pip's
// rule). On standard input and in arguments they are relative to the
// working directory. Editable (-e) lines are rejected: an editable install
// cannot go into a Lambda artifact.
//
// Only regular files are read as requirements files (and /dev/null, as an
// empty one): a folder, a pipe, a device or a kernel pseudo-file under /proc,
// /sys or /dev is refused naming what it is, so `-r /proc/self/environ`
// cannot turn the environment into error text. A line that fails to parse is
// repeated in the error only in part (about 100 characters, around the
// caret for a PEP 508 error), and a file holding NUL bytes is refused as not
// text.
package reqfile
