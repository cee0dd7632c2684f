package inventory

import (
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// The fixtures below build small typed objects. Every object's UID is
// "uid-<name>" unless the test passes owner references to objects that
// should not be found in the snapshot.

func objectMeta(ns, name string, owners ...metav1.OwnerReference) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Namespace:       ns,
		Name:            name,
		UID:             uid(name),
		Labels:          map[string]string{"app.kubernetes.io/name": name},
		OwnerReferences: owners,
	}
}

func uid(name string) types.UID { return types.UID("uid-" + name) }

// controller is a controller owner reference to the object named name.
func controller(apiVersion, kind, name string) metav1.OwnerReference {
	return metav1.OwnerReference{APIVersion: apiVersion, Kind: kind, Name: name, UID: uid(name), Controller: new(true)}
}

// template is a pod template whose single container is named after the workload,
// so that a test can tell which template a Workload points to.
func template(name string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"template-of": name}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: name, Image: "registry.example/" + name + ":1"}}},
	}
}

func pod(ns, name string, owners ...metav1.OwnerReference) corev1.Pod {
	return corev1.Pod{ObjectMeta: objectMeta(ns, name, owners...), Spec: template(name).Spec}
}

func deployment(ns, name string) appsv1.Deployment {
	return appsv1.Deployment{ObjectMeta: objectMeta(ns, name), Spec: appsv1.DeploymentSpec{Template: template(name)}}
}

func replicaSet(ns, name string, owners ...metav1.OwnerReference) appsv1.ReplicaSet {
	return appsv1.ReplicaSet{ObjectMeta: objectMeta(ns, name, owners...), Spec: appsv1.ReplicaSetSpec{Template: template(name)}}
}

func statefulSet(ns, name string) appsv1.StatefulSet {
	return appsv1.StatefulSet{ObjectMeta: objectMeta(ns, name), Spec: appsv1.StatefulSetSpec{Template: template(name)}}
}

func daemonSet(ns, name string) appsv1.DaemonSet {
	return appsv1.DaemonSet{ObjectMeta: objectMeta(ns, name), Spec: appsv1.DaemonSetSpec{Template: template(name)}}
}

func job(ns, name string, owners ...metav1.OwnerReference) batchv1.Job {
	return batchv1.Job{ObjectMeta: objectMeta(ns, name, owners...), Spec: batchv1.JobSpec{Template: template(name)}}
}

func cronJob(ns, name string) batchv1.CronJob {
	return batchv1.CronJob{
		ObjectMeta: objectMeta(ns, name),
		Spec: batchv1.CronJobSpec{
			Schedule:    "*/5 * * * *",
			JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: template(name)}},
		},
	}
}

func namespace(name string) corev1.Namespace {
	return corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, UID: uid(name)}}
}

// wantRef is the reference a Workload of the given kind and name should carry.
func wantRef(apiVersion, kind, ns, name string) ObjectRef {
	return ObjectRef{APIVersion: apiVersion, Kind: kind, Namespace: ns, Name: name, UID: uid(name)}
}

func refs(ws []Workload) []ObjectRef {
	out := make([]ObjectRef, 0, len(ws))
	for _, w := range ws {
		out = append(out, w.Ref)
	}
	return out
}
