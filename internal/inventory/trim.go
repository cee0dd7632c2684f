package inventory

import (
	"maps"
	"slices"
	"strings"
	"sync"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Trim is the manager's cache transform: what the cache keeps of each
// object is what the checks read, so that the cache of a large cluster is
// small.
//
//   - A Pod, ReplicaSet or Job whose controller is a workload kind the scan
//     reads (a Pod of a ReplicaSet, StatefulSet, DaemonSet or Job; a
//     ReplicaSet of a Deployment; a Job of a CronJob) is replaced by its
//     identity: a metav1.PartialObjectMetadata with its kind, namespace,
//     name, UID, resourceVersion and controller reference, and nothing else.
//     Workloads judges its template on the controller the user wrote, and
//     no check reads anything else of it: it is needed only to be counted
//     and, for a ReplicaSet or Job, to own the Pods kept whole. Such objects
//     are most of a large cluster's bytes.
//   - Kept whole are objects with no controller or a controller of another
//     kind (a Node for static pods, custom controllers), which Workloads
//     judges themselves, and every Pod of kube-system, where the
//     control-plane checks read Pod specs whoever owns the Pod (self-hosted
//     control planes run as DaemonSets). Of these, and of every other kind,
//     the cache drops managedFields, kubectl's last-applied annotation and
//     the status, which no check reads, and holds strings that repeat across
//     objects (label and annotation keys, namespaces, images, env var names,
//     ...) once.
//
// A typed informer's store then holds two types of object for Pods,
// ReplicaSets and Jobs; the manager reads those kinds with Visit, never
// into a typed list. Trim is idempotent, and leaves what it does not know
// (a cache.DeletedFinalStateUnknown) as it is.
func Trim(obj any) (any, error) {
	if id := identityOf(obj); id != nil {
		return id, nil
	}
	trimWhole(obj)
	return obj, nil
}

// trimWhole is Trim of an object the cache keeps whole.
func trimWhole(obj any) {
	if a, ok := obj.(metav1.ObjectMetaAccessor); ok {
		if m, ok := a.GetObjectMeta().(*metav1.ObjectMeta); ok {
			trimMeta(m)
		}
	}
	switch o := obj.(type) {
	case *corev1.Pod:
		o.Status = corev1.PodStatus{}
		internPodSpec(&o.Spec)
	case *appsv1.Deployment:
		o.Status = appsv1.DeploymentStatus{}
		internTemplate(&o.Spec.Template)
	case *appsv1.ReplicaSet:
		o.Status = appsv1.ReplicaSetStatus{}
		internTemplate(&o.Spec.Template)
	case *appsv1.StatefulSet:
		o.Status = appsv1.StatefulSetStatus{}
		internTemplate(&o.Spec.Template)
	case *appsv1.DaemonSet:
		o.Status = appsv1.DaemonSetStatus{}
		internTemplate(&o.Spec.Template)
	case *batchv1.Job:
		o.Status = batchv1.JobStatus{}
		internTemplate(&o.Spec.Template)
	case *batchv1.CronJob:
		o.Status = batchv1.CronJobStatus{}
		internTemplate(&o.Spec.JobTemplate.Spec.Template)
	case *corev1.Namespace:
		o.Status = corev1.NamespaceStatus{}
	case *corev1.Service:
		o.Status = corev1.ServiceStatus{}
	case *corev1.ResourceQuota:
		o.Status = corev1.ResourceQuotaStatus{}
	case *networkingv1.Ingress:
		o.Status = networkingv1.IngressStatus{}
	case *networkingv1.NetworkPolicy:
		// NetworkPolicy has no status.
	case *admissionregistrationv1.ValidatingAdmissionPolicy:
		o.Status = admissionregistrationv1.ValidatingAdmissionPolicyStatus{}
	}
}

// controllersJudged are the controllers whose pod template Workloads judges
// in place of the template of the objects they control, by the controlled
// object's kind.
var controllersJudged = map[string][]schema.GroupKind{
	"Pod":        {{Group: "apps", Kind: "ReplicaSet"}, {Group: "apps", Kind: "StatefulSet"}, {Group: "apps", Kind: "DaemonSet"}, {Group: "batch", Kind: "Job"}},
	"ReplicaSet": {{Group: "apps", Kind: "Deployment"}},
	"Job":        {{Group: "batch", Kind: "CronJob"}},
}

// identityOf returns the identity the cache keeps of a Pod, ReplicaSet or
// Job whose template is judged on its controller, or nil for any other
// object.
func identityOf(obj any) *metav1.PartialObjectMetadata {
	var m *metav1.ObjectMeta
	var gvk schema.GroupVersionKind
	switch o := obj.(type) {
	case *corev1.Pod:
		if o.Namespace == metav1.NamespaceSystem {
			return nil
		}
		m, gvk = &o.ObjectMeta, corev1.SchemeGroupVersion.WithKind("Pod")
	case *appsv1.ReplicaSet:
		m, gvk = &o.ObjectMeta, appsv1.SchemeGroupVersion.WithKind("ReplicaSet")
	case *batchv1.Job:
		m, gvk = &o.ObjectMeta, batchv1.SchemeGroupVersion.WithKind("Job")
	default:
		return nil
	}
	ref := metav1.GetControllerOfNoCopy(m)
	if ref == nil || !judgedController(ref, gvk.Kind) {
		return nil
	}
	id := &metav1.PartialObjectMetadata{
		TypeMeta: metav1.TypeMeta{APIVersion: intern(gvk.GroupVersion().String()), Kind: intern(gvk.Kind)},
		ObjectMeta: metav1.ObjectMeta{
			Namespace: intern(m.Namespace), Name: m.Name, UID: m.UID, ResourceVersion: m.ResourceVersion,
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: intern(ref.APIVersion), Kind: intern(ref.Kind), Name: ref.Name, UID: ref.UID, Controller: new(true),
			}},
		},
	}
	return id
}

