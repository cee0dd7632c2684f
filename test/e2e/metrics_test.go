//go:build e2e

package e2e

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	certutil "k8s.io/client-go/util/cert"

	"github.com/kubeposture/kubeposture/test/cluster"
)

// clusterScanStatus is the wire shape of the ClusterScan status fields that
// the metrics export, written out here to pin what kubectl shows.
type clusterScanStatus struct {
	Status struct {
		LastSuccessfulScanTime time.Time  `json:"lastSuccessfulScanTime"`
		NextScanTime           *time.Time `json:"nextScanTime"`
		Summary                struct {
			Score              float64 `json:"score"`
			Critical           float64 `json:"critical"`
			High               float64 `json:"high"`
			Medium             float64 `json:"medium"`
			Low                float64 `json:"low"`
			ResourcesScanned   float64 `json:"resourcesScanned"`
			ChecksEvaluated    float64 `json:"checksEvaluated"`
			ChecksNotEvaluated float64 `json:"checksNotEvaluated"`
		} `json:"summary"`
		Frameworks []struct {
			Name       string  `json:"name"`
			Score      float64 `json:"score"`
			Compliance float64 `json:"compliance"`
			Failed     float64 `json:"failed"`
		} `json:"frameworks"`
	} `json:"status"`
}

// reportCounts is the wire shape of a ScanReport or ClusterScanReport: its
// severity counts and its findings' checks.
type reportCounts struct {
	Summary struct {
		Critical float64 `json:"critical"`
		High     float64 `json:"high"`
		Medium   float64 `json:"medium"`
		Low      float64 `json:"low"`
		Omitted  int     `json:"omitted"`
	} `json:"summary"`
	Objects []struct {
		Findings []struct {
			CheckID string `json:"checkID"`
		} `json:"findings"`
	} `json:"objects"`
}

func (r reportCounts) severities() map[string]float64 {
	return map[string]float64{"critical": r.Summary.Critical, "high": r.Summary.High, "medium": r.Summary.Medium, "low": r.Summary.Low}
}

func kubectlJSON(t *testing.T, into any, args ...string) {
	t.Helper()
	out := kubectl(t, append(args, "-o", "json")...)
	if err := json.Unmarshal([]byte(out), into); err != nil {
		t.Fatalf("Decoding kubectl %s: %v", strings.Join(args, " "), err)
	}
}

// series is one series of a scrape: its labels, less scan, and its value
// (a histogram's count of observations).
type series struct {
	labels map[string]string
	value  float64
}

// scrapeMetrics fetches url and returns the kubeposture_ series of one
// ClusterScan by metric name, and every metric family's name.
func scrapeMetrics(client *http.Client, req *http.Request, scan string) (map[string][]series, []string, error) {
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("%s answered %s: %.200s", req.URL, resp.Status, body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		return nil, nil, fmt.Errorf("parsing the metrics: %w", err)
	}
	out := map[string][]series{}
	for name, f := range families {
		if !strings.HasPrefix(name, "kubeposture_") {
			continue
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
			v := m.GetGauge().GetValue()
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				v = m.GetCounter().GetValue()
			case dto.MetricType_HISTOGRAM:
				v = float64(m.GetHistogram().GetSampleCount())
			}
			out[name] = append(out[name], series{labels: labels, value: v})
		}
	}
	return out, slices.Sorted(maps.Keys(families)), nil
}

// one returns the value of the series with exactly these labels.
func one(s []series, labels map[string]string) (float64, bool) {
	for _, x := range s {
		if maps.Equal(x.labels, labels) {
			return x.value, true
		}
	}
	return 0, false
}

// by maps the value of one label to each series' value.
func by(s []series, label string) map[string]float64 {
	out := map[string]float64{}
	for _, x := range s {
		out[x.labels[label]] = x.value
	}
	return out
}

// waitScrape scrapes until the endpoint answers and check passes.
func waitScrape(t *testing.T, what string, client *http.Client, url, scan string, check func(map[string][]series) error) map[string][]series {
	t.Helper()
	var got map[string][]series
	var last error
	waitFor(t, time.Minute, what, func() (bool, error) {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
		if err != nil {
			return false, err
		}
		got, _, last = scrapeMetrics(client, req, scan)
		if last == nil {
			last = check(got)
		}
		return last == nil, nil
	})
	if last != nil {
		t.Fatalf("%s: %v", what, last)
	}
	return got
}

const e2eMetricsObjects = `apiVersion: v1
kind: Namespace
metadata:
  name: e2e-metrics-a
---
apiVersion: v1
kind: Namespace
metadata:
  name: e2e-metrics-b
` + e2eMetricsDeployments

