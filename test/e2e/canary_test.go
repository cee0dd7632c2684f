//go:build e2e

package e2e

import (
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// Canary values planted where a careless scanner could pick them up (Secret
// data, a ConfigMap, a literal environment variable, kubectl's last-applied
// annotation) must appear in no report, status, event, log line or metric.
func TestE2ECanariesNeverLeak(t *testing.T) {
	requireManager(t)
	canaries := []string{"canary-secret-data-4f1d", "canary-configmap-9b2e", "canary-env-literal-7c3a", "canary-stringdata-2e8f"}
	manifest := fmt.Sprintf(`apiVersion: v1
kind: Namespace
metadata:
  name: e2e-canary
---
apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: e2e-canary
data:
  password: %s
stringData:
  token: %s
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: e2e-canary
data:
  dsn: %s
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: e2e-canary
spec:
  replicas: 1
  selector:
    matchLabels: {app: api}
  template:
    metadata:
      labels: {app: api}
    spec:
      containers:
      - name: api
        image: registry.example.com/api:1.0
        securityContext: {privileged: true}
        env:
        - name: DB_PASSWORD
          value: %s
        - name: TOKEN
          valueFrom:
            secretKeyRef: {name: db, key: token}
`, b64(canaries[0]), canaries[3], canaries[1], canaries[2])
	// Client-side apply, so that kubectl's last-applied annotation holds every value too.
	kubectlWithInput(t, manifest, "apply", "-f", "-")

	port := freePort(t)
	mgr := startManager(t, "--metrics-bind-address=127.0.0.1:"+port, "--metrics-secure=false", "--zap-log-level=debug")
	kubectlWithInput(t, `apiVersion: posture.kubeposture.io/v1alpha1
kind: ClusterScan
metadata:
  name: e2e-canary
spec:
  includeNamespaces: [e2e-canary]
`, "apply", "-f", "-")
	kubectl(t, "wait", "--for=condition=Ready", "clusterscan/e2e-canary", "--timeout=120s")

	// Positive control: the scan did judge the Deployment that carries the canaries.
	report := kubectl(t, "get", "scanreport", "e2e-canary", "-n", "e2e-canary", "-o", "yaml")
	if !strings.Contains(report, "pss-privileged") || !strings.Contains(report, "name: api") {
		t.Fatalf("the scan did not judge the Deployment:\n%s", report)
	}

	var metrics string
	waitFor(t, 30*time.Second, "the metrics endpoint", func() (bool, error) {
		resp, err := http.Get("http://127.0.0.1:" + port + "/metrics")
		if err != nil {
			return false, nil //nolint:nilerr // not listening yet: poll again
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		metrics = string(body)
		return err == nil && resp.StatusCode == http.StatusOK, err
	})
	// Controls: the canaries are really in the cluster, and the metrics are the manager's.
	if planted := kubectl(t, "get", "secret,configmap,deployment", "-n", "e2e-canary", "-o", "yaml"); !strings.Contains(planted, canaries[1]) ||
		!strings.Contains(planted, canaries[2]) || !strings.Contains(planted, b64(canaries[0])) {
		t.Fatalf("the canaries were not planted:\n%s", planted)
	}
	if !strings.Contains(metrics, "controller_runtime_reconcile_total") {
		t.Fatalf("the metrics endpoint does not serve the manager's metrics:\n%.500s", metrics)
	}
	logData, err := os.ReadFile(mgr.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	places := map[string]string{
		"reports":            kubectl(t, "get", "scanreports,clusterscanreports", "-A", "-o", "yaml"),
		"ClusterScan status": kubectl(t, "get", "clusterscan", "e2e-canary", "-o", "yaml"),
		"events":             kubectl(t, "get", "events", "-A", "-o", "yaml"),
		"manager log":        string(logData),
		"metrics":            metrics,
	}
	for where, text := range places {
		if text == "" {
			t.Errorf("%s: nothing to search", where)
		}
		for _, c := range append(canaries, b64(canaries[0])) {
			if strings.Contains(text, c) {
				t.Errorf("canary %q leaked into the %s", c, where)
			}
		}
	}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}
