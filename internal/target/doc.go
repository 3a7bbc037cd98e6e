// Package target describes what lambdapack builds for: an AWS Lambda Python
// runtime (or a custom Python + glibc, such as a distroless image) on one
// architecture. It holds the runtime table as data, one row a runtime, and
// derives from a Target the PEP 508 marker environment, the best-first list of
// wheel tags the target accepts (manylinux up to its glibc ceiling, never
// musllinux), and the rank lookup the resolver uses to choose wheels.
//
// Nothing here looks at the machine lambdapack runs on.
package target
