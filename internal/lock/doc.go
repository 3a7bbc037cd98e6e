// Package lock holds lambdapack's Lock: the exact distributions to install,
// independent of where they were resolved (lambdapack's resolver, or an
// imported uv.lock / poetry.lock). A Lock is what every builder consumes.
//
// The model follows PEP 751 (pylock.toml) closely, so that writing and
// reading pylock.toml is lossless for what lambdapack uses; importers of
// other lock formats fill the same model (see Lock). pylock.go reads and
// writes pylock.toml, validating what it reads the way packaging's
// packaging.pylock does (same rules, same messages).
//
// reuse.go decides whether an existing lock may steer a new resolution
// (CheckReuse): its versions serve as preferences only when it records the
// same target (Python, glibc, architecture) in its [tool.lambdapack] table.
package lock
