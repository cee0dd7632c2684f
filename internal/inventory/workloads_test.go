package inventory

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestWorkloadsAttribution(t *testing.T) {
	const ns = "shop"
	testCases := map[string]struct {
		snapshot Snapshot
		wantRefs []ObjectRef
	}{
		"empty snapshot has no workloads": {
			wantRefs: []ObjectRef{},
		},
		"deployment with its replicaset and pods is one workload": {
			snapshot: Snapshot{
				Deployments: []appsv1.Deployment{deployment(ns, "web")},
				ReplicaSets: []appsv1.ReplicaSet{replicaSet(ns, "web-7d9f", controller("apps/v1", "Deployment", "web"))},
				Pods: []corev1.Pod{
					pod(ns, "web-7d9f-a1", controller("apps/v1", "ReplicaSet", "web-7d9f")),
					pod(ns, "web-7d9f-b2", controller("apps/v1", "ReplicaSet", "web-7d9f")),
				},
			},
			wantRefs: []ObjectRef{wantRef("apps/v1", "Deployment", ns, "web")},
		},
		"bare pod is its own workload": {
			snapshot: Snapshot{Pods: []corev1.Pod{pod(ns, "debug")}},
			wantRefs: []ObjectRef{wantRef("v1", "Pod", ns, "debug")},
		},
		"mirror pod controlled by a node is judged as a pod": {
			snapshot: Snapshot{Pods: []corev1.Pod{pod("kube-system", "kube-apiserver-cp1", controller("v1", "Node", "cp1"))}},
			wantRefs: []ObjectRef{wantRef("v1", "Pod", "kube-system", "kube-apiserver-cp1")},
		},
		"pod controlled by an unknown custom resource is judged as a pod": {
			snapshot: Snapshot{Pods: []corev1.Pod{pod(ns, "cache-0", controller("example.com/v1", "CacheCluster", "cache"))}},
			wantRefs: []ObjectRef{wantRef("v1", "Pod", ns, "cache-0")},
		},
		"pod with a non-controller owner reference to a replicaset is judged": {
			snapshot: Snapshot{
				ReplicaSets: []appsv1.ReplicaSet{replicaSet(ns, "orphan-rs")},
				Pods: []corev1.Pod{pod(ns, "adopted", metav1.OwnerReference{
					APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "orphan-rs", UID: uid("orphan-rs"),
				})},
			},
			wantRefs: []ObjectRef{
				wantRef("apps/v1", "ReplicaSet", ns, "orphan-rs"),
				wantRef("v1", "Pod", ns, "adopted"),
			},
		},
		// Owner references are the object's own claim: a wrong-kind or
		// self-referencing controller must not hide an object's spec.
		"pod naming a deployment as its controller is judged as a pod": {
			snapshot: Snapshot{
				Deployments: []appsv1.Deployment{deployment(ns, "benign")},
				Pods:        []corev1.Pod{pod(ns, "sneaky", controller("apps/v1", "Deployment", "benign"))},
			},
			wantRefs: []ObjectRef{wantRef("apps/v1", "Deployment", ns, "benign"), wantRef("v1", "Pod", ns, "sneaky")},
		},
		"replicaset naming itself as its controller is judged": {
			snapshot: Snapshot{ReplicaSets: []appsv1.ReplicaSet{replicaSet(ns, "loop", controller("apps/v1", "ReplicaSet", "loop"))}},
			wantRefs: []ObjectRef{wantRef("apps/v1", "ReplicaSet", ns, "loop")},
		},
		"pod whose controller reference has a workload's uid but another kind is judged": {
			snapshot: Snapshot{
				Jobs: []batchv1.Job{job(ns, "batch")},
				Pods: []corev1.Pod{pod(ns, "liar", controller("apps/v1", "ReplicaSet", "batch"))},
			},
			wantRefs: []ObjectRef{wantRef("batch/v1", "Job", ns, "batch"), wantRef("v1", "Pod", ns, "liar")},
		},
		"cronjob with its job and pod is one workload": {
			snapshot: Snapshot{
				CronJobs: []batchv1.CronJob{cronJob(ns, "report")},
				Jobs:     []batchv1.Job{job(ns, "report-2900", controller("batch/v1", "CronJob", "report"))},
				Pods:     []corev1.Pod{pod(ns, "report-2900-x", controller("batch/v1", "Job", "report-2900"))},
			},
			wantRefs: []ObjectRef{wantRef("batch/v1", "CronJob", ns, "report")},
		},
		"bare job and its pod is one workload": {
			snapshot: Snapshot{
				Jobs: []batchv1.Job{job(ns, "migrate")},
				Pods: []corev1.Pod{pod(ns, "migrate-x", controller("batch/v1", "Job", "migrate"))},
			},
			wantRefs: []ObjectRef{wantRef("batch/v1", "Job", ns, "migrate")},
		},
		"replicaset without owner is judged": {
			snapshot: Snapshot{
				ReplicaSets: []appsv1.ReplicaSet{replicaSet(ns, "legacy")},
				Pods:        []corev1.Pod{pod(ns, "legacy-1", controller("apps/v1", "ReplicaSet", "legacy"))},
			},
			wantRefs: []ObjectRef{wantRef("apps/v1", "ReplicaSet", ns, "legacy")},
		},
		"replicaset whose deployment is not in the snapshot is judged": {
			snapshot: Snapshot{
				ReplicaSets: []appsv1.ReplicaSet{replicaSet(ns, "gone-5c4b", controller("apps/v1", "Deployment", "gone"))},
			},
			wantRefs: []ObjectRef{wantRef("apps/v1", "ReplicaSet", ns, "gone-5c4b")},
		},
		"statefulset and its pods is one workload": {
			snapshot: Snapshot{
				StatefulSets: []appsv1.StatefulSet{statefulSet(ns, "db")},
				Pods: []corev1.Pod{
					pod(ns, "db-0", controller("apps/v1", "StatefulSet", "db")),
					pod(ns, "db-1", controller("apps/v1", "StatefulSet", "db")),
				},
			},
			wantRefs: []ObjectRef{wantRef("apps/v1", "StatefulSet", ns, "db")},
		},
		"daemonset and its pods is one workload": {
			snapshot: Snapshot{
				DaemonSets: []appsv1.DaemonSet{daemonSet("kube-system", "node-agent")},
				Pods:       []corev1.Pod{pod("kube-system", "node-agent-zz", controller("apps/v1", "DaemonSet", "node-agent"))},
			},
			wantRefs: []ObjectRef{wantRef("apps/v1", "DaemonSet", "kube-system", "node-agent")},
		},
		"objects from manifests without UIDs are all judged": {
			snapshot: func() Snapshot {
				d := deployment(ns, "web")
				d.UID = ""
				p := pod(ns, "web-pod", metav1.OwnerReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web", Controller: new(true)})
				p.UID = ""
				return Snapshot{Deployments: []appsv1.Deployment{d}, Pods: []corev1.Pod{p}}
			}(),
			wantRefs: []ObjectRef{
				{APIVersion: "apps/v1", Kind: "Deployment", Namespace: ns, Name: "web"},
				{APIVersion: "v1", Kind: "Pod", Namespace: ns, Name: "web-pod"},
			},
		},
		// The cache holds the ReplicaSets and Jobs whose controller is judged
		// as identities only; the Pods of kube-system it keeps whole.
		"pod of a replicaset held as an identity is judged on the deployment": {
			snapshot: Snapshot{
				Deployments: []appsv1.Deployment{deployment("kube-system", "coredns")},
				Identities:  []*metav1.PartialObjectMetadata{identity("apps/v1", "ReplicaSet", "kube-system", "coredns-5d", controller("apps/v1", "Deployment", "coredns"))},
				Pods:        []corev1.Pod{pod("kube-system", "coredns-5d-x", controller("apps/v1", "ReplicaSet", "coredns-5d"))},
			},
			wantRefs: []ObjectRef{wantRef("apps/v1", "Deployment", "kube-system", "coredns")},
		},
		"pod of a job held as an identity is judged on the cronjob": {
			snapshot: Snapshot{
				CronJobs:   []batchv1.CronJob{cronJob("kube-system", "backup")},
				Identities: []*metav1.PartialObjectMetadata{identity("batch/v1", "Job", "kube-system", "backup-1", controller("batch/v1", "CronJob", "backup"))},
				Pods:       []corev1.Pod{pod("kube-system", "backup-1-x", controller("batch/v1", "Job", "backup-1"))},
			},
			wantRefs: []ObjectRef{wantRef("batch/v1", "CronJob", "kube-system", "backup")},
		},
		"an identity of a pod controls nothing": {
			snapshot: Snapshot{
				Identities: []*metav1.PartialObjectMetadata{identity("v1", "Pod", ns, "web-1", controller("apps/v1", "ReplicaSet", "web"))},
				Pods:       []corev1.Pod{pod(ns, "sidecar", controller("v1", "Pod", "web-1"))},
			},
			wantRefs: []ObjectRef{wantRef("v1", "Pod", ns, "sidecar")},
		},
		// UIDs are unique in a cluster, not in manifests: of objects sharing a
		// UID, the one of the kind read last (Deployments, ReplicaSets,
		// StatefulSets, DaemonSets, Jobs, CronJobs) is the one a controller
		// reference must name.
		"a uid shared by two kinds is the later kind's": {
			snapshot: func() Snapshot {
				d, sts := deployment(ns, "twin"), statefulSet(ns, "twin-sts")
				sts.UID = d.UID
				return Snapshot{
					Deployments:  []appsv1.Deployment{d},
					StatefulSets: []appsv1.StatefulSet{sts},
					ReplicaSets:  []appsv1.ReplicaSet{replicaSet(ns, "twin-1", controller("apps/v1", "Deployment", "twin"))},
					Pods:         []corev1.Pod{pod(ns, "twin-sts-0", controller("apps/v1", "StatefulSet", "twin"))},
				}
			}(),
			wantRefs: []ObjectRef{
				wantRef("apps/v1", "Deployment", ns, "twin"),
				{APIVersion: "apps/v1", Kind: "StatefulSet", Namespace: ns, Name: "twin-sts", UID: uid("twin")},
				wantRef("apps/v1", "ReplicaSet", ns, "twin-1"),
			},
		},
		"every kind together, grouped by kind": {
			snapshot: Snapshot{
				Pods:         []corev1.Pod{pod(ns, "bare")},
				ReplicaSets:  []appsv1.ReplicaSet{replicaSet(ns, "legacy")},
				Jobs:         []batchv1.Job{job(ns, "migrate")},
				CronJobs:     []batchv1.CronJob{cronJob(ns, "report")},
				DaemonSets:   []appsv1.DaemonSet{daemonSet(ns, "agent")},
				StatefulSets: []appsv1.StatefulSet{statefulSet(ns, "db")},
				Deployments:  []appsv1.Deployment{deployment(ns, "web")},
			},
			wantRefs: []ObjectRef{
				wantRef("apps/v1", "Deployment", ns, "web"),
				wantRef("apps/v1", "StatefulSet", ns, "db"),
				wantRef("apps/v1", "DaemonSet", ns, "agent"),
				wantRef("batch/v1", "CronJob", ns, "report"),
				wantRef("batch/v1", "Job", ns, "migrate"),
				wantRef("apps/v1", "ReplicaSet", ns, "legacy"),
				wantRef("v1", "Pod", ns, "bare"),
			},
		},
	}
	for name, tc := range testCases {
		t.Run(name, func(t *testing.T) {
			got := refs(tc.snapshot.Workloads())
			if diff := cmp.Diff(tc.wantRefs, got); diff != "" {
				t.Errorf("Workloads() refs mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestWorkloadsTemplate checks that each Workload carries the pod template
// of the object it names (not of a child) and that object's own labels.
func TestWorkloadsTemplate(t *testing.T) {
	const ns = "shop"
	testCases := map[string]struct {
		snapshot Snapshot
		// wantContainer names the template's only container, which the fixtures name after their owner.
		wantContainer     string
		wantTemplateLabel string
		wantLabels        map[string]string
	}{
		"deployment": {
			snapshot:          Snapshot{Deployments: []appsv1.Deployment{deployment(ns, "web")}},
			wantContainer:     "web",
			wantTemplateLabel: "web",
			wantLabels:        map[string]string{"app.kubernetes.io/name": "web"},
		},
		"statefulset": {
			snapshot:          Snapshot{StatefulSets: []appsv1.StatefulSet{statefulSet(ns, "db")}},
			wantContainer:     "db",
			wantTemplateLabel: "db",
			wantLabels:        map[string]string{"app.kubernetes.io/name": "db"},
		},
		"daemonset": {
			snapshot:          Snapshot{DaemonSets: []appsv1.DaemonSet{daemonSet(ns, "agent")}},
			wantContainer:     "agent",
			wantTemplateLabel: "agent",
			wantLabels:        map[string]string{"app.kubernetes.io/name": "agent"},
		},
		"cronjob uses the job template's pod template": {
			snapshot:          Snapshot{CronJobs: []batchv1.CronJob{cronJob(ns, "report")}},
			wantContainer:     "report",
			wantTemplateLabel: "report",
			wantLabels:        map[string]string{"app.kubernetes.io/name": "report"},
		},
		"job": {
			snapshot:          Snapshot{Jobs: []batchv1.Job{job(ns, "migrate")}},
			wantContainer:     "migrate",
			wantTemplateLabel: "migrate",
			wantLabels:        map[string]string{"app.kubernetes.io/name": "migrate"},
		},
		"replicaset": {
			snapshot:          Snapshot{ReplicaSets: []appsv1.ReplicaSet{replicaSet(ns, "legacy")}},
			wantContainer:     "legacy",
			wantTemplateLabel: "legacy",
			wantLabels:        map[string]string{"app.kubernetes.io/name": "legacy"},
		},
		"pod uses its own metadata": {
			snapshot:      Snapshot{Pods: []corev1.Pod{pod(ns, "bare")}},
			wantContainer: "bare",
			// A Pod's Meta is the Pod's own metadata, which has no template-of label.
			wantTemplateLabel: "",
			wantLabels:        map[string]string{"app.kubernetes.io/name": "bare"},
		},
	}
	for name, tc := range testCases {
		t.Run(name, func(t *testing.T) {
			ws := tc.snapshot.Workloads()
			if len(ws) != 1 {
				t.Fatalf("Workloads() returned %d workloads, want 1: %v", len(ws), refs(ws))
			}
			w := ws[0]
			var gotContainers []string
			for _, c := range w.Spec.Containers {
				gotContainers = append(gotContainers, c.Name)
			}
			if diff := cmp.Diff([]string{tc.wantContainer}, gotContainers); diff != "" {
				t.Errorf("Spec containers mismatch (-want +got):\n%s", diff)
			}
			if got := w.Meta.Labels["template-of"]; got != tc.wantTemplateLabel {
				t.Errorf("Meta.Labels[template-of] = %q, want %q", got, tc.wantTemplateLabel)
			}
			if diff := cmp.Diff(tc.wantLabels, w.Labels); diff != "" {
				t.Errorf("Labels mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestWorkloadsPointIntoSnapshot guards the documented contract that a
// Workload's Spec is the snapshot's own, not a copy.
func TestWorkloadsPointIntoSnapshot(t *testing.T) {
	s := Snapshot{Deployments: []appsv1.Deployment{deployment("shop", "web")}}
	ws := s.Workloads()
	if len(ws) != 1 {
		t.Fatalf("Workloads() returned %d workloads, want 1", len(ws))
	}
	if ws[0].Spec != &s.Deployments[0].Spec.Template.Spec {
		t.Errorf("Workload.Spec does not point at the Deployment's template spec")
	}
	if ws[0].Meta != &s.Deployments[0].Spec.Template.ObjectMeta {
		t.Errorf("Workload.Meta does not point at the Deployment's template metadata")
	}
}

// identity is an object as the manager's cache holds it when its template
// is judged on its controller (Trim): who it is and who controls it.
func identity(apiVersion, kind, ns, name string, owners ...metav1.OwnerReference) *metav1.PartialObjectMetadata {
	return &metav1.PartialObjectMetadata{
		TypeMeta:   metav1.TypeMeta{APIVersion: apiVersion, Kind: kind},
		ObjectMeta: objectMeta(ns, name, owners...),
	}
}
