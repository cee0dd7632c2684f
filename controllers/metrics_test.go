package controllers_test

import (
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	posturev1alpha1 "github.com/kubeposture/kubeposture/api/v1alpha1"
	"github.com/kubeposture/kubeposture/controllers"
)

// sample is one series of a scrape: its labels (less scan) and value; a
// histogram's value is its count of observations.
type sample struct {
	labels map[string]string
	value  float64
}

// scrape collects kubeposture's metrics as the manager's endpoint would,
// through a collector over the suite manager's cache, and returns the
// series of one ClusterScan by metric name.
func scrape(t *testing.T, maxNamespaces int, scan string) map[string][]sample {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(controllers.NewMetricsCollector(managerCache, controllers.MetricsOptions{MaxNamespaces: maxNamespaces})); err != nil {
		t.Fatal(err)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("gathering metrics: %v", err)
	}
	out := map[string][]sample{}
	for _, f := range families {
		if !strings.HasPrefix(f.GetName(), "kubeposture_") {
			t.Errorf("metric %s lacks the kubeposture_ prefix", f.GetName())
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["scan"] != scan {
				continue
			}
			delete(labels, "scan")
			out[f.GetName()] = append(out[f.GetName()], sample{labels: labels, value: value(f.GetType(), m)})
		}
	}
	return out
}

func value(typ dto.MetricType, m *dto.Metric) float64 {
	switch typ {
	case dto.MetricType_COUNTER:
		return m.GetCounter().GetValue()
	case dto.MetricType_HISTOGRAM:
		return float64(m.GetHistogram().GetSampleCount())
	}
	return m.GetGauge().GetValue()
}

// byLabel maps the value of one label to the value of each series.
func byLabel(samples []sample, label string) map[string]float64 {
	out := map[string]float64{}
	for _, s := range samples {
		out[s.labels[label]] = s.value
	}
	return out
}

// find returns the value of the series with exactly these labels.
func find(samples []sample, labels map[string]string) (float64, bool) {
	for _, s := range samples {
		if maps.Equal(s.labels, labels) {
			return s.value, true
		}
	}
	return 0, false
}

// severityCounts of a report summary, as the metrics label them.
func severityCounts(s posturev1alpha1.ScanSummary) map[string]float64 {
	return map[string]float64{"critical": float64(s.Critical), "high": float64(s.High), "medium": float64(s.Medium), "low": float64(s.Low)}
}

// namespaceFindings maps namespace -> severity -> count, as
// kubeposture_namespace_findings exports them.
func namespaceFindings(samples []sample) map[string]map[string]float64 {
	out := map[string]map[string]float64{}
	for _, s := range samples {
		ns := s.labels["namespace"]
		if out[ns] == nil {
			out[ns] = map[string]float64{"critical": 0, "high": 0, "medium": 0, "low": 0}
		}
		out[ns][s.labels["severity"]] = s.value
	}
	return out
}

