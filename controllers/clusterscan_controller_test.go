package controllers_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	posturev1alpha1 "github.com/kubeposture/kubeposture/api/v1alpha1"
)

const scanTimeout = 30 * time.Second

func privilegedDeployment(ns, name string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "app", Image: "registry.example.com/app:1.0",
					SecurityContext: &corev1.SecurityContext{Privileged: ptr(true)},
				}}},
			},
		},
	}
}

func denyAll(ns string) *networkingv1.NetworkPolicy {
	return &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "default-deny"},
		Spec: networkingv1.NetworkPolicySpec{
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
		},
	}
}

func newScan(name string, include ...string) *posturev1alpha1.ClusterScan {
	return &posturev1alpha1.ClusterScan{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       posturev1alpha1.ClusterScanSpec{IncludeNamespaces: include},
	}
}

// scannedShop makes namespace ns with a privileged Deployment "web", scans
// it with a new ClusterScan called name, and waits for the scan to succeed.
func scannedShop(t *testing.T, name, ns string) {
	t.Helper()
	ensureNamespace(t, ns, nil)
	create(t, privilegedDeployment(ns, "web"))
	create(t, newScan(name, ns))
	waitScanned(t, name, nil)
}

func ptr[T any](v T) *T { return &v }

func getScan(t *testing.T, name string) *posturev1alpha1.ClusterScan {
	t.Helper()
	scan := &posturev1alpha1.ClusterScan{}
	if err := k8sClient.Get(testCtx, types.NamespacedName{Name: name}, scan); err != nil {
		t.Fatalf("getting ClusterScan %s: %v", name, err)
	}
	return scan
}

// waitScanned waits until the scan has succeeded after the given time and
// for the current generation, and returns it.
func waitScanned(t *testing.T, name string, after *metav1.Time) *posturev1alpha1.ClusterScan {
	t.Helper()
	var scan *posturev1alpha1.ClusterScan
	eventually(t, scanTimeout, func() error {
		scan = &posturev1alpha1.ClusterScan{}
		if err := k8sClient.Get(testCtx, types.NamespacedName{Name: name}, scan); err != nil {
			return err
		}
		st := scan.Status
		ready := meta.FindStatusCondition(st.Conditions, posturev1alpha1.ConditionReady)
		switch {
		case ready == nil || ready.Status != metav1.ConditionTrue:
			return fmt.Errorf("not Ready: %+v", st.Conditions)
		case st.ObservedGeneration != scan.Generation:
			return fmt.Errorf("observedGeneration %d, generation %d", st.ObservedGeneration, scan.Generation)
		case st.LastSuccessfulScanTime == nil:
			return errors.New("no lastSuccessfulScanTime")
		case after != nil && !st.LastSuccessfulScanTime.After(after.Time):
			return fmt.Errorf("last successful scan %s is not after %s", st.LastSuccessfulScanTime, after)
		case meta.IsStatusConditionTrue(st.Conditions, posturev1alpha1.ConditionReconciling):
			return errors.New("still Reconciling")
		}
		return nil
	})
	return scan
}

func getReport(t *testing.T, ns, name string) *posturev1alpha1.ScanReport {
	t.Helper()
	rep := &posturev1alpha1.ScanReport{}
	if err := k8sClient.Get(testCtx, types.NamespacedName{Namespace: ns, Name: name}, rep); err != nil {
		t.Fatalf("getting ScanReport %s/%s: %v", ns, name, err)
	}
	return rep
}

type findingKey struct{ Check, Kind, Namespace, Name string }

