package inventory

import (
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
// the snapshot (mirror pods, pods of custom controllers) are judged as pods.
// The Pods, ReplicaSets and Jobs the manager's cache holds as identities only
// (Trim) have no template here: their controller, of a kind the scan reads,
// is judged. FromReader reads whole, before, those whose controller is not
// in the snapshot (Uncontrolled), so that they are judged as what they are.
func (s *Snapshot) Workloads() []Workload {
	if s.workloads == nil {
		s.workloads = s.buildWorkloads()
	}
	return s.workloads
}

// ownerKind is a workload kind that can control another workload, as a bit,
// so that attributing an object to its controller is a lookup of a UID in
// a map of small values and a bit test.
type ownerKind uint8

// The owner kinds.
const (
	ownerDeployment ownerKind = 1 << iota
	ownerReplicaSet
	ownerStatefulSet
	ownerDaemonSet
	ownerJob
	ownerCronJob
)

// ownerKinds are the owner kinds and their group and kind, in the order
// buildWorkloads reads them: when objects of two kinds share a UID, the
// later kind is the one a controller reference is checked against.
var ownerKinds = []struct {
	kind ownerKind
	gk   schema.GroupKind
}{
	{ownerDeployment, schema.GroupKind{Group: "apps", Kind: "Deployment"}},
	{ownerReplicaSet, schema.GroupKind{Group: "apps", Kind: "ReplicaSet"}},
	{ownerStatefulSet, schema.GroupKind{Group: "apps", Kind: "StatefulSet"}},
	{ownerDaemonSet, schema.GroupKind{Group: "apps", Kind: "DaemonSet"}},
	{ownerJob, schema.GroupKind{Group: "batch", Kind: "Job"}},
	{ownerCronJob, schema.GroupKind{Group: "batch", Kind: "CronJob"}},
}

// kindName is the Kind of an owner kind.
func (k ownerKind) kindName() string {
	for _, o := range ownerKinds {
		if o.kind == k {
			return o.gk.Kind
		}
	}
	return ""
}

// judgedControllers is controllersJudged as bits: the owner kinds whose
// template is judged in place of that of the objects of a kind they control.
var judgedControllers = func() map[string]ownerKind {
	out := map[string]ownerKind{}
	for kind, gks := range controllersJudged {
		for _, gk := range gks {
			for _, o := range ownerKinds {
				if o.gk == gk {
					out[kind] |= o.kind
				}
			}
		}
	}
	return out
}()

// ownerIndex maps the UID of every workload of a snapshot to its kind.
type ownerIndex map[types.UID]ownerKind

// owners indexes the workloads of s, the ReplicaSets and Jobs held as
// identities only among them (they control Pods kept whole). When objects
// of two kinds share a UID, the kind read later wins, in the order of
// ownerKinds.
func (s *Snapshot) owners() ownerIndex {
	owners := make(ownerIndex, len(s.Deployments)+len(s.ReplicaSets)+len(s.StatefulSets)+len(s.DaemonSets)+len(s.Jobs)+len(s.CronJobs)+len(s.Identities)/2)
	add := func(m *metav1.ObjectMeta, k ownerKind) {
		if m.UID != "" {
			owners[m.UID] = k
		}
	}
	identities := func(kind string, k ownerKind) {
		for _, id := range s.Identities {
			if id.Kind == kind {
				add(&id.ObjectMeta, k)
			}
		}
	}
	for i := range s.Deployments {
		add(&s.Deployments[i].ObjectMeta, ownerDeployment)
	}
	for i := range s.ReplicaSets {
		add(&s.ReplicaSets[i].ObjectMeta, ownerReplicaSet)
	}
	identities("ReplicaSet", ownerReplicaSet)
	for i := range s.StatefulSets {
		add(&s.StatefulSets[i].ObjectMeta, ownerStatefulSet)
	}
	for i := range s.DaemonSets {
		add(&s.DaemonSets[i].ObjectMeta, ownerDaemonSet)
	}
	for i := range s.Jobs {
		add(&s.Jobs[i].ObjectMeta, ownerJob)
	}
	identities("Job", ownerJob)
	for i := range s.CronJobs {
		add(&s.CronJobs[i].ObjectMeta, ownerCronJob)
	}
	return owners
}

// controls says whether an object whose controllers of the judged kinds
// are judged in its place is judged on its controller: its controller
// reference names, by UID, a workload of the snapshot of a kind that really
// controls it (a ReplicaSet's Deployment, a Pod's ReplicaSet, ...), and not
// the object itself. An owner reference is the object's own claim, which
// the API server does not check: a privileged Pod naming a benign
// Deployment, or itself, as its controller is judged as a Pod.
func (o ownerIndex) controls(m *metav1.ObjectMeta, judged ownerKind) bool {
	ref := metav1.GetControllerOfNoCopy(m)
	if ref == nil || ref.UID == m.UID {
		return false
	}
	k, ok := o[ref.UID]
	return ok && k&judged != 0 && k.kindName() == ref.Kind
}

// Uncontrolled returns the identities (Trim) that no workload of s
// controls: their controller reference names a workload the snapshot does
// not hold (being created or deleted, or a claim the API server never
// checked). They must be read whole and judged as what they are, as they
// are from manifests.
func (s *Snapshot) Uncontrolled() []*metav1.PartialObjectMetadata {
	var out []*metav1.PartialObjectMetadata
	var owners ownerIndex
	for _, id := range s.Identities {
		if owners == nil {
			owners = s.owners()
		}
		if !owners.controls(&id.ObjectMeta, judgedControllers[id.Kind]) {
			out = append(out, id)
		}
	}
	return out
}

func (s *Snapshot) buildWorkloads() []Workload {
	owners := s.owners()
	controlled := owners.controls
	jobControllers, replicaSetControllers, podControllers := judgedControllers["Job"], judgedControllers["ReplicaSet"], judgedControllers["Pod"]

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
		if controlled(&o.ObjectMeta, jobControllers) {
			continue
		}
		out = append(out, Workload{Ref: ref("batch/v1", "Job", &o.ObjectMeta), Meta: &o.Spec.Template.ObjectMeta, Spec: &o.Spec.Template.Spec, Labels: o.Labels})
	}
	for i := range s.ReplicaSets {
		o := &s.ReplicaSets[i]
		if controlled(&o.ObjectMeta, replicaSetControllers) {
			continue
		}
		out = append(out, Workload{Ref: ref("apps/v1", "ReplicaSet", &o.ObjectMeta), Meta: &o.Spec.Template.ObjectMeta, Spec: &o.Spec.Template.Spec, Labels: o.Labels})
	}
	for i := range s.Pods {
		o := &s.Pods[i]
		if controlled(&o.ObjectMeta, podControllers) {
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
