//go:build e2e

package e2e

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

// scanReport is the wire shape of a ScanReport that this test relies on,
// written out here rather than taken from api/v1alpha1 so that the test pins
// the JSON that users and tools see.
type scanReport struct {
	Scan    string `json:"scan"`
	Summary struct {
		Score    *int32 `json:"score"`
		Grade    string `json:"grade"`
		Critical int32  `json:"critical"`
		Findings int32  `json:"findings"`
	} `json:"summary"`
	Checks  []reportCheck `json:"checks"`
	Objects []struct {
		Object struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Namespace  string `json:"namespace"`
			Name       string `json:"name"`
			UID        string `json:"uid"`
		} `json:"object"`
		Findings []struct {
			CheckID  string `json:"checkID"`
			Severity string `json:"severity"`
			Message  string `json:"message"`
		} `json:"findings"`
	} `json:"objects"`
}

// reportCheck is a check as a report describes it.
type reportCheck struct {
	ID       string `json:"id"`
	Severity string `json:"severity"`
	Title    string `json:"title"`
	Failed   int32  `json:"failed"`
}

const e2eShop = `apiVersion: v1
kind: Namespace
metadata:
  name: e2e-shop
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: e2e-shop
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: nginx:1.27
        securityContext:
          privileged: true
`

const e2eScan = `apiVersion: posture.kubeposture.io/v1alpha1
kind: ClusterScan
metadata:
  name: e2e
spec: {}
`

// TestE2EDeploymentAttributedAndReportsDeleted runs the manager against a
// cluster where kube-controller-manager has turned a privileged Deployment
// into a ReplicaSet and Pods. The findings must be about the Deployment, the
// object the user wrote, not about what it made; and deleting the ClusterScan
// must delete its reports through owner references.
func TestE2EDeploymentAttributedAndReportsDeleted(t *testing.T) {
	requireManager(t)
	t.Cleanup(func() {
		// Leave the cluster as we found it for other tests; errors are
		// irrelevant once the test is over.
		_, _, _ = testCluster.Kubectl("delete", "clusterscan", "e2e", "--ignore-not-found", "--wait=false")
		_, _, _ = testCluster.Kubectl("delete", "namespace", "e2e-shop", "--ignore-not-found", "--wait=false")
	})

	kubectlWithInput(t, e2eShop, "apply", "--server-side", "-f", "-")
	deployUID := kubectl(t, "get", "deployment", "web", "-n", "e2e-shop", "-o", "jsonpath={.metadata.uid}")
	waitFor(t, time.Minute, "kube-controller-manager to create the Deployment's 2 Pods", func() (bool, error) {
		out, _, err := testCluster.KubectlWithInput(t.Context(), nil, "get", "pods", "-n", "e2e-shop", "-l", "app=web", "-o", "name")
		return err == nil && len(strings.Fields(out)) == 2, nil
	})

	manager := startManager(t)
	kubectlWithInput(t, e2eScan, "apply", "-f", "-")
	kubectl(t, "wait", "--for=condition=Ready", "clusterscan/e2e", "--timeout=120s")

	// What a user sees first.
	out := kubectl(t, "get", "scanreports", "-A")
	t.Logf("kubectl get scanreports -A:\n%s", out)
	tb := parseTable(out)
	wantHeader := []string{"NAMESPACE", "NAME", "SCAN", "SCORE", "CRITICAL", "HIGH", "MEDIUM", "LOW"}
	if len(tb.header) < len(wantHeader) || !slices.Equal(tb.header[:len(wantHeader)], wantHeader) {
		t.Errorf("kubectl get scanreports -A: header %v, want it to start with %v", tb.header, wantHeader)
	}
	if !slices.ContainsFunc(tb.rows, func(row []string) bool {
		return len(row) >= 3 && row[0] == "e2e-shop" && row[1] == "e2e" && row[2] == "e2e"
	}) {
		t.Errorf("kubectl get scanreports -A: no row for ScanReport e2e-shop/e2e of scan e2e")
	}

	// The findings are about the Deployment, never its ReplicaSet or Pods.
	var report scanReport
	if err := json.Unmarshal([]byte(kubectl(t, "get", "scanreport", "e2e", "-n", "e2e-shop", "-o", "json")), &report); err != nil {
		t.Fatalf("Decoding ScanReport e2e-shop/e2e: %v", err)
	}
	if report.Scan != "e2e" {
		t.Errorf("ScanReport e2e-shop/e2e: scan %q, want e2e", report.Scan)
	}
	if report.Summary.Score == nil || report.Summary.Grade == "" || report.Summary.Findings == 0 {
		t.Errorf("ScanReport e2e-shop/e2e: summary %+v, want a score, a grade and findings", report.Summary)
	}
	var aboutDeployment, privileged bool
	for _, o := range report.Objects {
		switch o.Object.Kind {
		case "ReplicaSet", "Pod":
			t.Errorf("%d findings are about %s %s/%s; want them attributed to the Deployment that owns it",
				len(o.Findings), o.Object.Kind, o.Object.Namespace, o.Object.Name)
		case "Deployment":
			if o.Object.Name != "web" || o.Object.Namespace != "e2e-shop" {
				continue
			}
			aboutDeployment = len(o.Findings) > 0
			if o.Object.APIVersion != "apps/v1" || o.Object.UID != deployUID {
				t.Errorf("Findings about %+v, want apiVersion apps/v1 and uid %s", o.Object, deployUID)
			}
			for _, f := range o.Findings {
				if f.CheckID == "pss-privileged" && f.Severity == "critical" && strings.Contains(strings.ToLower(f.Message), "privileged") {
					privileged = true
				}
			}
		}
	}
	if !aboutDeployment {
		t.Errorf("ScanReport e2e-shop/e2e: no finding about Deployment e2e-shop/web among %d objects", len(report.Objects))
	}
	if !slices.ContainsFunc(report.Checks, func(c reportCheck) bool {
		return c.ID == "pss-privileged" && c.Severity == "critical" && c.Title != "" && c.Failed >= 1
	}) {
		t.Errorf("ScanReport e2e-shop/e2e: checks %+v do not describe pss-privileged", report.Checks)
	}
	if !privileged {
		t.Errorf("ScanReport e2e-shop/e2e: no failed finding says Deployment e2e-shop/web is privileged")
	}

	// Deleting the ClusterScan deletes its reports: the garbage collector in
	// kube-controller-manager follows their owner references. The manager is
	// stopped first, so that nothing else could be deleting them.
	if err := manager.Stop(); err != nil {
		t.Fatalf("Stopping the manager: %v", err)
	}
	kubectl(t, "delete", "clusterscan", "e2e")
	waitFor(t, 90*time.Second, "the garbage collector to delete the reports of scan e2e", func() (bool, error) {
		out, _, err := testCluster.KubectlWithInput(t.Context(), nil, "get", "scanreports", "-A")
		if err != nil {
			return false, err
		}
		tb := parseTable(out)
		scan := tb.column("SCAN")
		if scan < 0 {
			return len(tb.rows) == 0, nil // "No resources found" goes to stderr
		}
		return !slices.ContainsFunc(tb.rows, func(row []string) bool { return len(row) > scan && row[scan] == "e2e" }), nil
	})
	if out := kubectl(t, "get", "clusterscanreports", "-l", "posture.kubeposture.io/scan=e2e", "-o", "name"); out != "" {
		t.Errorf("kubectl get clusterscanreports of scan e2e after the scan was deleted: %s", out)
	}
}
