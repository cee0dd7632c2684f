package inventory

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

func TestDropControlledSpec(t *testing.T) {
	const ns = "shop"
	withStatus := func(p corev1.Pod) *corev1.Pod {
		p.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.1"}
		return &p
	}
	ptr := func(o any) runtime.Object {
		switch o := o.(type) {
		case appsv1.ReplicaSet:
			return &o
		case batchv1.Job:
			return &o
		case appsv1.Deployment:
			return &o
		}
		panic("unexpected fixture type")
	}
	testCases := map[string]struct {
		obj      runtime.Object
		wantDrop bool
	}{
		"pod of a replicaset":                  {obj: withStatus(pod(ns, "web-1", controller("apps/v1", "ReplicaSet", "web"))), wantDrop: true},
		"pod of a statefulset":                 {obj: withStatus(pod(ns, "db-0", controller("apps/v1", "StatefulSet", "db"))), wantDrop: true},
		"pod of a daemonset":                   {obj: withStatus(pod(ns, "agent-x", controller("apps/v1", "DaemonSet", "agent"))), wantDrop: true},
		"pod of a job":                         {obj: withStatus(pod(ns, "migrate-x", controller("batch/v1", "Job", "migrate"))), wantDrop: true},
		"pod of a replicaset in kube-system":   {obj: withStatus(pod("kube-system", "dns-1", controller("apps/v1", "ReplicaSet", "dns"))), wantDrop: false},
		"pod of a daemonset in kube-system":    {obj: withStatus(pod("kube-system", "kube-apiserver-x", controller("apps/v1", "DaemonSet", "kube-apiserver"))), wantDrop: false},
		"bare pod":                             {obj: withStatus(pod(ns, "debug")), wantDrop: false},
		"mirror pod of a node":                 {obj: withStatus(pod(ns, "static-cp1", controller("v1", "Node", "cp1"))), wantDrop: false},
		"pod of a custom controller":           {obj: withStatus(pod(ns, "cache-0", controller("example.com/v1", "CacheCluster", "cache"))), wantDrop: false},
		"pod of a custom kind named like ours": {obj: withStatus(pod(ns, "x-0", controller("example.com/v1", "ReplicaSet", "x"))), wantDrop: false},
		"pod of a replicationcontroller":       {obj: withStatus(pod(ns, "rc-1", controller("v1", "ReplicationController", "rc"))), wantDrop: false},
		"pod with a non-controller owner": {obj: withStatus(pod(ns, "adopted", metav1.OwnerReference{
			APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "rs", UID: uid("rs"),
		})), wantDrop: false},
		"replicaset of a deployment":        {obj: ptr(replicaSet(ns, "web-7d9f", controller("apps/v1", "Deployment", "web"))), wantDrop: true},
		"replicaset of a custom controller": {obj: ptr(replicaSet(ns, "ro-1", controller("argoproj.io/v1alpha1", "Rollout", "ro"))), wantDrop: false},
		"replicaset without owner":          {obj: ptr(replicaSet(ns, "legacy")), wantDrop: false},
		"job of a cronjob":                  {obj: ptr(job(ns, "report-29", controller("batch/v1", "CronJob", "report"))), wantDrop: true},
		"bare job":                          {obj: ptr(job(ns, "migrate")), wantDrop: false},
		"deployment is never dropped":       {obj: ptr(deployment(ns, "web")), wantDrop: false},
		"object of another kind is a no-op": {obj: &corev1.Service{ObjectMeta: objectMeta(ns, "svc")}, wantDrop: false},
	}
	for name, tc := range testCases {
		t.Run(name, func(t *testing.T) {
			orig := tc.obj.DeepCopyObject()
			if got := DropControlledSpec(tc.obj); got != tc.wantDrop {
				t.Fatalf("DropControlledSpec() = %v, want %v", got, tc.wantDrop)
			}
			if !tc.wantDrop {
				if diff := cmp.Diff(orig, tc.obj); diff != "" {
					t.Errorf("an object that is kept was changed (-before +after):\n%s", diff)
				}
				return
			}
			m := tc.obj.(metav1.ObjectMetaAccessor).GetObjectMeta().(*metav1.ObjectMeta)
			if m.Annotations[SpecDroppedAnnotation] != "true" {
				t.Errorf("annotations = %v, want %s", m.Annotations, SpecDroppedAnnotation)
			}
			switch o := tc.obj.(type) {
			case *corev1.Pod:
				if diff := cmp.Diff(corev1.PodSpec{}, o.Spec); diff != "" {
					t.Errorf("a dropped pod keeps its spec:\n%s", diff)
				}
				if diff := cmp.Diff(corev1.PodStatus{}, o.Status); diff != "" {
					t.Errorf("a dropped pod keeps its status:\n%s", diff)
				}
			case *appsv1.ReplicaSet:
				if diff := cmp.Diff(corev1.PodTemplateSpec{}, o.Spec.Template); diff != "" || o.Spec.Selector != nil {
					t.Errorf("a dropped ReplicaSet keeps its template or selector:\n%s", diff)
				}
			case *batchv1.Job:
				if diff := cmp.Diff(corev1.PodTemplateSpec{}, o.Spec.Template); diff != "" || o.Spec.Selector != nil {
					t.Errorf("a dropped Job keeps its template or selector:\n%s", diff)
				}
			}
			// Identity and ownership stay; labels and other annotations go.
			om := orig.(metav1.ObjectMetaAccessor).GetObjectMeta()
			want := metav1.ObjectMeta{
				Namespace: om.GetNamespace(), Name: om.GetName(), UID: om.GetUID(), OwnerReferences: om.GetOwnerReferences(),
				Annotations: map[string]string{SpecDroppedAnnotation: "true"},
			}
			if diff := cmp.Diff(want, *m); diff != "" {
				t.Errorf("metadata (-want +got):\n%s", diff)
			}
			// Idempotent: the cache may transform an object more than once.
			again := tc.obj.DeepCopyObject()
			DropControlledSpec(again)
			if diff := cmp.Diff(tc.obj, again); diff != "" {
				t.Errorf("a second drop changed the object:\n%s", diff)
			}
		})
	}
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

// dropAll applies DropControlledSpec to every object of the snapshot, as the
// manager's cache transform does.
func dropAll(s *Snapshot) {
	for i := range s.Pods {
		DropControlledSpec(&s.Pods[i])
	}
	for i := range s.ReplicaSets {
		DropControlledSpec(&s.ReplicaSets[i])
	}
	for i := range s.Jobs {
		DropControlledSpec(&s.Jobs[i])
	}
	for i := range s.Deployments {
		DropControlledSpec(&s.Deployments[i])
	}
}

// When every controller is in the snapshot, dropping the specs of the
// objects they control changes nothing the checks see.
func TestWorkloadsUnchangedByDroppedSpecs(t *testing.T) {
	const ns = "shop"
	full := func() *Snapshot {
		return &Snapshot{
			Deployments:  []appsv1.Deployment{deployment(ns, "web")},
			ReplicaSets:  []appsv1.ReplicaSet{replicaSet(ns, "web-7d9f", controller("apps/v1", "Deployment", "web")), replicaSet(ns, "legacy")},
			StatefulSets: []appsv1.StatefulSet{statefulSet(ns, "db")},
			DaemonSets:   []appsv1.DaemonSet{daemonSet(ns, "agent"), daemonSet("kube-system", "kube-apiserver")},
			CronJobs:     []batchv1.CronJob{cronJob(ns, "report")},
			Jobs:         []batchv1.Job{job(ns, "report-29", controller("batch/v1", "CronJob", "report")), job(ns, "migrate")},
			Pods: []corev1.Pod{
				pod(ns, "web-7d9f-a", controller("apps/v1", "ReplicaSet", "web-7d9f")),
				pod(ns, "legacy-a", controller("apps/v1", "ReplicaSet", "legacy")),
				pod(ns, "db-0", controller("apps/v1", "StatefulSet", "db")),
				pod(ns, "agent-x", controller("apps/v1", "DaemonSet", "agent")),
				pod(ns, "report-29-x", controller("batch/v1", "Job", "report-29")),
				pod(ns, "migrate-x", controller("batch/v1", "Job", "migrate")),
				pod(ns, "debug"),
				pod(ns, "cache-0", controller("example.com/v1", "CacheCluster", "cache")),
				pod("kube-system", "kube-apiserver-x", controller("apps/v1", "DaemonSet", "kube-apiserver")),
				pod("kube-system", "etcd-cp1", controller("v1", "Node", "cp1")),
			},
		}
	}
	want := judgedOf(full().Workloads())
	stripped := full()
	dropAll(stripped)
	if diff := cmp.Diff(want, judgedOf(stripped.Workloads())); diff != "" {
		t.Errorf("Workloads() changed by dropped specs (-full +dropped):\n%s", diff)
	}
	// kube-system pods keep their spec whoever controls them: the control-plane checks read them.
	for _, p := range stripped.Pods {
		if dropped := len(p.Spec.Containers) == 0; dropped != (p.Namespace == ns && p.Name != "debug" && p.Name != "cache-0") {
			t.Errorf("pod %s/%s: spec dropped = %v", p.Namespace, p.Name, dropped)
		}
	}
}

// An object whose spec was dropped is never judged with an empty spec: if
// its controller is not in the snapshot (being created or deleted), it is
// not judged at all.
func TestWorkloadsSkipDroppedWithoutController(t *testing.T) {
	const ns = "shop"
	s := &Snapshot{
		ReplicaSets: []appsv1.ReplicaSet{replicaSet(ns, "web-7d9f", controller("apps/v1", "Deployment", "web"))},
		Jobs:        []batchv1.Job{job(ns, "report-29", controller("batch/v1", "CronJob", "report"))},
		Pods: []corev1.Pod{
			pod(ns, "web-7d9f-a", controller("apps/v1", "ReplicaSet", "web-7d9f")),
			pod(ns, "db-0", controller("apps/v1", "StatefulSet", "db")),
			pod(ns, "debug"),
		},
	}
	full := refs(s.Workloads())
	if diff := cmp.Diff([]ObjectRef{
		wantRef("batch/v1", "Job", ns, "report-29"),
		wantRef("apps/v1", "ReplicaSet", ns, "web-7d9f"),
		wantRef("v1", "Pod", ns, "db-0"),
		wantRef("v1", "Pod", ns, "debug"),
	}, full); diff != "" {
		t.Fatalf("Workloads() of the full snapshot (-want +got):\n%s", diff)
	}
	dropAll(s)
	s.workloads = nil
	if diff := cmp.Diff([]ObjectRef{wantRef("v1", "Pod", ns, "debug")}, refs(s.Workloads())); diff != "" {
		t.Errorf("Workloads() with dropped specs (-want +got):\n%s", diff)
	}
}

// The mark alone never hides a workload: a Pod that carries it, but has its
// containers, is judged like any other.
func TestWorkloadsIgnoreForgedMark(t *testing.T) {
	const ns = "shop"
	forged := func(p corev1.Pod) corev1.Pod {
		p.Annotations = map[string]string{SpecDroppedAnnotation: "true"}
		return p
	}
	s := &Snapshot{
		ReplicaSets: []appsv1.ReplicaSet{func() appsv1.ReplicaSet {
			rs := replicaSet(ns, "legacy")
			rs.Annotations = map[string]string{SpecDroppedAnnotation: "true"}
			return rs
		}()},
		Pods: []corev1.Pod{
			forged(pod(ns, "bare")),
			forged(pod(ns, "fake-owner", controller("apps/v1", "ReplicaSet", "never-created"))),
		},
	}
	want := []ObjectRef{
		wantRef("apps/v1", "ReplicaSet", ns, "legacy"),
		wantRef("v1", "Pod", ns, "bare"),
		wantRef("v1", "Pod", ns, "fake-owner"),
	}
	if diff := cmp.Diff(want, refs(s.Workloads())); diff != "" {
		t.Errorf("Workloads() (-want +got):\n%s", diff)
	}
}

// The Pods whose spec the cache dropped are left out of the snapshot's
// Pods, counted by namespace, and still counted as read; the workloads
// judged are the same as with them in.
func TestHeldPodsLeaveOutDroppedPods(t *testing.T) {
	const ns = "shop"
	s := &Snapshot{
		ReplicaSets: []appsv1.ReplicaSet{replicaSet(ns, "web-7d9f", controller("apps/v1", "Deployment", "web"))},
		Pods: []corev1.Pod{
			pod(ns, "web-7d9f-a", controller("apps/v1", "ReplicaSet", "web-7d9f")),
			pod(ns, "web-7d9f-b", controller("apps/v1", "ReplicaSet", "web-7d9f")),
			pod("other", "db-0", controller("apps/v1", "StatefulSet", "db")),
			pod(ns, "debug"),
			pod("kube-system", "kube-apiserver-x", controller("apps/v1", "DaemonSet", "kube-apiserver")),
		},
	}
	dropAll(s)
	perNSBefore, totalBefore := s.Count()
	want := refs(s.Workloads())

	held, unheld := heldPods(s.Pods)
	var names []string
	for _, p := range held {
		names = append(names, p.Namespace+"/"+p.Name)
	}
	if diff := cmp.Diff([]string{ns + "/debug", "kube-system/kube-apiserver-x"}, names); diff != "" {
		t.Errorf("held Pods (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{ns: 2, "other": 1}, unheld); diff != "" {
		t.Errorf("unheld counts (-want +got):\n%s", diff)
	}

	s.Pods, s.Unheld, s.workloads = held, unheld, nil
	perNS, total := s.Count()
	if total != totalBefore || !cmp.Equal(perNS, perNSBefore) {
		t.Errorf("Count() = %v, %d; want %v, %d as with every Pod held", perNS, total, perNSBefore, totalBefore)
	}
	if diff := cmp.Diff(want, refs(s.Workloads())); diff != "" {
		t.Errorf("Workloads() changed (-with every Pod +held only):\n%s", diff)
	}

	// Nothing dropped: the same list, nothing counted apart.
	kept := []corev1.Pod{pod(ns, "debug")}
	if held, unheld := heldPods(kept); len(held) != 1 || &held[0] != &kept[0] || unheld != nil {
		t.Errorf("heldPods of undropped Pods = %v, %v; want the same list and no counts", held, unheld)
	}
}
