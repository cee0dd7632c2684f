package inventory

import (
	"context"
	"errors"
	"fmt"
	"sync"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// GVK returns the group, version and kind the scan reads a Kind as.
func GVK(k Kind) schema.GroupVersionKind {
	switch k {
	case KindDeployment, KindReplicaSet, KindStatefulSet, KindDaemonSet:
		return appsv1.SchemeGroupVersion.WithKind(k.Name())
	case KindJob, KindCronJob:
		return batchv1.SchemeGroupVersion.WithKind(k.Name())
	case KindIngress, KindNetworkPolicy:
		return networkingv1.SchemeGroupVersion.WithKind(k.Name())
	case KindRole, KindClusterRole, KindRoleBinding, KindClusterRoleBinding:
		return rbacv1.SchemeGroupVersion.WithKind(k.Name())
	case KindStorageClass:
		return storagev1.SchemeGroupVersion.WithKind(k.Name())
	case KindValidatingWebhookConfiguration, KindMutatingWebhookConfiguration, KindValidatingAdmissionPolicy, KindValidatingAdmissionPolicyBinding:
		return admissionregistrationv1.SchemeGroupVersion.WithKind(k.Name())
	}
	return corev1.SchemeGroupVersion.WithKind(k.Name())
}

// Name is the kind without its group.
func (k Kind) Name() string {
	for i := 0; i < len(k); i++ {
		if k[i] == '.' {
			return string(k[:i])
		}
	}
	return string(k)
}

// Object returns an empty object of the kind, as the cache is asked for it:
// Secrets as metadata only, everything else typed.
func Object(k Kind) client.Object {
	switch k {
	case KindSecret:
		m := &metav1.PartialObjectMetadata{}
		m.SetGroupVersionKind(GVK(k))
		return m
	case KindNamespace:
		return &corev1.Namespace{}
	case KindPod:
		return &corev1.Pod{}
	case KindService:
		return &corev1.Service{}
	case KindServiceAccount:
		return &corev1.ServiceAccount{}
	case KindDeployment:
		return &appsv1.Deployment{}
	case KindReplicaSet:
		return &appsv1.ReplicaSet{}
	case KindStatefulSet:
		return &appsv1.StatefulSet{}
	case KindDaemonSet:
		return &appsv1.DaemonSet{}
	case KindJob:
		return &batchv1.Job{}
	case KindCronJob:
		return &batchv1.CronJob{}
	case KindIngress:
		return &networkingv1.Ingress{}
	case KindNetworkPolicy:
		return &networkingv1.NetworkPolicy{}
	case KindRole:
		return &rbacv1.Role{}
	case KindClusterRole:
		return &rbacv1.ClusterRole{}
	case KindRoleBinding:
		return &rbacv1.RoleBinding{}
	case KindClusterRoleBinding:
		return &rbacv1.ClusterRoleBinding{}
	case KindLimitRange:
		return &corev1.LimitRange{}
	case KindResourceQuota:
		return &corev1.ResourceQuota{}
	case KindStorageClass:
		return &storagev1.StorageClass{}
	case KindValidatingWebhookConfiguration:
		return &admissionregistrationv1.ValidatingWebhookConfiguration{}
	case KindMutatingWebhookConfiguration:
		return &admissionregistrationv1.MutatingWebhookConfiguration{}
	case KindValidatingAdmissionPolicy:
		return &admissionregistrationv1.ValidatingAdmissionPolicy{}
	case KindValidatingAdmissionPolicyBinding:
		return &admissionregistrationv1.ValidatingAdmissionPolicyBinding{}
	}
	return nil
}

// Visitor is a client.Reader that can also call fn with each object it
// holds of obj's kind, without copying it: the manager's InformerReader.
// FromReader reads Pods, ReplicaSets and Jobs through it, because the
// manager's cache holds most of them as identities only (Trim), which no
// typed list can hold. fn must not keep or mutate what it is given beyond
// the Snapshot's use. Visit must be safe for concurrent use.
//
// Fetch reads the object an identity stands for, whole, from the API
// server, or returns nil if it no longer exists: FromReader reads so the
// few identities that no workload of the snapshot controls
// (Snapshot.Uncontrolled), which are judged as what they are.
type Visitor interface {
	Visit(ctx context.Context, obj client.Object, fn func(runtime.Object)) error
	Fetch(ctx context.Context, id *metav1.PartialObjectMetadata) (runtime.Object, error)
}

// Access tells whether the scan may read a kind. The manager answers with a
// SelfSubjectAccessReview, so that a forbidden kind is known at once instead
// of blocking on an informer that can never sync. FromReader asks about
// several kinds at once: CanList must be safe for concurrent use.
type Access interface {
	CanList(ctx context.Context, k Kind) (allowed bool, reason string, err error)
}

// ErrNamespacesUnreadable is returned when a namespace selector is set but
// namespaces cannot be read: the scope cannot be decided.
var ErrNamespacesUnreadable = errors.New("spec.namespaceSelector is set but namespaces cannot be read")

// FromReader reads a Snapshot through r, normally the manager's informer
// cache: the given kinds (nil means DefaultKinds). Kinds that access
// forbids, or whose read fails, are recorded as missing; kinds not asked for
// are neither read nor missing (a check that needs one is not evaluated);
// the rest are read and filtered to the scope. Kinds are read at once: r
// must be safe for concurrent use.
func FromReader(ctx context.Context, r client.Reader, access Access, scope Scope, kinds []Kind) (*Snapshot, error) {
	s := &Snapshot{}
	if kinds == nil {
		kinds = DefaultKinds
	}
	wanted := make(map[Kind]bool, len(kinds))
	for _, k := range kinds {
		wanted[k] = true
	}
	granted := checkAccess(ctx, access, kinds)
	available := func(k Kind) bool {
		if !wanted[k] {
			return false
		}
		if access == nil {
			return true
		}
		a := granted[k]
		switch {
		case a.err != nil:
			s.MarkMissing(k, MissingError, fmt.Sprintf("checking access: %v", a.err))
			return false
		case !a.ok:
			s.MarkMissing(k, MissingForbidden, a.reason)
			return false
		}
		return true
	}
	record := func(k Kind, err error) bool {
		switch {
		case err == nil:
			s.MarkRead(k)
			return true
		case meta.IsNoMatchError(err) || apierrors.IsNotFound(err):
			s.MarkMissing(k, MissingNotServed, "the API server does not serve this kind")
		case apierrors.IsForbidden(err):
			s.MarkMissing(k, MissingForbidden, "forbidden")
		default:
			s.MarkMissing(k, MissingError, err.Error())
		}
		return false
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}

	// Every kind is listed at once, then collected in order: through the
	// manager's InformerReader a List may start its kind's informer and wait
	// for it to sync, and kinds synced one after the other would add up.
	type job struct {
		k       Kind
		read    func(ctx context.Context) error
		collect func()
		err     error
	}
	var jobs []*job
	read := func(k Kind, list client.ObjectList, collect func()) {
		if available(k) {
			jobs = append(jobs, &job{k: k, collect: collect, read: func(ctx context.Context) error {
				return r.List(ctx, list, client.UnsafeDisableDeepCopy)
			}})
		}
	}

	// Namespaces first: they decide the scope.
	inScope := map[string]bool{}
	namespacesKnown := false
	{
		var l corev1.NamespaceList
		read(KindNamespace, &l, func() {
			namespacesKnown = true
			for i := range l.Items {
				if scope.Matches(&l.Items[i]) {
					inScope[l.Items[i].Name] = true
					s.Namespaces = append(s.Namespaces, l.Items[i])
				}
			}
		})
	}
	keep := func(ns string) bool {
		if ns == "" {
			return true
		}
		if namespacesKnown {
			return inScope[ns]
		}
		return scope.MatchesName(ns)
	}

	if v, ok := r.(Visitor); ok {
		// Pods, ReplicaSets and Jobs, most of them identities only (Trim),
		// visited where the cache holds them rather than copied into lists.
		for _, k := range []Kind{KindPod, KindReplicaSet, KindJob} {
			if !available(k) {
				continue
			}
			j := &job{k: k}
			var visited []runtime.Object
			j.read = func(ctx context.Context) error {
				return v.Visit(ctx, Object(k), func(o runtime.Object) { visited = append(visited, o) })
			}
			j.collect = func() { // after Namespaces: keep knows the scope only then
				for _, o := range visited {
					m, err := meta.Accessor(o)
					if err != nil || !keep(m.GetNamespace()) {
						continue
					}
					if id, ok := o.(*metav1.PartialObjectMetadata); ok {
						s.Identities = append(s.Identities, id)
					} else {
						s.Add(o)
					}
				}
			}
			jobs = append(jobs, j)
		}
	} else {
		{
			var l corev1.PodList
			read(KindPod, &l, func() { s.Pods = filter(l.Items, keep, func(o *corev1.Pod) string { return o.Namespace }) })
		}
		{
			var l appsv1.ReplicaSetList
			read(KindReplicaSet, &l, func() {
				s.ReplicaSets = filter(l.Items, keep, func(o *appsv1.ReplicaSet) string { return o.Namespace })
			})
		}
		{
			var l batchv1.JobList
			read(KindJob, &l, func() { s.Jobs = filter(l.Items, keep, func(o *batchv1.Job) string { return o.Namespace }) })
		}
	}
	{
		var l corev1.ServiceList
		read(KindService, &l, func() { s.Services = filter(l.Items, keep, func(o *corev1.Service) string { return o.Namespace }) })
	}
	{
		var l corev1.ServiceAccountList
		read(KindServiceAccount, &l, func() {
			s.ServiceAccounts = filter(l.Items, keep, func(o *corev1.ServiceAccount) string { return o.Namespace })
		})
	}
	{
		l := &metav1.PartialObjectMetadataList{}
		l.SetGroupVersionKind(GVK(KindSecret).GroupVersion().WithKind("SecretList"))
		read(KindSecret, l, func() {
			s.Secrets = filter(l.Items, keep, func(o *metav1.PartialObjectMetadata) string { return o.Namespace })
		})
	}
	{
		var l appsv1.DeploymentList
		read(KindDeployment, &l, func() {
			s.Deployments = filter(l.Items, keep, func(o *appsv1.Deployment) string { return o.Namespace })
		})
	}
	{
		var l appsv1.StatefulSetList
		read(KindStatefulSet, &l, func() {
			s.StatefulSets = filter(l.Items, keep, func(o *appsv1.StatefulSet) string { return o.Namespace })
		})
	}
	{
		var l appsv1.DaemonSetList
		read(KindDaemonSet, &l, func() { s.DaemonSets = filter(l.Items, keep, func(o *appsv1.DaemonSet) string { return o.Namespace }) })
	}
	{
		var l batchv1.CronJobList
		read(KindCronJob, &l, func() { s.CronJobs = filter(l.Items, keep, func(o *batchv1.CronJob) string { return o.Namespace }) })
	}
	{
		var l networkingv1.IngressList
		read(KindIngress, &l, func() {
			s.Ingresses = filter(l.Items, keep, func(o *networkingv1.Ingress) string { return o.Namespace })
		})
	}
	{
		var l networkingv1.NetworkPolicyList
		read(KindNetworkPolicy, &l, func() {
			s.NetworkPolicies = filter(l.Items, keep, func(o *networkingv1.NetworkPolicy) string { return o.Namespace })
		})
	}
	{
		var l rbacv1.RoleList
		read(KindRole, &l, func() { s.Roles = filter(l.Items, keep, func(o *rbacv1.Role) string { return o.Namespace }) })
	}
	{
		var l rbacv1.ClusterRoleList
		read(KindClusterRole, &l, func() { s.ClusterRoles = l.Items })
	}
	{
		var l rbacv1.RoleBindingList
		read(KindRoleBinding, &l, func() {
			s.RoleBindings = filter(l.Items, keep, func(o *rbacv1.RoleBinding) string { return o.Namespace })
		})
	}
	{
		var l rbacv1.ClusterRoleBindingList
		read(KindClusterRoleBinding, &l, func() { s.ClusterRoleBindings = l.Items })
	}
	{
		var l corev1.LimitRangeList
		read(KindLimitRange, &l, func() {
			s.LimitRanges = filter(l.Items, keep, func(o *corev1.LimitRange) string { return o.Namespace })
		})
	}
	{
		var l corev1.ResourceQuotaList
		read(KindResourceQuota, &l, func() {
			s.ResourceQuotas = filter(l.Items, keep, func(o *corev1.ResourceQuota) string { return o.Namespace })
		})
	}
	{
		var l storagev1.StorageClassList
		read(KindStorageClass, &l, func() { s.StorageClasses = l.Items })
	}
	{
		var l admissionregistrationv1.ValidatingWebhookConfigurationList
		read(KindValidatingWebhookConfiguration, &l, func() { s.ValidatingWebhookConfigurations = l.Items })
	}
	{
		var l admissionregistrationv1.MutatingWebhookConfigurationList
		read(KindMutatingWebhookConfiguration, &l, func() { s.MutatingWebhookConfigurations = l.Items })
	}
	{
		var l admissionregistrationv1.ValidatingAdmissionPolicyList
		read(KindValidatingAdmissionPolicy, &l, func() { s.ValidatingAdmissionPolicies = l.Items })
	}
	{
		var l admissionregistrationv1.ValidatingAdmissionPolicyBindingList
		read(KindValidatingAdmissionPolicyBinding, &l, func() { s.ValidatingAdmissionPolicyBindings = l.Items })
	}
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Go(func() { j.err = j.read(ctx) })
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("reading inventory: %w", err)
	}
	for _, j := range jobs { // Namespaces, read first, decide what keep keeps
		if record(j.k, j.err) {
			j.collect()
		}
	}
	if !namespacesKnown && scope.NeedsLabels() {
		return nil, ErrNamespacesUnreadable
	}
	if err := readUncontrolled(ctx, r, s); err != nil {
		return nil, err
	}
	s.Sort()
	return s, nil
}

