//go:build e2e

package charttest

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	posturev1alpha1 "github.com/kubeposture/kubeposture/api/v1alpha1"
	"github.com/kubeposture/kubeposture/test/cluster"
)

// TestChartInstallScanUpgradeUninstall installs the chart with helm on a real
// control plane (etcd, kube-apiserver, kube-controller-manager; no kubelet)
// into a namespace that enforces the restricted Pod Security Standard, as
// docs/operations.md says to, then:
//   - helm installs the CRDs from crds/, and the ReplicaSet controller's
//     manager Pod passes Pod Security admission, with the token mounted;
//   - the manager binary, run as a process with the Deployment's arguments
//     and the chart's ServiceAccount's token (so with exactly the chart's
//     RBAC), scans the chart's ClusterScan: Ready, ScanSucceeded, nothing
//     missing from the coverage;
//   - helm upgrade changes the ClusterScan, and the manager rescans;
//   - helm uninstall removes the ClusterScan, its reports are garbage
//     collected, and the CRDs stay (helm never deletes crds/).
func TestChartInstallScanUpgradeUninstall(t *testing.T) {
	ctx := t.Context()
	managerBin := filepath.Join(t.TempDir(), "manager")
	build := exec.CommandContext(ctx, "go", "build", "-o", managerBin, "./cmd/manager")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the manager: %v\n%s", err, out)
	}
	c, err := cluster.Start(ctx) // no CRDs: helm installs them
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Errorf("stopping the cluster: %v", err)
		}
	})
	kubectl := func(stdin string, args ...string) (string, error) {
		var in []byte
		if stdin != "" {
			in = []byte(stdin)
		}
		out, _, err := c.KubectlWithInput(ctx, in, args...)
		return out, err
	}
	mustKubectl := func(args ...string) string {
		t.Helper()
		out, err := kubectl("", args...)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	waitFor := func(what string, timeout time.Duration, cond func() (bool, error)) {
		t.Helper()
		began := time.Now()
		if err := cluster.WaitFor(ctx, timeout, cond); err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		t.Logf("Waited %s for %s", time.Since(began).Round(time.Millisecond), what)
	}
	helmIn := func(args ...string) string {
		t.Helper()
		out, err := helm(append(args, "--kubeconfig", c.KubeconfigPath, "--namespace", namespace)...)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}

	// The namespace, as docs/operations.md creates it.
	mustKubectl("create", "namespace", namespace)
	mustKubectl("label", "namespace", namespace, "pod-security.kubernetes.io/enforce=restricted", "pod-security.kubernetes.io/enforce-version=latest")
	// Pod Security admission is on: a privileged pod is refused.
	privileged := `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"privileged","namespace":"` + namespace + `"},` +
		`"spec":{"containers":[{"name":"c","image":"busybox","securityContext":{"privileged":true}}]}}`
	if out, err := kubectl(privileged, "apply", "-f", "-"); err == nil || !strings.Contains(err.Error(), "violates PodSecurity") {
		t.Fatalf("a privileged pod in %s: %q, %v; want it refused by PodSecurity admission", namespace, out, err)
	}

	notes := helmIn("install", release, chartDir)
	if !strings.Contains(notes, "kubectl get clusterscan default") {
		t.Errorf("helm install printed no usage notes:\n%s", notes)
	}
	if strings.Contains(notes, "does not enforce the restricted") {
		t.Errorf("the notes ask to label a namespace that is labelled:\n%s", notes)
	}
	for _, crd := range []string{"clusterscans", "scanreports", "clusterscanreports"} {
		mustKubectl("get", "crd", crd+".posture.kubeposture.io")
	}

	// The ReplicaSet controller creates the manager's Pod through Pod Security
	// admission (nothing runs it: there is no kubelet).
	selector := "app.kubernetes.io/instance=" + release + ",app.kubernetes.io/component=manager"
	waitFor("the manager Pod", time.Minute, func() (bool, error) {
		out, err := kubectl("", "get", "pods", "-n", namespace, "-l", selector, "-o", "name")
		return strings.TrimSpace(out) != "", err
	})
	pods := &corev1.PodList{}
	if err := json.Unmarshal([]byte(mustKubectl("get", "pods", "-n", namespace, "-l", selector, "-o", "json")), pods); err != nil {
		t.Fatal(err)
	}
	if len(pods.Items) != 1 {
		t.Fatalf("%d manager Pods, want 1", len(pods.Items))
	}
	if !slices.ContainsFunc(pods.Items[0].Spec.Volumes, func(v corev1.Volume) bool {
		return strings.HasPrefix(v.Name, "kube-api-access-") && v.Projected != nil
	}) {
		t.Errorf("the manager Pod mounts no ServiceAccount token: %+v", pods.Items[0].Spec.Volumes)
	}

	// Run the manager as the chart's ServiceAccount, with the Deployment's arguments.
	deployment := &appsv1.Deployment{}
	if err := json.Unmarshal([]byte(mustKubectl("get", "deployment", "-n", namespace, release+"-manager", "-o", "json")), deployment); err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(mustKubectl("create", "token", release+"-manager", "-n", namespace, "--duration=1h"))
	kubeconfig := serviceAccountKubeconfig(t, c.KubeconfigPath, token)
	args := []string{"--kubeconfig=" + kubeconfig, "--leader-election-namespace=" + namespace}
	for _, a := range deployment.Spec.Template.Spec.Containers[0].Args {
		switch {
		case strings.HasPrefix(a, "--metrics-bind-address="), strings.HasPrefix(a, "--health-probe-bind-address="):
			// Any free port: other tests may run managers on this machine.
			a = a[:strings.Index(a, "=")+1] + "127.0.0.1:0"
		case strings.HasPrefix(a, "--leader-election-namespace="):
			continue
		}
		args = append(args, a)
	}
	t.Logf("Manager arguments: %q", args[1:])
	began := time.Now()
	manager, err := cluster.StartProcess("manager", filepath.Join(t.TempDir(), "manager.log"), managerBin, args...)
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	stopManager := func() {
		if stopped {
			return
		}
		stopped = true
		if err := manager.Stop(); err != nil {
			t.Errorf("stopping the manager: %v", err)
		}
	}
	t.Cleanup(func() {
		stopManager()
		if t.Failed() {
			t.Logf("Last lines of the manager log:\n%s", manager.LogTail(60))
		}
	})

	scan := func() *posturev1alpha1.ClusterScan {
		t.Helper()
		cs := &posturev1alpha1.ClusterScan{}
		if err := json.Unmarshal([]byte(mustKubectl("get", "clusterscan", "default", "-o", "json")), cs); err != nil {
			t.Fatal(err)
		}
		return cs
	}
	scanned := func(cs *posturev1alpha1.ClusterScan) bool {
		for _, cond := range cs.Status.Conditions {
			if cond.Type == posturev1alpha1.ConditionReady {
				return cs.Status.ObservedGeneration == cs.Generation && cond.ObservedGeneration == cs.Generation && cond.Status == "True"
			}
		}
		return false
	}
	waitFor("the chart's ClusterScan to be scanned", 3*time.Minute, func() (bool, error) {
		if exited, err := manager.Exited(); exited {
			return false, fmt.Errorf("the manager exited: %w", err)
		}
		cs := scan()
		if scanned(cs) {
			return true, nil
		}
		if time.Since(began) > 2*time.Minute {
			return false, fmt.Errorf("not scanned after 2 minutes: conditions %+v", cs.Status.Conditions)
		}
		return false, nil
	})
	cs := scan()
	assertComplete(t, cs)
	if cs.Status.Summary == nil || cs.Status.Summary.ResourcesScanned == 0 {
		t.Errorf("the scan judged no object: %+v", cs.Status.Summary)
	}
	if got := len(cs.Status.Frameworks); got != len(posturev1alpha1.AllFrameworks) {
		t.Errorf("%d frameworks evaluated, want all %d", got, len(posturev1alpha1.AllFrameworks))
	}
	mustKubectl("get", "clusterscanreport", "-l", "posture.kubeposture.io/scan=default", "-o", "name")

	// helm upgrade reaches the ClusterScan, and the manager rescans.
	generation := cs.Generation
	helmIn("upgrade", release, chartDir, "--set", "scan.frameworks={pss-restricted}", "--set", "scan.schedule=@every 1h")
	waitFor("the rescan after helm upgrade", 3*time.Minute, func() (bool, error) {
		cs := scan()
		return cs.Generation > generation && scanned(cs), nil
	})
	cs = scan()
	assertComplete(t, cs)
	if cs.Spec.Schedule != "@every 1h" || len(cs.Status.Frameworks) != 1 || cs.Status.Frameworks[0].Name != posturev1alpha1.FrameworkPSSRestricted {
		t.Errorf("after helm upgrade: schedule %q, frameworks %+v; want @every 1h and pss-restricted alone", cs.Spec.Schedule, cs.Status.Frameworks)
	}

	// helm uninstall: the ClusterScan goes, and with it its reports (owner
	// references, collected by kube-controller-manager); the CRDs stay.
	stopManager()
	helmIn("uninstall", release)
	waitFor("the ClusterScan and its reports to be deleted", 2*time.Minute, func() (bool, error) {
		out, err := kubectl("", "get", "clusterscans,clusterscanreports,scanreports", "-A", "-o", "name")
		return strings.TrimSpace(out) == "", err
	})
	mustKubectl("get", "crd", "clusterscans.posture.kubeposture.io")
	if out := mustKubectl("get", "clusterroles", "-l", "app.kubernetes.io/instance="+release, "-o", "name"); strings.TrimSpace(out) != "" {
		t.Errorf("helm uninstall left ClusterRoles: %s", out)
	}
}

