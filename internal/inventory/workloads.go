package inventory

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// ObjectRef names an object a finding is about.
type ObjectRef struct {
	APIVersion string
	Kind       string
	Namespace  string
	Name       string
	UID        types.UID
}

// Workload is a pod template as the user wrote it: the template of a
// Deployment, StatefulSet, DaemonSet, Job, CronJob or ReplicaSet, or the
// spec of a Pod that no object in the snapshot controls.
type Workload struct {
	Ref ObjectRef
	// Meta is the pod template's metadata (for a Pod, the Pod's own).
	Meta *metav1.ObjectMeta
	// Spec is the pod template's spec. It points into the Snapshot: never mutate it.
	Spec *corev1.PodSpec
	// Labels are the workload object's own labels.
	Labels map[string]string
}

// Workloads returns every pod template that the user wrote, each once, in
// snapshot order. ReplicaSets controlled by a Deployment, Jobs controlled by
// a CronJob and Pods controlled by any workload in the snapshot are left out:
// their template is judged on the controller. Pods whose controller is not in
// the snapshot (mirror pods, pods of custom controllers) are judged as pods,
// unless the manager's cache dropped their spec (DropControlledSpec): their
// controller, of a kind the scan reads, is then being created or deleted, and
// is judged once it is in the cache.
func (s *Snapshot) Workloads() []Workload {
	if s.workloads == nil {
		s.workloads = s.buildWorkloads()
	}
	return s.workloads
}

func (s *Snapshot) buildWorkloads() []Workload {
	// owners maps the UID of every workload to its group and kind.
	owners := make(map[types.UID]schema.GroupKind, len(s.Deployments)+len(s.ReplicaSets)+len(s.StatefulSets)+len(s.DaemonSets)+len(s.Jobs)+len(s.CronJobs))
	add := func(m *metav1.ObjectMeta, gk schema.GroupKind) {
		if m.UID != "" {
			owners[m.UID] = gk
		}
	}
	for i := range s.Deployments {
		add(&s.Deployments[i].ObjectMeta, schema.GroupKind{Group: "apps", Kind: "Deployment"})
	}
	for i := range s.ReplicaSets {
		add(&s.ReplicaSets[i].ObjectMeta, schema.GroupKind{Group: "apps", Kind: "ReplicaSet"})
	}
	for i := range s.StatefulSets {
		add(&s.StatefulSets[i].ObjectMeta, schema.GroupKind{Group: "apps", Kind: "StatefulSet"})
	}
	for i := range s.DaemonSets {
		add(&s.DaemonSets[i].ObjectMeta, schema.GroupKind{Group: "apps", Kind: "DaemonSet"})
	}
	for i := range s.Jobs {
		add(&s.Jobs[i].ObjectMeta, schema.GroupKind{Group: "batch", Kind: "Job"})
	}
	for i := range s.CronJobs {
		add(&s.CronJobs[i].ObjectMeta, schema.GroupKind{Group: "batch", Kind: "CronJob"})
	}
	// controlled says whether an object of kind is judged on its controller
	// instead: its controller reference names, by UID, a workload of the
	// snapshot of a kind that really controls that kind (a ReplicaSet's
	// Deployment, a Pod's ReplicaSet, ...), and not the object itself. An
	// owner reference is the object's own claim, which the API server does
	// not check: a privileged Pod naming a benign Deployment, or itself, as
	// its controller is judged as a Pod.
	controlled := func(m *metav1.ObjectMeta, spec *corev1.PodSpec, kind string) bool {
		if specDropped(m, spec) {
			return true // there is no template to judge here
		}
		ref := metav1.GetControllerOfNoCopy(m)
		if ref == nil || ref.UID == m.UID {
			return false
		}
		gk, ok := owners[ref.UID]
		if !ok || gk.Kind != ref.Kind {
			return false
		}
		return slices.Contains(controllersJudged[kind], gk)
	}

	out := make([]Workload, 0, len(s.Deployments)+len(s.StatefulSets)+len(s.DaemonSets)+len(s.CronJobs)+len(s.Pods)/4)
	for i := range s.Deployments {
		o := &s.Deployments[i]
		out = append(out, Workload{Ref: ref("apps/v1", "Deployment", &o.ObjectMeta), Meta: &o.Spec.Template.ObjectMeta, Spec: &o.Spec.Template.Spec, Labels: o.Labels})
	}
	for i := range s.StatefulSets {
		o := &s.StatefulSets[i]
		out = append(out, Workload{Ref: ref("apps/v1", "StatefulSet", &o.ObjectMeta), Meta: &o.Spec.Template.ObjectMeta, Spec: &o.Spec.Template.Spec, Labels: o.Labels})
	}
	for i := range s.DaemonSets {
		o := &s.DaemonSets[i]
		out = append(out, Workload{Ref: ref("apps/v1", "DaemonSet", &o.ObjectMeta), Meta: &o.Spec.Template.ObjectMeta, Spec: &o.Spec.Template.Spec, Labels: o.Labels})
	}
	for i := range s.CronJobs {
		o := &s.CronJobs[i]
		t := &o.Spec.JobTemplate.Spec.Template
		out = append(out, Workload{Ref: ref("batch/v1", "CronJob", &o.ObjectMeta), Meta: &t.ObjectMeta, Spec: &t.Spec, Labels: o.Labels})
	}
	for i := range s.Jobs {
		o := &s.Jobs[i]
		if controlled(&o.ObjectMeta, &o.Spec.Template.Spec, "Job") {
			continue
		}
		out = append(out, Workload{Ref: ref("batch/v1", "Job", &o.ObjectMeta), Meta: &o.Spec.Template.ObjectMeta, Spec: &o.Spec.Template.Spec, Labels: o.Labels})
	}
	for i := range s.ReplicaSets {
		o := &s.ReplicaSets[i]
		if controlled(&o.ObjectMeta, &o.Spec.Template.Spec, "ReplicaSet") {
			continue
		}
		out = append(out, Workload{Ref: ref("apps/v1", "ReplicaSet", &o.ObjectMeta), Meta: &o.Spec.Template.ObjectMeta, Spec: &o.Spec.Template.Spec, Labels: o.Labels})
	}
	for i := range s.Pods {
		o := &s.Pods[i]
		if controlled(&o.ObjectMeta, &o.Spec, "Pod") {
			continue
		}
		out = append(out, Workload{Ref: ref("v1", "Pod", &o.ObjectMeta), Meta: &o.ObjectMeta, Spec: &o.Spec, Labels: o.Labels})
	}
	return out
}

func ref(apiVersion, kind string, m *metav1.ObjectMeta) ObjectRef {
	return ObjectRef{APIVersion: apiVersion, Kind: kind, Namespace: m.Namespace, Name: m.Name, UID: m.UID}
}

// Ref returns the reference of an object with the given apiVersion and kind.
func Ref(apiVersion, kind string, m *metav1.ObjectMeta) ObjectRef { return ref(apiVersion, kind, m) }