func keys(findings []posturev1alpha1.ObjectFinding) []findingKey {
	out := make([]findingKey, 0, len(findings))
	for _, f := range findings {
		out = append(out, findingKey{f.CheckID, f.Object.Kind, f.Object.Namespace, f.Object.Name})
	}
	slices.SortFunc(out, func(a, b findingKey) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
	return out
}

func TestScanOnCreateWritesReports(t *testing.T) {
	ns := "create-shop"
	ensureNamespace(t, ns, nil)
	dep := privilegedDeployment(ns, "web")
	create(t, dep)
	// A ReplicaSet the Deployment controls (no kube-controller-manager here, so made by hand)
	// and a Pod it controls: both are attributed to the Deployment.
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web-abc", OwnerReferences: []metav1.OwnerReference{{
			APIVersion: "apps/v1", Kind: "Deployment", Name: dep.Name, UID: dep.UID, Controller: ptr(true)}}},
		Spec: appsv1.ReplicaSetSpec{Selector: dep.Spec.Selector, Template: dep.Spec.Template},
	}
	create(t, rs)
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web-abc-1", Labels: dep.Spec.Template.Labels, OwnerReferences: []metav1.OwnerReference{{
			APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID, Controller: ptr(true)}}},
		Spec: dep.Spec.Template.Spec,
	}
	create(t, pod)
	create(t, newScan("create", ns))

	scan := waitScanned(t, "create", nil)
	rep := getReport(t, ns, "create")

	for _, f := range rep.AllFindings() {
		if f.Object.Kind != "Deployment" {
			t.Errorf("finding %s is about %s %s; want only the Deployment", f.CheckID, f.Object.Kind, f.Object.Name)
		}
	}
	var privileged *posturev1alpha1.ObjectFinding
	findings := rep.AllFindings()
	for i := range findings {
		if findings[i].CheckID == "pss-privileged" {
			privileged = &findings[i]
		}
	}
	if privileged == nil {
		t.Fatalf("no pss-privileged finding in %v", keys(findings))
	}
	var described *posturev1alpha1.ReportCheck
	for i := range rep.Checks {
		if rep.Checks[i].ID == "pss-privileged" {
			described = &rep.Checks[i]
		}
	}
	if diff := cmp.Diff(posturev1alpha1.ObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Namespace: ns, Name: "web", UID: string(dep.UID)}, privileged.Object); diff != "" {
		t.Errorf("finding object (-want +got):\n%s", diff)
	}
	if privileged.Severity != posturev1alpha1.SeverityCritical || !strings.Contains(privileged.Message, `"app"`) {
		t.Errorf("pss-privileged finding = %+v", privileged)
	}
	if described == nil || described.Severity != posturev1alpha1.SeverityCritical || described.Failed != 1 || described.Title == "" ||
		described.Remediation == "" || !slices.Contains(described.Benchmarks, "PSS baseline: privileged") {
		t.Errorf("pss-privileged described as %+v", described)
	}
	if rep.Scan != "create" || rep.Labels[posturev1alpha1.LabelScan] != "create" {
		t.Errorf("report scan = %q, labels %v", rep.Scan, rep.Labels)
	}
	if rep.Summary.Critical < 1 || rep.Summary.Score <= 0 || rep.Summary.Score >= 100 || int(rep.Summary.Findings) != len(findings) {
		t.Errorf("report summary = %+v with %d findings", rep.Summary, len(findings))
	}
	// The owner reference makes deleting the scan delete the report.
	if diff := cmp.Diff([]metav1.OwnerReference{{APIVersion: "posture.kubeposture.io/v1alpha1", Kind: "ClusterScan", Name: "create",
		UID: scan.UID, Controller: ptr(true), BlockOwnerDeletion: ptr(true)}}, rep.OwnerReferences); diff != "" {
		t.Errorf("owner references (-want +got):\n%s", diff)
	}

	// The namespace has no NetworkPolicy: a finding on the Namespace, in the cluster report.
	cluster := &posturev1alpha1.ClusterScanReport{}
	if err := k8sClient.Get(testCtx, types.NamespacedName{Name: "create"}, cluster); err != nil {
		t.Fatal(err)
	}
	if got := keys(cluster.AllFindings()); !slices.Contains(got, findingKey{"netpol-namespace-without-policy", "Namespace", "", ns}) {
		t.Errorf("cluster report findings %v lack the namespace without NetworkPolicy", got)
	}
	if cluster.Summary.Findings < rep.Summary.Findings || cluster.Namespaces != 1 {
		t.Errorf("cluster summary %+v, namespaces %d", cluster.Summary, cluster.Namespaces)
	}

	st := scan.Status
	if st.Summary == nil || st.Summary.Critical < 1 || st.Summary.Grade == "" || st.Summary.ResourcesScanned == 0 || st.Summary.ChecksEvaluated == 0 {
		t.Errorf("status summary = %+v", st.Summary)
	}
	if len(st.Frameworks) != 4 {
		t.Errorf("frameworks = %+v, want all four", st.Frameworks)
	}
	if st.Coverage == nil || len(st.Coverage.Missing) != 0 || !slices.Contains(st.Coverage.Read, "Secret") || !slices.Contains(st.Coverage.Read, "Deployment.apps") {
		t.Errorf("coverage = %+v", st.Coverage)
	}
	if st.LastScanDuration == nil || st.NextScanTime != nil {
		t.Errorf("lastScanDuration %v, nextScanTime %v (no schedule)", st.LastScanDuration, st.NextScanTime)
	}

	// An unchanged cluster rescanned (by annotation) writes nothing.
	before := rep.ResourceVersion
	requestScan(t, "create", "again")
	waitScanned(t, "create", scan.Status.LastSuccessfulScanTime)
	if after := getReport(t, ns, "create").ResourceVersion; after != before {
		t.Errorf("report rewritten on an unchanged cluster: resourceVersion %s -> %s", before, after)
	}
}

