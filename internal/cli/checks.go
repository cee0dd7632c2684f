package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/kubeposture/kubeposture/internal/benchmarks"
	"github.com/kubeposture/kubeposture/internal/checks"
)

type checkInfo struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Severity    string   `json:"severity"`
	Category    string   `json:"category"`
	Benchmarks  []string `json:"benchmarks,omitempty"`
	Description string   `json:"description"`
	Evidence    string   `json:"evidence,omitempty"`
	Remediation string   `json:"remediation"`
	Inputs      []string `json:"inputs"`
}

func infoOf(c *checks.Check) checkInfo {
	in := make([]string, 0, len(c.Needs))
	for _, k := range c.Needs {
		in = append(in, string(k))
	}
	return checkInfo{
		ID: c.ID, Title: c.Title, Severity: string(c.Severity), Category: string(c.Category),
		Benchmarks: benchmarks.References(c.ID), Description: c.Description, Evidence: c.Evidence,
		Remediation: c.Remediation, Inputs: in,
	}
}

func newChecksCommand(stdout io.Writer) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "checks",
		Short: "List the check catalogue",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			all := checks.Default.All()
			switch output {
			case "table":
				tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tSEVERITY\tCATEGORY\tTITLE\tBENCHMARKS")
				for _, c := range all {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.ID, c.Severity, c.Category, c.Title, strings.Join(benchmarks.References(c.ID), ", "))
				}
				return tw.Flush()
			case "json":
				infos := make([]checkInfo, 0, len(all))
				for _, c := range all {
					infos = append(infos, infoOf(c))
				}
				enc := json.NewEncoder(stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(infos)
			}
			return &exitError{code: ExitError, err: fmt.Errorf("--output: unknown format %q (table, json)", output)}
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "Output format: table or json.")
	return cmd
}

func newExplainCommand(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "explain CHECK-ID",
		Short: "Describe one check: what it judges, its benchmark references and how to fix a finding",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			c := checks.Default.Get(args[0])
			if c == nil {
				return &exitError{code: ExitError, err: fmt.Errorf("unknown check %q (kubeposture checks lists them)", args[0])}
			}
			i := infoOf(c)
			fmt.Fprintf(stdout, "%s: %s\n\n", i.ID, i.Title)
			fmt.Fprintf(stdout, "Severity:    %s\nCategory:    %s\n", i.Severity, i.Category)
			if len(i.Benchmarks) > 0 {
				fmt.Fprintf(stdout, "Benchmarks:  %s\n", strings.Join(i.Benchmarks, "; "))
			}
			fmt.Fprintf(stdout, "Reads:       %s\n\n", strings.Join(i.Inputs, ", "))
			fmt.Fprintf(stdout, "%s\n\n", i.Description)
			if i.Evidence != "" {
				fmt.Fprintf(stdout, "Evidence: %s\n\n", i.Evidence)
			}
			fmt.Fprintf(stdout, "Remediation: %s\n", i.Remediation)
			return nil
		},
	}
}
