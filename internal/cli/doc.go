// Package cli is lambdapack's command line: one file per verb, each turning
// flags into an options struct and calling a plain function in package app.
//
// Verbs register themselves with register from an init function, so adding a
// verb touches only its own file.
package cli