// requestScan sets the scan-requested-at annotation, and moves the clock so the new scan has a later time.
func requestScan(t *testing.T, name, value string) {
	t.Helper()
	fakeClock.Step(time.Second)
	scan := getScan(t, name)
	patch := client.MergeFrom(scan.DeepCopy())
	if scan.Annotations == nil {
		scan.Annotations = map[string]string{}
	}
	scan.Annotations[posturev1alpha1.ScanRequestedAtAnnotation] = value
	if err := k8sClient.Patch(testCtx, scan, patch); err != nil {
		t.Fatal(err)
	}
}

func TestSpecChangeRescansAndCleanNamespaceLosesReport(t *testing.T) {
	shop, other := "spec-shop", "spec-other"
	ensureNamespace(t, shop, nil)
	ensureNamespace(t, other, nil)
	create(t, privilegedDeployment(shop, "web"), privilegedDeployment(other, "web"))
	create(t, newScan("spec", shop))
	scan := waitScanned(t, "spec", nil)
	getReport(t, shop, "spec")
	if err := k8sClient.Get(testCtx, types.NamespacedName{Namespace: other, Name: "spec"}, &posturev1alpha1.ScanReport{}); !apierrors.IsNotFound(err) {
		t.Fatalf("report for out-of-scope namespace: err = %v, want NotFound", err)
	}

	// A spec change (a namespace added to the scope) rescans.
	fakeClock.Step(time.Second)
	patch := client.MergeFrom(scan.DeepCopy())
	scan.Spec.IncludeNamespaces = []string{shop, other}
	if err := k8sClient.Patch(testCtx, scan, patch); err != nil {
		t.Fatal(err)
	}
	waitScanned(t, "spec", scan.Status.LastSuccessfulScanTime)
	getReport(t, other, "spec")

	// The namespace becomes clean: its report is deleted after the next scan.
	if err := k8sClient.DeleteAllOf(testCtx, &appsv1.Deployment{}, client.InNamespace(other)); err != nil {
		t.Fatal(err)
	}
	eventually(t, scanTimeout, func() error { // the informer must see the deletion first
		prev := getScan(t, "spec").Status.LastSuccessfulScanTime
		requestScan(t, "spec", time.Now().String())
		waitScanned(t, "spec", prev)
		err := k8sClient.Get(testCtx, types.NamespacedName{Namespace: other, Name: "spec"}, &posturev1alpha1.ScanReport{})
		if !apierrors.IsNotFound(err) {
			return fmt.Errorf("report of clean namespace: err = %w, want NotFound", err)
		}
		return nil
	})
	getReport(t, shop, "spec")
}

