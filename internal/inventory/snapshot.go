// Package inventory holds the Snapshot the checks judge: the objects of a
// cluster (read from the manager's informer cache, or from manifest files),
// already filtered to the scan's namespace scope. It also decides which
// object a pod template is attributed to: the object the user wrote.
package inventory

import (
	"slices"
	"sort"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// Kind names an input kind of the scan, as Kind.group (core kinds have no group).
type Kind string

// The kinds a scan reads.
const (
	KindNamespace          Kind = "Namespace"
	KindPod                Kind = "Pod"
	KindService            Kind = "Service"
	KindServiceAccount     Kind = "ServiceAccount"
	KindSecret             Kind = "Secret"
	KindDeployment         Kind = "Deployment.apps"
	KindReplicaSet         Kind = "ReplicaSet.apps"
	KindStatefulSet        Kind = "StatefulSet.apps"
	KindDaemonSet          Kind = "DaemonSet.apps"
	KindJob                Kind = "Job.batch"
	KindCronJob            Kind = "CronJob.batch"
	KindIngress            Kind = "Ingress.networking.k8s.io"
	KindNetworkPolicy      Kind = "NetworkPolicy.networking.k8s.io"
	KindRole               Kind = "Role.rbac.authorization.k8s.io"
	KindClusterRole        Kind = "ClusterRole.rbac.authorization.k8s.io"
	KindRoleBinding        Kind = "RoleBinding.rbac.authorization.k8s.io"
	KindClusterRoleBinding Kind = "ClusterRoleBinding.rbac.authorization.k8s.io"
	KindLimitRange         Kind = "LimitRange"
	KindResourceQuota      Kind = "ResourceQuota"
	KindStorageClass       Kind = "StorageClass.storage.k8s.io"

	KindValidatingWebhookConfiguration   Kind = "ValidatingWebhookConfiguration.admissionregistration.k8s.io"
	KindMutatingWebhookConfiguration     Kind = "MutatingWebhookConfiguration.admissionregistration.k8s.io"
	KindValidatingAdmissionPolicy        Kind = "ValidatingAdmissionPolicy.admissionregistration.k8s.io"
	KindValidatingAdmissionPolicyBinding Kind = "ValidatingAdmissionPolicyBinding.admissionregistration.k8s.io"
)

// AllKinds lists every kind a scan reads.
var AllKinds = []Kind{
	KindNamespace, KindPod, KindService, KindServiceAccount, KindSecret,
	KindDeployment, KindReplicaSet, KindStatefulSet, KindDaemonSet, KindJob, KindCronJob,
	KindIngress, KindNetworkPolicy,
	KindRole, KindClusterRole, KindRoleBinding, KindClusterRoleBinding,
	KindLimitRange, KindResourceQuota, KindStorageClass,
	KindValidatingWebhookConfiguration, KindMutatingWebhookConfiguration,
	KindValidatingAdmissionPolicy, KindValidatingAdmissionPolicyBinding,
}

// DefaultKinds are the kinds a cluster scan reads unless told otherwise:
// every kind but Secrets. No check needs Secret metadata today, and listing
// Secrets, even as metadata, needs RBAC that can read every Secret's data;
// the manager reads them only with --read-secret-metadata.
var DefaultKinds = func() []Kind {
	var out []Kind
	for _, k := range AllKinds {
		if k != KindSecret {
			out = append(out, k)
		}
	}
	return out
}()

// WorkloadKinds are the kinds whose pod templates the checks judge.
var WorkloadKinds = []Kind{KindPod, KindDeployment, KindReplicaSet, KindStatefulSet, KindDaemonSet, KindJob, KindCronJob}

// MissingReason says why a kind could not be read.
type MissingReason string

// The reasons a kind can be missing.
const (
	MissingForbidden MissingReason = "Forbidden"
	MissingNotServed MissingReason = "NotFound"
	MissingError     MissingReason = "Error"
)

// Missing records a kind that could not be read.
type Missing struct {
	Reason  MissingReason
	Message string
}

// Snapshot is everything a scan judges. Namespaced objects are only those of
// in-scope namespaces; cluster-scoped objects are always all there.
// Secrets are metadata only: a Snapshot never holds secret data.
type Snapshot struct {
	Namespaces          []corev1.Namespace
	Pods                []corev1.Pod
	Services            []corev1.Service
	ServiceAccounts     []corev1.ServiceAccount
	Secrets             []metav1.PartialObjectMetadata
	Deployments         []appsv1.Deployment
	ReplicaSets         []appsv1.ReplicaSet
	StatefulSets        []appsv1.StatefulSet
	DaemonSets          []appsv1.DaemonSet
	Jobs                []batchv1.Job
	CronJobs            []batchv1.CronJob
	Ingresses           []networkingv1.Ingress
	NetworkPolicies     []networkingv1.NetworkPolicy
	Roles               []rbacv1.Role
	ClusterRoles        []rbacv1.ClusterRole
	RoleBindings        []rbacv1.RoleBinding
	ClusterRoleBindings []rbacv1.ClusterRoleBinding
	LimitRanges         []corev1.LimitRange
	ResourceQuotas      []corev1.ResourceQuota
	StorageClasses      []storagev1.StorageClass

	ValidatingWebhookConfigurations   []admissionregistrationv1.ValidatingWebhookConfiguration
	MutatingWebhookConfigurations     []admissionregistrationv1.MutatingWebhookConfiguration
	ValidatingAdmissionPolicies       []admissionregistrationv1.ValidatingAdmissionPolicy
	ValidatingAdmissionPolicyBindings []admissionregistrationv1.ValidatingAdmissionPolicyBinding

	// Identities are the Pods, ReplicaSets and Jobs read only as who they
	// are and which workload controls them: the manager's cache keeps no
	// more of an object whose template is judged on its controller (Trim).
	// No check reads them; Count counts them, and Workloads knows by them
	// which ReplicaSets and Jobs exist to control the Pods kept whole. They
	// point into the cache: never mutate them.
	Identities []*metav1.PartialObjectMetadata

	// Missing holds the kinds that could not be read. A kind neither here
	// nor read is treated as missing too (see Has).
	Missing map[Kind]Missing
	// Read holds the kinds that were read.
	Read map[Kind]bool
	// Partial is true when the snapshot is a set of manifests rather than a
	// whole cluster: checks that judge what a cluster lacks as a whole (such
	// as an admission policy engine) cannot judge it.
	Partial bool

	workloads []Workload // computed once by Workloads; a Snapshot is not changed after it is built
}

// Has reports whether kind k was read.
func (s *Snapshot) Has(k Kind) bool { return s.Read[k] }

// MarkRead records that kind k was read.
func (s *Snapshot) MarkRead(k Kind) {
	if s.Read == nil {
		s.Read = map[Kind]bool{}
	}
	s.Read[k] = true
	delete(s.Missing, k)
}

// MarkMissing records that kind k could not be read.
func (s *Snapshot) MarkMissing(k Kind, reason MissingReason, message string) {
	if s.Missing == nil {
		s.Missing = map[Kind]Missing{}
	}
	s.Missing[k] = Missing{Reason: reason, Message: message}
	delete(s.Read, k)
}

// ReadKinds returns the kinds read, sorted.
func (s *Snapshot) ReadKinds() []Kind {
	out := make([]Kind, 0, len(s.Read))
	for k := range s.Read {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// MissingKinds returns the kinds that could not be read, sorted.
func (s *Snapshot) MissingKinds() []Kind {
	out := make([]Kind, 0, len(s.Missing))
	for k := range s.Missing {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Sort orders every list by namespace and name, so that results are
// deterministic whatever order the objects were read in.
func (s *Snapshot) Sort() {
	s.workloads = nil // they point into the lists about to move
	s.eachList(func(n int, meta func(int) *metav1.ObjectMeta, swap func(i, j int)) {
		sort.Sort(byNamespaceName{n: n, meta: meta, swap: swap})
	})
}

type byNamespaceName struct {
	n    int
	meta func(int) *metav1.ObjectMeta
	swap func(i, j int)
}

func (b byNamespaceName) Len() int      { return b.n }
func (b byNamespaceName) Swap(i, j int) { b.swap(i, j) }
func (b byNamespaceName) Less(i, j int) bool {
	x, y := b.meta(i), b.meta(j)
	if x.Namespace != y.Namespace {
		return x.Namespace < y.Namespace
	}
	return x.Name < y.Name
}

// Count returns the number of objects in the snapshot per namespace ("" for
// cluster-scoped objects), and in all.
func (s *Snapshot) Count() (perNamespace map[string]int, total int) {
	perNamespace = map[string]int{}
	s.eachList(func(n int, meta func(int) *metav1.ObjectMeta, _ func(i, j int)) {
		for i := 0; i < n; i++ {
			perNamespace[meta(i).Namespace]++
		}
		total += n
	})
	for _, id := range s.Identities {
		perNamespace[id.Namespace]++
	}
	total += len(s.Identities)
	return perNamespace, total
}

// eachList calls fn once for every list of the snapshot.
func (s *Snapshot) eachList(fn func(n int, meta func(int) *metav1.ObjectMeta, swap func(i, j int))) {
	visit(s.Namespaces, fn)
	visit(s.Pods, fn)
	visit(s.Services, fn)
	visit(s.ServiceAccounts, fn)
	visit(s.Secrets, fn)
	visit(s.Deployments, fn)
	visit(s.ReplicaSets, fn)
	visit(s.StatefulSets, fn)
	visit(s.DaemonSets, fn)
	visit(s.Jobs, fn)
	visit(s.CronJobs, fn)
	visit(s.Ingresses, fn)
	visit(s.NetworkPolicies, fn)
	visit(s.Roles, fn)
	visit(s.ClusterRoles, fn)
	visit(s.RoleBindings, fn)
	visit(s.ClusterRoleBindings, fn)
	visit(s.LimitRanges, fn)
	visit(s.ResourceQuotas, fn)
	visit(s.StorageClasses, fn)
	visit(s.ValidatingWebhookConfigurations, fn)
	visit(s.MutatingWebhookConfigurations, fn)
	visit(s.ValidatingAdmissionPolicies, fn)
	visit(s.ValidatingAdmissionPolicyBindings, fn)
}

// metaObject is any API object value whose pointer exposes its ObjectMeta.
type metaObject[T any] interface {
	*T
	GetObjectMeta() metav1.Object
}

func visit[T any, PT metaObject[T]](items []T, fn func(n int, meta func(int) *metav1.ObjectMeta, swap func(i, j int))) {
	fn(len(items),
		func(i int) *metav1.ObjectMeta { return PT(&items[i]).GetObjectMeta().(*metav1.ObjectMeta) },
		func(i, j int) { items[i], items[j] = items[j], items[i] })
}

// Add appends a typed object of a kind the Snapshot holds to its list (a
// Secret as metadata only, its data dropped) and reports whether it did.
func (s *Snapshot) Add(obj runtime.Object) bool {
	switch o := obj.(type) {
	case *corev1.Secret:
		s.Secrets = append(s.Secrets, metav1.PartialObjectMetadata{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
			ObjectMeta: o.ObjectMeta,
		})
	case *corev1.Namespace:
		s.Namespaces = append(s.Namespaces, *o)
	case *corev1.Pod:
		s.Pods = append(s.Pods, *o)
	case *corev1.Service:
		s.Services = append(s.Services, *o)
	case *corev1.ServiceAccount:
		s.ServiceAccounts = append(s.ServiceAccounts, *o)
	case *appsv1.Deployment:
		s.Deployments = append(s.Deployments, *o)
	case *appsv1.ReplicaSet:
		s.ReplicaSets = append(s.ReplicaSets, *o)
	case *appsv1.StatefulSet:
		s.StatefulSets = append(s.StatefulSets, *o)
	case *appsv1.DaemonSet:
		s.DaemonSets = append(s.DaemonSets, *o)
	case *batchv1.Job:
		s.Jobs = append(s.Jobs, *o)
	case *batchv1.CronJob:
		s.CronJobs = append(s.CronJobs, *o)
	case *networkingv1.Ingress:
		s.Ingresses = append(s.Ingresses, *o)
	case *networkingv1.NetworkPolicy:
		s.NetworkPolicies = append(s.NetworkPolicies, *o)
	case *rbacv1.Role:
		s.Roles = append(s.Roles, *o)
	case *rbacv1.ClusterRole:
		s.ClusterRoles = append(s.ClusterRoles, *o)
	case *rbacv1.RoleBinding:
		s.RoleBindings = append(s.RoleBindings, *o)
	case *rbacv1.ClusterRoleBinding:
		s.ClusterRoleBindings = append(s.ClusterRoleBindings, *o)
	case *corev1.LimitRange:
		s.LimitRanges = append(s.LimitRanges, *o)
	case *corev1.ResourceQuota:
		s.ResourceQuotas = append(s.ResourceQuotas, *o)
	case *storagev1.StorageClass:
		s.StorageClasses = append(s.StorageClasses, *o)
	case *admissionregistrationv1.ValidatingWebhookConfiguration:
		s.ValidatingWebhookConfigurations = append(s.ValidatingWebhookConfigurations, *o)
	case *admissionregistrationv1.MutatingWebhookConfiguration:
		s.MutatingWebhookConfigurations = append(s.MutatingWebhookConfigurations, *o)
	case *admissionregistrationv1.ValidatingAdmissionPolicy:
		s.ValidatingAdmissionPolicies = append(s.ValidatingAdmissionPolicies, *o)
	case *admissionregistrationv1.ValidatingAdmissionPolicyBinding:
		s.ValidatingAdmissionPolicyBindings = append(s.ValidatingAdmissionPolicyBindings, *o)
	default:
		return false
	}
	return true
}
