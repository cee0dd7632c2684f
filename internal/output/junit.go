package output

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/kubeposture/kubeposture/internal/benchmarks"
)

// The JUnit XML schema as CI systems (Jenkins, GitLab, GitHub test
// reporters) read it.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string           `xml:"name,attr"`
	Tests      int              `xml:"tests,attr"`
	Failures   int              `xml:"failures,attr"`
	Errors     int              `xml:"errors,attr"`
	Skipped    int              `xml:"skipped,attr"`
	Time       string           `xml:"time,attr"`
	Timestamp  string           `xml:"timestamp,attr"`
	Properties *junitProperties `xml:"properties,omitempty"`
	Cases      []junitCase      `xml:"testcase"`
}

type junitProperties struct {
	Property []junitProperty `xml:"property"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	File      string        `xml:"file,attr,omitempty"`
	Line      int           `xml:"line,attr,omitempty"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

// writeJUnit writes one testsuite per check of the scan (by check ID): a
// failing testcase per finding, named after the object, or one passing
// testcase when the check found nothing; a check that was not evaluated is a
// skipped testcase. Input errors make a last "input" suite of errors.
func writeJUnit(w io.Writer, r *Report, opts Options) error {
	timestamp := opts.Now().UTC().Format("2006-01-02T15:04:05")
	byCheck := map[string][]finding{}
	for _, f := range findings(r) {
		byCheck[f.Check.ID] = append(byCheck[f.Check.ID], f)
	}
	doc := junitSuites{Name: "kubeposture"}
	for _, o := range outcomes(r) {
		c := o.Check
		refs := benchmarks.References(c.ID)
		suite := junitSuite{
			Name: c.ID, Time: "0", Timestamp: timestamp,
			Properties: &junitProperties{Property: []junitProperty{
				{Name: "title", Value: c.Title},
				{Name: "severity", Value: string(c.Severity)},
				{Name: "category", Value: string(c.Category)},
				{Name: "judged", Value: fmt.Sprint(o.Judged)},
			}},
		}
		if len(refs) > 0 {
			suite.Properties.Property = append(suite.Properties.Property, junitProperty{Name: "benchmarks", Value: strings.Join(refs, "; ")})
		}
		switch {
		case !o.Evaluated:
			suite.Cases = append(suite.Cases, junitCase{
				Name: c.Title, Classname: c.ID, Time: "0",
				Skipped: &junitSkipped{Message: reason(o)},
			})
			suite.Skipped++
		case len(byCheck[c.ID]) == 0:
			suite.Cases = append(suite.Cases, junitCase{
				Name: c.Title, Classname: c.ID, Time: "0",
				SystemOut: fmt.Sprintf("%d objects judged, none failed", o.Judged),
			})
		default:
			seen := map[string]int{}
			for _, f := range byCheck[c.ID] {
				name := objectName(f.Object)
				// Several findings on one object get distinct names, which
				// CI systems need to tell the testcases apart.
				if seen[name]++; seen[name] > 1 {
					name = fmt.Sprintf("%s (%d)", name, seen[name])
				}
				tc := junitCase{
					Name: name, Classname: c.ID, Time: "0",
					Failure: &junitProblem{Message: f.Message, Type: string(c.Severity), Text: failureText(f)},
				}
				if f.source != nil {
					tc.File, tc.Line = f.source.File, f.source.Line
				}
				suite.Cases = append(suite.Cases, tc)
				suite.Failures++
			}
		}
		suite.Tests = len(suite.Cases)
		doc.Suites = append(doc.Suites, suite)
	}
	if len(r.Errors) > 0 {
		suite := junitSuite{Name: "input", Time: "0", Timestamp: timestamp}
		for i, e := range r.Errors {
			suite.Cases = append(suite.Cases, junitCase{
				Name: fmt.Sprintf("input error %d", i+1), Classname: "input", Time: "0",
				Error: &junitProblem{Message: e, Type: "InputError", Text: e},
			})
		}
		suite.Tests, suite.Errors = len(suite.Cases), len(suite.Cases)
		doc.Suites = append(doc.Suites, suite)
	}
	for _, s := range doc.Suites {
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Errors += s.Errors
		doc.Skipped += s.Skipped
	}

	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func failureText(f finding) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s\n", f.Check.Title, objectName(f.Object))
	if loc := location(f.source); loc != "" {
		fmt.Fprintf(&b, "at %s\n", loc)
	}
	fmt.Fprintf(&b, "%s\nRemediation: %s", f.Message, f.Check.Remediation)
	if len(f.benchmarks) > 0 {
		fmt.Fprintf(&b, "\nBenchmarks: %s", strings.Join(f.benchmarks, "; "))
	}
	return b.String()
}
