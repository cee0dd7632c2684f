package output

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/owenrumney/go-sarif/v3/pkg/report"
	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"

	"github.com/kubeposture/kubeposture/internal/benchmarks"
	"github.com/kubeposture/kubeposture/internal/checks"
)

// InformationURI is where the tool is documented.
const InformationURI = "https://github.com/kubeposture/kubeposture"

// sarifLevel maps a severity to a SARIF level: critical and high are errors,
// medium a warning, low a note.
func sarifLevel(s checks.Severity) string {
	switch s {
	case checks.SeverityCritical, checks.SeverityHigh:
		return sarif.LevelError
	case checks.SeverityMedium:
		return sarif.LevelWarning
	}
	return sarif.LevelNote
}

// securitySeverity is the CVSS-like score GitHub code scanning reads from a
// rule's "security-severity" property to label alerts critical (9.0+), high
// (7.0+), medium (4.0+) or low.
func securitySeverity(s checks.Severity) string {
	switch s {
	case checks.SeverityCritical:
		return "9.5"
	case checks.SeverityHigh:
		return "8.0"
	case checks.SeverityMedium:
		return "5.5"
	}
	return "3.0"
}

// writeSARIF writes a SARIF 2.1.0 log with one run: a rule for every check
// of the scan, a result for every finding, located at the manifest's file
// and line when known and always at the object (a logical location). Checks
// that were not evaluated and input errors are tool notifications.
func writeSARIF(w io.Writer, r *Report, opts Options) error {
	log := report.NewV210Report()
	run := sarif.NewRunWithInformationURI("kubeposture", InformationURI)
	driver := run.Tool.Driver
	if r.ToolVersion != "" {
		driver.WithVersion(r.ToolVersion)
	}

	for _, o := range outcomes(r) {
		c := o.Check
		refs := nonNil(benchmarks.References(c.ID))
		tags := append([]string{"security", "kubernetes", string(c.Category)}, refs...)
		driver.AddRule(sarif.NewRule(c.ID).
			WithName(ruleName(c.ID)).
			WithShortDescription(sarif.NewMultiformatMessageString().WithText(c.Title)).
			WithFullDescription(sarif.NewMultiformatMessageString().WithText(c.Description)).
			WithHelp(sarif.NewMultiformatMessageString().WithText(helpText(c, refs)).WithMarkdown(helpMarkdown(c, refs))).
			WithDefaultConfiguration(sarif.NewReportingConfiguration().WithLevel(sarifLevel(c.Severity))).
			WithProperties(sarif.NewPropertyBag().
				Add("severity", string(c.Severity)).
				Add("category", string(c.Category)).
				Add("benchmarks", refs).
				Add("security-severity", securitySeverity(c.Severity)).
				WithTags(tags)))
	}

	for _, f := range findings(r) {
		obj := f.Object
		logical := sarif.NewLogicalLocation().
			WithName(obj.Name).
			WithFullyQualifiedName(objectFQN(f)).
			WithKind("resource").
			WithProperties(sarif.NewPropertyBag().
				Add("apiVersion", obj.APIVersion).
				Add("kind", obj.Kind).
				Add("namespace", obj.Namespace))
		loc := sarif.NewLocation().AddLogicalLocation(logical)
		if f.source != nil && f.source.File != "" {
			phys := sarif.NewPhysicalLocation().WithArtifactLocation(sarif.NewSimpleArtifactLocation(fileURI(f.source.File)))
			if f.source.Line > 0 {
				phys.WithRegion(sarif.NewRegion().WithStartLine(f.source.Line))
			}
			loc.WithPhysicalLocation(phys)
		}
		run.CreateResultForRule(f.Check.ID).
			WithLevel(sarifLevel(f.Check.Severity)).
			WithMessage(sarif.NewTextMessage(f.Message)).
			AddLocation(loc).
			WithPartialFingerprints(map[string]string{"kubeposture/v1": fingerprint(f)})
	}

	inv := sarif.NewInvocation().
		WithExecutionSuccessful(len(r.Errors) == 0).
		WithEndTimeUtc(opts.Now().UTC().Format(time.RFC3339))
	for _, o := range notEvaluated(r) {
		inv.ToolConfigurationNotifications = append(inv.ToolConfigurationNotifications, sarif.NewNotification().
			WithLevel(sarif.LevelWarning).
			WithMessage(sarif.NewTextMessage(fmt.Sprintf("%s not evaluated: %s", o.Check.ID, reason(o)))).
			WithAssociatedRule(sarif.NewReportingDescriptorReference().WithID(o.Check.ID).WithIndex(run.GetRuleIndex(o.Check.ID))))
	}
	for _, e := range r.Errors {
		inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, sarif.NewNotification().
			WithLevel(sarif.LevelError).
			WithMessage(sarif.NewTextMessage(e)))
	}
	run.AddInvocation(inv)
	log.AddRun(run)
	if err := log.PrettyWrite(w); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// ruleName turns a check ID into the PascalCase name SARIF viewers show:
// "pss-privileged" is "PssPrivileged".
func ruleName(id string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(id, func(r rune) bool { return r == '-' || r == '_' || r == '.' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

func helpText(c *checks.Check, refs []string) string {
	s := c.Remediation
	if len(refs) > 0 {
		s += "\n\nBenchmarks: " + strings.Join(refs, "; ")
	}
	return s
}

func helpMarkdown(c *checks.Check, refs []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**%s** (%s, %s)\n\n%s\n\n**Remediation:** %s\n", c.Title, c.Severity, c.Category, c.Description, c.Remediation)
	if len(refs) > 0 {
		b.WriteString("\n**Benchmarks:**\n\n")
		for _, ref := range refs {
			fmt.Fprintf(&b, "- %s\n", ref)
		}
	}
	return b.String()
}

// fileURI makes a URI reference of a path as given (relative stays
// relative, as code-scanning UIs resolve it against the repository):
// forward slashes, and characters a URI cannot hold percent-encoded.
func fileURI(p string) string {
	return (&url.URL{Path: filepath.ToSlash(p)}).String()
}

// objectFQN is "namespace/Kind/name", or "Kind/name" for a cluster-scoped object.
func objectFQN(f finding) string {
	o := f.Object
	if o.Namespace == "" {
		return o.Kind + "/" + o.Name
	}
	return o.Namespace + "/" + o.Kind + "/" + o.Name
}

// fingerprint identifies a finding independently of where in a file it is,
// so that code-scanning UIs track it when lines move.
func fingerprint(f finding) string {
	o := f.Object
	sum := sha256.Sum256([]byte(strings.Join([]string{f.Check.ID, o.APIVersion, o.Kind, o.Namespace, o.Name, f.Message}, "\x00")))
	return hex.EncodeToString(sum[:16])
}
