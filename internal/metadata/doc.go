// Package metadata reads Python core metadata: a wheel's METADATA or an
// sdist's PKG-INFO, versions 1.0 to 2.6 (RFC 822-style headers, continuation
// lines, the body as the description).
//
// It keeps what dependency resolution needs (Name, Version, Requires-Dist,
// Requires-Python, Provides-Extra, Dynamic, Summary, Description) and checks
// them the way pypa/packaging's Metadata does, with pip's and uv's leniency
// where those tools install what packaging would reject: unknown fields are
// ignored, an unknown minor Metadata-Version (such as the 2.0 old
// bdist_wheel wrote), an invalid Requires-Python, an invalid Provides-Extra
// name, an unknown Dynamic entry and a multi-line Summary are Warnings.
// A missing, repeated or invalid Metadata-Version, Name or Version, an
// invalid Requires-Dist entry and (from Metadata-Version 2.2 on) Name or
// Version listed as Dynamic make the file invalid; the error names each bad
// field (see FieldError). testdata/differential.json holds these decisions
// against packaging's on 1,300 variants of a METADATA file.
package metadata
