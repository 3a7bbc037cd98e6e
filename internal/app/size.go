package app

import "github.com/lambdapack/lambdapack/internal/human"

// HumanBytes prints a size the way lambdapack's reports do: "3.5 MiB".
func HumanBytes(n int64) string { return human.Bytes(n) }