const e2eMetricsDeployments = `---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: e2e-metrics-a}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx:1.27, securityContext: {privileged: true}}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: e2e-metrics-a}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers: [{name: api, image: nginx:1.27, securityContext: {privileged: true}}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: e2e-metrics-b}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      hostNetwork: true
      containers: [{name: web, image: nginx:1.27}]
`

// TestMetricsMatchReports scrapes a running manager and checks its
// metrics against what kubectl reads from the ClusterScan and its reports;
// then that a restarted manager exports the scan's results without
// scanning again, and that deleting the ClusterScan removes its series.
func TestMetricsMatchReports(t *testing.T) {
	requireManager(t)
	t.Cleanup(func() {
		_, _, _ = testCluster.Kubectl("delete", "clusterscan", "e2e-metrics", "--ignore-not-found", "--wait=false")
		_, _, _ = testCluster.Kubectl("delete", "namespace", "e2e-metrics-a", "e2e-metrics-b", "--ignore-not-found", "--wait=false")
	})
	kubectlWithInput(t, e2eMetricsObjects, "apply", "--server-side", "-f", "-")

	port := freePort(t)
	url := "http://127.0.0.1:" + port + "/metrics"
	manager := startManager(t, "--metrics-bind-address=127.0.0.1:"+port, "--metrics-secure=false", "--metrics-max-namespaces=1")
	kubectlWithInput(t, `apiVersion: posture.kubeposture.io/v1alpha1
kind: ClusterScan
metadata:
  name: e2e-metrics
spec:
  includeNamespaces: [e2e-metrics-a, e2e-metrics-b]
  schedule: "0 3 * * *"
`, "apply", "-f", "-")
	kubectl(t, "wait", "--for=condition=Ready", "clusterscan/e2e-metrics", "--timeout=120s")

	var scan clusterScanStatus
	kubectlJSON(t, &scan, "get", "clusterscan", "e2e-metrics")
	st := scan.Status
	var repA, repB, repCluster reportCounts
	kubectlJSON(t, &repA, "get", "scanreport", "e2e-metrics", "-n", "e2e-metrics-a")
	kubectlJSON(t, &repB, "get", "scanreport", "e2e-metrics", "-n", "e2e-metrics-b")
	kubectlJSON(t, &repCluster, "get", "clusterscanreport", "e2e-metrics")
	if repA.Summary.Omitted+repB.Summary.Omitted+repCluster.Summary.Omitted != 0 {
		t.Fatal("reports omitted findings; the test needs them all")
	}

	got := waitScrape(t, "the metrics of scan e2e-metrics", http.DefaultClient, url, "e2e-metrics", func(got map[string][]series) error {
		if _, ok := got["kubeposture_check_findings"]; !ok {
			return fmt.Errorf("no kubeposture_check_findings yet")
		}
		return nil
	})

	// What the status says.
	wantSeverities := map[string]float64{"critical": st.Summary.Critical, "high": st.Summary.High, "medium": st.Summary.Medium, "low": st.Summary.Low}
	if diff := cmp.Diff(wantSeverities, by(got["kubeposture_findings"], "severity")); diff != "" {
		t.Errorf("kubeposture_findings (-status +metrics):\n%s", diff)
	}
	if st.NextScanTime == nil {
		t.Fatal("status.nextScanTime is not set for a scheduled scan")
	}
	for name, want := range map[string]float64{
		"kubeposture_score":                                  st.Summary.Score,
		"kubeposture_resources_scanned":                      st.Summary.ResourcesScanned,
		"kubeposture_last_successful_scan_timestamp_seconds": float64(st.LastSuccessfulScanTime.Unix()),
		"kubeposture_next_scan_timestamp_seconds":            float64(st.NextScanTime.Unix()),
		"kubeposture_scan_failing":                           0,
		"kubeposture_scan_duration_seconds":                  1, // observations: one scan
	} {
		if v, ok := one(got[name], map[string]string{}); !ok || v != want {
			t.Errorf("%s = %v (present %t), want %v", name, v, ok, want)
		}
	}
	if v, _ := one(got["kubeposture_checks"], map[string]string{"state": "evaluated"}); v != st.Summary.ChecksEvaluated {
		t.Errorf("kubeposture_checks{state=evaluated} = %v, want %v", v, st.Summary.ChecksEvaluated)
	}
	wantCompliance := map[string]float64{}
	for _, f := range st.Frameworks {
		wantCompliance[f.Name] = f.Compliance / 100
		if v, _ := one(got["kubeposture_framework_score"], map[string]string{"framework": f.Name}); v != f.Score {
			t.Errorf("kubeposture_framework_score{framework=%s} = %v, want %v", f.Name, v, f.Score)
		}
		if v, _ := one(got["kubeposture_framework_controls"], map[string]string{"framework": f.Name, "result": "fail"}); v != f.Failed {
			t.Errorf("kubeposture_framework_controls{framework=%s,result=fail} = %v, want %v", f.Name, v, f.Failed)
		}
	}
	if diff := cmp.Diff(wantCompliance, by(got["kubeposture_framework_compliance_ratio"], "framework")); diff != "" || len(wantCompliance) == 0 {
		t.Errorf("kubeposture_framework_compliance_ratio (-status +metrics):\n%s", diff)
	}

	// What the reports say: e2e-metrics-a (two privileged Deployments) has
	// the most severe findings, so it alone of the two has series under
	// --metrics-max-namespaces=1; e2e-metrics-b is summed under _other.
	perNS := map[string]map[string]float64{}
	for _, s := range got["kubeposture_namespace_findings"] {
		ns := s.labels["namespace"]
		if perNS[ns] == nil {
			perNS[ns] = map[string]float64{"critical": 0, "high": 0, "medium": 0, "low": 0}
		}
		perNS[ns][s.labels["severity"]] = s.value
	}
	if diff := cmp.Diff(repA.severities(), perNS["e2e-metrics-a"]); diff != "" {
		t.Errorf("kubeposture_namespace_findings{namespace=e2e-metrics-a} (-ScanReport +metrics):\n%s", diff)
	}
	if diff := cmp.Diff(repB.severities(), perNS["_other"]); diff != "" {
		t.Errorf("kubeposture_namespace_findings{namespace=_other} (-ScanReport e2e-metrics-b +metrics):\n%s", diff)
	}
	if _, ok := perNS["e2e-metrics-b"]; ok {
		t.Errorf("e2e-metrics-b has series beyond --metrics-max-namespaces=1")
	}
	sum := map[string]float64{}
	for _, counts := range perNS {
		for sev, n := range counts {
			sum[sev] += n
		}
	}
	if diff := cmp.Diff(wantSeverities, sum); diff != "" {
		t.Errorf("kubeposture_namespace_findings summed over namespaces (-status +metrics):\n%s", diff)
	}
	wantChecks := map[string]float64{}
	for _, r := range []reportCounts{repA, repB, repCluster} {
		for _, o := range r.Objects {
			for _, f := range o.Findings {
				wantChecks[f.CheckID]++
			}
		}
	}
	gotChecks := by(got["kubeposture_check_findings"], "check")
	if float64(len(gotChecks)) != st.Summary.ChecksEvaluated {
		t.Errorf("kubeposture_check_findings has %d checks, want every evaluated check (%v)", len(gotChecks), st.Summary.ChecksEvaluated)
	}
	maps.DeleteFunc(gotChecks, func(_ string, v float64) bool { return v == 0 })
	if diff := cmp.Diff(wantChecks, gotChecks); diff != "" {
		t.Errorf("kubeposture_check_findings above 0 (-reports +metrics):\n%s", diff)
	}
	writes := map[string]float64{}
	for _, s := range got["kubeposture_report_writes_total"] {
		writes[s.labels["kind"]+" "+s.labels["operation"]] = s.value
	}
	if diff := cmp.Diff(map[string]float64{"ScanReport create": 2, "ClusterScanReport create": 1}, writes); diff != "" {
		t.Errorf("kubeposture_report_writes_total (-want +got):\n%s", diff)
	}

	// A restarted manager exports the scan's status at once, without
	// scanning again (the next scan is due at 03:00).
	if err := manager.Stop(); err != nil {
		t.Fatalf("Stopping the manager: %v", err)
	}
	port = freePort(t)
	url = "http://127.0.0.1:" + port + "/metrics"
	startManager(t, "--metrics-bind-address=127.0.0.1:"+port, "--metrics-secure=false")
	got = waitScrape(t, "the restarted manager's metrics of scan e2e-metrics", http.DefaultClient, url, "e2e-metrics", func(got map[string][]series) error {
		if v, ok := one(got["kubeposture_score"], map[string]string{}); !ok || v != st.Summary.Score {
			return fmt.Errorf("kubeposture_score = %v (present %t), want %v", v, ok, st.Summary.Score)
		}
		return nil
	})
	if v, _ := one(got["kubeposture_last_successful_scan_timestamp_seconds"], map[string]string{}); v != float64(st.LastSuccessfulScanTime.Unix()) {
		t.Errorf("after a restart, kubeposture_last_successful_scan_timestamp_seconds = %v, want %v (no new scan)", v, st.LastSuccessfulScanTime.Unix())
	}
	if _, ok := got["kubeposture_scan_duration_seconds"]; ok {
		t.Errorf("after a restart, the manager scanned again: kubeposture_scan_duration_seconds = %v", got["kubeposture_scan_duration_seconds"])
	}

	// Deleting the ClusterScan deletes every one of its series.
	kubectl(t, "delete", "clusterscan", "e2e-metrics")
	waitScrape(t, "the series of the deleted scan to go", http.DefaultClient, url, "e2e-metrics", func(got map[string][]series) error {
		if len(got) > 0 {
			return fmt.Errorf("series of the deleted scan: %v", slices.Sorted(maps.Keys(got)))
		}
		return nil
	})
}

