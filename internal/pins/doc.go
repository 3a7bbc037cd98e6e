// Package pins decides the exact wheels an artifact installs for a target
// and fetches them: the "pins" step of every verb that builds (layer,
// function, build, lock, and image and invoke after them).
//
// One Pinner serves a run. It owns what resolution and locks share:
//
//   - Inputs: requirement strings, requirement files ("-" is stdin),
//     constraint files, or a lock;
//
//   - the index client, opened on first use from the configuration
//     (flags, the project's settings, then the environment and pip's), and
//     the in-memory view of the index every resolution of the run shares;
//
//   - locks: lock.SelectFile chooses the format by the file's name (pylock,
//     uv.lock, poetry.lock, Pipfile.lock) and selects the wheels for the
//     target; a lock that names files without URLs (poetry.lock) or only
//     hashes (Pipfile.lock) is completed from the index;
//
//   - pip's hash-checking mode (--require-hashes, or any --hash): every
//     package named with a hash, and another wheel of the same version taken
//     when the resolver's best one is not among them;
//
//   - the per-input memo: one resolution per distinct (requirements,
//     target) in a run, so a project's artifacts that share both resolve
//     once;
//
//   - fetching into the content-addressed cache, through the index client
//     (credentials, retries) for HTTP URLs;
//
//   - building from source (build.go): the resolver reads sdists' metadata
//     through the run's sdist.Builder (Builder: the Pinner's cache, index
//     client and view of the index), and Pin builds the sdists it chose (or
//     a lock's sdist-only entries) for the target, so a Set holds wheels
//     only (Pin.Source names the sdist of a built one). BuildOptions are
//     pip's and uv's --no-build, --no-binary, --only-binary and
//     --build-timeout; a requirements file's --no-binary/--only-binary add
//     to them. A failed build is refused and the requirements resolved
//     again (another version with a wheel); with nothing left, the build's
//     error (an *sdist.LibraryError names the missing library and the
//     alternative) is returned;
//
//   - refusals: Refuse(t, file, why) rules a file out for a target for the
//     rest of the run (verification refused the wheel, its build failed);
//     later Pins of t resolve afresh without it, and the resolver's notes
//     say what was used instead;
//
//   - keeping what resolution read for the installer: each resolved Pin
//     carries the core metadata of its wheel (the index's PEP 658 file) and
//     where it came from, which the pipeline hands to install
//     (install.Wheel.Resolved), which refuses a wheel whose own METADATA
//     declares other dependencies.
//
//     p := pins.New(pins.Options{Cache: c, Index: flags, Log: log})
//     set, err := p.Pin(ctx, t, pins.Inputs{RequirementFiles: []string{"requirements.txt"}})
//     blobs, err := p.Fetch(ctx, set.Pins)
package pins
