package controllers_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	openreportsv1alpha1 "github.com/openreports/reports-api/apis/openreports.io/v1alpha1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	posturev1alpha1 "github.com/kubeposture/kubeposture/api/v1alpha1"
)

// The OpenReports CRDs are not in the suite: TestOpenReports first scans a
// cluster without them, then installs them (config/openreports, copied from
// the reports-api module) and removes them again at the end, so both cases
// run against the same real API server, which validates every object
// against the CRDs' schema.

var openReportsCRDs = []string{"reports.openreports.io", "clusterreports.openreports.io"}

func TestOpenReports(t *testing.T) {
	const scanName = "openreports"
	shop, batch := "ortest-shop", "ortest-batch"
	ensureNamespace(t, shop, nil)
	ensureNamespace(t, batch, nil)
	create(t, privilegedDeployment(shop, "web"), privilegedDeployment(batch, "job"))
	t.Cleanup(func() { uninstallOpenReportsCRDs(t) })

	scan := newScan(scanName, "ortest-*")
	scan.Spec.OpenReports = &posturev1alpha1.OpenReportsSpec{Enabled: true}
	t.Cleanup(func() { _ = k8sClient.Delete(testCtx, scan) })

	t.Run("without the CRDs the scan succeeds and says so", func(t *testing.T) {
		for _, name := range openReportsCRDs {
			if err := k8sClient.Get(testCtx, types.NamespacedName{Name: name}, crdObject(name)); !apierrors.IsNotFound(err) {
				t.Fatalf("CRD %s: err = %v, want NotFound: the suite must start without the OpenReports CRDs", name, err)
			}
		}
		create(t, scan)
		got := waitScanned(t, scanName, nil)
		wantOpenReportsCondition(t, got, metav1.ConditionFalse, posturev1alpha1.ReasonOpenReportsNotInstalled, "CRDs are not installed")
		getReport(t, shop, scanName) // the scan's own reports are written
		eventually(t, scanTimeout, func() error {
			return wantOpenReportsEvents(scanName, posturev1alpha1.ReasonOpenReportsNotInstalled, 1)
		})
	})

	t.Run("with the CRDs the reports match the ScanReports", func(t *testing.T) {
		installOpenReportsCRDs(t)
		prev := getScan(t, scanName).Status.LastSuccessfulScanTime
		requestScan(t, scanName, "with-crds")
		got := waitScanned(t, scanName, prev)
		wantOpenReportsCondition(t, got, metav1.ConditionTrue, posturev1alpha1.ReasonOpenReportsWritten, "ClusterReport kubeposture-openreports and 2 Reports up to date")

		for _, ns := range []string{shop, batch} {
			rep := getOpenReport(t, ns)
			own := getReport(t, ns, scanName)
			if diff := cmp.Diff(findingRows(own.Checks, own.Objects), resultRows(rep.Results)); diff != "" {
				t.Errorf("%s: Report results differ from the ScanReport findings (-ScanReport +Report):\n%s", ns, diff)
			}
			if rep.Summary.Fail != int(own.Summary.Findings) || rep.Summary.Fail != len(rep.Results) || rep.Summary.Pass+rep.Summary.Skip+rep.Summary.Warn+rep.Summary.Error != 0 {
				t.Errorf("%s: summary %+v, want fail = %d", ns, rep.Summary, own.Summary.Findings)
			}
			wantOpenReportMeta(t, &rep.ObjectMeta, got)
			if _, ok := rep.Annotations["posture.kubeposture.io/omitted-results"]; ok {
				t.Errorf("%s: omitted-results annotation on a report that kept every result", ns)
			}
			wantConfig := &openreportsv1alpha1.ReportConfiguration{Limits: openreportsv1alpha1.Limits{MaxResults: 500, StatusFilter: []openreportsv1alpha1.StatusFilter{"fail"}}}
			if diff := cmp.Diff(wantConfig, rep.Configuration); diff != "" {
				t.Errorf("%s: configuration (-want +got):\n%s", ns, diff)
			}
			for _, res := range rep.Results {
				if res.Source != "kubeposture" || !res.Scored || res.Timestamp.Seconds != got.Status.LastScanTime.Unix() {
					t.Errorf("%s: result %s: source %q, scored %v, timestamp %d; want kubeposture, true, %d",
						ns, res.Policy, res.Source, res.Scored, res.Timestamp.Seconds, got.Status.LastScanTime.Unix())
				}
			}
		}

		cluster := getOpenClusterReport(t)
		own := &posturev1alpha1.ClusterScanReport{}
		if err := k8sClient.Get(testCtx, types.NamespacedName{Name: scanName}, own); err != nil {
			t.Fatal(err)
		}
		var fails []openreportsv1alpha1.ReportResult
		for _, res := range cluster.Results {
			if res.Result == "fail" {
				fails = append(fails, res)
			} else if res.Result != "skip" {
				t.Errorf("ClusterReport result %s is %q, want fail or skip", res.Policy, res.Result)
			}
		}
		if diff := cmp.Diff(findingRows(own.Checks, own.Objects), resultRows(fails)); diff != "" {
			t.Errorf("ClusterReport fail results differ from the ClusterScanReport findings (-ClusterScanReport +ClusterReport):\n%s", diff)
		}
		sum := got.Status.Summary
		if cluster.Summary.Skip != int(sum.ChecksNotEvaluated) || cluster.Summary.Fail != len(own.AllFindings()) {
			t.Errorf("ClusterReport summary %+v; want skip %d, fail %d", cluster.Summary, sum.ChecksNotEvaluated, len(own.AllFindings()))
		}
		wantOpenReportMeta(t, &cluster.ObjectMeta, got)
		if a := cluster.Annotations; a["posture.kubeposture.io/score"] != strconv.Itoa(int(sum.Score)) || a["posture.kubeposture.io/grade"] != sum.Grade {
			t.Errorf("ClusterReport annotations %v; want score %d, grade %s", a, sum.Score, sum.Grade)
		}
	})

	t.Run("an unchanged cluster rescanned writes nothing", func(t *testing.T) {
		before := openReportVersions(t, shop, batch)
		prev := getScan(t, scanName).Status.LastSuccessfulScanTime
		requestScan(t, scanName, "unchanged")
		waitScanned(t, scanName, prev)
		if diff := cmp.Diff(before, openReportVersions(t, shop, batch)); diff != "" {
			t.Errorf("OpenReports rewritten on an unchanged cluster (-before +after resourceVersion):\n%s", diff)
		}
	})

	t.Run("bounded like the ScanReports", func(t *testing.T) {
		all := getOpenReport(t, shop).Summary.Fail
		if all < 2 {
			t.Fatalf("%s has %d findings; the test needs at least 2", shop, all)
		}
		got := patchScan(t, scanName, func(s *posturev1alpha1.ClusterScan) { s.Spec.MaxFindingsPerReport = 1 })
		rep := getOpenReport(t, shop)
		own := getReport(t, shop, scanName)
		if len(rep.Results) != 1 || rep.Summary.Fail != all || rep.Annotations["posture.kubeposture.io/omitted-results"] != strconv.Itoa(all-1) || rep.Configuration.Limits.MaxResults != 1 {
			t.Errorf("%d results, fail %d, omitted %q, maxResults %d; want 1, %d, %d, 1",
				len(rep.Results), rep.Summary.Fail, rep.Annotations["posture.kubeposture.io/omitted-results"], rep.Configuration.Limits.MaxResults, all, all-1)
		}
		if diff := cmp.Diff(findingRows(own.Checks, own.Objects), resultRows(rep.Results)); diff != "" {
			t.Errorf("kept result differs from the ScanReport's kept finding (-ScanReport +Report):\n%s", diff)
		}
		wantOpenReportsCondition(t, got, metav1.ConditionTrue, posturev1alpha1.ReasonOpenReportsWritten, "results left out")
	})

	t.Run("a namespace out of scope loses its Report", func(t *testing.T) {
		patchScan(t, scanName, func(s *posturev1alpha1.ClusterScan) { s.Spec.IncludeNamespaces = []string{shop} })
		if err := k8sClient.Get(testCtx, openReportKey(batch), openReportObject("Report")); !apierrors.IsNotFound(err) {
			t.Errorf("Report of %s: err = %v, want NotFound", batch, err)
		}
		getOpenReport(t, shop)
	})

	t.Run("turned off, its OpenReports are deleted", func(t *testing.T) {
		got := patchScan(t, scanName, func(s *posturev1alpha1.ClusterScan) { s.Spec.OpenReports.Enabled = false })
		if c := meta.FindStatusCondition(got.Status.Conditions, posturev1alpha1.ConditionOpenReports); c != nil {
			t.Errorf("OpenReports condition %+v remains with OpenReports off", c)
		}
		for kind, key := range map[string]types.NamespacedName{"Report": openReportKey(shop), "ClusterReport": openReportKey("")} {
			if err := k8sClient.Get(testCtx, key, openReportObject(kind)); !apierrors.IsNotFound(err) {
				t.Errorf("%s %s: err = %v, want NotFound", kind, key, err)
			}
		}
		getReport(t, shop, scanName)
		eventually(t, scanTimeout, func() error { return wantOpenReportsEvents(scanName, "OpenReportsRemoved", 1) })
	})

	t.Run("CRDs removed after use: the scan succeeds and says so", func(t *testing.T) {
		patchScan(t, scanName, func(s *posturev1alpha1.ClusterScan) { s.Spec.OpenReports.Enabled = true })
		getOpenReport(t, shop)
		uninstallOpenReportsCRDs(t)
		prev := getScan(t, scanName).Status.LastSuccessfulScanTime
		requestScan(t, scanName, "crds-removed")
		got := waitScanned(t, scanName, prev)
		wantOpenReportsCondition(t, got, metav1.ConditionFalse, posturev1alpha1.ReasonOpenReportsNotInstalled, "CRDs are not installed")
		// The condition changed from Written to NotInstalled: a second event.
		eventually(t, scanTimeout, func() error {
			return wantOpenReportsEvents(scanName, posturev1alpha1.ReasonOpenReportsNotInstalled, 2)
		})
	})
}

