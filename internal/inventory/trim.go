package inventory

import (
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// SpecDroppedAnnotation marks an object whose pod template was dropped by
// DropControlledSpec. Its value is always "true". The mark alone proves
// nothing (anyone who can create a Pod can set it): an object counts as
// dropped only with the mark and no containers at all, which the API server
// never admits.
const SpecDroppedAnnotation = "posture.kubeposture.io/spec-dropped"

// droppedAnnotations are the annotations of every dropped object: one map,
// shared, as cached objects are never written to.
var droppedAnnotations = map[string]string{SpecDroppedAnnotation: "true"}

// controllersJudged are the controllers whose pod template Workloads judges
// in place of the template of the objects they control, by the controlled
// object's kind.
var controllersJudged = map[string][]schema.GroupKind{
	"Pod":        {{Group: "apps", Kind: "ReplicaSet"}, {Group: "apps", Kind: "StatefulSet"}, {Group: "apps", Kind: "DaemonSet"}, {Group: "batch", Kind: "Job"}},
	"ReplicaSet": {{Group: "apps", Kind: "Deployment"}},
	"Job":        {{Group: "batch", Kind: "CronJob"}},
}

// DropControlledSpec reduces a Pod, ReplicaSet or Job whose controller is a
// workload kind the scan reads (a Pod of a ReplicaSet, StatefulSet,
// DaemonSet or Job; a ReplicaSet of a Deployment; a Job of a CronJob) to
// what identifies it and its owners, marks it with SpecDroppedAnnotation, and
// reports whether it did: the pod template (or a Pod's spec and status), the
// selector, labels and annotations go. It is meant for the manager's cache
// transform: such objects are most of a large cluster's bytes, Workloads
// judges their template on the controller the user wrote, and no check reads
// anything else of them, so that they are needed only for ownership and to
// be counted.
//
// Kept whole: objects with no controller or a controller of another kind
// (a Node for static pods, custom controllers), which Workloads judges
// themselves, and every Pod of kube-system, where the control-plane checks
// read Pod specs whoever owns the Pod (self-hosted control planes run as
// DaemonSets). A dropped object whose controller is not in the snapshot (a
// controller being created or deleted) is not judged: see Workloads.
//
// It is idempotent, and a no-op on other objects.
func DropControlledSpec(obj any) bool {
	switch o := obj.(type) {
	case *corev1.Pod:
		if o.Namespace == metav1.NamespaceSystem || !controlledByJudged(&o.ObjectMeta, "Pod") {
			return false
		}
		o.Spec = corev1.PodSpec{}
		o.Status = corev1.PodStatus{}
		keepIdentity(&o.ObjectMeta)
		return true
	case *appsv1.ReplicaSet:
		if !controlledByJudged(&o.ObjectMeta, "ReplicaSet") {
			return false
		}
		o.Spec.Template = corev1.PodTemplateSpec{}
		o.Spec.Selector = nil
		keepIdentity(&o.ObjectMeta)
		return true
	case *batchv1.Job:
		if !controlledByJudged(&o.ObjectMeta, "Job") {
			return false
		}
		o.Spec.Template = corev1.PodTemplateSpec{}
		o.Spec.Selector = nil
		keepIdentity(&o.ObjectMeta)
		return true
	}
	return false
}

// specDropped reports whether DropControlledSpec dropped the object's
// template: it is marked, and has no container (the API server admits no pod
// template without one).
func specDropped(m *metav1.ObjectMeta, spec *corev1.PodSpec) bool {
	return m.Annotations[SpecDroppedAnnotation] == "true" &&
		len(spec.Containers) == 0 && len(spec.InitContainers) == 0 && len(spec.EphemeralContainers) == 0
}

func controlledByJudged(m *metav1.ObjectMeta, kind string) bool {
	ref := metav1.GetControllerOfNoCopy(m)
	if ref == nil {
		return false
	}
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	if err != nil {
		return false
	}
	gk := schema.GroupKind{Group: gv.Group, Kind: ref.Kind}
	for _, c := range controllersJudged[kind] {
		if c == gk {
			return true
		}
	}
	return false
}

// keepIdentity keeps the name, namespace, UID, owners and timestamps of an
// object, and marks it with SpecDroppedAnnotation.
func keepIdentity(m *metav1.ObjectMeta) {
	m.Labels = nil
	m.Annotations = droppedAnnotations
	m.Finalizers = nil
	m.ManagedFields = nil
}
