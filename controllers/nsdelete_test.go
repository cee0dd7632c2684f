package controllers_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	posturev1alpha1 "github.com/kubeposture/kubeposture/api/v1alpha1"
)

// envtest runs no namespace controller: a deleted namespace stays
// Terminating, with its objects, until its finalizer is removed. The tests
// play that controller's part by hand, which pins down the two states a scan
// can meet: a namespace being deleted (its objects still listed, new objects
// refused) and a namespace gone (objects the cache still holds for it).

// finalizeNamespace removes the namespace's finalizers, as the namespace
// controller does once it has deleted its content.
func finalizeNamespace(t *testing.T, name string) {
	t.Helper()
	ns := &corev1.Namespace{}
	if err := k8sClient.Get(testCtx, types.NamespacedName{Name: name}, ns); err != nil {
		t.Fatal(err)
	}
	ns.Spec.Finalizers = nil
	if err := k8sClient.SubResource("finalize").Update(testCtx, ns); err != nil {
		t.Fatalf("finalizing namespace %s: %v", name, err)
	}
	eventually(t, scanTimeout, func() error {
		err := k8sClient.Get(testCtx, types.NamespacedName{Name: name}, &corev1.Namespace{})
		if !apierrors.IsNotFound(err) {
			return fmt.Errorf("namespace %s still there: %w", name, err)
		}
		return nil
	})
}

func deleteNamespace(t *testing.T, name string) {
	t.Helper()
	if err := k8sClient.Delete(testCtx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}); err != nil {
		t.Fatalf("deleting namespace %s: %v", name, err)
	}
}

func reportAbsent(ns, name string) error {
	err := k8sClient.Get(testCtx, types.NamespacedName{Namespace: ns, Name: name}, &posturev1alpha1.ScanReport{})
	if !apierrors.IsNotFound(err) {
		return fmt.Errorf("ScanReport %s/%s: err = %w, want NotFound", ns, name, err)
	}
	return nil
}

// namespaceFinding says whether the cluster report has a finding about the namespace as such.
func namespaceFinding(t *testing.T, scan, ns string) bool {
	t.Helper()
	cluster := &posturev1alpha1.ClusterScanReport{}
	if err := k8sClient.Get(testCtx, types.NamespacedName{Name: scan}, cluster); err != nil {
		t.Fatal(err)
	}
	return slices.ContainsFunc(cluster.Objects, func(o posturev1alpha1.ObjectFindings) bool {
		return o.Object.Kind == "Namespace" && o.Object.Name == ns
	})
}

// A namespace deleted while a scan runs: while it is terminating the scan
// still sees its workloads, the API server refuses the report, and the scan
// succeeds without it; once it is gone its leftover objects are not reported.
// No failure condition or event at any point.
func TestNamespaceDeletedDuringScan(t *testing.T) {
	const name, gone, stays = "nsdel", "nsdel-gone", "nsdel-stays"
	ensureNamespace(t, gone, nil)
	ensureNamespace(t, stays, nil)
	create(t, privilegedDeployment(gone, "web"), privilegedDeployment(stays, "web"))
	create(t, newScan(name, "nsdel-*"))
	scan := waitScanned(t, name, nil)
	getReport(t, gone, name)
	watch := watchForFailures(t, name)

	// Terminating: the namespace controller has deleted the report, not yet the Deployment.
	deleteNamespace(t, gone)
	if err := k8sClient.DeleteAllOf(testCtx, &posturev1alpha1.ScanReport{}, client.InNamespace(gone)); err != nil {
		t.Fatal(err)
	}
	eventually(t, scanTimeout, func() error { // the cache must see the namespace terminating
		ns := &corev1.Namespace{}
		if err := managerReader.Get(testCtx, types.NamespacedName{Name: gone}, ns); err != nil {
			return err
		}
		if ns.DeletionTimestamp.IsZero() {
			return fmt.Errorf("namespace %s not terminating in the cache yet", gone)
		}
		return nil
	})
	requestScan(t, name, "terminating")
	scan = waitScanned(t, name, scan.Status.LastSuccessfulScanTime)
	if r := readyCondition(scan); r.Reason != posturev1alpha1.ReasonScanSucceeded {
		t.Errorf("Ready = %+v, want ScanSucceeded", r)
	}
	if err := reportAbsent(gone, name); err != nil {
		t.Errorf("a report was written into the terminating namespace: %v", err)
	}
	// The namespace was in the scan (so its report was attempted and refused), and the other one is still reported.
	if !namespaceFinding(t, name, gone) {
		t.Errorf("the terminating namespace %s was not in the scan: the test did not make the API server refuse a report", gone)
	}
	getReport(t, stays, name)

	// Gone: the namespace controller has finished; its Deployment outlives it in envtest's etcd.
	finalizeNamespace(t, gone)
	eventually(t, scanTimeout, func() error { // the cache must see the namespace gone
		err := managerReader.Get(testCtx, types.NamespacedName{Name: gone}, &corev1.Namespace{})
		if !apierrors.IsNotFound(err) {
			return fmt.Errorf("namespace %s still in the cache: %w", gone, err)
		}
		return nil
	})
	requestScan(t, name, "gone")
	waitScanned(t, name, scan.Status.LastSuccessfulScanTime)
	if err := reportAbsent(gone, name); err != nil {
		t.Error(err)
	}
	if namespaceFinding(t, name, gone) {
		t.Errorf("the cluster report still judges the deleted namespace %s", gone)
	}
	getReport(t, stays, name)

	// Namespaces created and deleted while scans run, in no particular order with them.
	for i := range 5 {
		ns := fmt.Sprintf("nsdel-race-%d", i)
		ensureNamespace(t, ns, nil)
		create(t, privilegedDeployment(ns, "web"))
		prev := getScan(t, name).Status.LastSuccessfulScanTime
		requestScan(t, name, ns)
		time.Sleep(time.Duration(i*20) * time.Millisecond) // spreads the deletes over the scan's phases; no synchronisation relies on it
		deleteNamespace(t, ns)
		finalizeNamespace(t, ns)
		waitScanned(t, name, prev)
	}
	// A scan after the cache has seen them all gone leaves no report in any of them:
	// one written before its namespace went is deleted as stale.
	eventually(t, scanTimeout, func() error {
		prev := getScan(t, name).Status.LastSuccessfulScanTime
		requestScan(t, name, time.Now().String())
		waitScanned(t, name, prev)
		for i := range 5 {
			if err := reportAbsent(fmt.Sprintf("nsdel-race-%d", i), name); err != nil {
				return err
			}
		}
		return nil
	})
	watch.check(t)
	noScanFailedEvent(t, name)
}
