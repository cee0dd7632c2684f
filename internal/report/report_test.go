package report

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	posturev1alpha1 "github.com/kubeposture/kubeposture/api/v1alpha1"
	"github.com/kubeposture/kubeposture/internal/benchmarks"
	"github.com/kubeposture/kubeposture/internal/checks"
	"github.com/kubeposture/kubeposture/internal/inventory"
)

// Synthetic checks: two highs so that the check ID orders findings of one severity.
var (
	critCheck  = testCheck("pss-privileged", checks.SeverityCritical)
	highCheckA = testCheck("pss-host-namespaces", checks.SeverityHigh)
	highCheckB = testCheck("pss-host-path-volumes", checks.SeverityHigh)
	medCheck   = testCheck("netpol-namespace-without-policy", checks.SeverityMedium)
	lowCheck   = testCheck("pss-seccomp-profile-restricted", checks.SeverityLow)
)

func testCheck(id string, sev checks.Severity) *checks.Check {
	return &checks.Check{
		ID:          id,
		Title:       "Title of " + id,
		Severity:    sev,
		Category:    checks.CategoryWorkload,
		Description: "Description of " + id,
		Remediation: "Remediation of " + id,
	}
}

func testScan() *posturev1alpha1.ClusterScan {
	return &posturev1alpha1.ClusterScan{ObjectMeta: metav1.ObjectMeta{Name: "nightly"}}
}

func objRef(ns, kind, name string) inventory.ObjectRef {
	apiVersion := "apps/v1"
	if kind == "Namespace" {
		apiVersion = "v1"
	}
	return inventory.ObjectRef{APIVersion: apiVersion, Kind: kind, Namespace: ns, Name: name, UID: types.UID("uid-" + ns + "-" + name)}
}

func finding(c *checks.Check, obj inventory.ObjectRef, msg string) checks.Finding {
	return checks.Finding{Check: c, Object: obj, Message: msg}
}

// outcome is an evaluated outcome of c; it judged judgedIn objects per namespace.
func outcome(c *checks.Check, judgedIn map[string]int, findings ...checks.Finding) checks.Outcome {
	o := checks.Outcome{Check: c, Evaluated: true, JudgedIn: judgedIn, Findings: findings}
	for _, n := range judgedIn {
		o.Judged += n
	}
	return o
}

// keys renders findings as "checkID ns/kind/name: message", in order.
func keys(fs []posturev1alpha1.ObjectFinding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, fmt.Sprintf("%s %s/%s/%s: %s", f.CheckID, f.Object.Namespace, f.Object.Kind, f.Object.Name, f.Message))
	}
	return out
}

func namespacedReport(t *testing.T, set Set, ns string) *posturev1alpha1.ScanReport {
	t.Helper()
	for _, r := range set.Namespaced {
		if r.Namespace == ns {
			return r
		}
	}
	t.Fatalf("no ScanReport for namespace %q", ns)
	return nil
}

func TestBuildSortsFindings(t *testing.T) {
	outcomes := []checks.Outcome{
		outcome(lowCheck, map[string]int{"app": 3}, finding(lowCheck, objRef("app", "Deployment", "a"), "low")),
		outcome(medCheck, map[string]int{"app": 3}, finding(medCheck, objRef("app", "Deployment", "b"), "medium")),
		outcome(highCheckB, map[string]int{"app": 3}, finding(highCheckB, objRef("app", "Deployment", "b"), "path")),
		outcome(highCheckA, map[string]int{"app": 3},
			finding(highCheckA, objRef("app", "Deployment", "z"), "ns"),
			finding(highCheckA, objRef("app", "Deployment", "a"), "ns 2"),
			finding(highCheckA, objRef("app", "DaemonSet", "z"), "ns"),
			finding(highCheckA, objRef("app", "Deployment", "a"), "ns 1"),
		),
		outcome(critCheck, map[string]int{"app": 3}, finding(critCheck, objRef("app", "Deployment", "c"), "priv")),
	}
	// Objects in the order of their most severe finding, each object's
	// findings most severe first.
	wantKeys := []string{
		"pss-privileged app/Deployment/c: priv",
		"pss-host-namespaces app/DaemonSet/z: ns",
		"pss-host-namespaces app/Deployment/a: ns 1",
		"pss-host-namespaces app/Deployment/a: ns 2",
		"pss-seccomp-profile-restricted app/Deployment/a: low",
		"pss-host-namespaces app/Deployment/z: ns",
		"pss-host-path-volumes app/Deployment/b: path",
		"netpol-namespace-without-policy app/Deployment/b: medium",
	}
	set := Build(testScan(), outcomes, Options{})
	if len(set.Namespaced) != 1 {
		t.Fatalf("got %d ScanReports, want 1", len(set.Namespaced))
	}
	if diff := cmp.Diff(wantKeys, keys(set.Namespaced[0].AllFindings())); diff != "" {
		t.Errorf("findings order mismatch (-want +got):\n%s", diff)
	}
}