func TestScheduleFiresWhenClockPassesNextScanTime(t *testing.T) {
	ns := "schedule-shop"
	ensureNamespace(t, ns, nil)
	create(t, privilegedDeployment(ns, "web"))
	scan := newScan("schedule", ns)
	scan.Spec.Schedule = "@every 1h"
	create(t, scan)
	scan = waitScanned(t, "schedule", nil)
	first := scan.Status.LastSuccessfulScanTime
	if scan.Status.NextScanTime == nil || !scan.Status.NextScanTime.Equal(&metav1.Time{Time: first.Add(time.Hour)}) {
		t.Fatalf("nextScanTime = %v, want %v", scan.Status.NextScanTime, first.Add(time.Hour))
	}

	// Before nextScanTime, a reconcile (here: a label change) does not scan.
	touch(t, "schedule", "early")
	consistently(t, 2*time.Second, func() error {
		if s := getScan(t, "schedule"); !s.Status.LastSuccessfulScanTime.Equal(first) {
			return fmt.Errorf("scanned before nextScanTime: %v", s.Status.LastSuccessfulScanTime)
		}
		return nil
	})

	// Once the clock passes nextScanTime, the next reconcile scans.
	fakeClock.Step(61 * time.Minute)
	touch(t, "schedule", "late")
	scan = waitScanned(t, "schedule", first)
	if want := scan.Status.LastSuccessfulScanTime.Add(time.Hour); !scan.Status.NextScanTime.Time.Equal(want) {
		t.Errorf("nextScanTime = %v, want %v", scan.Status.NextScanTime, want)
	}
}

// touch changes a label: a reconcile that changes neither spec nor the scan-requested-at annotation.
func touch(t *testing.T, name, value string) {
	t.Helper()
	scan := getScan(t, name)
	patch := client.MergeFrom(scan.DeepCopy())
	if scan.Labels == nil {
		scan.Labels = map[string]string{}
	}
	scan.Labels["test/touch"] = value
	if err := k8sClient.Patch(testCtx, scan, patch); err != nil {
		t.Fatal(err)
	}
}

func TestSuspendStopsScans(t *testing.T) {
	ns := "suspend-shop"
	ensureNamespace(t, ns, nil)
	create(t, privilegedDeployment(ns, "web"))
	scan := newScan("suspend", ns)
	scan.Spec.Schedule = "@every 1h"
	create(t, scan)
	scan = waitScanned(t, "suspend", nil)
	last := scan.Status.LastSuccessfulScanTime

	patch := client.MergeFrom(scan.DeepCopy())
	scan.Spec.Suspend = true
	if err := k8sClient.Patch(testCtx, scan, patch); err != nil {
		t.Fatal(err)
	}
	eventually(t, scanTimeout, func() error {
		s := getScan(t, "suspend")
		if c := meta.FindStatusCondition(s.Status.Conditions, posturev1alpha1.ConditionReconciling); c == nil || c.Reason != posturev1alpha1.ReasonSuspended {
			return fmt.Errorf("Reconciling = %+v, want reason Suspended", c)
		}
		if s.Status.NextScanTime != nil {
			return fmt.Errorf("nextScanTime = %v while suspended", s.Status.NextScanTime)
		}
		return nil
	})
	// Neither the schedule nor a request scans while suspended.
	fakeClock.Step(2 * time.Hour)
	requestScan(t, "suspend", "please")
	consistently(t, 2*time.Second, func() error {
		if s := getScan(t, "suspend"); !s.Status.LastSuccessfulScanTime.Equal(last) {
			return fmt.Errorf("scanned while suspended at %v", s.Status.LastSuccessfulScanTime)
		}
		return nil
	})
}

