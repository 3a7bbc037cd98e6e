// Package app holds lambdapack's verbs as plain Go functions: the CLI turns
// flags into an options struct and calls them, and tests call them directly.
package app
