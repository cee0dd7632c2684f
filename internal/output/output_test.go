package output

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	openreportsv1alpha1 "github.com/openreports/reports-api/apis/openreports.io/v1alpha1"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"sigs.k8s.io/yaml"

	"github.com/kubeposture/kubeposture/internal/benchmarks"
	"github.com/kubeposture/kubeposture/internal/checks"
	"github.com/kubeposture/kubeposture/internal/engine"
	"github.com/kubeposture/kubeposture/internal/inventory"
	"github.com/kubeposture/kubeposture/internal/score"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

var fixedNow = func() time.Time { return time.Date(2026, 3, 14, 15, 9, 26, 535000000, time.UTC) }

// trickyMessage has what a format could mangle: quotes, markup characters,
// a backslash, non-ASCII text and an emoji.
const trickyMessage = `container "app" <sidecar> & 'init': image "nginx:latest" path C:\tmp — ünïcødé 日本語 🚀`

func check(t testing.TB, id string) *checks.Check {
	t.Helper()
	c := checks.Default.Get(id)
	if c == nil {
		t.Fatalf("no check %q in the catalogue", id)
	}
	return c
}

func deployment(ns, name string) inventory.ObjectRef {
	return inventory.ObjectRef{APIVersion: "apps/v1", Kind: "Deployment", Namespace: ns, Name: name}
}

// newResult builds a result the way engine.Plan.Run does, from outcomes.
func newResult(outcomes []checks.Outcome, frameworks ...string) *engine.Result {
	r := &engine.Result{Outcomes: outcomes, Summary: score.Summarize(outcomes, score.All)}
	for _, name := range frameworks {
		r.Frameworks = append(r.Frameworks, score.EvaluateFramework(benchmarks.ByName(name), outcomes))
	}
	return r
}

