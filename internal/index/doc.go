// Package index is lambdapack's client for Python package indexes: the
// simple repository API (PEP 691 JSON first, PEP 503 HTML as fallback),
// core metadata files (PEP 658/714) or, when an index has none, a wheel's
// METADATA read with HTTP range requests on the zip's central directory, and
// find-links folders and flat HTML pages.
//
// Configuration comes from DiscoverConfig, which follows flags, the
// project's config, uv's and pip's environment variables, pip's config files
// and finally the default of the pip installed on the machine, asked of that
// pip: no index host is written in this package.
//
// Of several indexes, the first that has a project is the only one used for
// it, so an extra index cannot shadow a private package (dependency
// confusion). Pages are cached on disk honouring ETag, Last-Modified and
// Cache-Control; requests are bounded, retried with backoff on 5xx, resets
// and timeouts, and authenticated from URL userinfo or ~/.netrc; credentials
// never appear in errors or logs.
package index