func TestMetricsFollowScansAndForgetThem(t *testing.T) {
	a, b := "metrics-a", "metrics-b"
	ensureNamespace(t, a, nil)
	ensureNamespace(t, b, nil)
	create(t, privilegedDeployment(a, "web"), privilegedDeployment(a, "api"), privilegedDeployment(b, "web"))
	create(t, newScan("metrics", a, b))
	scan := waitScanned(t, "metrics", nil)
	repA, repB := getReport(t, a, "metrics"), getReport(t, b, "metrics")
	cluster := &posturev1alpha1.ClusterScanReport{}
	if err := k8sClient.Get(testCtx, types.NamespacedName{Name: "metrics"}, cluster); err != nil {
		t.Fatal(err)
	}
	st := scan.Status

	// What the status says, as the status says it.
	got := scrape(t, 1, "metrics")
	if diff := cmp.Diff(severityCounts(*st.Summary), byLabel(got["kubeposture_findings"], "severity")); diff != "" {
		t.Errorf("kubeposture_findings (-status +metrics):\n%s", diff)
	}
	for name, want := range map[string]float64{
		"kubeposture_score":                                  float64(st.Summary.Score),
		"kubeposture_resources_scanned":                      float64(st.Summary.ResourcesScanned),
		"kubeposture_last_successful_scan_timestamp_seconds": float64(st.LastSuccessfulScanTime.Unix()),
		"kubeposture_scan_failing":                           0,
		"kubeposture_scan_missing_kinds":                     0,
	} {
		if v, ok := find(got[name], map[string]string{}); !ok || v != want {
			t.Errorf("%s = %v (present %t), want %v", name, v, ok, want)
		}
	}
	if v, _ := find(got["kubeposture_checks"], map[string]string{"state": "evaluated"}); v != float64(st.Summary.ChecksEvaluated) || v == 0 {
		t.Errorf("kubeposture_checks{state=evaluated} = %v, want %d", v, st.Summary.ChecksEvaluated)
	}
	if _, ok := got["kubeposture_next_scan_timestamp_seconds"]; ok {
		t.Errorf("kubeposture_next_scan_timestamp_seconds exported for a scan without a schedule")
	}
	wantCompliance, wantScore := map[string]float64{}, map[string]float64{}
	for _, f := range st.Frameworks {
		wantCompliance[string(f.Name)] = float64(f.Compliance) / 100
		wantScore[string(f.Name)] = float64(f.Score)
		if v, _ := find(got["kubeposture_framework_controls"], map[string]string{"framework": string(f.Name), "result": "fail"}); v != float64(f.Failed) {
			t.Errorf("kubeposture_framework_controls{framework=%s,result=fail} = %v, want %d", f.Name, v, f.Failed)
		}
	}
	if len(wantCompliance) != 4 {
		t.Fatalf("status frameworks %+v, want four", st.Frameworks)
	}
	if diff := cmp.Diff(wantCompliance, byLabel(got["kubeposture_framework_compliance_ratio"], "framework")); diff != "" {
		t.Errorf("kubeposture_framework_compliance_ratio (-status +metrics):\n%s", diff)
	}
	if diff := cmp.Diff(wantScore, byLabel(got["kubeposture_framework_score"], "framework")); diff != "" {
		t.Errorf("kubeposture_framework_score (-status +metrics):\n%s", diff)
	}

	// Findings by namespace, capped at one namespace: metrics-a has the more
	// severe findings (two privileged Deployments); metrics-b is summed
	// under _other; cluster-scoped objects under _cluster.
	perNS := namespaceFindings(got["kubeposture_namespace_findings"])
	if diff := cmp.Diff(severityCounts(repA.Summary.ScanSummary), perNS[a]); diff != "" {
		t.Errorf("kubeposture_namespace_findings{namespace=%s} (-ScanReport +metrics):\n%s", a, diff)
	}
	if diff := cmp.Diff(severityCounts(repB.Summary.ScanSummary), perNS[controllers.OtherNamespaces]); diff != "" {
		t.Errorf("kubeposture_namespace_findings{namespace=_other} (-ScanReport %s +metrics):\n%s", b, diff)
	}
	if _, ok := perNS[b]; ok {
		t.Errorf("namespace %s has its own series beyond the cap of 1: %v", b, perNS)
	}
	sum := map[string]float64{}
	for _, counts := range perNS {
		for sev, n := range counts {
			sum[sev] += n
		}
	}
	if diff := cmp.Diff(severityCounts(*st.Summary), sum); diff != "" {
		t.Errorf("sum of kubeposture_namespace_findings (-status +metrics):\n%s", diff)
	}
	for _, s := range got["kubeposture_namespace_findings"] {
		if s.value == 0 {
			t.Errorf("kubeposture_namespace_findings%v = 0: only counts above 0 are exported", s.labels)
		}
	}

	// Findings by check: what the reports hold (none omitted here).
	wantChecks := map[string]float64{}
	for _, reps := range [][]posturev1alpha1.ObjectFinding{repA.AllFindings(), repB.AllFindings(), cluster.AllFindings()} {
		for _, f := range reps {
			wantChecks[f.CheckID]++
		}
	}
	if repA.Summary.Omitted+repB.Summary.Omitted+cluster.Summary.Omitted != 0 {
		t.Fatalf("reports omitted findings; the test needs them all")
	}
	gotChecks := byLabel(got["kubeposture_check_findings"], "check")
	if len(gotChecks) != int(st.Summary.ChecksEvaluated) {
		t.Errorf("kubeposture_check_findings has %d checks, want every evaluated check (%d)", len(gotChecks), st.Summary.ChecksEvaluated)
	}
	maps.DeleteFunc(gotChecks, func(_ string, v float64) bool { return v == 0 })
	if diff := cmp.Diff(wantChecks, gotChecks); diff != "" {
		t.Errorf("kubeposture_check_findings above 0 (-reports +metrics):\n%s", diff)
	}
	if v, ok := find(got["kubeposture_check_findings"], map[string]string{"check": "pss-privileged", "severity": "critical"}); !ok || v != 3 {
		t.Errorf("kubeposture_check_findings{check=pss-privileged,severity=critical} = %v, want 3", v)
	}

	// What the scan did: one successful scan, three reports created.
	if v, _ := find(got["kubeposture_scan_duration_seconds"], map[string]string{}); v != 1 {
		t.Errorf("kubeposture_scan_duration_seconds count = %v, want 1", v)
	}
	writes := map[string]float64{}
	for _, s := range got["kubeposture_report_writes_total"] {
		writes[s.labels["kind"]+" "+s.labels["operation"]] = s.value
	}
	if diff := cmp.Diff(map[string]float64{"ScanReport create": 2, "ClusterScanReport create": 1}, writes); diff != "" {
		t.Errorf("kubeposture_report_writes_total (-want +got):\n%s", diff)
	}
	if s, ok := got["kubeposture_scan_errors_total"]; ok {
		t.Errorf("kubeposture_scan_errors_total = %v after a successful scan", s)
	}

	// Without the cap, each namespace has its own series.
	perNS = namespaceFindings(scrape(t, 10, "metrics")["kubeposture_namespace_findings"])
	if diff := cmp.Diff([]string{controllers.ClusterScopedNamespace, a, b}, slices.Sorted(maps.Keys(perNS))); diff != "" {
		t.Errorf("namespaces of kubeposture_namespace_findings (-want +got):\n%s", diff)
	}

	// A namespace that became clean loses its series, and its report is deleted.
	if err := k8sClient.DeleteAllOf(testCtx, &appsv1.Deployment{}, client.InNamespace(b)); err != nil {
		t.Fatal(err)
	}
	eventually(t, scanTimeout, func() error { // the informer must see the deletion first
		prev := getScan(t, "metrics").Status.LastSuccessfulScanTime
		requestScan(t, "metrics", time.Now().String())
		waitScanned(t, "metrics", prev)
		got := scrape(t, 10, "metrics")
		if _, ok := namespaceFindings(got["kubeposture_namespace_findings"])[b]; ok {
			return fmt.Errorf("clean namespace %s still has kubeposture_namespace_findings series", b)
		}
		if v, _ := find(got["kubeposture_report_writes_total"], map[string]string{"kind": "ScanReport", "operation": "delete"}); v != 1 {
			return fmt.Errorf("kubeposture_report_writes_total{kind=ScanReport,operation=delete} = %v, want 1", v)
		}
		return nil
	})

	// A deleted ClusterScan has no series left at all.
	if err := k8sClient.Delete(testCtx, getScan(t, "metrics")); err != nil {
		t.Fatal(err)
	}
	eventually(t, scanTimeout, func() error {
		if err := k8sClient.Get(testCtx, types.NamespacedName{Name: "metrics"}, &posturev1alpha1.ClusterScan{}); !apierrors.IsNotFound(err) {
			return fmt.Errorf("ClusterScan still there: %w", err)
		}
		if got := scrape(t, 10, "metrics"); len(got) > 0 {
			return fmt.Errorf("series of the deleted scan: %v", slices.Sorted(maps.Keys(got)))
		}
		return nil
	})
}