// judgedController says whether ref names a controller whose template
// Workloads judges in place of that of the kind it controls.
func judgedController(ref *metav1.OwnerReference, kind string) bool {
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

// IsIdentity says whether obj is an identity the cache keeps in place of a
// Pod, ReplicaSet or Job (Trim).
func IsIdentity(obj any) bool {
	_, ok := obj.(*metav1.PartialObjectMetadata)
	return ok
}

// trimMeta drops managedFields and kubectl's last-applied annotation, and
// interns the strings of m that repeat across objects.
func trimMeta(m *metav1.ObjectMeta) {
	m.ManagedFields = nil
	delete(m.Annotations, lastAppliedAnnotation)
	m.Namespace = intern(m.Namespace)
	m.GenerateName = intern(m.GenerateName)
	m.Labels = internMap(m.Labels)
	m.Annotations = internMap(m.Annotations)
	for i := range m.OwnerReferences {
		r := &m.OwnerReferences[i]
		r.APIVersion, r.Kind = intern(r.APIVersion), intern(r.Kind)
	}
	for i := range m.Finalizers {
		m.Finalizers[i] = intern(m.Finalizers[i])
	}
}

func internTemplate(t *corev1.PodTemplateSpec) {
	trimMeta(&t.ObjectMeta)
	internPodSpec(&t.Spec)
}

// internPodSpec interns the strings of a pod spec that commonly repeat
// across workloads: names, images, env var names and short values, paths.
func internPodSpec(s *corev1.PodSpec) {
	for i := range s.InitContainers {
		internContainer(&s.InitContainers[i])
	}
	for i := range s.Containers {
		internContainer(&s.Containers[i])
	}
	for i := range s.EphemeralContainers {
		internContainer((*corev1.Container)(&s.EphemeralContainers[i].EphemeralContainerCommon))
	}
	for i := range s.Volumes {
		v := &s.Volumes[i]
		v.Name = intern(v.Name)
		switch {
		case v.ConfigMap != nil:
			v.ConfigMap.Name = intern(v.ConfigMap.Name)
		case v.Secret != nil:
			v.Secret.SecretName = intern(v.Secret.SecretName)
		case v.PersistentVolumeClaim != nil:
			v.PersistentVolumeClaim.ClaimName = intern(v.PersistentVolumeClaim.ClaimName)
		case v.HostPath != nil:
			v.HostPath.Path = intern(v.HostPath.Path)
		}
	}
	s.ServiceAccountName = intern(s.ServiceAccountName)
	s.DeprecatedServiceAccount = intern(s.DeprecatedServiceAccount)
	s.SchedulerName = intern(s.SchedulerName)
	s.NodeSelector = internMap(s.NodeSelector)
	for i := range s.Tolerations {
		t := &s.Tolerations[i]
		t.Key, t.Value = intern(t.Key), intern(t.Value)
	}
	for i := range s.ImagePullSecrets {
		s.ImagePullSecrets[i].Name = intern(s.ImagePullSecrets[i].Name)
	}
}

func internContainer(c *corev1.Container) {
	c.Name = intern(c.Name)
	c.Image = intern(c.Image)
	c.TerminationMessagePath = intern(c.TerminationMessagePath)
	c.WorkingDir = intern(c.WorkingDir)
	internStrings(c.Command)
	internStrings(c.Args)
	for i := range c.Env {
		e := &c.Env[i]
		e.Name = intern(e.Name)
		if len(e.Value) <= maxInternedValue {
			e.Value = intern(e.Value)
		}
		if r := e.ValueFrom; r != nil {
			switch {
			case r.SecretKeyRef != nil:
				r.SecretKeyRef.Name, r.SecretKeyRef.Key = intern(r.SecretKeyRef.Name), intern(r.SecretKeyRef.Key)
			case r.ConfigMapKeyRef != nil:
				r.ConfigMapKeyRef.Name, r.ConfigMapKeyRef.Key = intern(r.ConfigMapKeyRef.Name), intern(r.ConfigMapKeyRef.Key)
			case r.FieldRef != nil:
				r.FieldRef.APIVersion, r.FieldRef.FieldPath = intern(r.FieldRef.APIVersion), intern(r.FieldRef.FieldPath)
			}
		}
	}
	for i := range c.EnvFrom {
		e := &c.EnvFrom[i]
		switch {
		case e.SecretRef != nil:
			e.SecretRef.Name = intern(e.SecretRef.Name)
		case e.ConfigMapRef != nil:
			e.ConfigMapRef.Name = intern(e.ConfigMapRef.Name)
		}
	}
	for i := range c.VolumeMounts {
		m := &c.VolumeMounts[i]
		m.Name, m.MountPath, m.SubPath = intern(m.Name), intern(m.MountPath), intern(m.SubPath)
	}
	for i := range c.Ports {
		c.Ports[i].Name = intern(c.Ports[i].Name)
	}
	c.Resources.Limits = shareResources(c.Resources.Limits)
	c.Resources.Requests = shareResources(c.Resources.Requests)
}

// shareResources returns a ResourceList equal to l that the cache shares
// among all containers with the same one: resource settings repeat across
// workloads ("cpu: 100m, memory: 128Mi"), and each list is a map of about
// 700 bytes. The cache's objects are never written to, so a shared map is
// never changed under another object.
func shareResources(l corev1.ResourceList) corev1.ResourceList {
	if len(l) == 0 || len(l) > 8 {
		return l
	}
	names := make([]string, 0, len(l))
	for n := range l {
		names = append(names, string(n))
	}
	slices.Sort(names)
	var key strings.Builder
	for _, n := range names {
		q := l[corev1.ResourceName(n)]
		key.WriteString(n)
		key.WriteByte('=')
		key.WriteString(q.String())
		key.WriteByte(0)
	}
	k := key.String()
	shared.Lock()
	defer shared.Unlock()
	if c, ok := shared.resources[k]; ok {
		return c
	}
	if len(shared.resources) >= maxSharedResources {
		clear(shared.resources)
	}
	shared.resources[k] = l
	return l
}

// maxInternedValue bounds the env var values interned: short values
// ("true", "info", "8080") repeat across workloads, long ones rarely do,
// and an interned string that never repeats costs more than it saves.
const maxInternedValue = 64

func internStrings(ss []string) {
	for i := range ss {
		ss[i] = intern(ss[i])
	}
}

// internMap returns m with its keys and values interned, or m itself when
// it is empty.
func internMap(m map[string]string) map[string]string {
	if len(m) == 0 {
		return m
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		if len(v) <= maxInternedValue {
			v = intern(v)
		}
		out[intern(k)] = v
	}
	return out
}

// maxInterned bounds the strings the interner holds: when it is full it
// forgets them all, so that churn (names of objects long deleted) cannot
// grow it without bound. Strings already shared stay shared.
const maxInterned = 1 << 15

// interned holds one copy of each string interned. Every informer's
// transform uses it, concurrently.
var interned = struct {
	sync.Mutex
	m map[string]string
}{m: map[string]string{}}

// maxSharedResources bounds the resource lists shared (about 700 bytes
// each): a cluster has few distinct ones, and a full table is forgotten.
const maxSharedResources = 4096

// shared holds one copy of each resource list shared (shareResources), by
// its content.
var shared = struct {
	sync.Mutex
	resources map[string]corev1.ResourceList
}{resources: map[string]corev1.ResourceList{}}

// maxInternedLen bounds the strings interned: names, keys, images and
// paths repeat across objects; a long command line or value rarely does,
// and would only pin memory in the interner.
const maxInternedLen = 256

// intern returns the copy of s that the cache shares among objects.
func intern(s string) string {
	if s == "" || len(s) > maxInternedLen {
		return s
	}
	interned.Lock()
	defer interned.Unlock()
	if c, ok := interned.m[s]; ok {
		return c
	}
	if len(interned.m) >= maxInterned {
		clear(interned.m)
	}
	interned.m[s] = s
	return s
}

// Trimmed returns a copy of s whose objects are as the manager reads them:
// as its cache holds them (Trim), identities apart, and whole the
// identities that no workload of s controls (Uncontrolled), which the
// manager reads from the API server. It is what the operator judges where
// the CLI judges s: tests compare the results of the two.
func (s *Snapshot) Trimmed() *Snapshot {
	out := &Snapshot{Missing: maps.Clone(s.Missing), Read: maps.Clone(s.Read), Partial: s.Partial}
	whole := map[*metav1.PartialObjectMetadata]runtime.Object{}
	add := func(o runtime.Object) {
		t, _ := Trim(o.DeepCopyObject())
		switch m, ok := t.(*metav1.PartialObjectMetadata); {
		case ok && m.Kind == "Secret":
			out.Secrets = append(out.Secrets, *m)
		case ok:
			out.Identities = append(out.Identities, m)
			whole[m] = o
		default:
			out.Add(t.(runtime.Object))
		}
	}
	eachObject(s.Namespaces, add)
	eachObject(s.Pods, add)
	eachObject(s.Services, add)
	eachObject(s.ServiceAccounts, add)
	eachObject(s.Secrets, add)
	eachObject(s.Deployments, add)
	eachObject(s.ReplicaSets, add)
	eachObject(s.StatefulSets, add)
	eachObject(s.DaemonSets, add)
	eachObject(s.Jobs, add)
	eachObject(s.CronJobs, add)
	eachObject(s.Ingresses, add)
	eachObject(s.NetworkPolicies, add)
	eachObject(s.Roles, add)
	eachObject(s.ClusterRoles, add)
	eachObject(s.RoleBindings, add)
	eachObject(s.ClusterRoleBindings, add)
	eachObject(s.LimitRanges, add)
	eachObject(s.ResourceQuotas, add)
	eachObject(s.StorageClasses, add)
	eachObject(s.ValidatingWebhookConfigurations, add)
	eachObject(s.MutatingWebhookConfigurations, add)
	eachObject(s.ValidatingAdmissionPolicies, add)
	eachObject(s.ValidatingAdmissionPolicyBindings, add)
	var uncontrolled []*metav1.PartialObjectMetadata
	for _, id := range out.Uncontrolled() {
		if whole[id] != nil {
			uncontrolled = append(uncontrolled, id)
		}
	}
	for _, k := range WorkloadKinds { // as readUncontrolled: only with every workload kind read
		if !out.Has(k) {
			uncontrolled = nil
		}
	}
	out.ReadWhole(uncontrolled, func(id *metav1.PartialObjectMetadata) runtime.Object {
		o := whole[id].DeepCopyObject()
		trimWhole(o)
		return o
	})
	out.Identities = append(out.Identities, s.Identities...)
	out.Sort()
	return out
}

// ReadWhole replaces each of the identities ids by the whole object read
// returns (nil if it no longer exists).
func (s *Snapshot) ReadWhole(ids []*metav1.PartialObjectMetadata, read func(*metav1.PartialObjectMetadata) runtime.Object) {
	if len(ids) == 0 {
		return
	}
	replaced := make(map[*metav1.PartialObjectMetadata]bool, len(ids))
	for _, id := range ids {
		replaced[id] = true
		if o := read(id); o != nil {
			s.Add(o)
		}
	}
	s.Identities = slices.DeleteFunc(s.Identities, func(id *metav1.PartialObjectMetadata) bool { return replaced[id] })
	s.workloads = nil
}

func eachObject[T any, PT interface {
	*T
	runtime.Object
}](items []T, fn func(runtime.Object)) {
	for i := range items {
		fn(PT(&items[i]))
	}
}
