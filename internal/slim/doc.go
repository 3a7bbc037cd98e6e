// Package slim makes Lambda artifacts smaller and faster to import, opt-in:
// the primitives behind `layer` and `function`'s --exclude-package,
// --strip-pattern, --slim and --compile.
//
// Every step works on a list of Files (slash-separated path relative to the
// artifact's root, size, opener), the same shape a builder's plan has;
// FilesFromDir lists a folder. Steps never touch the disk of the artifact:
// they return a Result with the Files that stay, what was Removed (with
// the reason) and what a pattern matched but was Kept (with the reason), so
// the caller reports them and writes the artifact.
//
//	ExcludePackages(files, []string{"boto3", "botocore", "s3transfer"})
//	    removes whole distributions by their dist-info RECORD (and their
//	    bytecode caches). Excluding boto3, botocore or s3transfer adds a note
//	    that the Lambda runtime provides them (RuntimeProvided), and warns
//	    when one of the three stays behind to shadow the runtime's copy.
//
//	StripPatterns(files, []string{"*.pyi", "numpy/tests", "botocore/data/**/examples-1.json"})
//	    removes what --strip-pattern globs match (internal/glob, compiled
//	    with CompileAnywhere: components match anywhere in a path). A
//	    pattern that matches a file itself never removes an __init__.py, a
//	    compiled extension or shared library, a .pth file or dist-info
//	    metadata; one that matches a folder removes the folder.
//
//	Slim(files)
//	    the conservative --slim preset (SlimPreset): __pycache__ folders,
//	    *.pyi stubs, and tests folders inside a package, except a tests
//	    folder that is a top-level package or that its package's own code
//	    imports (found by scanning the package's .py files). Imports from
//	    files slim removes (other tests folders) keep nothing.
//
//	Compile(ctx, files, CompileOptions{Python: "3.12", Mount: "/opt"})
//	    byte-compiles the .py files with a local CPython of the target's
//	    minor version (FindInterpreter: PATH, then pyenv), using
//	    py_compile with unchecked-hash invalidation in a temporary tree,
//	    and returns the .pyc files to add (__pycache__/mod.cpython-312.pyc
//	    beside each source). Output is deterministic (PYTHONHASHSEED=0, no
//	    timestamps) and the same for both architectures. With no suitable
//	    interpreter it returns an error saying what to install.
//
// Order them as exclude, strip/slim, then compile (slimming removes stale
// __pycache__ folders; compiling adds fresh ones).
package slim