// manifestReport is a manifest scan with findings of every severity, one
// cluster-scoped, one object without a known source, checks that passed
// and checks that were not evaluated, skipped objects and an input error.
func manifestReport(t testing.TB) *Report {
	privileged := check(t, "pss-privileged")
	admin := check(t, "rbac-cluster-admin-binding")
	latest := check(t, "image-latest-tag")
	probes := check(t, "workload-missing-probes")
	crb := inventory.ObjectRef{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding", Name: "ci-admin"}
	web, api, worker := deployment("shop", "web"), deployment("shop", "api"), deployment("batch", "worker")
	outcomes := []checks.Outcome{
		{Check: latest, Evaluated: true, Judged: 3, JudgedIn: map[string]int{"shop": 2, "batch": 1}, Findings: []checks.Finding{
			{Check: latest, Object: worker, Message: `container "worker" uses image "busybox:latest"`},
			{Check: latest, Object: web, Message: trickyMessage},
		}},
		{Check: privileged, Evaluated: true, Judged: 3, JudgedIn: map[string]int{"shop": 2, "batch": 1}, Findings: []checks.Finding{
			{Check: privileged, Object: web, Message: `spec.template.spec.containers[0].securityContext.privileged is true (container "app")`},
		}},
		{Check: admin, Evaluated: true, Judged: 1, JudgedIn: map[string]int{"": 1}, Findings: []checks.Finding{
			{Check: admin, Object: crb, Message: `binds cluster-admin to ServiceAccount ci/deployer`},
		}},
		{Check: probes, Evaluated: true, Judged: 3, JudgedIn: map[string]int{"shop": 2, "batch": 1}, Findings: []checks.Finding{
			{Check: probes, Object: api, Message: `container "api" has no readinessProbe`},
			{Check: probes, Object: api, Message: `container "api" has no livenessProbe`},
		}},
		{Check: check(t, "pss-host-namespaces"), Evaluated: true, Judged: 3, JudgedIn: map[string]int{"shop": 2, "batch": 1}},
		{Check: check(t, "controlplane-anonymous-auth"), Evaluated: false, NotEvaluatedReason: "no control-plane pods are visible (a managed control plane, or manifests)"},
		{Check: check(t, "netpol-namespace-without-policy"), Evaluated: false, MissingKinds: []inventory.Kind{inventory.KindNetworkPolicy}},
	}
	return &Report{
		Result: newResult(outcomes, "pss-baseline", "nsa-cisa"),
		Sources: map[inventory.ObjectRef]inventory.Source{
			web: {File: "deploy/web.yaml", Line: 1},
			api: {File: "deploy/api.yaml", Line: 12},
			crb: {File: filepath.Join("rbac", "admin.yaml"), Line: 30},
			// worker came from standard input, whose position is not known: no source.
		},
		Skipped:        map[string]int{"example.com/v1/Widget": 2, "cert-manager.io/v1/Certificate": 1},
		Errors:         []string{`broken.yaml:7: yaml: line 7: mapping values are not allowed in this context`},
		ToolVersion:    "v0.3.0",
		ScannedObjects: 5,
		Target:         "manifests",
	}
}

// cleanReport is a cluster scan that found nothing.
func cleanReport(t testing.TB) *Report {
	outcomes := []checks.Outcome{
		{Check: check(t, "pss-privileged"), Evaluated: true, Judged: 4, JudgedIn: map[string]int{"default": 4}},
		{Check: check(t, "rbac-cluster-admin-binding"), Evaluated: true, Judged: 2, JudgedIn: map[string]int{"": 2}},
	}
	return &Report{Result: newResult(outcomes), ToolVersion: "v0.3.0", ScannedObjects: 6, Target: "kind-dev"}
}

func write(t testing.TB, f Format, r *Report, opts Options) []byte {
	t.Helper()
	if opts.Now == nil {
		opts.Now = fixedNow
	}
	var buf bytes.Buffer
	if err := Write(&buf, f, r, opts); err != nil {
		t.Fatalf("Write(%s): %v", f, err)
	}
	return buf.Bytes()
}

func TestGolden(t *testing.T) {
	tcs := map[string]struct {
		format Format
		report func(testing.TB) *Report
		opts   Options
	}{
		"table.txt":              {format: FormatTable, report: manifestReport, opts: Options{SeverityThreshold: checks.SeverityHigh}},
		"table-color.txt":        {format: FormatTable, report: manifestReport, opts: Options{Color: true}},
		"table-clean.txt":        {format: FormatTable, report: cleanReport},
		"json.json":              {format: FormatJSON, report: manifestReport, opts: Options{SeverityThreshold: checks.SeverityHigh}},
		"json-clean.json":        {format: FormatJSON, report: cleanReport},
		"sarif.sarif":            {format: FormatSARIF, report: manifestReport},
		"junit.xml":              {format: FormatJUnit, report: manifestReport},
		"openreports.yaml":       {format: FormatOpenReports, report: manifestReport},
		"openreports-clean.yaml": {format: FormatOpenReports, report: cleanReport},
	}
	for name, tc := range tcs {
		t.Run(name, func(t *testing.T) {
			got := write(t, tc.format, tc.report(t), tc.opts)
			path := filepath.Join("testdata", "golden", name)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./internal/output -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("%s differs from the golden file (-want +got); run with -update if the change is intended:\n%s", name, diff)
			}
		})
	}
}

// TestDeterministic shuffles the outcomes and their findings: every format
// writes the same bytes.
func TestDeterministic(t *testing.T) {
	for _, f := range Formats {
		t.Run(string(f), func(t *testing.T) {
			want := write(t, f, manifestReport(t), Options{})
			r := manifestReport(t)
			slices.Reverse(r.Result.Outcomes)
			for i := range r.Result.Outcomes {
				slices.Reverse(r.Result.Outcomes[i].Findings)
			}
			if diff := cmp.Diff(string(want), string(write(t, f, r, Options{}))); diff != "" {
				t.Errorf("output depends on the order of outcomes (-want +got):\n%s", diff)
			}
		})
	}
}