// TestOpenReportsCRDsMatchModule: config/openreports holds the CRDs of the
// reports-api version go.mod requires, unchanged but for the header.
func TestOpenReportsCRDsMatchModule(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/openreports/reports-api").Output()
	if err != nil {
		t.Fatalf("go list -m github.com/openreports/reports-api: %v", err)
	}
	dir := strings.TrimSpace(string(out))
	if dir == "" {
		t.Fatal("the reports-api module is not in the module cache (go mod download github.com/openreports/reports-api)")
	}
	for _, file := range []string{"openreports.io_reports.yaml", "openreports.io_clusterreports.yaml"} {
		want, err := os.ReadFile(filepath.Join(dir, "config", "crd", file))
		if err != nil {
			t.Fatal(err)
		}
		got := readOpenReportsCRD(t, file)
		if !bytes.Equal(want, got) {
			t.Errorf("config/openreports/%s differs from the module's config/crd/%s: copy it again", file, file)
		}
	}
}

// readOpenReportsCRD reads a CRD of config/openreports without its comment header.
func readOpenReportsCRD(t *testing.T, file string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "config", "openreports", file))
	if err != nil {
		t.Fatal(err)
	}
	for bytes.HasPrefix(data, []byte("#")) {
		_, data, _ = bytes.Cut(data, []byte("\n"))
	}
	return data
}

