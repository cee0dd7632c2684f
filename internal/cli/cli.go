// Package cli is the kubeposture command line: scan manifests or a live
// cluster with the engine the operator uses, list and explain checks.
//
// Exit codes: 0 no finding at or above --severity-threshold and the score
// not below --fail-below-score; 1 findings over the threshold (or the score
// below the bar); 2 usage or input errors (bad flags, unreadable files,
// invalid YAML: the rest of the input is still scanned and reported).
package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Exit codes.
const (
	ExitClean    = 0
	ExitFindings = 1
	ExitError    = 2
)

// Version is set at build time with -ldflags "-X github.com/kubeposture/kubeposture/internal/cli.Version=v0.1.0".
var Version = ""

// exitError carries an exit code out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

// Main runs the command line and returns the exit code.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRoot(stdin, stdout, stderr)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return ExitClean
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(stderr, "Error:", ee.err)
		}
		return ee.code
	}
	// Flag and argument errors from cobra.
	fmt.Fprintln(stderr, "Error:", err)
	return ExitError
}

func newRoot(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "kubeposture",
		Short: "Kubernetes security posture checks for manifests and clusters",
		Long: `kubeposture judges Kubernetes objects against the CIS Kubernetes Benchmark
(section 5), the NSA/CISA hardening guidance and the Pod Security Standards,
with the same engine as the kubeposture operator.

Exit codes: 0 clean, 1 findings at or above --severity-threshold (or a score
below --fail-below-score), 2 usage or input errors.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newScanCommand(stdin, stdout, stderr), newChecksCommand(stdout), newExplainCommand(stdout), newVersionCommand(stdout))
	return root
}

func newVersionCommand(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			fmt.Fprintf(stdout, "kubeposture %s\n", version())
			return nil
		},
	}
}

func version() string {
	if Version != "" {
		return Version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "devel"
}

// isTerminal reports whether w is a terminal (for colour and progress).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