// TestJSONSchemaTypes: the output holds exactly the documented fields.
func TestJSONSchemaTypes(t *testing.T) {
	for name, r := range map[string]*Report{"manifests": manifestReport(t), "clean cluster": cleanReport(t)} {
		t.Run(name, func(t *testing.T) {
			out := write(t, FormatJSON, r, Options{SeverityThreshold: checks.SeverityLow})
			dec := json.NewDecoder(bytes.NewReader(out))
			dec.DisallowUnknownFields()
			var got JSONReport
			if err := dec.Decode(&got); err != nil {
				t.Fatalf("json output does not match JSONReport: %v", err)
			}
			if got.SchemaVersion != SchemaVersion || got.Findings == nil || got.NotEvaluated == nil || got.Errors == nil || got.Skipped == nil || got.Frameworks == nil {
				t.Errorf("schemaVersion %q, or a list is null", got.SchemaVersion)
			}
			if got.Summary.FindingsAtOrAboveThreshold == nil || *got.Summary.FindingsAtOrAboveThreshold != r.Result.Summary.Findings {
				t.Errorf("findingsAtOrAboveThreshold %v, want every finding (%d)", got.Summary.FindingsAtOrAboveThreshold, r.Result.Summary.Findings)
			}
		})
	}
}

func TestParseFormat(t *testing.T) {
	for _, f := range Formats {
		got, err := ParseFormat(string(f))
		if err != nil || got != f {
			t.Errorf("ParseFormat(%q) = %q, %v", f, got, err)
		}
	}
	if got, err := ParseFormat(" SARIF "); err != nil || got != FormatSARIF {
		t.Errorf("ParseFormat(\" SARIF \") = %q, %v; want sarif", got, err)
	}
	_, err := ParseFormat("yaml")
	if err == nil {
		t.Fatal("ParseFormat(yaml) succeeded")
	}
	for _, f := range Formats {
		if !strings.Contains(err.Error(), string(f)) {
			t.Errorf("error %q does not name the valid format %s", err, f)
		}
	}
}

func TestWriteErrors(t *testing.T) {
	if err := Write(&bytes.Buffer{}, FormatJSON, &Report{}, Options{}); err == nil {
		t.Error("Write with no result succeeded")
	}
	if err := Write(&bytes.Buffer{}, Format("html"), cleanReport(t), Options{}); err == nil || !strings.Contains(err.Error(), "table") {
		t.Errorf("Write(html) = %v, want an error naming the valid formats", err)
	}
}

func TestTableColour(t *testing.T) {
	plain := string(write(t, FormatTable, manifestReport(t), Options{}))
	if strings.Contains(plain, "\x1b") {
		t.Errorf("table without colour has escape sequences:\n%q", plain)
	}
	colour := string(write(t, FormatTable, manifestReport(t), Options{Color: true}))
	for _, want := range []string{ansiBold + ansiRed + "CRITICAL (1)" + ansiReset, ansiRed + "HIGH (1)" + ansiReset, ansiYellow + "MEDIUM (2)", ansiCyan + "LOW (2)"} {
		if !strings.Contains(colour, want) {
			t.Errorf("coloured table lacks %q", want)
		}
	}
	stripped := strings.NewReplacer(ansiReset, "", ansiBold, "", ansiDim, "", ansiRed, "", ansiGreen, "", ansiYellow, "", ansiCyan, "").Replace(colour)
	if diff := cmp.Diff(plain, stripped); diff != "" {
		t.Errorf("colour changes the text (-plain +coloured without escapes):\n%s", diff)
	}
}

