package output

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode"

	"github.com/kubeposture/kubeposture/internal/checks"
)

// ANSI styles, used only when Options.Color is set.
const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiDim    = "\x1b[2m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiCyan   = "\x1b[36m"
)

func severityStyle(s checks.Severity) string {
	switch s {
	case checks.SeverityCritical:
		return ansiBold + ansiRed
	case checks.SeverityHigh:
		return ansiRed
	case checks.SeverityMedium:
		return ansiYellow
	}
	return ansiCyan
}

type painter bool

func (p painter) paint(style, s string) string {
	if !p || s == "" {
		return s
	}
	return style + s + ansiReset
}

// writeTable writes the report for people: findings by severity, then the
// checks that were not evaluated, skipped objects, input errors and a summary.
// Every string that can come from the scanned objects goes through clean, so
// a manifest cannot write terminal control sequences.
func writeTable(w io.Writer, r *Report, opts Options) error {
	bw := bufio.NewWriter(w)
	p := painter(opts.Color)

	all := findings(r)
	if len(all) == 0 {
		fmt.Fprintln(bw, p.paint(ansiGreen, "No findings."))
	}
	for _, sev := range severities {
		var group []finding
		for _, f := range all {
			if f.Check.Severity == sev {
				group = append(group, f)
			}
		}
		if len(group) == 0 {
			continue
		}
		fmt.Fprintf(bw, "%s\n", p.paint(severityStyle(sev), fmt.Sprintf("%s (%d)", strings.ToUpper(string(sev)), len(group))))
		for _, f := range group {
			line := "  " + p.paint(ansiBold, clean(f.Check.ID)) + "  " + clean(f.Check.Title) + "  " + clean(objectName(f.Object))
			if loc := location(f.source); loc != "" {
				line += "  " + p.paint(ansiDim, clean(loc))
			}
			fmt.Fprintln(bw, line)
			fmt.Fprintln(bw, indent(clean(f.Message), "      "))
		}
		fmt.Fprintln(bw)
	}
	if len(all) == 0 {
		fmt.Fprintln(bw) // each severity group ends with a blank line; so does "No findings."
	}

	if ne := notEvaluated(r); len(ne) > 0 {
		fmt.Fprintln(bw, p.paint(ansiBold, fmt.Sprintf("NOT EVALUATED (%d)", len(ne))))
		for _, o := range ne {
			fmt.Fprintln(bw, "  "+p.paint(ansiBold, clean(o.Check.ID))+"  "+clean(o.Check.Title))
			fmt.Fprintln(bw, indent(clean(reason(o)), "      "))
		}
		fmt.Fprintln(bw)
	}

	if len(r.Skipped) > 0 {
		total := 0
		for _, n := range r.Skipped {
			total += n
		}
		fmt.Fprintln(bw, p.paint(ansiBold, fmt.Sprintf("SKIPPED OBJECTS (%d)", total)))
		tw := tabwriter.NewWriter(bw, 0, 4, 2, ' ', 0)
		for _, k := range slices.Sorted(maps.Keys(r.Skipped)) {
			fmt.Fprintf(tw, "  %s\t%d\n", clean(k), r.Skipped[k])
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintln(bw)
	}

	if len(r.Errors) > 0 {
		fmt.Fprintln(bw, p.paint(ansiBold+ansiRed, fmt.Sprintf("INPUT ERRORS (%d)", len(r.Errors))))
		for _, e := range r.Errors {
			fmt.Fprintln(bw, indent(clean(e), "  "))
		}
		fmt.Fprintln(bw)
	}

	s := r.Result.Summary
	fmt.Fprintln(bw, p.paint(ansiBold, "SUMMARY"))
	tw := tabwriter.NewWriter(bw, 0, 4, 2, ' ', 0)
	if r.Target != "" {
		fmt.Fprintf(tw, "  Target\t%s\n", clean(r.Target))
	}
	fmt.Fprintf(tw, "  Objects scanned\t%d\n", r.ScannedObjects)
	fmt.Fprintf(tw, "  Checks\t%d evaluated, %d not evaluated\n", s.Evaluated, s.NotEvaluated)
	fmt.Fprintf(tw, "  Findings\t%d: %d critical, %d high, %d medium, %d low\n", s.Findings, s.Critical, s.High, s.Medium, s.Low)
	fmt.Fprintf(tw, "  Score\t%s\n", scoreText(s.Score, s.Grade))
	if t := opts.SeverityThreshold; t.Rank() > 0 {
		fmt.Fprintf(tw, "  Threshold\t%d findings at or above %s\n", FindingsAtOrAbove(r.Result, t), t)
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	if len(r.Result.Frameworks) > 0 {
		fmt.Fprintln(bw)
		fmt.Fprintln(bw, p.paint(ansiBold, "FRAMEWORKS"))
		tw := tabwriter.NewWriter(bw, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  NAME\tSCORE\tCOMPLIANCE\tPASSED\tFAILED\tMANUAL\tNOT EVALUATED")
		for _, f := range r.Result.Frameworks {
			fmt.Fprintf(tw, "  %s\t%d\t%d%%\t%d\t%d\t%d\t%d\n", f.Name, f.Score, f.Compliance, f.Passed, f.Failed, f.Manual, f.NotEvaluated)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return bw.Flush()
}

func scoreText(score int, grade string) string {
	if grade == "" || grade == "-" {
		return "not graded (no check could judge anything)"
	}
	return fmt.Sprintf("%d/100, grade %s", score, grade)
}

// clean makes s safe to print on a terminal: control characters (other than
// newline and tab) and bidirectional controls are shown as Go escapes
// (\x1b, \u202e); everything else, quotes, <, & and printable Unicode
// included, is left as it is.
func clean(s string) string {
	if !strings.ContainsFunc(s, unsafeRune) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if !unsafeRune(r) {
			b.WriteRune(r)
			continue
		}
		q := strconv.QuoteRuneToASCII(r) // 'x' with the escape inside
		b.WriteString(q[1 : len(q)-1])
	}
	return b.String()
}

func unsafeRune(r rune) bool {
	if r == '\n' || r == '\t' {
		return false
	}
	// Bidirectional overrides and isolates can make a terminal show text in
	// another order than it is (CVE-2021-42574, "Trojan Source").
	bidi := r == '\u200e' || r == '\u200f' || r >= '\u202a' && r <= '\u202e' || r >= '\u2066' && r <= '\u2069'
	return unicode.IsControl(r) || bidi
}

// indent prefixes every line of s.
func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}