// maxUncontrolled bounds the identities a scan reads whole, one request
// each (readUncontrolled).
const maxUncontrolled = 1000

// readUncontrolled reads whole, from the API server, the identities that no
// workload of s controls (Snapshot.Uncontrolled): normally none, a few
// while a controller is being created or deleted, or a Pod whose
// controller reference is a claim nothing backs. It reads them only when
// every workload kind was read: otherwise the checks that judge pod
// templates are not evaluated anyway, and a missing kind (say, ReplicaSets
// forbidden) would leave every Pod uncontrolled. More than maxUncontrolled
// of a kind are not read one by one: the kind is recorded as missing, so
// that what needs it is not evaluated rather than judged without them. A
// ReplicaSet or Job read whole may turn out deleted, leaving its Pods
// uncontrolled in turn: it goes round until none is left.
func readUncontrolled(ctx context.Context, r client.Reader, s *Snapshot) error {
	for _, k := range WorkloadKinds {
		if !s.Has(k) {
			return nil
		}
	}
	for range 3 {
		ids := s.Uncontrolled()
		if len(ids) == 0 {
			return nil
		}
		perKind := map[string]int{}
		for _, id := range ids {
			perKind[id.Kind]++
		}
		if len(ids) > maxUncontrolled {
			for _, k := range []Kind{KindPod, KindReplicaSet, KindJob} {
				if n := perKind[k.Name()]; n > 0 {
					s.MarkMissing(k, MissingError, fmt.Sprintf(
						"%d %ss name a controller that is not in the cache: more than the %d a scan reads one by one", n, k.Name(), maxUncontrolled))
				}
			}
			return nil
		}
		v, ok := r.(Visitor)
		if !ok {
			return errors.New("identities read without a Visitor to read them whole")
		}
		whole := make([]runtime.Object, len(ids))
		errs := make([]error, len(ids))
		var wg sync.WaitGroup
		sem := make(chan struct{}, accessCheckers)
		for i, id := range ids {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				if whole[i], errs[i] = v.Fetch(ctx, id); errs[i] != nil {
					errs[i] = fmt.Errorf("reading %s %s/%s: %w", id.Kind, id.Namespace, id.Name, errs[i])
				}
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return fmt.Errorf("reading the objects whose controller is not in the cache: %w", err)
		}
		at := make(map[*metav1.PartialObjectMetadata]runtime.Object, len(ids))
		for i, id := range ids {
			at[id] = whole[i]
		}
		s.ReadWhole(ids, func(id *metav1.PartialObjectMetadata) runtime.Object { return at[id] })
	}
	return nil
}

// accessCheckers is how many access reviews are asked at once.
const accessCheckers = 8

type accessResult struct {
	ok     bool
	reason string
	err    error
}

// checkAccess asks access about every kind, several at once: each answer is
// a round trip to the API server, and a scan asks about every kind.
func checkAccess(ctx context.Context, access Access, kinds []Kind) map[Kind]accessResult {
	out := make(map[Kind]accessResult, len(kinds))
	if access == nil {
		return out
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, accessCheckers)
	for _, k := range kinds {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			ok, reason, err := access.CanList(ctx, k)
			mu.Lock()
			out[k] = accessResult{ok: ok, reason: reason, err: err}
			mu.Unlock()
		})
	}
	wg.Wait()
	return out
}

func filter[T any](items []T, keep func(string) bool, ns func(*T) string) []T {
	out := items[:0] // the list is ours: filter in place
	for i := range items {
		if keep(ns(&items[i])) {
			out = append(out, items[i])
		}
	}
	return out
}
