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
// confusion). A project page keeps only the files some Lambda target can
// install (CPython 3 or pure Python wheels for manylinux x86_64 or aarch64)
// and every sdist, with a per-version summary of the rest (Elsewhere) for
// the resolver's hints; a JSON page is parsed as it streams in, never held
// whole. Pages are cached on disk, one compact entry per page (pagecodec.go),
// honouring ETag, Last-Modified and Cache-Control, keyed by URLs without
// credentials; metadata files are cached by their own sha256, once however
// many wheels share them. Requests are
// authenticated from URL userinfo or ~/.netrc; credentials never appear in
// errors, logs or the cache.
//
// Every request obeys netlimit.Limits: each attempt is watched (headers
// within the read timeout, a body that keeps a minimum rate) and bounded by
// a deadline, each page or metadata request by a total deadline, and every
// body by a size (a page past MaxPageSize, gzip bombs included, is refused
// and never cached). Failures that may pass are retried with backoff or
// after the server's Retry-After, each retry reported (EventRetry); a
// redirect loop fails at once. A download cut short resumes with a range
// request, or restarts from zero skipping what was delivered. A remote page
// may not link to file:// URLs: only a local find-links location may give
// local paths.
package index