func crdObject(name string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("apiextensions.k8s.io/v1")
	u.SetKind("CustomResourceDefinition")
	u.SetName(name)
	return u
}

func installOpenReportsCRDs(t *testing.T) {
	t.Helper()
	for _, file := range []string{"openreports.io_reports.yaml", "openreports.io_clusterreports.yaml"} {
		crd := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(readOpenReportsCRD(t, file), &crd.Object); err != nil {
			t.Fatalf("config/openreports/%s: %v", file, err)
		}
		create(t, crd)
	}
	eventually(t, scanTimeout, func() error {
		for _, name := range openReportsCRDs {
			crd := crdObject(name)
			if err := k8sClient.Get(testCtx, types.NamespacedName{Name: name}, crd); err != nil {
				return err
			}
			conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
			established := slices.ContainsFunc(conds, func(c any) bool {
				m, _ := c.(map[string]any)
				return m["type"] == "Established" && m["status"] == "True"
			})
			if !established {
				return fmt.Errorf("CRD %s not established", name)
			}
		}
		return nil
	})
}

func uninstallOpenReportsCRDs(t *testing.T) {
	t.Helper()
	for _, name := range openReportsCRDs {
		if err := k8sClient.Delete(testCtx, crdObject(name)); client.IgnoreNotFound(err) != nil {
			t.Fatalf("deleting CRD %s: %v", name, err)
		}
	}
	eventually(t, scanTimeout, func() error {
		for _, name := range openReportsCRDs {
			switch err := k8sClient.Get(testCtx, types.NamespacedName{Name: name}, crdObject(name)); {
			case err == nil:
				return fmt.Errorf("CRD %s still there", name)
			case !apierrors.IsNotFound(err):
				return err
			}
		}
		return nil
	})
}