func TestInvalidScheduleStalls(t *testing.T) {
	scan := newScan("stalled", "stalled-none")
	scan.Spec.Schedule = "61 * * * *" // five fields, so the CRD admits it; no 61st minute
	create(t, scan)
	var generation int64
	eventually(t, scanTimeout, func() error {
		s := getScan(t, "stalled")
		c := meta.FindStatusCondition(s.Status.Conditions, posturev1alpha1.ConditionStalled)
		if c == nil || c.Status != metav1.ConditionTrue || c.Reason != posturev1alpha1.ReasonInvalidSpec || !strings.Contains(c.Message, "spec.schedule") {
			return fmt.Errorf("Stalled = %+v", c)
		}
		if meta.IsStatusConditionTrue(s.Status.Conditions, posturev1alpha1.ConditionReady) || s.Status.LastScanTime != nil {
			return fmt.Errorf("an invalid scan must not be Ready or scan: %+v", s.Status)
		}
		generation = s.Generation
		return nil
	})

	// Fixing the spec clears Stalled and scans.
	s := getScan(t, "stalled")
	patch := client.MergeFrom(s.DeepCopy())
	s.Spec.Schedule = "0 * * * *"
	if err := k8sClient.Patch(testCtx, s, patch); err != nil {
		t.Fatal(err)
	}
	s = waitScanned(t, "stalled", nil)
	if s.Generation == generation || meta.FindStatusCondition(s.Status.Conditions, posturev1alpha1.ConditionStalled) != nil {
		t.Errorf("after the fix: generation %d, conditions %+v", s.Generation, s.Status.Conditions)
	}
}

func TestCoverageNamesKindTheManagerCannotList(t *testing.T) {
	ns := "coverage-shop"
	ensureNamespace(t, ns, nil)
	create(t, privilegedDeployment(ns, "web"), denyAll(ns))

	// Take networkpolicies out of the manager's ClusterRole for this test.
	role := &rbacv1.ClusterRole{}
	if err := k8sClient.Get(testCtx, types.NamespacedName{Name: "kubeposture-manager"}, role); err != nil {
		t.Fatal(err)
	}
	original := role.DeepCopy()
	for i := range role.Rules {
		role.Rules[i].Resources = slices.DeleteFunc(slices.Clone(role.Rules[i].Resources), func(r string) bool { return r == "networkpolicies" })
	}
	if err := k8sClient.Update(testCtx, role); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		current := &rbacv1.ClusterRole{}
		if err := k8sClient.Get(testCtx, types.NamespacedName{Name: original.Name}, current); err == nil {
			current.Rules = original.Rules
			_ = k8sClient.Update(testCtx, current)
		}
	})

	create(t, newScan("coverage", ns))
	scan := waitScanned(t, "coverage", nil)
	cov := scan.Status.Coverage
	want := []posturev1alpha1.MissingKind{{Kind: "NetworkPolicy.networking.k8s.io", Reason: "Forbidden", Message: "forbidden: cannot list networkpolicies"}}
	if diff := cmp.Diff(want, cov.Missing); diff != "" {
		t.Errorf("coverage.missing (-want +got):\n%s", diff)
	}
	if slices.Contains(cov.Read, "NetworkPolicy.networking.k8s.io") {
		t.Errorf("coverage.read %v names the forbidden kind", cov.Read)
	}
	ready := meta.FindStatusCondition(scan.Status.Conditions, posturev1alpha1.ConditionReady)
	if ready.Reason != posturev1alpha1.ReasonScanIncomplete || !strings.Contains(ready.Message, "NetworkPolicy.networking.k8s.io (Forbidden)") {
		t.Errorf("Ready = %+v, want ScanIncomplete naming the kind", ready)
	}
	if scan.Status.Summary.ChecksNotEvaluated < 1 {
		t.Errorf("summary = %+v, want the NetworkPolicy check not evaluated", scan.Status.Summary)
	}
	// The control that needed NetworkPolicies is not-evaluated, never a pass.
	for _, f := range scan.Status.Frameworks {
		if f.Name == posturev1alpha1.FrameworkCIS && f.NotEvaluated < 1 {
			t.Errorf("CIS result %+v: want 5.3.2 not evaluated", f)
		}
	}
	cluster := &posturev1alpha1.ClusterScanReport{}
	if err := k8sClient.Get(testCtx, types.NamespacedName{Name: "coverage"}, cluster); err != nil {
		t.Fatal(err)
	}
	for _, f := range cluster.AllFindings() {
		if f.CheckID == "netpol-namespace-without-policy" {
			t.Errorf("the NetworkPolicy check ran without NetworkPolicies: %+v", f)
		}
	}
}

