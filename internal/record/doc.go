// Package record owns the artifact record: what a lambdapack artifact was
// built for (its kind, runtimes, architectures, Python, the hash of the
// resolved requirements and the lambdapack version that built it).
//
// A zip keeps the record in its archive comment (never in a file, which
// would land in /opt or /var/task): the prefix "lambdapack: " and one line of
// compact JSON. An image keeps the same JSON in a config label (Label). Build,
// verify, publish, image and invoke read it through this package only.
//
// The package does no I/O beyond ReadZip.
package record