// TestMetricLabelsAreBounded holds every label of every kubeposture metric
// to the documented set: no object names, nothing read from an object.
func TestMetricLabelsAreBounded(t *testing.T) {
	ns := "metrics-labels"
	ensureNamespace(t, ns, nil)
	create(t, privilegedDeployment(ns, "secret-looking-name"))
	create(t, newScan("metrics-labels", ns))
	waitScanned(t, "metrics-labels", nil)

	allowed := []string{"scan", "namespace", "severity", "check", "framework", "result", "state", "reason", "kind", "operation", "le"}
	got := scrape(t, 10, "metrics-labels")
	if len(got) == 0 {
		t.Fatal("no series for scan metrics-labels")
	}
	for name, samples := range got {
		for _, s := range samples {
			for l, v := range s.labels {
				if !slices.Contains(allowed, l) {
					t.Errorf("%s has label %s=%q, not one of %v", name, l, v, allowed)
				}
				if strings.Contains(v, "secret-looking-name") {
					t.Errorf("%s label %s carries an object name: %q", name, l, v)
				}
			}
		}
	}
}

// describedMetrics returns the name of every metric the collector describes.
func describedMetrics(t *testing.T) []string {
	t.Helper()
	ch := make(chan *prometheus.Desc, 100)
	controllers.NewMetricsCollector(managerCache, controllers.MetricsOptions{}).Describe(ch)
	close(ch)
	fqName := regexp.MustCompile(`fqName: "([^"]+)"`)
	var names []string
	for d := range ch {
		m := fqName.FindStringSubmatch(d.String())
		if m == nil {
			t.Fatalf("no name in %s", d)
		}
		names = append(names, m[1])
	}
	slices.Sort(names)
	return names
}

