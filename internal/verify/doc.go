// Package verify proves statically that an AWS Lambda artifact (a layer zip,
// a function zip, a folder, or the files a builder plans to write) will load
// on its target runtime and architecture, before it ships.
//
// The entry point is
//
//	rep, err := verify.Check(ctx, verify.PathSource("layer.zip"), t, verify.Options{})
//
// where the Source is a zip file or folder (PathSource) or in-memory entries
// (EntriesSource: path, size and an opener per file, so a builder can verify
// its plan before writing). err is only for failures to read the artifact;
// what is wrong with it comes back as Findings in the Report, each naming
// the file, the distribution that installed it (from the dist-info RECORD
// files) and the fix. Report.Failed(strict) decides the exit status: errors
// fail, warnings only when strict.
//
// The checks (Finding.Rule):
//
//   - arch: every ELF shared object or executable is 64-bit and built for
//     the target's machine (EM_X86_64 = 62, EM_AARCH64 = 183). One
//     exception, on the principle that only what loads or runs on Lambda
//     can break it: an executable for Lambda's other machine is a warning
//     (it cannot run here; nothing loads it) when the same folder holds an
//     executable for the target whose name differs only in spelling the
//     machine as a word (x86_64, x86-64, amd64, x64 / aarch64, arm64), as
//     aws-sam-cli ships samcli/local/rapid/aws-lambda-rie-x86_64 beside
//     aws-lambda-rie-arm64 and runs the one for the machine it is on. An
//     executable is ET_EXEC, or ET_DYN with PT_INTERP or DF_1_PIE, and
//     not named *.so*; a shared object or extension module, a lone foreign
//     executable, or one whose twin is missing, not an executable or not
//     for the target stays an error.
//   - foreign-binary: Mach-O (macOS) and PE (Windows) files where Linux
//     loads code (*.so, *.pyd, bin/, lib/). Windows launchers (*.exe) and
//     *.dylib/*.dll data files are left alone: Linux never loads them.
//   - glibc: the highest GLIBC_x.y a binary needs, from .gnu.version_r
//     (versions needed from the dynamic loader skipped, as auditwheel does),
//     is at most the runtime's glibc.
//   - symbol-versions: the other versioned symbols (GLIBCXX, CXXABI, GCC,
//     ZLIB, ...) fit the manylinux policy for the runtime's glibc: the newest
//     policy in auditwheel's manylinux-policy.json (embedded, see policy/)
//     whose glibc is at most the runtime's. Versions needed from a library
//     the artifact ships itself are not held to the policy.
//   - missing-library: every DT_NEEDED library is either provided by the
//     runtime (the policy's lib_whitelist, the dynamic loader, the runtime's
//     own libpython3.X) or shipped where the loader finds it on Lambda: a
//     folder named by RPATH/RUNPATH ($ORIGIN resolved against /opt for a
//     layer, /var/task for a function) or on Lambda's LD_LIBRARY_PATH
//     (/var/task, /var/task/lib, /opt/lib), in this artifact or in one of
//     Options.With whose files are known (ExtraFrom). A shared library
//     (lib*.so*, or one in a *.libs or lib/ folder) also finds its
//     siblings, as the libraries auditwheel grafts into pkg.libs do.
//     A missing library is an error when the binary loads as the packages
//     are imported, and a warning naming the optional modules that need it
//     otherwise: importgraph.go builds the import graph from the packages'
//     Python code (import-time imports only; guarded ones are optional),
//     and a library nothing links to counts as loaded (ctypes, dlopen).
//   - python-abi: extension module names fit the target:
//     .cpython-3XY-<machine>-linux-gnu.so must name the target's Python and
//     machine (not a free-threaded "t" build); .abi3.so and bare .so are
//     accepted; PyPy modules are not.
//   - wheel-tag: each dist-info WHEEL's Tag lines: at least one must be a
//     tag the target accepts (target.TagRank). Pure-Python tags only
//     (*-none-any) for another interpreter give a warning, others an error.
//   - size: the unzipped total, plus Options.With (the other layers and the
//     function of the same deployment), is at most 262,144,000 bytes. The
//     largest distributions are listed in Report.Packages.
//   - zip-size (info): a zip over 52,428,800 bytes must be uploaded
//     through S3.
//   - layout: a layer has a python/ folder (packages at its top level are
//     an error, a layer without any Python or with stray top-level modules
//     beside python/ a warning), and any
//     python/lib/python3.X/site-packages names the target's Python; a
//     function zip with a python/ folder is a warning. A layer that has
//     the target's own site-packages folder may hold other Pythons' too
//     (lambdapack's layout for a layer serving several runtimes): the
//     target's runtime never reads them, so each is one info finding and
//     the runtime-dependent checks (python-abi, wheel-tag, glibc,
//     symbol-versions, missing-library, boto3) skip it; arch and
//     foreign-binary still apply, since the layer has one architecture.
//     Without the target's own folder, another Python's stays an error.
//     Report.Packages merges a distribution installed in several folders.
//   - empty: a layer or function with no file at all (folders only, or
//     nothing), which Lambda refuses and which cannot be what was meant:
//     a package pattern or exclude that left everything out. An image's
//     added files may be none (the base alone); the layout check is
//     skipped for an empty artifact (one root cause, one finding).
//   - boto3 (info): whether boto3/botocore are bundled, shadowing the
//     runtime's copy.
//   - unreadable (warning): a file that starts like an ELF binary but can't
//     be parsed.
//   - corrupt: a zip member whose bytes do not match the CRC-32 or the size
//     its header records, or whose compressed data is damaged. Every member
//     of a zip is read to its end once, whatever else is checked.
//
// Reading is bounded. A zip is refused, before anything is inflated, when
// two members share compressed data (overlapping entries: a few megabytes
// that inflate to terabytes), when one member declares more than Lambda's
// whole unzipped limit, when all together declare more than MaxDeclared,
// or when a path component is over 255 bytes (tree.ValidLength). Members
// are read as streams, never inflated whole into memory: at most their
// declared size, keeping a binary's first MiB and the few ranges its ELF
// dynamic segment points at. ELF files are read as the dynamic loader reads
// them (header, program headers, PT_DYNAMIC and the strings and version
// needs it names), never through section headers. A folder's files are
// read in place. A builder that plans a zip made elsewhere as its files
// (a prebuilt CodeUri) lists it with ZipEntries (the same refusals) and
// gives Check its members as MemberEntry entries: each read to its end,
// its CRC-32 and size checked, and their declared sizes bounded, as a
// zip's are.
//
// Kind inference, unless Options.Kind says: a layer when the artifact has a
// top-level python/ folder; a function when it has a top-level .py file (the
// handler's module); otherwise a layer (a zip of packages at the top level
// is the classic broken layer and is reported as such).
//
// One root cause gives one finding: a binary for the wrong machine or from
// another OS is not also checked for glibc, libraries or its name's tag.
package verify