// assertComplete fails unless the scan succeeded having read every kind.
func assertComplete(t *testing.T, cs *posturev1alpha1.ClusterScan) {
	t.Helper()
	for _, cond := range cs.Status.Conditions {
		if cond.Type == posturev1alpha1.ConditionReady && cond.Reason != posturev1alpha1.ReasonScanSucceeded {
			t.Errorf("Ready is %s (%s): %s; want ScanSucceeded", cond.Status, cond.Reason, cond.Message)
		}
	}
	if cs.Status.Coverage == nil || len(cs.Status.Coverage.Read) == 0 {
		t.Errorf("the scan read no kind: coverage %+v", cs.Status.Coverage)
	} else if len(cs.Status.Coverage.Missing) > 0 {
		t.Errorf("the chart's RBAC leaves kinds unread: %+v", cs.Status.Coverage.Missing)
	}
}

// serviceAccountKubeconfig writes a kubeconfig for the cluster of admin's
// kubeconfig that authenticates with token, and returns its path.
func serviceAccountKubeconfig(t *testing.T, admin, token string) string {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(admin)
	if err != nil {
		t.Fatal(err)
	}
	kctx, ok := cfg.Contexts[cfg.CurrentContext]
	if !ok {
		t.Fatalf("%s: no current context", admin)
	}
	sa := clientcmdapi.NewConfig()
	sa.Clusters["cluster"] = cfg.Clusters[kctx.Cluster]
	sa.AuthInfos["manager"] = &clientcmdapi.AuthInfo{Token: token}
	sa.Contexts["manager"] = &clientcmdapi.Context{Cluster: "cluster", AuthInfo: "manager"}
	sa.CurrentContext = "manager"
	path := filepath.Join(t.TempDir(), "manager.kubeconfig")
	if err := clientcmd.WriteToFile(*sa, path); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