// alertRules reads the groups of config/prometheus/prometheus_rule.yaml.
func alertRules(t *testing.T) (groups []any, alerts map[string]string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "config", "prometheus", "prometheus_rule.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var rule struct {
		Spec struct {
			Groups []struct {
				Rules []struct {
					Alert string `json:"alert"`
					Expr  string `json:"expr"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(data, &rule); err != nil {
		t.Fatalf("config/prometheus/prometheus_rule.yaml: %v", err)
	}
	var raw struct {
		Spec struct {
			Groups []any `json:"groups"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(data, &raw); err != nil {
		t.Fatalf("config/prometheus/prometheus_rule.yaml: %v", err)
	}
	alerts = map[string]string{}
	for _, g := range rule.Spec.Groups {
		for _, r := range g.Rules {
			alerts[r.Alert] = r.Expr
		}
	}
	return raw.Spec.Groups, alerts
}

// TestAlertRulesAndDocsNameExportedMetrics holds the alert rules and
// docs/metrics.md to the metrics the collector exports: a renamed metric
// must not leave an alert that never fires, or a doc that lies.
func TestAlertRulesAndDocsNameExportedMetrics(t *testing.T) {
	described := describedMetrics(t)
	if len(described) < 10 {
		t.Fatalf("described metrics %v", described)
	}
	_, alerts := alertRules(t)
	if len(alerts) < 3 {
		t.Fatalf("alerts %v, want at least scan failing, score dropped and new critical finding", slices.Sorted(maps.Keys(alerts)))
	}
	name := regexp.MustCompile(`kubeposture_[a-z_]+`)
	for alert, expr := range alerts {
		used := name.FindAllString(expr, -1)
		if len(used) == 0 {
			t.Errorf("alert %s uses no kubeposture metric: %s", alert, expr)
		}
		for _, m := range used {
			if base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(m, "_bucket"), "_count"), "_sum"); !slices.Contains(described, base) {
				t.Errorf("alert %s uses %s, which is not exported (exported: %v)", alert, m, described)
			}
		}
	}
	docs, err := os.ReadFile(filepath.Join("..", "docs", "metrics.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range described {
		if !strings.Contains(string(docs), "`"+m+"`") {
			t.Errorf("docs/metrics.md does not document %s", m)
		}
	}
	for alert := range alerts {
		if !strings.Contains(string(docs), alert) {
			t.Errorf("docs/metrics.md does not describe alert %s", alert)
		}
	}
	for _, m := range name.FindAllString(string(docs), -1) {
		if base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(m, "_bucket"), "_count"), "_sum"); !slices.Contains(described, base) {
			t.Errorf("docs/metrics.md names %s, which is not exported", m)
		}
	}
}

