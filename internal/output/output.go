package output

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/kubeposture/kubeposture/internal/benchmarks"
	"github.com/kubeposture/kubeposture/internal/checks"
	"github.com/kubeposture/kubeposture/internal/engine"
	"github.com/kubeposture/kubeposture/internal/inventory"
)

// Format is an output format.
type Format string

// The formats.
const (
	FormatTable       Format = "table"
	FormatJSON        Format = "json"
	FormatSARIF       Format = "sarif"
	FormatJUnit       Format = "junit"
	FormatOpenReports Format = "openreports"
)

// Formats lists every format, in the order help texts name them.
var Formats = []Format{FormatTable, FormatJSON, FormatSARIF, FormatJUnit, FormatOpenReports}

// FormatNames returns the formats' names, for help texts and errors.
func FormatNames() []string {
	names := make([]string, len(Formats))
	for i, f := range Formats {
		names[i] = string(f)
	}
	return names
}

// ParseFormat returns the format named s. An unknown name is an error that
// lists the valid ones.
func ParseFormat(s string) (Format, error) {
	f := Format(strings.ToLower(strings.TrimSpace(s)))
	if slices.Contains(Formats, f) {
		return f, nil
	}
	return "", fmt.Errorf("unknown output format %q (valid: %s)", s, strings.Join(FormatNames(), ", "))
}

// Report is everything one scan has to say.
type Report struct {
	// Result is the engine's result.
	Result *engine.Result
	// Sources locate objects read from manifests; nil for cluster scans.
	Sources map[inventory.ObjectRef]inventory.Source
	// Skipped counts the objects not scanned, by reason (such as an unknown kind).
	Skipped map[string]int
	// Errors are input errors, already formatted with file:line.
	Errors []string
	// ToolVersion is kubeposture's version.
	ToolVersion string
	// ScannedObjects is the number of objects read.
	ScannedObjects int
	// Target names what was scanned: "manifests", or the cluster context's name.
	Target string
}

// Options say how to write.
type Options struct {
	// Color turns on ANSI colours in the table; the CLI sets it only when it
	// writes to a terminal.
	Color bool
	// SeverityThreshold, when set, is reported with the number of findings at
	// or above it (the CLI's exit code depends on it). It filters nothing.
	SeverityThreshold checks.Severity
	// Now gives the timestamps written; nil means time.Now.
	Now func() time.Time
}

// Write writes the report in the given format.
func Write(w io.Writer, format Format, r *Report, opts Options) error {
	if r == nil || r.Result == nil {
		return errors.New("write report: no result")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	var err error
	switch format {
	case FormatTable:
		err = writeTable(w, r, opts)
	case FormatJSON:
		err = writeJSON(w, r, opts)
	case FormatSARIF:
		err = writeSARIF(w, r, opts)
	case FormatJUnit:
		err = writeJUnit(w, r, opts)
	case FormatOpenReports:
		err = writeOpenReports(w, r, opts)
	default:
		_, err = ParseFormat(string(format))
	}
	if err != nil {
		return fmt.Errorf("write %s report: %w", format, err)
	}
	return nil
}

// FindingsAtOrAbove counts the findings of evaluated checks whose severity is
// at or above s; an unset s counts none.
func FindingsAtOrAbove(res *engine.Result, s checks.Severity) int {
	if s.Rank() == 0 {
		return 0
	}
	n := 0
	for i := range res.Outcomes {
		o := &res.Outcomes[i]
		if o.Evaluated && o.Check.Severity.Rank() >= s.Rank() {
			n += len(o.Findings)
		}
	}
	return n
}

// finding is a failure with what every format says about it.
type finding struct {
	*checks.Finding
	source     *inventory.Source
	benchmarks []string
}

// findings returns the failures of evaluated checks, most severe first, then
// by check ID, object and message: the one order every format uses.
func findings(r *Report) []finding {
	var out []finding
	for i := range r.Result.Outcomes {
		o := &r.Result.Outcomes[i]
		if !o.Evaluated {
			continue // a check that could not judge reports no failures
		}
		for j := range o.Findings {
			f := finding{Finding: &o.Findings[j], benchmarks: benchmarks.References(o.Check.ID)}
			if s, ok := r.Sources[f.Object]; ok {
				f.source = &s
			}
			out = append(out, f)
		}
	}
	slices.SortStableFunc(out, func(a, b finding) int { return compareFindings(a.Finding, b.Finding) })
	return out
}

func compareFindings(a, b *checks.Finding) int {
	return cmp.Or(
		cmp.Compare(b.Check.Severity.Rank(), a.Check.Severity.Rank()),
		cmp.Compare(a.Check.ID, b.Check.ID),
		cmp.Compare(a.Object.Namespace, b.Object.Namespace),
		cmp.Compare(a.Object.Kind, b.Object.Kind),
		cmp.Compare(a.Object.Name, b.Object.Name),
		cmp.Compare(a.Object.APIVersion, b.Object.APIVersion),
		cmp.Compare(a.Message, b.Message),
	)
}

// notEvaluated returns the outcomes of checks that were not evaluated, by check ID.
func notEvaluated(r *Report) []*checks.Outcome {
	var out []*checks.Outcome
	for i := range r.Result.Outcomes {
		if o := &r.Result.Outcomes[i]; !o.Evaluated {
			out = append(out, o)
		}
	}
	slices.SortFunc(out, func(a, b *checks.Outcome) int { return cmp.Compare(a.Check.ID, b.Check.ID) })
	return out
}

// outcomes returns every outcome, by check ID.
func outcomes(r *Report) []*checks.Outcome {
	out := make([]*checks.Outcome, 0, len(r.Result.Outcomes))
	for i := range r.Result.Outcomes {
		out = append(out, &r.Result.Outcomes[i])
	}
	slices.SortFunc(out, func(a, b *checks.Outcome) int { return cmp.Compare(a.Check.ID, b.Check.ID) })
	return out
}

// reason says why a check was not evaluated.
func reason(o *checks.Outcome) string {
	switch {
	case o.NotEvaluatedReason != "":
		return o.NotEvaluatedReason
	case len(o.MissingKinds) > 0:
		return "could not read " + strings.Join(kindStrings(o.MissingKinds), ", ")
	}
	return "not evaluated"
}

func kindStrings(kinds []inventory.Kind) []string {
	out := make([]string, len(kinds))
	for i, k := range kinds {
		out[i] = string(k)
	}
	slices.Sort(out)
	return out
}

// objectName is "Kind namespace/name", or "Kind name" for a cluster-scoped object.
func objectName(o inventory.ObjectRef) string {
	if o.Namespace == "" {
		return o.Kind + " " + o.Name
	}
	return o.Kind + " " + o.Namespace + "/" + o.Name
}

// location is "file:line", "file" or "" when the source is not known.
func location(s *inventory.Source) string {
	if s == nil || s.File == "" {
		return ""
	}
	return s.String()
}

// severities lists the severities, most severe first.
var severities = []checks.Severity{checks.SeverityCritical, checks.SeverityHigh, checks.SeverityMedium, checks.SeverityLow}