// TestMetricsSecureEndpoint scrapes the metrics endpoint as deployed
// (--metrics-secure, the default): over HTTPS, with a ServiceAccount token
// that the manager checks with a TokenReview, and a SubjectAccessReview
// against the kubeposture-metrics-reader ClusterRole from config/rbac.
func TestMetricsSecureEndpoint(t *testing.T) {
	requireManager(t)
	root, err := cluster.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _, _ = testCluster.Kubectl("delete", "clusterrolebinding", "e2e-metrics-reader", "--ignore-not-found")
		_, _, _ = testCluster.Kubectl("delete", "namespace", "e2e-metrics-auth", "--ignore-not-found", "--wait=false")
	})
	kubectl(t, "apply", "-f", filepath.Join(root, "config", "rbac", "metrics_reader_role.yaml"))
	kubectl(t, "create", "namespace", "e2e-metrics-auth")
	kubectl(t, "create", "serviceaccount", "prometheus", "-n", "e2e-metrics-auth")
	kubectl(t, "create", "serviceaccount", "stranger", "-n", "e2e-metrics-auth")
	kubectl(t, "create", "clusterrolebinding", "e2e-metrics-reader", "--clusterrole=kubeposture-metrics-reader", "--serviceaccount=e2e-metrics-auth:prometheus")
	reader := strings.TrimSpace(kubectl(t, "create", "token", "prometheus", "-n", "e2e-metrics-auth"))
	stranger := strings.TrimSpace(kubectl(t, "create", "token", "stranger", "-n", "e2e-metrics-auth"))

	port := freePort(t)
	url := "https://127.0.0.1:" + port + "/metrics"
	startManager(t, "--metrics-bind-address=127.0.0.1:"+port)
	// The manager serves a self-signed certificate unless given one (see docs/metrics.md).
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // the test's own self-signed endpoint

	status := func(token string) (int, string, error) {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
		if err != nil {
			return 0, "", err
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body), err
	}
	var body string
	waitFor(t, time.Minute, "the secure metrics endpoint to serve the reader", func() (bool, error) {
		code, b, err := status(reader)
		body = b
		return err == nil && code == http.StatusOK, nil
	})
	if !strings.Contains(body, "controller_runtime_reconcile_total") {
		t.Errorf("the secure endpoint does not serve the manager's metrics:\n%.300s", body)
	}
	for what, tc := range map[string]struct {
		token string
		want  int
	}{
		"no token":                        {"", http.StatusUnauthorized},
		"a token the API server rejects":  {"not-a-token", http.StatusUnauthorized},
		"a token without the reader role": {stranger, http.StatusForbidden},
	} {
		if code, b, err := status(tc.token); err != nil || code != tc.want || strings.Contains(b, "kubeposture_") {
			t.Errorf("Scraping with %s: status %d (%v), want %d: %.200s", what, code, err, tc.want, b)
		}
	}

	// With --metrics-cert-dir the manager serves the given certificate, which
	// a scraper can verify.
	certPEM, keyPEM, err := certutil.GenerateSelfSignedCertKey("127.0.0.1", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	certDir := t.TempDir()
	for file, data := range map[string][]byte{"tls.crt": certPEM, "tls.key": keyPEM} {
		if err := os.WriteFile(filepath.Join(certDir, file), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(certPEM) {
		t.Fatal("no certificate in the generated PEM")
	}
	port = freePort(t)
	startManager(t, "--metrics-bind-address=127.0.0.1:"+port, "--metrics-cert-dir="+certDir)
	verifying := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	waitFor(t, time.Minute, "the metrics endpoint to serve the given certificate", func() (bool, error) {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "https://127.0.0.1:"+port+"/metrics", nil)
		if err != nil {
			return false, err
		}
		req.Header.Set("Authorization", "Bearer "+reader)
		resp, err := verifying.Do(req)
		if err != nil {
			return false, nil //nolint:nilerr // not listening yet, or a certificate it should not serve: poll until the deadline
		}
		defer resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
}
