package synth

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"github.com/kubeposture/kubeposture/internal/inventory"
)

// Materialize returns the cluster's objects as they are once its controllers
// have run: every object with a UID and its apiVersion and kind, plus each
// Deployment's current ReplicaSet and the Pods of Deployments, StatefulSets
// and Jobs, owned as kube-controller-manager owns them, with the
// ServiceAccount token volume the API server adds. The cluster's own objects
// are copied, not changed.
func (c *Cluster) Materialize() []client.Object {
	out := make([]client.Object, 0, len(c.Objects)+c.Pods+c.ReplicaSets)
	for _, o := range c.Objects {
		o = o.DeepCopyObject().(client.Object)
		setTypeMeta(o)
		if o.GetUID() == "" {
			o.SetUID(UID(o.GetObjectKind().GroupVersionKind().Kind, o.GetNamespace(), o.GetName()))
		}
		out = append(out, o)
		switch w := o.(type) {
		case *appsv1.Deployment:
			tmpl := *w.Spec.Template.DeepCopy()
			hash := shortHash(w.Namespace + "/" + w.Name + "/" + tmpl.Spec.Containers[0].Image)
			tmpl.Labels = copyLabels(tmpl.Labels, "pod-template-hash", hash)
			rs := &appsv1.ReplicaSet{
				ObjectMeta: metav1.ObjectMeta{Namespace: w.Namespace, Name: w.Name + "-" + hash, Labels: tmpl.Labels,
					Annotations:     map[string]string{"deployment.kubernetes.io/revision": "3"},
					OwnerReferences: []metav1.OwnerReference{controllerRef(deploymentGVK, &w.ObjectMeta)}},
				Spec: appsv1.ReplicaSetSpec{Replicas: w.Spec.Replicas, Template: tmpl,
					Selector: &metav1.LabelSelector{MatchLabels: copyLabels(w.Spec.Selector.MatchLabels, "pod-template-hash", hash)}},
			}
			setTypeMeta(rs)
			rs.UID = UID("ReplicaSet", rs.Namespace, rs.Name)
			out = append(out, rs)
			for i := range int(*w.Spec.Replicas) {
				out = append(out, podOf(rs.Name+"-"+shortHash(fmt.Sprint(rs.Name, i))[:5], &rs.ObjectMeta, "ReplicaSet", tmpl))
			}
		case *appsv1.StatefulSet:
			for i := range int(*w.Spec.Replicas) {
				tmpl := *w.Spec.Template.DeepCopy()
				name := fmt.Sprintf("%s-%d", w.Name, i)
				tmpl.Labels = copyLabels(tmpl.Labels, "statefulset.kubernetes.io/pod-name", name, "apps.kubernetes.io/pod-index", fmt.Sprint(i))
				out = append(out, podOf(name, &w.ObjectMeta, "StatefulSet", tmpl))
			}
		case *batchv1.Job:
			tmpl := *w.Spec.Template.DeepCopy()
			tmpl.Labels = copyLabels(tmpl.Labels, "batch.kubernetes.io/controller-uid", string(w.UID), "batch.kubernetes.io/job-name", w.Name)
			out = append(out, podOf(w.Name+"-"+shortHash(w.Name)[:5], &w.ObjectMeta, "Job", tmpl))
		}
	}
	return out
}

func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:5])
}

// podOf is a Pod that owner made from tmpl, as the API server stores it.
func podOf(name string, owner *metav1.ObjectMeta, ownerKind string, tmpl corev1.PodTemplateSpec) *corev1.Pod {
	gvk := appsv1.SchemeGroupVersion.WithKind(ownerKind)
	if ownerKind == "Job" {
		gvk = batchv1.SchemeGroupVersion.WithKind(ownerKind)
	}
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: owner.Namespace, Name: name, Labels: tmpl.Labels, Annotations: tmpl.Annotations,
			OwnerReferences: []metav1.OwnerReference{controllerRef(gvk, owner)}},
		Spec: *tmpl.Spec.DeepCopy(),
	}
	setTypeMeta(p)
	p.UID = UID("Pod", p.Namespace, p.Name)
	if p.Spec.RestartPolicy == "" {
		p.Spec.RestartPolicy = corev1.RestartPolicyAlways
	}
	p.Spec.DNSPolicy, p.Spec.SchedulerName = corev1.DNSClusterFirst, corev1.DefaultSchedulerName
	if p.Spec.ServiceAccountName == "" {
		p.Spec.ServiceAccountName = "default"
	}
	if p.Spec.AutomountServiceAccountToken == nil || *p.Spec.AutomountServiceAccountToken {
		volume := "kube-api-access-" + shortHash(name)[:5]
		expiry := int64(3607)
		p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: volume, VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
			Sources: []corev1.VolumeProjection{
				{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: &expiry}},
				{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"}, Items: []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}},
			},
		}}})
		for i := range p.Spec.Containers {
			p.Spec.Containers[i].VolumeMounts = append(p.Spec.Containers[i].VolumeMounts,
				corev1.VolumeMount{Name: volume, MountPath: "/var/run/secrets/kubernetes.io/serviceaccount", ReadOnly: true})
		}
	}
	p.Status = corev1.PodStatus{Phase: corev1.PodPending, QOSClass: corev1.PodQOSBurstable}
	return p
}

// setTypeMeta sets the object's apiVersion and kind from the client-go scheme.
func setTypeMeta(o client.Object) {
	if gvk, err := apiutil.GVKForObject(o, scheme.Scheme); err == nil {
		o.GetObjectKind().SetGroupVersionKind(gvk)
	}
}

// Snapshot builds the engine's input from objects (such as Materialize's),
// as if a cluster scan had read every kind: Secrets as metadata only.
func Snapshot(objs []client.Object) *inventory.Snapshot {
	s := &inventory.Snapshot{}
	for _, o := range objs {
		s.Add(o)
	}
	for _, k := range inventory.AllKinds {
		s.MarkRead(k)
	}
	s.Sort()
	return s
}

// Templates returns the number of pod templates the checks judge in objs:
// the workloads a user wrote, each once.
func Templates(objs []client.Object) int { return len(Snapshot(objs).Workloads()) }