func openReportObject(kind string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(openreportsv1alpha1.SchemeGroupVersion.WithKind(kind))
	return u
}

func openReportKey(ns string) types.NamespacedName {
	return types.NamespacedName{Namespace: ns, Name: "kubeposture-openreports"}
}

// getOpenReportInto reads an OpenReports object as the API server stored it
// into its published Go type, failing on any field that type does not know.
func getOpenReportInto(t *testing.T, kind string, key types.NamespacedName, into any) {
	t.Helper()
	u := openReportObject(kind)
	if err := k8sClient.Get(testCtx, key, u); err != nil {
		t.Fatalf("getting %s %s: %v", kind, key, err)
	}
	data, err := json.Marshal(u.Object)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		t.Fatalf("%s %s does not decode into the reports-api type: %v", kind, key, err)
	}
}

func getOpenReport(t *testing.T, ns string) *openreportsv1alpha1.Report {
	t.Helper()
	rep := &openreportsv1alpha1.Report{}
	getOpenReportInto(t, "Report", openReportKey(ns), rep)
	return rep
}

func getOpenClusterReport(t *testing.T) *openreportsv1alpha1.ClusterReport {
	t.Helper()
	rep := &openreportsv1alpha1.ClusterReport{}
	getOpenReportInto(t, "ClusterReport", openReportKey(""), rep)
	return rep
}

// openReportVersions maps each OpenReports object of the namespaces and the ClusterReport to its resourceVersion.
func openReportVersions(t *testing.T, namespaces ...string) map[string]string {
	t.Helper()
	out := map[string]string{"ClusterReport": getOpenClusterReport(t).ResourceVersion}
	for _, ns := range namespaces {
		out[ns] = getOpenReport(t, ns).ResourceVersion
	}
	return out
}

// patchScan changes the scan's spec and waits for the scan of the new generation.
func patchScan(t *testing.T, name string, change func(*posturev1alpha1.ClusterScan)) *posturev1alpha1.ClusterScan {
	t.Helper()
	fakeClock.Step(time.Second)
	scan := getScan(t, name)
	patch := client.MergeFrom(scan.DeepCopy())
	change(scan)
	if err := k8sClient.Patch(testCtx, scan, patch); err != nil {
		t.Fatal(err)
	}
	return waitScanned(t, name, scan.Status.LastSuccessfulScanTime)
}

