//go:build e2e

package e2e

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/kubeposture/kubeposture/test/cluster"
)

// The CLI's --cluster scan, as a built binary against a control plane where
// kube-controller-manager has made the Deployment's ReplicaSet and Pods:
// findings are about the Deployment only, and Secrets are not read.
func TestE2ECLIClusterScan(t *testing.T) {
	root, err := cluster.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "kubeposture")
	if out, err := exec.Command("go", "build", "-o", bin, filepath.Join(root, "cmd", "kubeposture")).CombinedOutput(); err != nil {
		t.Fatalf("building the CLI: %v\n%s", err, out)
	}
	kubectlWithInput(t, `apiVersion: v1
kind: Namespace
metadata: {name: e2e-cli}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: e2e-cli}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: web, image: nginx:1.27, securityContext: {privileged: true}}
`, "apply", "-f", "-")
	waitFor(t, 60*time.Second, "the Deployment's Pods", func() (bool, error) {
		out, _, err := testCluster.Kubectl("get", "pods", "-n", "e2e-cli", "-o", "name")
		return err == nil && len(out) > 0, nil
	})

	cmd := exec.Command(bin, "scan", "--cluster", "--kubeconfig", testCluster.KubeconfigPath, "--include-namespace", "e2e-cli", "-o", "json")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kubeposture scan --cluster: %v\n%s", err, out)
	}
	var res struct {
		Findings []struct {
			CheckID string `json:"checkID"`
			Object  struct {
				Kind, Namespace, Name string
			} `json:"object"`
		} `json:"findings"`
		Errors []string `json:"errors"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	privileged := false
	for _, f := range res.Findings {
		if f.Object.Namespace != "e2e-cli" {
			continue
		}
		if f.Object.Kind == "ReplicaSet" || f.Object.Kind == "Pod" {
			t.Errorf("finding %s on %s %s: want findings on the Deployment only", f.CheckID, f.Object.Kind, f.Object.Name)
		}
		if f.CheckID == "pss-privileged" && f.Object.Kind == "Deployment" && f.Object.Name == "web" {
			privileged = true
		}
	}
	if !privileged {
		t.Errorf("no pss-privileged finding on Deployment e2e-cli/web:\n%s", out)
	}
	if len(res.Errors) > 0 {
		t.Errorf("errors reading the cluster as admin: %v", res.Errors)
	}
}