func TestInvalidGlobStallsNamingTheField(t *testing.T) {
	scan := newScan("badglob", "shop-[a-") // admitted by the CRD's pattern; path.Match rejects it
	create(t, scan)
	eventually(t, scanTimeout, func() error {
		s := getScan(t, "badglob")
		c := meta.FindStatusCondition(s.Status.Conditions, posturev1alpha1.ConditionStalled)
		if c == nil || c.Status != metav1.ConditionTrue || !strings.Contains(c.Message, "spec.includeNamespaces[0]") {
			return fmt.Errorf("Stalled = %+v", c)
		}
		if s.Status.LastScanTime != nil {
			return errors.New("scanned with an invalid glob")
		}
		return nil
	})
}

// TestRecreatedScanAdoptsItsReports deletes a ClusterScan and creates one of
// the same name before the garbage collector has removed the old one's
// reports (there is none in envtest: they stay). The reports' content is
// unchanged, but they are owned by the old ClusterScan, which the garbage
// collector would follow to delete them: the new scan must rewrite them with
// itself as owner.
func TestRecreatedScanAdoptsItsReports(t *testing.T) {
	ns := "recreate-shop"
	ensureNamespace(t, ns, nil)
	create(t, privilegedDeployment(ns, "web"), newScan("recreate", ns))
	old := waitScanned(t, "recreate", nil)
	if err := k8sClient.Delete(testCtx, old); err != nil {
		t.Fatal(err)
	}
	eventually(t, scanTimeout, func() error {
		err := k8sClient.Get(testCtx, types.NamespacedName{Name: "recreate"}, &posturev1alpha1.ClusterScan{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("ClusterScan recreate still there: %w", err)
	})
	create(t, newScan("recreate", ns))
	scan := waitScanned(t, "recreate", nil)
	if scan.UID == old.UID {
		t.Fatalf("the recreated ClusterScan has the old UID %s", old.UID)
	}
	t.Cleanup(func() { _ = k8sClient.Delete(testCtx, scan) })

	owner := func(refs []metav1.OwnerReference) error {
		if len(refs) != 1 || refs[0].UID != scan.UID {
			return fmt.Errorf("owner references %+v, want only the new ClusterScan (uid %s)", refs, scan.UID)
		}
		return nil
	}
	if err := owner(getReport(t, ns, "recreate").OwnerReferences); err != nil {
		t.Errorf("ScanReport %s/recreate: %v", ns, err)
	}
	cr := &posturev1alpha1.ClusterScanReport{}
	if err := k8sClient.Get(testCtx, types.NamespacedName{Name: "recreate"}, cr); err != nil {
		t.Fatal(err)
	}
	if err := owner(cr.OwnerReferences); err != nil {
		t.Errorf("ClusterScanReport recreate: %v", err)
	}
}