// TestAlertRulesWithPromtool checks the alert rules and runs their unit
// tests (config/prometheus/alerts_test.yaml) with promtool, where it is
// installed (`make promtool`: Debian's prometheus package). CI sets
// KUBEPOSTURE_REQUIRE_PROMTOOL=1, so that there a missing promtool fails.
func TestAlertRulesWithPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("KUBEPOSTURE_REQUIRE_PROMTOOL") != "" {
			t.Fatal("promtool is not installed (make promtool) and KUBEPOSTURE_REQUIRE_PROMTOOL is set")
		}
		t.Skip("promtool is not installed (make promtool)")
	}
	groups, _ := alertRules(t)
	rules, err := yaml.Marshal(map[string]any{"groups": groups})
	if err != nil {
		t.Fatal(err)
	}
	tests, err := os.ReadFile(filepath.Join("..", "config", "prometheus", "alerts_test.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for file, data := range map[string][]byte{"rules.yaml": rules, "alerts_test.yaml": tests} {
		if err := os.WriteFile(filepath.Join(dir, file), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{{"check", "rules", "rules.yaml"}, {"test", "rules", "alerts_test.yaml"}} {
		cmd := exec.CommandContext(testCtx, promtool, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// TestPrometheusConfigSelectsTheManager holds config/prometheus to
// config/manager: the Service selects the manager's Pods and targets its
// metrics port, and the ServiceMonitor selects the Service and its port.
func TestPrometheusConfigSelectsTheManager(t *testing.T) {
	read := func(path ...string) [][]byte {
		data, err := os.ReadFile(filepath.Join(append([]string{".."}, path...)...))
		if err != nil {
			t.Fatal(err)
		}
		var docs [][]byte
		for _, d := range strings.Split(string(data), "\n---\n") {
			docs = append(docs, []byte(d))
		}
		return docs
	}
	var deployment appsv1.Deployment
	for _, d := range read("config", "manager", "manager.yaml") {
		var obj appsv1.Deployment
		if err := yaml.Unmarshal(d, &obj); err != nil {
			t.Fatalf("config/manager/manager.yaml: %v", err)
		}
		if obj.Kind == "Deployment" && obj.Name == "kubeposture-manager" {
			deployment = obj
		}
	}
	if deployment.Name == "" {
		t.Fatal("config/manager/manager.yaml has no Deployment kubeposture-manager")
	}
	var service corev1.Service
	if err := yaml.Unmarshal(read("config", "prometheus", "metrics_service.yaml")[0], &service); err != nil {
		t.Fatalf("config/prometheus/metrics_service.yaml: %v", err)
	}
	var monitor struct {
		Metadata metav1.ObjectMeta `json:"metadata"`
		Spec     struct {
			Selector  metav1.LabelSelector `json:"selector"`
			Endpoints []struct {
				Port   string `json:"port"`
				Scheme string `json:"scheme"`
			} `json:"endpoints"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(read("config", "prometheus", "monitor.yaml")[0], &monitor); err != nil {
		t.Fatalf("config/prometheus/monitor.yaml: %v", err)
	}

	podLabels := deployment.Spec.Template.Labels
	for k, v := range service.Spec.Selector {
		if podLabels[k] != v {
			t.Errorf("the metrics Service selects %s=%s; the manager's Pods have %v", k, v, podLabels)
		}
	}
	if service.Namespace != deployment.Namespace {
		t.Errorf("the metrics Service is in %q, the manager in %q", service.Namespace, deployment.Namespace)
	}
	var containerPorts []string
	for _, c := range deployment.Spec.Template.Spec.Containers {
		for _, p := range c.Ports {
			containerPorts = append(containerPorts, p.Name)
		}
	}
	var servicePorts []string
	for _, p := range service.Spec.Ports {
		servicePorts = append(servicePorts, p.Name)
		if !slices.Contains(containerPorts, p.TargetPort.String()) {
			t.Errorf("the metrics Service targets port %s; the manager's ports are %v", p.TargetPort.String(), containerPorts)
		}
	}
	selector, err := metav1.LabelSelectorAsSelector(&monitor.Spec.Selector)
	if err != nil {
		t.Fatalf("config/prometheus/monitor.yaml: spec.selector: %v", err)
	}
	if !selector.Matches(labels.Set(service.Labels)) || selector.Empty() {
		t.Errorf("the ServiceMonitor selects %s; the Service has labels %v", selector, service.Labels)
	}
	if monitor.Metadata.Namespace != service.Namespace {
		t.Errorf("the ServiceMonitor is in %q, the Service in %q (a ServiceMonitor selects Services of its own namespace)", monitor.Metadata.Namespace, service.Namespace)
	}
	if len(monitor.Spec.Endpoints) != 1 || !slices.Contains(servicePorts, monitor.Spec.Endpoints[0].Port) || monitor.Spec.Endpoints[0].Scheme != "https" {
		t.Errorf("ServiceMonitor endpoints %+v; want one https endpoint on a Service port of %v", monitor.Spec.Endpoints, servicePorts)
	}
}
