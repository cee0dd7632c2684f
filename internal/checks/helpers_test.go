package checks

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kubeposture/kubeposture/internal/inventory"
)

// readAll returns a snapshot holding the given objects with every kind marked read.
func readAll(fill func(s *inventory.Snapshot)) *inventory.Snapshot {
	s := &inventory.Snapshot{}
	if fill != nil {
		fill(s)
	}
	for _, k := range inventory.AllKinds {
		s.MarkRead(k)
	}
	return s
}

// runCheck runs the registered check id on s and returns its outcome.
func runCheck(t *testing.T, id string, s *inventory.Snapshot, cfg *Config) Outcome {
	t.Helper()
	c := Default.Get(id)
	if c == nil {
		t.Fatalf("check %q is not registered", id)
	}
	return Run(s, cfg, []*Check{c})[0]
}

// gotFinding is a Finding without its *Check, so that findings compare with cmp.
type gotFinding struct {
	Check   string
	Object  inventory.ObjectRef
	Message string
}

func summarize(fs []Finding) []gotFinding {
	var out []gotFinding
	for _, f := range fs {
		out = append(out, gotFinding{Check: f.Check.ID, Object: f.Object, Message: f.Message})
	}
	return out
}

func uid(name string) types.UID { return types.UID("uid-" + name) }

func objectMeta(ns, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: ns, Name: name, UID: uid(name)}
}

func objRef(apiVersion, kind, ns, name string) inventory.ObjectRef {
	return inventory.ObjectRef{APIVersion: apiVersion, Kind: kind, Namespace: ns, Name: name, UID: uid(name)}
}

// Workloads.

func controllerRef(apiVersion, kind, name string) metav1.OwnerReference {
	return metav1.OwnerReference{APIVersion: apiVersion, Kind: kind, Name: name, UID: uid(name), Controller: new(true)}
}

func pod(ns, name string, spec corev1.PodSpec, owners ...metav1.OwnerReference) corev1.Pod {
	m := objectMeta(ns, name)
	m.OwnerReferences = owners
	return corev1.Pod{ObjectMeta: m, Spec: spec}
}

func deployment(ns, name string, spec corev1.PodSpec) appsv1.Deployment {
	return appsv1.Deployment{ObjectMeta: objectMeta(ns, name), Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: spec}}}
}

func replicaSet(ns, name string, spec corev1.PodSpec, owners ...metav1.OwnerReference) appsv1.ReplicaSet {
	m := objectMeta(ns, name)
	m.OwnerReferences = owners
	return appsv1.ReplicaSet{ObjectMeta: m, Spec: appsv1.ReplicaSetSpec{Template: corev1.PodTemplateSpec{Spec: spec}}}
}

func cronJob(ns, name string, spec corev1.PodSpec) batchv1.CronJob {
	return batchv1.CronJob{ObjectMeta: objectMeta(ns, name), Spec: batchv1.CronJobSpec{
		Schedule:    "0 3 * * *",
		JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: spec}}},
	}}
}

func job(ns, name string, spec corev1.PodSpec, owners ...metav1.OwnerReference) batchv1.Job {
	m := objectMeta(ns, name)
	m.OwnerReferences = owners
	return batchv1.Job{ObjectMeta: m, Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: spec}}}
}

func namespace(name string) corev1.Namespace {
	return corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, UID: uid(name)}}
}

// hardenedContainer meets every restricted requirement that can be set per container.
func hardenedContainer(name string) corev1.Container {
	return corev1.Container{
		Name:  name,
		Image: "registry.example/" + name + ":1.0",
		SecurityContext: &corev1.SecurityContext{
			AllowPrivilegeEscalation: new(false),
			RunAsNonRoot:             new(true),
			Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
			SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
	}
}

// hardenedSpec is a pod spec that passes the restricted profile; the PSS
// cases each change one thing about it.
func hardenedSpec(containers ...string) corev1.PodSpec {
	if len(containers) == 0 {
		containers = []string{"app"}
	}
	spec := corev1.PodSpec{
		SecurityContext: &corev1.PodSecurityContext{
			RunAsNonRoot:   new(true),
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
		Volumes: []corev1.Volume{{Name: "cache", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
	}
	for _, name := range containers {
		spec.Containers = append(spec.Containers, hardenedContainer(name))
	}
	return spec
}

// withSpec applies edits to a copy of hardenedSpec().
func withSpec(edits ...func(*corev1.PodSpec)) corev1.PodSpec {
	spec := hardenedSpec()
	for _, edit := range edits {
		edit(&spec)
	}
	return spec
}

// privilegedSpec is a pod spec whose named containers are all privileged.
func privilegedSpec(containers ...string) corev1.PodSpec {
	spec := hardenedSpec(containers...)
	for i := range spec.Containers {
		spec.Containers[i].SecurityContext.Privileged = new(true)
	}
	return spec
}

// RBAC.

func user(name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: name}
}

func group(name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: name}
}

func serviceAccount(ns, name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: name}
}

func clusterRoleRef(name string) rbacv1.RoleRef {
	return rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name}
}

func clusterRoleBinding(name string, role rbacv1.RoleRef, subjects ...rbacv1.Subject) rbacv1.ClusterRoleBinding {
	return rbacv1.ClusterRoleBinding{ObjectMeta: objectMeta("", name), RoleRef: role, Subjects: subjects}
}

func roleBinding(ns, name string, role rbacv1.RoleRef, subjects ...rbacv1.Subject) rbacv1.RoleBinding {
	return rbacv1.RoleBinding{ObjectMeta: objectMeta(ns, name), RoleRef: role, Subjects: subjects}
}

// Network.

func networkPolicy(ns, name string, spec networkingv1.NetworkPolicySpec) networkingv1.NetworkPolicy {
	return networkingv1.NetworkPolicy{ObjectMeta: objectMeta(ns, name), Spec: spec}
}
