package output

import (
	"encoding/json"
	"io"
	"time"

	"github.com/kubeposture/kubeposture/internal/benchmarks"
)

// SchemaVersion is the version of the json format. Fields are only ever
// added within a version; a removal or change of meaning makes a new one.
const SchemaVersion = "kubeposture.io/v1"

// JSONReport is the json format (see the package documentation).
type JSONReport struct {
	SchemaVersion string             `json:"schemaVersion"`
	Tool          JSONTool           `json:"tool"`
	Target        string             `json:"target,omitempty"`
	GeneratedAt   string             `json:"generatedAt"`
	Summary       JSONSummary        `json:"summary"`
	Frameworks    []JSONFramework    `json:"frameworks"`
	Findings      []JSONFinding      `json:"findings"`
	NotEvaluated  []JSONNotEvaluated `json:"notEvaluated"`
	Skipped       map[string]int     `json:"skipped"`
	Errors        []string           `json:"errors"`
}

// JSONTool names the tool that wrote the report.
type JSONTool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// JSONSummary totals the scan; names as in a ClusterScan's status.summary.
type JSONSummary struct {
	Score              int    `json:"score"`
	Grade              string `json:"grade"`
	Findings           int    `json:"findings"`
	Critical           int    `json:"critical"`
	High               int    `json:"high"`
	Medium             int    `json:"medium"`
	Low                int    `json:"low"`
	ResourcesScanned   int    `json:"resourcesScanned"`
	ChecksEvaluated    int    `json:"checksEvaluated"`
	ChecksNotEvaluated int    `json:"checksNotEvaluated"`
	// SeverityThreshold and FindingsAtOrAboveThreshold are there only when a threshold was set.
	SeverityThreshold          string `json:"severityThreshold,omitempty"`
	FindingsAtOrAboveThreshold *int   `json:"findingsAtOrAboveThreshold,omitempty"`
}

// JSONFramework is one framework's result.
type JSONFramework struct {
	Name         string        `json:"name"`
	Title        string        `json:"title"`
	Score        int           `json:"score"`
	Compliance   int           `json:"compliance"`
	Passed       int           `json:"passed"`
	Failed       int           `json:"failed"`
	Manual       int           `json:"manual"`
	NotEvaluated int           `json:"notEvaluated"`
	Controls     []JSONControl `json:"controls"`
}

// JSONControl is one framework control's result: pass, fail, manual or not-evaluated.
type JSONControl struct {
	ID     string   `json:"id"`
	Title  string   `json:"title"`
	Result string   `json:"result"`
	Checks []string `json:"checks"`
}

// JSONFinding is one failure of one check on one object; names as in a ScanReport's findings.
type JSONFinding struct {
	CheckID     string      `json:"checkID"`
	Title       string      `json:"title"`
	Severity    string      `json:"severity"`
	Category    string      `json:"category"`
	Result      string      `json:"result"`
	Benchmarks  []string    `json:"benchmarks"`
	Object      JSONObject  `json:"object"`
	Source      *JSONSource `json:"source,omitempty"`
	Message     string      `json:"message"`
	Remediation string      `json:"remediation"`
}

// JSONObject names the object a finding is about.
type JSONObject struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name"`
	UID        string `json:"uid,omitempty"`
}

// JSONSource is where the object was read from.
type JSONSource struct {
	File string `json:"file"`
	Line int    `json:"line,omitempty"`
}

// JSONNotEvaluated is a check that could not judge.
type JSONNotEvaluated struct {
	CheckID      string   `json:"checkID"`
	Title        string   `json:"title"`
	Severity     string   `json:"severity"`
	Reason       string   `json:"reason"`
	MissingKinds []string `json:"missingKinds"`
}

// BuildJSON returns the json format of r.
func BuildJSON(r *Report, opts Options) *JSONReport {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := r.Result.Summary
	out := &JSONReport{
		SchemaVersion: SchemaVersion,
		Tool:          JSONTool{Name: "kubeposture", Version: r.ToolVersion},
		Target:        r.Target,
		GeneratedAt:   opts.Now().UTC().Format(time.RFC3339),
		Summary: JSONSummary{
			Score: s.Score, Grade: s.Grade, Findings: s.Findings,
			Critical: s.Critical, High: s.High, Medium: s.Medium, Low: s.Low,
			ResourcesScanned: r.ScannedObjects, ChecksEvaluated: s.Evaluated, ChecksNotEvaluated: s.NotEvaluated,
		},
		Frameworks:   []JSONFramework{},
		Findings:     []JSONFinding{},
		NotEvaluated: []JSONNotEvaluated{},
		Skipped:      map[string]int{},
		Errors:       []string{},
	}
	if t := opts.SeverityThreshold; t.Rank() > 0 {
		n := FindingsAtOrAbove(r.Result, t)
		out.Summary.SeverityThreshold, out.Summary.FindingsAtOrAboveThreshold = string(t), &n
	}
	for _, f := range r.Result.Frameworks {
		jf := JSONFramework{
			Name: f.Name, Title: f.Name, Score: f.Score, Compliance: f.Compliance,
			Passed: f.Passed, Failed: f.Failed, Manual: f.Manual, NotEvaluated: f.NotEvaluated,
			Controls: []JSONControl{},
		}
		if fw := benchmarks.ByName(f.Name); fw != nil {
			jf.Title = fw.Title
			for _, c := range fw.Controls { // framework order
				if res, ok := f.Controls[c.ID]; ok {
					jf.Controls = append(jf.Controls, JSONControl{ID: c.ID, Title: c.Title, Result: string(res), Checks: nonNil(c.Checks)})
				}
			}
		}
		out.Frameworks = append(out.Frameworks, jf)
	}
	for _, f := range findings(r) {
		c := f.Check
		jf := JSONFinding{
			CheckID: c.ID, Title: c.Title, Severity: string(c.Severity), Category: string(c.Category),
			Result: "fail", Benchmarks: nonNil(f.benchmarks),
			Object: JSONObject{
				APIVersion: f.Object.APIVersion, Kind: f.Object.Kind, Namespace: f.Object.Namespace,
				Name: f.Object.Name, UID: string(f.Object.UID),
			},
			Message: f.Message, Remediation: c.Remediation,
		}
		if f.source != nil && f.source.File != "" {
			jf.Source = &JSONSource{File: f.source.File, Line: f.source.Line}
		}
		out.Findings = append(out.Findings, jf)
	}
	for _, o := range notEvaluated(r) {
		out.NotEvaluated = append(out.NotEvaluated, JSONNotEvaluated{
			CheckID: o.Check.ID, Title: o.Check.Title, Severity: string(o.Check.Severity),
			Reason: reason(o), MissingKinds: nonNil(kindStrings(o.MissingKinds)),
		})
	}
	for k, n := range r.Skipped {
		out.Skipped[k] = n
	}
	out.Errors = append(out.Errors, r.Errors...)
	return out
}

func writeJSON(w io.Writer, r *Report, opts Options) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // messages keep <, > and & as they are
	return enc.Encode(BuildJSON(r, opts))
}

// nonNil makes an empty list [] rather than null in JSON.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
