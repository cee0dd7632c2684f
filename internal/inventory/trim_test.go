package inventory

import (
	"reflect"
	"testing"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/cache"
)

// cached is what the manager's cache would make of obj, as Trim does in place.
func cached(t *testing.T, obj runtime.Object) runtime.Object {
	t.Helper()
	out, err := Trim(obj)
	if err != nil {
		t.Fatalf("Trim() = %v", err)
	}
	return out.(runtime.Object)
}

func withStatus(p corev1.Pod) *corev1.Pod {
	p.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.1"}
	return &p
}

func TestTrimIdentities(t *testing.T) {
	const ns = "shop"
	testCases := map[string]struct {
		obj          runtime.Object
		wantIdentity bool
	}{
		"pod of a replicaset":                  {obj: withStatus(pod(ns, "web-1", controller("apps/v1", "ReplicaSet", "web"))), wantIdentity: true},
		"pod of a statefulset":                 {obj: withStatus(pod(ns, "db-0", controller("apps/v1", "StatefulSet", "db"))), wantIdentity: true},
		"pod of a daemonset":                   {obj: withStatus(pod(ns, "agent-x", controller("apps/v1", "DaemonSet", "agent"))), wantIdentity: true},
		"pod of a job":                         {obj: withStatus(pod(ns, "migrate-x", controller("batch/v1", "Job", "migrate"))), wantIdentity: true},
		"pod of a replicaset in kube-system":   {obj: withStatus(pod("kube-system", "dns-1", controller("apps/v1", "ReplicaSet", "dns")))},
		"pod of a daemonset in kube-system":    {obj: withStatus(pod("kube-system", "kube-apiserver-x", controller("apps/v1", "DaemonSet", "kube-apiserver")))},
		"bare pod":                             {obj: withStatus(pod(ns, "debug"))},
		"mirror pod of a node":                 {obj: withStatus(pod(ns, "static-cp1", controller("v1", "Node", "cp1")))},
		"pod of a custom controller":           {obj: withStatus(pod(ns, "cache-0", controller("example.com/v1", "CacheCluster", "cache")))},
		"pod of a custom kind named like ours": {obj: withStatus(pod(ns, "x-0", controller("example.com/v1", "ReplicaSet", "x")))},
		"pod of a replicationcontroller":       {obj: withStatus(pod(ns, "rc-1", controller("v1", "ReplicationController", "rc")))},
		"pod with a non-controller owner": {obj: withStatus(pod(ns, "adopted", metav1.OwnerReference{
			APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "rs", UID: uid("rs"),
		}))},
		"replicaset of a deployment":        {obj: new(replicaSet(ns, "web-7d9f", controller("apps/v1", "Deployment", "web"))), wantIdentity: true},
		"replicaset of a custom controller": {obj: new(replicaSet(ns, "ro-1", controller("argoproj.io/v1alpha1", "Rollout", "ro")))},
		"replicaset without owner":          {obj: new(replicaSet(ns, "legacy"))},
		"job of a cronjob":                  {obj: new(job(ns, "report-29", controller("batch/v1", "CronJob", "report"))), wantIdentity: true},
		"bare job":                          {obj: new(job(ns, "migrate"))},
		"deployment":                        {obj: new(deployment(ns, "web"))},
		"service":                           {obj: &corev1.Service{ObjectMeta: objectMeta(ns, "svc")}},
	}
	for name, tc := range testCases {
		t.Run(name, func(t *testing.T) {
			orig := tc.obj.DeepCopyObject()
			om := orig.(metav1.ObjectMetaAccessor).GetObjectMeta()
			got := cached(t, tc.obj)
			if IsIdentity(got) != tc.wantIdentity {
				t.Fatalf("Trim() = %T, identity %v; want identity %v", got, IsIdentity(got), tc.wantIdentity)
			}
			if tc.wantIdentity {
				gvk := fixtureGVK(orig)
				ref := *metav1.GetControllerOfNoCopy(om.(*metav1.ObjectMeta))
				ref.Controller = new(true)
				want := &metav1.PartialObjectMetadata{
					TypeMeta: metav1.TypeMeta{APIVersion: gvk.GroupVersion().String(), Kind: gvk.Kind},
					ObjectMeta: metav1.ObjectMeta{
						Namespace: om.GetNamespace(), Name: om.GetName(), UID: om.GetUID(), ResourceVersion: om.GetResourceVersion(),
						OwnerReferences: []metav1.OwnerReference{ref},
					},
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("identity (-want +got):\n%s", diff)
				}
			} else {
				if diff := cmp.Diff(orig, got, ignoreStatus); diff != "" {
					t.Errorf("an object kept whole changed beyond its status (-want +got):\n%s", diff)
				}
				if status := reflect.ValueOf(got).Elem().FieldByName("Status"); status.IsValid() && !status.IsZero() {
					t.Errorf("an object kept whole keeps its status: %+v", status.Interface())
				}
			}
			// Idempotent: the cache may transform an object more than once.
			if again := cached(t, got.DeepCopyObject()); !cmp.Equal(got, again) {
				t.Errorf("a second Trim changed the object:\n%s", cmp.Diff(got, again))
			}
		})
	}
}