func TestBuildSplitsByNamespace(t *testing.T) {
	// critical judged 2 in a and 2 in b, fails b/web.
	// medium judged 3 namespaces (cluster-scoped), fails namespaces a and b.
	// low judged 2 in a and 2 in c, fails a/api. Namespace c has no finding.
	outcomes := []checks.Outcome{
		outcome(critCheck, map[string]int{"a": 2, "b": 2}, finding(critCheck, objRef("b", "Deployment", "web"), "privileged")),
		outcome(medCheck, map[string]int{"": 3},
			finding(medCheck, objRef("", "Namespace", "b"), "no policy"),
			finding(medCheck, objRef("", "Namespace", "a"), "no policy"),
		),
		outcome(lowCheck, map[string]int{"a": 2, "c": 2}, finding(lowCheck, objRef("a", "Deployment", "api"), "no seccomp")),
	}
	opts := Options{Resources: map[string]int{"a": 5, "b": 3, "c": 2, "": 3}, TotalResources: 13, Namespaces: 3}
	described := func(c *checks.Check, failed int32) posturev1alpha1.ReportCheck {
		return posturev1alpha1.ReportCheck{
			ID: c.ID, Title: c.Title, Severity: posturev1alpha1.Severity(c.Severity), Category: string(c.Category),
			Benchmarks: benchmarks.References(c.ID), Remediation: c.Remediation, Failed: failed,
		}
	}
	on := func(obj inventory.ObjectRef, fs ...posturev1alpha1.Finding) posturev1alpha1.ObjectFindings {
		return posturev1alpha1.ObjectFindings{
			Object: posturev1alpha1.ObjectReference{
				APIVersion: obj.APIVersion, Kind: obj.Kind, Namespace: obj.Namespace, Name: obj.Name, UID: string(obj.UID),
			},
			Findings: fs,
		}
	}
	apiFinding := func(c *checks.Check, msg string) posturev1alpha1.Finding {
		return posturev1alpha1.Finding{CheckID: c.ID, Severity: posturev1alpha1.Severity(c.Severity), Message: msg}
	}
	meta := func(ns string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: "nightly", Namespace: ns, Labels: map[string]string{posturev1alpha1.LabelScan: "nightly"}}
	}
	wantSet := Set{
		// Whole scan: critical 3/4 x 10 + medium 1/3 x 2 + low 3/4 x 1 = 8.9167 of 13 -> 69.
		Cluster: &posturev1alpha1.ClusterScanReport{
			TypeMeta:   metav1.TypeMeta{APIVersion: "posture.kubeposture.io/v1alpha1", Kind: "ClusterScanReport"},
			ObjectMeta: meta(""),
			Scan:       "nightly",
			Namespaces: 3,
			Summary: posturev1alpha1.ReportSummary{
				ScanSummary: posturev1alpha1.ScanSummary{Score: 69, Grade: "D", Critical: 1, Medium: 2, Low: 1, ResourcesScanned: 13, ChecksEvaluated: 3},
				Findings:    4,
			},
			Checks: []posturev1alpha1.ReportCheck{described(medCheck, 2)},
			Objects: []posturev1alpha1.ObjectFindings{
				on(objRef("", "Namespace", "a"), apiFinding(medCheck, "no policy")),
				on(objRef("", "Namespace", "b"), apiFinding(medCheck, "no policy")),
			},
		},
		Namespaced: []*posturev1alpha1.ScanReport{
			// a: critical 2/2 x 10 + low 1/2 x 1 = 10.5 of 11 -> 95.
			{
				TypeMeta:   metav1.TypeMeta{APIVersion: "posture.kubeposture.io/v1alpha1", Kind: "ScanReport"},
				ObjectMeta: meta("a"),
				Scan:       "nightly",
				Summary: posturev1alpha1.ReportSummary{
					ScanSummary: posturev1alpha1.ScanSummary{Score: 95, Grade: "A", Low: 1, ResourcesScanned: 5, ChecksEvaluated: 3},
					Findings:    1,
				},
				Checks:  []posturev1alpha1.ReportCheck{described(lowCheck, 1)},
				Objects: []posturev1alpha1.ObjectFindings{on(objRef("a", "Deployment", "api"), apiFinding(lowCheck, "no seccomp"))},
			},
			// b: critical 1/2 -> 50.
			{
				TypeMeta:   metav1.TypeMeta{APIVersion: "posture.kubeposture.io/v1alpha1", Kind: "ScanReport"},
				ObjectMeta: meta("b"),
				Scan:       "nightly",
				Summary: posturev1alpha1.ReportSummary{
					ScanSummary: posturev1alpha1.ScanSummary{Score: 50, Grade: "F", Critical: 1, ResourcesScanned: 3, ChecksEvaluated: 3},
					Findings:    1,
				},
				Checks:  []posturev1alpha1.ReportCheck{described(critCheck, 1)},
				Objects: []posturev1alpha1.ObjectFindings{on(objRef("b", "Deployment", "web"), apiFinding(critCheck, "privileged"))},
			},
		},
	}
	set := Build(testScan(), outcomes, opts)
	if diff := cmp.Diff(wantSet, set, cmpopts.IgnoreFields(metav1.ObjectMeta{}, "Annotations")); diff != "" {
		t.Errorf("Build() mismatch (-want +got):\n%s", diff)
	}
	hash := regexp.MustCompile(`^[0-9a-f]{32}$`)
	metas := []metav1.ObjectMeta{set.Cluster.ObjectMeta}
	for _, r := range set.Namespaced {
		metas = append(metas, r.ObjectMeta)
	}
	for _, m := range metas {
		if got := m.Annotations[ContentHashAnnotation]; !hash.MatchString(got) {
			t.Errorf("report %s/%s: annotation %s = %q, want 32 hex digits", m.Namespace, m.Name, ContentHashAnnotation, got)
		}
	}
}