func TestTableOrderAndContent(t *testing.T) {
	out := string(write(t, FormatTable, manifestReport(t), Options{}))
	order := []string{"CRITICAL", "HIGH", "MEDIUM", "LOW", "NOT EVALUATED", "SKIPPED OBJECTS", "INPUT ERRORS", "SUMMARY", "FRAMEWORKS"}
	last := -1
	for _, s := range order {
		i := strings.Index(out, s)
		if i <= last {
			t.Fatalf("%q missing or out of order in:\n%s", s, out)
		}
		last = i
	}
	for _, want := range []string{
		"pss-privileged  Privileged containers  Deployment shop/web  deploy/web.yaml:1",
		"ClusterRoleBinding ci-admin  rbac/admin.yaml:30",
		"\n      " + trickyMessage + "\n",
		"could not read NetworkPolicy.networking.k8s.io",
		"Deployment batch/worker\n", // no source: nothing after the object
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

// TestMessagesKeptExactly reads every format back and checks each message is
// the one the check wrote, byte for byte.
func TestMessagesKeptExactly(t *testing.T) {
	messages := []string{
		trickyMessage,
		`]]> </failure> <!-- "end" -->`,
		"two\nlines\tand a tab",
		`{"json": true, "n": 1}`,
		"key: value # not a comment\n- not a list",
	}
	latest := check(t, "image-latest-tag")
	var fs []checks.Finding
	for i, m := range messages {
		fs = append(fs, checks.Finding{Check: latest, Object: deployment("ns", fmt.Sprintf("d%d", i)), Message: m})
	}
	r := &Report{Result: newResult([]checks.Outcome{{Check: latest, Evaluated: true, Judged: len(fs), JudgedIn: map[string]int{"ns": len(fs)}, Findings: fs}})}
	byName := func(name string) string { return messages[name[1]-'0'] }

	t.Run("json", func(t *testing.T) {
		var got JSONReport
		if err := json.Unmarshal(write(t, FormatJSON, r, Options{}), &got); err != nil {
			t.Fatal(err)
		}
		for _, f := range got.Findings {
			if want := byName(f.Object.Name); f.Message != want {
				t.Errorf("message %q, want %q", f.Message, want)
			}
		}
		if out := write(t, FormatJSON, r, Options{}); !bytes.Contains(out, []byte(`<sidecar> & 'init'`)) {
			t.Error("json escapes <, > or &: they are valid JSON as they are")
		}
	})
	t.Run("sarif", func(t *testing.T) {
		var got struct {
			Runs []struct {
				Results []struct {
					Message   struct{ Text string }
					Locations []struct {
						LogicalLocations []struct{ Name string }
					}
				}
			}
		}
		if err := json.Unmarshal(write(t, FormatSARIF, r, Options{}), &got); err != nil {
			t.Fatal(err)
		}
		for _, res := range got.Runs[0].Results {
			if want := byName(res.Locations[0].LogicalLocations[0].Name); res.Message.Text != want {
				t.Errorf("message %q, want %q", res.Message.Text, want)
			}
		}
	})
	t.Run("junit", func(t *testing.T) {
		var got junitSuites
		if err := xml.Unmarshal(write(t, FormatJUnit, r, Options{}), &got); err != nil {
			t.Fatal(err)
		}
		for _, tc := range got.Suites[0].Cases {
			// The attribute normalises newlines and tabs as XML requires (they
			// are written as &#xA; and &#x9;, so they survive); the text keeps them too.
			want := byName(strings.TrimPrefix(tc.Name, "Deployment ns/"))
			if tc.Failure.Message != want {
				t.Errorf("failure message %q, want %q", tc.Failure.Message, want)
			}
			if !strings.Contains(tc.Failure.Text, want) {
				t.Errorf("failure text %q lacks %q", tc.Failure.Text, want)
			}
		}
	})
	t.Run("openreports", func(t *testing.T) {
		docs := splitYAML(t, write(t, FormatOpenReports, r, Options{}))
		var rep openreportsv1alpha1.Report
		if err := yaml.UnmarshalStrict(docs[1], &rep); err != nil {
			t.Fatal(err)
		}
		for _, res := range rep.Results {
			if want := byName(res.Subjects[0].Name); res.Description != want {
				t.Errorf("message %q, want %q", res.Description, want)
			}
		}
	})
	t.Run("table", func(t *testing.T) {
		out := string(write(t, FormatTable, r, Options{}))
		for _, m := range messages {
			if want := indent(m, "      "); !strings.Contains(out, want) {
				t.Errorf("table lacks %q:\n%s", want, out)
			}
		}
	})
}

// TestTableNeutralisesControlCharacters: a manifest cannot drive the
// terminal (clear the screen, set the title, reorder text) through a message
// or a name; the characters are shown escaped, and nothing else changes.
func TestTableNeutralisesControlCharacters(t *testing.T) {
	latest := check(t, "image-latest-tag")
	obj := deployment("ns", "evil\x1b]0;pwned\x07")
	r := &Report{Result: newResult([]checks.Outcome{{Check: latest, Evaluated: true, Judged: 1, Findings: []checks.Finding{
		{Check: latest, Object: obj, Message: "image \x1b[2J\x1b[31mred\u202egnp.exe\r & <ok> 日本"},
	}}})}
	out := string(write(t, FormatTable, r, Options{}))
	for _, bad := range []string{"\x1b", "\x07", "\u202e", "\r"} {
		if strings.Contains(out, bad) {
			t.Errorf("table contains %q:\n%q", bad, out)
		}
	}
	for _, want := range []string{`image \x1b[2J\x1b[31mred\u202egnp.exe\r & <ok> 日本`, `Deployment ns/evil\x1b]0;pwned\a`} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	// The machine formats keep the message exactly.
	var got JSONReport
	if err := json.Unmarshal(write(t, FormatJSON, r, Options{}), &got); err != nil {
		t.Fatal(err)
	}
	if got.Findings[0].Message != r.Result.Outcomes[0].Findings[0].Message {
		t.Errorf("json message %q changed", got.Findings[0].Message)
	}
}

func TestSARIFSchema(t *testing.T) {
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	schema, err := c.Compile(filepath.Join("testdata", "sarif-schema-2.1.0.json"))
	if err != nil {
		t.Fatalf("compile the SARIF 2.1.0 schema: %v", err)
	}
	odd := manifestReport(t)
	odd.Sources = map[inventory.ObjectRef]inventory.Source{deployment("shop", "web"): {File: "my manifests/web #1 [prod].yaml", Line: 3}}
	for name, r := range map[string]*Report{"manifests": manifestReport(t), "clean cluster": cleanReport(t), "file names to encode": odd} {
		t.Run(name, func(t *testing.T) {
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(write(t, FormatSARIF, r, Options{})))
			if err != nil {
				t.Fatal(err)
			}
			if err := schema.Validate(doc); err != nil {
				t.Fatalf("SARIF output does not validate against the 2.1.0 schema: %v", err)
			}
		})
	}
	// The schema is strict enough to catch what a hand-made log gets wrong.
	out := write(t, FormatSARIF, manifestReport(t), Options{})
	for _, bad := range [][2]string{
		{`"level": "error"`, `"level": "critical"`},
		{`"startLine": 1`, `"startLine": 0`},
		{`"version": "2.1.0"`, `"version": "2.0.0"`},
	} {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(bytes.Replace(out, []byte(bad[0]), []byte(bad[1]), 1)))
		if err != nil {
			t.Fatal(err)
		}
		if schema.Validate(doc) == nil {
			t.Errorf("the schema accepts a log with %s", bad[1])
		}
	}
}

