// Command lambdapack turns Python dependencies and code into AWS Lambda
// artifacts for any Python runtime and architecture, without Docker.
package main

import (
	"os"

	"github.com/lambdapack/lambdapack/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
