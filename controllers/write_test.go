package controllers_test

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	posturev1alpha1 "github.com/kubeposture/kubeposture/api/v1alpha1"
	"github.com/kubeposture/kubeposture/controllers"
	"github.com/kubeposture/kubeposture/internal/report"
)

// managers lists a report's managedFields entries as "manager operation".
func managers(rep *posturev1alpha1.ScanReport) []string {
	var out []string
	for _, m := range rep.ManagedFields {
		out = append(out, m.Manager+" "+string(m.Operation))
	}
	return out
}

// A scan creates its reports, and a later scan that changes one replaces it
// whole, keeping what other writers added to its metadata: their labels,
// annotations, finalizers and owner references. Annotations under the
// operator's prefix are its own, and go when it no longer sets them.
func TestRescanReplacesReportKeepingOthersMetadata(t *testing.T) {
	const name, ns = "replace", "replace-shop"
	scannedShop(t, name, ns)

	rep := getReport(t, ns, name)
	if got := managers(rep); !slices.Equal(got, []string{"kubeposture Update"}) {
		t.Errorf("managedFields of a new report = %v, want the operator's create alone", got)
	}
	before := rep.Annotations[report.ContentHashAnnotation]
	holder := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "report-holder"}}
	create(t, holder)
	rep.Labels["team"] = "payments"
	rep.Annotations["example.com/note"] = "keep me"
	rep.Annotations[posturev1alpha1.GroupVersion.Group+"/legacy"] = "the operator's own"
	rep.Finalizers = append(rep.Finalizers, "example.com/hold")
	rep.OwnerReferences = append(rep.OwnerReferences, metav1.OwnerReference{APIVersion: "v1", Kind: "ConfigMap", Name: holder.Name, UID: holder.UID})
	if err := k8sClient.Update(testCtx, rep); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		rep := getReport(t, ns, name)
		rep.Finalizers = slices.DeleteFunc(rep.Finalizers, func(f string) bool { return f == "example.com/hold" })
		if err := k8sClient.Update(testCtx, rep); err != nil {
			t.Errorf("removing the test's finalizer: %v", err)
		}
	})

	create(t, privilegedDeployment(ns, "api"))
	prev := getScan(t, name).Status.LastSuccessfulScanTime
	requestScan(t, name, "replace")
	waitScanned(t, name, prev)

	rep = getReport(t, ns, name)
	if rep.Annotations[report.ContentHashAnnotation] == before {
		t.Fatal("the report was not rewritten after a new finding")
	}
	if !slices.ContainsFunc(rep.Objects, func(o posturev1alpha1.ObjectFindings) bool { return o.Object.Name == "api" }) {
		t.Errorf("the replaced report lacks the new Deployment's findings: %+v", rep.Objects)
	}
	if rep.Labels["team"] != "payments" || rep.Labels[posturev1alpha1.LabelScan] != name {
		t.Errorf("labels = %v, want the other writer's and the scan's", rep.Labels)
	}
	if rep.Annotations["example.com/note"] != "keep me" {
		t.Errorf("annotations = %v, want the other writer's kept", rep.Annotations)
	}
	if _, ok := rep.Annotations[posturev1alpha1.GroupVersion.Group+"/legacy"]; ok {
		t.Errorf("annotations = %v: one under the operator's prefix that it no longer sets survived", rep.Annotations)
	}
	if !slices.Contains(rep.Finalizers, "example.com/hold") {
		t.Errorf("finalizers = %v, want the other writer's kept", rep.Finalizers)
	}
	var kinds []string
	for _, ref := range rep.OwnerReferences {
		kinds = append(kinds, ref.Kind)
	}
	if !slices.Equal(kinds, []string{"ClusterScan", "ConfigMap"}) {
		t.Errorf("owner references to %v, want the scan (controller) and the other writer's", kinds)
	}
	if c := metav1.GetControllerOf(rep); c == nil || c.Kind != "ClusterScan" || c.Name != name {
		t.Errorf("controller = %+v, want the ClusterScan", c)
	}
}

