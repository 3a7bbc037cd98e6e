// Package netlimit holds the bounds every network read of lambdapack obeys
// and the small pieces that enforce them, shared by the index client and the
// download cache:
//
//   - Limits: how long a read may wait, how slowly a body may trickle, how
//     long one attempt and one request may take, how large an index page may
//     grow once decompressed, and how long a Retry-After is honoured. The
//     defaults are constants; FromEnv applies the LAMBDAPACK_HTTP_TIMEOUT,
//     LAMBDAPACK_DOWNLOAD_TIMEOUT and LAMBDAPACK_MAX_PAGE_SIZE variables.
//   - Watchdog: cancels a request whose headers do not come, or whose body
//     stalls or trickles, and says which in a *StallError.
//   - CheckRedirect: a redirect policy that fails at once on a loop and
//     names it.
//   - RetryAfter: reads a Retry-After header.
//
// It does no I/O of its own: callers pass the environment in.
package netlimit
