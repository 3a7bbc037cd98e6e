// Package names normalises Python project names (PEP 503 / the packaging
// "canonical name") and checks that a name is valid (PEP 508).
package names
