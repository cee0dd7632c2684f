// Command kubeposture runs kubeposture's checks on manifest files or on a
// live cluster: the same engine as the operator, for CI pipelines.
package main

import (
	"os"

	"github.com/kubeposture/kubeposture/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