// TestSARIFForCodeScanning checks what code-scanning UIs rely on beyond the
// schema: every result's rule is defined (and its index right), levels
// follow severity, locations point at file and line, and rules carry
// security-severity, help and benchmark tags.
func TestSARIFForCodeScanning(t *testing.T) {
	type rule struct {
		ID               string
		Name             string
		ShortDescription struct{ Text string }
		FullDescription  struct{ Text string }
		Help             struct{ Text, Markdown string }
		Properties       map[string]any
	}
	var log struct {
		Schema  string `json:"$schema"`
		Version string
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name, Version, InformationURI string
					Rules                         []rule
				}
			}
			Results []struct {
				RuleID    string
				RuleIndex int
				Level     string
				Locations []struct {
					PhysicalLocation *struct {
						ArtifactLocation struct{ URI string }
						Region           *struct{ StartLine int }
					}
					LogicalLocations []struct{ Name, FullyQualifiedName, Kind string }
				}
			}
		}
	}
	r := manifestReport(t)
	if err := json.Unmarshal(write(t, FormatSARIF, r, Options{}), &log); err != nil {
		t.Fatal(err)
	}
	if log.Version != "2.1.0" || !strings.Contains(log.Schema, "sarif-schema-2.1.0.json") || len(log.Runs) != 1 {
		t.Fatalf("version %q, $schema %q, %d runs; want 2.1.0, the 2.1.0 schema, one run", log.Version, log.Schema, len(log.Runs))
	}
	run := log.Runs[0]
	d := run.Tool.Driver
	if d.Name != "kubeposture" || d.Version != "v0.3.0" || d.InformationURI != InformationURI {
		t.Errorf("driver %q %q %q", d.Name, d.Version, d.InformationURI)
	}
	if len(d.Rules) != len(r.Result.Outcomes) {
		t.Errorf("%d rules, want one per check (%d)", len(d.Rules), len(r.Result.Outcomes))
	}
	for _, ru := range d.Rules {
		c := check(t, ru.ID)
		if ru.ShortDescription.Text != c.Title || ru.FullDescription.Text != c.Description || !strings.Contains(ru.Help.Text, c.Remediation) || !strings.Contains(ru.Help.Markdown, c.Remediation) {
			t.Errorf("rule %s: descriptions or help do not come from the check", ru.ID)
		}
		if got, want := ru.Properties["security-severity"], securitySeverity(c.Severity); got != want {
			t.Errorf("rule %s: security-severity %v, want %s", ru.ID, got, want)
		}
		tags, _ := ru.Properties["tags"].([]any)
		for _, ref := range benchmarks.References(c.ID) {
			if !slices.Contains(tags, any(ref)) {
				t.Errorf("rule %s: tags %v lack benchmark %q", ru.ID, tags, ref)
			}
		}
	}
	if len(run.Results) != r.Result.Summary.Findings {
		t.Errorf("%d results, want %d", len(run.Results), r.Result.Summary.Findings)
	}
	wantLevel := map[checks.Severity]string{checks.SeverityCritical: "error", checks.SeverityHigh: "error", checks.SeverityMedium: "warning", checks.SeverityLow: "note"}
	located := 0
	for _, res := range run.Results {
		if res.RuleIndex < 0 || res.RuleIndex >= len(d.Rules) || d.Rules[res.RuleIndex].ID != res.RuleID {
			t.Errorf("result %s: ruleIndex %d does not point at its rule", res.RuleID, res.RuleIndex)
			continue
		}
		if want := wantLevel[check(t, res.RuleID).Severity]; res.Level != want {
			t.Errorf("result %s: level %q, want %q", res.RuleID, res.Level, want)
		}
		if len(res.Locations) != 1 || len(res.Locations[0].LogicalLocations) != 1 {
			t.Errorf("result %s: want one location with one logical location", res.RuleID)
			continue
		}
		if p := res.Locations[0].PhysicalLocation; p != nil {
			located++
			if p.ArtifactLocation.URI == "" || strings.Contains(p.ArtifactLocation.URI, `\`) || p.Region == nil || p.Region.StartLine < 1 {
				t.Errorf("result %s: physical location %+v", res.RuleID, p)
			}
		}
	}
	if located != 5 { // every finding but the one on the object read from standard input
		t.Errorf("%d results located in a file, want 5", located)
	}
}

func TestJUnit(t *testing.T) {
	r := manifestReport(t)
	var got junitSuites
	if err := xml.Unmarshal(write(t, FormatJUnit, r, Options{}), &got); err != nil {
		t.Fatalf("junit output is not valid XML: %v", err)
	}
	if got.Tests != 10 || got.Failures != 6 || got.Skipped != 2 || got.Errors != 1 {
		t.Errorf("tests %d, failures %d, skipped %d, errors %d; want 10, 6, 2, 1", got.Tests, got.Failures, got.Skipped, got.Errors)
	}
	suites := map[string]junitSuite{}
	for _, s := range got.Suites {
		suites[s.Name] = s
	}
	if s := suites["pss-host-namespaces"]; len(s.Cases) != 1 || s.Cases[0].Failure != nil || s.Cases[0].Skipped != nil {
		t.Errorf("a check without findings is not one passing testcase: %+v", s)
	}
	if s := suites["controlplane-anonymous-auth"]; len(s.Cases) != 1 || s.Cases[0].Skipped == nil || !strings.Contains(s.Cases[0].Skipped.Message, "no control-plane pods") {
		t.Errorf("a check not evaluated is not a skipped testcase with its reason: %+v", s)
	}
	var names []string
	for _, c := range suites["workload-missing-probes"].Cases {
		names = append(names, c.Name)
	}
	if want := []string{"Deployment shop/api", "Deployment shop/api (2)"}; !slices.Equal(names, want) {
		t.Errorf("testcases %q, want distinct names %q", names, want)
	}
	if c := suites["pss-privileged"].Cases[0]; c.File != "deploy/web.yaml" || c.Line != 1 {
		t.Errorf("testcase at %s:%d, want deploy/web.yaml:1", c.File, c.Line)
	}
}

func splitYAML(t *testing.T, data []byte) [][]byte {
	t.Helper()
	var docs [][]byte
	for _, d := range bytes.Split(data, []byte("---\n")) {
		if len(bytes.TrimSpace(d)) > 0 {
			docs = append(docs, d)
		}
	}
	return docs
}

func TestOpenReports(t *testing.T) {
	docs := splitYAML(t, write(t, FormatOpenReports, manifestReport(t), Options{}))
	if len(docs) != 3 {
		t.Fatalf("%d documents, want a ClusterReport and Reports for batch and shop", len(docs))
	}
	var cluster openreportsv1alpha1.ClusterReport
	if err := yaml.UnmarshalStrict(docs[0], &cluster); err != nil {
		t.Fatal(err)
	}
	if cluster.Kind != "ClusterReport" || cluster.APIVersion != "openreports.io/v1alpha1" || cluster.Namespace != "" {
		t.Errorf("first document is %s %s in %q", cluster.APIVersion, cluster.Kind, cluster.Namespace)
	}
	if want := (openreportsv1alpha1.ReportSummary{Fail: 1, Skip: 2}); cluster.Summary != want {
		t.Errorf("cluster summary %+v, want %+v", cluster.Summary, want)
	}
	var namespaces []string
	for _, d := range docs[1:] {
		var rep openreportsv1alpha1.Report
		if err := yaml.UnmarshalStrict(d, &rep); err != nil {
			t.Fatal(err)
		}
		namespaces = append(namespaces, rep.Namespace)
		for _, res := range rep.Results {
			if res.Policy == "" || res.Result != "fail" || res.Source != "kubeposture" || len(res.Subjects) != 1 || res.Subjects[0].Namespace != rep.Namespace {
				t.Errorf("result %+v", res)
			}
			if want := fixedNow().Unix(); res.Timestamp.Seconds != want || res.Timestamp.Nanos != 535000000 {
				t.Errorf("timestamp %+v, want %d s 535000000 ns", res.Timestamp, want)
			}
		}
	}
	if want := []string{"batch", "shop"}; !slices.Equal(namespaces, want) {
		t.Errorf("reports for %v, want %v", namespaces, want)
	}
}

// TestOpenReportsBounded: a namespace with more findings than a report holds
// keeps the most severe, counts them all, and says how many it left out.
func TestOpenReportsBounded(t *testing.T) {
	privileged, probes := check(t, "pss-privileged"), check(t, "workload-missing-probes")
	const n = 550
	var low, critical []checks.Finding
	for i := range n {
		low = append(low, checks.Finding{Check: probes, Object: deployment("big", fmt.Sprintf("d%03d", i)), Message: "no probes"})
	}
	for i := range 100 {
		critical = append(critical, checks.Finding{Check: privileged, Object: deployment("big", fmt.Sprintf("d%03d", i)), Message: "privileged"})
	}
	r := &Report{Result: newResult([]checks.Outcome{
		{Check: probes, Evaluated: true, Judged: n, JudgedIn: map[string]int{"big": n}, Findings: low},
		{Check: privileged, Evaluated: true, Judged: n, JudgedIn: map[string]int{"big": n}, Findings: critical},
	})}
	_, reps := BuildOpenReports(r, Options{Now: fixedNow})
	if len(reps) != 1 {
		t.Fatalf("%d reports, want 1", len(reps))
	}
	rep := reps[0]
	if len(rep.Results) != MaxOpenReportsResults || rep.Summary.Fail != n+100 || rep.Annotations[OmittedAnnotation] != "150" {
		t.Errorf("%d results, fail %d, omitted %q; want %d, %d, 150", len(rep.Results), rep.Summary.Fail, rep.Annotations[OmittedAnnotation], MaxOpenReportsResults, n+100)
	}
	crit := 0
	for _, res := range rep.Results {
		if res.Severity == "critical" {
			crit++
		}
	}
	if crit != 100 {
		t.Errorf("%d critical results kept, want all 100", crit)
	}
}

func TestFindingsAtOrAbove(t *testing.T) {
	res := manifestReport(t).Result
	for sev, want := range map[checks.Severity]int{"": 0, checks.SeverityCritical: 1, checks.SeverityHigh: 2, checks.SeverityMedium: 4, checks.SeverityLow: 6} {
		if got := FindingsAtOrAbove(res, sev); got != want {
			t.Errorf("FindingsAtOrAbove(%q) = %d, want %d", sev, got, want)
		}
	}
}