func TestBuildNoFindings(t *testing.T) {
	outcomes := []checks.Outcome{outcome(critCheck, map[string]int{"a": 2, "": 1})}
	set := Build(testScan(), outcomes, Options{TotalResources: 3, Namespaces: 1})
	if len(set.Namespaced) != 0 {
		t.Errorf("got %d ScanReports, want none", len(set.Namespaced))
	}
	if set.Cluster == nil {
		t.Fatalf("got no ClusterScanReport, want one")
	}
	wantSummary := posturev1alpha1.ReportSummary{
		ScanSummary: posturev1alpha1.ScanSummary{Score: 100, Grade: "A", ResourcesScanned: 3, ChecksEvaluated: 1},
	}
	if diff := cmp.Diff(wantSummary, set.Cluster.Summary); diff != "" {
		t.Errorf("cluster summary mismatch (-want +got):\n%s", diff)
	}
	if set.Cluster.Objects != nil || set.Cluster.Checks != nil {
		t.Errorf("cluster objects = %v, checks = %v, want nil", set.Cluster.Objects, set.Cluster.Checks)
	}
}

func TestBuildMaxFindings(t *testing.T) {
	mixed := []checks.Outcome{
		outcome(lowCheck, map[string]int{"app": 5}, finding(lowCheck, objRef("app", "Deployment", "l1"), "m"), finding(lowCheck, objRef("app", "Deployment", "l2"), "m")),
		outcome(medCheck, map[string]int{"app": 5}, finding(medCheck, objRef("app", "Deployment", "m1"), "m")),
		outcome(highCheckA, map[string]int{"app": 5}, finding(highCheckA, objRef("app", "Deployment", "h1"), "m")),
		outcome(critCheck, map[string]int{"app": 5}, finding(critCheck, objRef("app", "Deployment", "c1"), "m")),
	}
	var many []checks.Finding
	for i := range 600 {
		many = append(many, finding(lowCheck, objRef("app", "Deployment", fmt.Sprintf("d%03d", i)), "m"))
	}
	testCases := map[string]struct {
		outcomes    []checks.Outcome
		maxFindings int
		wantKept    int
		// wantFirst are the keys of the first kept findings.
		wantFirst   []string
		wantSummary posturev1alpha1.ReportSummary
	}{
		// score: crit 4/5 x 10 + high 4/5 x 5 + med 4/5 x 2 + low 3/5 x 1 = 14.2 of 18 -> 79.
		"cap keeps the most severe and counts all": {
			outcomes:    mixed,
			maxFindings: 2,
			wantKept:    2,
			wantFirst:   []string{"pss-privileged app/Deployment/c1: m", "pss-host-namespaces app/Deployment/h1: m"},
			wantSummary: posturev1alpha1.ReportSummary{
				ScanSummary: posturev1alpha1.ScanSummary{Score: 79, Grade: "C", Critical: 1, High: 1, Medium: 1, Low: 2, ChecksEvaluated: 4},
				Findings:    5,
				Omitted:     3,
			},
		},
		"cap equal to the findings omits none": {
			outcomes:    mixed,
			maxFindings: 5,
			wantKept:    5,
			wantFirst: []string{
				"pss-privileged app/Deployment/c1: m", "pss-host-namespaces app/Deployment/h1: m",
				"netpol-namespace-without-policy app/Deployment/m1: m",
				"pss-seccomp-profile-restricted app/Deployment/l1: m", "pss-seccomp-profile-restricted app/Deployment/l2: m",
			},
			wantSummary: posturev1alpha1.ReportSummary{
				ScanSummary: posturev1alpha1.ScanSummary{Score: 79, Grade: "C", Critical: 1, High: 1, Medium: 1, Low: 2, ChecksEvaluated: 4},
				Findings:    5,
			},
		},
		// 600 of 1000 failed: score 40.
		"unset cap is DefaultMaxFindings": {
			outcomes:    []checks.Outcome{outcome(lowCheck, map[string]int{"app": 1000}, many...)},
			maxFindings: 0,
			wantKept:    DefaultMaxFindings,
			wantFirst:   []string{"pss-seccomp-profile-restricted app/Deployment/d000: m", "pss-seccomp-profile-restricted app/Deployment/d001: m"},
			wantSummary: posturev1alpha1.ReportSummary{
				ScanSummary: posturev1alpha1.ScanSummary{Score: 40, Grade: "F", Low: 600, ChecksEvaluated: 1},
				Findings:    600,
				Omitted:     100,
			},
		},
		"negative cap is DefaultMaxFindings": {
			outcomes:    []checks.Outcome{outcome(lowCheck, map[string]int{"app": 1000}, many...)},
			maxFindings: -1,
			wantKept:    DefaultMaxFindings,
			wantFirst:   []string{"pss-seccomp-profile-restricted app/Deployment/d000: m"},
			wantSummary: posturev1alpha1.ReportSummary{
				ScanSummary: posturev1alpha1.ScanSummary{Score: 40, Grade: "F", Low: 600, ChecksEvaluated: 1},
				Findings:    600,
				Omitted:     100,
			},
		},
	}
	for name, tc := range testCases {
		t.Run(name, func(t *testing.T) {
			set := Build(testScan(), tc.outcomes, Options{MaxFindings: tc.maxFindings})
			r := namespacedReport(t, set, "app")
			if got := len(r.AllFindings()); got != tc.wantKept {
				t.Errorf("kept %d findings, want %d", got, tc.wantKept)
			}
			if diff := cmp.Diff(tc.wantFirst, keys(r.AllFindings())[:min(len(tc.wantFirst), len(r.AllFindings()))]); diff != "" {
				t.Errorf("first findings mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantSummary, r.Summary); diff != "" {
				t.Errorf("summary mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestBuildMaxFindingsCluster checks the cap on the cluster report: it keeps
// the most severe cluster-scoped findings, Omitted counts the cluster-scoped
// ones left out, and Findings counts the whole scan's.
func TestBuildMaxFindingsCluster(t *testing.T) {
	outcomes := []checks.Outcome{
		outcome(medCheck, map[string]int{"": 4},
			finding(medCheck, objRef("", "Namespace", "n1"), "m"),
			finding(medCheck, objRef("", "Namespace", "n2"), "m"),
		),
		outcome(critCheck, map[string]int{"": 4, "app": 4},
			finding(critCheck, objRef("", "ClusterRoleBinding", "crb"), "m"),
			finding(critCheck, objRef("app", "Deployment", "d1"), "m"),
			finding(critCheck, objRef("app", "Deployment", "d2"), "m"),
			finding(critCheck, objRef("app", "Deployment", "d3"), "m"),
		),
	}
	set := Build(testScan(), outcomes, Options{MaxFindings: 2})
	wantClusterKeys := []string{"pss-privileged /ClusterRoleBinding/crb: m", "netpol-namespace-without-policy /Namespace/n1: m"}
	if diff := cmp.Diff(wantClusterKeys, keys(set.Cluster.AllFindings())); diff != "" {
		t.Errorf("cluster findings mismatch (-want +got):\n%s", diff)
	}
	if got, want := set.Cluster.Summary.Findings, int32(6); got != want {
		t.Errorf("cluster Summary.Findings = %d, want %d", got, want)
	}
	if got, want := set.Cluster.Summary.Omitted, int32(1); got != want {
		t.Errorf("cluster Summary.Omitted = %d, want %d", got, want)
	}
	r := namespacedReport(t, set, "app")
	if got, want := keys(r.AllFindings()), []string{"pss-privileged app/Deployment/d1: m", "pss-privileged app/Deployment/d2: m"}; !slices.Equal(got, want) {
		t.Errorf("app findings = %q, want %q", got, want)
	}
	if r.Summary.Findings != 3 || r.Summary.Omitted != 1 || r.Summary.Critical != 3 {
		t.Errorf("app summary Findings/Omitted/Critical = %d/%d/%d, want 3/1/3", r.Summary.Findings, r.Summary.Omitted, r.Summary.Critical)
	}
}

func TestBuildByteBound(t *testing.T) {
	const (
		n      = 20000
		limit  = 1 << 20
		msgLen = 2000
	)
	testCases := map[string]struct {
		ns          string
		message     string
		maxFindings int
	}{
		"namespaced, cap 2000":            {ns: "app", message: strings.Repeat("x", msgLen), maxFindings: 2000},
		"namespaced, default cap":         {ns: "app", message: strings.Repeat("x", msgLen), maxFindings: 0},
		"cluster-scoped, cap 2000":        {ns: "", message: strings.Repeat("x", msgLen), maxFindings: 2000},
		"namespaced, multi-byte messages": {ns: "app", message: strings.Repeat("é", msgLen/2), maxFindings: 2000},
		// Evidence quotes values (container "web" ...); encoding/json writes each `"` as `\"`.
		"namespaced, messages JSON escapes": {
			ns: "app", message: strings.Repeat(`"`, msgLen), maxFindings: 2000,
		},
		// encoding/json writes <, > and & as \u003c, \u003e, \u0026: six bytes each.
		"namespaced, messages HTML-escaped by encoding/json": {
			ns: "app", message: strings.Repeat("<", msgLen), maxFindings: 2000,
		},
	}
	for name, tc := range testCases {
		t.Run(name, func(t *testing.T) {
			fs := make([]checks.Finding, n)
			for i := range fs {
				kind := "Deployment"
				if tc.ns == "" {
					kind = "ClusterRole"
				}
				fs[i] = finding(lowCheck, objRef(tc.ns, kind, fmt.Sprintf("obj-%05d", i)), tc.message)
			}
			outcomes := []checks.Outcome{outcome(lowCheck, map[string]int{tc.ns: n}, fs...)}
			set := Build(testScan(), outcomes, Options{MaxFindings: tc.maxFindings})
			var obj any
			var summary posturev1alpha1.ReportSummary
			var kept int
			if tc.ns == "" {
				obj, summary, kept = set.Cluster, set.Cluster.Summary, len(set.Cluster.AllFindings())
			} else {
				r := namespacedReport(t, set, tc.ns)
				obj, summary, kept = r, r.Summary, len(r.AllFindings())
			}
			data, err := json.Marshal(obj)
			if err != nil {
				t.Fatalf("json.Marshal() = %v", err)
			}
			if len(data) >= limit {
				t.Errorf("report is %d bytes of JSON for %d kept findings, want under %d", len(data), kept, limit)
			}
			if kept == 0 {
				t.Errorf("kept no findings, want as many as fit")
			}
			if summary.Findings != n {
				t.Errorf("Summary.Findings = %d, want %d", summary.Findings, n)
			}
			if got, want := summary.Omitted, int32(n-kept); got != want || got == 0 {
				t.Errorf("Summary.Omitted = %d, want %d (> 0)", got, want)
			}
			if summary.Low != n {
				t.Errorf("Summary.Low = %d, want %d", summary.Low, n)
			}
		})
	}
}

// TestBuildSummaryFindingsMatchCounts checks that each report's
// Summary.Findings equals the sum of its severity counts, also when a check
// found failures and then reported itself not evaluated (Emitter.NotEvaluated
// after Emitter.Fail leaves Findings on an outcome with Evaluated false).
func TestBuildSummaryFindingsMatchCounts(t *testing.T) {
	notEvaluatedWithFindings := outcome(highCheckA, map[string]int{"app": 2, "": 1},
		finding(highCheckA, objRef("app", "Deployment", "web"), "m"),
		finding(highCheckA, objRef("", "ClusterRole", "admin"), "m"),
	)
	notEvaluatedWithFindings.Evaluated = false
	notEvaluatedWithFindings.NotEvaluatedReason = "no input visible"
	testCases := map[string]struct {
		outcomes []checks.Outcome
	}{
		"evaluated checks": {
			outcomes: []checks.Outcome{
				outcome(critCheck, map[string]int{"app": 2, "": 1}, finding(critCheck, objRef("app", "Deployment", "web"), "m"), finding(critCheck, objRef("", "ClusterRole", "admin"), "m")),
				outcome(lowCheck, map[string]int{"app": 2}, finding(lowCheck, objRef("app", "Deployment", "web"), "m")),
			},
		},
		"a not-evaluated check with findings": {
			outcomes: []checks.Outcome{
				outcome(lowCheck, map[string]int{"app": 2}, finding(lowCheck, objRef("app", "Deployment", "web"), "m")),
				notEvaluatedWithFindings,
			},
		},
	}
	for name, tc := range testCases {
		t.Run(name, func(t *testing.T) {
			set := Build(testScan(), tc.outcomes, Options{})
			summaries := map[string]posturev1alpha1.ReportSummary{"": set.Cluster.Summary}
			for _, r := range set.Namespaced {
				summaries[r.Namespace] = r.Summary
			}
			var bad []string
			for ns, sum := range summaries {
				if counted := sum.Critical + sum.High + sum.Medium + sum.Low; sum.Findings != counted {
					bad = append(bad, fmt.Sprintf("report %q: Summary.Findings = %d, severity counts sum to %d", ns, sum.Findings, counted))
				}
			}
			slices.Sort(bad)
			if len(bad) > 0 {
				t.Error(strings.Join(bad, "; "))
			}
		})
	}
}

// determinismOutcomes builds the same findings in the given or the reverse order.
func determinismOutcomes(reverse bool, edit func(o []checks.Outcome)) []checks.Outcome {
	var outcomes []checks.Outcome
	for _, c := range []*checks.Check{critCheck, highCheckA, highCheckB, medCheck, lowCheck} {
		var fs []checks.Finding
		judged := map[string]int{}
		for _, ns := range []string{"", "a", "b", "c"} {
			kind := "Deployment"
			if ns == "" {
				kind = "ClusterRole"
			}
			judged[ns] = 40
			for i := range 30 {
				fs = append(fs, finding(c, objRef(ns, kind, fmt.Sprintf("o%02d", i%20)), fmt.Sprintf("%s message %d", c.ID, i)))
			}
		}
		if reverse {
			slices.Reverse(fs)
		}
		outcomes = append(outcomes, outcome(c, judged, fs...))
	}
	if reverse {
		slices.Reverse(outcomes)
	}
	if edit != nil {
		edit(outcomes)
	}
	return outcomes
}

func hashes(set Set) map[string]string {
	out := map[string]string{"": set.Cluster.Annotations[ContentHashAnnotation]}
	for _, r := range set.Namespaced {
		out[r.Namespace] = r.Annotations[ContentHashAnnotation]
	}
	return out
}

func TestBuildDeterministic(t *testing.T) {
	opts := Options{MaxFindings: 100, Resources: map[string]int{"a": 40, "b": 40, "c": 40, "": 40}, TotalResources: 160, Namespaces: 3}
	want := Build(testScan(), determinismOutcomes(false, nil), opts)
	got := Build(testScan(), determinismOutcomes(true, nil), opts)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Build() differs with the findings in another order (-first +second):\n%s", diff)
	}
	wantHashes := hashes(want)
	if diff := cmp.Diff(wantHashes, hashes(got)); diff != "" {
		t.Errorf("content hashes differ with the findings in another order (-first +second):\n%s", diff)
	}

	// Change one message of a kept finding in namespace b: only b's hash changes.
	edited := Build(testScan(), determinismOutcomes(true, func(o []checks.Outcome) {
		for i := range o {
			for j := range o[i].Findings {
				if f := &o[i].Findings[j]; f.Check == critCheck && f.Object.Namespace == "b" && f.Message == "pss-privileged message 3" {
					f.Message = "pss-privileged message 3, changed"
				}
			}
		}
	}), opts)
	editedHashes := hashes(edited)
	for ns, h := range wantHashes {
		changed := editedHashes[ns] != h
		if wantChanged := ns == "b"; changed != wantChanged {
			t.Errorf("namespace %q: hash changed = %v, want %v", ns, changed, wantChanged)
		}
	}
}

// TestBuildDeterministicTies feeds findings that differ only in fields the
// sort does not compare (APIVersion, UID) in enough numbers that the sort is
// not an insertion sort.
func TestBuildDeterministicTies(t *testing.T) {
	build := func(reverse bool) Set {
		var fs []checks.Finding
		for i := range 200 {
			obj := objRef("app", "Deployment", fmt.Sprintf("o%d", i/4))
			obj.UID = types.UID(fmt.Sprintf("uid-%d", i))
			fs = append(fs, finding(lowCheck, obj, "same"))
		}
		if reverse {
			slices.Reverse(fs)
		}
		return Build(testScan(), []checks.Outcome{outcome(lowCheck, map[string]int{"app": 200}, fs...)}, Options{})
	}
	a, b := build(false), build(true)
	if diff := cmp.Diff(hashes(a), hashes(b)); diff != "" {
		t.Errorf("findings tied on all but apiVersion and uid keep input order: hashes differ (-first +second):\n%s", diff)
	}
}

func TestTruncate(t *testing.T) {
	testCases := map[string]struct {
		s    string
		n    int
		want string
	}{
		"short unchanged":     {s: "hello", n: 10, want: "hello"},
		"exactly n":           {s: "hello", n: 5, want: "hello"},
		"ascii":               {s: "abcdefghij", n: 8, want: "abcde..."},
		"empty":               {s: "", n: 5, want: ""},
		"two-byte runes":      {s: strings.Repeat("é", 10), n: 10, want: "ééé..."},
		"three-byte runes":    {s: strings.Repeat("€", 5), n: 10, want: "€€..."},
		"four-byte runes":     {s: strings.Repeat("😀", 4), n: 10, want: "😀..."},
		"cut on a boundary":   {s: "ab€€€", n: 8, want: "ab€..."},
		"mixed":               {s: "a€é😀b", n: 9, want: "a€é..."},
		"mixed inside a rune": {s: "a€é😀b", n: 10, want: "a€é..."},
		"message limit":       {s: strings.Repeat("€", 1000), n: 2048, want: strings.Repeat("€", 681) + "..."},
	}
	for name, tc := range testCases {
		t.Run(name, func(t *testing.T) {
			got := Truncate(tc.s, tc.n)
			if got != tc.want {
				t.Errorf("Truncate(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
			}
			if !utf8.ValidString(got) {
				t.Errorf("Truncate(%q, %d) = %q is not valid UTF-8", tc.s, tc.n, got)
			}
			if len(got) > tc.n {
				t.Errorf("Truncate(%q, %d) is %d bytes, want at most %d", tc.s, tc.n, len(got), tc.n)
			}
		})
	}
}

// TestTruncateEveryLimit cuts strings of every rune width at every limit.
func TestTruncateEveryLimit(t *testing.T) {
	testCases := map[string]struct {
		s string
	}{
		"two-byte":   {s: strings.Repeat("é", 40)},
		"three-byte": {s: strings.Repeat("€", 30)},
		"four-byte":  {s: strings.Repeat("😀", 20)},
		"mixed":      {s: strings.Repeat("a€é😀", 10)},
	}
	for name, tc := range testCases {
		t.Run(name, func(t *testing.T) {
			for n := 3; n <= len(tc.s)+1; n++ {
				got := Truncate(tc.s, n)
				if !utf8.ValidString(got) {
					t.Errorf("Truncate(_, %d) = %q is not valid UTF-8", n, got)
				}
				if len(got) > n {
					t.Errorf("Truncate(_, %d) is %d bytes, want at most %d", n, len(got), n)
				}
				if got != tc.s && (!strings.HasSuffix(got, "...") || !strings.HasPrefix(tc.s, strings.TrimSuffix(got, "..."))) {
					t.Errorf("Truncate(_, %d) = %q, want a prefix of the input and \"...\"", n, got)
				}
				// At most one rune (4 bytes) more than the room is given up.
				if got != tc.s && len(got) < n-utf8.UTFMax {
					t.Errorf("Truncate(_, %d) is %d bytes, want at least %d", n, len(got), n-utf8.UTFMax)
				}
			}
		})
	}
}

// TestBuildTruncates checks that Build cuts long messages and remediations
// within the API's MaxLength and on a rune boundary.
func TestBuildTruncates(t *testing.T) {
	c := testCheck("pss-privileged", checks.SeverityCritical)
	c.Remediation = strings.Repeat("é", 600) // 1200 bytes
	msg := strings.Repeat("€", 1000)         // 3000 bytes
	set := Build(testScan(), []checks.Outcome{outcome(c, map[string]int{"app": 1}, finding(c, objRef("app", "Deployment", "web"), msg))}, Options{})
	r := namespacedReport(t, set, "app")
	if want := strings.Repeat("€", 681) + "..."; r.Objects[0].Findings[0].Message != want {
		t.Errorf("Message is %d bytes, want %d (681 runes and ...)", len(r.Objects[0].Findings[0].Message), len(want))
	}
	if want := strings.Repeat("é", 510) + "..."; r.Checks[0].Remediation != want {
		t.Errorf("Remediation is %d bytes, want %d (510 runes and ...)", len(r.Checks[0].Remediation), len(want))
	}
}

// TestBuildGroupsByObject checks that findings are listed under their
// object, that each check is described once with the number of objects it
// failed on (counting those left out), and that an object lists at most
// MaxFindingsPerObject findings.
func TestBuildGroupsByObject(t *testing.T) {
	web, api := objRef("app", "Deployment", "web"), objRef("app", "Deployment", "api")
	var many []checks.Finding // more findings of one check on one object than an object lists
	for i := range MaxFindingsPerObject + 10 {
		many = append(many, finding(lowCheck, api, fmt.Sprintf("rule %03d", i)))
	}
	outcomes := []checks.Outcome{
		outcome(critCheck, map[string]int{"app": 2}, finding(critCheck, web, "privileged")),
		outcome(medCheck, map[string]int{"app": 2}, finding(medCheck, api, "no policy"), finding(medCheck, web, "no policy")),
		outcome(lowCheck, map[string]int{"app": 2}, many...),
	}
	set := Build(testScan(), outcomes, Options{MaxFindings: 2000})
	r := namespacedReport(t, set, "app")

	var gotChecks []string
	for _, c := range r.Checks {
		gotChecks = append(gotChecks, fmt.Sprintf("%s %s failed=%d", c.ID, c.Severity, c.Failed))
	}
	wantChecks := []string{"pss-privileged critical failed=1", "netpol-namespace-without-policy medium failed=2", "pss-seccomp-profile-restricted low failed=1"}
	if diff := cmp.Diff(wantChecks, gotChecks); diff != "" {
		t.Errorf("checks mismatch (-want +got):\n%s", diff)
	}
	if len(r.Objects) != 2 || r.Objects[0].Object.Name != "web" || r.Objects[1].Object.Name != "api" {
		t.Fatalf("objects = %v, want web (the most severe finding) then api", r.Objects)
	}
	if got := keys(set.Namespaced[0].AllFindings())[:3]; !slices.Equal(got, []string{
		"pss-privileged app/Deployment/web: privileged", "netpol-namespace-without-policy app/Deployment/web: no policy",
		"netpol-namespace-without-policy app/Deployment/api: no policy",
	}) {
		t.Errorf("first findings = %q", got)
	}
	if got := len(r.Objects[1].Findings); got != MaxFindingsPerObject {
		t.Errorf("api lists %d findings, want %d", got, MaxFindingsPerObject)
	}
	if r.Summary.Findings != int32(3+len(many)) || r.Summary.Omitted != int32(len(many)+1-MaxFindingsPerObject) {
		t.Errorf("summary findings/omitted = %d/%d, want %d/%d", r.Summary.Findings, r.Summary.Omitted, 3+len(many), len(many)+1-MaxFindingsPerObject)
	}
}

func BenchmarkBuild(b *testing.B) {
	// 4 checks x 100 namespaces x 25 findings = 10,000 findings.
	var outcomes []checks.Outcome
	for _, c := range []*checks.Check{critCheck, highCheckA, medCheck, lowCheck} {
		judged := map[string]int{}
		var fs []checks.Finding
		for ns := range 100 {
			name := fmt.Sprintf("ns-%03d", ns)
			judged[name] = 50
			for i := range 25 {
				fs = append(fs, finding(c, objRef(name, "Deployment", fmt.Sprintf("d%02d", i)), "container \"app\" fails "+c.ID))
			}
		}
		outcomes = append(outcomes, outcome(c, judged, fs...))
	}
	scan := testScan()
	b.ReportAllocs()
	for b.Loop() {
		set := Build(scan, outcomes, Options{Namespaces: 100})
		if len(set.Namespaced) != 100 {
			b.Fatalf("got %d ScanReports, want 100", len(set.Namespaced))
		}
	}
}