func wantOpenReportsCondition(t *testing.T, scan *posturev1alpha1.ClusterScan, status metav1.ConditionStatus, reason, msg string) {
	t.Helper()
	c := meta.FindStatusCondition(scan.Status.Conditions, posturev1alpha1.ConditionOpenReports)
	if c == nil || c.Status != status || c.Reason != reason || !strings.Contains(c.Message, msg) || c.ObservedGeneration != scan.Generation {
		t.Errorf("OpenReports condition %+v; want %s, %s, a message with %q, generation %d", c, status, reason, msg, scan.Generation)
	}
	if !meta.IsStatusConditionTrue(scan.Status.Conditions, posturev1alpha1.ConditionReady) {
		t.Errorf("scan not Ready: %+v", scan.Status.Conditions)
	}
}

// wantOpenReportsEvents checks that the scan has n events of the reason.
func wantOpenReportsEvents(scanName, reason string, n int) error {
	l := &eventsv1.EventList{}
	if err := k8sClient.List(testCtx, l); err != nil {
		return err
	}
	got := 0
	for _, e := range l.Items {
		if e.Regarding.Kind == "ClusterScan" && e.Regarding.Name == scanName && e.Reason == reason {
			got++
			if e.Series != nil {
				got += int(e.Series.Count) - 1 // the occurrences of a repeated event
			}
		}
	}
	if got != n {
		return fmt.Errorf("%d %s events, want %d", got, reason, n)
	}
	return nil
}

// wantOpenReportMeta checks the labels, the owner reference and the content hash.
func wantOpenReportMeta(t *testing.T, m *metav1.ObjectMeta, scan *posturev1alpha1.ClusterScan) {
	t.Helper()
	if m.Labels[posturev1alpha1.LabelScan] != scan.Name || m.Labels["app.kubernetes.io/managed-by"] != "kubeposture" {
		t.Errorf("%s/%s labels %v", m.Namespace, m.Name, m.Labels)
	}
	if m.Annotations["posture.kubeposture.io/content-hash"] == "" {
		t.Errorf("%s/%s has no content hash", m.Namespace, m.Name)
	}
	want := []metav1.OwnerReference{{APIVersion: "posture.kubeposture.io/v1alpha1", Kind: "ClusterScan", Name: scan.Name,
		UID: scan.UID, Controller: ptr(true), BlockOwnerDeletion: ptr(true)}}
	if diff := cmp.Diff(want, m.OwnerReferences); diff != "" {
		t.Errorf("%s/%s owner references (-want +got):\n%s", m.Namespace, m.Name, diff)
	}
}

// row is what a ScanReport finding and an OpenReports result both say.
type row struct {
	Check, Severity, Category, Title, Remediation, Benchmarks string
	APIVersion, Kind, Namespace, Name, UID, Message           string
}

func sortRows(rows []row) []row {
	slices.SortFunc(rows, func(a, b row) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
	return rows
}

// findingRows are a report's findings, each with its check's description.
func findingRows(checks []posturev1alpha1.ReportCheck, objects []posturev1alpha1.ObjectFindings) []row {
	described := map[string]posturev1alpha1.ReportCheck{}
	for _, c := range checks {
		described[c.ID] = c
	}
	var out []row
	for _, of := range objects {
		o := of.Object
		for _, f := range of.Findings {
			c := described[f.CheckID]
			out = append(out, row{f.CheckID, string(f.Severity), c.Category, c.Title, c.Remediation, strings.Join(c.Benchmarks, "; "),
				o.APIVersion, o.Kind, o.Namespace, o.Name, o.UID, f.Message})
		}
	}
	return sortRows(out)
}

func resultRows(results []openreportsv1alpha1.ReportResult) []row {
	out := make([]row, 0, len(results))
	for _, r := range results {
		if len(r.Subjects) != 1 {
			out = append(out, row{Check: r.Policy, Message: fmt.Sprintf("%d subjects", len(r.Subjects))})
			continue
		}
		s, p := r.Subjects[0], r.Properties
		out = append(out, row{r.Policy, string(r.Severity), r.Category, p["title"], p["remediation"], p["benchmarks"],
			s.APIVersion, s.Kind, s.Namespace, s.Name, string(s.UID), r.Description})
	}
	return sortRows(out)
}