// fixtureGVK is the group, version and kind of a typed fixture (fixtures
// leave their TypeMeta empty, as typed objects decoded by a client do).
func fixtureGVK(obj runtime.Object) schema.GroupVersionKind {
	switch obj.(type) {
	case *corev1.Pod:
		return corev1.SchemeGroupVersion.WithKind("Pod")
	case *appsv1.ReplicaSet:
		return appsv1.SchemeGroupVersion.WithKind("ReplicaSet")
	case *batchv1.Job:
		return batchv1.SchemeGroupVersion.WithKind("Job")
	}
	return schema.GroupVersionKind{}
}

// ignoreStatus leaves out objects' status, which Trim clears, from a comparison.
var ignoreStatus = cmp.FilterPath(func(p cmp.Path) bool {
	sf, ok := p.Last().(cmp.StructField)
	return ok && sf.Name() == "Status" && len(p) == 3 // the object's own Status, not a nested one
}, cmp.Ignore())

// Trim drops what no check reads from the objects it keeps whole:
// managedFields, kubectl's last-applied annotation and the status; other
// annotations stay.
func TestTrimKeepsWhatChecksRead(t *testing.T) {
	d := deployment("shop", "web")
	d.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationApply}}
	d.Annotations = map[string]string{lastAppliedAnnotation: `{"big":"copy"}`, "team": "payments"}
	d.Spec.Template.Annotations = map[string]string{"container.apparmor.security.beta.kubernetes.io/web": "unconfined"}
	d.Status = appsv1.DeploymentStatus{Replicas: 3, ReadyReplicas: 2}
	want := deployment("shop", "web")
	want.Annotations = map[string]string{"team": "payments"}
	want.Spec.Template.Annotations = map[string]string{"container.apparmor.security.beta.kubernetes.io/web": "unconfined"}
	if diff := cmp.Diff(&want, cached(t, &d)); diff != "" {
		t.Errorf("Trim() (-want +got):\n%s", diff)
	}
}

// Trim leaves what it does not know as it is: a tombstone of a deleted object.
func TestTrimLeavesTombstones(t *testing.T) {
	p := pod("shop", "web-1", controller("apps/v1", "ReplicaSet", "web"))
	tomb := cache.DeletedFinalStateUnknown{Key: "shop/web-1", Obj: &p}
	got, err := Trim(tomb)
	if err != nil || !cmp.Equal(got, any(tomb)) {
		t.Errorf("Trim(tombstone) = %v, %v; want it unchanged", got, err)
	}
}

// Strings repeated across objects are held once.
func TestTrimInterns(t *testing.T) {
	a, b := deployment("shop", "a"), deployment("shop", "b")
	a.Spec.Template.Spec.Containers[0].Image = string([]byte("nginx:1.27"))
	b.Spec.Template.Spec.Containers[0].Image = string([]byte("nginx:1.27"))
	ta, tb := cached(t, &a).(*appsv1.Deployment), cached(t, &b).(*appsv1.Deployment)
	ia, ib := ta.Spec.Template.Spec.Containers[0].Image, tb.Spec.Template.Spec.Containers[0].Image
	if ia != ib || unsafe.StringData(ia) != unsafe.StringData(ib) {
		t.Errorf("the image of two templates is held twice")
	}
}

// trimmed is a Snapshot of objs as the manager reads them through its
// cache: trimmed, the identities apart.
func trimmed(t *testing.T, objs ...runtime.Object) *Snapshot {
	t.Helper()
	s := &Snapshot{}
	for _, o := range objs {
		switch c := cached(t, o.DeepCopyObject()).(type) {
		case *metav1.PartialObjectMetadata:
			s.Identities = append(s.Identities, c)
		default:
			if !s.Add(c) {
				t.Fatalf("Snapshot.Add(%T) = false", c)
			}
		}
	}
	s.Sort()
	return s
}

func full(objs ...runtime.Object) *Snapshot {
	s := &Snapshot{}
	for _, o := range objs {
		s.Add(o.DeepCopyObject())
	}
	s.Sort()
	return s
}

// judged is what the checks see of a workload: its reference, template
// metadata and spec, and its labels.
type judged struct {
	Ref    ObjectRef
	Meta   metav1.ObjectMeta
	Spec   corev1.PodSpec
	Labels map[string]string
}

func judgedOf(ws []Workload) []judged {
	out := make([]judged, 0, len(ws))
	for _, w := range ws {
		out = append(out, judged{Ref: w.Ref, Meta: *w.Meta, Spec: *w.Spec, Labels: w.Labels})
	}
	return out
}

