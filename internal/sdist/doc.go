// Package sdist builds wheels from source distributions (PEP 517) for a
// Lambda target, on any glibc Linux machine, without Docker.
//
// # The builder
//
// Builder.Build(ctx, sdist, target) runs the sdist's build backend in an
// isolated environment and returns a wheel that verification proved loads
// on the target, or an error; a wheel that does not is never returned.
//
// The pipeline uses it through index files: the resolver reads a
// candidate's metadata with FileMetadata (resolve.Options.SdistMetadata),
// and pins.Pinner builds the sdists the resolution chose with BuildFile
// (one Builder per run, on the run's cache and index client).
//
//   - The backend is pyproject.toml's [build-system] (PEP 517/518), or
//     setuptools' legacy backend with setuptools>=40.8.0 when there is
//     none, as pip and uv do.
//   - Its build-system.requires (and what get_requires_for_build_wheel
//     adds) are resolved by lambdapack's resolver for the machine's own
//     CPython (a target made from the interpreter: its version, machine and
//     glibc), fetched through the cache and installed by internal/install
//     into a venv without pip (pyvenv.cfg, bin/python linked to the host
//     interpreter, include-system-site-packages = false). The venv is cached
//     by the host interpreter and the exact wheels (build-envs/).
//   - The hooks run through a small Python script shipped inside the binary
//     (hooks/lambdapack_hooks.py, written once to the cache): it imports the
//     backend (honouring backend-path) and calls one hook with JSON
//     arguments, as pyproject-hooks does for pip.
//   - Metadata: Builder.Metadata reads PKG-INFO without building when PEP
//     643 makes it binding (Metadata-Version 2.2 or later, and none of
//     Requires-Dist, Requires-Python, Provides-Extra Dynamic); otherwise it
//     calls prepare_metadata_for_build_wheel (compilers disabled), or builds
//     when the backend lacks that hook. Answers are cached by the sdist's
//     sha256 and the target's Python.
//   - Every attempt is bounded by Builder.Timeout (--build-timeout); the
//     whole process group is killed when it runs out. A failure is a
//     *BuildError with the backend's last output lines and a shell command
//     that runs the same hook by hand (the environment, zig and the cross
//     configuration stay in the cache).
//
// # Cross builds
//
// A Cross build compiles for the target, never for the build machine:
//
//   - CC, CXX, LDSHARED, AR and RANLIB are wrappers around `zig cc -target
//     aarch64-linux-gnu.2.26` (machine and glibc ceiling of the target),
//     from the ziglang wheel of the package index, pinned by file name and
//     sha256 (ZigVersion), fetched through lambdapack's cache and unpacked
//     once. gcc, clang and their multiarch names on PATH point at the same
//     wrappers, for build scripts that call a compiler by name. pkg-config
//     looks in an empty folder, so the build machine's libraries are never
//     linked. A linker version probe (cc -Wl,--version) is answered as
//     LLD, which zig links with, since meson before its zig support (numpy
//     1.26's) does not know "zig ld".
//   - meson-python (numpy, scipy): when the build machine cannot run the
//     target's programs (another machine, or a newer glibc), the backend
//     gets setup-args --cross-file with a meson cross file naming the
//     wrappers and the target machine (and numpy's long double format),
//     so meson does not run its compiler test programs.
//   - The target's build configuration is a _sysconfigdata module made from
//     the host interpreter's, re-aimed at the target (EXT_SUFFIX
//     .cpython-311-aarch64-linux-gnu.so, SOABI, MULTIARCH, the compilers,
//     no libpython link), selected with _PYTHON_SYSCONFIGDATA_NAME, and
//     _PYTHON_HOST_PLATFORM=linux-aarch64: the mechanism CPython's own
//     cross builds and crossenv use.
//   - The C headers are the host CPython's (the same minor version as the
//     target: the headers and the ABI are per minor version, and the public
//     headers are the same on every machine) with pyconfig.h, the one
//     generated header, adjusted for the target machine: the settings that
//     differ between x86_64 and aarch64 glibc builds (x87/x86-64 inline
//     assembly, whether wchar_t is unsigned) were taken from Debian's
//     libpython3.11-dev for amd64 and arm64; type sizes, alignment and byte
//     order are the same on both. Debian's python3.X-dev packages were not
//     used because no Debian suite has CPython 3.12, and Lambda's CPython is
//     not Debian's either. pyconfig.h's HAVE_* settings for C library
//     functions describe the build machine's glibc; the public headers do
//     not use them, and verification checks the symbols the binaries need.
//   - Rust: cargo is pointed at the target (CARGO_BUILD_TARGET, the zig
//     wrapper as linker, as cargo-zigbuild does), PyO3 at the target's
//     configuration (PYO3_CROSS_LIB_DIR), and maturin gets --zig with the
//     target's manylinux compatibility. The target's Rust standard library
//     must be installed (rustup target add).
//   - The wheel is checked by internal/verify before it is tagged: ELF
//     machine, glibc symbol versions, symbol-version policy, needed
//     libraries and extension module names (the wheel-tag rule excepted:
//     the tags are set here). Only then is linux_<machine> replaced by
//     manylinux_<glibc>_<machine> at the target's ceiling (file name, WHEEL
//     and its RECORD row). A refused wheel is an error (*RefusedError
//     inside the *BuildError) and is never stored.
//
// # The pure fallback
//
// A cross build that fails the same way every time (compiler errors, a
// refused wheel; not a timeout or an escape) is remembered under its cache
// key (failure.go), so a warm build goes straight to the pure fallback.
//
// When the cross build fails or is refused, Build tries a Pure build: CC,
// CXX, LDSHARED, CARGO and the usual compiler names on PATH are commands
// that fail, pkg-config finds nothing, and the switches well-known packages
// read to skip their extensions are set. Packages whose extensions are
// optional fall back to pure Python; the result is accepted only when all
// its tags are py3-none-any (or pyXY-none-any) and it holds no ELF file,
// and Wheel.Notes says the package runs without its compiled speedups. A
// pure result is cached by the sdist's sha256 and the build environment,
// not by target.
//
// When both fail and the output shows a missing system library (libpq's
// pg_config, mysql_config, gdal-config, a missing header, a pkg-config
// package), the error is a *LibraryError that names the library and a
// binary alternative where one exists (psycopg2-binary, PyMySQL, ...) or
// says that a container image with the library is the way.
//
// # Confinement: what is and is not contained
//
// Each build runs in its own folder (build-tmp/b-*/ in the cache) holding
// the unpacked source, a HOME, a TMPDIR and the output folder, with the
// source as working folder and an environment made from scratch: none of
// the user's variables (so no cloud credentials) reach the backend, only
// PATH, a proxy and rustup's toolchain folder.
//
//   - Contained: writes to ~, $TMPDIR, XDG folders and relative paths land
//     in the build folder. Every Python process of the build (the backend
//     and any Python it starts, through the guard sitecustomize on
//     PYTHONPATH) runs a PEP 578 audit hook that refuses, with a
//     PermissionError, opening for writing, creating, renaming, removing,
//     linking or changing the mode of anything outside the build folder
//     (and /dev).
//   - Detected: after each hook, the top level of the build's parent
//     folder, the build folder itself, the sdist's folder, the user's home,
//     the working folder and Builder.Watch are compared with a snapshot
//     taken before it; anything new, changed or removed fails the build
//     with an *EscapeError and its result is refused. What appeared in
//     lambdapack's own build-tmp folder is removed again. Folders every
//     program writes in (/, /tmp, /var/tmp, /dev/shm, $TMPDIR) are not
//     watched even when they are the working folder, nor are other
//     builds' folders and the cache's own downloads beside the sdist:
//     others' writes there would fail builds for nothing.
//   - Not contained: native code and other programs the build runs (a
//     compiler, a shell command, a C extension loaded by setup.py) can
//     write anywhere the user can; such writes are only caught in the
//     folders above, not deeper inside them nor in /tmp (other programs
//     write there all the time). Reads are not restricted, nor is the
//     network. lambdapack uses no OS sandbox (namespaces, containers):
//     build only sdists you would install with pip, or build in a
//     container.
package sdist