// A report that an earlier version of the operator server-side applied is
// replaced whole by the next scan that changes it: no field of the applied
// content survives (a server-side apply leaves fields owned by an Update
// entry; a replace leaves nothing it does not send).
func TestReportAppliedBeforeIsReplacedWhole(t *testing.T) {
	const name, ns = "replace-applied", "replace-applied"
	scannedShop(t, name, ns)
	want := getReport(t, ns, name)

	applied := want.DeepCopy()
	applied.TypeMeta = metav1.TypeMeta{APIVersion: posturev1alpha1.GroupVersion.String(), Kind: "ScanReport"}
	applied.ObjectMeta = metav1.ObjectMeta{Namespace: ns, Name: name, Labels: want.Labels, OwnerReferences: want.OwnerReferences,
		Annotations: map[string]string{report.ContentHashAnnotation: "applied-by-an-older-version"}}
	applied.Summary.Omitted = 7
	applied.Objects = append(applied.Objects, posturev1alpha1.ObjectFindings{
		Object:   posturev1alpha1.ObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Namespace: ns, Name: "gone"},
		Findings: []posturev1alpha1.Finding{{CheckID: "pss-privileged", Severity: "critical", Message: "from an older scan"}},
	})
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(applied)
	if err != nil {
		t.Fatal(err)
	}
	if err := k8sClient.Apply(testCtx, client.ApplyConfigurationFromUnstructured(&unstructured.Unstructured{Object: u}),
		client.FieldOwner(controllers.FieldOwner), client.ForceOwnership); err != nil {
		t.Fatal(err)
	}

	prev := getScan(t, name).Status.LastSuccessfulScanTime
	requestScan(t, name, "replace")
	waitScanned(t, name, prev)
	got := getReport(t, ns, name)
	if got.Annotations[report.ContentHashAnnotation] != want.Annotations[report.ContentHashAnnotation] {
		t.Errorf("content hash %q, want the scan's %q", got.Annotations[report.ContentHashAnnotation], want.Annotations[report.ContentHashAnnotation])
	}
	if got.Summary.Omitted != 0 || !equality.Semantic.DeepEqual(got.Objects, want.Objects) || !equality.Semantic.DeepEqual(got.Checks, want.Checks) {
		t.Errorf("the applied content survived the replace: omitted %d, %d objects (want %d)", got.Summary.Omitted, len(got.Objects), len(want.Objects))
	}
}

// countingWriter counts the writes of each kind an ObjectWriter is asked for.
type countingWriter struct {
	controllers.ObjectWriter
	creates, updates atomic.Int32
}

func (w *countingWriter) Create(ctx context.Context, obj client.Object) error {
	w.creates.Add(1)
	return w.ObjectWriter.Create(ctx, obj)
}

func (w *countingWriter) Update(ctx context.Context, obj client.Object) error {
	w.updates.Add(1)
	return w.ObjectWriter.Update(ctx, obj)
}

// The writer sends the object and reads back only its metadata: obj keeps
// its content and gets the written resourceVersion and uid. Errors are the
// API server's, message included. An object
// without apiVersion and kind, or of a kind the API server does not serve,
// is an error, not a write.
func TestObjectWriterCreatesAndReplaces(t *testing.T) {
	const ns = "object-writer"
	ensureNamespace(t, ns, nil)
	w := newWriter(t)
	rep := &posturev1alpha1.ScanReport{
		TypeMeta:   metav1.TypeMeta{APIVersion: posturev1alpha1.GroupVersion.String(), Kind: "ScanReport"},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "written"},
		Scan:       "written",
		Objects: []posturev1alpha1.ObjectFindings{{
			Object:   posturev1alpha1.ObjectReference{APIVersion: "v1", Kind: "Pod", Namespace: ns, Name: "p"},
			Findings: []posturev1alpha1.Finding{{CheckID: "pss-privileged", Severity: "critical", Message: "privileged"}},
		}},
	}
	if err := w.Create(testCtx, rep); err != nil {
		t.Fatal(err)
	}
	if rep.ResourceVersion == "" || rep.UID == "" || len(rep.Objects) != 1 {
		t.Fatalf("after create: resourceVersion %q, uid %q, %d objects; want both set and the content kept", rep.ResourceVersion, rep.UID, len(rep.Objects))
	}
	created := rep.ResourceVersion
	rep.Objects[0].Findings[0].Message = "privileged, replaced"
	if err := w.Update(testCtx, rep); err != nil {
		t.Fatal(err)
	}
	if got := getReport(t, ns, "written"); got.Objects[0].Findings[0].Message != "privileged, replaced" || got.ResourceVersion != rep.ResourceVersion || rep.ResourceVersion == created {
		t.Errorf("after update: message %q, resourceVersion %s (writer said %s, created %s)", got.Objects[0].Findings[0].Message, got.ResourceVersion, rep.ResourceVersion, created)
	}
	rep.ResourceVersion = created
	if err := w.Update(testCtx, rep); !apierrors.IsConflict(err) {
		t.Errorf("update at a stale resourceVersion: err = %v, want a conflict", err)
	}

	// The API server's own message comes through (the scan tells a
	// namespace that went away by it).
	elsewhere := rep.DeepCopy()
	elsewhere.Namespace, elsewhere.ResourceVersion = "no-such-namespace", ""
	if err := w.Create(testCtx, elsewhere); !apierrors.IsNotFound(err) || !strings.Contains(err.Error(), `namespaces "no-such-namespace" not found`) {
		t.Errorf("create in a missing namespace: err = %v, want the API server's NotFound naming the namespace", err)
	}

	noKind := &posturev1alpha1.ScanReport{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "no-kind"}}
	if err := w.Create(testCtx, noKind); err == nil {
		t.Error("create of an object without apiVersion and kind succeeded")
	}
	unserved := &unstructured.Unstructured{}
	unserved.SetAPIVersion("example.com/v1")
	unserved.SetKind("Unserved")
	unserved.SetName("x")
	if err := w.Create(testCtx, unserved); !meta.IsNoMatchError(err) {
		t.Errorf("create of a kind the API server does not serve: err = %v, want no match", err)
	}
}