// When every controller is in the snapshot, reading the objects they
// control as identities changes nothing the checks see, nor the count.
func TestWorkloadsUnchangedByIdentities(t *testing.T) {
	const ns = "shop"
	objs := []runtime.Object{
		new(deployment(ns, "web")),
		new(replicaSet(ns, "web-7d9f", controller("apps/v1", "Deployment", "web"))),
		new(replicaSet(ns, "legacy")),
		new(statefulSet(ns, "db")),
		new(daemonSet(ns, "agent")),
		new(daemonSet("kube-system", "kube-apiserver")),
		new(deployment("kube-system", "dns")),
		new(replicaSet("kube-system", "dns-5c6b", controller("apps/v1", "Deployment", "dns"))),
		new(cronJob(ns, "report")),
		new(job(ns, "report-29", controller("batch/v1", "CronJob", "report"))),
		new(job(ns, "migrate")),
		new(pod(ns, "web-7d9f-a", controller("apps/v1", "ReplicaSet", "web-7d9f"))),
		new(pod(ns, "legacy-a", controller("apps/v1", "ReplicaSet", "legacy"))),
		new(pod(ns, "db-0", controller("apps/v1", "StatefulSet", "db"))),
		new(pod(ns, "agent-x", controller("apps/v1", "DaemonSet", "agent"))),
		new(pod(ns, "report-29-x", controller("batch/v1", "Job", "report-29"))),
		new(pod(ns, "migrate-x", controller("batch/v1", "Job", "migrate"))),
		new(pod(ns, "debug")),
		new(pod(ns, "cache-0", controller("example.com/v1", "CacheCluster", "cache"))),
		new(pod("kube-system", "kube-apiserver-x", controller("apps/v1", "DaemonSet", "kube-apiserver"))),
		new(pod("kube-system", "dns-5c6b-x", controller("apps/v1", "ReplicaSet", "dns-5c6b"))),
		new(pod("kube-system", "etcd-cp1", controller("v1", "Node", "cp1"))),
	}
	whole, cut := full(objs...), trimmed(t, objs...)
	if diff := cmp.Diff(judgedOf(whole.Workloads()), judgedOf(cut.Workloads())); diff != "" {
		t.Errorf("Workloads() changed by identities (-full +trimmed):\n%s", diff)
	}
	wantPerNS, wantTotal := whole.Count()
	if perNS, total := cut.Count(); total != wantTotal || !cmp.Equal(perNS, wantPerNS) {
		t.Errorf("Count() = %v, %d; want %v, %d", perNS, total, wantPerNS, wantTotal)
	}
	// kube-system Pods are kept whole whoever controls them: the control-plane checks read them.
	var kept []string
	for _, p := range cut.Pods {
		kept = append(kept, p.Namespace+"/"+p.Name)
	}
	if diff := cmp.Diff([]string{"kube-system/dns-5c6b-x", "kube-system/etcd-cp1", "kube-system/kube-apiserver-x", ns + "/cache-0", ns + "/debug"}, kept); diff != "" {
		t.Errorf("Pods kept whole (-want +got):\n%s", diff)
	}
	if len(cut.Identities) != 9 {
		t.Errorf("%d identities, want 9 (6 Pods, 2 ReplicaSets, 1 Job)", len(cut.Identities))
	}
}

// An identity is never judged: if the controller whose template is judged
// in its place is not in the snapshot (being created or deleted), nothing
// is judged for it.
func TestWorkloadsSkipIdentitiesWithoutController(t *testing.T) {
	const ns = "shop"
	objs := []runtime.Object{
		new(replicaSet(ns, "web-7d9f", controller("apps/v1", "Deployment", "web"))),
		new(job(ns, "report-29", controller("batch/v1", "CronJob", "report"))),
		new(pod(ns, "web-7d9f-a", controller("apps/v1", "ReplicaSet", "web-7d9f"))),
		new(pod(ns, "db-0", controller("apps/v1", "StatefulSet", "db"))),
		new(pod(ns, "debug")),
	}
	if diff := cmp.Diff([]ObjectRef{
		wantRef("batch/v1", "Job", ns, "report-29"),
		wantRef("apps/v1", "ReplicaSet", ns, "web-7d9f"),
		wantRef("v1", "Pod", ns, "db-0"),
		wantRef("v1", "Pod", ns, "debug"),
	}, refs(full(objs...).Workloads())); diff != "" {
		t.Fatalf("Workloads() of the full snapshot (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]ObjectRef{wantRef("v1", "Pod", ns, "debug")}, refs(trimmed(t, objs...).Workloads())); diff != "" {
		t.Errorf("Workloads() with identities (-want +got):\n%s", diff)
	}
}
