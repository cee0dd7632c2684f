//go:build e2e

package cluster_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubeposture/kubeposture/test/cluster"
)

// TestControllerManagerRunsWorkloadsAndGarbageCollects proves the cluster is
// more than an API server: kube-controller-manager turns a Deployment into a
// ReplicaSet and Pods, and garbage-collects them when the Deployment goes.
func TestControllerManagerRunsWorkloadsAndGarbageCollects(t *testing.T) {
	ctx := t.Context()
	root, err := cluster.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}

	began := time.Now()
	c, err := cluster.Start(ctx, cluster.WithCRDDirectoryPaths(filepath.Join(root, "config", "crd", "bases")))
	if err != nil {
		t.Fatalf("Starting the cluster: %v", err)
	}
	t.Logf("Control plane and kube-controller-manager started in %s", time.Since(began).Round(time.Millisecond))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("kube-controller-manager log tail:\n%s", c.ControllerManager.LogTail(40))
		}
		if err := c.Stop(); err != nil {
			t.Errorf("Stopping the cluster: %v", err)
		}
	})

	cl, err := client.New(c.Config, client.Options{})
	if err != nil {
		t.Fatal(err)
	}

	// The CRDs are served, and kubectl works against the cluster.
	stdout, _, err := c.Kubectl("get", "crd", "-o", "name")
	if err != nil {
		t.Fatal(err)
	}
	for _, crd := range []string{"clusterscans", "scanreports", "clusterscanreports"} {
		if !strings.Contains(stdout, crd+".posture.kubeposture.io") {
			t.Errorf("kubectl get crd: no %s in:\n%s", crd, stdout)
		}
	}

	const ns = "cluster-test"
	if err := cl.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{"app": "web"}
	deploy := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](2),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx:1.27"}}},
			},
		},
	}
	began = time.Now()
	if err := cl.Create(ctx, deploy); err != nil {
		t.Fatal(err)
	}

	var rsName string
	err = cluster.WaitFor(ctx, time.Minute, func() (bool, error) {
		var rsList appsv1.ReplicaSetList
		if err := cl.List(ctx, &rsList, client.InNamespace(ns)); err != nil {
			return false, err
		}
		for _, rs := range rsList.Items {
			if owner := metav1.GetControllerOf(&rs); owner != nil && owner.UID == deploy.UID {
				rsName = rs.Name
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("Waiting for the Deployment's ReplicaSet: %v", err)
	}

	var pods corev1.PodList
	err = cluster.WaitFor(ctx, time.Minute, func() (bool, error) {
		if err := cl.List(ctx, &pods, client.InNamespace(ns), client.MatchingLabels(labels)); err != nil {
			return false, err
		}
		return len(pods.Items) == 2, nil
	})
	if err != nil {
		t.Fatalf("Waiting for the ReplicaSet's 2 Pods (have %d): %v", len(pods.Items), err)
	}
	t.Logf("kube-controller-manager created ReplicaSet %s and %d Pods in %s", rsName, len(pods.Items), time.Since(began).Round(time.Millisecond))
	for _, pod := range pods.Items {
		if owner := metav1.GetControllerOf(&pod); owner == nil || owner.Kind != "ReplicaSet" || owner.Name != rsName {
			t.Errorf("Pod %s: controller is %v, want ReplicaSet %s", pod.Name, owner, rsName)
		}
		if pod.Status.Phase != corev1.PodPending {
			t.Errorf("Pod %s: phase %q, want Pending (there is no kubelet)", pod.Name, pod.Status.Phase)
		}
		if pod.Spec.ServiceAccountName != "default" {
			t.Errorf("Pod %s: serviceAccountName %q, want default (set by the ServiceAccount admission plugin)", pod.Name, pod.Spec.ServiceAccountName)
		}
	}

	began = time.Now()
	if err := cl.Delete(ctx, deploy); err != nil {
		t.Fatal(err)
	}
	err = cluster.WaitFor(ctx, time.Minute, func() (bool, error) {
		err := cl.Get(ctx, client.ObjectKey{Namespace: ns, Name: rsName}, &appsv1.ReplicaSet{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	})
	if err != nil {
		t.Fatalf("Waiting for the garbage collector to delete ReplicaSet %s: %v", rsName, err)
	}
	err = cluster.WaitFor(ctx, time.Minute, func() (bool, error) {
		if err := cl.List(ctx, &pods, client.InNamespace(ns), client.MatchingLabels(labels)); err != nil {
			return false, err
		}
		return len(pods.Items) == 0, nil
	})
	if err != nil {
		t.Fatalf("Waiting for the garbage collector to delete the Pods (%d left): %v", len(pods.Items), err)
	}
	t.Logf("Garbage collector deleted the ReplicaSet and Pods in %s", time.Since(began).Round(time.Millisecond))

	// kubectl sees the same: nothing left in the namespace.
	if stdout, stderr, err := c.Kubectl("get", "deployments,replicasets,pods", "-n", ns, "-o", "name"); err != nil || stdout != "" {
		t.Errorf("kubectl get deployments,replicasets,pods -n %s: stdout %q, stderr %q, err %v; want nothing", ns, stdout, stderr, err)
	}
}
