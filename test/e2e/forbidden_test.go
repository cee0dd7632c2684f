//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"

	posturev1alpha1 "github.com/kubeposture/kubeposture/api/v1alpha1"
	"github.com/kubeposture/kubeposture/test/cluster"
)

// TestE2EManagerForbiddenAKindFromTheStart runs the manager as a
// ServiceAccount bound to the generated ClusterRole without pods, as when a
// cluster's admins trim it. The manager must not wait for a Pod informer that
// can never sync: the scan completes, says it could not read Pods, and the
// checks that need them are not evaluated. Granting pods later needs no
// restart: the next scan reads them.
func TestE2EManagerForbiddenAKindFromTheStart(t *testing.T) {
	requireManager(t)
	c := faultClient(t)
	ctx := t.Context()
	root, err := cluster.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "config", "rbac", "role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	role := &rbacv1.ClusterRole{}
	if err := yaml.UnmarshalStrict(data, role); err != nil {
		t.Fatalf("config/rbac/role.yaml: %v", err)
	}
	full := role.DeepCopy()
	trimmed := false
	for i := range role.Rules {
		r := &role.Rules[i]
		if slices.Contains(r.APIGroups, "") && slices.Contains(r.Resources, "pods") {
			r.Resources = slices.DeleteFunc(r.Resources, func(s string) bool { return s == "pods" })
			trimmed = true
		}
	}
	if !trimmed {
		t.Fatal("config/rbac/role.yaml grants no pods: nothing to take away")
	}
	const ns, sa, name = "e2e-forbidden-system", "manager", "e2e-forbidden-manager"
	writeRole := func(r *rbacv1.ClusterRole) {
		t.Helper()
		r.Name, r.ResourceVersion = name, ""
		out, err := yaml.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		kubectlWithInput(t, string(out), "apply", "--server-side", "--force-conflicts", "-f", "-")
	}
	kubectl(t, "create", "namespace", ns)
	kubectl(t, "create", "serviceaccount", sa, "-n", ns)
	writeRole(role)
	kubectl(t, "create", "clusterrolebinding", name, "--clusterrole="+name, "--serviceaccount="+ns+":"+sa)
	t.Cleanup(func() {
		_, _, _ = testCluster.Kubectl("delete", "clusterrolebinding,clusterrole", name, "--ignore-not-found")
		_, _, _ = testCluster.Kubectl("delete", "namespace", ns, "--wait=false")
	})
	token := strings.TrimSpace(kubectl(t, "create", "token", sa, "-n", ns, "--duration=1h"))
	cfg, err := clientcmd.LoadFromFile(testCluster.KubeconfigPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, ai := range cfg.AuthInfos {
		ai.ClientCertificateData, ai.ClientKeyData, ai.ClientCertificate, ai.ClientKey = nil, nil, "", ""
		ai.Token = token
	}
	kubeconfig := filepath.Join(t.TempDir(), "manager.kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, kubeconfig); err != nil {
		t.Fatal(err)
	}

	namespaces := faultWorkloads(t, "e2e-forbidden", 0, 1)
	m := startManager(t, "--kubeconfig="+kubeconfig)
	applyScan(t, "e2e-forbidden", "e2e-forbidden-*", "")
	var scan *posturev1alpha1.ClusterScan
	waitFor(t, 2*time.Minute, "the scan to complete without pods", func() (bool, error) {
		if exited, err := m.Exited(); exited {
			return false, err
		}
		var ready bool
		scan, ready, err = scanReady(ctx, c, "e2e-forbidden")
		return ready, err
	})
	if r := readyReason(scan); r != posturev1alpha1.ReasonScanIncomplete {
		t.Errorf("Ready reason %q, want %s", r, posturev1alpha1.ReasonScanIncomplete)
	}
	if cov := scan.Status.Coverage; cov == nil || !slices.ContainsFunc(cov.Missing, func(m posturev1alpha1.MissingKind) bool { return m.Kind == "Pod" }) {
		t.Errorf("status.coverage %+v does not name Pod as missing", cov)
	}
	if scan.Status.Summary == nil || scan.Status.Summary.ChecksNotEvaluated == 0 {
		t.Errorf("status.summary %+v: want checks not evaluated", scan.Status.Summary)
	}

	// Grant pods: the next scan reads them, with no restart, and judges the
	// workloads (checks of pod specs were not evaluated without them: a
	// bare Pod could have hidden anything).
	writeRole(full)
	requestScan(t, c, "e2e-forbidden", "granted")
	scan, _, err = scanReady(ctx, c, "e2e-forbidden")
	if err != nil {
		t.Fatal(err)
	}
	if r := readyReason(scan); r != posturev1alpha1.ReasonScanSucceeded || len(scan.Status.Coverage.Missing) != 0 {
		t.Errorf("After granting pods: Ready reason %q, missing %+v; want ScanSucceeded with nothing missing", r, scan.Status.Coverage.Missing)
	}
	checkReportsWhole(t, c, "e2e-forbidden", namespaces)
}

func readyReason(scan *posturev1alpha1.ClusterScan) string {
	for _, c := range scan.Status.Conditions {
		if c.Type == posturev1alpha1.ConditionReady {
			return c.Reason
		}
	}
	return ""
}
